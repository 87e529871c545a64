"""explain with standard errors: margins in SE, the exact flip probability (checked against
brute-force sampling), fragile diagnoses and the measurement to refine, and bad X_se."""

import dataclasses
import math
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from md_sklearn import FeatureRangeWarning, Leaf, MDTreeClassifier, Split, explain, pretrained
from md_sklearn._report._confidence import FRAGILE_LEVEL
from md_sklearn._tree._fitted import leaf_boxes, route_leaves

COLUMNS = ["train_error", "mode_connectivity_peak", "hessian_t"]
SE_COLUMNS = [f"{c}_se" for c in COLUMNS]
Q1 = pretrained("q1")


def _frame(n, seed):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, 3)) * [0.4, 10, 1.5] + [0.5, -10, 6.5]
    values[:, :2] = np.abs(values[:, :2]) * [1, -1]  # in the published ranges
    return pd.DataFrame(values, columns=COLUMNS)


def _se_frame(X, scale, seed=0):
    rng = np.random.default_rng(seed)
    se = np.abs(rng.normal(size=X.shape)) * np.asarray(scale)
    return pd.DataFrame(se, columns=SE_COLUMNS, index=X.index)


# ------------------------------------------------------------------ random trees
def _hierarchy(draw, depth, labels):
    if depth == 0 or draw(st.booleans()) and depth < 3:
        return Leaf(draw(st.sampled_from(labels)))
    feature = draw(st.integers(0, 2))
    init = draw(st.floats(-1.5, 1.5))
    return Split(feature, init, (-2.0, 2.0), _hierarchy(draw, depth - 1, labels),
                 _hierarchy(draw, depth - 1, labels))


def _leaves(node):
    if isinstance(node, Leaf):
        return [node]
    return _leaves(node.left) + _leaves(node.right)


@st.composite
def trees_and_points(draw):
    labels = ["a", "b", "c"]
    root = _hierarchy(draw, 3, labels)
    if isinstance(root, Leaf):
        root = Split(0, 0.0, (-2.0, 2.0), root, Leaf("b" if root.label == "a" else "a"))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 3))
    declared = sorted({leaf.label for leaf in _leaves(root)})
    y = rng.choice(declared, size=60)
    clf = MDTreeClassifier(root).fit(X, y)
    thresholds = list(clf.tree_["threshold"][clf.tree_["children_left"] >= 0])
    point = []
    for _ in range(3):
        # a coordinate on or near a threshold makes the flip likely and tests the <= edge
        near = draw(st.sampled_from([None] + thresholds))
        offset = draw(st.sampled_from([0.0, 0.05, -0.05, 0.3]))
        point.append(draw(st.floats(-2.5, 2.5)) if near is None else near + offset)
    se = [draw(st.sampled_from([0.0, 0.01, 0.1, 0.5, 2.0])) for _ in range(3)]
    return clf, np.array([point]), np.array([se])


def _sampled_flip(clf, point, se, n, rng, only=None):
    scale = se if only is None else np.where(np.arange(se.size) == only, se, 0.0)
    noisy = point + rng.normal(size=(n, point.shape[1])) * scale
    leaves = route_leaves(clf, noisy)
    label = clf.tree_["leaf_class"]
    predicted = label[route_leaves(clf, point)[0]]
    return np.mean(label[leaves] != predicted), leaves


