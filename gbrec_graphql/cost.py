"""The query cost rule: a document's worst-case size, refused above
``GBREC_GRAPHQL_MAX_COST`` before anything runs (code ``QUERY_TOO_COSTLY``).

Cost counts the objects a document can make the server build: every object field is
1, times the size of each list it sits in. A list's size is its ``first``/``limit``
argument (a variable counts as its default, else the largest page); an object field
with such an argument (``recommendations(limit:)``) sizes the lists right below it
(``items``); other lists count as :data:`UNPAGED`. Scalars are free. Fragments are
followed; ``__``-fields (introspection) cost 1.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    VariableNode,
    get_named_type,
    get_nullable_type,
)

PAGE_ARGUMENTS = ("first", "limit")
DEFAULT_PAGE = 50
MAX_PAGE = 500
UNPAGED = 10
CODE = "QUERY_TOO_COSTLY"


def cost_rule(max_cost: int) -> type[ASTValidationRule]:
    """A validation rule class refusing operations that cost more than ``max_cost``."""

    class QueryCost(ASTValidationRule):
        context: ValidationContext

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            root = self.context.schema.get_root_type(node.operation)
            if root is None:
                return
            cost = Coster(self.context, node).selection(node.selection_set, root, None)
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"query cost {min(cost, 2**53)} exceeds the limit of {max_cost}: "
                        f"ask for smaller pages (first/limit) or fewer fields",
                        node,
                        # JSON numbers above 2**53 lose precision: the excess is enough.
                        extensions={"code": CODE, "cost": min(cost, 2**53), "maxCost": max_cost},
                    )
                )

    return QueryCost


class Coster:
    def __init__(self, context: ValidationContext, operation: OperationDefinitionNode) -> None:
        self.context = context
        self.schema: GraphQLSchema = context.schema
        self.defaults = {
            d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
        }
        self.seen: set[str] = set()

    def selection(self, node: SelectionSetNode | None, parent: Any, page: int | None) -> int:
        if node is None:
            return 0
        return sum(self.selected(s, parent, page) for s in node.selections)

    def selected(self, node: Any, parent: Any, page: int | None) -> int:
        if isinstance(node, FieldNode):
            return self.field(node, parent, page)
        if isinstance(node, InlineFragmentNode):
            inner = self._named(node.type_condition.name.value) if node.type_condition else parent
            return self.selection(node.selection_set, inner, page)
        if isinstance(node, FragmentSpreadNode):
            fragment = self.context.get_fragment(node.name.value)
            if fragment is None or node.name.value in self.seen:  # cycles: other rules
                return 0
            inner = self._named(fragment.type_condition.name.value)
            self.seen.add(node.name.value)
            try:
                return self.selection(fragment.selection_set, inner, page)
            finally:
                self.seen.discard(node.name.value)
        return 0

    def field(self, node: FieldNode, parent: Any, page: int | None) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType):
            return 1
        definition = parent.fields.get(name)
        if definition is None:
            return 0  # unknown fields are another rule's error
        own = self.page_argument(node, definition)
        field_type = get_nullable_type(definition.type)
        named = get_named_type(definition.type)
        if not isinstance(named, GraphQLObjectType):
            return 0  # scalars and enums are free
        if isinstance(field_type, GraphQLList):
            size = own if own is not None else (page or UNPAGED)
            return size * (1 + self.selection(node.selection_set, named, None))
        return 1 + self.selection(node.selection_set, named, own)

    def page_argument(self, node: FieldNode, definition: Any) -> int | None:
        """The field's first/limit: given, a variable's default, else the schema's."""
        for arg_name in PAGE_ARGUMENTS:
            if arg_name not in definition.args:
                continue
            given = next((a.value for a in node.arguments or () if a.name.value == arg_name), None)
            return self._size(given, definition.args[arg_name].default_value)
        return None

    def _size(self, given: Any, schema_default: Any) -> int:
        if isinstance(given, VariableNode):
            given = self.defaults.get(given.name.value) or IntValueNode(value=str(MAX_PAGE))
        if isinstance(given, IntValueNode):
            return max(int(given.value), 1)
        return schema_default if isinstance(schema_default, int) else DEFAULT_PAGE

    def _named(self, name: str) -> GraphQLNamedType | None:
        return self.schema.get_type(name)
