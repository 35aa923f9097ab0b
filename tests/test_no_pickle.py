"""No pickle anywhere in the product's own files (issue 14): nothing gbrec writes or
reads can run code when it is loaded. A source scan, so a new ``import pickle`` or
``allow_pickle=True`` fails here before it ships."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gbrec_core", "gbrec_assets", "gbrec_graphql")
FORBIDDEN = re.compile(
    r"^\s*(import|from)\s+(c?pickle|cloudpickle|dill|joblib|shelve)\b|allow_pickle\s*=\s*True",
    re.MULTILINE,
)


def test_no_module_of_the_product_uses_pickle() -> None:
    sources = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    assert len(sources) > 100
    offenders = [str(p.relative_to(ROOT)) for p in sources if FORBIDDEN.search(p.read_text())]
    assert offenders == []
