"""Drift rules: compare a ratings snapshot with the previous one."""

from __future__ import annotations

from gbrec_core.data import report as r
from gbrec_core.data.report import ValidationConfig, ValidationReport, Violation
from gbrec_core.data.snapshot import DataSnapshot


def histogram_distance(a: list[float], b: list[float]) -> float:
    """Total-variation distance between two rating histograms (0 = same, 1 = disjoint)."""
    return 0.5 * sum(abs(x - y) for x, y in zip(a, b, strict=True))


def _relative_change(now: int, before: int) -> float:
    return abs(now - before) / max(before, 1)


def check_drift(
    now: DataSnapshot, before: DataSnapshot, config: ValidationConfig, out: ValidationReport
) -> None:
    """Add one violation per drift rule whose threshold is exceeded."""
    example = [{"previous_sha256": before.sha256, "previous_created_at": before.created_at}]
    checks = (
        (
            r.DRIFT_RATING_MEAN,
            abs(now.rating_mean - before.rating_mean),
            config.max_rating_mean_shift,
            f"rating mean moved {before.rating_mean:.4f} -> {now.rating_mean:.4f}",
        ),
        (
            r.DRIFT_RATING_HISTOGRAM,
            histogram_distance(now.rating_histogram, before.rating_histogram),
            config.max_histogram_distance,
            "rating histogram total-variation distance",
        ),
        (
            r.DRIFT_USER_COUNT,
            _relative_change(now.users, before.users),
            config.max_user_count_change,
            f"users {before.users} -> {now.users}",
        ),
        (
            r.DRIFT_BOOK_COUNT,
            _relative_change(now.books, before.books),
            config.max_book_count_change,
            f"books {before.books} -> {now.books}",
        ),
    )
    for rule, value, threshold, what in checks:
        out.check(rule)
        if value > threshold:
            msg = f"{what}: {value:.4f} exceeds threshold {threshold}"
            out.add(
                Violation(rule, 1, msg, [{"value": round(value, 6), **example[0]}], "ratings.csv")
            )
