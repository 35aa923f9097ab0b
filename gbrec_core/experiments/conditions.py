"""GrowthBook targeting conditions (a MongoDB-like query language over user attributes).

Supported: ``$eq $ne $lt $lte $gt $gte $in $nin $ini $nini $all $alli $elemMatch $size
$exists $type $regex $regexi $notRegex $notRegexi $not $and $or $nor $inGroup
$notInGroup`` and the semantic-version comparisons ``$veq $vne $vgt $vgte $vlt $vlte``;
keys may be dotted paths into nested attributes. An unknown operator evaluates to false,
as in GrowthBook's SDKs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from gbrec_core.experiments.patterns import regex_search

Attributes = Mapping[str, Any]
SavedGroups = Mapping[str, list[Any]]

SUPPORTED_OPERATORS = frozenset(
    [
        "$eq",
        "$ne",
        "$lt",
        "$lte",
        "$gt",
        "$gte",
        "$in",
        "$nin",
        "$ini",
        "$nini",
        "$all",
        "$alli",
        "$elemMatch",
        "$size",
        "$exists",
        "$type",
        "$regex",
        "$regexi",
        "$notRegex",
        "$notRegexi",
        "$not",
        "$and",
        "$or",
        "$nor",
        "$inGroup",
        "$notInGroup",
        "$veq",
        "$vne",
        "$vgt",
        "$vgte",
        "$vlt",
        "$vlte",
    ]
)


def eval_condition(
    attributes: Attributes, condition: Mapping[str, Any], saved_groups: SavedGroups | None = None
) -> bool:
    """True when ``attributes`` satisfy the GrowthBook ``condition``."""
    groups = saved_groups or {}
    return all(_eval_key(attributes, key, value, groups) for key, value in condition.items())


def _eval_key(attributes: Attributes, key: str, value: Any, groups: SavedGroups) -> bool:
    if key == "$or":
        return _eval_or(attributes, value, groups)
    if key == "$nor":
        return not _eval_or(attributes, value, groups)
    if key == "$and":
        return all(eval_condition(attributes, c, groups) for c in value)
    if key == "$not":
        return not eval_condition(attributes, value, groups)
    return _eval_value(value, get_path(attributes, key), groups)


def _eval_or(attributes: Attributes, conditions: list[Any], groups: SavedGroups) -> bool:
    if not conditions:
        return True
    return any(eval_condition(attributes, c, groups) for c in conditions)


def get_path(attributes: Any, path: str) -> Any:
    current = attributes
    for segment in path.split("."):
        if isinstance(current, dict) and segment in current:
            current = current[segment]
        else:
            return None
    return current


def _is_operator_object(obj: Any) -> bool:
    return isinstance(obj, dict) and all(str(k).startswith("$") for k in obj)


def _eval_value(condition_value: Any, attribute_value: Any, groups: SavedGroups) -> bool:
    if _is_operator_object(condition_value):
        return all(
            _eval_operator(op, attribute_value, value, groups)
            for op, value in condition_value.items()
        )
    return bool(condition_value == attribute_value)


def get_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "unknown"


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _compare(a: Any, b: Any) -> int | None:
    """JS-like ordering: a number against a numeric string compares as numbers."""
    try:
        if _is_number(a) and not _is_number(b):
            b = 0 if b is None else float(b)
        elif _is_number(b) and not _is_number(a):
            a = 0 if a is None else float(a)
        if a > b:
            return 1
        if a < b:
            return -1
        return 0
    except (TypeError, ValueError):
        return None


def padded_version(value: Any) -> str:
    """Version string whose plain string order is semantic-version order."""
    text = str(value) if isinstance(value, int | float | bool) else value
    if not text or not isinstance(text, str):
        text = "0"
    parts = re.split(r"[-.]", re.sub(r"(^v|\+.*$)", "", text))
    if len(parts) == 3:
        parts.append("~")  # "~" sorts after any pre-release tag: 1.0.0 > 1.0.0-beta
    return "-".join(p.rjust(5, " ") if re.fullmatch(r"[0-9]+", p) else p for p in parts)


def _is_in(condition_value: Any, attribute_value: Any, *, fold: bool = False) -> bool:
    if not isinstance(condition_value, list):
        return False
    norm: Callable[[Any], Any] = (
        (lambda v: v.lower() if isinstance(v, str) else v) if fold else (lambda v: v)
    )
    wanted = [norm(v) for v in condition_value]
    if isinstance(attribute_value, list):
        return any(norm(a) in wanted for a in attribute_value)
    return norm(attribute_value) in wanted


def _elem_match(condition: Any, attribute_value: Any, groups: SavedGroups) -> bool:
    if not isinstance(attribute_value, list):
        return False
    if _is_operator_object(condition):
        return any(_eval_value(condition, item, groups) for item in attribute_value)
    return any(
        isinstance(item, dict) and eval_condition(item, condition, groups)
        for item in attribute_value
    )


def _all(condition_value: Any, attribute_value: Any, groups: SavedGroups, fold: bool) -> bool:
    if not isinstance(attribute_value, list) or not isinstance(condition_value, list):
        return False
    if fold:
        return all(_is_in([c], attribute_value, fold=True) for c in condition_value)
    return all(any(_eval_value(c, a, groups) for a in attribute_value) for c in condition_value)


_ORDER: dict[str, Callable[[int], bool]] = {
    "$lt": lambda c: c < 0,
    "$lte": lambda c: c <= 0,
    "$gt": lambda c: c > 0,
    "$gte": lambda c: c >= 0,
}
_VERSION: dict[str, Callable[[str, str], bool]] = {
    "$veq": lambda a, b: a == b,
    "$vne": lambda a, b: a != b,
    "$vlt": lambda a, b: a < b,
    "$vlte": lambda a, b: a <= b,
    "$vgt": lambda a, b: a > b,
    "$vgte": lambda a, b: a >= b,
}


def _eval_operator(op: str, attr: Any, value: Any, groups: SavedGroups) -> bool:
    if op in _ORDER:
        cmp = _compare(attr, value)
        return cmp is not None and _ORDER[op](cmp)
    if op in _VERSION:
        return _VERSION[op](padded_version(attr), padded_version(value))
    match op:
        case "$eq":
            return bool(attr == value)
        case "$ne":
            return bool(attr != value)
        case "$regex" | "$regexi" | "$notRegex" | "$notRegexi":
            found = regex_search(value, attr, ignore_case=op.endswith("i"))
            return not found if op.startswith("$not") else found
        case "$in" | "$ini":
            return _is_in(value, attr, fold=op == "$ini")
        case "$nin" | "$nini":
            return isinstance(value, list) and not _is_in(value, attr, fold=op == "$nini")
        case "$elemMatch":
            return _elem_match(value, attr, groups)
        case "$size":
            return isinstance(attr, list) and _eval_value(value, len(attr), groups)
        case "$all" | "$alli":
            return _all(value, attr, groups, fold=op == "$alli")
        case "$exists":
            return attr is not None if value else attr is None
        case "$type":
            return bool(get_type(attr) == value)
        case "$not":
            return not _eval_value(value, attr, groups)
        case "$inGroup":
            return _is_in(list(groups.get(value, [])), attr)
        case "$notInGroup":
            return not _is_in(list(groups.get(value, [])), attr)
    return False