@settings(max_examples=60, deadline=None)
@given(trees_and_points())
def test_flip_probability_matches_brute_force_sampling(case):
    clf, point, se = case
    record = explain(clf, point, se)[0]
    rng = np.random.default_rng(0)
    n = 20_000
    sampled, leaves = _sampled_flip(clf, point, se[0], n, rng)
    p = record.flip_probability
    tolerance = 5 * math.sqrt(max(p * (1 - p), 1 / n) / n)
    assert abs(sampled - p) <= tolerance, (sampled, p)
    # each leaf's probability too, and they sum to one
    from md_sklearn._report._confidence import leaf_probabilities

    ids, low, high = leaf_boxes(clf)
    per_leaf = leaf_probabilities(point, se, low, high, [0, 1, 2])[0]
    assert per_leaf.sum() == pytest.approx(1.0, abs=1e-9)
    for leaf, q in zip(ids, per_leaf):
        assert abs(np.mean(leaves == leaf) - q) <= 5 * math.sqrt(max(q * (1 - q), 1 / n) / n)
    # one feature's noise at a time, as flip_by_feature reports it
    names = dict(record.flip_by_feature)
    for j in {int(f) for f in clf.tree_["feature"][clf.tree_["children_left"] >= 0]}:
        alone, _ = _sampled_flip(clf, point, se[0], n, rng, only=j)
        q = names[f"x[{j}]"]
        assert abs(alone - q) <= 5 * math.sqrt(max(q * (1 - q), 1 / n) / n)
    assert record.fragile == (p > FRAGILE_LEVEL)


def test_margins_in_standard_errors_and_the_printed_confidence():
    X = pd.DataFrame({"train_error": [12.0, 3.0], "mode_connectivity_peak": [-30.0, -4.5],
                      "hessian_t": [7.5, 6.2]}, index=["far", "near"])
    S = pd.DataFrame({"train_error_se": [0.5, 0.3], "mode_connectivity_peak_se": [3.0, 2.0],
                      "hessian_t_se": [0.5, 0.1]}, index=X.index)
    report = explain(Q1, X, S)
    far, near = report
    for record, row in zip(report, X.index):
        for step in record.path:
            assert step.standard_error == S.loc[row, f"{step.feature}_se"]
            assert step.margin_se == pytest.approx(step.margin / step.standard_error)
            assert f"= {step.margin_se:+.3g} SE" in str(step)
    assert not far.fragile and far.flip_probability < 0.01
    assert "confidence: robust" in str(far)
    # near: -0.04 SE from the connectivity threshold, 0.6 SE from the trace threshold
    assert near.fragile and near.flip_probability > 0.5
    assert near.refine == "mode_connectivity_peak"
    assert dict(near.flip_by_feature)["mode_connectivity_peak"] == max(
        p for _, p in near.flip_by_feature)
    text = str(near)
    assert "confidence: FRAGILE" in text
    assert "repeat or refine the measurement of mode_connectivity_peak" in text
    frame = report.to_frame()
    assert list(frame.columns[-3:]) == ["flip_probability", "fragile", "refine"]
    assert frame.loc["near", "refine"] == "mode_connectivity_peak"
    # the level is the caller's
    assert not explain(Q1, X, S, fragile_level=0.9)[1].fragile


def test_zero_standard_errors_give_todays_records():
    X = _frame(80, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureRangeWarning)
        plain = explain(Q1, X)
        certain = explain(Q1, X, pd.DataFrame(0.0, index=X.index, columns=SE_COLUMNS))
    for before, after in zip(plain, certain):
        assert after.flip_probability == 0.0 and after.fragile is False and after.refine is None
        stripped = dataclasses.replace(
            after, flip_probability=None, fragile=None, refine=None, flip_by_feature=(),
            path=tuple(dataclasses.replace(s, standard_error=None, margin_se=None)
                       for s in after.path))
        assert stripped == before and repr(stripped) == repr(before)
        assert str(stripped) == str(before)
        for step in after.path:
            assert step.margin_se == (0.0 if step.margin == 0 else math.copysign(math.inf,
                                                                                step.margin))


def test_zero_standard_error_on_the_threshold_is_certain():
    threshold = float(Q1.tree_["threshold"][0])  # train_error at the root: <= goes left
    X = pd.DataFrame({"train_error": [threshold], "mode_connectivity_peak": [-1.0],
                      "hessian_t": [6.0]})
    record = explain(Q1, X, X.add_suffix("_se") * 0)[0]
    assert record.path[0].direction == "<=" and record.path[0].margin_se == 0.0
    assert record.flip_probability == 0.0
    # with noise, about half the draws cross the root's threshold
    S = pd.DataFrame({"train_error_se": [0.05], "mode_connectivity_peak_se": [0.0],
                      "hessian_t_se": [0.0]})
    assert 0.0 <= explain(Q1, X, S)[0].flip_probability <= 0.5 + 1e-12


