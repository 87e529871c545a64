"""Checks of the X given to :class:`MDTreeClassifier`: numeric columns, finite tested features."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

__all__ = ["check_finite", "explain_text_columns"]


@contextmanager
def explain_text_columns(X):
    """Re-raise a failed float conversion of a DataFrame naming its text columns.

    Inspecting dtypes only after a failure keeps the common path free of cost.
    """
    try:
        yield
    except ValueError as error:
        if not isinstance(X, pd.DataFrame):
            raise
        text = [str(c) for c, dtype in X.dtypes.items() if not is_numeric_dtype(dtype)]
        if not text:
            raise
        raise ValueError(
            f"expected numeric feature columns, got non-numeric column(s) {text[:5]}"
            f"{' ...' if len(text) > 5 else ''}; pass only the features, e.g. "
            f"X[['train_error', 'mode_connectivity_peak', 'hessian_t']], or select them with a "
            f"ColumnTransformer."
        ) from error


def check_finite(X, columns, describe):
    """Raise naming the first tested column of ``X`` with NaN or infinity (``describe(column)``)."""
    for column in np.unique(columns):
        bad = ~np.isfinite(X[:, column])
        if bad.any():
            raise ValueError(
                f"expected finite values in feature {describe(column)} used by the tree, got "
                f"{int(bad.sum())} NaN or infinite value(s) (first at row {int(np.argmax(bad))}); "
                f"drop or impute those rows before fitting or predicting."
            )

