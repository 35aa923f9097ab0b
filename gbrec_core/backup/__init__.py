"""Backup and restore of a gbrec home: Redis state, the registry, artifacts and secrets.

Public API::

    from gbrec_core.backup import backup, restore
    backup(settings, Path("/backups/2026-12-04"))    # -> BackupSummary
    restore(settings, Path("/backups/2026-12-04"))   # into a fresh home
"""

from __future__ import annotations

from gbrec_core.backup.archive import BackupSummary, backup, read_manifest, restore

__all__ = ["BackupSummary", "backup", "read_manifest", "restore"]
