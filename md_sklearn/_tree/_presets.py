"""The paper's fixed hierarchies, available by name through :func:`get_hierarchy`."""

from __future__ import annotations

from md_sklearn._protocol._thresholds import (
    CKA_SPLIT,
    CONNECTIVITY_SPLIT,
    HESSIAN_OOD_SPLIT,
    HESSIAN_SPLIT,
    TRAIN_ERROR_SPLIT,
)
from md_sklearn._tree._hierarchy import Leaf, Split

__all__ = ["PRESET_NAMES", "get_hierarchy"]


def _split(spec, left, right, order=None):
    feature, init, bounds = spec
    return Split(feature, init, bounds, left, right, order=order)


def _q1(third_split=HESSIAN_SPLIT, low_third="large", high_third="small"):
    # Root: interpolating models (train error <= t) -> temperature too small.
    # Poorly connected + flat -> temperature too large; + sharp -> too small.
    # Well connected -> temperature too large.
    return _split(
        TRAIN_ERROR_SPLIT,
        Leaf("small"),
        _split(
            CONNECTIVITY_SPLIT,
            _split(third_split, Leaf(low_third), Leaf(high_third)),
            Leaf("large"),
        ),
    )


def _q2_width():
    return _split(
        TRAIN_ERROR_SPLIT,
        _split(CONNECTIVITY_SPLIT, Leaf("width"), Leaf("batch")),
        _split(CONNECTIVITY_SPLIT, Leaf("width"), Leaf("batch")),
    )


def _q2_data():
    # The paper fits this tree in a non-breadth-first order; docs/hierarchies.rst
    # prints it with each split's position in brackets.
    return _split(
        TRAIN_ERROR_SPLIT,
        _split(
            CONNECTIVITY_SPLIT,
            _split(HESSIAN_SPLIT, Leaf("data"), Leaf("batch"), order=4),
            _split(HESSIAN_SPLIT, Leaf("data"), Leaf("batch"), order=2),
            order=1,
        ),
        _split(
            CONNECTIVITY_SPLIT,
            Leaf("batch"),
            _split(HESSIAN_SPLIT, Leaf("data"), Leaf("batch"), order=5),
            order=3,
        ),
        order=0,
    )


_BUILDERS = {
    "q1": _q1,
    "q1_cka": lambda: _q1(CKA_SPLIT, low_third="small", high_third="large"),
    "q1_ood": lambda: _q1(HESSIAN_OOD_SPLIT),
    "q2_width": _q2_width,
    "q2_data": _q2_data,
}

PRESET_NAMES = tuple(_BUILDERS)


def get_hierarchy(name):
    """Return one of the paper's fixed trees by name.

    Parameters
    ----------
    name : {"q1", "q1_cka", "q1_ood", "q2_width", "q2_data"}
        ``"q1"``: is the optimizer temperature too small or too large
        (label column ``bs_failure``; ``small`` = batch size too large,
        ``large`` = batch size too small). ``"q1_cka"``: the same question with
        CKA similarity in place of Hessian trace. ``"q1_ood"``: Q1 with the
        Hessian node starting at 5. ``"q2_width"``: model too small or
        optimizer (``width_vs_batch``). ``"q2_data"``: too little data or
        optimizer (``data_vs_batch``; the paper used models of width >= 32).

    Returns
    -------
    Split
        The root of the tree; features are column names of the published tables.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If ``name`` is not a known preset; the message lists them.

    Examples
    --------
    >>> from md_sklearn import get_hierarchy
    >>> print(get_hierarchy("q1"))
    [0] train_error <= t  (init 0.5, bounds [0, 1])
    ├── yes: small
    └── no:  [1] mode_connectivity_peak <= t  (init -10, bounds [-30, 0])
        ├── yes: [2] hessian_t <= t  (init 7, bounds [4, 9])
        │   ├── yes: large
        │   └── no:  small
        └── no:  large
    """
    if not isinstance(name, str):
        raise TypeError(f"expected a preset name (str), got {type(name).__name__}.")
    try:
        return _BUILDERS[name]()
    except KeyError:
        raise ValueError(
            f"expected a hierarchy name in {list(PRESET_NAMES)}, got {name!r}; "
            f"or declare your own tree with Split and Leaf."
        ) from None
