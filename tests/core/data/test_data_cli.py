"""`gbrec data validate/generate` through typer's CliRunner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gbrec_core.cli.data import app

runner = CliRunner()

CORRUPT_ROWS = {
    "rating_out_of_range": "3,1,7\n",
    "non_positive_id": "-4,1,4\n",
    "duplicate_rating": "1,1,2\n",
    "unparsable_value": "abc,1,4\n",
    "wrong_type": "5,1,4.5\n",
    "null_value": "5,,4\n",
    "malformed_row": "5,1,4,9\n",
    "unknown_book": "5,99999,4\n",
}


@pytest.fixture
def corruptible(real_dir: Path) -> Path:
    (real_dir / "ratings.csv").write_text("user_id,book_id,rating\n1,1,5\n1,2,4\n2,1,3\n")
    return real_dir


def test_valid_folder_exits_zero(real_dir: Path) -> None:
    result = runner.invoke(app, ["validate", str(real_dir)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


@pytest.mark.parametrize("rule", sorted(CORRUPT_ROWS))
def test_each_corruption_exits_one_with_its_rule(rule: str, corruptible: Path) -> None:
    with (corruptible / "ratings.csv").open("a") as fh:
        fh.write(CORRUPT_ROWS[rule])
    result = runner.invoke(app, ["validate", str(corruptible), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert [v["rule"] for v in report["violations"]] == [rule]


@pytest.mark.parametrize(
    ("content", "rule"), [("", "empty_file"), ("user_id,book_id\n1,1\n", "missing_column")]
)
def test_structural_corruptions(content: str, rule: str, corruptible: Path) -> None:
    (corruptible / "ratings.csv").write_text(content)
    result = runner.invoke(app, ["validate", str(corruptible)])
    assert result.exit_code == 1
    assert rule in result.output


def test_missing_file_and_min_ratings(corruptible: Path) -> None:
    result = runner.invoke(app, ["validate", str(corruptible), "--min-user-ratings", "3"])
    assert result.exit_code == 1 and "user_below_min_ratings" in result.output
    (corruptible / "tags.csv").unlink()
    result = runner.invoke(app, ["validate", str(corruptible), "--json"])
    rules = {v["rule"] for v in json.loads(result.output)["violations"]}
    assert result.exit_code == 1 and "missing_file" in rules


def test_generate_then_validate_with_previous(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    result = runner.invoke(app, ["generate", "--scale", "tiny", "--out", str(out), "--seed", "3"])
    assert result.exit_code == 0, result.output
    snap = tmp_path / "snap.json"
    result = runner.invoke(app, ["validate", str(out), "--snapshot-out", str(snap)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["validate", str(out / "ratings.csv"), "--previous", str(snap)])
    assert result.exit_code == 0, result.output
    shutil.copy(out / "ratings.csv", tmp_path / "half.csv")
    lines = (out / "ratings.csv").read_text().splitlines()
    (tmp_path / "half.csv").write_text("\n".join(lines[: len(lines) // 3]) + "\n")
    result = runner.invoke(app, ["validate", str(tmp_path / "half.csv"), "--previous", str(out)])
    assert result.exit_code == 1 and "drift_" in result.output


def test_generate_rejects_unknown_scale(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--scale", "huge", "--out", str(tmp_path)])
    assert result.exit_code != 0
