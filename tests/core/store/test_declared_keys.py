"""The cluster form of the key-building scripts (``KeyedScript.strict``), run here on one
server: a script fails on a key it was not given in KEYS (what Redis Cluster routes and
checks by), and attribution treats a served record it was not told about as unknown
(retried), never counting it against an undeclared key. The stores, told to declare
every key (as on a cluster), run their own writes in that form here too, so a key a
store forgets to list fails in every run of the suite, not only on a real cluster
(``test_redis_cluster.py`` and the production profile)."""

from __future__ import annotations

import time

import pytest
import redis

from gbrec_core.experiments import ExperimentService, lua
from gbrec_core.experiments.erasure import erase_user
from gbrec_core.experiments.service import layout_of
from gbrec_core.experiments.store import ExperimentStore, ExposureRow, exp_prefix
from gbrec_core.experiments.types import Event, EventType, ExperimentSpec, VariantSpec
from gbrec_core.monitoring import OnlineMonitor
from gbrec_core.monitoring import lua as online_lua
from gbrec_core.monitoring.keys import BUCKET_SECONDS, counts_key, model_prefix, served_key
from gbrec_core.monitoring.store import OnlineStore
from gbrec_core.settings import Settings
from gbrec_core.store import RedisClient

SPEC = ExperimentSpec(id="dk", variants=(VariantSpec("control", "1"), VariantSpec("t", "2")))


def test_a_script_fails_on_a_key_it_was_not_given(
    settings: Settings, redis_client: RedisClient
) -> None:
    service = ExperimentService(settings, redis_client)
    service.create(SPEC)
    service.record_exposure(SPEC.id, "t", 5, "req", [1, 2])
    prefix = exp_prefix(SPEC.id)
    script = redis_client.register_script(lua.DELETE_USER.strict)
    args = [prefix, layout_of(service.get(SPEC.id)).kinds_arg, 60, service.pseudonym(5)]
    with pytest.raises(redis.ResponseError, match=f"undeclared key {prefix}agg:1"):
        script(keys=[prefix + "users", prefix + "log"], args=args)
    assert service.results(SPEC.id).variants[1].users == 1  # the failed call changed nothing


def test_a_record_written_after_the_read_is_unknown_not_counted(
    settings: Settings, redis_client: RedisClient
) -> None:
    store = OnlineMonitor.from_settings(settings, redis_client).store
    now = time.time()
    assert store.write_served([("r1", "3", [1, 2], now)]) == (1, 0, 0)
    model = settings.model_name
    attribute = redis_client.register_script(online_lua.ATTRIBUTE.strict)
    # What the store sends when its read of the records saw no r1 yet: no counts key.
    args = [model_prefix(model), BUCKET_SECONDS, 86_400, "r1|2"]
    found = attribute(keys=[served_key(model, "r1")], args=args)
    assert found[:3] == [0, 0, 0] and found[3] == ["r1|2"]  # unknown: the caller retries
    hour = counts_key(model, "3", int(now // BUCKET_SECONDS))
    assert redis_client.hget(hour, "hits") is None
    outcome, missing = store.attribute([("r1", 2)])
    assert (outcome.attributed, missing) == (1, [])
    assert redis_client.hget(hour, "hits") == "1"


def test_the_stores_declare_every_key_they_touch(
    settings: Settings, redis_client: RedisClient
) -> None:
    """Exposures, events, erasure, served records and attribution in the strict form:
    any key missing from a store's KEYS raises ``undeclared key``."""
    service = ExperimentService(settings, redis_client)
    service.store = ExperimentStore(
        redis_client,
        retention_days=settings.event_retention_days,
        books_ttl_days=settings.event_retention_days,
        declare_keys=True,
    )
    assert service.store.declares  # on one server too
    service.create(SPEC)
    service.record_exposures(SPEC.id, [ExposureRow(u, u % 2, 0.0, [1, 2]) for u in range(1, 9)])
    service.record_events([Event(u, EventType.CLICK, SPEC.id, book_id=1) for u in range(1, 9)])
    assert sum(v.users for v in service.results(SPEC.id).variants) == 8
    assert erase_user(service, 3).experiments
    online = OnlineStore(
        redis_client, "declared", ttl_seconds=600, retention_seconds=86_400, declare_keys=True
    )
    now = time.time()
    assert online.write_served([("q1", "4", [7, 8], now)]) == (1, 0, 0)
    outcome, missing = online.attribute([("q1", 8)])
    assert (outcome.attributed, missing) == (1, [])
