"""Privacy requests: erasing one user from everything gbrec keeps about them.

Entry point: :func:`delete_user` (``gbrec_core.privacy.erasure``), behind the GraphQL
``deleteUser`` mutation and ``gbrec users delete``. User ids never reach Redis in the
first place (:mod:`gbrec_core.access.pseudonyms`); docs/privacy.md has the whole story,
models and training data included.
"""

from __future__ import annotations

from gbrec_core.privacy.erasure import ErasureReport, delete_user

__all__ = ["ErasureReport", "delete_user"]
