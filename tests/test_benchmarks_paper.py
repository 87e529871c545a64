"""`python -m benchmarks paper`: Table B of the paper, reproduced."""

import json
import subprocess
import sys

import pytest

from benchmarks._tableb import CASES, METHODS
from benchmarks.paper import run

# Exact means of the reference implementation (paper-protocol.md §4).
MD_TREE_REFERENCE = {1: 87.7051, 2: 75.8974, 3: 82.5641, 4: 74.1055, 5: 78.1686}


@pytest.fixture(scope="module")
def table_b(published_tables):
    return {(r["case"], r["method"]): r for r in run()}


@pytest.mark.parametrize("case", sorted(MD_TREE_REFERENCE))
def test_md_tree_column_to_four_decimals(table_b, case):
    assert round(table_b[case, "md_tree"]["mean"], 4) == MD_TREE_REFERENCE[case]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"case{c.number}")
def test_decision_tree_baselines_within_006_of_table_b(table_b, case):
    for method in ("hyperparameter_dt", "validation_dt", "landscape_dt"):
        assert abs(table_b[case.number, method]["mean"] - case.published[method]) < 0.06


def test_rows_cover_every_case_and_method(table_b):
    assert set(table_b) == {(c.number, m) for c in CASES for m in METHODS}
    row = table_b[1, "md_tree"]
    assert len(row["scores"]) == 5 and row["n_train"] == [96] * 5
    assert row["std"] == pytest.approx(2.9730, abs=5e-5)


def test_command_line_writes_json(published_tables, tmp_path):
    out = tmp_path / "table_b.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "paper", "--json", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "MD tree (brent)" in done.stdout and "wall time" in done.stdout
    payload = json.loads(out.read_text())
    assert set(payload) == {"cases", "seconds"} and len(payload["cases"]) == 30
    assert {"case", "method", "mean", "std", "scores", "n_train"} <= set(payload["cases"][0])


def test_unknown_benchmark_is_a_clear_error():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "nope"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "unknown benchmark 'nope'" in done.stderr
