"""A graphql-core execution context with a fast path for plain attribute fields.

graphql-core executes every field through the same general machinery: a ``Path``, a
``GraphQLResolveInfo``, argument coercion, the resolver, then ``complete_value``
recursing through non-null, list and leaf wrappers; about 10 µs a field. A
``recommendations`` answer of 10 books with title and authors has ~130 such values,
most of them Strawberry "basic" fields (no resolver, no arguments, no extension: the
resolver is ``getattr``).

For an object whose selected fields are all basic and whose types are built-in-shaped
(leaves, lists of leaves, concrete objects and lists of them), this context builds a
*plan* once per request and selection, then fills the whole sub-tree with getattr and
the scalars' own checks. Whenever a value is not what the fast path can vouch for (a
null in a non-null position, a non-finite float, a resolver raising...) it gives up on
that object and the standard execution runs it again, which produces the exact spec
errors and paths. Re-running is safe because basic fields are side-effect-free reads.
Fields with resolvers, arguments, abstract types or custom ``is_type_of`` always take
the standard path, so the result is the same document either way.
"""

from __future__ import annotations

import enum
import math
import operator
from collections.abc import Callable
from typing import Any, NamedTuple

from graphql import (
    FieldNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    is_leaf_type,
)
from graphql.pyutils import Path, Undefined

from gbrec_graphql.internals import ExecutionContextBase, is_default_resolver, strawberry_field

Fields = dict[str, list[FieldNode]]


class Kind(enum.IntEnum):
    """What a plan step completes."""

    TYPENAME = 0
    LEAF = 1
    LEAF_LIST = 2
    OBJECT = 3
    OBJECT_LIST = 4


TYPENAME, LEAF, LEAF_LIST, OBJECT, OBJECT_LIST = Kind


class Step(NamedTuple):
    """One selected field: read ``resolve(source)``, complete it as ``kind``.

    ``payload``: the type name (TYPENAME), the scalar's (check, serialize) pair (LEAF),
    the sub-plan (OBJECT), or (item non-null, leaf pair or sub-plan) for lists.
    """

    name: str
    resolve: Any
    kind: Kind
    non_null: bool
    payload: Any


Plan = list[Step]

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class GiveUpError(Exception):
    """The fast path cannot vouch for a value: run the standard execution instead."""


def is_str(value: Any) -> bool:
    return type(value) is str


def is_bool(value: Any) -> bool:
    return type(value) is bool


def is_int(value: Any) -> bool:
    return type(value) is int and _INT_MIN <= value <= _INT_MAX


def is_float(value: Any) -> bool:
    return type(value) is float and math.isfinite(value)


# Values these accept are returned unchanged by the scalar's serialize(); anything
# else goes through serialize() itself.
_ALREADY_SERIALIZED: dict[str, Callable[[Any], bool]] = {
    GraphQLString.name: is_str,
    GraphQLID.name: is_str,
    GraphQLBoolean.name: is_bool,
    GraphQLInt.name: is_int,
    GraphQLFloat.name: is_float,
}


def _leaf(leaf: GraphQLLeafType) -> tuple[Callable[[Any], bool], Callable[[Any], Any]]:
    return _ALREADY_SERIALIZED.get(leaf.name, lambda _: False), leaf.serialize


def complete_leaf(payload: tuple[Callable[[Any], bool], Callable[[Any], Any]], value: Any) -> Any:
    check, serialize = payload
    if check(value):
        return value
    if isinstance(value, Exception):  # graphql-core raises a value that is an error
        raise GiveUpError
    serialized = serialize(value)
    if serialized is None or serialized is Undefined:
        raise GiveUpError
    return serialized


def _unwrap(type_: GraphQLOutputType) -> tuple[bool, GraphQLOutputType]:
    if isinstance(type_, GraphQLNonNull):
        return True, type_.of_type
    return False, type_


def _items(value: Any) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise GiveUpError
    return value


def run_plan(plan: Plan, source: Any) -> dict[str, Any]:
    """The completed sub-tree of ``source``; raises (any exception) to bail out."""
    out: dict[str, Any] = {}
    for name, resolve, kind, non_null, payload in plan:
        if kind == TYPENAME:
            out[name] = payload
            continue
        value = resolve(source)
        if value is None:
            if non_null:
                raise GiveUpError
            out[name] = None
        elif kind == LEAF:
            out[name] = complete_leaf(payload, value)
        elif kind == OBJECT:
            out[name] = run_plan(payload, value)
        else:
            item_non_null, inner = payload
            done: list[Any] = []
            for item in _items(value):
                if item is None:
                    if item_non_null:
                        raise GiveUpError
                    done.append(None)
                elif kind == LEAF_LIST:
                    done.append(complete_leaf(inner, item))
                else:
                    done.append(run_plan(inner, item))
            out[name] = done
    return out


CollectSubfields = Callable[[GraphQLObjectType, list[FieldNode]], Fields]


