"""pretrained: the paper's trees fitted on the whole clean collection, restored from the shipped JSON."""

import json
import os
import pickle
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from md_sklearn import (
    PRETRAINED_NAMES,
    FeatureRangeWarning,
    MDTreeClassifier,
    export_text,
    pretrained,
)
from md_sklearn._tree._pretrained import tree_from_summary, tree_summary

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "make_pretrained.py"

#: Each pretrained tree: its label column, width limit and features, written out here
#: independently of the package (the paper's trees and rows, docs/hierarchies.rst and docs/table_b.rst).
PAPER_TREES = {
    "q1": ("bs_failure", None, ["train_error", "mode_connectivity_peak", "hessian_t"]),
    "q1_cka": ("bs_failure", None, ["train_error", "mode_connectivity_peak", "CKA"]),
    "q2_width": ("width_vs_batch", None, ["train_error", "mode_connectivity_peak"]),
    "q2_data": ("data_vs_batch", 32, ["train_error", "mode_connectivity_peak", "hessian_t"]),
}


def _shipped_text():
    return resources.files("md_sklearn").joinpath("_data", "pretrained_trees.json").read_text(
        encoding="utf-8"
    )


def _fresh_fit(clean, name):
    label, min_width, features = PAPER_TREES[name]
    rows = clean[clean[label] != "optimal"]
    if min_width is not None:
        rows = rows[rows["width"] >= min_width]
    return MDTreeClassifier(name).fit(rows[features], rows[label]), features


def test_the_four_names_and_bad_names():
    assert PRETRAINED_NAMES == ("q1", "q1_cka", "q2_width", "q2_data")
    for name in PRETRAINED_NAMES:
        clf = pretrained(name)
        assert isinstance(clf, MDTreeClassifier) and clf.hierarchy == name
        assert list(clf.feature_names_in_) == PAPER_TREES[name][2]
    with pytest.raises(ValueError, match=r"expected a pretrained tree name in \['q1'.*got 'q1_ood'"):
        pretrained("q1_ood")
    with pytest.raises(TypeError, match="expected a pretrained tree name"):
        pretrained(1)


def test_table_b_features_and_labels_are_the_ones_shipped():
    from benchmarks._tableb import LABELS, MD_TREE_FEATURES

    for task, features in MD_TREE_FEATURES.items():
        assert PAPER_TREES[task][2] == features and PAPER_TREES[task][0] == LABELS[task]


def test_shipped_file_holds_summaries_only():
    text = _shipped_text()
    assert len(text.encode()) < 16_000
    summaries = json.loads(text)
    assert set(summaries["trees"]) == set(PRETRAINED_NAMES)
    for name, tree in summaries["trees"].items():
        assert set(tree) == {"rows", "features", "classes", "thresholds", "feature_range", "leaves",
                             "scored", "measured_range"}
        clf = pretrained(name)
        # leaf counts add up to the training rows; one entry per leaf and split
        assert sum(sum(leaf["counts"].values()) for leaf in tree["leaves"]) == tree["rows"]["n_samples"]
        assert len(tree["leaves"]) == int((clf.tree_["children_left"] < 0).sum())
        assert len(tree["thresholds"]) == clf.thresholds_.size


def test_restored_tree_pickles_clones_and_reports():
    clf = pretrained("q2_data")
    X = pd.DataFrame({"train_error": [0.0, 0.5, 10.0, 30.0],
                      "mode_connectivity_peak": [0.0, -5.0, -0.0001, -10.0],
                      "hessian_t": [4.0, 6.0, 5.5, 7.0]})
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params() and not hasattr(fresh, "thresholds_")
    text = export_text(clf)
    assert text.count("leaf ") == 7 and "[split 5] hessian_t" in text


