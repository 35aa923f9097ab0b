"""GraphQL types of the users domain."""

from __future__ import annotations

import strawberry

from gbrec_core.privacy import ErasureReport


@strawberry.type(description="What deleteUser removed, by kind (zeros: nothing was kept).")
class UserErasure:
    user_id: int
    experiments: int = strawberry.field(description="Experiments the user had state in.")
    exposures: int = strawberry.field(description="Exposures subtracted from the results.")
    raw_events: int = strawberry.field(
        description="Exposures and events removed from the raw-event logs."
    )
    buffered: int = strawberry.field(
        description="Writes removed from this API process's outage buffer."
    )
    served: int = strawberry.field(description="Served-response records deleted.")
    snapshots: int = strawberry.field(
        description="Result snapshots recorded without the user (one per experiment)."
    )

    @classmethod
    def from_domain(cls, report: ErasureReport) -> UserErasure:
        return cls(user_id=report.user_id, **report.removed())


def erasure_summary(erasure: UserErasure) -> dict[str, int]:
    """The audit entry's result: the object as the client received it."""
    return {
        "userId": erasure.user_id,
        "experiments": erasure.experiments,
        "exposures": erasure.exposures,
        "rawEvents": erasure.raw_events,
        "buffered": erasure.buffered,
        "served": erasure.served,
        "snapshots": erasure.snapshots,
    }
