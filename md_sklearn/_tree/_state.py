"""The fitted state of an :class:`MDTreeClassifier`: from thresholds and class counts to
``tree_``, ``thresholds_``, ``hierarchy_`` and ``train_score_``.

``fit`` computes the thresholds and counts from the training data; a saved summary
(:func:`md_sklearn.pretrained`) gives them directly. Both build the attributes here,
so a tree read back from a summary is the tree ``fit`` would have made. Only
:class:`MDTreeClassifier` sets the attributes (``fit`` and ``_from_fitted_state``).
"""

from __future__ import annotations

import numpy as np

from md_sklearn._tree._flat import parent_nodes
from md_sklearn._tree._hierarchy import Leaf, Split

__all__ = ["fitted_state", "saved_arrays"]


def fitted_state(root, tree, columns, thresholds, value, leaf_targets, classes):
    """``tree_``, ``thresholds_``, ``hierarchy_`` and ``train_score_`` of a fitted tree.

    Parameters
    ----------
    root : Split
        The declared hierarchy.
    tree : FlatTree
        ``root`` flattened.
    columns : ndarray of int
        Column of X each node tests (used at splits).
    thresholds : ndarray of float
        One threshold per node (used at splits).
    value : ndarray of int of shape (n_nodes, n_classes)
        Training class counts per node.
    leaf_targets : ndarray of int
        Class code of each fixed-label leaf, -1 elsewhere.
    classes : ndarray
        ``classes_``.

    Returns
    -------
    dict
        Attribute name -> value.
    """
    leaf_class = _resolve_leaf_classes(tree, leaf_targets, value)
    leaves = tree.leaf_nodes  # each training row is counted in exactly one leaf
    n_samples = int(value[leaves].sum())
    return {
        "tree_": {
            "children_left": tree.children_left,
            "children_right": tree.children_right,
            "feature": np.where(tree.children_left >= 0, columns, -1),
            "threshold": np.where(tree.children_left >= 0, thresholds, np.nan),
            "value": value,
            "leaf_class": leaf_class,
            "fit_order": tree.split_nodes[tree.fit_order],
            "depth": np.intp(tree.depth),
        },
        "thresholds_": thresholds[tree.split_nodes[tree.fit_order]],
        "hierarchy_": _fitted_hierarchy(
            root, thresholds[tree.split_nodes], leaf_class, tree, classes
        ),
        "train_score_": int(value[leaves, leaf_class[leaves]].sum()) / max(n_samples, 1),
    }


def saved_arrays(tree, n_features, n_classes, *, thresholds, leaf_counts, feature_min,
                 feature_max):
    """Per-node thresholds and class counts, and the training ranges, of a saved summary.

    Parameters
    ----------
    tree : FlatTree
        The declared hierarchy, flattened.
    n_features, n_classes : int
        Number of columns of X and of classes.
    thresholds : sequence of float
        In fitting order (as ``thresholds_``).
    leaf_counts : sequence of sequence of int
        One row of training class counts per leaf, in preorder.
    feature_min, feature_max : sequence of float
        Training range per column.

    Returns
    -------
    node_thresholds : ndarray of float of shape (n_nodes,)
    value : ndarray of int of shape (n_nodes, n_classes)
        Class counts per node, a split's the sum of its children's.
    feature_min, feature_max : ndarray of float of shape (n_features,)

    Raises
    ------
    ValueError
        If a shape does not fit the declared tree.
    """
    thresholds = np.asarray(thresholds, dtype=float)
    leaf_counts = np.asarray(leaf_counts, dtype=np.int64)
    ranges = [np.asarray(r, dtype=float) for r in (feature_min, feature_max)]
    expected = {
        "thresholds": ((tree.split_nodes.size,), thresholds.shape),
        "leaf_counts": ((tree.leaf_nodes.size, n_classes), leaf_counts.shape),
        "feature_min": ((n_features,), ranges[0].shape),
        "feature_max": ((n_features,), ranges[1].shape),
    }
    for what, (shape, got) in expected.items():
        if shape != got:
            raise ValueError(
                f"expected {what} of shape {shape} for the declared tree, got {got}; the "
                f"saved summary does not belong to this hierarchy."
            )
    node_thresholds = np.full(tree.n_nodes, np.nan)
    node_thresholds[tree.split_nodes[tree.fit_order]] = thresholds
    value = np.zeros((tree.n_nodes, n_classes), dtype=np.int64)
    value[tree.leaf_nodes] = leaf_counts
    for node in tree.split_nodes[::-1]:  # children follow their parent in preorder
        value[node] = value[tree.children_left[node]] + value[tree.children_right[node]]
    return node_thresholds, value, ranges[0], ranges[1]


def _resolve_leaf_classes(tree, leaf_targets, value):
    """Class code predicted by each leaf (-1 at splits).

    Fixed leaves keep their label; majority leaves take the majority of their
    training samples, or, when none reached them, of the nearest ancestor that
    had samples.
    """
    parent = parent_nodes(tree.children_left, tree.children_right)
    leaf_class = np.full(tree.n_nodes, -1, dtype=np.intp)
    for node in tree.leaf_nodes:
        if leaf_targets[node] >= 0:
            leaf_class[node] = leaf_targets[node]
            continue
        source = node
        while value[source].sum() == 0 and parent[source] >= 0:
            source = parent[source]
        leaf_class[node] = int(np.argmax(value[source]))
    return leaf_class


def _fitted_hierarchy(root, split_thresholds, leaf_class, tree, classes):
    """The declared tree with fitted thresholds as ``init`` and resolved leaf labels."""
    leaf_labels = iter(classes[leaf_class[node]] for node in tree.leaf_nodes)
    thresholds = iter(split_thresholds)

    def rebuild(node):
        if isinstance(node, Leaf):
            label = next(leaf_labels)
            return Leaf(label.item() if hasattr(label, "item") else label)
        t = float(next(thresholds))
        return Split(
            node.feature, t, node.bounds, rebuild(node.left), rebuild(node.right), order=node.order
        )

    return rebuild(root)
