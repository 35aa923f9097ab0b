"""The schema: Query and Mutation composed from the domain packages."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from gbrec_core.settings import Settings
from gbrec_graphql.audit.queries import AuditQueries
from gbrec_graphql.books.queries import BookQueries
from gbrec_graphql.compiled import CompiledQueries
from gbrec_graphql.execution import PlainFieldsExecutionContext
from gbrec_graphql.experiments.mutations import ExperimentMutations
from gbrec_graphql.experiments.queries import ExperimentQueries
from gbrec_graphql.index.mutations import IndexMutations
from gbrec_graphql.index.queries import IndexQueries
from gbrec_graphql.internals import graphql_schema, name_converter
from gbrec_graphql.models.mutations import ModelMutations
from gbrec_graphql.models.queries import ModelQueries
from gbrec_graphql.pipeline import Pipeline
from gbrec_graphql.recommendations.queries import RecommendationQueries
from gbrec_graphql.users.mutations import UserMutations

Query = merge_types(
    "Query",
    (
        RecommendationQueries,
        BookQueries,
        ExperimentQueries,
        ModelQueries,
        IndexQueries,
        AuditQueries,
    ),
)
Mutation = merge_types(
    "Mutation", (ExperimentMutations, ModelMutations, IndexMutations, UserMutations)
)


class GbrecSchema(strawberry.Schema):
    #: Hot queries executed without Strawberry's per-request machinery (None: off).
    compiled: CompiledQueries | None = None

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Nothing: both paths log errors in gbrec_graphql.finish (once, before masking)."""


def build_schema(settings: Settings) -> GbrecSchema:
    pipeline = Pipeline.from_settings(settings)
    schema = GbrecSchema(
        query=Query,
        mutation=Mutation,
        # One factory: a fresh extension per request over caches shared by the schema.
        extensions=[pipeline.extension],
        execution_context_class=PlainFieldsExecutionContext,
    )
    if settings.graphql_compiled:
        schema.compiled = CompiledQueries(
            graphql_schema(schema), name_converter(schema), pipeline, settings.graphql_cache_size
        )
    return schema


def schema_sdl() -> str:
    """The schema in SDL (what ``gbrec_graphql/schema.graphql`` holds)."""
    return str(build_schema(Settings())) + "\n"


if __name__ == "__main__":  # python -m gbrec_graphql.schema > gbrec_graphql/schema.graphql
    import sys

    sys.stdout.write(schema_sdl())
