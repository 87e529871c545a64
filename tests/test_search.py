"""The threshold searches on their own: the accuracy profile, exhaustive and Brent,
against brute force over every split position."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from md_sklearn import Leaf, Split
from md_sklearn._tree._flat import flatten
from md_sklearn._tree._search import accuracy_profile, brent_threshold, exhaustive_threshold

N_CLASSES = 3


@st.composite
def hierarchies(draw, level=0):
    if level > 0 and (level >= 3 or draw(st.booleans())):
        return Leaf(draw(st.sampled_from([None, 0, 1, 2])))
    low = draw(st.sampled_from([0.0, 0.2]))
    high = draw(st.sampled_from([0.6, 1.0]))
    init = draw(st.floats(low, high))
    return Split(draw(st.integers(0, 2)), init, (low, high),
                 draw(hierarchies(level + 1)), draw(hierarchies(level + 1)))


@st.composite
def problems(draw):
    """A flat tree, its thresholds, one split to fit, and training data."""
    tree = flatten(draw(hierarchies()))
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(1, 40))
    rng = np.random.default_rng(seed)
    X = rng.uniform(-0.1, 1.1, size=(n, 3))
    if draw(st.booleans()):  # ties: values on a coarse grid
        X = np.round(X * 4) / 4
    y = rng.integers(0, N_CLASSES, size=n)
    columns = np.array([f if f is not None else 0 for f in tree.features], dtype=np.intp)
    thresholds = tree.init.copy()
    node = int(draw(st.sampled_from(tree.split_nodes.tolist())))
    targets = np.array([-1 if label is None else label for label in tree.labels], dtype=np.intp)
    return tree, X, y, columns, thresholds, targets, node


def _walk_leaf(row, tree, columns, thresholds):
    node = 0
    while tree.children_left[node] >= 0:
        go_left = row[columns[node]] <= thresholds[node]
        node = tree.children_left[node] if go_left else tree.children_right[node]
    return node


def _correct(tree, X, y, columns, thresholds, targets):
    """Correct training predictions of the whole tree: fixed leaves their class, the
    others their majority."""
    leaves = np.array([_walk_leaf(row, tree, columns, thresholds) for row in X])
    total = 0
    for leaf in tree.leaf_nodes:
        counts = np.bincount(y[leaves == leaf], minlength=N_CLASSES)
        total += counts[targets[leaf]] if targets[leaf] >= 0 else counts.max()
    return int(total)


def _reaching(tree, X, columns, thresholds, node):
    """Rows whose walk passes through ``node``."""
    out = []
    for row in X:
        current = 0
        while current != node and tree.children_left[current] >= 0:
            go_left = row[columns[current]] <= thresholds[current]
            current = tree.children_left[current] if go_left else tree.children_right[current]
        out.append(current == node)
    return np.array(out, dtype=bool)


def _with(thresholds, node, value):
    changed = thresholds.copy()
    changed[node] = value
    return changed


@settings(max_examples=80, deadline=None)
@given(problems())
def test_profile_counts_correct_predictions_at_every_reachable_position(problem):
    tree, X, y, columns, thresholds, targets, node = problem
    xs, correct = accuracy_profile(X, y, N_CLASSES, tree, columns, thresholds, targets, node)
    reach = _reaching(tree, X, columns, thresholds, node)
    np.testing.assert_array_equal(xs, np.sort(X[reach, columns[node]]))
    assert correct.shape == (xs.size + 1,)
    # a threshold at each sorted value sends exactly the values <= it left
    candidates = [xs[0] - 1.0, *xs] if xs.size else [0.0]
    for t in candidates:
        k = int(np.searchsorted(xs, t, side="right"))
        assert correct[k] == _correct(tree, X, y, columns, _with(thresholds, node, t), targets)


def _brute_best(tree, X, y, columns, thresholds, targets, node):
    """Best correct count over every threshold in the bounds: the bounds and every
    midpoint of two neighbouring values of the rows reaching the node."""
    low, high = tree.bounds[node]
    reach = _reaching(tree, X, columns, thresholds, node)
    values = np.unique(X[reach, columns[node]])
    mids = (values[:-1] + values[1:]) / 2
    candidates = [t for t in (low, high, *values, *mids) if low <= t <= high]
    return max(_correct(tree, X, y, columns, _with(thresholds, node, t), targets)
               for t in candidates)


@settings(max_examples=80, deadline=None)
@given(problems(), st.floats(-0.5, 1.5))
def test_exhaustive_finds_the_global_optimum_inside_the_bounds(problem, prefer):
    tree, X, y, columns, thresholds, targets, node = problem
    xs, correct = accuracy_profile(X, y, N_CLASSES, tree, columns, thresholds, targets, node)
    bounds = tuple(tree.bounds[node])
    t = exhaustive_threshold(xs, correct, bounds, prefer=prefer)
    if xs.size == 0:
        assert t == prefer
        return
    assert bounds[0] <= t <= bounds[1]
    got = _correct(tree, X, y, columns, _with(thresholds, node, t), targets)
    assert got == _brute_best(tree, X, y, columns, thresholds, targets, node)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_exhaustive_keeps_a_preferred_threshold_that_is_already_best(problem):
    tree, X, y, columns, thresholds, targets, node = problem
    xs, correct = accuracy_profile(X, y, N_CLASSES, tree, columns, thresholds, targets, node)
    bounds = tuple(tree.bounds[node])
    best = exhaustive_threshold(xs, correct, bounds, prefer=bounds[0])
    assert exhaustive_threshold(xs, correct, bounds, prefer=best) == best


@settings(max_examples=80, deadline=None)
@given(problems())
def test_brent_stays_within_the_bounds_and_is_never_beaten_by_its_own_objective(problem):
    tree, X, y, columns, thresholds, targets, node = problem
    xs, correct = accuracy_profile(X, y, N_CLASSES, tree, columns, thresholds, targets, node)
    low, high = tree.bounds[node]
    t = brent_threshold(xs, correct, X.shape[0], (low, high))
    assert isinstance(t, float) and low <= t <= high
    # the value Brent returns scores what the tree scores with that threshold
    k = int(np.searchsorted(xs, t, side="right"))
    assert correct[k] == _correct(tree, X, y, columns, _with(thresholds, node, t), targets)


def test_brent_finds_a_single_clean_cut():
    xs = np.linspace(0.0, 1.0, 21)
    correct = np.array([10 + k if k <= 10 else 30 - k for k in range(22)])  # peak at k = 10
    t = brent_threshold(xs, correct, 21, (0.0, 1.0))
    assert xs[9] <= t < xs[10]


@pytest.mark.parametrize("bounds", [(0.0, 1.0), (0.3, 0.7)])
def test_exhaustive_midpoint_between_neighbours_inside_the_bounds(bounds):
    xs = np.array([0.1, 0.2, 0.4, 0.8])
    correct = np.array([0, 1, 2, 4, 3])  # best: the first three go left
    t = exhaustive_threshold(xs, correct, bounds, prefer=bounds[0])
    assert t == pytest.approx(min(0.6, bounds[1])) and bounds[0] <= t <= bounds[1]


def test_exhaustive_without_rows_keeps_the_preferred_value():
    assert exhaustive_threshold(np.array([]), np.array([3]), (0.0, 1.0), prefer=0.25) == 0.25
