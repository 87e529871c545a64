"""Diagnosis labels from the room for improvement of each knob."""

import numpy as np
import pandas as pd

from md_sklearn._constants import LABEL_CLASSES, RFI_COLUMNS
from md_sklearn.labels._rfi import room_for_improvement


def diagnosis_labels(rfi):
    """Label each row with the knob that has the most room for improvement.

    The three labels reproduce the published label columns exactly:

    - ``bs_failure`` (Q1) is a verdict on the optimizer temperature, which grows as
      the batch size shrinks: ``small`` when ``rfi_inc_temp > rfi_dec_temp``
      (temperature too small, i.e. **batch size too large**; the fix is a smaller
      batch), ``large`` when ``rfi_inc_temp < rfi_dec_temp`` (temperature too large,
      i.e. **batch size too small**; the fix is a larger batch), ``optimal`` on a tie.
    - ``width_vs_batch`` (Q2): ``width`` when ``rfi_width`` exceeds the batch-size
      room ``max(rfi_inc_temp, rfi_dec_temp)``, ``batch`` when it is below it,
      ``optimal`` on a tie.
    - ``data_vs_batch`` (Q2 variant): the same with ``rfi_data`` and ``data``.

    Parameters
    ----------
    rfi : pandas.DataFrame
        Columns ``rfi_width``, ``rfi_data``, ``rfi_inc_temp`` and ``rfi_dec_temp``,
        as returned by :func:`room_for_improvement`; extra columns are ignored.

    Returns
    -------
    pandas.DataFrame
        Columns ``bs_failure``, ``width_vs_batch`` and ``data_vs_batch`` (strings),
        with the index of ``rfi``.

    Raises
    ------
    TypeError
        If ``rfi`` is not a DataFrame or an RFI column is not numeric.
    ValueError
        If an RFI column is missing or holds missing values.

    Examples
    --------
    >>> import pandas as pd
    >>> from md_sklearn.labels import diagnosis_labels
    >>> rfi = pd.DataFrame({"rfi_width": [10.0, 0.0], "rfi_data": [0.0, 0.0],
    ...                     "rfi_inc_temp": [0.0, 2.0], "rfi_dec_temp": [5.0, 0.0]})
    >>> diagnosis_labels(rfi)
      bs_failure width_vs_batch data_vs_batch
    0      large          width         batch
    1      small          batch         batch
    """
    _check_rfi(rfi)
    room = {name: rfi[name].to_numpy(dtype="float64") for name in RFI_COLUMNS}
    batch_room = np.maximum(room["rfi_inc_temp"], room["rfi_dec_temp"])
    compared = {
        "bs_failure": (room["rfi_inc_temp"], room["rfi_dec_temp"]),
        "width_vs_batch": (room["rfi_width"], batch_room),
        "data_vs_batch": (room["rfi_data"], batch_room),
    }
    return pd.DataFrame(
        {column: _verdict(*pair, *LABEL_CLASSES[column]) for column, pair in compared.items()},
        index=rfi.index,
    )


def label_collection(table, *, width="width", batch_size="bs", data="data", accuracy="test_acc"):
    """Return a copy of ``table`` with its RFI and diagnosis label columns (re)computed.

    Adds or replaces ``rfi_width``, ``rfi_data``, ``rfi_inc_temp``, ``rfi_dec_temp``
    (see :func:`room_for_improvement`) and ``bs_failure``, ``width_vs_batch``,
    ``data_vs_batch`` (see :func:`diagnosis_labels`). Replaced columns keep their
    position; new ones are appended in that order. ``table`` is not modified.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per configuration of a grid of width, batch size and data amount.
    width : str, default="width"
        Column holding the model width.
    batch_size : str, default="bs"
        Column holding the batch size.
    data : str, default="data"
        Column holding the amount of training data.
    accuracy : str, default="test_acc"
        Column holding the test accuracy.

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with the seven columns.

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
    >>> from md_sklearn.labels import label_collection
    >>> grid = pd.DataFrame({"width": [2, 2, 4, 4], "bs": [16, 32, 16, 32],
    ...                      "data": [1, 1, 1, 1], "test_acc": [50.0, 55.0, 60.0, 58.0]})
    >>> label_collection(grid)[["width", "bs", "bs_failure", "width_vs_batch"]]
       width  bs bs_failure width_vs_batch
    0      2  16      large          width
    1      2  32    optimal          width
    2      4  16    optimal        optimal
    3      4  32      small          batch
    """
    rfi = room_for_improvement(
        table, width=width, batch_size=batch_size, data=data, accuracy=accuracy
    )
    labels = diagnosis_labels(rfi)
    labelled = table.copy()
    for source in (rfi, labels):
        for column in source.columns:
            labelled[column] = source[column].to_numpy()
    return labelled


def _verdict(knob_room, other_room, above, below, tie):
    """``above`` where knob_room > other_room, ``below`` where smaller, ``tie`` if equal."""
    return np.where(knob_room > other_room, above, np.where(knob_room < other_room, below, tie))


def _check_rfi(rfi):
    if not isinstance(rfi, pd.DataFrame):
        raise TypeError(f"expected rfi to be a pandas DataFrame, got {type(rfi).__name__}.")
    for name in RFI_COLUMNS:
        if name not in rfi.columns:
            raise ValueError(
                f"expected a column {name!r} in rfi, got columns {list(rfi.columns)}; "
                "compute the RFI columns with room_for_improvement."
            )
        dtype = rfi[name].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise TypeError(f"expected column {name!r} to be numeric, got dtype {dtype}.")
        if rfi[name].isna().any():
            raise ValueError(
                f"expected no missing values in column {name!r}, got "
                f"{int(rfi[name].isna().sum())}; every row needs all four RFI values."
            )
