"""Running compiled operations: variables, root functions, the plan, and the exact
fallback to graphql-core completion."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLObjectType,
    GraphQLSchema,
    execute,
    located_error,
)
from graphql.pyutils import Path

from gbrec_graphql.compiled.operation import CompiledOperation, compile_operation
from gbrec_graphql.execution import GiveUpError, PlainFieldsExecutionContext
from gbrec_graphql.internals import (
    NameConverter,
    get_argument_values,
    get_field_def,
    get_variable_values,
)
from gbrec_graphql.metrics import FastPathFallbacks
from gbrec_graphql.pipeline import Pipeline

#: A compiled operation, or None: the text is known to need the standard path.
Entry = CompiledOperation | None


@dataclass(frozen=True)
class ResolvedRoot:
    """Root value carrying what the root resolvers already returned (or raised)."""

    values: dict[str, Any]


class ResolvedRootExecutionContext(PlainFieldsExecutionContext):
    """Completes :class:`ResolvedRoot` values instead of calling the root resolvers;
    everything below the root is graphql-core's (and the plain-field fast path's)."""

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_nodes: list[FieldNode],
        path: Path,
    ) -> Any:
        if not isinstance(source, ResolvedRoot) or path.key not in source.values:
            return super().execute_field(parent_type, source, field_nodes, path)
        field_def = get_field_def(self.schema, parent_type, field_nodes[0])
        return_type = field_def.type
        info = self.build_resolve_info(field_def, field_nodes, parent_type, path)
        try:
            value = source.values[path.key]
            if isinstance(value, Exception):
                raise value
            completed = self.complete_value(return_type, field_nodes, info, path, value)
        except Exception as raw_error:
            error = located_error(raw_error, field_nodes, path.as_list())
            self.handle_field_error(error, return_type, path)
            return None
        if not self.is_awaitable(completed):
            return completed

        async def await_completed() -> Any:
            try:
                return await completed
            except Exception as raw_error:
                error = located_error(raw_error, field_nodes, path.as_list())
                self.handle_field_error(error, return_type, path)
                return None

        return await_completed()


class CompiledQueries:
    """The compiled operations of one schema, LRU-bounded like the parser cache."""

    def __init__(
        self, schema: GraphQLSchema, names: NameConverter, pipeline: Pipeline, max_size: int
    ) -> None:
        self.schema = schema
        self.names = names
        self.pipeline = pipeline
        self.max_size = max_size
        self._entries: OrderedDict[tuple[str, str | None], Entry] = OrderedDict()

    def get(self, query: str, operation_name: str | None) -> CompiledOperation | None:
        key = (query, operation_name)
        entries = self._entries
        if key in entries:
            entries.move_to_end(key)
            return entries[key]
        entry = self._compile(query, operation_name)
        entries[key] = entry
        if len(entries) > self.max_size:
            entries.popitem(last=False)
        return entry

    def _compile(self, query: str, operation_name: str | None) -> Entry:
        document = self.pipeline.check(self.schema, query)
        if document is None:
            return None
        return compile_operation(self.schema, self.names, document, operation_name)

    async def execute(
        self,
        compiled: CompiledOperation,
        context: Any,
        variables: dict[str, Any] | None,
        fallbacks: FastPathFallbacks,
    ) -> ExecutionResult | None:
        """The result, or None when invalid variables need the standard path's errors
        (nothing has run yet then). Hand-backs are counted in ``fallbacks``."""
        coerced = compiled.variables.coerce(variables)
        if coerced is None:
            values = get_variable_values(
                self.schema, compiled.operation.variable_definitions, variables or {}
            )
            if isinstance(values, list):
                fallbacks.record("compiled", "invalid_variables")
                return None
            coerced = values
        resolved: dict[str, Any] = {}
        failed = False
        for root in compiled.roots:
            try:
                kwargs = root.arguments.kwargs(coerced)
                if kwargs is None:  # graphql-core coerces, or raises the field error
                    names = root.python_names
                    arguments = get_argument_values(root.field_def, root.node, coerced)
                    kwargs = {names[name]: value for name, value in arguments.items()}
                resolved[root.key] = await root.function(context, **kwargs)
            except Exception as error:  # completed (and reported) by graphql-core below
                resolved[root.key] = error
                failed = True
        if not failed and compiled.serialize is not None:
            try:
                return ExecutionResult(compiled.serialize(resolved), None)
            except GiveUpError:  # a value the plan cannot vouch for: graphql-core decides
                fallbacks.record("compiled", "give_up")
            except Exception as error:  # a bug here must cost speed, never an answer
                fallbacks.record("compiled", f"error:{type(error).__name__}", error)
        return await self._complete(compiled, context, variables, resolved)

    async def _complete(
        self,
        compiled: CompiledOperation,
        context: Any,
        variables: dict[str, Any] | None,
        resolved: dict[str, Any],
    ) -> ExecutionResult:
        result = execute(
            self.schema,
            compiled.document,
            root_value=ResolvedRoot(resolved),
            context_value=context,
            variable_values=variables,
            operation_name=compiled.operation.name.value if compiled.operation.name else None,
            execution_context_class=ResolvedRootExecutionContext,
        )
        if not isinstance(result, ExecutionResult):
            result = await result
        return result
