"""House style is enforced by the suite: ruff (lint + format) and mypy (strict for the core)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_check() -> None:
    out = run(str(BIN / "ruff"), "check", ".")
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format() -> None:
    out = run(str(BIN / "ruff"), "format", "--check", ".")
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow
def test_mypy_strict_core() -> None:
    out = run(str(BIN / "mypy"), "--strict", "gbrec_core")
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow
def test_mypy_outer_packages() -> None:
    out = run(str(BIN / "mypy"), "gbrec_assets", "gbrec_graphql")
    assert out.returncode == 0, out.stdout + out.stderr
