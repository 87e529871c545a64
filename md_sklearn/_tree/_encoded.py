"""Leaf labels that survive label encoding.

``BaggingClassifier``, ``VotingClassifier``, ``StackingClassifier``,
``CalibratedClassifierCV`` and ``cross_val_predict(method="predict_proba")`` encode
``y`` with a ``LabelEncoder`` before they fit their estimators: the tree then sees the
codes ``0 .. k-1`` of the sorted classes where its leaves name the classes themselves
(``"small"``, ``"large"``). When every leaf names its label, none of them is an
integer, and ``y`` holds integer codes below the number of classes, code ``i`` is read
as the ``i``-th class in sorted order (the ``classes`` parameter, else the leaf
labels) -- exactly the encoder's order -- and the tree predicts codes, as those
meta-estimators expect.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["encoded_label_names"]


def encoded_label_names(y, leaf_labels, classes=None):
    """The classes that ``y``'s integer codes stand for, or None when ``y`` holds labels.

    Parameters
    ----------
    y : ndarray
        Training labels as given to ``fit``.
    leaf_labels : sequence
        The declared label of every leaf (None for a majority leaf).
    classes : array-like or None
        The estimator's ``classes`` parameter.
    """
    if y.dtype.kind not in "iu" or y.size == 0:
        return None
    declared = [label for label in leaf_labels if label is not None]
    if classes is None and len(declared) < len(leaf_labels):
        return None  # a majority leaf: the full list of classes is unknown
    if not declared or any(isinstance(label, numbers.Integral) for label in declared):
        return None  # integer labels are matched as they are
    names = np.unique(np.asarray(list(classes) if classes is not None else declared,
                                 dtype=object))
    if any(isinstance(name, numbers.Integral) for name in names):
        return None
    if y.min() < 0 or y.max() >= names.size:
        return None
    return names
