"""Statistics of an evaluation: spread over repetitions, bootstrap intervals, paired tests.

Shared by ``md-sklearn demo`` and the validation study (``python -m benchmarks study``).

All of them start from a *correctness matrix* of one method on one case: shape
``(n_repetitions, n_test)``, 1 where the method's prediction for a test
configuration was right in that repetition. The bootstrap resamples test
configurations (columns) with replacement, keeping each configuration's
repetitions together; a paired comparison resamples the same columns for both
methods. The percentile interval and the exact McNemar test come from numpy and
:func:`scipy.stats.binomtest`; only the resampling of columns is ours.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest

__all__ = ["bootstrap_ci", "mcnemar_exact", "mean_std", "paired_bootstrap", "resample_indices",
           "verdict"]


def _matrix(correct, name="correct"):
    array = np.asarray(correct, dtype="float64")
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] == 0:
        raise ValueError(
            f"expected {name} of shape (n_repetitions, n_test) with n_test >= 1, got shape "
            f"{np.shape(correct)}; pass one row of 0/1 per repetition."
        )
    return array


def mean_std(scores):
    """Mean and population standard deviation (ddof 0, as Table B) of per-repetition scores."""
    scores = np.asarray(scores, dtype="float64")
    return float(scores.mean()), float(scores.std())


def resample_indices(n_test, n_boot, random_state):
    """``(n_boot, n_test)`` column indices drawn with replacement (``numpy.random.default_rng``)."""
    return np.random.default_rng(random_state).integers(0, n_test, size=(n_boot, n_test))


def bootstrap_ci(correct, *, n_boot=10000, level=0.95, random_state=0, indices=None):
    """Accuracy (percent) averaged over repetitions, with a bootstrap interval over test configurations.

    Parameters
    ----------
    correct : array-like of shape (n_repetitions, n_test) or (n_test,)
        1 where a prediction was right.
    n_boot : int, default=10000
        Bootstrap resamples.
    level : float, default=0.95
        Coverage of the percentile interval.
    random_state : int, default=0
        Seed of the resampling.
    indices : ndarray of shape (n_boot, n_test), optional
        Explicit resamples (for tests); overrides ``n_boot`` and ``random_state``.

    Returns
    -------
    dict
        ``accuracy``, ``low``, ``high`` (percent) and ``n_test``.
    """
    matrix = _matrix(correct)
    # Sums before one division: exact for 0/1 data, so ties at 0 stay exactly 0.
    per_config = matrix.sum(axis=0)
    scale = matrix.shape[0] * per_config.size
    if indices is None:
        indices = resample_indices(per_config.size, n_boot, random_state)
    resampled = per_config[indices].sum(axis=1) / scale
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(resampled, [alpha, 1.0 - alpha])
    return {"accuracy": 100.0 * float(per_config.sum() / scale), "low": 100.0 * float(low),
            "high": 100.0 * float(high), "n_test": int(per_config.size)}


def paired_bootstrap(correct_a, correct_b, *, n_boot=10000, level=0.95, random_state=0,
                     indices=None):
    """Accuracy difference a - b (points), with a paired bootstrap interval over test configurations.

    Both matrices must hold the same test configurations in the same order; each
    resample draws the same columns for both methods.

    Returns
    -------
    dict
        ``difference``, ``low``, ``high`` (percentage points), ``p_not_positive``
        (share of resamples with a difference <= 0) and ``n_test``.
    """
    a, b = _matrix(correct_a, "correct_a"), _matrix(correct_b, "correct_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"expected both methods scored on the same test configurations, got {a.shape[1]} "
            f"and {b.shape[1]}; pair them on one test set."
        )
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"expected both methods scored in the same repetitions, got {a.shape[0]} and "
            f"{b.shape[0]}; pair them repetition by repetition."
        )
    difference = a.sum(axis=0) - b.sum(axis=0)  # exact for 0/1 data
    scale = a.shape[0] * difference.size
    if indices is None:
        indices = resample_indices(difference.size, n_boot, random_state)
    resampled = difference[indices].sum(axis=1) / scale
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(resampled, [alpha, 1.0 - alpha])
    return {"difference": 100.0 * float(difference.sum() / scale), "low": 100.0 * float(low),
            "high": 100.0 * float(high), "p_not_positive": float(np.mean(resampled <= 0)),
            "n_test": int(difference.size)}


def mcnemar_exact(correct_a, correct_b):
    """Exact two-sided McNemar test of two methods on the same test configurations.

    Parameters
    ----------
    correct_a, correct_b : array-like of shape (n_test,)
        1 where each method was right (one repetition).

    Returns
    -------
    dict
        ``a_only`` (a right, b wrong), ``b_only`` and the two-sided ``p_value`` of
        :func:`scipy.stats.binomtest` on the discordant pairs (1.0 without any).
    """
    a = np.asarray(correct_a).astype(bool)
    b = np.asarray(correct_b).astype(bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"expected two 1-d arrays of the same length, got shapes {a.shape} and {b.shape}."
        )
    a_only, b_only = int(np.sum(a & ~b)), int(np.sum(~a & b))
    n = a_only + b_only
    p_value = 1.0 if n == 0 else float(binomtest(a_only, n, 0.5).pvalue)
    return {"a_only": a_only, "b_only": b_only, "p_value": p_value}


def verdict(low, high):
    """Plain words for a paired interval of MD tree minus a baseline."""
    if low > 0:
        return "MD tree better"
    if high < 0:
        return "baseline better"
    return "no clear difference"
