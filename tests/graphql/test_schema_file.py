"""gbrec_graphql/schema.graphql must match the code (regenerate: python -m gbrec_graphql.schema)."""

from __future__ import annotations

from pathlib import Path

import gbrec_graphql
from gbrec_graphql.schema import schema_sdl


def test_schema_graphql_is_current() -> None:
    path = Path(gbrec_graphql.__file__).parent / "schema.graphql"
    assert path.read_text() == schema_sdl(), (
        "stale: run python -m gbrec_graphql.schema > gbrec_graphql/schema.graphql"
    )


def test_contract_fields_exist() -> None:
    sdl = schema_sdl()
    for field in (
        "recommendations(userId: Int!, limit: Int! = 10, experimentId: String",
        # Filter arguments follow (issue 16); the contract's arguments come first.
        "similarBooks(bookId: Int!, limit: Int! = 10",
        "book(id: Int!): Book",
        "experiment(id: String!): Experiment",
        "servingModel: ModelVersion!",
        "vectorIndex: VectorIndexStats!",
        "createExperiment(input: ExperimentInput!): Experiment!",
        "recordEvents(events: [EventInput!]!): RecordEventsResult!",
        "deployModel(version: String!): Deployment!",
        "rollbackModel: Deployment!",
        "rebuildVectorIndex: IndexBuild!",
    ):
        assert field in sdl, field
