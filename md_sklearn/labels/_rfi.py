"""Room for improvement (RFI) of each training knob on a grid of trained models."""

import pandas as pd

from md_sklearn._protocol import RFI_COLUMNS

_KNOBS = ("width", "batch_size", "data")


def room_for_improvement(
    table, *, width="width", batch_size="bs", data="data", accuracy="test_acc"
):
    """Compute how much test accuracy moving each knob alone could gain.

    The rows of ``table`` are trained configurations on a grid of width, batch size
    and data amount. The room for improvement (RFI) of a knob is the best test
    accuracy among the rows reached by moving only that knob in its allowed
    direction (the current row included), minus the row's own test accuracy, so it
    is never negative:

    - ``rfi_width``: larger or equal width (same batch size and data);
    - ``rfi_data``: larger or equal data amount (same width and batch size);
    - ``rfi_inc_temp``: smaller or equal batch size, i.e. a higher or equal optimizer
      temperature (same width and data);
    - ``rfi_dec_temp``: larger or equal batch size, i.e. a lower or equal temperature.

    The grid need not be complete; a knob with a single value has RFI 0. This
    reproduces the published ``rfi_*`` columns exactly.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per configuration; extra columns are ignored.
    width : str, default="width"
        Column holding the model width.
    batch_size : str, default="bs"
        Column holding the batch size.
    data : str, default="data"
        Column holding the amount of training data (any increasing measure).
    accuracy : str, default="test_acc"
        Column holding the test accuracy (higher is better).

    Returns
    -------
    pandas.DataFrame
        Columns ``rfi_width``, ``rfi_data``, ``rfi_inc_temp``, ``rfi_dec_temp``
        (float64, in the accuracy's units), with the index of ``table``.

    Raises
    ------
    TypeError
        If ``table`` is not a DataFrame or a named column is not numeric.
    ValueError
        If a named column is missing or holds missing values, or two rows share
        the same (width, batch size, data).

    Examples
    --------
    >>> import pandas as pd
    >>> from md_sklearn.labels import room_for_improvement
    >>> grid = pd.DataFrame({"width": [2, 2, 4, 4], "bs": [16, 32, 16, 32],
    ...                      "data": [1, 1, 1, 1], "test_acc": [50.0, 55.0, 60.0, 58.0]})
    >>> room_for_improvement(grid)
       rfi_width  rfi_data  rfi_inc_temp  rfi_dec_temp
    0       10.0       0.0           0.0           5.0
    1        3.0       0.0           0.0           0.0
    2        0.0       0.0           0.0           0.0
    3        0.0       0.0           2.0           0.0
    """
    grid = _grid_frame(
        table, {"width": width, "batch_size": batch_size, "data": data, "accuracy": accuracy}
    )
    best = (
        _best_reachable(grid, "width", larger=True),
        _best_reachable(grid, "data", larger=True),
        _best_reachable(grid, "batch_size", larger=False),
        _best_reachable(grid, "batch_size", larger=True),
    )
    current = grid["accuracy"].to_numpy()
    return pd.DataFrame(
        {name: reach - current for name, reach in zip(RFI_COLUMNS, best, strict=True)},
        index=table.index,
    )


def _best_reachable(grid, knob, *, larger):
    """Best accuracy over rows differing only in ``knob``, with knob >= (or <=) the row's."""
    others = [name for name in _KNOBS if name != knob]
    # Visiting each group from the far end of the allowed direction towards the row,
    # the running maximum is the best accuracy reachable from the row.
    ordered = grid.sort_values(knob, ascending=not larger, kind="stable")
    running_best = ordered.groupby(others, sort=False)["accuracy"].cummax()
    return running_best.sort_index().to_numpy()


def _grid_frame(table, columns):
    """Validate ``table`` and return its grid columns under internal names.

    ``columns`` maps internal names (width, batch_size, data, accuracy) to the
    user's column names. The result has a fresh RangeIndex, float64 accuracy,
    and no missing values or duplicate grid cells.
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"expected table to be a pandas DataFrame, got {type(table).__name__}.")
    available = list(table.columns)
    for role, name in columns.items():
        if name not in table.columns:
            raise ValueError(
                f"expected a column {name!r} (the {role} argument) in table, got columns "
                f"{available}; pass {role}=<column name> to name it."
            )
        dtype = table[name].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise TypeError(
                f"expected column {name!r} ({role}) to be numeric, got dtype {dtype}; "
                "convert it with pandas.to_numeric."
            )
        if table[name].isna().any():
            raise ValueError(
                f"expected no missing values in column {name!r} ({role}), got "
                f"{int(table[name].isna().sum())}; drop or fill those rows first."
            )
    grid = pd.DataFrame({role: table[name].to_numpy() for role, name in columns.items()})
    grid["accuracy"] = grid["accuracy"].astype("float64")
    knob_columns = [role for role in columns if role in _KNOBS]
    duplicated = grid.duplicated(knob_columns, keep=False)
    if duplicated.any():
        first = grid.loc[duplicated, knob_columns].iloc[0]
        cell = ", ".join(f"{columns[role]}={first[role]}" for role in knob_columns)
        raise ValueError(
            f"expected one row per grid cell, got {int(duplicated.sum())} rows sharing a "
            f"cell (e.g. {cell}); average the seeds or drop the repeats first."
        )
    return grid
