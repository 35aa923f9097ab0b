"""Targeting input that cannot stall a worker: linear-time regular expressions (RE2)
and bounded client attributes.

GrowthBook conditions carry JavaScript regexes; Python's backtracking engine would
let a pattern like ``(a+)+$`` on a long attribute take seconds. RE2 matches in time
linear in the input and refuses what needs backtracking (backreferences, lookaround):
such a pattern is refused when the experiment is created.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import re2

from gbrec_core.errors import InvalidInputError

MAX_ATTRIBUTES = 50
MAX_STRING = 1024
MAX_ITEMS = 100
MAX_DEPTH = 4
MAX_PATTERN = 1024


@lru_cache(maxsize=1024)
def compiled(pattern: str, ignore_case: bool) -> Any:
    """The RE2 program for ``pattern``; InvalidInputError when RE2 cannot run it."""
    if len(pattern) > MAX_PATTERN:
        raise InvalidInputError(f"regex longer than {MAX_PATTERN} characters")
    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as e:
        detail = e.args[0].decode() if e.args and isinstance(e.args[0], bytes) else str(e)
        raise InvalidInputError(
            f"regex {pattern!r} is not supported ({detail}); targeting uses RE2 syntax "
            "(no backreferences or lookaround)"
        ) from None


def regex_search(pattern: Any, value: Any, ignore_case: bool) -> bool:
    """GrowthBook's ``$regex``: False for non-strings and unusable patterns."""
    if not isinstance(pattern, str) or not isinstance(value, str):
        return False
    try:
        return compiled(pattern, ignore_case).search(value) is not None
    except InvalidInputError:
        return False


def check_patterns(condition: Any) -> None:
    """Compile every ``$regex``-family pattern in a targeting condition (at creation)."""
    if isinstance(condition, Mapping):
        for op, value in condition.items():
            if op in ("$regex", "$regexi", "$notRegex", "$notRegexi"):
                if not isinstance(value, str):
                    raise InvalidInputError(f"{op} needs a string pattern")
                compiled(value, op.endswith("i"))
            else:
                check_patterns(value)
    elif isinstance(condition, list):
        for item in condition:
            check_patterns(item)


def check_attributes(attributes: Any) -> None:
    """Client attributes within bounds: at most :data:`MAX_ATTRIBUTES` keys, strings up
    to :data:`MAX_STRING` characters, lists up to :data:`MAX_ITEMS`, nesting up to
    :data:`MAX_DEPTH`; InvalidInputError (BAD_USER_INPUT) naming the first excess."""
    if attributes is None:
        return
    if not isinstance(attributes, Mapping):
        raise InvalidInputError("attributes must be a JSON object")
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidInputError(f"at most {MAX_ATTRIBUTES} attributes, got {len(attributes)}")
    for name, value in attributes.items():
        _check_value(value, f"attributes.{str(name)[:40]}", 1)


def _check_value(value: Any, where: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidInputError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise InvalidInputError(f"{where}: longer than {MAX_STRING} characters")
    if isinstance(value, list | Mapping) and len(value) > MAX_ITEMS:
        raise InvalidInputError(f"{where}: more than {MAX_ITEMS} items")
    children = value.values() if isinstance(value, Mapping) else value
    for child in children if isinstance(value, list | Mapping) else ():
        _check_value(child, where, depth + 1)
