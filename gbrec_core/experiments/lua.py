"""Lua scripts that update per-user state and the variant's running sums atomically.

Per experiment (prefix ``gbrec:exp:{<id>}:``, one hash slot thanks to the hash tag):
``users`` hash user -> packed doubles [variant, exposures, covariate, a0, b0, a1, b1, ...];
``books:<user>`` hash book -> flags (1 shown, 2 precision hit, 4 positively rated);
``agg:<variant>`` hash of running sums: users, exposures, c, cc, conflicts and per
metric k ``m<k>:{n,x,y,xx,yy,xy,c,cc,xc}``; ``log`` the raw-event log
(:mod:`gbrec_core.experiments.rawlog`). On a Redis Cluster every one of them is declared
in the script's KEYS (:class:`gbrec_core.store.scripts.KeyedScript`). ``<user>`` is
always the user's pseudonym (:mod:`gbrec_core.access.pseudonyms`), never the id. A
user's metric value changing from v0 to v1 adds v1 - v0 to x and v1^2 - v0^2 to xx, so
the sums stay exact without a rescan (once per user and batch: the moves of one user's
events add up to one move).
"""

from __future__ import annotations

from gbrec_core.store.scripts import keyed, lua

_PACKAGE = "gbrec_core.experiments"

# KEYS of these three: users hash, log; on a cluster also every variant's agg and the
# books keys of the batch's users.
EXPOSURES = keyed(_PACKAGE, "common", "exposures")
EVENTS = keyed(_PACKAGE, "common", "events")
DELETE_USER = keyed(_PACKAGE, "common", "delete_user")
#: Store a new experiment's definition (spec and initial fields) unless one exists.
CREATE = lua(_PACKAGE, "create")
#: Remove one user's lines from a raw-event log, a slice of batches per call.
ERASE_LOG = lua(_PACKAGE, "erase_log")
#: Set fields of an experiment's definition only if its status is still ARGV[1].
CAS = lua(_PACKAGE, "cas")
#: Set fields of an experiment's definition only if several fields hold expected values.
CAS_FIELDS = lua(_PACKAGE, "cas_fields")
