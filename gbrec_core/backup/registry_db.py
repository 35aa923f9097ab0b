"""The MLflow registry database in a backup: a consistent SQLite copy, relocated on restore.

SQLite is copied with its online backup API (a consistent snapshot while MLflow
writes). A PostgreSQL registry is not copied: ``pg_dump`` is the tool for that (see the
README's runbook). Artifact locations are absolute URIs in the database, so a restore
into another home rewrites the old file root's prefix to the new one.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote, urlparse

# MLflow tables and columns that hold artifact URIs (only those present are rewritten).
LOCATION_COLUMNS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("model_versions", "source"),
    ("model_versions", "storage_location"),
    ("logged_models", "artifact_location"),
)


def sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI, or None for any other store."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    return Path(tracking_uri.removeprefix("sqlite:///"))


def file_root(uri: str | None) -> Path | None:
    """The folder of a ``file://`` artifact root, or None (S3, a server, unset)."""
    if uri is None or urlparse(uri).scheme != "file":
        return None
    return Path(unquote(urlparse(uri).path))


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of ``source`` (readers and writers may be active)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def relocate_artifacts(database: Path, old_root: str, new_root: str) -> int:
    """Rewrite URIs starting with ``old_root`` to start with ``new_root``; returns rows."""
    if old_root == new_root:
        return 0
    changed = 0
    with closing(sqlite3.connect(database)) as db, db:
        for table, column in _present(db):
            cursor = db.execute(
                # table and column come from LOCATION_COLUMNS, never from input
                f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                f"WHERE substr({column}, 1, ?) = ?",
                (new_root, len(old_root) + 1, len(old_root), old_root),
            )
            changed += cursor.rowcount
    return changed


def _present(db: sqlite3.Connection) -> list[tuple[str, str]]:
    found = []
    for table, column in LOCATION_COLUMNS:
        columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column in columns:
            found.append((table, column))
    return found
