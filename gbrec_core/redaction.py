"""Keeping secrets and internals out of answers, metadata, logs and alerts.

:func:`redact` masks the password of every URI (``postgresql://gbrec:***@db/mlflow``);
:func:`client_safe` also shortens absolute file paths to their last part, for text a
remote client sees (error messages), so no host name, password or folder layout leaks.
"""

from __future__ import annotations

import logging
import re

_CREDENTIALS = re.compile(r"([A-Za-z][\w+.-]*://)([^:/@\s]+):([^@\s]+)@")
_PATH = re.compile(r"(?<![\w:.])/(?:[\w.@+-]+/)+([\w.@+-]+)")


def redact(text: str) -> str:
    """``text`` with every URI password replaced by ``***``."""
    return _CREDENTIALS.sub(r"\1\2:***@", text)


def client_safe(text: str) -> str:
    """:func:`redact`, and absolute paths reduced to ``…/<last part>``."""
    return _PATH.sub(r"…/\1", redact(text))


class RedactingFilter(logging.Filter):
    """A log filter that redacts URI passwords in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
