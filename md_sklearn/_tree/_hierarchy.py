"""Declaring a fixed tree: the immutable node types :class:`Split` and :class:`Leaf`."""

from __future__ import annotations

import itertools
import math
import numbers
from collections import deque
from dataclasses import dataclass

__all__ = ["Leaf", "Split", "fitting_order", "iter_splits"]


@dataclass(frozen=True)
class Leaf:
    """A terminal node of a fixed hierarchy.

    Parameters
    ----------
    label : object, default=None
        The class this leaf predicts. ``None`` means the leaf predicts the
        majority class of the training samples that reach it (ties go to the
        class that sorts first).

    Examples
    --------
    >>> from md_sklearn import Leaf
    >>> Leaf("small")
    Leaf(label='small')
    >>> Leaf().label is None
    True
    """

    label: object = None

    def __str__(self):
        return _render(self)


@dataclass(frozen=True)
class Split:
    """An internal node of a fixed hierarchy: ``feature <= threshold`` goes left.

    Only the threshold is learned; where it starts (``init``), where it may
    go (``bounds``) and what lies below it are declared here.

    Parameters
    ----------
    feature : str or int
        Column name (for DataFrame input) or column index.
    init : float
        Initial threshold, used for this node until it is fitted (and by nodes
        fitted before it). Must lie inside ``bounds``.
    bounds : tuple of (float, float)
        Search interval ``(low, high)`` with ``low < high``, both finite.
    left, right : Split or Leaf
        Subtrees for samples with ``feature <= threshold`` and ``> threshold``.
    order : int or None, default=None
        Position of this node in the fitting order (0 = fitted first). Nodes
        without an ``order`` fill the remaining positions breadth-first.

    Raises
    ------
    TypeError
        If a field has the wrong type (e.g. a child that is not a node).
    ValueError
        If ``bounds`` are not finite with ``low < high`` or ``init`` lies
        outside them. The message names the node.

    Examples
    --------
    >>> from md_sklearn import Leaf, Split
    >>> tree = Split("train_error", 0.5, (0, 1), Leaf("small"), Leaf("large"))
    >>> print(tree)
    [0] train_error <= t  (init 0.5, bounds [0, 1])
    ├── yes: small
    └── no:  large
    >>> Split("x", 5.0, (0, 1), Leaf(), Leaf())
    Traceback (most recent call last):
    ...
    ValueError: Split(feature='x'): expected init inside bounds [0.0, 1.0], got 5.0; ...
    """

    feature: str | int
    init: float
    bounds: tuple[float, float]
    left: Split | Leaf
    right: Split | Leaf
    order: int | None = None

    def __post_init__(self):
        where = f"Split(feature={self.feature!r})"
        if isinstance(self.feature, bool) or not isinstance(self.feature, (str, numbers.Integral)):
            raise TypeError(
                f"Split: expected feature to be a column name (str) or index (int), "
                f"got {type(self.feature).__name__} {self.feature!r}."
            )
        if isinstance(self.feature, numbers.Integral):
            if self.feature < 0:
                raise ValueError(
                    f"{where}: expected a non-negative column index, got {self.feature}."
                )
            object.__setattr__(self, "feature", int(self.feature))
        for name in ("left", "right"):
            child = getattr(self, name)
            if not isinstance(child, (Split, Leaf)):
                raise TypeError(
                    f"{where}: expected {name} to be a Split or a Leaf, got "
                    f"{type(child).__name__}; wrap a class label as Leaf(label)."
                )
        try:
            low, high = (float(b) for b in self.bounds)
        except (TypeError, ValueError):
            raise TypeError(
                f"{where}: expected bounds as a pair of numbers (low, high), got {self.bounds!r}."
            ) from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(
                f"{where}: expected finite bounds with low < high, got ({low}, {high}); "
                f"give the interval the threshold may be searched in."
            )
        object.__setattr__(self, "bounds", (low, high))
        if isinstance(self.init, bool) or not isinstance(self.init, numbers.Real):
            raise TypeError(
                f"{where}: expected init to be a number, got {type(self.init).__name__}."
            )
        init = float(self.init)
        if not low <= init <= high:
            raise ValueError(
                f"{where}: expected init inside bounds [{low}, {high}], got {init}; "
                f"move init into the interval or widen the bounds."
            )
        object.__setattr__(self, "init", init)
        if self.order is not None:
            if isinstance(self.order, bool) or not isinstance(self.order, numbers.Integral):
                raise TypeError(
                    f"{where}: expected order to be an int or None, got {self.order!r}."
                )
            if self.order < 0:
                raise ValueError(f"{where}: expected order >= 0, got {self.order}.")
            object.__setattr__(self, "order", int(self.order))

    def __str__(self):
        return _render(self)

    @property
    def n_splits(self):
        """Number of internal nodes of this tree."""
        return sum(1 for _ in iter_splits(self))


