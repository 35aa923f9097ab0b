"""``model_evaluation``: every trained family scored on the same temporal holdout.

:func:`gbrec_core.evaluation.evaluate_models` ranks each family once and reports the
ranking metrics, catalogue coverage, novelty, intra-list diversity over tags,
popularity bias, results per user segment and paired tests against the best family.
The asset value is the per-family table (best first); the metadata shows it as
markdown tables (``metrics``, ``beyond_accuracy``, ``segments``, ``significance``)
and three plots the Dagster UI renders inline (PNG data URIs): the best family's
metric@k curve, NDCG@k per segment and the paired differences from the best family.

Through the ``mlflow`` resource (:class:`~gbrec_assets.resources.MlflowTrackingResource`)
the same tables (one HTML page and one markdown file under ``report/``), the plots
(``plots/``) and every number as a metric go to a finished MLflow run tagged with the
Dagster run id (experiment ``<GBREC_MLFLOW_EXPERIMENT>-dagster``).

Then every family is logged, MLflow 3 style, to experiment ``GBREC_MLFLOW_EXPERIMENT``:
one run per family (named after it, its row of the table as metrics, its recall plot,
the data fingerprint, tags ``dagster_run_id`` and ``gbrec.evaluation_run`` = the report
run) whose LoggedModel holds the signed bundle as a pyfunc with a signature and an
input example (:meth:`gbrec_core.registry.ModelRegistry.log_model_run`). The table
carries each family's ``run_id`` and ``model_id``: ``registered_model`` and
``baseline_model`` register those logged models instead of logging them again.
"""

import base64
import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import pandas as pd

from gbrec_assets.assets.data import data_fingerprint
from gbrec_assets.assets.training import model_asset_name
from gbrec_assets.automation import downstream_condition
from gbrec_assets.resources import (
    DAGSTER_RUN_TAG,
    GbrecSettingsResource,
    MlflowTrackingResource,
    RegistryResource,
)
from gbrec_assets.retries import NETWORK_RETRY
from gbrec_core.registry.tracking import EVALUATION_RUN_TAG

if TYPE_CHECKING:
    from gbrec_core.evaluation import EvaluationReport
    from gbrec_core.registry import ModelRegistry

PLOT_COLUMN = "plot"
RUN_COLUMN = "run_id"
MODEL_ID_COLUMN = "model_id"
#: Table columns that are not metrics of a family.
NON_METRIC_COLUMNS = ("model", PLOT_COLUMN, "users", RUN_COLUMN, MODEL_ID_COLUMN)
#: Largest plot embedded in the asset's metadata (the event log stores it base64-encoded).
MAX_EMBEDDED_PLOT_BYTES = 200_000
log = logging.getLogger(__name__)


def build_evaluation_asset(families: list[str]) -> dg.AssetsDefinition:
    ins = {model_asset_name(f): dg.AssetIn() for f in families}

    @dg.asset(
        name="model_evaluation",
        group_name="evaluation",
        ins={"rating_splits": dg.AssetIn(), "book_catalogue": dg.AssetIn(), **ins},
        retry_policy=NETWORK_RETRY,
        automation_condition=downstream_condition(),
        description="Every model family on the temporal holdout: ranking and "
        "beyond-accuracy metrics, user segments, paired tests against the best; "
        "one MLflow run and LoggedModel per family.",
    )
    def _evaluation(
        context: dg.AssetExecutionContext,
        gbrec: GbrecSettingsResource,
        mlflow: MlflowTrackingResource,
        registry: RegistryResource,
        rating_splits: Any,
        book_catalogue: pd.DataFrame,
        **models: Any,
    ) -> dg.Output[pd.DataFrame]:
        from gbrec_core.evaluation import DEFAULT_KS, evaluate_models

        settings = gbrec.settings()
        families = {name.removesuffix("_model"): model for name, model in models.items()}
        report = evaluate_models(
            families,
            rating_splits.train,
            rating_splits.test,
            books=book_catalogue,
            ks=DEFAULT_KS,
            k=settings.eval_k,
            primary=settings.primary_metric,
        )
        files = write_report_files(
            report, settings.resolved_home / "dagster" / "plots" / context.run.run_id
        )
        table = report.table.assign(**{PLOT_COLUMN: report.table["model"].map(files.curves)})
        mlflow_run = mlflow.log_run(
            context.run.run_id,
            metrics=mlflow_metrics(table, report.holdout, settings.eval_k),
            artifacts=files.artifacts(),
            run_name="model_evaluation",
        )
        context.log.info(report.selection)
        logged = log_families(
            registry.registry(),
            families,
            table,
            fingerprint=data_fingerprint(context),
            tags={DAGSTER_RUN_TAG: context.run.run_id, EVALUATION_RUN_TAG: mlflow_run},
            params={"eval_k": settings.eval_k, "primary_metric": settings.primary_metric},
        )
        table = table.assign(**logged)
        metadata = evaluation_metadata(report, files, mlflow_run)
        metadata["logged_models"] = dg.MetadataValue.json(
            dict(zip(table["model"], table[MODEL_ID_COLUMN], strict=True))
        )
        return dg.Output(table, metadata=metadata)

    return _evaluation


