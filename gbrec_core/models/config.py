"""Typed model configs from keyword arguments or JSON, and back to JSON.

Every model's config is a frozen dataclass whose fields all have defaults. Keyword
arguments (``make_recommender(name, **config)``) and saved manifests are plain
mappings; :func:`build_config` turns one into the typed class, recursing into nested
config fields (``X``, ``X | None`` and ``tuple[X, ...]`` of a dataclass ``X``), and
:func:`config_to_json` is its inverse: ``build_config(type(c), None,
config_to_json(c)) == c`` for every config ``c``.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from gbrec_core.errors import InvalidInputError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

C = TypeVar("C", bound="DataclassInstance")


def build_config(cls: type[C], config: C | None, overrides: Mapping[str, Any]) -> C:
    """``config`` (default: ``cls()``) with ``overrides`` applied and validated again.

    Unknown keys raise ``InvalidInputError``; mappings given for nested config fields
    become their dataclasses, lists become tuples.
    """
    if config is not None and not isinstance(config, cls):
        raise InvalidInputError(f"expected a {cls.__name__}, got {type(config).__name__}")
    unknown = sorted(set(overrides) - set(_field_types(cls)))
    if unknown:
        raise InvalidInputError(f"{cls.__name__} has no field(s) {', '.join(unknown)}")
    hints = _field_types(cls)
    changes = {key: _coerce(hints[key], value) for key, value in overrides.items()}
    return dataclasses.replace(config if config is not None else cls(), **changes)


def config_to_json(config: DataclassInstance) -> dict[str, Any]:
    """The config as JSON-ready values (nested configs as dicts, tuples as lists)."""
    return {
        field.name: _to_json(getattr(config, field.name)) for field in dataclasses.fields(config)
    }


def check_config_type(name: str, value: object, *expected: type) -> None:
    """Raise ``InvalidInputError`` unless ``value`` is an instance of one of ``expected``."""
    if not isinstance(value, expected):
        allowed = " or ".join(t.__name__ for t in expected)
        raise InvalidInputError(f"{name} must be a {allowed}, got {type(value).__name__}")


def check_half_life(value: float | None) -> None:
    """Raise ``InvalidInputError`` unless ``value`` is None (no recency) or positive."""
    if value is not None and not value > 0:
        raise InvalidInputError(f"half_life must be > 0 or None, got {value}")


def _to_json(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return config_to_json(value)
    if isinstance(value, tuple | list):
        return [_to_json(item) for item in value]
    return value


@functools.cache
def _field_types(cls: type) -> dict[str, object]:
    hints = typing.get_type_hints(cls)
    return {field.name: hints[field.name] for field in dataclasses.fields(cls)}


def _coerce(hint: object, value: object) -> object:
    """``value`` shaped for a field annotated ``hint`` (nested configs built, lists tupled)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, Mapping):
        return build_config(hint, None, value)
    if origin in (types.UnionType, typing.Union) and value is not None:
        nested = [a for a in args if isinstance(a, type) and dataclasses.is_dataclass(a)]
        return _coerce(nested[0], value) if len(nested) == 1 else value
    if origin is tuple and isinstance(value, list | tuple):
        item = args[0] if len(args) == 2 and args[1] is Ellipsis else object
        return tuple(_coerce(item, v) for v in value)
    return value
