"""gbrec_core.logs: one JSON object per line, the same config for every process."""

from __future__ import annotations

import io
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from gbrec_core.logs import CliOutput, JsonFormatter, configure_logging, logging_config
from gbrec_core.settings import Settings


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    logging.captureWarnings(False)
    root.handlers[:] = handlers
    root.setLevel(level)


def record(message: str, **extra: object) -> logging.LogRecord:
    rec = logging.getLogger("t").makeRecord("t", logging.INFO, "f.py", 1, message, (), None)
    rec.__dict__.update(extra)
    return rec


def test_a_json_line_has_the_fields_and_scalar_extras_only() -> None:
    line = JsonFormatter().format(
        record("two\nlines", request_id="r1", latency_ms=1.5, key_id=None, blob={"a": object()})
    )
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "two\nlines" and entry["logger"] == "t" and entry["level"] == "INFO"
    assert entry["request_id"] == "r1" and entry["latency_ms"] == 1.5 and entry["key_id"] is None
    assert "blob" not in entry and entry["ts"].endswith("+00:00")


def test_exceptions_stay_inside_the_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        rec = logging.getLogger("t").makeRecord(
            "t", logging.ERROR, "f.py", 1, "failed", (), __import__("sys").exc_info()
        )
    entry = json.loads(JsonFormatter().format(rec))
    assert "ValueError: boom" in entry["exc_info"]


def test_format_follows_the_setting_and_production_defaults_to_json(tmp_path: Path) -> None:
    def formatter(**kw: object) -> dict[str, object]:
        settings = Settings(home=tmp_path, **kw)  # type: ignore[arg-type]
        return logging_config(settings)["formatters"]["gbrec"]

    assert formatter(env="production") == {"()": "gbrec_core.logs.JsonFormatter"}
    assert "format" in formatter(env="production", log_format="text")
    assert "format" in formatter()
    assert formatter(log_format="json") == {"()": "gbrec_core.logs.JsonFormatter"}


def test_framework_loggers_and_warnings_reach_the_json_handler(
    tmp_path: Path, restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(Settings(home=tmp_path, log_format="json"), "info")
    logging.getLogger("uvicorn.error").info("Uvicorn running on %s", "http://x")
    logging.getLogger("dagster.run").warning("step failed")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("old api", DeprecationWarning, stacklevel=1)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(e["logger"], e["level"]) for e in lines] == [
        ("uvicorn.error", "INFO"),
        ("dagster.run", "WARNING"),
        ("py.warnings", "WARNING"),
    ]
    assert lines[0]["message"] == "Uvicorn running on http://x"


def test_cli_output_is_a_log_record_in_json_mode_and_rich_text_otherwise(
    tmp_path: Path, restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(home=tmp_path, log_format="json")
    configure_logging(settings)
    buffer = io.StringIO()
    CliOutput(settings, "gbrec.test", Console(file=buffer)).say("[green]ok[/] step", step="s")
    entry = json.loads(capsys.readouterr().err)
    assert (entry["message"], entry["step"], buffer.getvalue()) == ("ok step", "s", "")
    text = Settings(home=tmp_path, log_format="text")
    CliOutput(text, "gbrec.test", Console(file=buffer)).say("[green]ok[/] step", step="s")
    assert buffer.getvalue() == "ok step\n" and capsys.readouterr().err == ""


def test_the_handler_follows_sys_stderr_when_it_is_swapped(
    tmp_path: Path, restore_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging(Settings(home=tmp_path, log_format="json"))
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    logging.getLogger("t").warning("one")
    first.close()  # as a test runner closes its captured stream
    monkeypatch.setattr("sys.stderr", second)
    logging.getLogger("t").warning("two")
    assert json.loads(second.getvalue())["message"] == "two"


def test_configured_handler_masks_uri_passwords(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(Settings(log_format="json"))
    logging.getLogger("gbrec.test").warning("cannot reach %s", "postgresql://u:hunter2@db/x")
    err = capsys.readouterr().err
    assert "hunter2" not in err and "u:***@db" in err
