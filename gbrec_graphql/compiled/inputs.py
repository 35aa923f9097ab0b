"""Variables and arguments of a compiled operation, coerced without graphql-core's
general machinery when they are plain scalars.

graphql-core coerces variables by walking their type ASTs and arguments by re-reading the
field's AST on every request (~25 µs together). For the common case (scalar variables
of built-in types, arguments that are literals or bare variables) both reduce to a few
dict reads and type checks decided at compile time. Anything else (lists, input objects,
custom scalars, a null where one is not allowed, a missing required value) makes these
return None, and the caller uses graphql-core's functions, which report the error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    VariableDefinitionNode,
    VariableNode,
    type_from_ast,
    value_from_ast,
)
from graphql.pyutils import Undefined

from gbrec_graphql.execution import is_bool, is_int, is_str

Coerce = Callable[[Any], Any]


def _unchanged_if(check: Callable[[Any], bool]) -> Coerce:
    """The value when ``check`` accepts it (the scalar's output check from
    gbrec_graphql.execution: the same values parse unchanged), else Undefined."""
    return lambda value: value if check(value) else Undefined


def _float(value: Any) -> Any:
    if (type(value) is float or type(value) is int) and value - value == 0:
        return float(value)
    return Undefined


# What graphql-core's parse_value of each built-in scalar returns for the inputs it
# accepts without question; Undefined means "let graphql-core decide".
_SCALARS: dict[str, Coerce] = {
    "Int": _unchanged_if(is_int),
    "Float": _float,
    "String": _unchanged_if(is_str),
    "Boolean": _unchanged_if(is_bool),
    "ID": _unchanged_if(is_str),
}


@dataclass(frozen=True)
class _Variable:
    name: str
    coerce: Coerce
    non_null: bool
    default: Any


class VariablePlan:
    """Coerces the variables of one operation, or says it cannot (None)."""

    def __init__(self, variables: tuple[_Variable, ...] | None) -> None:
        self._variables = variables

    @classmethod
    def build(
        cls, schema: GraphQLSchema, definitions: tuple[VariableDefinitionNode, ...]
    ) -> VariablePlan:
        variables: list[_Variable] = []
        for definition in definitions:
            type_ = type_from_ast(schema, definition.type)
            non_null = isinstance(type_, GraphQLNonNull)
            named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
            coerce = _SCALARS.get(named.name) if isinstance(named, GraphQLScalarType) else None
            if coerce is None or definition.directives:
                return cls(None)
            default: Any = Undefined
            if definition.default_value is not None:
                default = value_from_ast(definition.default_value, type_)  # type: ignore[arg-type]
                if default is Undefined:
                    return cls(None)
            variables.append(_Variable(definition.variable.name.value, coerce, non_null, default))
        return cls(tuple(variables))

    def coerce(self, raw: dict[str, Any] | None) -> dict[str, Any] | None:
        if self._variables is None:
            return None
        raw = raw or {}
        out: dict[str, Any] = {}
        for variable in self._variables:
            if variable.name in raw:
                value = raw[variable.name]
                if value is None:
                    if variable.non_null:
                        return None
                    out[variable.name] = None
                    continue
                value = variable.coerce(value)
                if value is Undefined:
                    return None
                out[variable.name] = value
            elif variable.default is not Undefined:
                out[variable.name] = variable.default
            elif variable.non_null:
                return None
        return out


_CONSTANT, _VARIABLE = 0, 1


class ArgumentPlan:
    """Builds one root field's Python keyword arguments from coerced variables."""

    def __init__(self, steps: tuple[tuple[str, int, Any, Any, bool], ...] | None) -> None:
        self._steps = steps

    @classmethod
    def build(
        cls, field_def: GraphQLField, node: FieldNode, python_names: dict[str, str]
    ) -> ArgumentPlan:
        given = {argument.name.value: argument.value for argument in node.arguments}
        steps: list[tuple[str, int, Any, Any, bool]] = []
        for name, argument in field_def.args.items():
            python = python_names[name]
            non_null = isinstance(argument.type, GraphQLNonNull)
            value_node = given.get(name)
            if value_node is None:
                if argument.default_value is not Undefined:
                    steps.append((python, _CONSTANT, argument.default_value, None, non_null))
            elif isinstance(value_node, VariableNode):
                default = argument.default_value
                steps.append((python, _VARIABLE, value_node.name.value, default, non_null))
            else:
                value = value_from_ast(value_node, argument.type)
                if value is Undefined:
                    return cls(None)
                steps.append((python, _CONSTANT, value, None, non_null))
        return cls(tuple(steps))

    def kwargs(self, variables: dict[str, Any]) -> dict[str, Any] | None:
        if self._steps is None:
            return None
        out: dict[str, Any] = {}
        for python, kind, payload, default, non_null in self._steps:
            if kind == _CONSTANT:
                out[python] = payload
                continue
            if payload in variables:
                value = variables[payload]
            elif default is not Undefined:
                value = default
            elif non_null:
                return None
            else:
                continue
            if value is None and non_null:
                return None
            out[python] = value
        return out
