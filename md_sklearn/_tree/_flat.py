"""Flatten a declared hierarchy into plain arrays (preorder node ids, fitting order)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from md_sklearn._tree._hierarchy import Leaf, Split, fitting_order

__all__ = ["FlatTree", "flatten", "parent_nodes"]


@dataclass(frozen=True)
class FlatTree:
    """A hierarchy as arrays indexed by preorder node id (splits and leaves).

    ``children_left[i] == -1`` marks a leaf. ``split_nodes[j]`` is the node id
    of the j-th split in preorder; ``fit_order`` lists split indices (into
    ``split_nodes``) in fitting order.
    """

    features: tuple  # per node: feature key, None for leaves
    children_left: np.ndarray
    children_right: np.ndarray
    init: np.ndarray  # per node, NaN for leaves
    bounds: np.ndarray  # (n_nodes, 2), NaN for leaves
    labels: tuple  # per node: declared leaf label (None = majority / not a leaf)
    split_nodes: np.ndarray
    leaf_nodes: np.ndarray
    fit_order: np.ndarray
    depth: int

    @property
    def n_nodes(self):
        return len(self.features)


def flatten(root):
    """Return the :class:`FlatTree` of a :class:`Split` hierarchy."""
    if not isinstance(root, Split):
        raise TypeError(
            f"expected a hierarchy whose root is a Split (at least one split), got "
            f"{type(root).__name__}; a single Leaf cannot be fitted."
        )
    features, left, right, init, bounds, labels = [], [], [], [], [], []
    depth = 0

    def visit(node, level):
        nonlocal depth
        depth = max(depth, level)
        node_id = len(features)
        features.append(None)
        left.append(-1)
        right.append(-1)
        init.append(np.nan)
        bounds.append((np.nan, np.nan))
        labels.append(None)
        if isinstance(node, Leaf):
            labels[node_id] = node.label
            return node_id
        features[node_id] = node.feature
        init[node_id] = node.init
        bounds[node_id] = node.bounds
        left[node_id] = visit(node.left, level + 1)
        right[node_id] = visit(node.right, level + 1)
        return node_id

    visit(root, 0)
    children_left = np.asarray(left, dtype=np.intp)
    split_nodes = np.flatnonzero(children_left >= 0)
    return FlatTree(
        features=tuple(features),
        children_left=children_left,
        children_right=np.asarray(right, dtype=np.intp),
        init=np.asarray(init, dtype=float),
        bounds=np.asarray(bounds, dtype=float),
        labels=tuple(labels),
        split_nodes=split_nodes,
        leaf_nodes=np.flatnonzero(children_left < 0),
        fit_order=np.asarray(fitting_order(root), dtype=np.intp),
        depth=depth,
    )


def parent_nodes(children_left, children_right):
    """Parent node id of every node of a tree given as child arrays (-1 at the root).

    Examples
    --------
    >>> import numpy as np
    >>> parent_nodes(np.array([1, -1, -1]), np.array([2, -1, -1])).tolist()
    [-1, 0, 0]
    """
    parent = np.full(children_left.size, -1, dtype=np.intp)
    splits = np.flatnonzero(children_left >= 0)
    parent[children_left[splits]] = splits
    parent[children_right[splits]] = splits
    return parent