def log_families(
    registry: "ModelRegistry",
    families: dict[str, Any],
    table: pd.DataFrame,
    *,
    fingerprint: dict[str, Any],
    tags: dict[str, str],
    params: dict[str, Any],
) -> dict[str, list[str]]:
    """One run + LoggedModel per family (row order of ``table``); their run and model ids."""
    ids: dict[str, list[str]] = {RUN_COLUMN: [], MODEL_ID_COLUMN: []}
    for _, row in table.iterrows():
        family = str(row["model"])
        logged = registry.log_model_run(
            families[family],
            family_metrics(row),
            {"family": family, **params},
            fingerprint,
            lineage_tag=f"dagster:{tags[DAGSTER_RUN_TAG]}",
            plots=[str(row[PLOT_COLUMN])],
            tags=tags,
            run_name=family,
        )
        ids[RUN_COLUMN].append(logged.run_id)
        ids[MODEL_ID_COLUMN].append(logged.model_id)
    return ids


def family_metrics(row: pd.Series) -> dict[str, float]:
    """A family's row of the table as run metrics (``ndcg``, ``novelty``, ``p_value``...;
    the tracking layer leaves out the non-finite ones)."""
    return {
        str(name): float(value) for name, value in row.items() if name not in NON_METRIC_COLUMNS
    }


@dataclasses.dataclass(frozen=True)
class ReportFiles:
    """The plots and rendered tables of one evaluation."""

    curves: dict[str, str]
    segments: Path
    deltas: Path | None
    tables: dict[str, str]
    pages: tuple[Path, ...] = ()

    def images(self) -> dict[str, Path]:
        shown = {"NDCG by user segment": self.segments}
        if self.deltas is not None:
            shown["Paired differences from the best family"] = self.deltas
        return shown

    def artifacts(self) -> dict[str, list[str]]:
        plots = [*self.curves.values(), *map(str, self.images().values())]
        return {"plots": plots, "report": [str(p) for p in self.pages]}


def write_report_files(report: "EvaluationReport", folder: Path) -> ReportFiles:
    """Plots (recall curves, segments, paired differences) and the HTML/markdown report."""
    from gbrec_core.evaluation import plot_deltas, plot_recall_curve, plot_segments
    from gbrec_core.evaluation.render import html_report, markdown_tables

    curves = {
        family: str(plot_recall_curve(curve, folder / f"{family}.png"))
        for family, curve in report.curves.items()
    }
    segments = plot_segments(report.segments, "ndcg", report.k, folder / "segments.png")
    deltas = (
        plot_deltas(report.table, report.paired_metric, report.k, folder / "deltas.png")
        if len(report.table) > 1
        else None
    )
    files = ReportFiles(curves, segments, deltas, markdown_tables(report))
    html = folder / "evaluation.html"
    html.write_text(html_report(report, files.images()))
    markdown = folder / "evaluation.md"
    sections = (f"## {k}\n\n{v}" for k, v in files.tables.items())
    markdown.write_text(f"{report.selection}\n\n" + "\n\n".join(sections))
    return dataclasses.replace(files, pages=(html, markdown))


def evaluation_metadata(
    report: "EvaluationReport", files: ReportFiles, mlflow_run: str
) -> dict[str, Any]:
    """The asset's metadata: the tables as markdown, the plots inline, the headline."""
    best = report.best
    top = report.table.iloc[0]
    metadata: dict[str, Any] = {
        name: dg.MetadataValue.md(table) for name, table in files.tables.items()
    }
    metadata |= {
        "selection": dg.MetadataValue.text(report.selection),
        "best_model": best,
        "primary_metric": f"{report.primary}@{report.k}",
        "best_value": dg.MetadataValue.float(float(top[report.primary])),
        "recall_plot": plot_metadata(Path(files.curves[best]), f"{best}: metric@k"),
        "segment_plot": plot_metadata(files.segments, f"ndcg@{report.k} by user segment"),
        "test_users": dg.MetadataValue.int(report.n_users),
        "mlflow_run_id": mlflow_run,
    }
    if files.deltas is not None:
        metadata["difference_plot"] = plot_metadata(files.deltas, "differences from the best")
    if len(report.table) > 1:
        metadata["runner_up_p_value"] = dg.MetadataValue.float(
            float(report.table.iloc[1]["p_value"])
        )
    return metadata


def plot_metadata(path: Path, title: str) -> dg.MetadataValue:
    """The plot as markdown with the PNG inline (a data URI), which the Dagster UI renders
    on the asset page; a path (logged) when the file is too big to store in the event log."""
    data = path.read_bytes()
    if len(data) > MAX_EMBEDDED_PLOT_BYTES:
        log.warning("plot %s is %d bytes; linked, not embedded", path, len(data))
        return dg.MetadataValue.path(str(path))
    encoded = base64.b64encode(data).decode("ascii")
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")


def mlflow_metrics(table: pd.DataFrame, holdout: dict[str, float], k: int) -> dict[str, float]:
    """``<family>.<metric>_at_<k>`` for every metric of the table (ranking,
    beyond-accuracy, paired test) and ``holdout.<metric>_at_<k>`` for the reference
    (the tracking layer leaves out the non-finite ones)."""
    metrics = {
        f"{row['model']}.{name}_at_{k}": value
        for _, row in table.iterrows()
        for name, value in family_metrics(row).items()
    }
    metrics |= {f"holdout.{name}_at_{k}": value for name, value in holdout.items()}
    if "users" in table:
        metrics["test_users"] = float(table["users"].iloc[0])
    return metrics
