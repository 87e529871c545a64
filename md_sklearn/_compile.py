"""Flatten a declared hierarchy into plain arrays (preorder node ids, fitting order)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from md_sklearn._hierarchy import Leaf, Split

__all__ = ["FlatTree", "fitting_order", "flatten"]


def _splits_breadth_first(root):
    """Preorder split indices visited level by level, left to right."""
    preorder_index = {id(node): i for i, node in enumerate(_splits_preorder(root))}
    out, queue = [], deque([root])
    while queue:
        node = queue.popleft()
        if isinstance(node, Split):
            out.append(preorder_index[id(node)])
            queue.extend((node.left, node.right))
    return out


def _splits_preorder(node):
    if isinstance(node, Split):
        yield node
        yield from _splits_preorder(node.left)
        yield from _splits_preorder(node.right)


def fitting_order(root):
    """Preorder split indices in the order their thresholds are fitted.

    Nodes with an explicit ``order`` take that position; the others fill the
    free positions breadth-first.

    Raises
    ------
    ValueError
        If two nodes claim the same position or a position is out of range.
    """
    splits = list(_splits_preorder(root))
    n = len(splits)
    slots = [None] * n
    for i, node in enumerate(splits):
        if node.order is None:
            continue
        if node.order >= n:
            raise ValueError(
                f"Split(feature={node.feature!r}, order={node.order}): expected order < {n} "
                f"(the tree has {n} splits, positions 0..{n - 1}), got {node.order}."
            )
        if slots[node.order] is not None:
            other = splits[slots[node.order]]
            raise ValueError(
                f"Split(feature={node.feature!r}, order={node.order}): position {node.order} is "
                f"already taken by Split(feature={other.feature!r}); give every node a distinct order."
            )
        slots[node.order] = i
    free = iter(i for i in _splits_breadth_first(root) if splits[i].order is None)
    return [s if s is not None else next(free) for s in slots]


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
