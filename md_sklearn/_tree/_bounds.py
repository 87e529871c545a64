"""Move a hierarchy's search intervals onto the scale of the user's own features."""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np
import pandas as pd

from md_sklearn._tree._hierarchy import Leaf, Split
from md_sklearn._tree._presets import get_hierarchy

__all__ = ["bounds_from_data"]


def bounds_from_data(hierarchy, X, *, margin=0.05):
    """A copy of a hierarchy whose search bounds span the values of each feature in ``X``.

    The paper's trees come with search intervals on the scale of its models
    (ResNet-18 on CIFAR-10: e.g. ``hessian_t`` searched in ``[4, 9]``). Models of
    another size or data set land elsewhere (a small CNN on 8x8 digits has a much
    smaller Hessian trace), and a threshold searched outside the data cannot split
    it. This keeps the tree's shape, features, leaves and fitting order, and for
    each split sets ``bounds`` to the range of its feature in ``X`` widened by
    ``margin`` times that range on both sides (a feature that is constant in ``X``
    gets half its magnitude, at least 0.5, on each side); ``init`` is kept when it lies inside
    the new bounds and otherwise moved to the median of the feature.

    Parameters
    ----------
    hierarchy : Split or str
        A hierarchy, or the name of a preset (see :func:`get_hierarchy`).
    X : pandas.DataFrame or array-like of shape (n_samples, n_features)
        The training features; a split's feature is a column name of a
        DataFrame or a column index of an array.
    margin : float, default=0.05
        Share of each feature's range added below and above it (>= 0).

    Returns
    -------
    Split
        The rescaled hierarchy (the input is not changed).

    Raises
    ------
    TypeError
        If ``hierarchy`` is not a Split or a preset name, or ``margin`` is not a number.
    ValueError
        If a feature is missing from ``X`` or has no finite value, or ``margin``
        is negative.

    Examples
    --------
    >>> import pandas as pd
    >>> from md_sklearn import bounds_from_data
    >>> X = pd.DataFrame({"train_error": [0.0, 2.0, 8.0, 20.0],
    ...                   "mode_connectivity_peak": [-12.0, -3.0, -1.0, 0.0],
    ...                   "hessian_t": [1.5, 2.0, 3.0, 3.5]})
    >>> print(bounds_from_data("q1", X, margin=0.0))
    [0] train_error <= t  (init 0.5, bounds [0, 20])
    ├── yes: small
    └── no:  [1] mode_connectivity_peak <= t  (init -10, bounds [-12, 0])
        ├── yes: [2] hessian_t <= t  (init 2.5, bounds [1.5, 3.5])
        │   ├── yes: large
        │   └── no:  small
        └── no:  large
    """
    if isinstance(hierarchy, str):
        hierarchy = get_hierarchy(hierarchy)
    if not isinstance(hierarchy, Split):
        raise TypeError(f"expected a Split hierarchy or a preset name, got "
                        f"{type(hierarchy).__name__}.")
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real):
        raise TypeError(f"expected margin to be a number, got {type(margin).__name__}.")
    if not margin >= 0:
        raise ValueError(f"expected margin >= 0, got {margin}.")
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=float))

    def rescale(node):
        if isinstance(node, Leaf):
            return node
        values = _feature_values(frame, node.feature)
        low, high = float(values.min()), float(values.max())
        # A constant feature gets an interval of half its magnitude (at least 0.5)
        # on each side, so the tree stays valid and can still split new data.
        pad = margin * (high - low) if low < high else 0.5 * max(abs(low), 1.0)
        low, high = low - pad, high + pad
        init = node.init if low <= node.init <= high else float(np.median(values))
        return dataclasses.replace(node, init=init, bounds=(low, high),
                                   left=rescale(node.left), right=rescale(node.right))

    return rescale(hierarchy)


def _feature_values(frame, feature):
    if feature not in frame.columns:
        raise ValueError(f"expected X to have the column {feature!r} that the hierarchy "
                         f"splits on, got columns {list(frame.columns)}.")
    values = pd.to_numeric(frame[feature], errors="coerce").to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError(f"expected finite values of feature {feature!r} in X, got none.")
    return values
