"""The ``mlflow.pyfunc`` face of a bundle.

``mlflow.pyfunc.load_model("models:/goodbooks_recommender@champion").predict(df)``
takes a DataFrame with ``user_id`` (and optionally ``k``) and returns one row per user
with ``book_ids`` and ``scores`` lists, best first.

The model is saved as MLflow "models from code" (``logged_model.save_pyfunc``): the
stored model holds the short entry file ``pyfunc_code/gbrec_pyfunc_model.py`` (which
calls ``mlflow.models.set_model``) and the signed bundle, never a cloudpickled object.
Loading verifies the bundle's signature with the loading process's
``GBREC_SIGNING_KEY`` (or ``$GBREC_HOME/secrets``), so set those as the writer had them.

Importing mlflow pulls in starlette, which gbrec_core must not import at module load
(the core imports no framework), so the ``PythonModel`` subclass is built on first use.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gbrec_core.access.secret_keys import signing_key
from gbrec_core.access.signing import Signer
from gbrec_core.errors import InvalidInputError
from gbrec_core.registry.bundle import ModelBundle, read_bundle
from gbrec_core.settings import Settings

ARTIFACT_KEY = "bundle"
DEFAULT_K = 10
MODEL_CODE = Path(__file__).parent / "pyfunc_code" / "gbrec_pyfunc_model.py"


class BundlePredictor:
    """Top-k predictions from a bundle directory; the logic behind the pyfunc model."""

    def __init__(self) -> None:
        self.bundle: ModelBundle | None = None

    def load(self, path: str | Path, signer: Signer | None = None) -> None:
        """Verify and load the bundle; the signer defaults to this process's settings."""
        signer = signer or Signer(signing_key(Settings()))
        self.bundle = read_bundle(Path(path), signer)

    def predict_frame(self, frame: pd.DataFrame, params: dict[str, Any] | None) -> pd.DataFrame:
        if self.bundle is None:
            raise InvalidInputError("the pyfunc model has no bundle loaded")
        if "user_id" not in frame.columns:
            raise InvalidInputError("input needs a 'user_id' column")
        k = _requested_k(frame, params)
        users = frame["user_id"].to_numpy(dtype=np.int64)
        ids, scores = self.bundle.model.recommend(users, k=k)
        keep = ids >= 0
        return pd.DataFrame(
            {
                "user_id": users,
                "book_ids": [row[m].tolist() for row, m in zip(ids, keep, strict=True)],
                "scores": [
                    row[m].astype(float).tolist() for row, m in zip(scores, keep, strict=True)
                ],
            }
        )


def _requested_k(frame: pd.DataFrame, params: dict[str, Any] | None) -> int:
    if "k" in frame.columns and len(frame):
        return int(frame["k"].max())
    if params and "k" in params:
        return int(params["k"])
    return DEFAULT_K


@functools.cache
def _python_model_class() -> type:
    # MLflow warns once ("Add type hints to the predict method") when this class is
    # defined; it forces the filter itself, so the warning cannot be silenced here.
    import mlflow.pyfunc

    class GbrecPythonModel(mlflow.pyfunc.PythonModel, BundlePredictor):  # type: ignore[misc,name-defined]
        """Loads the bundle artifact; predicts top-k book ids per user."""

        def __init__(self) -> None:
            BundlePredictor.__init__(self)

        def load_context(self, context: Any) -> None:
            self.load(context.artifacts[ARTIFACT_KEY])

        # No annotations on purpose: MLflow turns predict's type hints into a schema
        # and would coerce the DataFrame into a list.
        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            return self.predict_frame(pd.DataFrame(model_input), params)

    GbrecPythonModel.__module__ = __name__
    GbrecPythonModel.__qualname__ = "GbrecPythonModel"
    return GbrecPythonModel


def python_model() -> Any:
    """A fresh ``GbrecPythonModel`` (what the models-from-code entry file hands MLflow)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="(?i).*type hint", category=UserWarning)
        return _python_model_class()()
