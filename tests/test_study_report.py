"""Tests of the study's per-case summary and tables on a hand-made evaluation."""

import numpy as np
import pytest

from benchmarks.study import _report
from benchmarks.study._report import (
    confidence_line,
    confidence_split,
    correctness,
    format_tables,
    headline,
    summarize,
)
from benchmarks.study._run import METHODS


def _evaluation():
    true = ["small", "large", "small", "small"]
    right, wrong = true, ["large", "small", "large", "large"]
    runs = []
    for seed in (42, 90):
        predictions = {method: list(true) for method in METHODS}
        predictions["md_tree"] = right
        predictions["md_tree_exhaustive"] = ["small"] * 4  # 3 of 4
        predictions["hyperparameter_dt"] = wrong
        predictions["validation_dt"] = ["small", "small", "small", "large"]  # 2 of 4
        predictions["landscape_dt"] = ["small", "large", "large", "large"] if seed == 42 \
            else list(true)  # 2 then 4 of 4: mean 75 %
        predictions["hyper_validation_dt"] = wrong
        runs.append({"seed": seed, "n_train": 5, "predictions": predictions})
    return {"case": "digits/q1_random", "title": "t", "task": "q1", "label": "bs_failure",
            "sampling": "random", "k": 4, "primary": True, "train": ["digits", "clean"],
            "test": ["digits", "noisy"], "true": true, "runs": runs}


def test_summary_by_hand():
    evaluation = _evaluation()
    np.testing.assert_array_equal(correctness(evaluation, "md_tree_exhaustive"),
                                  [[1, 0, 1, 1], [1, 0, 1, 1]])
    summary = summarize(evaluation, n_boot=500)
    assert summary["methods"]["md_tree"]["mean"] == 100.0
    assert summary["methods"]["md_tree"]["std"] == 0.0
    assert summary["methods"]["landscape_dt"]["scores"] == [50.0, 100.0]
    assert summary["methods"]["landscape_dt"]["std"] == 25.0
    assert summary["best_baseline"] == "landscape_dt"  # the best of the four DTs, not majority
    comparison = summary["comparisons"]["md_tree"]
    assert comparison["difference"] == pytest.approx(25.0)
    assert comparison["baseline"] == "landscape_dt"
    assert len(comparison["mcnemar_p_per_repetition"]) == 2
    assert comparison["mcnemar_p_per_repetition"][1] == 1.0  # no discordant pair
    assert summary["test_classes"] == {"large": 1, "small": 3}


def test_tables_and_headline():
    summary = summarize(_evaluation(), n_boot=200)
    report = {"collections": {}, "cases": {"tolerance": [summary], "rfi": [summary]}}
    text = format_tables(report)
    assert "MD tree (brent)" in text and "[primary]" in text
    lines = headline(report)
    assert "digits/q1_random" in lines[1] and "Loss-landscape+DT" in lines[1]
    assert lines[-1].startswith("   verdicts: ")
    skipped = {**summary, "skipped": "no test"}
    del skipped["comparisons"]
    assert "not evaluable" in headline({"cases": {"tolerance": [skipped]}})[1]


def _with_confidence():
    # md_tree: right on configs 0 and 2 in both runs, wrong on 1 and 3
    evaluation = _evaluation()
    for run in evaluation["runs"]:
        run["predictions"]["md_tree"] = ["small", "small", "small", "large"]
        run["flip_probability"] = {"md_tree": [0.01, 0.6, 0.1, 0.9]}
        run["fragile"] = {"md_tree": [False, True, False, True]}
    evaluation["runs"][1]["fragile"]["md_tree"] = [False, True, True, False]
    return evaluation


def test_confidence_split_by_hand(monkeypatch):
    monkeypatch.setattr(_report, "MIN_CONFIGURATIONS", 3)
    split = confidence_split(_with_confidence(), n_boot=2000)
    # robust: run 1 configs 0, 2 (right, right); run 2 configs 0 (right), 3 (wrong)
    assert split["robust"]["n"] == 4 and split["robust"]["accuracy"] == 75.0
    # fragile: run 1 configs 1, 3 (both wrong); run 2 configs 1 (wrong), 2 (right)
    assert split["fragile"]["n"] == 4 and split["fragile"]["accuracy"] == 25.0
    assert split["difference"]["value"] == 50.0
    assert split["fragile_share"] == 50.0
    for side in ("robust", "fragile"):
        assert split[side]["low"] <= split[side]["accuracy"] <= split[side]["high"]
    assert split["difference"]["low"] <= 50.0 <= split["difference"]["high"]


def test_confidence_split_bootstrap_matches_a_direct_resample(monkeypatch):
    # the interval resamples whole test configurations, both sides from the same draw
    monkeypatch.setattr(_report, "MIN_CONFIGURATIONS", 3)
    evaluation = _with_confidence()
    split = confidence_split(evaluation, n_boot=4000, random_state=3)
    rng = np.random.default_rng(3)
    indices = rng.integers(0, 4, size=(4000, 4))
    true = np.array(evaluation["true"], dtype=object)
    correct = np.array([np.array(r["predictions"]["md_tree"], dtype=object) == true
                        for r in evaluation["runs"]], dtype=float)
    fragile = np.array([r["fragile"]["md_tree"] for r in evaluation["runs"]])
    robust_acc = []
    for draw in indices:
        mask = ~fragile[:, draw]
        robust_acc.append(100 * correct[:, draw][mask].sum() / mask.sum()
                          if mask.sum() else np.nan)
    low, high = np.nanquantile(robust_acc, [0.025, 0.975])
    assert split["robust"]["low"] == pytest.approx(low)
    assert split["robust"]["high"] == pytest.approx(high)


def test_confidence_split_needs_enough_configurations_to_compare():
    # 4 fragile diagnoses from 3 configurations: under the default minimum, so neither
    # their interval nor the difference is given
    split = confidence_split(_with_confidence(), n_boot=200)
    assert split["fragile"]["configurations"] == 3 and split["fragile"]["n"] == 4
    assert split["difference"] is None and split["fragile"]["low"] is None
    line = confidence_line(split)
    assert "too few configurations on one side" in line and "fragile 25.0 % of 4" in line


def test_confidence_in_summary_and_tables():
    assert confidence_split(_evaluation(), n_boot=100) is None  # runs without confidence
    summary = summarize(_with_confidence(), n_boot=200)
    assert summary["confidence"]["robust"]["n"] == 4
    report = {"collections": {}, "cases": {"tolerance": [summary]}}
    assert "by confidence: robust 75.0 %" in format_tables(report)
    assert any("fragile 25.0 %" in line for line in headline(report))
    one_sided = _with_confidence()
    for run in one_sided["runs"]:
        run["fragile"]["md_tree"] = [False] * 4
    split = confidence_split(one_sided, n_boot=100)
    assert split["fragile"]["n"] == 0 and split["difference"] is None