class PlanBuilder:
    """Builds (and caches by selection) the fast-path plans of one operation.

    ``collect_subfields`` is graphql-core's sub-field collection for the operation: the
    execution context's own method, or a static one when the document has no
    ``@skip``/``@include`` (then collection does not depend on variables).
    """

    def __init__(self, collect_subfields: CollectSubfields) -> None:
        self._collect_subfields = collect_subfields
        # id(fields) -> (fields, plan or None); the dict is held so its id stays unique.
        self._plans: dict[int, tuple[Fields, Plan | None]] = {}
        # id(plan) -> the object type it completes (plans are held by _plans).
        self._types: dict[int, GraphQLObjectType] = {}

    def type_of(self, plan: Plan) -> GraphQLObjectType | None:
        """The object type a plan built here completes."""
        return self._types.get(id(plan))

    def plan(self, parent_type: GraphQLObjectType, fields: Fields) -> Plan | None:
        """The plan of ``fields`` on ``parent_type``, None when one of them needs the
        standard execution (a resolver, arguments, an abstract type...)."""
        cached = self._plans.get(id(fields))
        if cached is not None and cached[0] is fields:
            return cached[1]
        plan = self._build(parent_type, fields)
        self._plans[id(fields)] = (fields, plan)
        if plan is not None:
            self._types[id(plan)] = parent_type
        return plan

    def step(
        self, name: str, resolve: Any, type_: GraphQLOutputType, nodes: list[FieldNode]
    ) -> Step | None:
        """The step completing a value of ``type_`` read by ``resolve`` as ``name``."""
        non_null, inner = _unwrap(type_)
        if is_leaf_type(inner):
            return Step(name, resolve, LEAF, non_null, _leaf(inner))  # type: ignore[arg-type]
        if isinstance(inner, GraphQLObjectType):
            sub = self.plan(inner, self._collect_subfields(inner, nodes))
            return None if sub is None else Step(name, resolve, OBJECT, non_null, sub)
        if not isinstance(inner, GraphQLList):
            return None
        item_non_null, item = _unwrap(inner.of_type)
        if is_leaf_type(item):
            return Step(name, resolve, LEAF_LIST, non_null, (item_non_null, _leaf(item)))  # type: ignore[arg-type]
        if not isinstance(item, GraphQLObjectType):
            return None
        sub = self.plan(item, self._collect_subfields(item, nodes))
        return (
            None
            if sub is None
            else Step(name, resolve, OBJECT_LIST, non_null, (item_non_null, sub))
        )

    def _build(self, parent_type: GraphQLObjectType, fields: Fields) -> Plan | None:
        if parent_type.is_type_of is not None:
            return None
        plan: Plan = []
        for response_name, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                plan.append(typename_step(response_name, parent_type))
                continue
            field_def = parent_type.fields.get(name)
            # Strawberry marks resolvers of basic fields (getattr, no info) this way.
            if field_def is None or field_def.args or not is_default_resolver(field_def.resolve):
                return None
            step = self.step(response_name, _reader(field_def), field_def.type, nodes)
            if step is None:
                return None
            plan.append(step)
        return plan


def typename_step(response_name: str, parent_type: GraphQLObjectType) -> Step:
    return Step(response_name, None, TYPENAME, True, parent_type.name)


class PlainFieldsExecutionContext(ExecutionContextBase):
    """Strawberry's execution context plus the plain-field fast path (module docstring)."""

    plan_builder_class: type[PlanBuilder] = PlanBuilder

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Strawberry always passes a manager; it wraps resolvers only when an extension
        # has a per-field resolve hook (gbrec's pipeline has none).
        manager = self.middleware_manager
        wrapped = manager is not None and bool(manager.middlewares)
        self._builder = None if wrapped else self.plan_builder_class(self.collect_subfields)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        fields: Fields,
    ) -> Any:
        plan = None if self._builder is None else self._builder.plan(parent_type, fields)
        if plan is not None:
            try:
                return run_plan(plan, source_value)
            except GiveUpError:  # a value to report as the spec says: the standard path does
                self._fell_back("give_up", None)
            except Exception as error:  # a bug here must cost speed, never an answer
                self._fell_back(f"error:{type(error).__name__}", error)
        return super().execute_fields(parent_type, source_value, path, fields)

    def _fell_back(self, reason: str, error: Exception | None) -> None:
        services = getattr(self.context_value, "services", None)
        if services is not None:
            services.metrics.fast_path_fallbacks.record("plain_fields", reason, error)


def _reader(field_def: GraphQLField) -> Callable[[Any], Any]:
    """What the basic resolver computes: ``getattr(source, name)`` in one C call when
    Strawberry's default resolver is ``getattr``, else the resolver itself."""
    definition = strawberry_field(field_def)
    name = getattr(definition, "python_name", None)
    if name is not None and getattr(definition, "default_resolver", None) is getattr:
        return operator.attrgetter(name)
    resolve = field_def.resolve
    return lambda source: resolve(source, None)  # type: ignore[misc]
