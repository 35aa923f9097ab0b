"""``model_evaluation``: every trained family scored on the same temporal holdout.

The metrics table (one row per family at ``GBREC_EVAL_K``) is the asset value and is
shown as markdown metadata; recall/NDCG@k curves are plotted per family. Through the
``mlflow`` resource (:class:`~gbrec_assets.resources.MlflowTrackingResource`) the table
and plots are also logged to a finished MLflow run tagged with the Dagster run id
(experiment ``<GBREC_MLFLOW_EXPERIMENT>-dagster``), which ties the training runs the
registry logs afterwards to this Dagster run.
"""

import base64
import logging
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from gbrec_assets.assets.training import model_asset_name
from gbrec_assets.automation import downstream_condition
from gbrec_assets.resources import GbrecSettingsResource, MlflowTrackingResource
from gbrec_assets.retries import NETWORK_RETRY

PLOT_COLUMN = "plot"
#: Largest plot embedded in the asset's metadata (the event log stores it base64-encoded).
MAX_EMBEDDED_PLOT_BYTES = 200_000
log = logging.getLogger(__name__)


def metrics_table(curves: dict[str, pd.DataFrame], k: int, primary: str) -> pd.DataFrame:
    """One row per family at ``k``, best by the primary metric first."""
    rows = [{"model": family, **curve.loc[k].to_dict()} for family, curve in curves.items()]
    return (
        pd.DataFrame(rows)
        .sort_values(primary, ascending=False, kind="stable")
        .reset_index(drop=True)
    )


def build_evaluation_asset(families: list[str]) -> dg.AssetsDefinition:
    ins = {model_asset_name(f): dg.AssetIn() for f in families}

    @dg.asset(
        name="model_evaluation",
        group_name="evaluation",
        ins={"rating_splits": dg.AssetIn(), **ins},
        retry_policy=NETWORK_RETRY,
        automation_condition=downstream_condition(),
        description="Ranking metrics of every model family on the temporal holdout.",
    )
    def _evaluation(
        context: dg.AssetExecutionContext,
        gbrec: GbrecSettingsResource,
        mlflow: MlflowTrackingResource,
        rating_splits: Any,
        **models: Any,
    ) -> dg.Output[pd.DataFrame]:
        from gbrec_core.evaluation import DEFAULT_KS, evaluate_curve, plot_recall_curve

        settings = gbrec.settings()
        ks = tuple(sorted({*DEFAULT_KS, settings.eval_k}))
        plot_dir = settings.resolved_home / "dagster" / "plots" / context.run.run_id
        curves: dict[str, pd.DataFrame] = {}
        plots: dict[str, str] = {}
        for name, model in models.items():
            family = name.removesuffix("_model")
            curves[family] = evaluate_curve(model, rating_splits.train, rating_splits.test, ks)
            plots[family] = str(plot_recall_curve(curves[family], plot_dir / f"{family}.png"))
        table = metrics_table(curves, settings.eval_k, settings.primary_metric)
        table[PLOT_COLUMN] = table["model"].map(plots)
        mlflow_run = mlflow.log_run(
            context.run.run_id,
            metrics=mlflow_metrics(table, settings.eval_k),
            artifacts=[str(p) for p in table[PLOT_COLUMN]],
            artifact_path="plots",
        )
        best = str(table.iloc[0]["model"])
        return dg.Output(
            table,
            metadata={
                "metrics": dg.MetadataValue.md(
                    table.drop(columns=[PLOT_COLUMN]).to_markdown(index=False, floatfmt=".4f")
                ),
                "best_model": best,
                "primary_metric": f"{settings.primary_metric}@{settings.eval_k}",
                "best_value": dg.MetadataValue.float(float(table.iloc[0][settings.primary_metric])),
                "recall_plot": plot_metadata(Path(plots[best]), f"{best}: metric@k"),
                "test_users": dg.MetadataValue.int(int(rating_splits.test["user_id"].nunique())),
                "mlflow_run_id": mlflow_run,
            },
        )

    return _evaluation


def plot_metadata(path: Path, title: str) -> dg.MetadataValue:
    """The plot as markdown with the PNG inline (a data URI), which the Dagster UI renders
    on the asset page; a path (logged) when the file is too big to store in the event log."""
    data = path.read_bytes()
    if len(data) > MAX_EMBEDDED_PLOT_BYTES:
        log.warning("plot %s is %d bytes; linked, not embedded", path, len(data))
        return dg.MetadataValue.path(str(path))
    encoded = base64.b64encode(data).decode("ascii")
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")


def mlflow_metrics(table: pd.DataFrame, k: int) -> dict[str, float]:
    """``<family>.<metric>_at_<k>`` for every metric column of the table."""
    return {
        f"{row['model']}.{name}_at_{k}": float(row[name])
        for _, row in table.iterrows()
        for name in table.columns
        if name not in ("model", PLOT_COLUMN)
    }
