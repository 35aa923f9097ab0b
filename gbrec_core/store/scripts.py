"""Lua scripts shipped as ``.lua`` files beside the module that runs them.

A script is the concatenation of its parts (shared helper functions first), read once
per process from the package's files, so the Lua is edited, linted and reviewed as
Lua rather than inside Python strings.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def lua(package: str, *parts: str) -> str:
    """The text of ``<part>.lua`` files of ``package``, joined in order."""
    folder = resources.files(package)
    return "\n".join(folder.joinpath(f"{part}.lua").read_text() for part in parts)
