"""export_text: the fitted tree as a person reads it."""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from md_sklearn import MDTreeClassifier, export_text


def _fitted():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        rng.normal(size=(50, 3)) * [0.4, 10, 1.5] + [0.5, -10, 6.5],
        columns=["train_error", "mode_connectivity_peak", "hessian_t"],
    )
    y = np.where(X["train_error"] <= 0.4, "small", "large")
    return MDTreeClassifier("q1").fit(X, y), X


def test_lists_every_split_with_threshold_and_every_leaf_with_counts():
    clf, X = _fitted()
    text = export_text(clf, decimals=3)
    for name, t in zip(["train_error", "mode_connectivity_peak", "hessian_t"], clf.thresholds_):
        assert f"{name} <= {t:.3f}" in text and f"{name} >  {t:.3f}" in text
    leaves = np.flatnonzero(clf.tree_["children_left"] < 0)
    for regime, leaf in enumerate(leaves, start=1):
        n = int(clf.tree_["value"][leaf].sum())
        assert f"leaf {leaf} (regime {regime}):" in text
        assert f"[n={n};" in text
    # leaf sample counts add up to the training set
    assert clf.tree_["value"][leaves].sum() == len(X)


def test_custom_feature_names_and_errors():
    clf, _ = _fitted()
    assert "a <= " in export_text(clf, feature_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="expected 3 feature names"):
        export_text(clf, feature_names=["a"])
    with pytest.raises(NotFittedError):
        export_text(MDTreeClassifier("q1"))
