"""New readers (seed books folded into each model family) and explanations
(``because``): on the tiny synthetic data set, which has planted genre structure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gbrec_core.data.generator import generate
from gbrec_core.errors import InvalidInputError
from gbrec_core.evaluation.cold_start import cold_start_ndcg, cold_start_split
from gbrec_core.models import make_recommender
from gbrec_core.models.base import Recommender
from gbrec_core.models.folding import one_row

FAMILIES = {
    "ease": {},
    "als": {"factors": 16, "iterations": 8, "num_threads": 1},
    "content": {},
    "popularity": {},
}
ATTRIBUTING = ("ease", "als", "content")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder: Path = generate("tiny", tmp_path_factory.mktemp("tiny"), seed=42)
    return pd.read_csv(folder / "ratings.csv"), pd.read_csv(folder / "books.csv")


@pytest.fixture(scope="module")
def models(data: tuple[pd.DataFrame, pd.DataFrame]) -> dict[str, Recommender]:
    ratings, books = data
    return {name: make_recommender(name, **kw).fit(ratings, books) for name, kw in FAMILIES.items()}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_seed_lists_leave_the_seeds_out_and_are_full(
    models: dict[str, Recommender], family: str
) -> None:
    model = models[family]
    seeds = np.array([3, 17, 42])
    ids, scores = model.recommend_from_items(seeds, k=20, exclude=np.array([1, 2]))
    assert ids.shape == (20,) and (ids >= 0).all() and len(set(ids.tolist())) == 20
    assert not set(ids.tolist()) & {1, 2, 3, 17, 42}
    assert (np.diff(scores) <= 0).all()


@pytest.mark.parametrize("family", ["ease", "als", "content"])
def test_seed_lists_follow_the_seeds(models: dict[str, Recommender], family: str) -> None:
    """Two different seed sets give different lists; popularity's does not move."""
    model, popular = models[family], models["popularity"]
    first = model.recommend_from_items(np.array([3, 17, 42]), k=10)[0]
    second = model.recommend_from_items(np.array([250, 260, 270]), k=10)[0]
    assert set(first.tolist()) != set(second.tolist())
    pop_first = popular.recommend_from_items(np.array([3, 17, 42]), k=10)[0]
    assert set(first.tolist()) != set(pop_first.tolist())


def test_seed_books_the_model_lacks_are_refused(models: dict[str, Recommender]) -> None:
    with pytest.raises(InvalidInputError, match="none of the seed books"):
        models["ease"].recommend_from_items(np.array([10**7]), k=5)
    with pytest.raises(InvalidInputError, match="at most"):
        models["ease"].recommend_from_items(np.arange(1, 200), k=5)


def test_a_trained_users_history_scores_like_the_user(models: dict[str, Recommender]) -> None:
    """Folding a known user's own history in gives that user's scores (EASE, content:
    exactly; the fold-in is the same computation)."""
    for family in ("ease", "content"):
        model = models[family]
        assert model.users is not None and model.seen is not None
        user = int(model.users.ids[5])
        folded = model.score_history(model.seen[5])
        assert np.allclose(folded, model.score(np.array([user])), atol=1e-5), family


@pytest.mark.parametrize("family", ATTRIBUTING)
def test_because_names_history_books_that_raise_the_score(
    models: dict[str, Recommender], family: str
) -> None:
    model = models[family]
    assert model.users is not None and model.seen is not None and model.items is not None
    for row in (1, 7, 30):
        user = int(model.users.ids[row])
        top = model.recommend(np.array([user]), k=3)[0][0]
        reasons = model.explain(top, user_id=user)
        history = model.seen[row]
        read = set(model.items.ids[history.indices].tolist())
        for book, named in zip(top.tolist(), reasons, strict=True):
            assert named and set(named) <= read, (family, book, named)
            column = int(model.items.index_of(np.array([book]))[0])
            before = model.score_history(history)[0, column]
            kept = np.setdiff1d(history.indices, model.items.index_of(np.array(named[:1])))
            after = model.score_history(_rows(history, kept))[0, column]
            assert after < before, (family, book, named[0])


def _rows(history: object, keep: np.ndarray) -> object:
    """``history`` (one row) with only the columns ``keep``, ratings kept."""
    import scipy.sparse as sp

    assert isinstance(history, sp.csr_matrix)
    mask = np.isin(history.indices, keep)
    return sp.csr_matrix(
        (history.data[mask], history.indices[mask], np.array([0, int(mask.sum())])),
        shape=history.shape,
    )


@pytest.mark.parametrize("family", ATTRIBUTING)
def test_contributions_add_up_to_the_score(models: dict[str, Recommender], family: str) -> None:
    """EASE, ALS (the solved user vector) and content scores split exactly over the
    history, so the named books are the real reasons, not a heuristic."""
    model = models[family]
    assert model.items is not None
    history = one_row(model.items.index_of(np.array([3, 17, 42, 99])), len(model.items))
    scores = model.score_history(history)[0]
    for column in (0, 50, 150):
        total = float(model.contributions(history, column).sum())
        assert total == pytest.approx(float(scores[column]), rel=1e-3, abs=1e-4)


def test_seed_explanations_name_seeds(models: dict[str, Recommender]) -> None:
    model, seeds = models["ease"], np.array([3, 17, 42])
    top = model.recommend_from_items(seeds, k=5)[0]
    for named in model.explain(top, seeds=seeds):
        assert named and set(named) <= {3, 17, 42}
    assert models["popularity"].explain(top, seeds=seeds) == [[]] * 5


@pytest.mark.slow
def test_cold_start_seed_lists_beat_popularity(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """The offline cold-start protocol: 100 users held out entirely, 3-5 liked books as
    seeds, NDCG@10 on the rest of what they liked."""
    ratings, books = data
    split = cold_start_split(ratings, 100, seed=1)
    assert not set(split.seeds) & set(split.train["user_id"])
    popularity = cold_start_ndcg(make_recommender("popularity").fit(split.train, books), split)
    for family in ("ease", "als"):
        model = make_recommender(family, **FAMILIES[family]).fit(split.train, books)
        assert cold_start_ndcg(model, split) > 1.1 * popularity, family


@pytest.mark.slow
def test_the_hybrid_folds_in_and_explains_through_its_parts(
    data: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    ratings, books = data
    hybrid = make_recommender("hybrid").fit(ratings, books)
    seeds = np.array([3, 17, 42])
    ids, _ = hybrid.recommend_from_items(seeds, k=10)
    assert (ids >= 0).all() and not set(ids.tolist()) & {3, 17, 42}
    assert hybrid.users is not None and hybrid.seen is not None and hybrid.items is not None
    user = int(hybrid.users.ids[4])
    top = hybrid.recommend(np.array([user]), k=3)[0][0]
    read = set(hybrid.items.ids[hybrid.seen[4].indices].tolist())
    reasons = hybrid.explain(top, user_id=user)
    assert all(named and set(named) <= read for named in reasons)
