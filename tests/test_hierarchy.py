"""Declaring hierarchies: node validation, fitting order, printing."""

import pickle

import pytest

from md_sklearn import Leaf, Split
from md_sklearn._tree._flat import flatten
from md_sklearn._tree._hierarchy import fitting_order


def test_nodes_are_immutable_hashable_and_picklable():
    tree = Split("a", 0.5, [0, 1], Leaf("x"), Leaf("y"))
    assert tree.bounds == (0.0, 1.0)
    with pytest.raises(AttributeError):
        tree.init = 0.2
    assert hash(tree) == hash(Split("a", 0.5, (0, 1), Leaf("x"), Leaf("y")))
    assert pickle.loads(pickle.dumps(tree)) == tree


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"bounds": (1, 0)},
            ValueError,
            r"Split\(feature='f'\): expected finite bounds with low < high",
        ),
        ({"bounds": (0, float("inf"))}, ValueError, "expected finite bounds"),
        ({"bounds": (0, 0)}, ValueError, "low < high"),
        ({"bounds": "ab"}, TypeError, "expected bounds as a pair of numbers"),
        (
            {"init": 2.0},
            ValueError,
            r"Split\(feature='f'\): expected init inside bounds \[0.0, 1.0\], got 2.0",
        ),
        ({"init": "0.5"}, TypeError, "expected init to be a number"),
        (
            {"left": "small"},
            TypeError,
            r"expected left to be a Split or a Leaf, got str; wrap a class label as Leaf",
        ),
        ({"feature": 1.5}, TypeError, "expected feature to be a column name"),
        ({"feature": True}, TypeError, "expected feature to be a column name"),
        ({"feature": -1}, ValueError, "non-negative column index"),
        ({"order": -1}, ValueError, "expected order >= 0"),
        ({"order": 0.5}, TypeError, "expected order to be an int"),
    ],
)
def test_invalid_nodes_name_the_node(kwargs, error, match):
    spec = {"feature": "f", "init": 0.5, "bounds": (0, 1), "left": Leaf(), "right": Leaf()}
    spec.update(kwargs)
    with pytest.raises(error, match=match):
        Split(**spec)


def test_default_order_is_breadth_first():
    deep = Split("c", 0, (-1, 1), Leaf(), Leaf())
    tree = Split(
        "a",
        0,
        (-1, 1),
        Split("b", 0, (-1, 1), deep, Leaf()),
        Split("d", 0, (-1, 1), Leaf(), Leaf()),
    )
    # preorder split indices: a=0, b=1, c=2, d=3; breadth-first: a, b, d, c
    assert fitting_order(tree) == [0, 1, 3, 2]


def test_explicit_orders_take_their_positions_and_others_fill_breadth_first():
    tree = Split(
        "a",
        0,
        (-1, 1),
        Split("b", 0, (-1, 1), Leaf(), Leaf()),
        Split("d", 0, (-1, 1), Leaf(), Leaf(), order=0),
    )
    assert fitting_order(tree) == [2, 0, 1]


def test_conflicting_or_out_of_range_orders():
    clash = Split("a", 0, (-1, 1), Split("b", 0, (-1, 1), Leaf(), Leaf(), order=0), Leaf(), order=0)
    with pytest.raises(ValueError, match=r"position 0 is already taken by Split\(feature='a'\)"):
        fitting_order(clash)
    too_far = Split("a", 0, (-1, 1), Leaf(), Leaf(), order=3)
    with pytest.raises(ValueError, match="expected order < 1"):
        fitting_order(too_far)


def test_a_single_leaf_is_not_a_hierarchy():
    with pytest.raises(TypeError, match="at least one split"):
        flatten(Leaf("x"))


def test_flatten_uses_preorder_node_ids():
    tree = Split("a", 0, (-1, 1), Leaf("x"), Split("b", 0.5, (0, 1), Leaf("y"), Leaf()))
    flat = flatten(tree)
    assert flat.features == ("a", None, "b", None, None)
    assert flat.children_left.tolist() == [1, -1, 3, -1, -1]
    assert flat.children_right.tolist() == [2, -1, 4, -1, -1]
    assert flat.labels == (None, "x", None, "y", None)
    assert flat.depth == 2 and tree.n_splits == 2


def test_str_draws_the_tree_with_fitting_positions():
    tree = Split("a", 0.25, (0, 1), Leaf("x"), Split("b", 2, (0, 5), Leaf(), Leaf("z")))
    assert str(tree).splitlines() == [
        "[0] a <= t  (init 0.25, bounds [0, 1])",
        "├── yes: x",
        "└── no:  [1] b <= t  (init 2, bounds [0, 5])",
        "    ├── yes: majority class",
        "    └── no:  z",
    ]
    assert str(Leaf("x")) == "x"
