"""Compiling one query text: what is known before any variable is seen."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_named_type,
    is_enum_type,
    is_scalar_type,
    visit,
)
from graphql.language import Visitor
from graphql.utilities import get_operation_ast

from gbrec_graphql.compiled.codegen import Serializer, compile_plan
from gbrec_graphql.compiled.inputs import ArgumentPlan, VariablePlan
from gbrec_graphql.compiled.roots import ROOT_FUNCTIONS, RootFunction
from gbrec_graphql.execution import Fields, Plan, PlanBuilder, typename_step
from gbrec_graphql.internals import (
    NameConverter,
    collect_fields,
    collect_sub_fields,
    strawberry_field,
    type_is_shared,
)


@dataclass(frozen=True)
class CompiledRoot:
    """One root field: the function to call and how to build its Python arguments."""

    key: str
    field_def: GraphQLField
    node: FieldNode
    function: RootFunction
    python_names: dict[str, str]
    arguments: ArgumentPlan


@dataclass(frozen=True)
class CompiledOperation:
    document: DocumentNode
    operation: OperationDefinitionNode
    variables: VariablePlan
    roots: tuple[CompiledRoot, ...]
    #: Serialises ``{response key: resolved value}``; None when some selection needs
    #: graphql-core (a field resolver, an abstract type...) for every request.
    serialize: Serializer | None


class _DirectiveFinder(Visitor):
    found = False

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        self.found = True


def _has_directives(document: DocumentNode) -> bool:
    finder = _DirectiveFinder()
    visit(document, finder)
    return finder.found


def compile_operation(
    schema: GraphQLSchema,
    names: NameConverter,
    document: DocumentNode,
    operation_name: str | None,
) -> CompiledOperation | None:
    """The compiled form of an already validated ``document``, or None when the
    standard execution has to run it (see the package docstring)."""
    operation = get_operation_ast(document, operation_name)
    query_type = schema.query_type
    if operation is None or operation.operation != OperationType.QUERY or query_type is None:
        return None
    if _has_directives(document):  # field collection would depend on variables
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }

    def subfields(type_: GraphQLObjectType, nodes: list[FieldNode]) -> Fields:
        return collect_sub_fields(schema, fragments, {}, type_, nodes)

    builder = PlanBuilder(subfields)
    roots: list[CompiledRoot] = []
    plan: Plan | None = []
    fields = collect_fields(schema, fragments, {}, query_type, operation.selection_set)
    for key, nodes in fields.items():
        name = nodes[0].name.value
        if name == "__typename":
            if plan is not None:
                plan.append(typename_step(key, query_type))
            continue
        root = _root(query_type, names, key, nodes)
        if root is None:
            return None
        roots.append(root)
        step = builder.step(key, operator.itemgetter(key), root.field_def.type, nodes)
        plan = None if plan is None or step is None else [*plan, step]
    if not roots:
        return None

    def shared(sub_plan: Plan) -> bool:
        type_ = builder.type_of(sub_plan)
        return type_ is not None and type_is_shared(type_)

    serialize = None if plan is None else compile_plan(plan, shared)
    variables = VariablePlan.build(schema, operation.variable_definitions)
    return CompiledOperation(document, operation, variables, tuple(roots), serialize)


def _plain_argument(type_: Any) -> bool:
    named = get_named_type(type_)
    return is_scalar_type(named) or is_enum_type(named)


def _root(
    query_type: GraphQLObjectType, names: NameConverter, key: str, nodes: list[FieldNode]
) -> CompiledRoot | None:
    name = nodes[0].name.value
    function = ROOT_FUNCTIONS.get(name)
    field_def = query_type.fields.get(name)
    if function is None or field_def is None:
        return None
    # Strawberry converts input objects into Python types after graphql-core's coercion;
    # scalars (and lists of them) pass through unchanged, and Strawberry's enum types
    # parse to the Python enum member themselves, so only those are compiled.
    if not all(_plain_argument(a.type) for a in field_def.args.values()):
        return None
    definition = strawberry_field(field_def)
    if definition is None:
        return None
    python_names = {names.from_argument(a): a.python_name for a in definition.arguments}
    if set(python_names) != set(field_def.args):
        return None
    node = nodes[0]
    arguments = ArgumentPlan.build(field_def, node, python_names)
    return CompiledRoot(key, field_def, node, function, python_names, arguments)
