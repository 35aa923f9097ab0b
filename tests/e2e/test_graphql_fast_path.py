"""The plain-field fast path (gbrec_graphql.execution) answers exactly like graphql-core.

Each document runs through a small Strawberry schema twice, with the standard execution
context and with :class:`PlainFieldsExecutionContext`; data, error messages and error
paths must be identical, including the cases where the fast path has to give up (a null
in a non-null position, a non-finite float, a resolver that raises, an out-of-range int).
"""

from __future__ import annotations

import asyncio
import enum
import math
from typing import Any

import pytest
import strawberry
from strawberry.scalars import JSON

from gbrec_graphql.compiled.codegen import compile_plan
from gbrec_graphql.execution import PlainFieldsExecutionContext, PlanBuilder, run_plan


@strawberry.enum
class Shelf(enum.Enum):
    READ = "read"
    TO_READ = "to-read"


@strawberry.type
class Item:
    id: int
    title: str
    authors: list[str]
    year: int | None
    score: float
    shelf: Shelf
    meta: JSON | None

    @strawberry.field
    def upper(self) -> str:
        return self.title.upper()


@strawberry.type
class Listing:
    name: str
    items: list[Item]
    maybe: list[Item | None]
    best: Item | None


def item(i: int, **changes: Any) -> Item:
    values: dict[str, Any] = {
        "id": i,
        "title": f"t{i}",
        "authors": [f"a{i}", "b"],
        "year": None if i % 2 else 1999,
        "score": i / 3,
        "shelf": Shelf.READ,
        "meta": {"i": i},
    }
    values.update(changes)
    return Item(**values)


def listing(name: str, items: list[Item], maybe: Any = (), best: Item | None = None) -> Listing:
    return Listing(name=name, items=items, maybe=list(maybe), best=best)


LISTINGS: dict[str, Listing] = {
    "ok": listing("ok", [item(i) for i in range(5)], [item(1), None], item(7)),
    "null-title": listing("bad", [item(0), item(1, title=None)]),
    "nan": listing("nan", [item(0, score=math.nan)]),
    "int-score": listing("int", [item(0, score=3)]),
    "big-id": listing("big", [item(2**40)]),
    "null-author": listing("na", [item(0, authors=["x", None])]),
    "tuple": listing("tuple", [item(0, authors=("x", "y"))]),
}


@strawberry.type
class Query:
    @strawberry.field
    def listing(self, name: str) -> Listing:
        return LISTINGS[name]


Q = "query Q($n: String!) "
DOCUMENTS = [
    Q + "{ listing(name: $n) { name items { id title authors year score shelf meta } } }",
    Q + "{ listing(name: $n) { __typename n: name items { t: title __typename } best { id } } }",
    Q + "{ listing(name: $n) { maybe { id title } items { upper title } } }",
    Q + "{ listing(name: $n) { items { ...F } } } fragment F on Item { id score authors }",
    "query Q($n: String!, $s: Boolean!) "
    "{ listing(name: $n) { items { id title @skip(if: $s) year @include(if: $s) } } }",
]


def run(context: type | None, document: str, name: str, skip: bool) -> dict[str, Any]:
    schema = strawberry.Schema(query=Query, execution_context_class=context)
    variables = {"n": name, "s": skip} if "$s" in document else {"n": name}
    result = asyncio.run(schema.execute(document, variables))
    assert result.data is not None or result.errors, result
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
    return {"data": result.data, "errors": errors}


@pytest.mark.parametrize("name", sorted(LISTINGS))
@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("skip", [False, True])
def test_fast_path_matches_standard_execution(name: str, document: str, skip: bool) -> None:
    standard = run(None, document, name, skip)
    fast = run(PlainFieldsExecutionContext, document, name, skip)
    assert fast == standard
    # Every error here is an execution error at a path, never a validation failure.
    assert all(path for _, path in standard["errors"]), standard["errors"]


def test_fast_path_is_taken_for_plain_selections() -> None:
    taken: list[str] = []

    class SpyBuilder(PlanBuilder):
        def _build(self, parent_type: Any, fields: Any) -> Any:
            plan = super()._build(parent_type, fields)
            taken.append(f"{parent_type.name}:{plan is not None}")
            return plan

    class Spy(PlainFieldsExecutionContext):
        plan_builder_class = SpyBuilder

    run(Spy, DOCUMENTS[0], "ok", False)
    assert "Listing:True" in taken and "Item:True" in taken
    taken.clear()
    run(Spy, DOCUMENTS[2], "ok", False)  # `upper` has a resolver: standard path
    assert "Item:False" in taken


def _outcome(call: Any) -> Any:
    try:
        return ("ok", call())
    except Exception as e:  # both must fail the same way, whatever the exception
        return ("raised", type(e).__name__)


@pytest.mark.parametrize("name", sorted(LISTINGS))
@pytest.mark.parametrize("document", DOCUMENTS)
def test_generated_serializer_matches_the_plan_interpreter(name: str, document: str) -> None:
    """compile_plan (gbrec_graphql.compiled) on every plan and value this schema meets:
    the same dicts, and a failure exactly where run_plan fails."""
    compared: list[bool] = []

    class Differential(PlainFieldsExecutionContext):
        def execute_fields(self, parent_type: Any, source: Any, path: Any, fields: Any) -> Any:
            plan = None if self._builder is None else self._builder.plan(parent_type, fields)
            if plan is not None:
                expected = _outcome(lambda: run_plan(plan, source))
                assert _outcome(lambda: compile_plan(plan)(source)) == expected
                # Every object treated as shared: the memo is filled, then read.
                memoised = compile_plan(plan, shared=lambda _: True)
                assert _outcome(lambda: memoised(source)) == expected
                assert _outcome(lambda: memoised(source)) == expected
                compared.append(expected[0] == "ok")
            return super().execute_fields(parent_type, source, path, fields)

    run(Differential, document, name, False)
    if "upper" not in document:  # `upper` has a resolver: no plan above the leaves
        assert compared
