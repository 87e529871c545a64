"""route / route_paths on their own, against a per-row walk written out here."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from md_sklearn._tree._routing import route, route_paths

#: Values a feature or a threshold takes: few, so rows often sit exactly on a threshold.
GRID = st.sampled_from([-1.0, 0.0, 0.25, 0.5, 1.0])


@st.composite
def trees(draw, n_features=3, max_splits=6):
    """A random tree as preorder child arrays, with a column and threshold per split."""
    n_splits = draw(st.integers(1, max_splits))
    left, right, column, threshold, depth = [], [], [], [], [0]

    def grow(budget, level):
        node = len(left)
        for arr, value in ((left, -1), (right, -1), (column, 0), (threshold, np.nan)):
            arr.append(value)
        depth[0] = max(depth[0], level)
        if budget == 0:
            return node, 0
        column[node] = draw(st.integers(0, n_features - 1))
        threshold[node] = draw(GRID)
        share = draw(st.integers(0, budget - 1))
        left[node], used_left = grow(share, level + 1)
        right[node], used_right = grow(budget - 1 - share, level + 1)
        return node, 1 + used_left + used_right

    grow(n_splits, 0)
    arrays = (np.asarray(column, dtype=np.intp), np.asarray(threshold, dtype=float),
              np.asarray(left, dtype=np.intp), np.asarray(right, dtype=np.intp))
    return (*arrays, depth[0])


def _walk(row, columns, thresholds, left, right, start=0, stop_node=-1):
    """Nodes one row visits: the textbook loop, ``<=`` goes left."""
    node, path = start, [start]
    while left[node] >= 0 and node != stop_node:
        node = left[node] if row[columns[node]] <= thresholds[node] else right[node]
        path.append(node)
    return path


def _rows(draw_rows):
    return np.asarray(draw_rows, dtype=float).reshape(-1, 3)


ROWS = st.lists(st.tuples(GRID, GRID, GRID), min_size=1, max_size=25)


@settings(max_examples=100, deadline=None)
@given(trees(), ROWS)
def test_route_ends_where_the_walk_ends(tree, rows):
    columns, thresholds, left, right, _ = tree
    X = _rows(rows)
    got = route(X, columns, thresholds, left, right, 0)
    assert got.tolist() == [_walk(row, columns, thresholds, left, right)[-1] for row in X]


@settings(max_examples=100, deadline=None)
@given(trees(), ROWS, st.data())
def test_route_from_per_row_starts_and_with_a_stop_node(tree, rows, data):
    columns, thresholds, left, right, _ = tree
    X = _rows(rows)
    n_nodes = left.size
    starts = np.asarray(data.draw(st.lists(st.integers(0, n_nodes - 1), min_size=len(X),
                                           max_size=len(X))), dtype=np.intp)
    stop = data.draw(st.integers(-1, n_nodes - 1))
    kept = starts.copy()
    got = route(X, columns, thresholds, left, right, starts, stop_node=stop)
    expected = [_walk(row, columns, thresholds, left, right, int(s), stop)[-1]
                for row, s in zip(X, starts)]
    assert got.tolist() == expected
    np.testing.assert_array_equal(starts, kept)  # the caller's starts are not changed


@settings(max_examples=100, deadline=None)
@given(trees(), ROWS)
def test_route_paths_lists_every_node_each_row_visits_root_first(tree, rows):
    columns, thresholds, left, right, depth = tree
    X = _rows(rows)
    visited_rows, visited_nodes = route_paths(X, columns, thresholds, left, right, depth)
    for i, row in enumerate(X):
        assert visited_nodes[visited_rows == i].tolist() == _walk(row, columns, thresholds,
                                                                  left, right)
    # levels come one after the other: the root of every row first
    assert visited_rows[:len(X)].tolist() == list(range(len(X)))
    assert (visited_nodes[:len(X)] == 0).all()


def test_equality_goes_left_and_nan_goes_right():
    columns, thresholds = np.array([0, 0, 0]), np.array([0.5, np.nan, np.nan])
    left, right = np.array([1, -1, -1]), np.array([2, -1, -1])
    X = np.array([[0.5], [np.nextafter(0.5, 1)], [np.nan]])
    assert route(X, columns, thresholds, left, right, 0).tolist() == [1, 2, 2]


def test_a_shallower_depth_stops_the_paths():
    columns, thresholds = np.zeros(5, dtype=np.intp), np.array([0.5, 0.2, np.nan, np.nan, np.nan])
    left, right = np.array([1, 2, -1, -1, -1]), np.array([4, 3, -1, -1, -1])
    X = np.array([[0.1]])
    rows, nodes = route_paths(X, columns, thresholds, left, right, 1)
    assert nodes.tolist() == [0, 1]
    rows, nodes = route_paths(X, columns, thresholds, left, right, 2)
    assert nodes.tolist() == [0, 1, 2]


@pytest.mark.parametrize("start", [0, np.zeros(2, dtype=np.intp)])
def test_a_root_leaf_is_where_rows_stay(start):
    columns, thresholds = np.array([0]), np.array([np.nan])
    left = right = np.array([-1])
    X = np.zeros((2, 1))
    assert route(X, columns, thresholds, left, right, start).tolist() == [0, 0]
    rows, nodes = route_paths(X, columns, thresholds, left, right, 3)
    assert rows.tolist() == [0, 1] and nodes.tolist() == [0, 0]
