"""Is the champion degrading online? Its recent window against a reference window.

Windows are whole hours ending with the hour that contains ``now - settle`` (the
settle time leaves the last responses time to collect their clicks):

    reference = [end - window - reference, end - window)    recent = [end - window, end)

The reference is the champion's own earlier traffic. A champion promoted too recently
to have ``min_requests`` there is compared with whoever served that window instead:
the previous champion (the registry's rollback stack), else the ``baseline`` alias.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from gbrec_core.monitoring.counts import online_window
from gbrec_core.monitoring.decision import Decision, degradation
from gbrec_core.monitoring.keys import BUCKET_SECONDS, bucket_of
from gbrec_core.settings import Settings

OWN_HISTORY = "own history"


class ChampionHistory(Protocol):
    """The two registry reads the fallback reference needs (a ``ModelRegistry``)."""

    def previous_champion(self) -> str | None: ...

    def alias_version(self, alias: str) -> str | None: ...


@dataclass(frozen=True)
class Windows:
    recent: tuple[float, float]
    reference: tuple[float, float]


@dataclass(frozen=True)
class Assessment:
    """The decision for ``version`` and where its reference came from."""

    version: str
    reference_version: str
    reference_source: str
    windows: Windows
    decision: Decision

    @property
    def period(self) -> int:
        """Which recent window this is (changes once per window length): a run key part
        that lets a lasting degradation request one retrain per window, not one per tick."""
        width = self.windows.recent[1] - self.windows.recent[0]
        return int(self.windows.recent[1] // width)


def windows(settings: Settings, now: float) -> Windows:
    end = float((bucket_of(now - settings.online_settle_minutes * 60) + 1) * BUCKET_SECONDS)
    start = end - settings.online_window_hours * BUCKET_SECONDS
    return Windows((start, end), (start - settings.online_reference_hours * BUCKET_SECONDS, start))


def reference_alternatives(registry: ChampionHistory, champion: str) -> Iterator[tuple[str, str]]:
    """(source, version) to try when the champion's own history is too thin; lazy, so
    the registry is only read when needed."""
    from gbrec_core.registry.types import BASELINE

    previous = registry.previous_champion()
    if previous is not None and previous != champion:
        yield "previous champion", previous
    baseline = registry.alias_version(BASELINE)
    if baseline is not None and baseline not in (champion, previous):
        yield BASELINE, baseline


def assess(
    redis: Any,
    settings: Settings,
    version: str,
    alternatives: Iterable[tuple[str, str]],
    now: float,
) -> Assessment:
    """Compare ``version``'s recent window with its reference (see the module docstring)."""
    span = windows(settings, now)
    model = settings.model_name
    recent = online_window(redis, model, version, *span.recent)
    reference = online_window(redis, model, version, *span.reference)
    source, reference_version = OWN_HISTORY, version
    if reference.requests < settings.online_min_requests:
        for label, other in alternatives:
            counts = online_window(redis, model, other, *span.reference)
            if counts.requests >= settings.online_min_requests:
                source, reference_version, reference = label, other, counts
                break
    decision = degradation(
        recent,
        reference,
        threshold=settings.degradation_threshold,
        alpha=settings.online_alpha,
        min_requests=settings.online_min_requests,
        metric=settings.online_metric,
    )
    return Assessment(version, reference_version, source, span, decision)
