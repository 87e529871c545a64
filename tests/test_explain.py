"""explain: one record per sample with its path, regime, evidence, diagnosis in words and warnings."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

from md_sklearn import (
    DiagnosisRecord,
    DiagnosisReport,
    FeatureRangeWarning,
    Leaf,
    MDTreeClassifier,
    PathStep,
    Split,
    explain,
)

COLUMNS = ["train_error", "mode_connectivity_peak", "hessian_t"]


def _frame(n, seed):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, 3)) * [0.4, 10, 1.5] + [0.5, -10, 6.5]
    return pd.DataFrame(values, columns=COLUMNS)


def _fitted(name, labels, seed=0):
    X = _frame(120, seed)
    first, second = labels
    y = np.where(X["train_error"] <= 0.4, first, second)
    y[(X["mode_connectivity_peak"] > -5).to_numpy()] = second
    y[:3] = first  # both classes in every leaf's neighbourhood
    return MDTreeClassifier(name).fit(X, y), X


Q1, Q1_X = _fitted("q1", ("small", "large"))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-1, 2), st.floats(-40, 5), st.floats(3, 10)),
                min_size=1, max_size=15))
def test_records_agree_with_predict_apply_and_decision_path(rows):
    X = pd.DataFrame(rows, columns=COLUMNS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureRangeWarning)
        report = explain(Q1, X)
        predicted, leaves = Q1.predict(X), Q1.apply(X)
        visited = Q1.decision_path(X).toarray()
    assert len(report) == len(X)
    tree = Q1.tree_
    for i, record in enumerate(report):
        assert record.sample == i and record.predicted == predicted[i] and record.leaf == leaves[i]
        nodes = [step.node for step in record.path]
        assert nodes + [record.leaf] == np.flatnonzero(visited[i]).tolist()
        for step in record.path:
            assert step.feature == COLUMNS[tree["feature"][step.node]]
            assert step.value == X.iloc[i][step.feature]
            assert step.threshold == tree["threshold"][step.node]
            assert step.margin == step.value - step.threshold
            assert (step.direction == "<=") == (step.margin <= 0)
        counts = tree["value"][record.leaf]
        assert record.support == counts.sum()
        if counts.sum():
            share = counts[list(Q1.classes_).index(record.predicted)] / counts.sum()
            assert record.purity == share
        else:
            assert math.isnan(record.purity)


@pytest.mark.parametrize(
    ("name", "labels", "words"),
    [
        ("q1", ("small", "large"), {
            "small": ("optimizer temperature too small", "batch size too large: decrease it"),
            "large": ("optimizer temperature too large", "batch size too small: increase it"),
        }),
        ("q2_width", ("width", "batch"), {
            "width": ("model size", "model too small: widen it"),
            "batch": ("optimizer", "optimizer setting: tune the batch size"),
        }),
        ("q2_data", ("data", "batch"), {
            "data": ("amount of training data", "too little data: add training data"),
            "batch": ("optimizer", "optimizer setting: tune the batch size"),
        }),
    ],
)
def test_each_question_speaks_its_words(name, labels, words):
    clf, X = _fitted(name, labels)
    report = explain(clf, X)
    seen = set()
    for record in report:
        assert (record.failure_source, record.action) == words[record.predicted]
        seen.add(record.predicted)
    assert seen == set(labels)


def test_optimal_means_nothing_to_change():
    X = _frame(40, 1)
    y = np.where(X["hessian_t"] <= 6.5, "optimal", "small")
    clf = MDTreeClassifier(Split("hessian_t", 6.0, (4, 9), Leaf("optimal"), Leaf("small"))).fit(X, y)
    record = explain(clf, X.loc[[X["hessian_t"].idxmin()]])[0]
    assert record.predicted == "optimal" and record.action == "nothing to change"


def test_user_labels_fall_back_to_the_label():
    X = np.array([[0.1], [0.2], [0.7], [0.9]])
    clf = MDTreeClassifier(Split(0, 0.5, (0, 1), Leaf(7), Leaf(3))).fit(X, [7, 7, 3, 3])
    report = explain(clf, X)
    assert [r.failure_source for r in report] == ["predicted: 7"] * 2 + ["predicted: 3"] * 2
    assert all(r.action is None for r in report)
    text = str(report[0])
    assert text.startswith("sample 0: predicted: 7") and "action" not in text
    threshold = clf.thresholds_[0]
    assert f"x[0] = 0.1 <= {threshold:.4g} (margin {0.1 - threshold:+.4g})" in text


def test_text_and_frame_name_the_samples_and_hold_every_field():
    X = Q1_X.iloc[:4].set_axis(["a", "b", "c", "d"])
    report = explain(Q1, X)
    assert isinstance(report, DiagnosisReport) and isinstance(report[0], DiagnosisRecord)
    assert isinstance(report[0].path[0], PathStep)
    text = str(report)
    for sample, record in zip("abcd", report):
        block = str(record)
        assert block.startswith(f"sample {sample}: {record.failure_source}") and block in text
        assert f"regime:  {record.regime} (leaf {record.leaf}, predicts {record.predicted})" in block
        assert f"training purity {100 * record.purity:.1f} % of {record.support} samples" in block
        assert all(str(step) in block for step in record.path)
    frame = report.to_frame()
    assert list(frame.index) == list("abcd") and frame.index.name == "sample"
    assert list(frame.columns) == ["predicted", "failure_source", "action", "regime", "leaf",
                                   "purity", "support", "path", "notes"]
    assert frame.loc["b", "path"] == "; ".join(map(str, report[1].path))
    assert frame["regime"].tolist() == [r.regime for r in report]
    assert [r.sample for r in report[1:3]] == ["b", "c"] and isinstance(report[1:3], DiagnosisReport)
    assert "4 sample(s)" in repr(report)


def test_far_values_become_notes_and_one_warning_per_feature():
    X = Q1_X.iloc[:3].copy()
    X.iloc[1, X.columns.get_loc("hessian_t")] = np.exp(7.0)  # a raw trace
    with pytest.warns(FeatureRangeWarning) as record:
        report = explain(Q1, X)
    assert len(record) == 1 and "'hessian_t': 1 of 3" in str(record[0].message)
    assert record[0].filename == __file__
    assert report[0].notes == () and report[2].notes == ()
    (note,) = report[1].notes
    assert note.startswith("feature 'hessian_t' = 1097 lies far outside the training range")
    assert "pass its natural log" in note
    assert f"warning: {note}" in str(report[1]) and report.to_frame().iloc[1]["notes"] == note


def test_a_leaf_no_training_sample_reached():
    X = np.array([[0.1], [0.2], [0.6], [0.8]])
    tree = Split(0, 0.5, (0.0, 1.0), Leaf("a"), Split(0, 0.95, (0.9, 1.0), Leaf("b"), Leaf("a")))
    clf = MDTreeClassifier(tree).fit(X, ["a", "a", "b", "b"])
    record = explain(clf, np.array([[1.5]]))[0]
    assert record.support == 0 and math.isnan(record.purity)
    assert "no training sample reached this leaf" in str(record)


def test_a_pipeline_ending_in_the_tree():
    frame = Q1_X.assign(extra=1.0)
    y = Q1.predict(Q1_X)
    select = ColumnTransformer([("f", "passthrough", COLUMNS)], verbose_feature_names_out=False)
    pipe = Pipeline([("select", select.set_output(transform="pandas")),
                     ("tree", MDTreeClassifier("q1"))]).fit(frame, y)
    report = explain(pipe, frame.iloc[:5])
    np.testing.assert_array_equal([r.predicted for r in report], pipe.predict(frame.iloc[:5]))


def test_bad_input():
    with pytest.raises(TypeError, match="expected a fitted MDTreeClassifier.*got DecisionTreeClassifier"):
        explain(DecisionTreeClassifier().fit([[0], [1]], [0, 1]), [[0]])
    with pytest.raises(NotFittedError):
        explain(MDTreeClassifier("q1"), Q1_X)
    with pytest.raises(ValueError, match="hessian_t"):
        explain(Q1, Q1_X.drop(columns="hessian_t"))


def _walked_records(clf, X):
    """The records as ``explain`` built them before it used the routing module: its own
    per-row walk with ``value <= threshold``, kept here as the reference."""
    values = X.to_numpy(dtype=float)
    tree = clf.tree_
    left, right = tree["children_left"], tree["children_right"]
    regime = {int(node): k for k, node in enumerate(np.flatnonzero(left < 0), start=1)}
    out = []
    for row in range(values.shape[0]):
        node, path = 0, []
        while left[node] >= 0:
            column, threshold = tree["feature"][node], tree["threshold"][node]
            value = float(values[row, column])
            went_left = value <= threshold
            path.append((int(node), str(clf.feature_names_in_[column]), value, float(threshold),
                         "<=" if went_left else ">", value - float(threshold)))
            node = left[node] if went_left else right[node]
        counts = tree["value"][node]
        out.append((tuple(path), int(node), regime[int(node)], int(counts.sum())))
    return out


def _as_walked(report):
    return [(tuple((s.node, s.feature, s.value, s.threshold, s.direction, s.margin)
                   for s in r.path), r.leaf, r.regime, r.support) for r in report]


@pytest.mark.parametrize("name", ["q1", "q1_cka", "q2_width", "q2_data"])
def test_routing_gives_the_records_of_the_previous_walk_on_the_published_tables(
        published_tables, name):
    from md_sklearn import pretrained

    clf = pretrained(name)
    for table in published_tables.values():
        X = table[list(clf.feature_names_in_)].dropna()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FeatureRangeWarning)
            report = explain(clf, X)
        assert _as_walked(report) == _walked_records(clf, X)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([None, 0, 1, 2]), st.floats(-1, 2),
                          st.floats(-40, 5), st.floats(3, 10)), min_size=1, max_size=20))
def test_routing_gives_the_records_of_the_previous_walk_on_random_rows(rows):
    # a row may take a split's threshold exactly (index 0-2: that split's feature), so the
    # ``<=`` boundary itself is checked, not only values on either side of it
    thresholds = {int(Q1.tree_["feature"][n]): float(Q1.tree_["threshold"][n])
                  for n in np.flatnonzero(Q1.tree_["children_left"] >= 0)}
    values = []
    for at, *row in rows:
        if at is not None and at in thresholds:
            row[at] = thresholds[at]
        values.append(row)
    X = pd.DataFrame(values, columns=COLUMNS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureRangeWarning)
        report = explain(Q1, X)
    assert _as_walked(report) == _walked_records(Q1, X)
