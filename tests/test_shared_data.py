"""Missing ``../shared/data`` skips locally, fails under ``CI=true``; ``catalogue_dir`` falls back.

Each case runs pytest in a subprocess on a tiny test folder whose conftest points the
shared fixtures of ``tests/conftest.py`` at a folder that does not exist.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFTEST = """
from pathlib import Path

import tests.conftest as shared
from tests.conftest import catalogue_dir, goodbooks_dir, growthbook_cases

shared.GOODBOOKS = Path(__file__).parent / "absent" / "goodbooks-10k"
shared.GROWTHBOOK_CASES = Path(__file__).parent / "absent" / "growthbook" / "cases.json"
"""
TESTS = """
def test_real_books(goodbooks_dir):
    pass


def test_vectors(growthbook_cases):
    pass


def test_catalogue_falls_back_to_synthetic(catalogue_dir):
    for name in ("books.csv", "tags.csv", "book_tags.csv"):
        assert (catalogue_dir / name).is_file()
    assert (catalogue_dir / "gbrec-synthetic.json").is_file()
"""


def run_pytest(folder: Path, *, ci: str | None) -> subprocess.CompletedProcess[str]:
    (folder / "conftest.py").write_text(CONFTEST)
    (folder / "test_needs_shared.py").write_text(TESTS)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-rsE", "-p", "no:cacheprovider", str(folder)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_shared_data_skips_outside_ci(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, ci=None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 2 skipped" in result.stdout, result.stdout
    assert "needs the real GoodBooks files, not found at" in result.stdout
    assert "needs the GrowthBook test vectors, not found at" in result.stdout


def test_missing_shared_data_fails_under_ci(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, ci="true")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed, 2 errors" in result.stdout, result.stdout
    assert "skipped" not in result.stdout
    assert "CI=true provides ../shared beside the clone" in result.stdout
