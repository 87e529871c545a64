"""plot_tree: the fixed tree drawn as boxes and arrows, with fitted thresholds and leaf classes."""

from __future__ import annotations

from itertools import combinations

import numpy as np
from matplotlib.colors import to_rgba

from md_sklearn._tree._fitted import (
    leaf_label,
    leaf_purity,
    leaf_regimes,
    leaf_support,
    parents,
    split_positions,
)
from md_sklearn.plotting._common import (
    check_axes,
    check_decimals,
    check_fontsize,
    check_tree,
    class_colors,
    column_names,
)

__all__ = ["plot_tree"]

#: Opacity of a leaf box's fill (the class colour), so the text stays readable.
LEAF_FILL_ALPHA = 0.35
#: Smallest text size (points) the automatic fit shrinks boxes to.
MIN_FONTSIZE = 4.0
#: Size of the yes/no arrow labels relative to the boxes' text.
EDGE_LABEL_SCALE = 0.85


def plot_tree(clf, *, ax=None, feature_names=None, decimals=3, fontsize=None, colors=None):
    """Draw a fitted :class:`~md_sklearn.MDTreeClassifier` as boxes and arrows.

    Each split box shows its test (``feature <= threshold``, the fitted
    threshold), its position in the fitting order and the number of training
    samples that reached it. Each leaf box shows its id (the value
    :meth:`~md_sklearn.MDTreeClassifier.apply` returns) and regime number
    (leaves counted left to right, as :func:`~md_sklearn.export_text` and the
    paper's figures do), the class it predicts, its training support ``n``
    and its purity (the share of those samples whose class is the predicted
    one), and is filled with the colour of that class. Arrows are labelled
    ``yes`` (``feature <= threshold``, left) and ``no`` (right).

    Parameters
    ----------
    clf : MDTreeClassifier
        A fitted tree.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure sized to the tree when omitted.
    feature_names : sequence of str, optional
        One name per column of X; defaults to ``feature_names_in_``, else
        ``x[i]``.
    decimals : int, default=3
        Digits shown for thresholds and purities.
    fontsize : float, optional
        Text size in points. When omitted, matplotlib's default, shrunk
        (down to 4 points) until no two boxes overlap on the axes.
    colors : mapping, optional
        Class label -> colour of the leaves predicting it; classes left out
        take ``C0``, ``C1`` ... in the order of ``clf.classes_``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on (its axis lines are turned off).

    Raises
    ------
    TypeError
        If ``clf`` is not an :class:`~md_sklearn.MDTreeClassifier`, ``ax``
        not an Axes, or ``decimals``/``fontsize``/``colors`` of the wrong type.
    ValueError
        If ``feature_names`` has the wrong length or ``decimals``/``fontsize``
        is negative.
    sklearn.exceptions.NotFittedError
        If ``clf`` is not fitted.

    See Also
    --------
    md_sklearn.export_text : The same tree as text.
    plot_regimes : The samples in each leaf, the paper's Figure 4 view.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")  # draw off-screen
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from md_sklearn import Leaf, MDTreeClassifier, Split
    >>> from md_sklearn.plotting import plot_tree
    >>> X = np.arange(0.05, 1.0, 0.1).reshape(-1, 1)  # ten samples
    >>> y = np.where(X[:, 0] < 0.5, "small", "large")
    >>> clf = MDTreeClassifier(Split(0, 0.2, (0, 1), Leaf("small"), Leaf("large"))).fit(X, y)
    >>> ax = plot_tree(clf, feature_names=["train_error"], decimals=2)
    >>> print(ax.texts[0].get_text())
    train_error <= 0.50
    split 0 · n = 10
    >>> print(ax.texts[1].get_text())
    leaf 1 · regime 1
    small
    n = 5 · purity 1.00
    >>> plt.close(ax.figure)
    """
    check_tree(clf)
    check_axes(ax)
    decimals = check_decimals(decimals)
    fontsize = check_fontsize(fontsize)
    names = column_names(clf, feature_names)
    palette = class_colors(clf.classes_, colors)

    tree = clf.tree_
    x, depth = _layout(tree["children_left"], tree["children_right"])
    n_leaves = int(np.sum(tree["children_left"] < 0))
    max_depth = int(depth.max())
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(max(4.0, 2.3 * n_leaves), max(2.5, 1.5 * (max_depth + 1))))

    text_kw = {"ha": "center", "va": "center", "zorder": 3}
    if fontsize is not None:
        text_kw["fontsize"] = fontsize
    regimes, position, parent_of = leaf_regimes(clf), split_positions(clf), parents(clf)
    boxes = {}
    for node in range(x.size):  # preorder: a parent's box exists before its children's
        left = tree["children_left"][node]
        if left >= 0:
            text = _split_text(tree, node, names, position[node], decimals)
            face = "white"
        else:
            text, label = _leaf_text(clf, node, regimes[node], decimals)
            face = to_rgba(palette[label], LEAF_FILL_ALPHA)
        bbox = {"boxstyle": "round,pad=0.4", "facecolor": face, "edgecolor": "0.2"}
        xy = (x[node], -depth[node])
        parent = parent_of[node]
        if parent < 0:
            boxes[node] = ax.annotate(text, xy=xy, bbox=bbox, **text_kw)
            continue
        arrow = {"arrowstyle": "<-", "color": "0.2", "patchB": boxes[parent].get_bbox_patch(),
                 "shrinkA": 0, "shrinkB": 0}
        boxes[node] = ax.annotate(text, xy=(x[parent], -depth[parent]), xytext=xy, bbox=bbox,
                                  arrowprops=arrow, **text_kw)
    edge_labels = [label for node in range(x.size) if tree["children_left"][node] >= 0
                   for label in _edge_labels(ax, tree, node, x, depth, fontsize)]

    ax.set_xlim(-0.6, n_leaves - 0.4)
    ax.set_ylim(-max_depth - 0.5, 0.5)
    ax.set_axis_off()
    if fontsize is None:
        _shrink_to_fit(ax, list(boxes.values()), edge_labels)
    return ax


