"""Tests of md_sklearn.labels: RFI columns and diagnosis labels."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from md_sklearn._protocol import (
    BATCH_SIZES,
    DATA_ENV_VAR,
    DATA_LEVELS,
    LABEL_CLASSES,
    LABEL_COLUMNS,
    PUBLISHED_FILES,
    RFI_COLUMNS,
    WIDTHS,
)
from md_sklearn.labels import diagnosis_labels, label_collection, room_for_improvement

GRID_COLUMNS = ["width", "bs", "data", "test_acc"]


def _read_published(collection):
    """A published table, read with pandas from $MD_SKLEARN_DATA or ../shared (else skip)."""
    folder = os.environ.get(DATA_ENV_VAR) or (
        Path(__file__).parents[1].parent / "shared" / "data" / "model_diagnosis"
    )
    path = Path(folder) / PUBLISHED_FILES[collection][0]
    if not path.is_file():
        pytest.skip(f"published table {path} not found; set {DATA_ENV_VAR} to its folder.")
    return pd.read_csv(path)


@pytest.fixture(params=sorted(PUBLISHED_FILES))
def published_table(request):
    """Each published table in turn."""
    return _read_published(request.param)


def test_reproduces_published_rfi_and_labels(published_table):
    rfi = room_for_improvement(published_table[GRID_COLUMNS])
    assert list(rfi.columns) == list(RFI_COLUMNS)
    for column in RFI_COLUMNS:
        np.testing.assert_array_equal(rfi[column].to_numpy(), published_table[column].to_numpy())

    labels = diagnosis_labels(rfi)
    assert list(labels.columns) == list(LABEL_COLUMNS.values())
    for column in labels.columns:
        np.testing.assert_array_equal(
            labels[column].to_numpy(dtype=object), published_table[column].to_numpy(dtype=object)
        )


def test_label_collection_reproduces_published_table(published_table):
    pd.testing.assert_frame_equal(label_collection(published_table), published_table)

    stripped = published_table.drop(columns=[*RFI_COLUMNS, *LABEL_COLUMNS.values()])
    pd.testing.assert_frame_equal(label_collection(stripped), published_table)


def test_row_order_does_not_matter(published_table):
    shuffled = published_table.sample(frac=1.0, random_state=0)
    labelled = label_collection(shuffled[GRID_COLUMNS])
    pd.testing.assert_frame_equal(
        labelled.sort_index(), label_collection(published_table[GRID_COLUMNS])
    )


def test_readme_example():
    clean = _read_published("clean")
    row = clean.query("width == 2 and bs == 16 and data == 10")
    rfi = room_for_improvement(clean).loc[row.index]
    assert rfi["rfi_inc_temp"].item() == 0.0
    assert rfi["rfi_dec_temp"].item() == pytest.approx(11.188, abs=1e-9)
    assert diagnosis_labels(rfi)["bs_failure"].item() == "large"


def _toy_grid():
    return pd.DataFrame(
        {
            "width": [2, 2, 4, 4],
            "bs": [16, 32, 16, 32],
            "data": [1, 1, 1, 1],
            "test_acc": [50.0, 55.0, 60.0, 58.0],
        }
    )


def test_toy_grid_by_hand():
    rfi = room_for_improvement(_toy_grid())
    np.testing.assert_array_equal(rfi["rfi_width"], [10.0, 3.0, 0.0, 0.0])
    np.testing.assert_array_equal(rfi["rfi_data"], [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(rfi["rfi_inc_temp"], [0.0, 0.0, 0.0, 2.0])
    np.testing.assert_array_equal(rfi["rfi_dec_temp"], [5.0, 0.0, 0.0, 0.0])
    labels = diagnosis_labels(rfi)
    assert labels["bs_failure"].tolist() == ["large", "optimal", "optimal", "small"]
    assert labels["width_vs_batch"].tolist() == ["width", "width", "optimal", "batch"]
    assert labels["data_vs_batch"].tolist() == ["batch", "optimal", "optimal", "batch"]


def test_custom_column_names_and_index_are_kept():
    grid = _toy_grid().rename(columns={"width": "k", "bs": "batch", "data": "n", "test_acc": "acc"})
    grid.index = ["a", "b", "c", "a"]
    rfi = room_for_improvement(grid, width="k", batch_size="batch", data="n", accuracy="acc")
    assert rfi.index.tolist() == ["a", "b", "c", "a"]
    np.testing.assert_array_equal(rfi.to_numpy(), room_for_improvement(_toy_grid()).to_numpy())

    original = grid.copy()
    labelled = label_collection(grid, width="k", batch_size="batch", data="n", accuracy="acc")
    pd.testing.assert_frame_equal(grid, original)
    assert labelled.columns.tolist() == [*original.columns, *RFI_COLUMNS, *LABEL_COLUMNS.values()]
    assert labelled["bs_failure"].tolist() == ["large", "optimal", "optimal", "small"]


def test_single_level_knob_has_no_room():
    grid = _toy_grid().assign(width=2, data=[1, 1, 2, 2])  # one width, two data levels
    rfi = room_for_improvement(grid)
    np.testing.assert_array_equal(rfi["rfi_width"], 0.0)
    np.testing.assert_array_equal(rfi["rfi_data"], [10.0, 3.0, 0.0, 0.0])


def test_missing_column_is_named():
    with pytest.raises(ValueError, match=r"expected a column 'bs' .*got columns \['width', 'data'"):
        room_for_improvement(_toy_grid().drop(columns="bs"))
    with pytest.raises(ValueError, match=r"expected a column 'acc' \(the accuracy argument\)"):
        room_for_improvement(_toy_grid(), accuracy="acc")
    with pytest.raises(ValueError, match="expected a column 'rfi_dec_temp' in rfi"):
        diagnosis_labels(room_for_improvement(_toy_grid()).drop(columns="rfi_dec_temp"))


def test_duplicate_cells_are_rejected():
    grid = pd.concat([_toy_grid(), _toy_grid().iloc[[3]]])
    with pytest.raises(ValueError, match=r"one row per grid cell, got 2 rows .*width=4, bs=32"):
        room_for_improvement(grid)


def test_bad_values_and_types():
    with pytest.raises(ValueError, match="no missing values in column 'test_acc'"):
        room_for_improvement(_toy_grid().assign(test_acc=[50.0, np.nan, 60.0, 58.0]))
    with pytest.raises(TypeError, match="expected column 'bs' .* to be numeric"):
        room_for_improvement(_toy_grid().assign(bs=["16", "32", "16", "32"]))
    with pytest.raises(TypeError, match="expected table to be a pandas DataFrame, got dict"):
        room_for_improvement(_toy_grid().to_dict())
    with pytest.raises(TypeError, match="expected rfi to be a pandas DataFrame"):
        diagnosis_labels(np.zeros((2, 4)))
    rfi = room_for_improvement(_toy_grid())
    rfi.loc[0, "rfi_width"] = np.nan
    with pytest.raises(ValueError, match="no missing values in column 'rfi_width'"):
        diagnosis_labels(rfi)


# ---------------------------------------------------------------------------
# Properties on random (possibly incomplete) grids with frequent accuracy ties.
# ---------------------------------------------------------------------------


@st.composite
def grids(draw):
    widths = draw(st.lists(st.sampled_from(WIDTHS), min_size=1, max_size=4, unique=True))
    batch_sizes = draw(st.lists(st.sampled_from(BATCH_SIZES), min_size=1, max_size=4, unique=True))
    levels = draw(st.lists(st.sampled_from(DATA_LEVELS), min_size=1, max_size=3, unique=True))
    cells = [(w, b, d) for w in widths for b in batch_sizes for d in levels]
    kept = draw(st.lists(st.booleans(), min_size=len(cells), max_size=len(cells)))
    cells = [cell for cell, keep in zip(cells, kept, strict=True) if keep] or cells[:1]
    accuracy = st.one_of(st.sampled_from([10.0, 55.5, 72.25]), st.floats(0.0, 100.0))
    accuracies = draw(st.lists(accuracy, min_size=len(cells), max_size=len(cells)))
    grid = pd.DataFrame(cells, columns=["width", "bs", "data"]).assign(test_acc=accuracies)
    return grid.sample(frac=1.0, random_state=draw(st.integers(0, 2**32 - 1)))


def _brute_force_rfi(grid):
    """Row by row: best accuracy over the rows reachable by moving one knob, minus own."""
    moves = {
        "rfi_width": ("width", np.greater_equal),
        "rfi_data": ("data", np.greater_equal),
        "rfi_inc_temp": ("bs", np.less_equal),
        "rfi_dec_temp": ("bs", np.greater_equal),
    }
    result = {name: [] for name in moves}
    for _, row in grid.iterrows():
        for name, (knob, allowed) in moves.items():
            fixed = [k for k in ("width", "bs", "data") if k != knob]
            same = (grid[fixed] == row[fixed]).all(axis=1) & allowed(grid[knob], row[knob])
            result[name].append(max(grid.loc[same, "test_acc"]) - row["test_acc"])
    return pd.DataFrame(result, index=grid.index)


@settings(deadline=None, max_examples=60)
@given(grids())
def test_property_matches_brute_force(grid):
    pd.testing.assert_frame_equal(room_for_improvement(grid), _brute_force_rfi(grid))


@settings(deadline=None, max_examples=60)
@given(grids(), st.randoms(use_true_random=False))
def test_property_rfi_bounds_and_permutation(grid, rng):
    rfi = room_for_improvement(grid)
    assert (rfi.to_numpy() >= 0).all()
    zero_at = {
        "rfi_width": grid.groupby(["bs", "data"])["width"].transform("max") == grid["width"],
        "rfi_data": grid.groupby(["width", "bs"])["data"].transform("max") == grid["data"],
        "rfi_inc_temp": grid.groupby(["width", "data"])["bs"].transform("min") == grid["bs"],
        "rfi_dec_temp": grid.groupby(["width", "data"])["bs"].transform("max") == grid["bs"],
    }
    for column, extreme in zero_at.items():
        assert (rfi.loc[extreme, column] == 0).all()

    order = list(grid.index)
    rng.shuffle(order)
    pd.testing.assert_frame_equal(room_for_improvement(grid.loc[order]).loc[grid.index], rfi)


@settings(deadline=None, max_examples=60)
@given(grids())
def test_property_labels_follow_rfi(grid):
    rfi = room_for_improvement(grid)
    labels = diagnosis_labels(rfi)
    batch_room = np.maximum(rfi["rfi_inc_temp"], rfi["rfi_dec_temp"])
    compared = {
        "bs_failure": (rfi["rfi_inc_temp"], rfi["rfi_dec_temp"]),
        "width_vs_batch": (rfi["rfi_width"], batch_room),
        "data_vs_batch": (rfi["rfi_data"], batch_room),
    }
    for column, (knob_room, other_room) in compared.items():
        above, below, tie = LABEL_CLASSES[column]
        assert ((labels[column] == tie) == (knob_room == other_room)).all()
        assert ((labels[column] == above) == (knob_room > other_room)).all()
        assert ((labels[column] == below) == (knob_room < other_room)).all()


# ---------------------------------------------------------------------------
# Tie tolerance: rooms closer than the tolerance are a tie (``optimal``).
# ---------------------------------------------------------------------------


def test_tolerance_zero_reproduces_published_labels(published_table):
    pd.testing.assert_frame_equal(label_collection(published_table, tolerance=0), published_table)
    pd.testing.assert_frame_equal(
        label_collection(published_table, tolerance=0.0), label_collection(published_table)
    )


def test_tolerance_by_hand():
    # rfi_inc_temp - rfi_dec_temp per row: -5, 0, 0, 2; rfi_width - batch room: 5, 3, 0, -2.
    labels = label_collection(_toy_grid(), tolerance=2.0)
    assert labels["bs_failure"].tolist() == ["large", "optimal", "optimal", "small"]
    assert labels["width_vs_batch"].tolist() == ["width", "width", "optimal", "batch"]
    labels = label_collection(_toy_grid(), tolerance=2.5)
    assert labels["bs_failure"].tolist() == ["large", "optimal", "optimal", "optimal"]
    assert labels["width_vs_batch"].tolist() == ["width", "width", "optimal", "optimal"]
    per_row = _toy_grid().assign(tie=[6.0, 0.0, 0.0, 0.0])
    labels = label_collection(per_row, tolerance="tie")
    assert labels["bs_failure"].tolist() == ["optimal", "optimal", "optimal", "small"]
    np.testing.assert_array_equal(
        diagnosis_labels(room_for_improvement(_toy_grid()), tolerance=[6.0, 0, 0, 0])["bs_failure"],
        labels["bs_failure"],
    )


def test_tolerance_bad_values():
    with pytest.raises(ValueError, match="expected tolerance >= 0 and finite, got -1"):
        label_collection(_toy_grid(), tolerance=-1)
    with pytest.raises(ValueError, match="expected tolerance >= 0 and finite"):
        label_collection(_toy_grid(), tolerance=np.nan)
    with pytest.raises(ValueError, match=r"one number or 4 \(one per row\), got shape \(3,\)"):
        label_collection(_toy_grid(), tolerance=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="expected tolerance to name a column of table, got 'se'"):
        label_collection(_toy_grid(), tolerance="se")
    with pytest.raises(TypeError, match="expected tolerance to be a number .* got bool"):
        label_collection(_toy_grid(), tolerance=True)
    with pytest.raises(TypeError, match="expected tolerance to be a number .* got str"):
        diagnosis_labels(room_for_improvement(_toy_grid()), tolerance="1")


@settings(deadline=None, max_examples=60)
@given(grids(), st.floats(0.0, 30.0))
def test_property_tolerance_matches_brute_force(grid, tolerance):
    rfi = room_for_improvement(grid)
    labels = diagnosis_labels(rfi, tolerance=tolerance)
    for (index, room), (_, label) in zip(rfi.iterrows(), labels.iterrows(), strict=True):
        batch_room = max(room["rfi_inc_temp"], room["rfi_dec_temp"])
        for column, knob, other in (
            ("bs_failure", room["rfi_inc_temp"], room["rfi_dec_temp"]),
            ("width_vs_batch", room["rfi_width"], batch_room),
            ("data_vs_batch", room["rfi_data"], batch_room),
        ):
            above, below, tie = LABEL_CLASSES[column]
            if knob == other or abs(knob - other) < tolerance:
                expected = tie
            else:
                expected = above if knob > other else below
            assert label[column] == expected, (index, column)
    # a larger tolerance only turns verdicts into ties
    wider = diagnosis_labels(rfi, tolerance=tolerance + 1.0)
    changed = (wider != labels).to_numpy()
    assert (wider.to_numpy()[changed] == "optimal").all()


# --- a tie tolerance from the seed noise -------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(stds=st.lists(st.floats(0, 20), min_size=1, max_size=12), n=st.integers(1, 8),
       z=st.floats(0, 4))
def test_seed_tolerance_is_z_root2_pooled_over_root_n(stds, n, z):
    import math

    from md_sklearn.labels import seed_tolerance

    table = pd.DataFrame({"test_acc_std": stds, "n_models": [n] * len(stds)})
    pooled = math.sqrt(sum(s * s for s in stds) / len(stds))
    assert seed_tolerance(table, z=z) == pytest.approx(z * math.sqrt(2) * pooled / math.sqrt(n))


def test_seed_tolerance_refuses_what_it_cannot_use():
    from md_sklearn.labels import seed_tolerance

    with pytest.raises(TypeError, match="expected table to be a pandas DataFrame"):
        seed_tolerance([1.0])
    with pytest.raises(ValueError, match="expected columns"):
        seed_tolerance(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ValueError, match="expected z >= 0"):
        seed_tolerance(pd.DataFrame({"test_acc_std": [1.0], "n_models": [2]}), z=-1)
