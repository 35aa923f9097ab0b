"""A plan turned into straight-line Python: one function per compiled operation.

:func:`gbrec_graphql.execution.run_plan` interprets a plan: a loop over steps, a branch
on the step's kind and a call per leaf check, for every value of every request. For an
operation compiled once and run thousands of times, this module writes the plan out as
the source of one function (nested loops over lists, the scalar checks inlined as
``type(v) is str``...) and compiles it with :func:`compile`. It accepts and rejects
exactly what ``run_plan`` does, raising :class:`GiveUpError` (or the scalar's own
error) where ``run_plan`` would, so the caller's fallback is unchanged.

Objects the resolvers share across requests and never change (``shared``: the
catalogue's Book views) are serialised once per selection and object: their dict is
kept (keyed by identity, the object held so its id stays unique, the memo bounded)
and reused by later responses, which orjson only reads.

Only response keys (GraphQL names, written with ``repr``) and generated variable names
appear in the source; resolvers and scalar payloads are passed in as constants.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from gbrec_graphql.execution import (
    LEAF,
    LEAF_LIST,
    OBJECT,
    OBJECT_LIST,
    TYPENAME,
    GiveUpError,
    Plan,
    complete_leaf,
    is_bool,
    is_float,
    is_int,
    is_str,
)

Serializer = Callable[[Any], dict[str, Any]]
MEMO_MAX = 50_000

# The fast-path acceptance test of each built-in scalar, inlined (same as execution's).
_INLINE_CHECKS: dict[Callable[[Any], bool], str] = {
    is_str: "type({v}) is str",
    is_bool: "type({v}) is bool",
    is_int: "type({v}) is int and -2147483648 <= {v} <= 2147483647",
    # x - x is 0.0 exactly for finite floats, nan for inf and nan.
    is_float: "type({v}) is float and {v} - {v} == 0.0",
}


class _Memo(dict[int, tuple[Any, Any]]):
    """Serialised shared objects of one selection: id(object) -> (object, dict)."""

    def put(self, source: Any, done: Any) -> None:
        if len(self) >= MEMO_MAX:
            self.clear()
        self[id(source)] = (source, done)


class _Writer:
    def __init__(self, shared: Callable[[Plan], bool]) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {"GiveUp": GiveUpError}
        self.shared = shared
        self._names = 0

    def name(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}{self._names}"

    def constant(self, value: Any) -> str:
        name = self.name("c")
        self.constants[name] = value
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def object(self, plan: Plan, source: str, indent: int) -> str:
        """Emit code building the dict of ``plan`` over ``source``; returns its name."""
        entries: list[str] = []
        for key, resolve, kind, non_null, payload in plan:
            if kind == TYPENAME:
                entries.append(f"{key!r}: {payload!r}")
                continue
            value = self.name("v")
            self.emit(indent, f"{value} = {self.constant(resolve)}({source})")
            self.emit(indent, f"if {value} is None:")
            self.emit(indent + 1, "raise GiveUp" if non_null else "pass")
            self.emit(indent, "else:")
            if kind == LEAF:
                self.leaf(payload, value, indent + 1)
            elif kind == OBJECT:
                self.sub_object(payload, value, indent + 1)
            else:
                self.list_of(kind, payload, value, indent + 1)
            entries.append(f"{key!r}: {value}")
        result = self.name("o")
        self.emit(indent, f"{result} = {{{', '.join(entries)}}}")
        return result

    def leaf(self, payload: Any, value: str, indent: int) -> None:
        check, _ = payload
        complete = self.constant(functools.partial(complete_leaf, payload))
        inline = _INLINE_CHECKS.get(check)
        if inline is None:
            self.emit(indent, f"{value} = {complete}({value})")
            return
        self.emit(indent, f"if not ({inline.format(v=value)}):")
        self.emit(indent + 1, f"{value} = {complete}({value})")

    def list_of(self, kind: int, payload: Any, value: str, indent: int) -> None:
        item_non_null, inner = payload
        done, item = self.name("l"), self.name("i")
        self.emit(indent, f"if type({value}) is not list and type({value}) is not tuple:")
        self.emit(indent + 1, "raise GiveUp")
        self.emit(indent, f"{done} = []")
        self.emit(indent, f"for {item} in {value}:")
        self.emit(indent + 1, f"if {item} is None:")
        self.emit(indent + 2, "raise GiveUp" if item_non_null else f"{done}.append(None)")
        self.emit(indent + 2, "continue")
        if kind == LEAF_LIST:
            self.leaf(inner, item, indent + 1)
            self.emit(indent + 1, f"{done}.append({item})")
        else:
            assert kind == OBJECT_LIST
            self.sub_object(inner, item, indent + 1)
            self.emit(indent + 1, f"{done}.append({item})")
        self.emit(indent, f"{value} = {done}")

    def sub_object(self, plan: Plan, value: str, indent: int) -> None:
        """Replace ``value`` by its serialised dict (memoised for shared objects)."""
        if not self.shared(plan):
            built = self.object(plan, value, indent)
            self.emit(indent, f"{value} = {built}")
            return
        memo = self.constant(_Memo())
        hit = self.name("m")
        self.emit(indent, f"{hit} = {memo}.get(id({value}))")
        self.emit(indent, f"if {hit} is not None and {hit}[0] is {value}:")
        self.emit(indent + 1, f"{value} = {hit}[1]")
        self.emit(indent, "else:")
        built = self.object(plan, value, indent + 1)
        self.emit(indent + 1, f"{memo}.put({value}, {built})")
        self.emit(indent + 1, f"{value} = {built}")


def compile_plan(plan: Plan, shared: Callable[[Plan], bool] = lambda _: False) -> Serializer:
    """A function computing ``run_plan(plan, source)`` (same results, same give-ups);
    ``shared(sub_plan)`` says whether the objects a sub-plan completes are shared,
    immutable values whose serialised form may be reused."""
    writer = _Writer(shared)
    result = writer.object(plan, "source", 1)
    source = "\n".join(["def serialize(source):", *writer.lines, f"    return {result}", ""])
    namespace = dict(writer.constants)
    exec(compile(source, "<gbrec compiled plan>", "exec"), namespace)
    serialize: Serializer = namespace["serialize"]
    return serialize
