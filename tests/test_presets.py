"""The paper's trees, exactly as docs/hierarchies.rst prints them."""

import pytest

from md_sklearn import Leaf, Split, get_hierarchy
from md_sklearn._tree._hierarchy import fitting_order, iter_splits

TE = ("train_error", 0.5, (0.0, 1.0))
MC = ("mode_connectivity_peak", -10.0, (-30.0, 0.0))
HT = ("hessian_t", 7.0, (4.0, 9.0))


def _s(spec, left, right):
    return Split(*spec, left, right)


def test_q1():
    expected = _s(TE, Leaf("small"), _s(MC, _s(HT, Leaf("large"), Leaf("small")), Leaf("large")))
    assert get_hierarchy("q1") == expected
    assert fitting_order(expected) == [0, 1, 2]


def test_q1_variants():
    cka = _s(
        TE,
        Leaf("small"),
        _s(MC, _s(("CKA", 0.5, (0.2, 0.8)), Leaf("small"), Leaf("large")), Leaf("large")),
    )
    assert get_hierarchy("q1_cka") == cka
    ood = get_hierarchy("q1_ood")
    assert ood.right.left.init == 5.0 and ood.right.left.bounds == (4.0, 9.0)


def test_q2_width():
    branch = _s(MC, Leaf("width"), Leaf("batch"))
    assert get_hierarchy("q2_width") == _s(TE, branch, branch)


def test_q2_data_fitting_order_is_not_breadth_first():
    tree = get_hierarchy("q2_data")
    splits = list(iter_splits(tree))
    assert [s.feature for s in splits] == [
        "train_error",
        "mode_connectivity_peak",
        "hessian_t",
        "hessian_t",
        "mode_connectivity_peak",
        "hessian_t",
    ]
    assert [s.order for s in splits] == [0, 1, 4, 2, 3, 5]
    assert tree.right.left == Leaf("batch")
    leaves = [
        tree.left.left.left,
        tree.left.left.right,
        tree.left.right.left,
        tree.left.right.right,
        tree.right.right.left,
        tree.right.right.right,
    ]
    assert [leaf.label for leaf in leaves] == ["data", "batch", "data", "batch", "data", "batch"]


def test_each_call_returns_an_equal_tree():
    assert get_hierarchy("q1") == get_hierarchy("q1")


def test_unknown_names():
    with pytest.raises(ValueError, match=r"expected a hierarchy name in \['q1', .*got 'Q1'"):
        get_hierarchy("Q1")
    with pytest.raises(TypeError, match="expected a preset name"):
        get_hierarchy(1)
