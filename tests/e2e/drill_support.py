"""The deployment the failure drills break: tiny data, two registered versions, a home each.

One module-scoped *fleet* (synthetic data, an sqlite MLflow registry with ALS versions
v1 = champion and v2) is built once; every drill copies its GBREC_HOME so that what one
drill breaks (Redis, the registry file, the disk cache) never leaks into another. The
copies' registry still points at the fleet's artifact folder, which no drill modifies.
:class:`Load` is the client traffic of the Redis drill.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from gbrec_core.settings import Settings

from .gbrec_process import ApiProcess, gbrec_env, wait_until

EXPERIMENT = "drill-ab"
CREATE = """
mutation($id: String!, $treatment: String!) {
  createExperiment(input: {id: $id, strategy: RANDOM, autoStop: false, metrics: ["satisfaction"],
      variants: [
      {name: "control", model: "champion", weight: 0.5},
      {name: "treatment", model: $treatment, weight: 0.5}]}) { id status }
}"""
RECOMMEND = """
query($u: Int!, $e: String) {
  recommendations(userId: $u, limit: 5, experimentId: $e) {
    modelVersion variant experimentId fallback items { book { id } }
  }
}"""
EVENTS = "mutation($events: [EventInput!]!) { recordEvents(events: $events) { accepted } }"
RESULTS = """
query($id: String!) {
  experiment(id: $id) {
    results { variants { name users exposures } metrics { metric variant mean users } }
  }
}"""
SERVING = "{ servingModel { version } }"
DEPLOY = "mutation($v: String!) { deployModel(version: $v) { version } }"


#: Settings the drills must not inherit from a developer's shell (production profile).
_REMOTE = ("GBREC_REDIS_URL", "GBREC_MLFLOW_TRACKING_URI", "GBREC_MLFLOW_ARTIFACT_ROOT")


@dataclass(frozen=True)
class Fleet:
    home: Path
    data: Path
    v1: str
    v2: str


@dataclass(frozen=True)
class Drill:
    """One drill's own GBREC_HOME: Settings for in-test use, env for child processes."""

    settings: Settings
    env: dict[str, str]
    fleet: Fleet

    @property
    def home(self) -> Path:
        return self.settings.resolved_home


def build_fleet(root: Path) -> Fleet:
    from gbrec_core.data import generate, load_ratings
    from gbrec_core.models import make_recommender
    from gbrec_core.registry import ModelRegistry

    data = generate("tiny", root / "data")
    settings = local_settings(root / "home", data)
    registry = ModelRegistry(settings)
    ratings = load_ratings(data / "ratings.csv")
    versions = []
    for factors, rows in ((16, len(ratings) * 4 // 5), (24, len(ratings))):
        model = make_recommender("als", factors=factors, iterations=5).fit(ratings.iloc[:rows])
        fingerprint = {"sha256": f"drill-{factors}", "rows": rows, "users": 1, "books": 1}
        run_id = registry.log_training_run(model, {"ndcg": 0.1}, {}, fingerprint)
        versions.append(registry.register(run_id).version)
    registry.promote(versions[0], force=True)
    return Fleet(root / "home", data, versions[0], versions[1])


def local_settings(home: Path, data: Path, **overrides: object) -> Settings:
    """Embedded engines only, whatever the caller's environment says."""
    return Settings(
        home=home,
        dataset=str(data),
        synthetic_scale="tiny",
        redis_url=None,
        mlflow_tracking_uri=None,
        mlflow_artifact_root=None,
        **overrides,  # type: ignore[arg-type]
    )


def new_drill(fleet: Fleet, folder: Path, watch_interval: float = 60.0) -> Drill:
    home = folder / "home"
    shutil.copytree(fleet.home, home, ignore=shutil.ignore_patterns("redis", "serving"))
    settings = local_settings(home, fleet.data, model_watch_interval=watch_interval)
    env = gbrec_env(
        GBREC_HOME=str(home),
        GBREC_DATASET=str(fleet.data),
        GBREC_SYNTHETIC_SCALE="tiny",
        GBREC_MODEL_WATCH_INTERVAL=str(watch_interval),
        GBREC_ENV="dev",
    )
    for name in _REMOTE:
        env.pop(name, None)
    return Drill(settings, env, fleet)


class Load:
    """Users 1, 2, 3, ... each get one recommendation and, if exposed, one event."""

    def __init__(self, api: ApiProcess, events_key: str) -> None:
        self.api, self.key = api, events_key
        self.next_user = iter(range(1, 10_000))
        self.lock = threading.Lock()
        self.phase = "before"
        self.variant: dict[int, str | None] = {}
        self.event: dict[int, str] = {}  # user -> accepted | refused
        self.served_in: Counter[str] = Counter()  # phase of start == phase of end
        self.failures: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                user, phase = next(self.next_user), self.phase
            try:
                self.one(user, phase)
            except Exception as e:  # a thread boundary: the test asserts on failures
                self.failures.append(f"user {user}: {e!r}")

    def one(self, user: int, phase: str) -> None:
        body = self.api.post(RECOMMEND, {"u": user, "e": EXPERIMENT})
        if body.get("errors"):
            self.failures.append(f"recommendations for {user}: {body['errors']}")
            return
        rec = body["data"]["recommendations"]
        assert rec["items"], rec
        exposed = rec["experimentId"] == EXPERIMENT
        if phase == self.phase:
            self.served_in[phase] += 1
        event = {"userId": user, "experimentId": EXPERIMENT, "type": "SATISFACTION"}
        reply = {}
        if exposed:
            reply = self.api.post(
                EVENTS, {"events": [{**event, "value": float(user % 5)}]}, self.key
            )
        with self.lock:
            self.variant[user] = rec["variant"] if exposed else None
            if not exposed:
                return
            if reply.get("errors"):
                codes = {(e.get("extensions") or {}).get("code") for e in reply["errors"]}
                assert codes == {"UNAVAILABLE"}, reply["errors"]
                self.event[user] = "refused"
            else:
                assert reply["data"]["recordEvents"]["accepted"] == 1, reply
                self.event[user] = "accepted"

    def wait_for(self, served: int, timeout: float) -> None:
        target = len(self.variant) + served
        wait_until(lambda: len(self.variant) >= target or bool(self.failures), timeout, 0.05)


def kill_redis(drill: Drill) -> None:
    from gbrec_core.store import server_pid

    pid = server_pid(drill.settings)
    assert pid is not None, "embedded redis-server is not running"
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: server_pid(drill.settings) is None, 10)
