"""The whole graph on tiny data: champion registered; corrupt data stopped by the checks."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from typer.testing import CliRunner

from gbrec_assets.definitions import build_definitions
from gbrec_assets.runner import MaterializeOutcome, materialize_graph
from gbrec_assets.sensors import champion_rollback_sensor, model_degradation_sensor
from gbrec_core.index import load_embeddings, load_index
from gbrec_core.registry import BASELINE, ModelRegistry
from gbrec_core.settings import Settings

from ..alert_servers import webhook_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Settings, Any, MaterializeOutcome]]:
    home = tmp_path_factory.mktemp("pipeline") / "home"
    settings = Settings(home=home, synthetic_scale="tiny", index_shards=2)
    (home / "dagster").mkdir(parents=True)
    with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
        outcome = materialize_graph(settings, instance)
        yield settings, instance, outcome
    from gbrec_core.store import stop_server

    stop_server(settings)


def test_full_graph_registers_a_champion(built: tuple[Settings, Any, MaterializeOutcome]) -> None:
    settings, _, outcome = built
    assert outcome.success, outcome.failed_steps
    assert {"validated_ratings", "registered_model", "vector_index"} <= set(outcome.materialized)
    champion = ModelRegistry(settings).champion()
    assert champion is not None and "champion" in champion.aliases
    root = settings.index_dir / champion.version
    for kind in ("faiss-hnsw", "hnsw"):  # one shard folder per partition, opened as one index
        assert len(list((root / kind).glob("shard-*"))) == settings.index_shards
        index = load_index(root / kind)
        assert index.stats()["shards"] == settings.index_shards
        assert index.stats()["meta"]["model_version"] == champion.version
        index.close()
    stored = load_embeddings(root / "embeddings")
    assert len(stored) == len(index) and stored.model_version == champion.version


def test_every_stored_value_is_data_files(
    built: tuple[Settings, Any, MaterializeOutcome],
) -> None:
    import json

    settings, _, _ = built
    storage = settings.resolved_home / "dagster" / "storage"
    # The instance keeps its compute logs in the same folder; only asset values are checked.
    assert not [p for p in storage.rglob("*") if p.suffix in {".pickle", ".pkl"}]
    values = [p.parent for p in storage.rglob("*.json") if p.name in ("value.json", "model.json")]
    assert {p.relative_to(storage).parts[0] for p in values} >= {"book_catalogue", "als_model"}
    suffixes = {f.suffix for v in values for f in v.rglob("*") if f.is_file()}
    assert suffixes <= {".json", ".parquet", ".npy", ".npz"}, suffixes
    catalogue = json.loads((storage / "book_catalogue" / "value.json").read_text())
    assert catalogue["value"]["json_columns"] == ["tags"]


def test_evaluation_logged_to_one_finished_mlflow_run_of_the_dagster_run(
    built: tuple[Settings, Any, MaterializeOutcome],
) -> None:
    settings, _, outcome = built
    client = ModelRegistry(settings).client
    experiment = client.get_experiment_by_name(f"{settings.mlflow_experiment}-dagster")
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], filter_string=f"tags.dagster_run_id = '{outcome.run_id}'"
    )
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    k = settings.eval_k
    metrics = runs[0].data.metrics
    assert {f"als.ndcg_at_{k}", f"als.novelty_at_{k}", f"als.ild_at_{k}"} <= set(metrics)
    assert {f"popularity.p_value_at_{k}", f"holdout.head_share_at_{k}"} <= set(metrics)
    plots = client.list_artifacts(runs[0].info.run_id, "plots")
    assert {Path(p.path).name for p in plots} >= {
        "als.png",
        "popularity.png",
        "segments.png",
        "deltas.png",
    }
    report = client.list_artifacts(runs[0].info.run_id, "report")
    assert {Path(p.path).name for p in report} == {"evaluation.html", "evaluation.md"}
    page = Path(client.download_artifacts(runs[0].info.run_id, "report/evaluation.html"))
    assert page.read_text().count("<table") == 4


def test_one_run_and_logged_model_per_family_and_the_version_links_them(
    built: tuple[Settings, Any, MaterializeOutcome],
) -> None:
    from mlflow.models import Model

    settings, instance, outcome = built
    registry = ModelRegistry(settings)
    client = registry.client
    experiment = client.get_experiment_by_name(settings.mlflow_experiment)
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], filter_string=f"tags.dagster_run_id = '{outcome.run_id}'"
    )
    families = {"popularity", "als", "ease", "content", "hybrid"}
    assert sorted(r.info.run_name for r in runs) == sorted(families)  # one run per family
    assert all(r.info.status == "FINISHED" and "ndcg" in r.data.metrics for r in runs)
    report_run = {r.data.tags["gbrec.evaluation_run"] for r in runs}
    latest = instance.get_latest_materialization_event
    evaluated = latest(dg.AssetKey("model_evaluation")).asset_materialization.metadata
    assert report_run == {evaluated["mlflow_run_id"].value}
    by_run = {r.info.run_id: r for r in runs}
    models = client.search_logged_models([experiment.experiment_id])
    mine = [m for m in models if m.source_run_id in by_run]
    assert sorted(m.name for m in mine) == sorted(families)
    assert evaluated["logged_models"].value == {m.name: m.model_id for m in mine}
    for logged in mine:
        assert logged.status.to_proto() == 2 and logged.model_type == "recommender"  # READY
        assert {m.key for m in logged.metrics} >= {"ndcg", "novelty", "coverage"}
        folder = mlflow_download(logged.artifact_location)
        signature = Model.load(str(folder / "MLmodel")).signature
        assert signature is not None and signature.inputs.input_names() == ["user_id", "k"]
        assert (folder / "input_example.json").is_file()
    registered = latest(dg.AssetKey("registered_model")).asset_materialization.metadata
    version = registry.version(registered["version"].value)
    chosen = client.get_logged_model(str(version.model_id))
    assert chosen.source_run_id == version.run_id == registered["mlflow_run_id"].value
    assert version.source == chosen.artifact_location and chosen.name == registered["family"].value
    tags = client.get_model_version(settings.model_name, version.version).tags
    assert tags["gbrec.evaluation_run"] == evaluated["mlflow_run_id"].value
    assert json.loads(chosen.tags["mlflow.modelVersions"])[0]["version"] == version.version
    assert registry.load(version.version).checksum == version.checksum  # the signed bundle
    baseline = registry.version(BASELINE)
    popularity = next(m for m in mine if m.name == "popularity")
    assert baseline.model_id == popularity.model_id  # reused, not logged twice


def mlflow_download(uri: str) -> Path:
    import mlflow

    return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))


def _embedded_png(value: Any) -> bytes:
    import base64

    assert isinstance(value, dg.MarkdownMetadataValue)
    prefix = "](data:image/png;base64,"
    assert prefix in value.md_str and value.md_str.endswith(")")
    return base64.b64decode(value.md_str.split(prefix, 1)[1][:-1])


def test_evaluation_metadata_has_the_report_tables_and_plots(
    built: tuple[Settings, Any, MaterializeOutcome],
) -> None:
    _, instance, _ = built
    event = instance.get_latest_materialization_event(dg.AssetKey("model_evaluation"))
    assert event is not None and event.asset_materialization is not None
    metadata = event.asset_materialization.metadata
    for name, header in {
        "metrics": "| model ",
        "beyond_accuracy": "novelty",
        "segments": "new users (5 seed books)",
        "significance": "p_value",
    }.items():
        assert isinstance(metadata[name], dg.MarkdownMetadataValue), name
        assert header in metadata[name].md_str, name
    assert "Q1 (" in metadata["segments"].md_str
    for plot in ("recall_plot", "segment_plot", "difference_plot"):
        assert _embedded_png(metadata[plot]).startswith(b"\x89PNG\r\n\x1a\n")
    assert 0.0 <= metadata["runner_up_p_value"].value <= 1.0
    assert "paired t-test p" in metadata["selection"].value


def test_decision_record_carries_the_paired_p_value(
    built: tuple[Settings, Any, MaterializeOutcome],
) -> None:
    from gbrec_core.access.audited import with_audit

    settings, instance, _ = built
    latest = instance.get_latest_materialization_event
    evaluated = latest(dg.AssetKey("model_evaluation")).asset_materialization.metadata
    registered = latest(dg.AssetKey("registered_model")).asset_materialization.metadata
    registry = ModelRegistry(settings)
    version = registry.client.get_model_version(settings.model_name, registered["version"].value)
    tags = version.tags
    runner_up = evaluated["runner_up_p_value"].value
    assert float(tags["gbrec.selection.p_value"]) == pytest.approx(runner_up, rel=1e-5)
    assert tags["gbrec.selection.runner_up"] in evaluated["metrics"].md_str
    assert tags["gbrec.selection"] == evaluated["selection"].value
    assert registered["promotion"].value.endswith(tags["gbrec.selection"])
    assert registered["runner_up_p_value"].value == pytest.approx(runner_up, rel=1e-5)
    page = with_audit(settings, lambda audit: audit.page(first=100, after=None))
    delivered = [r for r in page.records if r.operation == "promoteChampion"]
    assert delivered and "paired t-test p" in delivered[-1].result["reason"]


def test_corrupt_ratings_fail_checks_and_keep_champion(
    built: tuple[Settings, Any, MaterializeOutcome], tmp_path: Path, corrupt: Callable[..., Path]
) -> None:
    settings, instance, _ = built
    registry = ModelRegistry(settings)
    before = [v.version for v in registry.versions()]
    champion = registry.champion_version()
    bad = corrupt(settings.data_dir / "synthetic-tiny", tmp_path / "bad")
    bad_settings = settings.model_copy(update={"dataset": str(bad)})
    outcome = materialize_graph(bad_settings, instance)
    assert not outcome.success
    failed = {c.check for c in outcome.failed_checks}
    assert {"rating_out_of_range", "non_positive_id", "duplicate_rating"} <= failed
    assert failed & {"unparsable_value", "malformed_row", "wrong_type"}
    assert "registered_model" not in outcome.materialized
    assert "rating_splits" not in outcome.materialized
    assert [v.version for v in registry.versions()] == before
    assert registry.champion_version() == champion


def test_cli_exits_non_zero_on_corrupt_data(
    built: tuple[Settings, Any, MaterializeOutcome],
    tmp_path: Path,
    corrupt: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import typer

    from gbrec_assets.cli import register

    settings, _, _ = built
    bad = corrupt(settings.data_dir / "synthetic-tiny", tmp_path / "bad")
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    monkeypatch.setenv("GBREC_HOME", str(settings.resolved_home))
    monkeypatch.setenv("GBREC_DATASET", str(bad))
    monkeypatch.setenv("GBREC_INDEX_SHARDS", "2")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    (tmp_path / "dh").mkdir()
    result = CliRunner().invoke(app, ["materialize", "--select", "raw_ratings+"])
    assert result.exit_code == 1
    assert "rating_out_of_range" in result.output


RECOMMEND = """query($u: Int!) { recommendations(userId: $u, limit: 5) {
  requestId userId modelVersion items { book { id } } } }"""
RECORD_EVENTS = "mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted } }"


def _serve_and_click(client: Any, key: str, users: range, clicks: int) -> list[str]:
    """Serve ``users`` through the API; click the first book of the first ``clicks``."""
    recs = []
    for user in users:
        body = client.post("/graphql", json={"query": RECOMMEND, "variables": {"u": user}}).json()
        recs.append(body["data"]["recommendations"])
    events = [
        {"userId": r["userId"], "type": "CLICK", "requestId": r["requestId"], "bookId": b}
        for r in recs[:clicks]
        for b in [r["items"][0]["book"]["id"]]
    ]
    sent = client.post(
        "/graphql",
        json={"query": RECORD_EVENTS, "variables": {"e": events}},
        headers={"X-API-Key": key},
    ).json()
    assert sent["data"]["recordEvents"]["accepted"] == len(events), sent
    return sorted({r["modelVersion"] for r in recs})


def test_degradation_sensor_retrains_when_live_clicks_drop(
    built: tuple[Settings, Any, MaterializeOutcome], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reference week: 40% of responses clicked (written through the core API at explicit
    times three days ago); recent traffic served and clicked through the real API."""
    import time

    from starlette.testclient import TestClient

    from gbrec_core.access import Scope, create_key
    from gbrec_core.experiments.types import Event, EventType
    from gbrec_core.monitoring import OnlineMonitor
    from gbrec_core.store import connect
    from gbrec_graphql.app import create_app

    base, instance, _ = built
    # The sensor's settings resource reads the online knobs from the environment.
    monkeypatch.setenv("GBREC_ONLINE_MIN_REQUESTS", "100")
    monkeypatch.setenv("GBREC_ONLINE_SETTLE_MINUTES", "0")  # judge the current hour too
    settings = base.model_copy(update={"online_min_requests": 100, "online_settle_minutes": 0.0})
    champion = ModelRegistry(settings).champion_version()
    assert champion is not None
    redis = connect(settings)
    past = OnlineMonitor.from_settings(settings, redis)
    three_days_ago = time.time() - 3 * 86_400
    for i in range(300):
        past.served_at(f"past-{i}", champion, [1, 2, 3], three_days_ago + i)
    past.flush()
    past.attribute(
        [Event(i, EventType.CLICK, book_id=2, request_id=f"past-{i}") for i in range(0, 300, 5)]
        + [Event(i, EventType.CLICK, book_id=3, request_id=f"past-{i}") for i in range(1, 300, 5)]
    )
    resources = {
        k: build_definitions(settings).resources[k] for k in ("gbrec", "registry", "redis")
    }

    def tick(cursor: str | None = None) -> dg.RunRequest | dg.SkipReason:
        with dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor) as ctx:
            return model_degradation_sensor(ctx)

    quiet = tick()
    assert isinstance(quiet, dg.SkipReason) and "not enough traffic" in str(quiet.skip_message)
    key = create_key(redis, Scope.EVENTS).key
    with TestClient(create_app(settings)) as client:
        assert _serve_and_click(client, key, range(1, 151), clicks=75) == [champion]
        client.app.state.services.monitor.flush()
        steady = tick()  # 50% recent vs 40% reference
        assert isinstance(steady, dg.SkipReason), steady
        assert "no drop" in str(steady.skip_message)
        assert "latest offline ndcg" in str(steady.skip_message)
        _serve_and_click(client, key, range(1, 401), clicks=2)
        client.app.state.services.monitor.flush()  # what the next half-second tick would do
        with webhook_server() as (url, alerts):
            monkeypatch.setenv("GBREC_ALERT_WEBHOOK_URL", url)
            request = tick()  # 77 of 550 clicked (14%) vs 120 of 300 (40%)
            assert isinstance(request, dg.RunRequest), request
            again = tick(cursor=request.run_key)  # same degradation: no second alert
        monkeypatch.delenv("GBREC_ALERT_WEBHOOK_URL")
    assert [a["event"] for a in alerts] == ["degradationRetrain"]
    assert alerts[0]["championVersion"] == champion and "degraded" in str(alerts[0]["title"])
    assert isinstance(request, dg.RunRequest), request
    tags = request.tags
    assert tags["gbrec/trigger"] == "degradation" and tags["gbrec/champion"] == champion
    assert tags["gbrec/reference"] == f"v{champion} (own history)"
    assert float(tags["gbrec/reference_value"]) == 0.4 and float(tags["gbrec/drop"]) > 0.5
    assert (
        int(tags["gbrec/recent_requests"]) >= 550 and int(tags["gbrec/reference_requests"]) == 300
    )
    assert float(tags["gbrec/p_value"]) < 1e-6 and "latest offline ndcg" in tags["gbrec/offline"]
    # The same degradation: the same run key, so Dagster launches one run.
    assert isinstance(again, dg.RunRequest) and again.run_key == request.run_key


