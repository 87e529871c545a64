"""Estimators pickled by an earlier version keep loading after new parameters are added."""

from __future__ import annotations

__all__ = ["AddedParametersMixin"]


class AddedParametersMixin:
    """Fill in parameters added after an object was pickled with their defaults.

    A subclass lists ``_ADDED_PARAMETERS = {name: default}``: the parameters added after
    the first release, each with the default that reproduces the behaviour the object
    had when it was pickled. Put the mixin before :class:`sklearn.base.BaseEstimator` in
    the bases, so ``get_params`` and ``clone`` then work on old pickles.

    Examples
    --------
    >>> import pickle
    >>> from sklearn.base import BaseEstimator
    >>> from md_sklearn._utils._compat import AddedParametersMixin
    >>> class Old(AddedParametersMixin, BaseEstimator):
    ...     _ADDED_PARAMETERS = {"b": None}
    ...     def __init__(self, a=1, b=None):
    ...         self.a, self.b = a, b
    >>> state = Old().__getstate__()
    >>> _ = state.pop("b")  # as pickled before ``b`` existed
    >>> restored = Old.__new__(Old)
    >>> restored.__setstate__(state)
    >>> restored.get_params()
    {'a': 1, 'b': None}
    """

    _ADDED_PARAMETERS: dict = {}

    def __setstate__(self, state):
        for name, default in self._ADDED_PARAMETERS.items():
            state.setdefault(name, default)
        super().__setstate__(state)