def test_without_standard_errors_nothing_changes():
    X = _frame(5, 4)
    report = explain(Q1, X)
    record = report[0]
    assert record.flip_probability is None and record.fragile is None
    assert record.flip_by_feature == () and record.confidence() is None
    assert "flip_probability" not in repr(record) and "standard_error" not in repr(record.path[0])
    assert "confidence" not in str(report)
    assert "flip_probability" not in report.to_frame().columns


def test_the_featurizer_output_serves_as_both_x_and_x_se():
    X = _frame(10, 5)
    table = pd.concat([X, _se_frame(X, [0.05, 1.0, 0.2])], axis=1).assign(other=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureRangeWarning)
        clf = MDTreeClassifier("q1").fit(table, Q1.predict(X))  # the tree ignores _se columns
        assert clf.feature_names_in_.tolist() == list(table.columns)
        report = explain(clf, table, table)
    assert all(r.flip_probability is not None for r in report)
    # an array of the shape of X works too
    values = table.to_numpy()
    se = np.zeros_like(values)
    se[:, :3] = table[SE_COLUMNS].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by_array = explain(clf, values, se)
    assert [r.flip_probability for r in by_array] == [r.flip_probability for r in report]


def test_records_with_uncertainty_pickle_and_stay_frozen():
    X = _frame(3, 6)
    record = explain(Q1, X, _se_frame(X, [0.1, 1, 0.1]))[0]
    assert pickle.loads(pickle.dumps(record)) == record
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.flip_probability = 0.0


def test_bad_standard_errors_are_refused_with_the_fix():
    X = _frame(4, 7)
    S = _se_frame(X, [0.1, 1, 0.1])
    with pytest.raises(ValueError, match=r"expected finite standard errors >= 0, got -0.5 in "
                                         r"hessian_t_se \(row 2.*give 0 for a feature known"):
        explain(Q1, X, S.assign(hessian_t_se=[0.1, 0.1, -0.5, 0.1]))
    with pytest.raises(ValueError, match=r"expected finite standard errors >= 0, got nan in "
                                         r"mode_connectivity_peak_se.*connectivity_pairs='all'"):
        explain(Q1, X, S.assign(mode_connectivity_peak_se=np.nan))
    with pytest.raises(ValueError, match=r"got inf"):
        explain(Q1, X, S.assign(train_error_se=np.inf))
    with pytest.raises(ValueError, match=r"missing \['hessian_t_se'\].*return_uncertainty=True"):
        explain(Q1, X, S.drop(columns="hessian_t_se"))
    with pytest.raises(ValueError, match=r"rename them with X_se.add_suffix\('_se'\)"):
        explain(Q1, X, S.set_axis(COLUMNS, axis=1))
    with pytest.raises(ValueError, match=r"one row per sample of X \(4\), got 3"):
        explain(Q1, X, S.iloc[:3])
    with pytest.raises(ValueError, match=r"index to match X's index.*X_se.loc\[X.index\]"):
        explain(Q1, X, S.set_axis(list("abcd")))
    with pytest.raises(ValueError, match=r"expected X_se of the shape of X, \(4, 3\), got \(4, 2\)"):
        explain(Q1, X, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"expected numeric standard errors in hessian_t_se"):
        explain(Q1, X, S.assign(hessian_t_se="x"))
    with pytest.raises(ValueError, match=r"fragile_level to be a probability.*got 1.5"):
        explain(Q1, X, S, fragile_level=1.5)
    # a column the tree does not test is not read: NaN there is fine
    explain(pretrained("q2_width"), X[COLUMNS[:2]], S.assign(hessian_t_se=np.nan))