def test_summary_round_trip_on_a_tree_fitted_here():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(80, 3)) * [0.4, 10, 1.5] + [0.5, -10, 6.5],
                     columns=PAPER_TREES["q1"][2])
    y = np.where(X["train_error"] <= 0.4, "small", "large")
    fitted = MDTreeClassifier("q1", classes=["large", "small"]).fit(X, y)
    summary = json.loads(json.dumps(tree_summary(fitted, label_column="bs_failure", min_width=None)))
    restored = tree_from_summary("q1", summary)
    np.testing.assert_array_equal(restored.thresholds_, fitted.thresholds_)
    np.testing.assert_array_equal(restored.tree_["value"], fitted.tree_["value"])
    np.testing.assert_array_equal(restored.feature_min_, fitted.feature_min_)
    assert restored.train_score_ == fitted.train_score_ and restored.hierarchy_ == fitted.hierarchy_
    grid = pd.DataFrame(rng.normal(size=(200, 3)) * [0.4, 10, 1.5] + [0.5, -10, 6.5],
                        columns=X.columns)
    np.testing.assert_array_equal(restored.predict_proba(grid), fitted.predict_proba(grid))

    summary["thresholds"] = summary["thresholds"][:2]
    with pytest.raises(ValueError, match="expected thresholds for the splits"):
        tree_from_summary("q1", summary)


def test_raw_hessian_trace_warns():
    X = pd.DataFrame({"train_error": [5.0], "mode_connectivity_peak": [-20.0],
                      "hessian_t": [np.exp(7.0)]})
    with pytest.warns(FeatureRangeWarning, match=r"'hessian_t'.*pass its natural log"):
        pretrained("q1").predict(X)


# q2_data rightly warns on the tables' narrow models (width < 32), outside its region
@pytest.mark.filterwarnings("ignore::md_sklearn.exceptions.FeatureRangeWarning")
@pytest.mark.parametrize("name", PRETRAINED_NAMES)
def test_restored_tree_equals_a_fresh_fit_on_the_published_table(published_tables, name):
    clean, noisy = published_tables["clean"], published_tables["noisy"]
    fresh, features = _fresh_fit(clean, name)
    clf = pretrained(name)
    np.testing.assert_array_equal(clf.thresholds_, fresh.thresholds_)
    for key in ("value", "leaf_class", "feature", "threshold"):
        np.testing.assert_array_equal(clf.tree_[key], fresh.tree_[key])
    np.testing.assert_array_equal(clf.feature_min_, fresh.feature_min_)
    np.testing.assert_array_equal(clf.feature_max_, fresh.feature_max_)
    assert clf.train_score_ == fresh.train_score_ and clf.hierarchy_ == fresh.hierarchy_
    for table in (clean, noisy):
        np.testing.assert_array_equal(clf.predict(table[features]), fresh.predict(table[features]))
        np.testing.assert_array_equal(
            clf.predict_proba(table[features]), fresh.predict_proba(table[features])
        )


def test_noisy_test_set_sizes_and_accuracy_of_q1(published_tables):
    from md_sklearn.model_selection import transfer_table

    X, y, groups = transfer_table(published_tables["clean"], published_tables["noisy"],
                                  "bs_failure")
    test = groups == "noisy"
    assert test.sum() == 1560  # Table B's Q1 test set
    clf = pretrained("q1")
    accuracy = clf.score(X.loc[test, list(clf.feature_names_in_)], y[test])
    fresh, features = _fresh_fit(published_tables["clean"], "q1")
    assert accuracy == fresh.score(X.loc[test, features], y[test])
    # an upper reference: above Table B's few-shot MD tree (87.7051 % with 96 models)
    assert accuracy > 0.877051


def test_regenerating_the_file_gives_the_same_bytes(published_tables, tmp_path):
    output = tmp_path / "pretrained_trees.json"
    folder = os.path.abspath(os.environ["MD_SKLEARN_DATA"])  # the script runs in tmp_path
    command = [sys.executable, str(SCRIPT), "--data-home", folder]
    done = subprocess.run(command + ["--output", str(output)], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert output.read_bytes() == _shipped_text().encode("utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["pretrained_trees.json"]  # no leftovers

    output.write_text("{}\n", encoding="utf-8")
    check = subprocess.run(command + ["--output", str(output), "--check"], capture_output=True,
                           text=True, cwd=tmp_path)
    assert check.returncode == 1 and "differs" in check.stdout
    assert output.read_text(encoding="utf-8") == "{}\n"  # --check writes nothing
