"""``delete_user``: the right to erasure over experiments and served logs.

The experiment data is erased by :func:`gbrec_core.experiments.erasure.erase_user`;
the served-response records of the requests named in the user's removed raw events go
next (served records name requests, never users, so those are the only ones that can
be tied to the user). Models are not touched here: they are retrained from the ratings
files, and docs/privacy.md says how the user leaves those.

Auditing is the caller's job (the API's admin guard, the CLI), so that an erasure is
audited exactly once, with the caller's identity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from gbrec_core.errors import InvalidInputError
from gbrec_core.experiments import ExperimentService
from gbrec_core.experiments.erasure import erase_user
from gbrec_core.monitoring import OnlineMonitor


@dataclass(frozen=True)
class ErasureReport:
    """What one erasure removed, by kind (see ``ExperimentErasure``); ``served``:
    served-response records deleted."""

    user_id: int
    experiments: int
    exposures: int
    raw_events: int
    buffered: int
    served: int
    snapshots: int

    def removed(self) -> dict[str, int]:
        """The counts alone, by field name."""
        counts = asdict(self)
        del counts["user_id"]
        return counts

    def as_json(self) -> dict[str, int]:
        """The API's ``UserErasure`` object, camelCase (audit entries, ``--json``)."""
        return {_camel(k): v for k, v in asdict(self).items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def delete_user(
    experiments: ExperimentService, monitor: OnlineMonitor, user_id: int
) -> ErasureReport:
    """Erase ``user_id`` from experiment state, raw-event logs, this process's buffers
    and the served log; raises InvalidInputError for an impossible id, UnavailableError
    when Redis is unreachable (run it again: every step is idempotent)."""
    if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id < 0:
        raise InvalidInputError(f"user id must be a non-negative integer, got {user_id!r}")
    done = erase_user(experiments, user_id)
    served = monitor.forget(done.request_ids)
    return ErasureReport(
        user_id=user_id,
        experiments=done.experiments,
        exposures=done.exposures,
        raw_events=done.raw_events,
        buffered=done.buffered,
        served=served,
        snapshots=done.snapshots,
    )
