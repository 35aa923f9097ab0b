"""``model_evaluation``: every trained family scored on the same temporal holdout.

The metrics table (one row per family at ``GBREC_EVAL_K``) is the asset value and is
shown as markdown metadata; recall/NDCG@k curves are plotted per family. Through the
``mlflow`` resource (:class:`~gbrec_assets.resources.MlflowTrackingResource`) the table
and plots are also logged to a finished MLflow run tagged with the Dagster run id
(experiment ``<GBREC_MLFLOW_EXPERIMENT>-dagster``), which ties the training runs the
registry logs afterwards to this Dagster run.
"""

from typing import Any

import dagster as dg
import pandas as pd

from gbrec_assets.assets.training import model_asset_name
from gbrec_assets.automation import downstream_condition
from gbrec_assets.resources import GbrecSettingsResource, MlflowTrackingResource

PLOT_COLUMN = "plot"


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
                "recall_plot": dg.MetadataValue.path(plots[best]),
                "test_users": dg.MetadataValue.int(int(rating_splits.test["user_id"].nunique())),
                "mlflow_run_id": mlflow_run,
            },
        )

    return _evaluation


def mlflow_metrics(table: pd.DataFrame, k: int) -> dict[str, float]:
    """``<family>.<metric>_at_<k>`` for every metric column of the table."""
    return {
        f"{row['model']}.{name}_at_{k}": float(row[name])
        for _, row in table.iterrows()
        for name in table.columns
        if name not in ("model", PLOT_COLUMN)
    }
