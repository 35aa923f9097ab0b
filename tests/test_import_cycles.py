"""No import cycles among the project's modules, ``TYPE_CHECKING`` imports included.

Every module-level import (also those under ``if TYPE_CHECKING:`` and ``try:``) is an
edge to the module it names: ``from a.b import c`` points at ``a.b.c`` when that is a
module, else at ``a.b``; and, as Python runs them first, at the ``__init__`` of every
package above it that does not also contain the importer. Imports inside functions
are deliberate deferrals (optional dependencies, process entry points), not edges.
A cycle means two modules can only be understood, tested and type-checked together:
the test fails with the cycle named.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gbrec_core", "gbrec_assets", "gbrec_graphql")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def top_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements of the module body, descending into if/try blocks only."""
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If | ast.Try):
            pending.extend(node.body + node.orelse)
            for handler in getattr(node, "handlers", []):
                pending.extend(handler.body)
            pending.extend(getattr(node, "finalbody", []))


def targets(node: ast.Import | ast.ImportFrom, here: str, known: dict[str, Path]) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    base = node.module or ""
    if node.level:
        package = here.split(".")
        is_package = known[here].name == "__init__.py"
        anchor = package if is_package else package[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    found = set()
    for alias in node.names:
        child = f"{base}.{alias.name}"
        found.add(child if child in known else base)
    return {p for name in found for p in (name, *outer_packages(name, here)) if p in known}


def outer_packages(target: str, importer: str) -> list[str]:
    """Packages above ``target`` whose ``__init__`` importing it runs first."""
    parts = target.split(".")
    above = [".".join(parts[:i]) for i in range(1, len(parts))]
    return [p for p in above if not importer.startswith(p + ".")]


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(), str(path))
        edges[name] = set()
        for node in top_level_imports(tree):
            edges[name] |= targets(node, name, known) - {name}
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_type_checking_imports() -> None:
    edges = graph()
    assert len(edges) > 100
    assert "gbrec_core.serving.service" in edges["gbrec_core.serving.stack"]


def test_no_import_cycles() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_a_planted_cycle_is_found() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
