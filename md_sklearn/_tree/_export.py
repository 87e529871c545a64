"""Text report of a fitted MDTreeClassifier."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["export_text"]


def export_text(clf, *, feature_names=None, decimals=4):
    """Describe a fitted :class:`MDTreeClassifier` as indented text.

    Each split shows its fitted threshold and its position in the fitting
    order; each leaf shows its id (the value :meth:`MDTreeClassifier.apply`
    returns), its regime number (leaves counted left to right, as in the
    paper's figures), the class it predicts and the training samples that
    reached it per class.

    Parameters
    ----------
    clf : MDTreeClassifier
        A fitted tree.
    feature_names : sequence of str, optional
        Names for the columns; defaults to ``feature_names_in_`` or the
        names used in the hierarchy, else ``x[i]``.
    decimals : int, default=4
        Digits shown for thresholds.

    Returns
    -------
    str

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``clf`` is not fitted.
    ValueError
        If ``feature_names`` has the wrong length.

    Examples
    --------
    >>> import numpy as np
    >>> from md_sklearn import Leaf, MDTreeClassifier, Split, export_text
    >>> X = np.arange(0.05, 1.0, 0.1).reshape(-1, 1)
    >>> y = np.where(X[:, 0] < 0.5, "small", "large")
    >>> clf = MDTreeClassifier(Split(0, 0.2, (0, 1), Leaf("small"), Leaf("large"))).fit(X, y)
    >>> print(export_text(clf, feature_names=["train_error"], decimals=2))
    [split 0] train_error <= 0.50
    |   leaf 1 (regime 1): small  [n=5; large: 0, small: 5]
    [split 0] train_error >  0.50
    |   leaf 2 (regime 2): large  [n=5; large: 5, small: 0]
    """
    check_is_fitted(clf)
    tree = clf.tree_
    n_features = clf.n_features_in_
    if feature_names is None:
        names = getattr(clf, "feature_names_in_", None)
        feature_names = [str(n) for n in names] if names is not None else None
    if feature_names is not None and len(feature_names) != n_features:
        raise ValueError(
            f"expected {n_features} feature names (one per column of X), got {len(feature_names)}."
        )

    def name(column):
        return feature_names[column] if feature_names is not None else f"x[{column}]"

    left, right = tree["children_left"], tree["children_right"]
    position = {int(node): pos for pos, node in enumerate(tree["fit_order"])}
    regime = {int(node): i + 1 for i, node in enumerate(np.flatnonzero(left < 0))}
    lines = []

    def leaf_line(node, indent):
        counts = tree["value"][node]
        detail = ", ".join(f"{c}: {int(k)}" for c, k in zip(clf.classes_, counts))
        label = clf.classes_[tree["leaf_class"][node]]
        lines.append(
            f"{indent}leaf {node} (regime {regime[node]}): {label}  "
            f"[n={int(counts.sum())}; {detail}]"
        )

    def walk(node, indent):
        if left[node] < 0:
            leaf_line(node, indent)
            return
        head = f"{indent}[split {position[node]}] {name(tree['feature'][node])}"
        t = f"{tree['threshold'][node]:.{decimals}f}"
        lines.append(f"{head} <= {t}")
        walk(left[node], indent + "|   ")
        lines.append(f"{head} >  {t}")
        walk(right[node], indent + "|   ")

    walk(0, "")
    return "\n".join(lines)
