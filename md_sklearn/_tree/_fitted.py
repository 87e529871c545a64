"""Facts of a fitted :class:`MDTreeClassifier`, computed in one place for every reader.

The export, the reports, the figures and the pretrained summaries all number the
leaves the same way (regimes, counted left to right from 1, as the paper's figures
and ``docs/getting_started.rst`` show), name a node's feature the same way and
follow a sample through the tree with the same ``feature <= threshold`` rule
(:mod:`md_sklearn._tree._routing`). Each function reads only the fitted attributes
(``tree_``, ``classes_``, ``n_features_in_``, ``feature_names_in_``); none changes
the estimator.
"""

from __future__ import annotations

import math

import numpy as np

from md_sklearn._tree._flat import parent_nodes
from md_sklearn._tree._routing import route, route_paths

__all__ = [
    "column_names",
    "feature_names_in",
    "leaf_boxes",
    "leaf_label",
    "leaf_purity",
    "leaf_regimes",
    "leaf_support",
    "parents",
    "route_leaves",
    "route_visits",
    "row_paths",
    "split_nodes",
    "split_positions",
]


# ------------------------------------------------------------------- feature names
def feature_names_in(clf):
    """The column names seen in ``fit`` (or bound by the ``feature_names`` parameter) as a
    list of str, or None when X had none.

    Examples
    --------
    >>> import numpy as np
    >>> from md_sklearn import MDTreeClassifier
    >>> clf = MDTreeClassifier().fit(np.arange(4.0).reshape(-1, 1), [0, 0, 1, 1])
    >>> feature_names_in(clf) is None
    True
    """
    names = getattr(clf, "feature_names_in_", None)
    if names is None:  # names bound to the columns of an array (the feature_names parameter)
        names = getattr(clf, "feature_names", None)
        if names is not None and len(names) != getattr(clf, "n_features_in_", -1):
            names = None
    return None if names is None else [str(name) for name in names]


def column_names(clf, feature_names=None):
    """One display name per column of X: ``feature_names``, ``feature_names_in_``, else ``x[i]``.

    Parameters
    ----------
    clf : MDTreeClassifier
        A fitted tree.
    feature_names : sequence of str, optional
        Names given by the user; they win over the names seen in ``fit``.

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        If ``feature_names`` does not hold one name per column.

    Examples
    --------
    >>> import numpy as np
    >>> from md_sklearn import MDTreeClassifier
    >>> clf = MDTreeClassifier().fit(np.arange(8.0).reshape(-1, 2), [0, 0, 1, 1])
    >>> column_names(clf), column_names(clf, ["a", "b"])
    (['x[0]', 'x[1]'], ['a', 'b'])
    """
    n_features = clf.n_features_in_
    if feature_names is None:
        names = feature_names_in(clf)
        return names if names is not None else [f"x[{i}]" for i in range(n_features)]
    feature_names = list(feature_names)
    if len(feature_names) != n_features:
        raise ValueError(
            f"expected {n_features} feature names (one per column of X), got "
            f"{len(feature_names)}."
        )
    return [str(name) for name in feature_names]


# ------------------------------------------------------------------------- nodes
def split_nodes(clf):
    """Node ids of the splits in preorder (the order of :func:`iter_splits`)."""
    return np.flatnonzero(clf.tree_["children_left"] >= 0)


def split_positions(clf):
    """Split node id -> its position in the fitting order (0 = fitted first)."""
    return {int(node): position for position, node in enumerate(clf.tree_["fit_order"])}


def parents(clf):
    """Parent node id of every node (-1 at the root)."""
    return parent_nodes(clf.tree_["children_left"], clf.tree_["children_right"])


def leaf_regimes(clf):
    """Leaf node id -> regime number: the leaves counted left to right from 1.

    Examples
    --------
    >>> import numpy as np
    >>> from md_sklearn import Leaf, MDTreeClassifier, Split
    >>> tree = Split(0, 0.5, (0, 1), Leaf("a"), Split(0, 0.7, (0, 1), Leaf("b"), Leaf("a")))
    >>> clf = MDTreeClassifier(tree).fit([[0.1], [0.6], [0.9]], ["a", "b", "a"])
    >>> leaf_regimes(clf)
    {1: 1, 3: 2, 4: 3}
    """
    leaves = np.flatnonzero(clf.tree_["children_left"] < 0)
    return {int(node): regime for regime, node in enumerate(leaves, start=1)}


