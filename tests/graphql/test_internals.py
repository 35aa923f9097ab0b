"""The framework internals the fast paths use are all there in the installed versions.

When a new Strawberry, graphql-core or Starlette release drops one, this fails naming
it (and pyproject.toml's upper bounds keep such a release out until it is handled).
"""

from __future__ import annotations

import ast
from pathlib import Path

from gbrec_graphql import internals

PACKAGE = Path(internals.__file__).parent
FRAMEWORKS = ("strawberry", "starlette", "graphql", "uvicorn")


def test_every_internal_the_fast_path_uses_exists() -> None:
    missing = internals.missing_internals()
    assert not missing, "the installed frameworks lack: " + "; ".join(missing)


def test_a_missing_internal_is_named() -> None:
    internals.CHECKS["probe: an attribute no release has"] = lambda: hasattr(object, "nope")
    try:
        assert internals.missing_internals() == ["probe: an attribute no release has"]
    finally:
        del internals.CHECKS["probe: an attribute no release has"]


def _private_uses(path: Path) -> list[str]:
    """``x._name`` attribute reads/writes on objects other than ``self``/``cls``, and
    imports from framework modules below their public package (``a.b.c``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if _private_attribute(node):
            found.append(f"{path.name}: .{node.attr}")  # type: ignore[attr-defined]
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] in FRAMEWORKS and len(parts) > 2:
                found.append(f"{path.name}: from {node.module}")
    return found


def _private_attribute(node: ast.AST) -> bool:
    if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
        return False
    owner = node.value
    mine = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
    return not mine and not node.attr.startswith("__")


def test_only_the_internals_module_reaches_below_the_frameworks_apis() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name != "internals.py":
            offenders += _private_uses(path)
    assert offenders == []
