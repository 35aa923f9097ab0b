"""The README documents every setting (regenerate: python -m gbrec_core.settings_docs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gbrec_core.settings import Settings
from gbrec_core.settings_docs import env_example, render_readme

README = Path(__file__).resolve().parents[1] / "README.md"
ENV_EXAMPLE = README.parent / ".env.example"


def test_readme_configuration_table_is_current() -> None:
    text = README.read_text()
    assert render_readme(text) == text, "run `python -m gbrec_core.settings_docs`"


def test_readme_names_the_two_commands() -> None:
    text = README.read_text()
    assert "make demo" in text and "make test" in text


def test_env_example_lists_every_setting() -> None:
    assert ENV_EXAMPLE.read_text() == env_example(), "run `python -m gbrec_core.settings_docs`"
    for name in Settings.model_fields:
        assert f"# GBREC_{name.upper()}=" in ENV_EXAMPLE.read_text()


def test_settings_read_a_dot_env_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("GBREC_DELIVERY=gate\nGBREC_API_PORT=9123\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GBREC_DELIVERY", raising=False)
    monkeypatch.setenv("GBREC_API_PORT", "9000")  # the environment wins over .env
    settings = Settings()
    assert settings.delivery == "gate" and settings.api_port == 9000
