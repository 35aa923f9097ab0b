"""Artifacts on S3: a model registered with an ``s3://`` artifact root is served by a
fresh API home that never saw the files (same tracking database, same S3, same signing
key), and a bundle edited in the bucket is refused.

The S3 server is moto's standalone server on a local port (tests/s3_server.py); MLflow
and boto3 reach it over HTTP through ``MLFLOW_S3_ENDPOINT_URL`` as they would MinIO.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from starlette.testclient import TestClient

from gbrec_core.models import Recommender, make_recommender
from gbrec_core.registry import ModelRegistry
from gbrec_core.settings import Settings
from gbrec_core.store import stop_server
from gbrec_graphql.app import create_app

from ..s3_server import S3Server, s3_server
from .conftest import RECOMMEND, Api, api_settings, catalogue, ratings

PREFIX = "mlflow"


@dataclasses.dataclass
class S3Deployment:
    s3: S3Server
    writer: Settings
    version: str
    model: Recommender


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, catalogue_dir: Path
) -> Iterator[S3Deployment]:
    root = tmp_path_factory.mktemp("s3-writer")
    with s3_server() as s3, pytest.MonkeyPatch.context() as env:
        for name, value in s3.env.items():
            env.setenv(name, value)
        writer = api_settings(
            root / "home",
            catalogue(catalogue_dir, root / "data"),
            mlflow_tracking_uri=f"sqlite:///{root / 'shared-mlflow.db'}",
            mlflow_artifact_root=f"s3://{s3.bucket}/{PREFIX}",
            signing_key="s3-tests-signing-key",
        )
        registry = ModelRegistry(writer)
        model = make_recommender("als", factors=8, iterations=3, num_threads=1).fit(ratings())
        plot = root / "calibration.png"
        plt.figure()
        plt.plot([0, 1], [0, 1])
        plt.savefig(plot)
        plt.close("all")
        fp = {"sha256": "s3", "rows": 1, "users": 1, "books": 1}
        run_id = registry.log_training_run(model, {"ndcg": 0.3}, {}, fp, plots=[plot])
        version = registry.register(run_id).version
        registry.promote(version, force=True)
        yield S3Deployment(s3, writer, version, model)


@pytest.fixture
def fresh_api(deployment: S3Deployment, tmp_path: Path) -> Iterator[Api]:
    """An API on a home of its own: it shares only the tracking DB, S3 and the key."""
    settings = deployment.writer.model_copy(update={"home": tmp_path / "fresh-home"})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(settings, client, {}, ratings())
    stop_server(settings)


def test_bundles_vectors_and_plots_land_in_the_bucket(deployment: S3Deployment) -> None:
    info = ModelRegistry(deployment.writer).version(deployment.version)
    run_id = info.run_id
    assert str(info.source).startswith(f"s3://{deployment.s3.bucket}/{PREFIX}/")
    keys = deployment.s3.keys(PREFIX)
    bundle = f"models/{info.model_id}/artifacts/artifacts/bundle/"  # the LoggedModel's
    names = {key.split(bundle, 1)[1] for key in keys if bundle in key}
    assert {"bundle.json", "bundle.sig", "vectors.npz", "fallback.npz"} <= names
    assert any(key.endswith(f"{run_id}/artifacts/plots/calibration.png") for key in keys)
    assert not (deployment.writer.resolved_home / "mlartifacts").exists()


def test_fresh_home_serves_the_s3_model(deployment: S3Deployment, fresh_api: Api) -> None:
    home = fresh_api.settings.resolved_home
    assert not (home / "mlartifacts").exists()
    expected, _ = deployment.model.recommend([5], k=5)
    recs = fresh_api.gql(RECOMMEND, {"u": 5})["data"]["recommendations"]
    assert recs["modelVersion"] == deployment.version and recs["fallback"] is False
    assert [item["book"]["id"] for item in recs["items"]] == expected[0].tolist()
    cached = home / "serving" / deployment.writer.model_name / f"v{deployment.version}"
    assert (cached / "bundle.sig").is_file()  # the verified copy in its disk cache
    similar = fresh_api.gql("{ similarBooks(bookId: 2, limit: 3) { book { id } } }")
    assert len(similar["data"]["similarBooks"]) == 3


def test_bundle_edited_in_the_bucket_is_refused(deployment: S3Deployment, fresh_api: Api) -> None:
    registry = ModelRegistry(deployment.writer)
    model = make_recommender("popularity").fit(ratings(seed=8))
    fp = {"sha256": "s3-tampered", "rows": 1, "users": 1, "books": 1}
    version = registry.register(registry.log_training_run(model, {"ndcg": 0.1}, {}, fp)).version
    model_id = registry.version(version).model_id
    keys = deployment.s3.keys(PREFIX)
    key = next(k for k in keys if f"/{model_id}/" in k and "bundle.json" in k)
    s3 = deployment.s3.client()
    manifest = json.loads(s3.get_object(Bucket=deployment.s3.bucket, Key=key)["Body"].read())
    manifest["model"] = "als"
    s3.put_object(Bucket=deployment.s3.bucket, Key=key, Body=json.dumps(manifest).encode())

    key_admin = _admin_key(fresh_api)
    body = fresh_api.gql(
        f'mutation {{ deployModel(version: "{version}") {{ version }} }}', key=key_admin
    )
    assert body["data"] is None and "wrong signature" in body["errors"][0]["message"]
    assert registry.champion_version() == deployment.version
    serving = fresh_api.gql("{ servingModel { version } }")["data"]["servingModel"]
    assert serving["version"] == deployment.version


def _admin_key(api: Api) -> str:
    from gbrec_core.access import Scope, create_key
    from gbrec_core.store import connect

    return create_key(connect(api.settings), Scope.ADMIN).key
