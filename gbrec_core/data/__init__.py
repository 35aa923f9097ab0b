"""GoodBooks data layer: schema, loaders, validation, synthetic generator, downloader, splits."""

from __future__ import annotations

from gbrec_core.data.dataset_validation import validate_dataset
from gbrec_core.data.download import DownloadConfig, download_dataset
from gbrec_core.data.generator import generate
from gbrec_core.data.loaders import (
    GoodbooksData,
    load_book_tags,
    load_books,
    load_dataset,
    load_ratings,
    load_tags,
    load_to_read,
)
from gbrec_core.data.report import RULES, ValidationConfig, ValidationReport, Violation
from gbrec_core.data.resolve import resolve_dataset
from gbrec_core.data.snapshot import DataFingerprint, DataSnapshot, fingerprint
from gbrec_core.data.splits import RatingSplit, random_split, temporal_split
from gbrec_core.data.synthetic import SCALES, SyntheticConfig
from gbrec_core.data.validation import (
    validate_book_tags,
    validate_books,
    validate_ratings,
    validate_tags,
    validate_to_read,
)

__all__ = [
    "RULES",
    "SCALES",
    "DataFingerprint",
    "DataSnapshot",
    "DownloadConfig",
    "GoodbooksData",
    "RatingSplit",
    "SyntheticConfig",
    "ValidationConfig",
    "ValidationReport",
    "Violation",
    "download_dataset",
    "fingerprint",
    "generate",
    "load_book_tags",
    "load_books",
    "load_dataset",
    "load_ratings",
    "load_tags",
    "load_to_read",
    "random_split",
    "resolve_dataset",
    "temporal_split",
    "validate_book_tags",
    "validate_books",
    "validate_dataset",
    "validate_ratings",
    "validate_tags",
    "validate_to_read",
]