def test_rollback_sensor_quiet_after_passing_smoke_check(
    built: tuple[Settings, Any, MaterializeOutcome],
) -> None:
    _, instance, _ = built
    with dg.build_sensor_context(instance=instance) as ctx:
        result = champion_rollback_sensor(ctx)
    assert not result.run_requests


def test_baseline_registered_beside_the_champion(
    built: tuple[Settings, Any, MaterializeOutcome],
) -> None:
    settings, _, outcome = built
    assert "baseline_model" in outcome.materialized
    registry = ModelRegistry(settings)
    baseline = registry.version(BASELINE)
    assert baseline.model == "popularity" and "ndcg" in baseline.metrics
    champion = registry.champion()
    assert champion is not None and champion.version != baseline.version
    # The baseline never passed through the gate: no challenger, champion untouched.
    listed = {v.version: v.aliases for v in registry.versions()}
    assert listed[baseline.version] == [BASELINE]
    assert "champion" in listed[champion.version]


def test_demo_experiment_champion_vs_baseline_runs_after_materialize(
    built: tuple[Settings, Any, MaterializeOutcome],
) -> None:
    from starlette.testclient import TestClient

    from gbrec_core.access import Scope, create_key
    from gbrec_core.cli.demo import EXAMPLE_QUERIES
    from gbrec_core.store import connect
    from gbrec_graphql.app import create_app

    settings, _, _ = built
    registry = ModelRegistry(settings)
    key = create_key(connect(settings), Scope.ADMIN).key
    routed = """query($u: Int!) { recommendations(userId: $u, limit: 3,
      experimentId: "champion-vs-baseline") { modelVersion variant } }"""
    with TestClient(create_app(settings)) as client:
        created = client.post(
            "/graphql",
            json={"query": EXAMPLE_QUERIES["create an experiment (admin)"]},
            headers={"X-API-Key": key},
        ).json()
        assert created["data"]["createExperiment"]["status"] == "RUNNING", created
        served = {}
        for user in range(1, 31):
            body = client.post("/graphql", json={"query": routed, "variables": {"u": user}})
            rec = body.json()["data"]["recommendations"]
            served[rec["variant"]] = rec["modelVersion"]
    assert served == {
        "control": registry.champion_version(),
        "treatment": registry.alias_version(BASELINE),
    }


