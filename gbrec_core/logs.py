"""One log format for every gbrec process: ``GBREC_LOG_FORMAT=json|text``.

Log shippers (Loki, ELK, Cloud Logging) want one JSON object per line; a person at a
terminal wants readable text. Both come from the same :func:`logging_config`, a
``logging.config.dictConfig`` dictionary, because that is the one hook uvicorn applies in
every worker process it spawns: ``gbrec serve`` hands it to uvicorn as ``log_config``
and the other commands apply it with :func:`configure_logging`. Everything ends at one
handler on the root logger: uvicorn's and Dagster's loggers propagate to it instead of
writing with formatters of their own, and Python warnings arrive as ``py.warnings``
records (:func:`stream_handler` turns the capture on).

A JSON line carries ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, the
exception text if any, and every scalar ``extra`` field of the record (e.g. the API's
request log: ``request_id``, ``key_id``, ``operation``, ``latency_ms``,
``model_version``).
"""

from __future__ import annotations

import logging
import logging.config
import os
import sys
from datetime import UTC, datetime
from typing import Any

import orjson
from rich.console import Console
from rich.text import Text

from gbrec_core.redaction import RedactingFilter
from gbrec_core.settings import LogFormat, Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Loggers that install handlers of their own; they are made to propagate to the root.
FRAMEWORK_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "dagster", "alembic")
#: Attributes every LogRecord has; anything else on a record came in through ``extra``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}
_SCALARS = (str, int, float, bool, type(None))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside values are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    """Scalar ``extra`` fields; structured ones (Dagster's event objects) are left out:
    their text is already in the message and they need not be JSON-serialisable."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD and not key.startswith("_") and isinstance(value, _SCALARS)
    }


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each record, as Python's
    last-resort handler does: a command run in-process (a test's CliRunner swaps stderr
    and closes its copy afterwards) must not leave a handler on a closed stream."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        """Ignored: the stream is always the current ``sys.stderr``."""


def stream_handler() -> logging.Handler:
    """The root handler (a dictConfig factory): also routes ``warnings`` through logging,
    in whichever process applies the configuration, and masks URI passwords."""
    logging.captureWarnings(False)  # re-arm: a no-op if an earlier configuration captured
    logging.captureWarnings(True)
    handler = StderrHandler()
    handler.addFilter(RedactingFilter())
    return handler


def formatter_config(log_format: LogFormat) -> dict[str, Any]:
    if log_format == "json":
        return {"()": f"{__name__}.JsonFormatter"}
    return {"format": TEXT_FORMAT}


def logging_config(settings: Settings, level: str = "INFO") -> dict[str, Any]:
    """The dictConfig of a gbrec process at ``level``, in ``settings.resolved_log_format``."""
    level = level.upper()
    propagate = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"gbrec": formatter_config(settings.resolved_log_format)},
        "handlers": {"gbrec": {"()": f"{__name__}.stream_handler", "formatter": "gbrec"}},
        "root": {"handlers": ["gbrec"], "level": level},
        "loggers": {name: dict(propagate) for name in FRAMEWORK_LOGGERS},
    }


def configure_logging(settings: Settings, level: str = "INFO") -> None:
    """Apply :func:`logging_config` to this process. With JSON logs, library progress
    bars (MLflow's artifact downloads, tqdm) are turned off: they draw with carriage
    returns on stderr, which no log shipper can parse. Child processes inherit this."""
    if json_logs(settings):
        os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
        os.environ["TQDM_DISABLE"] = "1"
    logging.config.dictConfig(logging_config(settings, level))


def json_logs(settings: Settings) -> bool:
    """Whether this process logs JSON (and CLI output must be log records too)."""
    return settings.resolved_log_format == "json"


class CliOutput:
    """What a command tells its user: rich markup on a terminal; with JSON logs, the same
    words (markup stripped) as a log record with ``fields`` as its extras, so that every
    line the command writes parses as JSON."""

    def __init__(self, settings: Settings, logger: str, console: Console) -> None:
        self.json = json_logs(settings)
        self.log = logging.getLogger(logger)
        self.console = console

    def say(self, markup: str, level: int = logging.INFO, **fields: object) -> None:
        if self.json:
            self.log.log(level, Text.from_markup(markup).plain, extra=fields)
        else:
            self.console.print(markup)
