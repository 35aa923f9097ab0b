"""Recall/NDCG-versus-k plot for a metrics curve (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def plot_recall_curve(curve: pd.DataFrame, path: str | Path) -> Path:
    """Save recall@k and ndcg@k from :func:`evaluate_curve` as an image at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    try:
        for metric in ("recall", "ndcg", "precision"):
            if metric in curve:
                ax.plot(curve.index.to_numpy(), curve[metric].to_numpy(), marker="o", label=metric)
        ax.set_xlabel("k")
        ax.set_ylabel("metric @ k")
        ax.set_xscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path
