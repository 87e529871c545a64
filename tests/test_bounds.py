"""bounds_from_data: a hierarchy's search intervals moved onto the user's own scale."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from md_sklearn import Leaf, MDTreeClassifier, Split, bounds_from_data, get_hierarchy
from md_sklearn._tree import iter_splits

COLUMNS = ["train_error", "mode_connectivity_peak", "hessian_t"]


def _frame(seed=0, n=50):
    rng = np.random.default_rng(seed)
    # a small model's scale: errors in fractions, a tiny Hessian trace
    values = rng.uniform(size=(n, 3)) * [0.3, -0.2, 0.01] + [0.0, 0.0, 0.001]
    return pd.DataFrame(values, columns=COLUMNS)


def test_bounds_span_each_features_range_widened_by_the_margin():
    X = _frame()
    moved = bounds_from_data("q1", X, margin=0.1)
    for split in iter_splits(moved):
        low, high = X[split.feature].min(), X[split.feature].max()
        pad = 0.1 * (high - low)
        assert split.bounds == pytest.approx((low - pad, high + pad))
        assert split.bounds[0] <= split.init <= split.bounds[1]


def test_shape_features_leaves_and_order_are_kept_and_the_input_is_unchanged():
    original = get_hierarchy("q2_data")
    moved = bounds_from_data(original, _frame())
    assert original == get_hierarchy("q2_data")
    assert [(s.feature, s.order) for s in iter_splits(moved)] == \
        [(s.feature, s.order) for s in iter_splits(original)]
    assert str(moved).count("data") == str(original).count("data")


def test_init_inside_the_new_bounds_is_kept_else_moved_to_the_median():
    X = pd.DataFrame({"f": [1.0, 2.0, 3.0, 10.0]})
    inside = bounds_from_data(Split("f", 2.5, (0, 5), Leaf("a"), Leaf("b")), X, margin=0.0)
    assert inside.init == 2.5 and inside.bounds == (1.0, 10.0)
    outside = bounds_from_data(Split("f", 50.0, (0, 100), Leaf("a"), Leaf("b")), X, margin=0.0)
    assert outside.init == 2.5  # median of 1, 2, 3, 10


def test_a_constant_feature_gets_half_its_magnitude_at_least_half_a_unit():
    X = pd.DataFrame({"f": [4.0, 4.0], "g": [0.1, 0.1]})
    assert bounds_from_data(Split("f", 0, (0, 1), Leaf(), Leaf()), X).bounds == (2.0, 6.0)
    assert bounds_from_data(Split("g", 0, (0, 1), Leaf(), Leaf()), X).bounds == \
        pytest.approx((-0.4, 0.6))


def test_only_the_given_data_counts_non_finite_values_are_left_out():
    X = pd.DataFrame({"f": [0.0, np.nan, 1.0, np.inf], "other": [1e9, -1e9, 0, 0]})
    moved = bounds_from_data(Split("f", 0.5, (-100, 100), Leaf(), Leaf()), X, margin=0.0)
    assert moved.bounds == (0.0, 1.0)


def test_an_array_is_read_by_column_index():
    X = np.array([[5.0, -1.0], [7.0, -3.0]])
    moved = bounds_from_data(Split(1, 0, (0, 1), Leaf(), Leaf()), X, margin=0.0)
    assert moved.bounds == (-3.0, -1.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30), st.floats(0, 1))
def test_fitting_a_moved_stump_keeps_its_threshold_inside_the_data_hull(values, margin):
    X = pd.DataFrame({"f": values})
    moved = bounds_from_data(Split("f", 0.0, (0, 1), Leaf("a"), Leaf("b")), X, margin=margin)
    low, high = moved.bounds
    assert low <= min(values) and high >= max(values) and low < high
    y = np.where(X["f"] <= np.median(values), "a", "b")
    if len(set(y)) == 2:
        clf = MDTreeClassifier(moved).fit(X, y)
        assert low <= clf.thresholds_[0] <= high


@pytest.mark.parametrize(
    ("hierarchy", "X", "kwargs", "error", "match"),
    [
        (Leaf("a"), _frame(), {}, TypeError, "expected a Split hierarchy or a preset name, got Leaf"),
        ("q1", _frame(), {"margin": "5%"}, TypeError, "expected margin to be a number, got str"),
        ("q1", _frame(), {"margin": True}, TypeError, "expected margin to be a number, got bool"),
        ("q1", _frame(), {"margin": -0.1}, ValueError, r"expected margin >= 0, got -0.1"),
        ("q1_cka", _frame(), {}, ValueError,
         r"expected X to have the column 'CKA' that the hierarchy splits on, got columns"),
        ("q1", _frame().assign(hessian_t=np.nan), {}, ValueError,
         r"expected finite values of feature 'hessian_t' in X, got none"),
        ("nope", _frame(), {}, ValueError, "nope"),
    ],
)
def test_errors(hierarchy, X, kwargs, error, match):
    with pytest.raises(error, match=match):
        bounds_from_data(hierarchy, X, **kwargs)
