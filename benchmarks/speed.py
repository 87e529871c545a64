"""Fit + predict time of MDTreeClassifier on Table B case 1 (seed 42) vs DecisionTreeClassifier."""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.metrics import accuracy_score
from sklearn.tree import DecisionTreeClassifier

from benchmarks._evaluate import load_transfer_tables
from benchmarks._tableb import CASES, MD_TREE_FEATURES
from md_sklearn import MDTreeClassifier
from md_sklearn._protocol import (
    BASELINE_TREE_DEPTH,
    CONNECTIVITY_SPLIT,
    HESSIAN_SPLIT,
    TRAIN_ERROR_SPLIT,
)
from md_sklearn.model_selection import TransferSplit


def per_row_q1(X, thresholds):
    """The Q1 tree the straightforward way: one Python branch per row."""
    out = []
    for row in X:
        if row[0] <= thresholds[0]:
            out.append("small")
        elif row[1] <= thresholds[1]:
            out.append("large" if row[2] <= thresholds[2] else "small")
        else:
            out.append("large")
    return np.array(out)


def per_row_fit_predict(X_train, y_train, X_test):
    """Baseline: the paper's procedure with a per-row predictor and accuracy_score per evaluation."""
    splits = (TRAIN_ERROR_SPLIT, CONNECTIVITY_SPLIT, HESSIAN_SPLIT)  # Q1, in fitting order
    thresholds = [init for _, init, _ in splits]
    bounds = [bounds for _, _, bounds in splits]
    for i in range(len(splits)):

        def objective(t, i=i):
            thresholds[i] = t
            return -accuracy_score(y_train, per_row_q1(X_train, thresholds))

        thresholds[i] = minimize_scalar(objective, bounds=bounds[i], method="bounded").x
    return per_row_q1(X_test, thresholds)


def median_seconds(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks speed", description=__doc__)
    parser.add_argument("--repeats", type=int, default=50, help="timed runs per method (>= 20)")
    parser.add_argument("--json", metavar="PATH", help="also write the timings as JSON")
    parser.add_argument("--data-home", metavar="DIR", help="folder holding the published CSVs")
    args = parser.parse_args(argv)
    if args.repeats < 20:
        parser.error(
            f"--repeats: expected at least 20 runs for a stable median, got {args.repeats}"
        )

    case = CASES[0]
    X, y, groups = load_transfer_tables(args.data_home)[case.task]
    train, test = next(TransferSplit(case.sampling, case.k, seeds=[42]).split(X, y, groups))
    features = MD_TREE_FEATURES[case.task]
    X_train, X_test = X.iloc[train][features], X.iloc[test][features]
    y_train = y.iloc[train].to_numpy()
    arrays = X_train.to_numpy(), X_test.to_numpy()

    md_tree = MDTreeClassifier(case.task)
    dt = DecisionTreeClassifier(max_depth=BASELINE_TREE_DEPTH, random_state=42)
    timings = {
        "md_tree_dataframe": median_seconds(
            lambda: md_tree.fit(X_train, y_train).predict(X_test), args.repeats
        ),
        "decision_tree_dataframe": median_seconds(
            lambda: dt.fit(X_train, y_train).predict(X_test), args.repeats
        ),
        "decision_tree_ndarray": median_seconds(
            lambda: dt.fit(arrays[0], y_train).predict(arrays[1]), args.repeats
        ),
        "per_row_reference_style": median_seconds(
            lambda: per_row_fit_predict(arrays[0], y_train, arrays[1]), max(20, args.repeats // 5)
        ),
    }
    predictions = md_tree.fit(X_train, y_train).predict(X_test)
    agree = bool(np.array_equal(predictions, per_row_fit_predict(arrays[0], y_train, arrays[1])))

    ms = {k: 1000 * v for k, v in timings.items()}
    print(
        f"Table B case 1, seed 42: {len(train)} training rows, {len(test)} test rows; "
        f"median of {args.repeats} runs (fit + predict)"
    )
    print(f"  MDTreeClassifier('q1'), DataFrame in   {ms['md_tree_dataframe']:8.3f} ms")
    print(
        f"  DecisionTreeClassifier, DataFrame in   {ms['decision_tree_dataframe']:8.3f} ms   "
        f"(MD tree / DT = {timings['md_tree_dataframe'] / timings['decision_tree_dataframe']:.2f}x)"
    )
    print(f"  DecisionTreeClassifier, ndarray in     {ms['decision_tree_ndarray']:8.3f} ms")
    print(
        f"  per-row loop + accuracy_score (paper-style baseline) "
        f"{ms['per_row_reference_style']:8.3f} ms   (speed-up "
        f"{timings['per_row_reference_style'] / timings['md_tree_dataframe']:.1f}x; "
        f"same predictions: {agree})"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(
                {
                    "milliseconds": ms,
                    "repeats": args.repeats,
                    "n_train": len(train),
                    "n_test": len(test),
                    "same_predictions_as_per_row": agree,
                },
                handle,
                indent=2,
            )
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
