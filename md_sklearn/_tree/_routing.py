"""Vectorised routing of samples through a flattened tree."""

from __future__ import annotations

import numpy as np

__all__ = ["route", "route_paths"]


def route(X, columns, thresholds, children_left, children_right, start, stop_node=-1):
    """Node id where each row of ``X`` ends, starting from ``start``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    columns : ndarray of int, per node column index (unused for leaves)
    thresholds : ndarray of float, per node threshold (unused for leaves)
    children_left, children_right : ndarray of int, -1 for leaves
    start : int or ndarray of int
        Starting node per row (a scalar applies to all rows).
    stop_node : int, default=-1
        Rows that reach this node stay there instead of descending.

    Returns
    -------
    ndarray of int of shape (n_samples,)
    """
    node = np.full(X.shape[0], start, dtype=np.intp) if np.isscalar(start) else start.copy()
    rows = np.arange(X.shape[0])
    while True:
        active = np.flatnonzero((children_left[node] >= 0) & (node != stop_node))
        if active.size == 0:
            return node
        at = node[active]
        go_left = X[rows[active], columns[at]] <= thresholds[at]
        node[active] = np.where(go_left, children_left[at], children_right[at])


def route_paths(X, columns, thresholds, children_left, children_right, depth):
    """Nodes visited by each row from the root: ``(rows, nodes)`` index pairs."""
    node = np.zeros(X.shape[0], dtype=np.intp)
    rows = np.arange(X.shape[0])
    visited_rows, visited_nodes = [rows], [node]
    for _ in range(depth):
        active = np.flatnonzero(children_left[node] >= 0)
        if active.size == 0:
            break
        at = node[active]
        go_left = X[active, columns[at]] <= thresholds[at]
        node = node.copy()
        node[active] = np.where(go_left, children_left[at], children_right[at])
        visited_rows.append(active)
        visited_nodes.append(node[active])
    return np.concatenate(visited_rows), np.concatenate(visited_nodes)
