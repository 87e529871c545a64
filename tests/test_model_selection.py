"""TransferSplit: the paper's training draws, reproduced exactly, as a CV splitter."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import cross_validate

from md_sklearn import MDTreeClassifier
from md_sklearn.model_selection import TransferSplit, transfer_table

SEEDS = (42, 90, 38, 18, 72)


def _reference_draw(pool, sampling, k, seed):
    """The reference protocol with the global legacy generator (paper-protocol.md §3)."""
    data_levels = sorted(set(pool["data"]))
    widths = sorted(set(pool["width"]))
    combos = [(d, w) for d in data_levels for w in widths]
    np.random.seed(seed)
    if sampling == "random":
        picked = [combos[i] for i in np.random.choice(len(combos), size=k, replace=False)]
        mask = [(d, w) in picked for d, w in zip(pool["data"], pool["width"])]
    elif sampling == "random_data":
        mask = pool["data"].isin(np.random.choice(data_levels, size=k, replace=False))
    elif sampling == "random_width":
        mask = pool["width"].isin(np.random.choice(widths, size=k, replace=False))
    elif sampling == "data_limit":
        mask = pool["data"] <= k
    else:
        mask = pool["width"] <= k
    return np.flatnonzero(np.asarray(mask))


@pytest.mark.parametrize(
    ("sampling", "ks"),
    [
        ("random", [1, 8, 24]),
        ("random_data", [1, 3, 10]),
        ("random_width", [1, 5]),
        ("data_limit", [1, 5]),
        ("width_limit", [2, 11, 128]),
    ],
)
@pytest.mark.parametrize("label", ["bs_failure", "width_vs_batch"])
def test_reproduces_reference_draws(published_tables, sampling, ks, label):
    X, y, groups = transfer_table(published_tables["clean"], published_tables["noisy"], label)
    pool = X[groups == "clean"]
    n_pool = len(pool)
    state = np.random.get_state()
    for k in ks:
        splits = list(TransferSplit(sampling, k, seeds=SEEDS).split(X, y, groups))
        assert len(splits) == 5
        for seed, (train, test) in zip(SEEDS, splits):
            np.testing.assert_array_equal(train, _reference_draw(pool, sampling, k, seed))
            np.testing.assert_array_equal(test, np.arange(n_pool, len(X)))
    np.random.set_state(state)


def test_does_not_touch_the_global_numpy_generator(published_tables):
    X, y, groups = transfer_table(
        published_tables["clean"], published_tables["noisy"], "bs_failure"
    )
    np.random.seed(0)
    expected = np.random.rand()
    np.random.seed(0)
    list(TransferSplit("random", 8).split(X, y, groups))
    assert np.random.rand() == expected


def test_table_b_test_set_sizes(published_tables):
    for label, n_test in (("bs_failure", 1560), ("width_vs_batch", 1649)):
        _, _, groups = transfer_table(published_tables["clean"], published_tables["noisy"], label)
        assert (groups == "noisy").sum() == n_test


def test_cross_validate_runs_md_tree_case_1(published_tables):
    X, y, groups = transfer_table(
        published_tables["clean"], published_tables["noisy"], "bs_failure"
    )
    features = ["train_error", "mode_connectivity_peak", "hessian_t"]
    # the splitter reads data/width, the tree reads its three named features
    result = cross_validate(
        MDTreeClassifier("q1"),
        X[features + ["data", "width"]],
        y,
        groups=groups,
        cv=TransferSplit("random", 8),
    )
    assert round(100 * result["test_score"].mean(), 4) == 87.7051
    assert round(100 * result["test_score"].std(), 4) == 2.9730


def _toy():
    X = pd.DataFrame({"data": [1, 1, 2, 2, 1, 2], "width": [2, 4, 2, 4, 2, 4]})
    return X, np.array(["clean"] * 4 + ["noisy"] * 2)


def test_min_width_and_drop_label_in_transfer_table():
    pool = pd.DataFrame({"width": [2, 32, 64], "data": [1, 1, 1], "lab": ["a", "optimal", "b"]})
    X, y, groups = transfer_table(pool, pool, "lab", min_width=32)
    assert y.tolist() == ["b", "b"] and groups.tolist() == ["clean", "noisy"]
    with pytest.raises(ValueError, match="expected the label column 'nope'"):
        transfer_table(pool, pool, "nope")


@pytest.mark.parametrize(
    ("splitter", "kwargs", "error", "match"),
    [
        (
            TransferSplit("random", 2),
            {"groups": None},
            ValueError,
            "expected groups marking pool rows",
        ),
        (TransferSplit("random", 9), {}, ValueError, r"expected k <= 4 \(the pool has 4"),
        (TransferSplit("random", 0), {}, ValueError, "expected a positive integer k"),
        (TransferSplit("random_data", 3), {}, ValueError, "expected k <= 2"),
        (TransferSplit("data_limit", 0), {}, ValueError, "no pool row satisfies the limit"),
        (TransferSplit("stratified", 1), {}, ValueError, "expected sampling in"),
        (
            TransferSplit("random", 1, data_column="level"),
            {},
            ValueError,
            r"expected columns \['level'\]",
        ),
        (TransferSplit("random", 1, seeds=[]), {}, ValueError, "at least one seed"),
    ],
)
def test_bad_input(splitter, kwargs, error, match):
    X, groups = _toy()
    kwargs = {"groups": groups, **kwargs}
    with pytest.raises(error, match=match):
        list(splitter.split(X, **kwargs))


def test_needs_a_dataframe_and_both_groups():
    X, groups = _toy()
    with pytest.raises(TypeError, match="expected X as a pandas DataFrame"):
        list(TransferSplit().split(X.to_numpy(), groups=groups))
    with pytest.raises(ValueError, match="expected some test rows marked 'noisy'"):
        list(TransferSplit("data_limit", 1).split(X, groups=["clean"] * 6))


def test_n_splits_and_repr():
    assert TransferSplit(seeds=[1, 2, 3]).get_n_splits() == 3
    assert TransferSplit(seeds=7).get_n_splits() == 1
    assert "sampling='random'" in repr(TransferSplit())
