"""Checks and lookups shared by the plotting functions (fitted tree, names, colours, axes)."""

from __future__ import annotations

import numbers

import numpy as np
from matplotlib.axes import Axes
from sklearn.utils.validation import check_is_fitted

from md_sklearn._tree._classifier import MDTreeClassifier
from md_sklearn._tree._fitted import column_names as fitted_column_names

__all__ = [
    "as_labels",
    "check_axes",
    "check_decimals",
    "check_fontsize",
    "check_tree",
    "class_colors",
    "column_names",
]


def check_tree(clf):
    """Raise unless ``clf`` is a fitted :class:`MDTreeClassifier`."""
    if not isinstance(clf, MDTreeClassifier):
        raise TypeError(
            f"expected a fitted MDTreeClassifier, got {type(clf).__name__}; fit an "
            f"md_sklearn.MDTreeClassifier first (sklearn trees have sklearn.tree.plot_tree)."
        )
    check_is_fitted(clf)


def check_decimals(decimals):
    if isinstance(decimals, bool) or not isinstance(decimals, numbers.Integral):
        raise TypeError(f"expected decimals to be an int, got {type(decimals).__name__}.")
    if decimals < 0:
        raise ValueError(f"expected decimals >= 0, got {decimals}.")
    return int(decimals)


def check_fontsize(fontsize):
    if fontsize is None:
        return None
    if isinstance(fontsize, bool) or not isinstance(fontsize, numbers.Real):
        raise TypeError(
            f"expected fontsize to be a number of points or None, got {type(fontsize).__name__}."
        )
    if not fontsize > 0:
        raise ValueError(f"expected fontsize > 0, got {fontsize}.")
    return float(fontsize)


def check_axes(ax, name="ax"):
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(
            f"expected {name} to be a matplotlib Axes or None, got {type(ax).__name__}; "
            f"pass e.g. plt.subplots()[1], or leave it out to draw on a new figure."
        )
    return ax


def column_names(clf, feature_names):
    """One display name per column of X (:func:`md_sklearn._tree._fitted.column_names`);
    a single string is refused rather than read as one name per character."""
    if isinstance(feature_names, str):
        raise TypeError(
            f"expected feature_names to be a sequence of str (one per column), got the "
            f"single string {feature_names!r}."
        )
    return fitted_column_names(clf, feature_names)


def class_colors(classes, colors=None, extra=()):
    """Label -> colour: ``colors`` where given, else the property cycle ``C0``, ``C1`` ...

    ``classes`` (the tree's ``classes_``) come first so a label keeps its colour
    from one figure to the next; ``extra`` labels (e.g. ``"optimal"`` in ``y``)
    follow.
    """
    if colors is not None and not hasattr(colors, "get"):
        raise TypeError(
            f"expected colors to be a mapping from class label to colour (e.g. "
            f"{{'small': 'tab:blue', 'large': 'tab:red'}}), got {type(colors).__name__}."
        )
    labels = list(dict.fromkeys([*as_labels(classes), *as_labels(extra)]))
    palette = {label: f"C{i % 10}" for i, label in enumerate(labels)}
    if colors is not None:
        palette.update({label: colors[label] for label in labels if label in colors})
    return palette


def as_labels(values):
    """Labels as plain Python scalars (``np.str_('a')`` -> ``'a'``), for dict keys and text."""
    return [v.item() if hasattr(v, "item") else v for v in np.asarray(values, dtype=object)]