def leaf_boxes(clf):
    """Every leaf's region of feature space as an axis-aligned box.

    A sample reaches a leaf exactly when, for every column ``j``,
    ``low[k, j] < x[j] <= high[k, j]`` (the routing's ``feature <= threshold`` rule:
    left is ``<=``, right is ``>``); untested columns have ``(-inf, inf]``.

    Returns
    -------
    leaves : ndarray of int, shape (n_leaves,)
        Leaf node ids, left to right (regime order).
    low, high : ndarray of float, shape (n_leaves, n_features_in_)
        The open lower and closed upper bound of each leaf's box.

    Examples
    --------
    >>> import numpy as np
    >>> from md_sklearn import Leaf, MDTreeClassifier, Split
    >>> tree = Split(0, 0.5, (0, 1), Leaf("a"), Split(0, 0.7, (0, 1), Leaf("b"), Leaf("a")))
    >>> clf = MDTreeClassifier(tree).fit([[0.1], [0.6], [0.9]], ["a", "b", "a"])
    >>> leaves, low, high = leaf_boxes(clf)
    >>> t = clf.thresholds_.tolist()
    >>> leaves.tolist(), low[:, 0].tolist() == [-np.inf, *t], high[:, 0].tolist() == [*t, np.inf]
    ([1, 3, 4], True, True)
    """
    t = clf.tree_
    left, right = t["children_left"], t["children_right"]
    n_nodes, n_features = left.shape[0], int(clf.n_features_in_)
    low = np.full((n_nodes, n_features), -np.inf)
    high = np.full((n_nodes, n_features), np.inf)
    for node in range(n_nodes):  # preorder: a parent comes before its children
        if left[node] < 0:
            continue
        column, threshold = int(t["feature"][node]), float(t["threshold"][node])
        for child in (left[node], right[node]):
            low[child], high[child] = low[node], high[node]
        high[left[node], column] = min(high[node, column], threshold)
        low[right[node], column] = max(low[node, column], threshold)
    leaves = np.flatnonzero(left < 0)
    return leaves, low[leaves], high[leaves]


def leaf_label(clf, node):
    """The class a leaf predicts, as a plain Python scalar (``np.str_('a')`` -> ``'a'``)."""
    label = clf.classes_[clf.tree_["leaf_class"][node]]
    return label.item() if hasattr(label, "item") else label


def leaf_support(clf, node):
    """Number of training samples that reached ``node``."""
    return int(clf.tree_["value"][node].sum())


def leaf_purity(clf, node):
    """Share of a leaf's training samples carrying the class it predicts (NaN if none)."""
    counts = clf.tree_["value"][node]
    total = int(counts.sum())
    return float(counts[clf.tree_["leaf_class"][node]]) / total if total else math.nan


# ----------------------------------------------------------------------- routing
def route_leaves(clf, X):
    """Leaf id each row of a validated float array ``X`` ends in."""
    t = clf.tree_
    return route(X, t["feature"], t["threshold"], t["children_left"], t["children_right"], 0)


def route_visits(clf, X):
    """``(rows, nodes)``: every node each row of ``X`` visits, the root first."""
    t = clf.tree_
    return route_paths(
        X, t["feature"], t["threshold"], t["children_left"], t["children_right"], int(t["depth"])
    )


def row_paths(clf, X):
    """The nodes each row of ``X`` visits, root to leaf: one int array per row.

    Examples
    --------
    >>> import numpy as np
    >>> from md_sklearn import Leaf, MDTreeClassifier, Split
    >>> tree = Split(0, 0.5, (0, 1), Leaf("a"), Split(0, 0.7, (0, 1), Leaf("b"), Leaf("a")))
    >>> clf = MDTreeClassifier(tree).fit([[0.1], [0.6], [0.9]], ["a", "b", "a"])
    >>> [path.tolist() for path in row_paths(clf, np.array([[0.2], [0.95]]))]
    [[0, 1], [0, 2, 4]]
    """
    rows, nodes = route_visits(clf, X)
    order = np.argsort(rows, kind="stable")  # route_paths lists the levels root first
    counts = np.bincount(rows, minlength=X.shape[0])
    return np.split(nodes[order], np.cumsum(counts)[:-1])
