"""plot_regimes: the paper's Figure 4 view, samples on each side of the root split among the
fitted regime boundaries."""

from __future__ import annotations

import numbers

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D

from md_sklearn._tree._fitted import leaf_regimes
from md_sklearn.plotting._common import (
    as_labels,
    check_axes,
    check_decimals,
    check_fontsize,
    check_tree,
    class_colors,
    column_names,
)

__all__ = ["plot_regimes"]

#: Opacity of the sample markers, so overlapping models stay visible.
POINT_ALPHA = 0.75
#: Share of the data span added on each side of an axis.
AXIS_MARGIN = 0.05


def plot_regimes(clf, X, y, *, axes=None, features=None, feature_names=None, decimals=3,
                 colors=None, fontsize=None, marker_size=None):
    """Scatter the samples in the regimes of a fitted tree (the paper's Figure 4 view).

    The samples are split by the root test into its two sides, one panel
    each (``feature <= threshold`` on the first panel). On each panel the
    samples are a scatter of two features, coloured by their true label; the
    fitted thresholds of the splits on that side are drawn as black dashed
    lines (the regime boundaries) and every region is labelled with its
    leaf: ``leaf i · regime r``, ``i`` being the id
    :meth:`~md_sklearn.MDTreeClassifier.apply` returns and ``r`` the regime
    number of :func:`plot_tree` and :func:`~md_sklearn.export_text`.

    Parameters
    ----------
    clf : MDTreeClassifier
        A fitted tree.
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        Samples to draw (training or test), with the columns seen in ``fit``.
    y : array-like of shape (n_samples,)
        Their true labels; labels outside ``clf.classes_`` (e.g.
        ``"optimal"``) are drawn too, in colours after the classes'.
    axes : sequence of two matplotlib.axes.Axes, optional
        Panels for the ``<=`` and ``>`` sides of the root; a new 1 × 2
        figure when omitted. To show training and test samples as the paper
        does, draw twice into the rows of a 2 × 2 grid.
    features : pair of (str or int), optional
        Columns for the x and y axes of both panels, by name or index.
        By default each panel takes the first two distinct features tested
        on its side of the tree (depth-first), then those of the other side,
        then the root's (see Notes).
    feature_names : sequence of str, optional
        One name per column of X, for the axis labels; defaults to
        ``feature_names_in_``, else ``x[i]``.
    decimals : int, default=3
        Digits of the root threshold in the panel titles.
    colors : mapping, optional
        Label -> marker colour; labels left out take ``C0``, ``C1`` ... in
        the order of ``clf.classes_``, as in :func:`plot_tree`.
    fontsize : float, optional
        Size in points of the regime labels; ``"small"`` when omitted.
    marker_size : float, optional
        Marker area in points²; matplotlib's default when omitted.

    Returns
    -------
    ndarray of matplotlib.axes.Axes of shape (2,)
        The ``<=`` and ``>`` panels. Each holds one scatter per leaf of its
        side (``gid`` ``"leaf-<id>"``, one point per sample in that leaf) and
        one dashed line per drawn threshold (``gid`` ``"threshold-<node>"``).

    Raises
    ------
    TypeError
        If ``clf`` is not an :class:`~md_sklearn.MDTreeClassifier`, ``axes``
        is not two Axes, or ``features`` is not a pair of names or indices.
    ValueError
        If ``X`` does not match the fitted columns, ``y`` has another length
        than ``X``, a feature to draw holds NaN or infinity, ``features``
        names an unknown column, or ``feature_names`` has the wrong length.
    sklearn.exceptions.NotFittedError
        If ``clf`` is not fitted.

    See Also
    --------
    plot_tree : The tree whose leaves the regimes are.

    Notes
    -----
    What each panel can show depends on the tree:

    - A side with two or more features below the root (Q1's ``>`` side:
      connectivity then sharpness) is drawn on its first two; a boundary
      is drawn only over the part of the panel its split applies to (Q1:
      the sharpness line stops at the connectivity threshold).
    - A side with one feature below the root (each side of Q2) has the root
      feature as its second axis: the root threshold then shows as a line at
      the panel's edge. Pass ``features=("mode_connectivity_peak",
      "hessian_t")`` for the paper's Figure 5 axes.
    - A side that is a single leaf (Q1's ``<=`` side) is drawn on the other
      side's axes, without boundaries, as one labelled regime.
    - A stump (one split in all) has a single feature: each panel is a strip
      of the samples along it at y = 0.

    A split on a feature that is not on the panel's axes has no line; its
    leaves then share a region and their labels are stacked in it.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")  # draw off-screen
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from md_sklearn import Leaf, MDTreeClassifier, Split
    >>> from md_sklearn.plotting import plot_regimes
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(0, 1, size=(200, 3))
    >>> y = np.where((X[:, 0] > 0.5) & (X[:, 1] > 0.3) | (X[:, 2] > 0.6), "b", "a")
    >>> tree = Split(0, 0.4, (0, 1), Leaf("a"),
    ...              Split(1, 0.5, (0, 1), Split(2, 0.5, (0, 1), Leaf("a"), Leaf("b")),
    ...                    Leaf("b")))
    >>> clf = MDTreeClassifier(tree, threshold_search="exhaustive").fit(X, y)
    >>> left, right = plot_regimes(clf, X, y)
    >>> [line.get_gid() for line in right.get_lines()]
    ['threshold-2', 'threshold-3']
    >>> [text.get_text() for text in right.texts]
    ['leaf 4 · regime 2', 'leaf 5 · regime 3', 'leaf 6 · regime 4']
    >>> counts = {c.get_gid(): len(c.get_offsets()) for c in right.collections}
    >>> counts
    {'leaf-4': 14, 'leaf-5': 12, 'leaf-6': 94}
    >>> counts == {f"leaf-{i}": int((clf.apply(X) == i).sum()) for i in (4, 5, 6)}
    True
    >>> plt.close(left.figure)
    """
    check_tree(clf)
    decimals = check_decimals(decimals)
    fontsize = check_fontsize(fontsize)
    names = column_names(clf, feature_names)
    leaves = clf.apply(X)
    X = clf._validate_predict_input(X)
    y = _check_labels(y, X.shape[0])
    axes = _check_axes_pair(axes)

    tree = clf.tree_
    left, right, feature = tree["children_left"], tree["children_right"], tree["feature"]
    sides = (int(left[0]), int(right[0]))
    columns = _check_features(features, names) if features is not None else None
    if columns is None:
        own = [_subtree_features(tree, side) for side in sides]
        pairs = [_first_two([*own[i], *own[1 - i], int(feature[0])]) for i in range(2)]
    else:
        pairs = [columns, columns]
    for cx, cy in pairs:
        _check_finite(X, [c for c in (cx, cy) if c is not None], names)

    palette = class_colors(clf.classes_, colors, extra=np.unique(y))
    point_colors = np.array([to_rgba(palette[label], POINT_ALPHA) for label in as_labels(y)])
    point_colors = point_colors.reshape(-1, 4)
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(11.0, 4.6))
    regimes = leaf_regimes(clf)
    text_size = fontsize if fontsize is not None else "small"
    root_name = names[feature[0]]
    root_threshold = f"{tree['threshold'][0]:.{decimals}f}"
    for ax, side, (cx, cy), relation in zip(axes, sides, pairs, ("<=", ">")):
        side_leaves = _subtree_leaves(tree, side)
        rows = np.isin(leaves, side_leaves)
        xs = X[:, cx]
        ys = X[:, cy] if cy is not None else np.zeros(X.shape[0])
        for leaf in side_leaves:
            here = leaves == leaf
            ax.scatter(xs[here], ys[here], color=point_colors[here], s=marker_size,
                       edgecolors="none", gid=f"leaf-{leaf}", zorder=2)
        splits = _path_splits(tree, side)
        xlim = _limits(xs[rows], [tree["threshold"][n] for n in splits if feature[n] == cx])
        ylim = (-1.0, 1.0) if cy is None else _limits(
            ys[rows], [tree["threshold"][n] for n in splits if feature[n] == cy])
        ax.set_xlim(xlim)
        ax.set_ylim(ylim)
        boxes = _draw_boundaries(ax, tree, side, cx, cy, xlim, ylim)
        _label_regimes(ax, boxes, regimes, text_size)
        ax.set_xlabel(names[cx])
        if cy is None:
            ax.set_yticks([])
        else:
            ax.set_ylabel(names[cy])
        ax.set_title(f"{root_name} {relation} {root_threshold}  (n = {int(rows.sum())})")
    handles = [Line2D([], [], marker="o", linestyle="none", color=palette[label], label=str(label))
               for label in palette if label in set(as_labels(y))]
    handles.append(Line2D([], [], color="black", linestyle="--", label="fitted threshold"))
    axes[-1].legend(handles=handles, loc="best", fontsize="small", framealpha=0.8)
    return np.asarray(axes, dtype=object)


