"""Facts of a fitted tree (md_sklearn._tree._fitted) and the constructor from a saved state."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from md_sklearn import Leaf, MDTreeClassifier, Split, export_text
from md_sklearn._tree import _fitted
from md_sklearn._tree._pretrained import tree_summary

#: Leaves 2, 3, 5, 6 in preorder; the right split is fitted first.
TREE = Split(
    "a", 0.5, (0, 1),
    Split("b", 0.5, (0, 1), Leaf("x"), Leaf("y")),
    Split("b", 0.5, (0, 1), Leaf("y"), Leaf(), order=0),
)


def _fitted_tree(seed=0, n=60):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(size=(n, 2)), columns=["a", "b"])
    y = np.where(X["b"] <= 0.4, "x", "y")
    y[:2] = "x"
    return MDTreeClassifier(TREE).fit(X, y), X


CLF, X = _fitted_tree()


def test_regimes_count_the_leaves_left_to_right_as_export_text():
    assert _fitted.leaf_regimes(CLF) == {2: 1, 3: 2, 5: 3, 6: 4}
    text = export_text(CLF)
    for leaf, regime in _fitted.leaf_regimes(CLF).items():
        assert f"leaf {leaf} (regime {regime})" in text


def test_split_positions_parents_and_split_nodes():
    assert _fitted.split_nodes(CLF).tolist() == [0, 1, 4]
    assert _fitted.split_positions(CLF) == {4: 0, 0: 1, 1: 2}
    assert _fitted.parents(CLF).tolist() == [-1, 0, 1, 1, 0, 4, 4]


def test_leaf_label_support_and_purity():
    value, leaves, predicted = CLF.tree_["value"], CLF.apply(X), CLF.predict(X)
    for leaf in _fitted.leaf_regimes(CLF):
        label = _fitted.leaf_label(CLF, leaf)
        assert type(label) is str and label == CLF.classes_[CLF.tree_["leaf_class"][leaf]]
        assert set(predicted[leaves == leaf]) <= {label}
        assert _fitted.leaf_support(CLF, leaf) == (leaves == leaf).sum()
        code = list(CLF.classes_).index(label)
        if value[leaf].sum():
            assert _fitted.leaf_purity(CLF, leaf) == value[leaf][code] / value[leaf].sum()


def test_an_empty_leaf_has_nan_purity():
    X1 = np.array([[0.1], [0.2], [0.3]])
    clf = MDTreeClassifier(Split(0, 0.9, (0.8, 1.0), Leaf("a"), Leaf("b")), classes=["a", "b"])
    clf.fit(X1, ["a"] * 3)
    assert _fitted.leaf_support(clf, 2) == 0 and np.isnan(_fitted.leaf_purity(clf, 2))


def test_feature_names():
    assert _fitted.feature_names_in(CLF) == ["a", "b"]
    assert _fitted.column_names(CLF) == ["a", "b"]
    assert _fitted.column_names(CLF, ("u", 7)) == ["u", "7"]
    with pytest.raises(ValueError, match=r"expected 2 feature names \(one per column of X\), got 3"):
        _fitted.column_names(CLF, ["u", "v", "w"])
    plain = MDTreeClassifier().fit(np.arange(6.0).reshape(-1, 2), [0, 0, 1])
    assert _fitted.feature_names_in(plain) is None
    assert _fitted.column_names(plain) == ["x[0]", "x[1]"]


@pytest.mark.filterwarnings("ignore::md_sklearn.exceptions.FeatureRangeWarning")
@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-0.5, 1.5), st.floats(-0.5, 1.5)), min_size=1, max_size=30))
def test_row_paths_agree_with_apply_and_decision_path(rows):
    Xq = pd.DataFrame(rows, columns=["a", "b"])
    paths = _fitted.row_paths(CLF, Xq.to_numpy(dtype=float))
    visited = CLF.decision_path(Xq).toarray()
    leaves = CLF.apply(Xq)
    assert len(paths) == len(rows)
    for i, path in enumerate(paths):
        assert path[0] == 0 and path[-1] == leaves[i]
        assert path.tolist() == np.flatnonzero(visited[i]).tolist()
        # each step goes to a child of the previous node
        parent = _fitted.parents(CLF)
        assert all(parent[child] == node for node, child in zip(path[:-1], path[1:]))


def _state(clf):
    summary = tree_summary(clf, label_column="label", min_width=None)
    classes = sorted(summary["classes"])
    return {
        "feature_names": summary["features"],
        "thresholds": [entry["value"] for entry in summary["thresholds"]],
        "leaf_counts": [[leaf["counts"][c] for c in classes] for leaf in summary["leaves"]],
        "feature_min": clf.feature_min_, "feature_max": clf.feature_max_,
    }


def test_from_fitted_state_rebuilds_the_fitted_tree():
    clf = MDTreeClassifier(TREE, classes=["y", "x"]).fit(X, CLF.predict(X))
    restored = MDTreeClassifier._from_fitted_state(hierarchy=TREE, classes=["y", "x"],
                                                   **_state(clf))
    assert type(restored) is MDTreeClassifier and restored.get_params() == clf.get_params()
    for key, value in clf.tree_.items():
        np.testing.assert_array_equal(restored.tree_[key], value)
    np.testing.assert_array_equal(restored.thresholds_, clf.thresholds_)
    np.testing.assert_array_equal(restored.classes_, clf.classes_)
    assert restored.hierarchy_ == clf.hierarchy_ and restored.train_score_ == clf.train_score_
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("field", ["thresholds", "leaf_counts", "feature_min", "feature_max"])
def test_from_fitted_state_refuses_a_summary_of_another_tree(field):
    state = _state(CLF)
    state[field] = list(state[field])[:-1]
    with pytest.raises(ValueError, match=f"expected {field} of shape .* got .*; the saved summary"):
        MDTreeClassifier._from_fitted_state(hierarchy=TREE, classes=["x", "y"], **state)


def test_no_module_outside_the_class_sets_fitted_attributes():
    from pathlib import Path

    import md_sklearn

    root = Path(md_sklearn.__file__).parent
    offending = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "_classifier.py"
                 and any(f".{name} =" in p.read_text(encoding="utf-8")
                         for name in ("tree_", "thresholds_", "hierarchy_", "classes_",
                                      "feature_min_", "feature_names_in_"))]
    assert offending == []
