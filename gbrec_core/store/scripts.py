"""Lua scripts shipped as ``.lua`` files beside the module that runs them.

A script is the concatenation of its parts (shared helper functions first), read once
per process from the package's files, so the Lua is edited, linted and reviewed as
Lua rather than inside Python strings. A script that builds key names (from a prefix
and a user, a variant, a request id) passes every such name through ``declared_key``
and comes in two forms (:func:`keyed`), one for a Redis Cluster, one for a server.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

_STORE = "gbrec_core.store"


@cache
def lua(package: str, *parts: str) -> str:
    """The text of ``<part>.lua`` files of ``package``, joined in order."""
    folder = resources.files(package)
    return "\n".join(folder.joinpath(f"{part}.lua").read_text() for part in parts)


@dataclass(frozen=True)
class KeyedScript:
    """A script that builds key names, in two forms.

    ``strict`` (a Redis Cluster) starts with ``declared.lua``: every name it builds must
    be one of its KEYS, which the cluster routes and checks a script by, so its callers
    list every key. ``open`` (one server) starts with ``open.lua`` and allows any name:
    a server has no slots, and redis-py spends a few µs encoding each listed key (an
    event batch would list up to 2,000 shown-book keys), so callers list only the fixed
    keys there.
    """

    strict: str
    open: str

    def form(self, declared: bool) -> str:
        """``strict`` for callers that list every key (``declared``), else ``open``."""
        return self.strict if declared else self.open


def keyed(package: str, *parts: str) -> KeyedScript:
    """:func:`lua` of ``parts`` in its cluster and its single-server form."""
    body = lua(package, *parts)
    return KeyedScript(
        strict=lua(_STORE, "declared") + "\n" + body, open=lua(_STORE, "open") + "\n" + body
    )