def _check_labels(y, n_samples):
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"expected y as a 1-d array of labels, got shape {y.shape}.")
    if y.shape[0] != n_samples:
        raise ValueError(
            f"expected one label per row of X ({n_samples}), got {y.shape[0]}; pass the y "
            f"that goes with X."
        )
    return y


def _check_axes_pair(axes):
    if axes is None:
        return None
    axes = list(np.ravel(np.asarray(axes, dtype=object)))
    if len(axes) != 2:
        raise TypeError(
            f"expected axes to be two matplotlib Axes (the <= and > sides of the root), got "
            f"{len(axes)}; pass e.g. plt.subplots(1, 2)[1]."
        )
    for ax in axes:
        check_axes(ax, "each of axes")
    return axes


def _check_features(features, names):
    """Column indices of a user's ``(x, y)`` pair of names or indices."""
    if isinstance(features, str) or not hasattr(features, "__len__") or len(features) != 2:
        raise TypeError(
            f"expected features to be a pair (x, y) of column names or indices, got "
            f"{features!r}."
        )
    columns = []
    for f in features:
        if isinstance(f, str):
            if f not in names:
                raise ValueError(
                    f"expected feature names among the columns {names}, got {f!r}; pass "
                    f"feature_names= when X has no column names."
                )
            columns.append(names.index(f))
        elif isinstance(f, numbers.Integral) and not isinstance(f, bool):
            if not 0 <= f < len(names):
                raise ValueError(
                    f"expected column indices in [0, {len(names) - 1}], got {f}."
                )
            columns.append(int(f))
        else:
            raise TypeError(
                f"expected features to be a pair of column names or indices, got "
                f"{type(f).__name__} {f!r}."
            )
    if columns[0] == columns[1]:
        raise ValueError(f"expected two different columns for x and y, got {features!r}.")
    return tuple(columns)