def iter_splits(node):
    """Yield the internal nodes of ``node`` in depth-first preorder."""
    if isinstance(node, Split):
        yield node
        yield from iter_splits(node.left)
        yield from iter_splits(node.right)


def _render(node):
    """Text drawing of a hierarchy with each split's fitting position, init and bounds."""
    lines = []
    counter = itertools.count()
    fit_position = _fit_positions(node) if isinstance(node, Split) else {}

    def label_text(leaf):
        return "majority class" if leaf.label is None else str(leaf.label)

    def walk(n, prefix, branch):
        if isinstance(n, Leaf):
            lines.append(f"{prefix}{branch}{label_text(n)}")
            return
        idx = next(counter)
        head = (
            f"[{fit_position[idx]}] {n.feature} <= t  (init {n.init:g}, "
            f"bounds [{n.bounds[0]:g}, {n.bounds[1]:g}])"
        )
        lines.append(f"{prefix}{branch}{head}")
        child_prefix = prefix + (
            "" if not branch else ("│   " if branch.startswith("├") else "    ")
        )
        walk(n.left, child_prefix, "├── yes: ")
        walk(n.right, child_prefix, "└── no:  ")

    walk(node, "", "")
    return "\n".join(lines)


def _splits_breadth_first(root):
    """Preorder split indices visited level by level, left to right."""
    preorder_index = {id(node): i for i, node in enumerate(iter_splits(root))}
    out, queue = [], deque([root])
    while queue:
        node = queue.popleft()
        if isinstance(node, Split):
            out.append(preorder_index[id(node)])
            queue.extend((node.left, node.right))
    return out


def fitting_order(root):
    """Preorder split indices in the order their thresholds are fitted.

    Nodes with an explicit ``order`` take that position; the others fill the
    free positions breadth-first.

    Raises
    ------
    ValueError
        If two nodes claim the same position or a position is out of range.
    """
    splits = list(iter_splits(root))
    n = len(splits)
    slots = [None] * n
    for i, node in enumerate(splits):
        if node.order is None:
            continue
        if node.order >= n:
            raise ValueError(
                f"Split(feature={node.feature!r}, order={node.order}): expected order < {n} "
                f"(the tree has {n} splits, positions 0..{n - 1}), got {node.order}."
            )
        if slots[node.order] is not None:
            other = splits[slots[node.order]]
            raise ValueError(
                f"Split(feature={node.feature!r}, order={node.order}): position {node.order} is "
                f"already taken by Split(feature={other.feature!r}); give every node a distinct order."
            )
        slots[node.order] = i
    free = iter(i for i in _splits_breadth_first(root) if splits[i].order is None)
    return [s if s is not None else next(free) for s in slots]


def _fit_positions(root):
    """Map preorder index of each split to its position in the fitting order."""
    order = fitting_order(root)
    return {preorder: position for position, preorder in enumerate(order)}
