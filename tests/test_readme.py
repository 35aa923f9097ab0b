"""The README documents every setting (regenerate: python -m gbrec_core.settings_docs)."""

from __future__ import annotations

from pathlib import Path

from gbrec_core.settings_docs import render_readme

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_configuration_table_is_current() -> None:
    text = README.read_text()
    assert render_readme(text) == text, "run `python -m gbrec_core.settings_docs`"


def test_readme_names_the_two_commands() -> None:
    text = README.read_text()
    assert "make demo" in text and "make test" in text
