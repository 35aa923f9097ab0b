"""``book_catalogue`` and one trained-model asset per model family.

Each model asset fits one :mod:`gbrec_core.models` family on the training split.
They carry the freshness policy and the retrain condition (weekly tick, stale
model, new upstream data) and a ``code_version`` that is bumped when the family's
training code or defaults change, so Dagster marks old models as outdated.
"""

import time
from typing import Any

import dagster as dg
import pandas as pd

from gbrec_assets.assets.raw import SourceFile
from gbrec_assets.automation import downstream_condition, model_freshness_policy, retrain_condition
from gbrec_assets.resources import GbrecSettingsResource
from gbrec_core.settings import Settings

# Bump a family's entry whenever its training code or defaults change.
CODE_VERSIONS: dict[str, str] = {
    "popularity": "popularity-1",
    "als": "als-1",
    "ease": "ease-1",
    "content": "content-1",
    "hybrid": "hybrid-3",
}
MODEL_FAMILIES: tuple[str, ...] = tuple(CODE_VERSIONS)


def model_asset_name(family: str) -> str:
    return f"{family}_model"


def family_config(family: str, settings: Settings) -> dict[str, Any]:
    """Settings-driven knobs per family; every other knob keeps its Config default."""
    if family == "als":
        return {"factors": settings.als_factors, "iterations": settings.als_iterations}
    return {}


@dg.asset(
    group_name="data",
    automation_condition=downstream_condition(),
    description="books.csv with each book's top tags ({tag_name: count}) for content models.",
)
def book_catalogue(
    raw_books: SourceFile, raw_tags: SourceFile, raw_book_tags: SourceFile
) -> dg.Output[pd.DataFrame]:
    from gbrec_core.data import load_book_tags, load_books, load_tags
    from gbrec_core.models import books_with_tags

    books = load_books(raw_books.path)
    catalogue = books_with_tags(books, load_book_tags(raw_book_tags.path), load_tags(raw_tags.path))
    tagged = int((catalogue["tags"].map(len) > 0).sum())
    return dg.Output(
        catalogue,
        metadata={
            "dagster/row_count": dg.MetadataValue.int(len(catalogue)),
            "books_with_tags": dg.MetadataValue.int(tagged),
        },
    )


def build_model_asset(family: str, settings: Settings) -> dg.AssetsDefinition:
    """The trained-model asset of one family."""

    @dg.asset(
        name=model_asset_name(family),
        group_name="models",
        code_version=CODE_VERSIONS[family],
        freshness_policy=model_freshness_policy(settings),
        automation_condition=retrain_condition(settings),
        tags={"gbrec/model_family": family},
        description=f"The {family} recommender fitted on the training split.",
    )
    def _model(
        context: dg.AssetExecutionContext,
        gbrec: GbrecSettingsResource,
        rating_splits: Any,
        book_catalogue: pd.DataFrame,
    ) -> dg.Output[Any]:
        from gbrec_core.models import make_recommender

        config = family_config(family, gbrec.settings())
        started = time.perf_counter()
        model = make_recommender(family, **config).fit(rating_splits.train, book_catalogue)
        seconds = time.perf_counter() - started
        context.log.info(f"fitted {family} in {seconds:.1f} s")
        return dg.Output(
            model,
            metadata={
                "family": family,
                "config": dg.MetadataValue.json(model.config_dict()),
                "train_rows": dg.MetadataValue.int(len(rating_splits.train)),
                "users": dg.MetadataValue.int(len(model.users or ())),
                "items": dg.MetadataValue.int(len(model.items or ())),
                "fit_seconds": dg.MetadataValue.float(round(seconds, 3)),
            },
        )

    return _model


def build_model_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    from gbrec_core.models import available_models

    known = set(available_models())
    return [build_model_asset(f, settings) for f in MODEL_FAMILIES if f in known]
