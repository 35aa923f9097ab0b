"""Registry against a real sqlite MLflow: tracking, versions, aliases, gate, rollback, pyfunc."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from gbrec_core.access.signing import Signer
from gbrec_core.errors import (
    ModelLoadError,
    NotFoundError,
    PromotionRefusedError,
    SignatureError,
    UnavailableError,
)
from gbrec_core.models import Recommender, make_recommender
from gbrec_core.registry import (
    CHALLENGER,
    CHAMPION,
    ModelRegistry,
    read_bundle,
    write_bundle,
)
from gbrec_core.settings import Settings

LogModel = Callable[[int, float], tuple[str, Recommender]]


def test_training_run_records_params_metrics_lineage_and_plots(
    registry: ModelRegistry, tmp_path: Path, make_ratings: Callable[[int], pd.DataFrame]
) -> None:
    plot = tmp_path / "recall_curve.svg"
    plot.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    model = make_recommender("popularity").fit(make_ratings(7))
    fp = {"sha256": "abc123", "rows": 900, "users": 60, "books": 120}
    run_id = registry.log_training_run(
        model, {"ndcg": 0.2, "recall@10": 0.3}, {"split": "temporal"}, fp,
        lineage_tag="dagster-run-42", plots=[plot],
    )  # fmt: skip
    run = registry.client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics == {"ndcg": 0.2, "recall_10": 0.3}
    assert run.data.params["split"] == "temporal"
    tags = run.data.tags
    assert tags["gbrec.lineage"] == "dagster-run-42"
    assert (tags["data.sha256"], tags["data.rows"]) == ("abc123", "900")
    assert tags["gbrec.version"] and tags["gbrec.model"] == "popularity"
    listed = {a.path for a in registry.client.list_artifacts(run_id, "plots")}
    assert listed == {"plots/recall_curve.svg"}
    assert not registry.client.list_artifacts(run_id, "model")  # the model is a LoggedModel


def test_the_model_is_a_logged_model_with_signature_and_input_example(
    registry: ModelRegistry, make_ratings: Callable[[int], pd.DataFrame]
) -> None:
    from mlflow.models import Model

    model = make_recommender("popularity").fit(make_ratings(8))
    fp = {"sha256": "abc124", "rows": 900, "users": 60, "books": 120}
    logged = registry.log_model_run(
        model, {"ndcg": 0.25, "ild": float("nan")}, {"family": "popularity"}, fp,
        tags={"gbrec.evaluation_run": "eval-1"}, run_name="popularity",
    )  # fmt: skip
    client = registry.client
    run = client.get_run(logged.run_id)
    assert run.info.run_name == "popularity" and run.data.metrics == {"ndcg": 0.25}
    assert [o.model_id for o in run.outputs.model_outputs] == [logged.model_id]
    found = client.search_logged_models([run.info.experiment_id])
    assert logged.model_id in {m.model_id for m in found}
    lm = client.get_logged_model(logged.model_id)
    assert (lm.name, lm.status.to_proto(), lm.source_run_id) == ("popularity", 2, logged.run_id)
    assert lm.model_type == "recommender" and lm.params["family"] == "popularity"
    assert {m.key: m.value for m in lm.metrics} == {"ndcg": 0.25}
    assert lm.tags["gbrec.checksum"] == logged.checksum == run.data.tags["gbrec.checksum"]
    listed = {a.path for a in client.list_logged_model_artifacts(logged.model_id, "artifacts")}
    assert "artifacts/bundle" in listed
    folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=lm.artifact_location))
    mlmodel = Model.load(str(folder / "MLmodel"))
    assert mlmodel.model_id == logged.model_id and mlmodel.run_id == logged.run_id
    assert mlmodel.signature is not None
    assert mlmodel.signature.inputs.input_names() == ["user_id", "k"]
    assert mlmodel.signature.outputs.input_names() == ["user_id", "book_ids", "scores"]
    assert mlmodel.load_input_example(str(folder))["user_id"].tolist() == [1, 2]
    info = registry.register(logged.run_id)
    assert info.model_id == logged.model_id and info.source == lm.artifact_location
    version = client.get_model_version(registry.name, info.version)
    assert version.tags["gbrec.evaluation_run"] == "eval-1"
    linked = json.loads(client.get_logged_model(logged.model_id).tags["mlflow.modelVersions"])
    assert linked == [{"name": registry.name, "version": info.version}]


def test_a_run_that_breaks_off_fails_its_logged_model_too(
    registry: ModelRegistry, tmp_path: Path, make_ratings: Callable[[int], pd.DataFrame]
) -> None:
    """A step after the LoggedModel exists (here a plot upload) fails the run and the
    model: none is left PENDING as if still uploading."""
    model = make_recommender("popularity").fit(make_ratings(9))
    fp = {"sha256": "abc125", "rows": 900, "users": 60, "books": 120}
    with pytest.raises(UnavailableError, match=r"missing\.svg"):
        registry.log_model_run(
            model, {"ndcg": 0.1}, {}, fp, plots=[tmp_path / "missing.svg"], run_name="broken"
        )
    (run,) = registry.client.search_runs(
        [registry.client.get_experiment_by_name(registry.settings.mlflow_experiment).experiment_id],
        filter_string="attributes.run_name = 'broken'",
    )
    assert run.info.status == "FAILED"
    (logged,) = [m for m in registry.logged_models() if m.source_run_id == run.info.run_id]
    assert logged.status.to_proto() == 3  # LoggedModelStatus.FAILED


def test_gate_promote_and_rollback_walk_the_champion_history(
    registry: ModelRegistry, log_model: LogModel
) -> None:
    v1, _ = log_model(1, 0.100)
    first = registry.propose(v1)
    assert first.accepted and first.deployment is not None  # first model: automatic
    assert registry.champion_version() == v1

    v2, _ = log_model(2, 0.090)  # 10% worse, tolerance is 5% relative
    refused = registry.propose(v2)
    assert not refused.accepted and "tolerance" in refused.reason
    assert (refused.champion_version, refused.champion_value) == (v1, 0.100)
    assert registry.champion_version() == v1
    assert CHALLENGER in registry.version(v2).aliases
    with pytest.raises(PromotionRefusedError):
        registry.promote(v2)

    v3, _ = log_model(3, 0.097)  # 3% worse: within tolerance
    assert registry.propose(v3).accepted
    assert registry.champion_version() == v3
    assert CHALLENGER not in registry.version(v3).aliases

    forced = registry.promote(v2, force=True)
    assert (forced.version, forced.previous_version) == (v2, v3)
    by_version = {i.version: i for i in registry.versions()}
    assert by_version[v2].aliases == [CHAMPION]
    assert by_version[v1].metrics["ndcg"] == pytest.approx(0.1)

    assert registry.previous_champion() == v3
    back = registry.rollback()
    assert (back.version, back.previous_version) == (v3, v2)
    assert registry.rollback().version == v1  # repeated rollbacks walk further back
    with pytest.raises(NotFoundError):
        registry.rollback()
    assert registry.champion_version() == v1


def test_pyfunc_model_loads_through_the_champion_alias_uri(
    registry: ModelRegistry, registry_settings: Settings, log_model: LogModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    version, model = log_model(11, 0.5)
    registry.promote(version, force=True)
    # Other tests in this worker (dagster-mlflow) may have set mlflow's process-global
    # URIs, which win over the environment variable; pin both for this test.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry_settings.tracking_uri)
    # The loading process verifies the bundle with its own settings' signing key.
    monkeypatch.setenv("GBREC_HOME", str(registry_settings.resolved_home))
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(registry_settings.tracking_uri)
    mlflow.set_registry_uri(registry_settings.tracking_uri)
    try:
        loaded = mlflow.pyfunc.load_model(f"models:/{registry_settings.model_name}@champion")
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
    users = np.array([1, 2, 999_999])
    out = loaded.predict(pd.DataFrame({"user_id": users, "k": 5}))
    expected, _ = model.recommend(users, k=5)
    assert out["user_id"].tolist() == users.tolist()
    assert out["book_ids"].tolist() == [row.tolist() for row in expected]


def test_unreachable_registry_raises_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    dead = Settings(home=tmp_path, mlflow_tracking_uri=f"sqlite:///{blocker}/mlflow.db")
    with pytest.raises(UnavailableError):
        ModelRegistry(dead).versions()


def test_bundle_refuses_tampered_files_and_foreign_checksums(
    tmp_path: Path, make_ratings: Callable[[int], pd.DataFrame]
) -> None:
    model = make_recommender("popularity").fit(make_ratings(5))
    signer = Signer(b"bundle-test-key")
    checksum = write_bundle(model, tmp_path / "b", signer)
    assert read_bundle(tmp_path / "b", signer, expected_checksum=checksum).checksum == checksum
    with pytest.raises(ModelLoadError, match="registry"):
        read_bundle(tmp_path / "b", signer, expected_checksum="0" * 64)
    manifest = json.loads((tmp_path / "b" / "bundle.json").read_text())
    np.savez(tmp_path / "b" / "fallback.npz", book_ids=np.arange(3), scores=np.ones(3))
    with pytest.raises(ModelLoadError, match=r"fallback\.npz"):
        read_bundle(tmp_path / "b", signer)
    assert manifest["format_version"] == 1


def test_bundle_manifest_is_verified_by_signature_before_it_is_parsed(
    tmp_path: Path, make_ratings: Callable[[int], pd.DataFrame]
) -> None:
    model = make_recommender("popularity").fit(make_ratings(6))
    signer = Signer(b"bundle-test-key")
    write_bundle(model, tmp_path / "b", signer)
    with pytest.raises(SignatureError, match="wrong signature"):
        read_bundle(tmp_path / "b", Signer(b"someone else's key"))
    # A manifest rewritten to match edited files (what a checksum alone cannot catch).
    np.savez(tmp_path / "b" / "fallback.npz", book_ids=np.arange(3), scores=np.ones(3))
    manifest = json.loads((tmp_path / "b" / "bundle.json").read_text())
    manifest["files"]["fallback.npz"] = hashlib.sha256(
        (tmp_path / "b" / "fallback.npz").read_bytes()
    ).hexdigest()
    (tmp_path / "b" / "bundle.json").write_text(json.dumps(manifest))
    with pytest.raises(SignatureError, match="wrong signature"):
        read_bundle(tmp_path / "b", signer)
    (tmp_path / "b" / "bundle.json").write_text("not json at all")  # never parsed
    with pytest.raises(SignatureError, match="wrong signature"):
        read_bundle(tmp_path / "b", signer)
    (tmp_path / "b" / "bundle.sig").unlink()
    with pytest.raises(SignatureError, match="not signed"):
        read_bundle(tmp_path / "b", signer)


def test_a_version_registered_before_logged_models_still_loads(
    registry: ModelRegistry, make_ratings: Callable[[int], pd.DataFrame], tmp_path: Path
) -> None:
    """The layout earlier gbrec wrote: the pyfunc under the run's ``model/`` folder, the
    version's source that folder, no logged model."""
    from gbrec_core.registry.logged_model import save_pyfunc

    model = make_recommender("popularity").fit(make_ratings(13))
    checksum = write_bundle(model, tmp_path / "bundle", registry.signer)
    pyfunc = save_pyfunc(tmp_path / "bundle", tmp_path / "model")
    client = registry.client
    experiment = client.get_experiment_by_name(registry.settings.mlflow_experiment)
    run = client.create_run(experiment.experiment_id)
    client.log_artifacts(run.info.run_id, str(pyfunc), artifact_path="model")
    client.set_tag(run.info.run_id, "gbrec.checksum", checksum)
    client.set_terminated(run.info.run_id)
    info = registry.register(run.info.run_id)  # no gbrec.model_id tag: the run folder
    assert info.model_id is None and info.source == f"{run.info.artifact_uri}/model"
    loaded = registry.load(info.version)
    assert loaded.checksum == checksum and loaded.model_name == "popularity"


def test_logged_model_stores_no_pickle(registry: ModelRegistry, log_model: LogModel) -> None:
    version, _ = log_model(12, 0.4)
    source = str(registry.version(version).source)
    folder = Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=source, dst_path=str(Path(registry.settings.resolved_home) / "dl")
        )
    )
    names = [p.name for p in folder.rglob("*") if p.is_file()]
    assert "gbrec_pyfunc_model.py" in names and "bundle.sig" in names
    assert not [n for n in names if n.endswith((".pkl", ".pickle", ".cloudpickle"))]
    mlmodel = (folder / "MLmodel").read_text()
    assert "model_code_path" in mlmodel and "python_model.pkl" not in mlmodel
