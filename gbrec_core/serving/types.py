"""What the server answers with."""

from __future__ import annotations

import dataclasses

FALLBACK_VERSION = "fallback"


@dataclasses.dataclass(frozen=True)
class Recommendation:
    """Top-k books for a user, and which model version computed them.

    ``fallback`` is True when the answer is the popularity ranking rather than the
    model's personalised one (unknown user, or no model could be loaded at all; then
    ``version`` is ``"fallback"``).
    """

    user_id: int
    version: str
    fallback: bool
    book_ids: list[int]
    scores: list[float]
