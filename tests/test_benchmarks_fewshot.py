"""`python -m benchmarks fewshot`: few-shot curves of the paper, on small subsets."""

import json
import math

import pytest

from benchmarks import fewshot
from benchmarks._evaluate import load_transfer_tables
from md_sklearn._protocol import PAPER_SEEDS

POINT_KEYS = {"task", "label", "protocol", "k", "method", "mean", "std", "scores", "seeds",
              "n_train", "mean_n_train"}


@pytest.fixture(scope="module")
def q1_random(published_tables):
    points = fewshot.run(tasks=("q1",), protocols={"random": (1, 8)}, methods=("md_tree",))
    return {p["k"]: p for p in points}


@pytest.fixture(scope="module")
def q2_random_k1(published_tables):
    points = fewshot.run(tasks=("q2_width",), protocols={"random": (1,)},
                         methods=("md_tree", "landscape_dt"))
    return {p["method"]: p for p in points}


def test_random_k8_is_table_b_case_1(q1_random):
    point = q1_random[8]
    assert round(point["mean"], 4) == 87.7051
    assert point["std"] == pytest.approx(2.9730, abs=5e-5)
    assert point["n_train"] == [96] * 5


def test_random_k1_reproduces_the_papers_7664(q1_random):
    point = q1_random[1]
    assert round(point["mean"], 2) == fewshot.PAPER_POINT["accuracy"] == 76.64
    assert point["n_train"] == [12] * 5 and point["seeds"] == [42, 90, 38, 18, 72]


def test_single_class_draws_are_fitted_with_the_tasks_classes(q2_random_k1):
    from md_sklearn.model_selection import TransferSplit

    X, y, groups = load_transfer_tables()["q2_width"]
    draws = TransferSplit("random", 1).split(X, y, groups)
    one_class = [seed for seed, (train, _) in zip(PAPER_SEEDS, draws) if y.iloc[train].nunique() == 1]
    assert one_class == [42, 90, 38, 72]  # the paper's protocol draws these
    md_tree = q2_random_k1["md_tree"]
    assert all(math.isfinite(s) for s in md_tree["scores"]) and math.isfinite(md_tree["mean"])


def test_json_has_the_documented_keys(q1_random, q2_random_k1, tmp_path):
    points = list(q1_random.values()) + list(q2_random_k1.values())
    path = fewshot.write_json(points, tmp_path / "out" / "fewshot.json", seconds=1.5)
    payload = json.loads(path.read_text())
    assert set(payload) == {"seeds", "tasks", "protocols", "methods", "paper", "points", "seconds"}
    assert payload["tasks"] == {"q1": "bs_failure", "q2_width": "width_vs_batch"}
    assert payload["protocols"] == {"random": [1, 8]}
    assert payload["paper"]["accuracy"] == 76.64
    assert all(set(p) == POINT_KEYS for p in payload["points"])
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["fewshot.json"]


def test_plots_one_png_per_task(q1_random, q2_random_k1, tmp_path):
    pytest.importorskip("matplotlib")
    points = list(q1_random.values()) + list(q2_random_k1.values())
    written = fewshot.plot(points, tmp_path)
    assert [p.name for p in written] == ["fewshot_q1.png", "fewshot_q2_width.png"]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_line_writes_json_and_figures(published_tables, tmp_path, capsys):
    out = tmp_path / "curves.json"
    assert fewshot.main(["--methods", "md_tree", "--json", str(out), "--plots",
                         str(tmp_path / "figs")]) == 0
    printed = capsys.readouterr().out
    assert "ours 76.6410 %, paper 76.64 % -> reproduced" in printed and "wall time" in printed
    payload = json.loads(out.read_text())
    assert len(payload["points"]) == 2 * (24 + 10 + 13)
    assert payload["protocols"]["width_limit"] == [2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in printed
    else:
        assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == [
            "fewshot_q1.png", "fewshot_q2_width.png"]


def test_unknown_method_is_a_clear_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        fewshot.main(["--methods", "random_forest"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'random_forest'" in capsys.readouterr().err
