"""A tie tolerance from the seed noise of a collection: differences smaller than it are ties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["seed_tolerance"]


def seed_tolerance(table, *, z=1.96, std="test_acc_std", n_seeds="n_models"):
    """Tie tolerance (accuracy points) from the spread of test accuracy across seeds.

    Two configurations whose mean test accuracies (each over ``n`` seeds) differ by less
    than ``z * sqrt(2) * s / sqrt(n)`` are not told apart by the seeds: ``s`` is the
    pooled standard deviation across seeds within configurations (the root mean square
    of ``table[std]``), ``n`` the fewest seeds of any configuration. Pass the result as
    ``label_collection(..., tolerance=...)`` so that rooms for improvement closer than
    this are labelled a tie (``"optimal"``) and dropped, as the paper drops ties.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per configuration, e.g. ``build_collection(...).table``.
    z : float, default=1.96
        Standard errors of the difference of two configuration means (1.96: a 95 %
        two-sided threshold).
    std : str, default="test_acc_std"
        Column of the standard deviation of test accuracy across a configuration's seeds.
    n_seeds : str, default="n_models"
        Column of the number of seeds of each configuration.

    Returns
    -------
    float
        The tolerance, in the units of the accuracy (percent for collections).

    Raises
    ------
    TypeError
        If ``table`` is not a DataFrame.
    ValueError
        If a column is missing, ``z`` is negative, or a configuration has fewer than one seed.

    Examples
    --------
    >>> import pandas as pd
    >>> from md_sklearn.labels import seed_tolerance
    >>> table = pd.DataFrame({"test_acc_std": [1.0, 1.0], "n_models": [4, 4]})
    >>> round(seed_tolerance(table), 4)  # 1.96 * sqrt(2) * 1 / sqrt(4)
    1.3859
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"expected table to be a pandas DataFrame, got {type(table).__name__}.")
    missing = [c for c in (std, n_seeds) if c not in table.columns]
    if missing:
        raise ValueError(
            f"expected columns {missing} in table, got columns {list(table.columns)}; pass the "
            "table of build_collection, or name the columns with std= and n_seeds=."
        )
    if not z >= 0:
        raise ValueError(f"expected z >= 0, got {z}; pass a number of standard errors.")
    fewest = float(table[n_seeds].min())
    if not fewest >= 1:
        raise ValueError(f"expected at least 1 seed per configuration, got {fewest}.")
    pooled = math.sqrt(float(np.mean(np.square(table[std].fillna(0.0).to_numpy(float)))))
    return z * math.sqrt(2.0) * pooled / math.sqrt(fewest)
