"""The README's configuration table and ``.env.example``, generated from :class:`Settings`
so they never drift (``python -m gbrec_core.settings_docs`` rewrites both)."""

from __future__ import annotations

import re
from pathlib import Path

from gbrec_core.settings import Settings

START = "<!-- settings-table:start -->"
END = "<!-- settings-table:end -->"


def _default(value: object) -> str | None:
    if isinstance(value, tuple):  # list settings are comma-separated in the environment
        return ",".join(str(part) for part in value)
    return None if value is None else str(value)


def settings_table() -> str:
    """A markdown table of every ``GBREC_*`` variable with its default and meaning."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = _default(field.default)
        shown = "unset" if default is None else f"`{default}`"
        rows.append(f"| `GBREC_{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)


def env_example() -> str:
    """``.env.example``: every variable, commented out at its default, with its meaning."""
    lines = [
        "# gbrec settings: copy to .env in the directory you run gbrec from (or export them).",
        "# Every line is commented out at its default; the environment overrides .env.",
        "# Generated from gbrec_core/settings.py: python -m gbrec_core.settings_docs",
    ]
    for name, field in Settings.model_fields.items():
        default = _default(field.default)
        lines += ["", f"# {field.description or ''}", f"# GBREC_{name.upper()}={default or ''}"]
    return "\n".join(lines) + "\n"


def render_readme(readme: str) -> str:
    """``readme`` with the block between the settings markers regenerated."""
    block = f"{START}\n{settings_table()}\n{END}"
    return re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, readme, flags=re.S)


def update_readme(path: Path) -> bool:
    """Rewrite the table in ``path``; returns whether anything changed."""
    before = path.read_text()
    after = render_readme(before)
    if after != before:
        path.write_text(after)
    return after != before


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    update_readme(root / "README.md")
    (root / ".env.example").write_text(env_example())
