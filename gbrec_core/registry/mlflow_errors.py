"""Translate MLflow / storage failures into gbrec's error classes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from gbrec_core.errors import InvalidInputError, NotFoundError, UnavailableError


@contextmanager
def mlflow_errors(what: str) -> Iterator[None]:
    """``NotFoundError`` for missing objects, ``UnavailableError`` when the store is down."""
    import requests
    import sqlalchemy.exc
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as e:
        code = e.error_code
        # SQL stores report a missing alias as INVALID_PARAMETER_VALUE "... not found".
        missing = code == "INVALID_PARAMETER_VALUE" and "not found" in e.message.lower()
        if code == "RESOURCE_DOES_NOT_EXIST" or missing:
            raise NotFoundError(f"{what}: {e.message}") from e
        if code == "INVALID_PARAMETER_VALUE":
            raise InvalidInputError(f"{what}: {e.message}") from e
        raise UnavailableError(f"{what}: MLflow failed ({code}): {e.message}") from e
    except (sqlalchemy.exc.SQLAlchemyError, requests.RequestException, OSError) as e:
        raise UnavailableError(f"{what}: MLflow registry unreachable: {e}") from e
