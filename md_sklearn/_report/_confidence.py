"""How likely a diagnosis is to change under the noise of its features, computed exactly.

Each feature of a sample is a measurement with a standard error (the extractors' and the
featurizer's ``<column>_se``). Modelled as independent Gaussians centred on the measured
values, the chance that the tree would reach a leaf is exact for the tree's axis-aligned
leaf regions: a leaf is the box ``low < x <= high`` (:func:`leaf_boxes`), so its
probability is the product over the tested features of ``Phi(b) - Phi(a)`` with
``a = (low - value) / se`` and ``b = (high - value) / se``. The probability that the
diagnosis flips is the sum over the leaves predicting another class. A zero standard
error is a certain feature: its factor is 1 inside the box and 0 outside, so with every
standard error 0 the flip probability is exactly 0.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from scipy.special import ndtr

__all__ = ["FRAGILE_LEVEL", "check_fragile_level", "flip_probabilities", "leaf_probabilities",
           "margins_in_se", "standard_errors_for"]

#: A diagnosis whose flip probability exceeds this level is reported as fragile.
FRAGILE_LEVEL = 0.2


def check_fragile_level(level):
    if (isinstance(level, bool) or not isinstance(level, numbers.Real)
            or not 0.0 < float(level) < 1.0):
        raise ValueError(
            f"expected fragile_level to be a probability strictly between 0 and 1, got "
            f"{level!r}; pass e.g. fragile_level=0.2 (the default)."
        )
    return float(level)


def _interval_probability(value, se, low, high):
    """``P(low < N(value, se²) <= high)``, elementwise; ``se == 0`` is the indicator."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (low - value) / se
        b = (high - value) / se
    # the difference on the side of the tails keeps small probabilities precise
    upper = a > 0
    p = np.where(upper, ndtr(-a) - ndtr(-b), ndtr(b) - ndtr(a))
    exact = (low < value) & (value <= high)
    return np.where(se == 0, exact.astype(float), np.clip(p, 0.0, 1.0))


def leaf_probabilities(values, se, low, high, columns):
    """``P[row, leaf]``: the probability each row's noisy features fall in each leaf's box.

    Parameters
    ----------
    values, se : ndarray of shape (n_rows, n_features)
        Measured values and their standard errors (>= 0, finite on ``columns``).
    low, high : ndarray of shape (n_leaves, n_features)
        The leaves' boxes (:func:`md_sklearn._tree._fitted.leaf_boxes`).
    columns : sequence of int
        The columns the tree tests; the others do not change any leaf's probability.
    """
    p = np.ones((values.shape[0], low.shape[0]))
    for j in columns:
        p *= _interval_probability(values[:, [j]], se[:, [j]], low[None, :, j], high[None, :, j])
    return p


def flip_probabilities(values, se, low, high, columns, other_label):
    """The probability of a different diagnosis, all noise together and one feature at a time.

    Parameters
    ----------
    other_label : ndarray of bool, shape (n_rows, n_leaves)
        Whether each leaf predicts a class other than the row's predicted one.

    Returns
    -------
    total : ndarray of shape (n_rows,)
        With every feature's noise.
    by_column : dict of int to ndarray of shape (n_rows,)
        With only that column's noise (the others held at their measured values): how
        much refining that one measurement could settle the diagnosis.
    """
    total = (leaf_probabilities(values, se, low, high, columns) * other_label).sum(axis=1)
    by_column = {}
    for j in columns:
        alone = np.zeros_like(se)
        alone[:, j] = se[:, j]
        by_column[j] = (leaf_probabilities(values, alone, low, high, columns)
                        * other_label).sum(axis=1)
    return np.clip(total, 0.0, 1.0), {j: np.clip(p, 0.0, 1.0) for j, p in by_column.items()}


def margins_in_se(margin, se):
    """``margin / se``; a zero standard error gives ``±inf`` (``0`` on the threshold)."""
    if se > 0:
        return margin / se
    return 0.0 if margin == 0 else float(np.copysign(np.inf, margin))


def standard_errors_for(X_se, names, tested, n_rows, index):
    """The standard errors as a float array of the columns of X, checked.

    ``X_se`` is a DataFrame with one ``<name>_se`` column per feature the tree tests
    (other columns are ignored, so the featurizer's output with uncertainty columns
    works as it is), or an array shaped like X. Only the tested columns are read and
    checked; the others are 0.
    """
    n_features = len(names)
    se = np.zeros((n_rows, n_features))
    if isinstance(X_se, pd.DataFrame):
        wanted = {j: f"{names[j]}_se" for j in tested}
        available = [str(c) for c in X_se.columns]
        missing = [c for c in wanted.values() if c not in available]
        if missing:
            hint = ("rename them with X_se.add_suffix('_se')"
                    if all(names[j] in available for j in tested) else
                    "pass the featurizer's output with return_uncertainty=True, or add the "
                    "columns (0 for a feature known exactly)")
            raise ValueError(
                f"expected X_se to hold one standard-error column per feature the tree tests, "
                f"{sorted(wanted.values())}, got columns {available[:8]}"
                f"{' ...' if len(available) > 8 else ''} (missing {missing}); {hint}."
            )
        if len(X_se) != n_rows:
            raise ValueError(
                f"expected X_se to have one row per sample of X ({n_rows}), got {len(X_se)}; "
                "pass the standard errors of the same samples, in the same order."
            )
        if index is not None and not X_se.index.equals(index):
            raise ValueError(
                "expected X_se's index to match X's index, got different sample labels "
                f"(first X: {list(index[:3])}, X_se: {list(X_se.index[:3])}); align them "
                "with X_se.loc[X.index]."
            )
        for j, column in wanted.items():
            se[:, j] = _numeric(X_se[column], column)
        labels = wanted
    else:
        array = np.asarray(X_se)
        if array.ndim != 2 or array.shape != (n_rows, n_features):
            raise ValueError(
                f"expected X_se of the shape of X, ({n_rows}, {n_features}), got "
                f"{array.shape}; pass one standard error per value of X (or a DataFrame of "
                "'<column>_se' columns)."
            )
        labels = {j: f"X_se[:, {j}]" for j in tested}
        for j in tested:
            se[:, j] = _numeric(array[:, j], labels[j])
    for j in tested:
        bad = ~(np.isfinite(se[:, j]) & (se[:, j] >= 0))
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(
                f"expected finite standard errors >= 0, got {se[row, j]} in {labels[j]} "
                f"(row {row}, {int(bad.sum())} bad value(s)); a standard error is a spread: "
                "give 0 for a feature known exactly, and recompute an unknown (NaN) one, "
                "e.g. mode_connectivity_peak_se needs connectivity_pairs='all' with three or "
                "more members."
            )
    return se


def _numeric(values, label):
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"expected numeric standard errors in {label}, got values of dtype "
            f"{getattr(values, 'dtype', type(values).__name__)}; pass numbers."
        ) from error
