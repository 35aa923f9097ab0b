"""Lua scripts shipped as ``.lua`` files beside the module that runs them.

A script is the concatenation of its parts (shared helper functions first), read once
per process from the package's files, so the Lua is edited, linted and reviewed as
Lua rather than inside Python strings. A script that builds key names (from a prefix
and a user, a variant, a request id) starts with ``declared.lua`` (:func:`keyed`) and
passes every such name through ``declared_key``: the caller must list them all in KEYS.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def lua(package: str, *parts: str) -> str:
    """The text of ``<part>.lua`` files of ``package``, joined in order."""
    folder = resources.files(package)
    return "\n".join(folder.joinpath(f"{part}.lua").read_text() for part in parts)


def keyed(package: str, *parts: str) -> str:
    """:func:`lua` of ``parts`` after the declared-keys check of ``declared.lua``."""
    return lua("gbrec_core.store", "declared") + "\n" + lua(package, *parts)
