"""Per-user metric layout and the translation of events into accumulator updates.

Each exposed user holds two accumulators (a, b) per metric; the Lua scripts turn every
change of a user's (a, b) into deltas of the variant's running sums, so results never
rescan raw events. Built-ins, always tracked:

- ``ctr``: ratio, a = clicks, b = impressions.
- ``precision``: ratio, a = distinct shown books the user clicked or rated positively,
  b = distinct books shown to the user.
- ``recall``: ratio, a = distinct books rated positively that had been shown,
  b = distinct books rated positively after the first exposure.
- ``satisfaction``: mean of the user's SATISFACTION values (users with one or more).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from gbrec_core.errors import InvalidInputError
from gbrec_core.experiments.types import Event, EventType, MetricSpec


class Kind(enum.IntEnum):
    RATIO = 1  # sum a / sum b over all exposed users (delta method)
    MEAN = 2  # mean over participating users of a / b
    TOTAL = 3  # a, every exposed user (zeros included)
    BINARY = 4  # 1 if a > 0, every exposed user


class Cond(enum.IntEnum):
    """How the Lua script gates an update on the book's per-user flags."""

    ALWAYS = 0
    PRECISION_HIT = 1  # book shown and not yet counted as a hit
    RECALL = 2  # first positive rating of this book; a += 1 only if it had been shown


@dataclass(frozen=True)
class MetricDef:
    name: str
    kind: Kind
    higher_is_better: bool = True


BUILTIN: tuple[MetricDef, ...] = (
    MetricDef("ctr", Kind.RATIO),
    MetricDef("precision", Kind.RATIO),
    MetricDef("recall", Kind.RATIO),
    MetricDef("satisfaction", Kind.MEAN),
)
PRECISION_INDEX = 1
_AGG_KIND = {"count": Kind.TOTAL, "sum": Kind.TOTAL, "mean": Kind.MEAN, "binary": Kind.BINARY}

Op = tuple[int, float, float, int]  # metric index, da, db, Cond


@dataclass(frozen=True)
class MetricLayout:
    """The ordered metric list of one experiment (built-ins first, then custom)."""

    defs: tuple[MetricDef, ...]
    custom: tuple[MetricSpec, ...]
    positive_rating: float
    # (type, has book, value) -> wire text: ingestion asks for a handful of distinct
    # op lists millions of times.
    _texts: dict[tuple[EventType, bool, float | None], str] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def build(cls, custom: tuple[MetricSpec, ...], positive_rating: float) -> MetricLayout:
        names = {d.name for d in BUILTIN}
        for m in custom:
            if m.name in names:
                raise InvalidInputError(f"duplicate metric name {m.name!r}")
            names.add(m.name)
        defs = BUILTIN + tuple(
            MetricDef(m.name, _AGG_KIND[m.aggregation], m.higher_is_better) for m in custom
        )
        return cls(defs=defs, custom=custom, positive_rating=positive_rating)

    @property
    def kinds_arg(self) -> str:
        return ",".join(str(int(d.kind)) for d in self.defs)

    def index(self, name: str) -> int:
        for i, d in enumerate(self.defs):
            if d.name == name:
                return i
        raise InvalidInputError(f"unknown metric {name!r}; known: {[d.name for d in self.defs]}")

    def ops_text(self, t: EventType, book: int | None, value: float | None) -> str:
        """:meth:`ops_for` in the scripts' wire form ``k,da,db,cond|...`` (memoised)."""
        key = (t, book is not None, value)
        text = self._texts.get(key)
        if text is None:
            text = "|".join(f"{k},{da!r},{db!r},{int(c)}" for k, da, db, c in self.ops_for(*key))
            if len(self._texts) < 4096:
                self._texts[key] = text
        return text

    def ops(self, event: Event) -> list[Op]:
        """Accumulator updates for one (validated) event."""
        return self.ops_for(event.type, event.book_id is not None, event.value)

    def ops_for(self, t: EventType, has_book: bool, value: float | None) -> list[Op]:
        """Accumulator updates for an event of type ``t`` (with a book or not)."""
        if t is EventType.IMPRESSION:
            ops: list[Op] = [(0, 0.0, 1.0, Cond.ALWAYS)]
        elif t is EventType.CLICK:
            ops = [(0, 1.0, 0.0, Cond.ALWAYS)]
            if has_book:
                ops.append((PRECISION_INDEX, 1.0, 0.0, Cond.PRECISION_HIT))
        elif t is EventType.SATISFACTION:
            ops = [(3, float(value or 0.0), 1.0, Cond.ALWAYS)]
        elif has_book and value is not None and value >= self.positive_rating:
            ops = [(PRECISION_INDEX, 1.0, 0.0, Cond.PRECISION_HIT), (2, 0.0, 1.0, Cond.RECALL)]
        else:
            ops = []
        if self.custom:
            ops += [
                _custom_op(i, m, value)
                for i, m in enumerate(self.custom, start=len(BUILTIN))
                if m.event_type is t
            ]
        return ops


def _custom_op(index: int, metric: MetricSpec, value: float | None) -> Op:
    v = 0.0 if value is None else float(value)
    if metric.aggregation == "sum":
        return (index, v, 0.0, Cond.ALWAYS)
    if metric.aggregation == "mean":
        return (index, v, 1.0, Cond.ALWAYS)
    return (index, 1.0, 0.0, Cond.ALWAYS)
