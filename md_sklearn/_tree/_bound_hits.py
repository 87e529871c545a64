"""Fitted thresholds that sit on a search bound with no training value inside the bounds:
the usual sign of features on another scale than the tree's bounds (a ``StandardScaler``
before a paper tree puts every ``hessian_t`` near 0, below the bounds (4, 9)).

A threshold on a bound alone is no sign: the paper's own ``q2_width`` and ``q2_data``
trees have some (their searches ran into an end with the data inside the bounds).
Only when the training values of the split's feature all lie outside the bounds did
the search see nothing to place the threshold by. Even that happens in the paper's own
few-shot protocol (Table B's width_limit draws of k = 2 put every train error above the
q1 tree's bounds (0, 1)), so it is a fact the fitted tree records
(``thresholds_at_bound_``) and :func:`~md_sklearn.explain` reports in every record, not
a warning at ``fit``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BOUND_TOLERANCE", "at_bound", "bound_note"]

#: A threshold within this fraction of its interval's width from an end sits on the
#: bound (our choice: bounded Brent stops within about 1e-5 absolute of an end, and an
#: exhaustive search on data beyond the bound returns the bound itself).
BOUND_TOLERANCE = 1e-4


def at_bound(thresholds, bounds, feature_min, feature_max) -> np.ndarray:
    """Per split (fitting order), whether its threshold lies on an end of its bounds while
    the training values of its feature (``feature_min`` .. ``feature_max``) all lie on or
    beyond one end."""
    thresholds = np.asarray(thresholds, dtype=float)
    if thresholds.size == 0:
        return np.zeros(0, dtype=bool)
    low, high = (np.asarray(side, dtype=float) for side in zip(*bounds))
    tolerance = BOUND_TOLERANCE * (high - low)
    on_end = (np.abs(thresholds - low) <= tolerance) | (np.abs(high - thresholds) <= tolerance)
    fmin, fmax = np.asarray(feature_min, dtype=float), np.asarray(feature_max, dtype=float)
    outside = (fmax <= low + tolerance) | (fmin >= high - tolerance)
    return on_end & outside


def bound_note(features, thresholds, bounds, hits) -> str | None:
    """One sentence naming the splits fitted on a bound, or None when none is."""
    parts = [f"{feature!r} at {threshold:.4g} (bounds [{low:g}, {high:g}], no training "
             "value inside)"
             for feature, threshold, (low, high), hit in zip(features, thresholds, bounds, hits)
             if hit]
    if not parts:
        return None
    return (f"the tree's threshold(s) on {', '.join(parts)} were fitted on a search bound: "
            "the features may be on another scale than the tree's bounds (a StandardScaler "
            "before a paper tree?); fit on the features as the tree expects them, or give "
            "the splits bounds from the data (bounds_from_data)")

