"""Text report of a fitted MDTreeClassifier."""

from __future__ import annotations

from sklearn.utils.validation import check_is_fitted

from md_sklearn._tree._fitted import (
    column_names,
    leaf_regimes,
    leaf_support,
    split_positions,
)

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
    names = column_names(clf, feature_names)
    left, right = tree["children_left"], tree["children_right"]
    position = split_positions(clf)
    regime = leaf_regimes(clf)
    lines = []

    def leaf_line(node, indent):
        detail = ", ".join(f"{c}: {int(k)}" for c, k in zip(clf.classes_, tree["value"][node]))
        label = clf.classes_[tree["leaf_class"][node]]  # as numpy prints it, like the detail
        lines.append(
            f"{indent}leaf {node} (regime {regime[node]}): {label}  "
            f"[n={leaf_support(clf, node)}; {detail}]"
        )

    def walk(node, indent):
        if left[node] < 0:
            leaf_line(node, indent)
            return
        head = f"{indent}[split {position[node]}] {names[tree['feature'][node]]}"
        t = f"{tree['threshold'][node]:.{decimals}f}"
        lines.append(f"{head} <= {t}")
        walk(left[node], indent + "|   ")
        lines.append(f"{head} >  {t}")
        walk(right[node], indent + "|   ")

    walk(0, "")
    note = clf._bound_note()  # thresholds fitted on a bound with no training value inside
    if note is not None:
        lines.append(f"note: {note}")
    return "\n".join(lines)