def _layout(children_left, children_right):
    """x (leaves at 0, 1, ... left to right; a split above the middle of its children), depth."""
    n_nodes = children_left.size
    x = np.zeros(n_nodes)
    depth = np.zeros(n_nodes, dtype=int)
    next_leaf = 0

    def place(node, level):
        nonlocal next_leaf
        depth[node] = level
        left, right = children_left[node], children_right[node]
        if left < 0:
            x[node] = next_leaf
            next_leaf += 1
            return
        place(left, level + 1)
        place(right, level + 1)
        x[node] = 0.5 * (x[left] + x[right])

    place(0, 0)
    return x, depth


def _split_text(tree, node, names, fit_position, decimals):
    name = names[tree["feature"][node]]
    threshold = tree["threshold"][node]
    n = int(tree["value"][node].sum())
    return f"{name} <= {threshold:.{decimals}f}\nsplit {fit_position} · n = {n}"


def _leaf_text(clf, node, regime, decimals):
    label, n = leaf_label(clf, node), leaf_support(clf, node)
    purity = f"{leaf_purity(clf, node):.{decimals}f}" if n else "-"
    return f"leaf {node} · regime {regime}\n{label}\nn = {n} · purity {purity}", label


def _edge_labels(ax, tree, node, x, depth, fontsize):
    """``yes``/``no`` halfway along the arrows to the left and right child."""
    size = fontsize * EDGE_LABEL_SCALE if fontsize is not None else "small"
    children = ((tree["children_left"][node], "yes"), (tree["children_right"][node], "no"))
    return [ax.text(0.5 * (x[node] + x[child]), -0.5 * (depth[node] + depth[child]), word,
                    ha="center", va="center", color="0.3", zorder=2, fontsize=size,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
            for child, word in children]


def _shrink_to_fit(ax, boxes, edge_labels):
    """Lower the text size until no two node boxes overlap (on the figure's current size).

    A box, padding included, scales with its text size, so the scale that
    separates the worst-overlapping pair is computed directly; a few rounds
    absorb the rounding of text metrics.
    """
    get_renderer = getattr(ax.figure.canvas, "get_renderer", None)
    if get_renderer is None:  # a backend that cannot measure text before drawing
        return
    renderer = get_renderer()
    for _ in range(4):
        extents = []
        for box in boxes:
            box.update_positions(renderer)
            box.update_bbox_position_size(renderer)
            extents.append(box.get_bbox_patch().get_window_extent(renderer))
        scale = min((_separating_scale(a, b) for a, b in combinations(extents, 2)), default=1.0)
        if scale >= 1.0:
            return
        size = max(MIN_FONTSIZE, boxes[0].get_fontsize() * scale * 0.95)
        for box in boxes:
            box.set_fontsize(size)
        for label in edge_labels:
            label.set_fontsize(size * EDGE_LABEL_SCALE)
        if size == MIN_FONTSIZE:
            return


def _separating_scale(a, b):
    """Factor by which two boxes (scaled about their centres) must shrink to stop overlapping."""
    dx = abs((a.x0 + a.x1) - (b.x0 + b.x1)) / 2
    dy = abs((a.y0 + a.y1) - (b.y0 + b.y1)) / 2
    need_x = (a.width + b.width) / 2
    need_y = (a.height + b.height) / 2
    if dx >= need_x or dy >= need_y:
        return 1.0
    return max(dx / need_x, dy / need_y)
