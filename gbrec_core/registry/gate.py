"""The promotion gate: may a candidate replace the champion?

The tolerance is *relative* to the champion's value: with tolerance 0.01 a candidate
whose primary metric is at least 99% of the champion's passes. Relative because the
ranking metrics differ by orders of magnitude between data sets (ndcg@10 of 0.02 on
sparse data, 0.4 on dense), so one absolute number cannot fit both. Every gbrec
ranking metric is higher-is-better.
"""

from __future__ import annotations

import math


def gate(
    *,
    metric: str,
    tolerance: float,
    candidate: float | None,
    champion: float | None,
    champion_version: str | None,
) -> tuple[bool, str]:
    """(accepted, reason) for a candidate with ``candidate`` against ``champion``."""
    if champion_version is None:
        return True, "no champion yet: the first model is promoted automatically"
    if candidate is None or not math.isfinite(candidate):
        return False, f"candidate has no finite '{metric}' metric to compare"
    if champion is None or not math.isfinite(champion):
        return True, f"champion v{champion_version} has no '{metric}' metric; candidate accepted"
    floor = champion - tolerance * abs(champion)
    if candidate >= floor:
        return True, (
            f"{metric} {candidate:.6g} >= {floor:.6g} "
            f"(champion v{champion_version} {champion:.6g}, relative tolerance {tolerance:g})"
        )
    return False, (
        f"{metric} {candidate:.6g} < {floor:.6g}: worse than champion v{champion_version} "
        f"({champion:.6g}) by more than the relative tolerance {tolerance:g}"
    )