def _check_finite(X, columns, names):
    for column in columns:
        bad = ~np.isfinite(X[:, column])
        if bad.any():
            raise ValueError(
                f"expected finite values in feature {names[column]!r} to draw, got "
                f"{int(bad.sum())} NaN or infinite value(s); drop or impute those rows."
            )


def _subtree_nodes(tree, node):
    """Node ids of the subtree under ``node``, in preorder."""
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        out.append(current)
        if tree["children_left"][current] >= 0:
            stack.extend((tree["children_right"][current], tree["children_left"][current]))
    return out


def _subtree_leaves(tree, node):
    return [n for n in _subtree_nodes(tree, node) if tree["children_left"][n] < 0]


def _subtree_features(tree, node):
    return [int(tree["feature"][n]) for n in _subtree_nodes(tree, node)
            if tree["children_left"][n] >= 0]


def _path_splits(tree, side):
    """The root and the splits under ``side``: every split whose test holds on the panel."""
    return [0, *(n for n in _subtree_nodes(tree, side) if tree["children_left"][n] >= 0)]


def _first_two(columns):
    distinct = list(dict.fromkeys(columns))
    return (distinct[0], distinct[1] if len(distinct) > 1 else None)


def _limits(values, thresholds):
    """Axis range holding the values and the thresholds drawn on it, with a margin."""
    points = np.concatenate([np.asarray(values, dtype=float), np.asarray(thresholds, dtype=float)])
    if points.size == 0:
        return (0.0, 1.0)
    low, high = float(points.min()), float(points.max())
    pad = AXIS_MARGIN * (high - low) if high > low else 0.5
    return (low - pad, high + pad)


def _draw_boundaries(ax, tree, side, cx, cy, xlim, ylim):
    """Dashed lines of the splits holding on this panel; the region of each leaf, clipped.

    Returns ``{leaf: (x0, x1, y0, y1)}``.
    """
    boxes = {}

    def visit(node, box, only=None):
        if tree["children_left"][node] < 0:
            boxes[int(node)] = tuple(box)
            return
        f, t = tree["feature"][node], tree["threshold"][node]
        x0, x1, y0, y1 = box
        if f == cx:
            ax.plot([t, t], [y0, y1], linestyle="--", color="black", linewidth=1.2,
                    gid=f"threshold-{node}", zorder=3)
            halves = ((x0, min(x1, t), y0, y1), (max(x0, t), x1, y0, y1))
        elif cy is not None and f == cy:
            ax.plot([x0, x1], [t, t], linestyle="--", color="black", linewidth=1.2,
                    gid=f"threshold-{node}", zorder=3)
            halves = ((x0, x1, y0, min(y1, t)), (x0, x1, max(y0, t), y1))
        else:
            halves = (box, box)
        children = (tree["children_left"][node], tree["children_right"][node])
        for child, half in zip(children, halves):
            if only is None or child == only:
                visit(child, half)

    visit(0, (*xlim, *ylim), only=side)
    return boxes


def _label_regimes(ax, boxes, regimes, fontsize):
    """One label per region; leaves sharing a region (an undrawn split) are stacked."""
    by_region = {}
    for leaf, box in boxes.items():
        by_region.setdefault(box, []).append(leaf)
    for (x0, x1, y0, y1), leaves in by_region.items():
        text = "\n".join(f"leaf {leaf} · regime {regimes[leaf]}" for leaf in leaves)
        ax.text(0.5 * (x0 + x1), 0.5 * (y0 + y1), text, ha="center", va="center",
                fontsize=fontsize, zorder=4,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "alpha": 0.8,
                      "edgecolor": "0.5"})
