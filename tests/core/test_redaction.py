"""Secrets and internals stay out of client text, metadata and logs."""

from __future__ import annotations

import logging

import pytest

from gbrec_core.redaction import RedactingFilter, client_safe, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://gbrec:s3cr3t@db:5432/mlflow", "postgresql://gbrec:***@db:5432/mlflow"),
        ("redis://default:pa:ss@cache:6379/0 down", "redis://default:***@cache:6379/0 down"),
        ("http://host:5000/api (no password)", "http://host:5000/api (no password)"),
        ("rediss://:tok@r:6380", "rediss://:tok@r:6380"),
    ],
)
def test_redact_masks_uri_passwords(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_client_safe_shortens_paths() -> None:
    text = "/srv/gbrec/home/serving/m/3/model.npz: checksum mismatch (sqlite:////srv/x/mlflow.db)"
    safe = client_safe(text)
    assert "/srv" not in safe and "…/model.npz: checksum mismatch" in safe


def test_filter_redacts_log_records(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("gbrec.test.redaction")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="gbrec.test.redaction"):
        logger.info("connecting to %s", "postgresql://u:hunter2@db/x")
    assert "hunter2" not in caplog.text and "u:***@db" in caplog.text
