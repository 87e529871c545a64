"""Tests of the study's per-case summary and tables on a hand-made evaluation."""

import numpy as np
import pytest

from benchmarks.study._report import correctness, format_tables, headline, summarize
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
