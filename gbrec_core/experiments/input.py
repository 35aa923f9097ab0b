"""An experiment spec from the JSON a client sends: the GraphQL ``ExperimentInput``
shape (camelCase), as `gbrec experiments create --file` reads it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gbrec_core.errors import InvalidInputError
from gbrec_core.experiments.codec import spec_from_dict
from gbrec_core.experiments.types import ExperimentSpec

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
#: Values kept verbatim: GrowthBook conditions have their own key names.
_VERBATIM = frozenset({"targeting"})


def snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def spec_from_input(data: Mapping[str, Any]) -> ExperimentSpec:
    """The spec for an ``ExperimentInput``-shaped mapping; InvalidInputError otherwise."""
    if not isinstance(data, Mapping):
        raise InvalidInputError("an experiment must be a JSON object")
    return spec_from_dict(_snake_keys(data))


def _snake_keys(data: Mapping[str, Any]) -> dict[str, Any]:
    return {snake(k): v if k in _VERBATIM else _convert(v) for k, v in data.items()}


def _convert(value: Any) -> Any:
    if isinstance(value, Mapping):
        return _snake_keys(value)
    if isinstance(value, list):
        return [_convert(item) for item in value]
    return value
