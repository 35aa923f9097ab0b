"""gbrec_core never imports the outer frameworks (ARCHITECTURE §1)."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("dagster", "dagster_mlflow", "strawberry", "starlette", "uvicorn")


def test_gbrec_core_imports_no_framework() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import gbrec_core\n"
        "for m in pkgutil.walk_packages(gbrec_core.__path__, 'gbrec_core.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "print(','.join(sorted(bad)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"gbrec_core imported: {out.stdout.strip()}"
