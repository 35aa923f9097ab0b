"""Evaluation plots as PNG files (matplotlib, headless).

- :func:`plot_recall_curve`: recall/NDCG/precision@k of one family;
- :func:`plot_segments`: a metric per user segment, one bar per family;
- :func:`plot_deltas`: each family's mean per-user difference from the best family,
  with its 95% bootstrap interval (a bar crossing 0 is no evidence of a difference).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@contextmanager
def _figure(path: Path, size: tuple[float, float]) -> Iterator[Any]:
    """A figure saved to ``path`` (folders created) and closed, even on error."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=size)
    try:
        yield ax
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)


def plot_recall_curve(curve: pd.DataFrame, path: str | Path) -> Path:
    """Save recall@k and ndcg@k from :func:`evaluate_curve` as an image at ``path``."""
    path = Path(path)
    with _figure(path, (6, 4)) as ax:
        for metric in ("recall", "ndcg", "precision"):
            if metric in curve:
                ax.plot(curve.index.to_numpy(), curve[metric].to_numpy(), marker="o", label=metric)
        ax.set_xlabel("k")
        ax.set_ylabel("metric @ k")
        ax.set_xscale("log")
        ax.legend()
    return path


def plot_segments(segments: pd.DataFrame, metric: str, k: int, path: str | Path) -> Path:
    """Grouped bars of ``metric`` per segment (x) and family (bars), from the report's
    ``segments`` frame (columns segment, model, users and the metrics)."""
    path = Path(path)
    order = list(dict.fromkeys(segments["segment"]))
    families = list(dict.fromkeys(segments["model"]))
    wide = segments.pivot(index="segment", columns="model", values=metric).loc[order, families]
    users = segments.drop_duplicates("segment").set_index("segment").loc[order, "users"]
    x = np.arange(len(order))
    width = 0.8 / max(len(families), 1)
    with _figure(path, (8, 4.5)) as ax:
        for i, family in enumerate(families):
            ax.bar(x + (i - (len(families) - 1) / 2) * width, wide[family], width, label=family)
        ax.set_xticks(x, [f"{s}\nn={n}" for s, n in zip(order, users, strict=True)], fontsize=7)
        ax.set_ylabel(f"{metric}@{k}")
        ax.set_title(f"{metric}@{k} by user segment")
        ax.legend(fontsize=7)
    return path


def plot_deltas(table: pd.DataFrame, metric: str, k: int, path: str | Path) -> Path:
    """Each non-best family's mean per-user ``metric`` difference from the best (row 0
    of the report's table) with its bootstrap interval."""
    path = Path(path)
    others = table.iloc[1:]
    y = np.arange(len(others))
    errors = np.vstack(
        [others["delta"] - others["ci_low"], others["ci_high"] - others["delta"]]
    ).clip(min=0)
    with _figure(path, (6, 1.2 + 0.5 * max(len(others), 1))) as ax:
        ax.errorbar(others["delta"], y, xerr=errors, fmt="o", capsize=4)
        ax.axvline(0.0, color="grey", linewidth=1)
        ax.set_yticks(y, [str(m) for m in others["model"]])
        ax.set_xlabel(f"mean per-user {metric}@{k} minus {table.iloc[0]['model']}'s (95% CI)")
    return path
