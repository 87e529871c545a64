"""Old import path of :class:`Split` and :class:`Leaf`, kept for saved objects.

Trees pickled before the estimator moved to ``md_sklearn/_tree/`` refer to
``md_sklearn._hierarchy.Split`` and ``md_sklearn._hierarchy.Leaf``; this module lets
them load. New code imports from :mod:`md_sklearn`.
"""

from md_sklearn._tree._hierarchy import Leaf, Split

__all__ = ["Leaf", "Split"]
