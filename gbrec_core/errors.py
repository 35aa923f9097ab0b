"""Specific error classes for gbrec.

Every error a caller can act on derives from :class:`GbrecError`; the API layer maps
the ``code`` attribute onto GraphQL ``extensions.code`` values.
"""

from __future__ import annotations


class GbrecError(Exception):
    """Base class of every error gbrec raises on purpose."""

    code: str = "INTERNAL"


class ConfigurationError(GbrecError):
    """A setting is missing, malformed or inconsistent."""

    code = "BAD_USER_INPUT"


class InvalidInputError(GbrecError, ValueError):
    """A caller passed an argument outside its documented domain."""

    code = "BAD_USER_INPUT"


class NotFoundError(GbrecError, LookupError):
    """A named object (experiment, model version, book) does not exist."""

    code = "NOT_FOUND"


class UnavailableError(GbrecError):
    """A dependency (Redis, MLflow, Milvus) cannot be reached right now."""

    code = "UNAVAILABLE"


class StoreDownError(UnavailableError):
    """Redis cannot be reached (refused, lost, timed out): writes may be buffered."""


class RateLimitedError(GbrecError):
    """A key spent its budget for an operation; ``retry_after`` says when a token is back."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DataError(GbrecError):
    """Base class of data-layer errors."""

    code = "BAD_USER_INPUT"


class DataLoadError(DataError):
    """A data file is missing or cannot be parsed at all."""


class DownloadError(DataError):
    """The data set could not be downloaded or failed verification."""

    code = "UNAVAILABLE"


class ModelError(GbrecError):
    """Base class of model errors."""


class NotFittedError(ModelError):
    """A model was used before ``fit``."""


class ModelLoadError(ModelError):
    """A saved model is corrupted, partial, foreign or of an unknown format."""


class VectorIndexError(GbrecError):
    """Base class of vector-index errors."""


class IndexLoadError(VectorIndexError):
    """A saved index is corrupted, partial or of an unknown format."""


class IndexBudgetError(VectorIndexError):
    """An index would not fit in the configured memory budget."""

    code = "BAD_USER_INPUT"


class RegistryError(GbrecError):
    """A model-registry operation failed."""


class PromotionRefusedError(RegistryError):
    """The promotion gate refused to make a version champion."""

    code = "BAD_USER_INPUT"


class ExperimentError(GbrecError):
    """An experiment operation is invalid in the experiment's current state."""

    code = "BAD_USER_INPUT"


class AuthError(GbrecError):
    """Missing or invalid credentials."""

    code = "UNAUTHENTICATED"


class ForbiddenError(GbrecError):
    """Valid credentials without the required scope."""

    code = "FORBIDDEN"


class SignatureError(GbrecError):
    """An artifact is unsigned or its HMAC signature does not match: it is not loaded."""

    code = "INTEGRITY"


class BackupError(GbrecError):
    """A backup cannot be written or restored (damaged, incomplete, or the target is in use)."""

    code = "BAD_USER_INPUT"