def test_rematerialising_unchanged_data_adds_no_baseline(
    built: tuple[Settings, Any, MaterializeOutcome],
) -> None:
    settings, instance, _ = built
    registry = ModelRegistry(settings)
    baseline = registry.alias_version(BASELINE)
    before = {v.version for v in registry.versions()}
    outcome = materialize_graph(settings, instance, "popularity_model++")
    assert outcome.success, outcome.failed_steps
    assert {"popularity_model", "registered_model", "baseline_model"} <= set(outcome.materialized)
    assert registry.alias_version(BASELINE) == baseline
    new = {v.version for v in registry.versions()} - before
    assert len(new) == 1  # the retrained champion candidate only
    assert BASELINE not in registry.version(new.pop()).aliases
    event = instance.get_latest_materialization_event(dg.AssetKey("baseline_model"))
    assert event is not None and event.asset_materialization is not None
    assert event.asset_materialization.metadata["registered"].value is False


def test_recall_plot_is_markdown_with_the_png_inline(
    built: tuple[Settings, Any, MaterializeOutcome],
) -> None:
    _, instance, _ = built
    event = instance.get_latest_materialization_event(dg.AssetKey("model_evaluation"))
    assert event is not None and event.asset_materialization is not None
    png = _embedded_png(event.asset_materialization.metadata["recall_plot"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 200_000


def test_vector_index_is_signed_and_tuned(built: tuple[Settings, Any, MaterializeOutcome]) -> None:
    from gbrec_core.access.secret_keys import signing_key
    from gbrec_core.access.signing import Signer
    from gbrec_core.errors import SignatureError

    settings, instance, _ = built
    champion = ModelRegistry(settings).champion()
    assert champion is not None
    path = settings.index_dir / champion.version / "faiss-hnsw"
    index = load_index(path, signer=Signer(signing_key(settings)))
    tuning = index.stats()["tuning"]
    assert tuning["target_recall"] == settings.index_target_recall and tuning["met"]
    index.close()
    with pytest.raises(SignatureError):
        load_index(path, signer=Signer(b"another deployment's key"))
    event = instance.get_latest_materialization_event(dg.AssetKey("vector_index"))
    metadata = event.asset_materialization.metadata
    assert metadata["measured_recall"].value >= settings.index_target_recall
    assert metadata["target_recall"].value == settings.index_target_recall
    assert all(
        v.startswith(("ef_search=", "ef=")) for v in metadata["search_parameters"].value.values()
    )
