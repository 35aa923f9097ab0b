"""The README's configuration table, generated from :class:`Settings` so it never drifts."""

from __future__ import annotations

import re
from pathlib import Path

from gbrec_core.settings import Settings

START = "<!-- settings-table:start -->"
END = "<!-- settings-table:end -->"


def settings_table() -> str:
    """A markdown table of every ``GBREC_*`` variable with its default and meaning."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, tuple):  # list settings are comma-separated in the environment
            default = ",".join(str(part) for part in default)
        shown = "unset" if default is None else f"`{default}`"
        rows.append(f"| `GBREC_{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)


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
    update_readme(Path(__file__).resolve().parents[1] / "README.md")
