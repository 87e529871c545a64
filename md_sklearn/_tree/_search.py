"""Fitting one threshold: the accuracy profile of a node and the two searches.

While one node is fitted, every other threshold is fixed, so each training
sample's fate is fixed apart from the side it takes at this node. The number
of correct training predictions is therefore a step function of how many of
the sorted samples reaching the node go left; it is tabulated once (O(n log n))
and every evaluation of the objective is a binary search in that table.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np
from scipy.optimize import minimize_scalar

from md_sklearn._tree._routing import route

__all__ = ["accuracy_profile", "brent_threshold", "exhaustive_threshold"]


def _leaf_scores(counts, targets):
    """Correct predictions summed over leaves, from class counts ``(..., n_leaves, n_classes)``.

    ``targets[j] >= 0`` is leaf j's fixed class code; ``-1`` means the leaf
    predicts the majority class of the rows it receives.
    """
    index = np.broadcast_to(np.maximum(targets, 0)[:, None], counts.shape[:-1] + (1,))
    fixed = np.take_along_axis(counts, index, axis=-1)[..., 0]
    return np.where(targets >= 0, fixed, counts.max(axis=-1)).sum(axis=-1)


def accuracy_profile(X, y_codes, n_classes, tree, columns, thresholds, leaf_targets, node):
    """Sorted feature values at ``node`` and the correct-count for each split position.

    Returns
    -------
    xs : ndarray of shape (m,)
        Sorted values of the node's feature over the m training rows reaching it.
    correct : ndarray of int of shape (m + 1,)
        ``correct[k]`` = correct training predictions of the whole tree when
        the first ``k`` of those rows go left.
    """
    left, right = tree.children_left, tree.children_right
    n_cells = tree.n_nodes * n_classes  # one count per (node id, class)
    at = route(X, columns, thresholds, left, right, 0, stop_node=node)
    reach = at == node
    # Rows that never reach the node end in fixed leaves outside its subtree.
    base = np.bincount(at[~reach] * n_classes + y_codes[~reach], minlength=n_cells)

    x = X[reach, columns[node]]
    order = np.argsort(x, kind="stable")
    xs = x[order]
    rows = X[reach][order]
    y_sorted = y_codes[reach][order]
    m = xs.size
    # Leaves in the left and in the right subtree are disjoint, so the class
    # counts of every leaf are base + (first k rows, routed left) + (the rest,
    # routed right), and each leaf's score only sees its own counts.
    going_left = route(rows, columns, thresholds, left, right, left[node]) * n_classes + y_sorted
    going_right = route(rows, columns, thresholds, left, right, right[node]) * n_classes + y_sorted
    steps = np.arange(m)
    left_prefix = np.zeros((m + 1, n_cells), dtype=np.int64)
    left_prefix[steps + 1, going_left] = 1
    right_suffix = np.zeros((m + 1, n_cells), dtype=np.int64)
    right_suffix[steps, going_right] = 1
    counts = (
        base + np.cumsum(left_prefix, axis=0) + np.cumsum(right_suffix[::-1], axis=0)[::-1]
    ).reshape(m + 1, tree.n_nodes, n_classes)
    leaves = tree.leaf_nodes
    return xs, _leaf_scores(counts[:, leaves], leaf_targets[leaves])


def brent_threshold(xs, correct, n_samples, bounds):
    """The paper's search: bounded Brent on minus the training accuracy.

    ``scipy.optimize.minimize_scalar(method="bounded")`` with default options,
    exactly as the reference implementation calls it.
    """

    # bisect_right on a list counts the values <= t exactly like
    # np.searchsorted(side="right") with less call overhead; int / int is
    # correctly rounded, the same float as the reference's mean of booleans.
    values, counts = xs.tolist(), correct.tolist()

    def objective(t):
        return -(counts[bisect_right(values, t)] / n_samples)

    result = minimize_scalar(objective, bounds=tuple(bounds), method="bounded")
    return float(result.x)


def exhaustive_threshold(xs, correct, bounds, prefer):
    """Globally best threshold inside ``bounds``; ties go towards ``prefer``.

    Every split position that some threshold in ``[low, high]`` produces is
    scored (positions between equal values are unreachable and skipped). The
    chosen position becomes the midpoint of its two neighbouring sorted values,
    kept inside the bounds. If ``prefer`` (the Brent answer) already attains the
    best accuracy it is returned unchanged.
    """
    low, high = bounds
    m = xs.size
    if m == 0:  # no training row reaches this split: every threshold scores the same
        return float(prefer)
    k_low = int(np.searchsorted(xs, low, side="right"))
    k_high = int(np.searchsorted(xs, high, side="right"))
    positions = np.arange(k_low, k_high + 1)
    interior = (positions > 0) & (positions < m)
    reachable = ~interior | (
        xs[np.clip(positions - 1, 0, m - 1)] < xs[np.clip(positions, 0, m - 1)]
    )
    positions = positions[reachable]
    scores = correct[positions]
    best = scores.max()
    k_prefer = int(np.searchsorted(xs, prefer, side="right"))
    if low <= prefer <= high and correct[k_prefer] == best:
        return float(prefer)
    tied = positions[scores == best]
    k = int(tied[np.argmin(np.abs(tied - k_prefer))])
    below = xs[k - 1] if k > 0 else low
    above = xs[k] if k < m else high
    t = min(max(0.5 * (below + above), low), high)
    if k < m and t >= xs[k]:  # midpoint rounded onto the upper neighbour
        t = below
    return float(t)
