"""The evaluation report as markdown tables (Dagster metadata) and one HTML page (MLflow).

Both show the same four tables: ranking metrics, beyond-accuracy metrics (with the
holdout's own values as the reference row), segments, and the paired comparisons
with the best family.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from gbrec_core.evaluation.beyond import BEYOND_METRICS
from gbrec_core.evaluation.report import EvaluationReport
from gbrec_core.evaluation.significance import COMPARISON_COLUMNS
from gbrec_core.models.metrics import METRICS

HOLDOUT_ROW = "holdout (what users read next)"


def report_tables(report: EvaluationReport) -> dict[str, pd.DataFrame]:
    """``metrics``, ``beyond_accuracy``, ``segments`` and ``significance`` frames."""
    table = report.table
    accuracy = [c for c in (*METRICS, "coverage") if c in table]
    beyond = pd.concat(
        [
            table[["model", *BEYOND_METRICS, "coverage"]],
            pd.DataFrame([{"model": HOLDOUT_ROW, **report.holdout}]),
        ],
        ignore_index=True,
    )
    metric = report.paired_metric
    significance = table[["model", metric, *COMPARISON_COLUMNS]]
    return {
        "metrics": table[["model", *accuracy]],
        "beyond_accuracy": beyond,
        "segments": report.segments,
        "significance": significance,
    }


def markdown_tables(report: EvaluationReport) -> dict[str, str]:
    """:func:`report_tables` as markdown (NaN shown as an empty cell)."""
    return {name: _markdown(frame) for name, frame in report_tables(report).items()}


def _markdown(frame: pd.DataFrame) -> str:
    # tabulate leaves float NaN as "nan"; None becomes its missing value.
    cells = frame.astype(object)
    cells[frame.isna()] = None
    return cells.to_markdown(index=False, floatfmt=".4g", missingval="")


TITLES = {
    "metrics": "Ranking metrics at k",
    "beyond_accuracy": "Beyond accuracy at k",
    "segments": "By user segment",
    "significance": "Paired comparison with the best family",
}


def html_report(report: EvaluationReport, images: Mapping[str, Path]) -> str:
    """A self-contained HTML page: the tables and the PNGs (inline) of ``images``."""
    parts = [
        "<html><head><meta charset='utf-8'><title>gbrec evaluation</title></head><body>",
        f"<h1>Evaluation at k={report.k} ({report.n_users} test users)</h1>",
        f"<p>{html.escape(report.selection)}</p>",
    ]
    for name, frame in report_tables(report).items():
        parts.append(f"<h2>{TITLES[name]}</h2>")
        parts.append(frame.to_html(index=False, float_format="{:.4g}".format, na_rep=""))
    for title, path in images.items():
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        parts.append(f"<h2>{html.escape(title)}</h2><img src='data:image/png;base64,{encoded}'>")
    parts.append("</body></html>")
    return "\n".join(parts)
