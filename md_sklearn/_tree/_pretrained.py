"""The paper's trees fitted on the whole clean published collection, shipped as a JSON summary."""

from __future__ import annotations

import functools
import json
from importlib import resources

from md_sklearn._protocol._labels import HIERARCHY_TASKS, LABEL_COLUMNS, TIE_LABEL, decided_classes
from md_sklearn._tree._classifier import MDTreeClassifier
from md_sklearn._tree._fitted import feature_names_in, leaf_regimes
from md_sklearn._tree._hierarchy import fitting_order, iter_splits
from md_sklearn._tree._presets import get_hierarchy
from md_sklearn._tree._provenance import TreeProvenance

__all__ = [
    "PRETRAINED_NAMES",
    "PRETRAINED_TREES",
    "hierarchy_features",
    "pretrained",
    "training_classes",
    "tree_from_summary",
    "tree_summary",
]

#: Pretrained tree -> (label column, narrowest width kept when it was fitted). Source: the
#: paper's protocol (``docs/table_b.rst``, "Pretrained trees"): rows labelled "optimal"
#: are dropped per task; the data-vs-optimizer tree used widths >= 32.
PRETRAINED_TREES = {
    name: (LABEL_COLUMNS[HIERARCHY_TASKS[name]], min_width)
    for name, min_width in (("q1", None), ("q1_cka", None), ("q2_width", None), ("q2_data", 32))
}

#: The names :func:`pretrained` accepts.
PRETRAINED_NAMES = tuple(PRETRAINED_TREES)

#: Version of the layout of the shipped file (2: provenance, scores on the noisy
#: collection and the measured range of each feature).
SUMMARY_FORMAT = 2

_PACKAGE_FILE = ("_data", "pretrained_trees.json")


def pretrained(name):
    """One of the paper's trees, fitted on the whole clean published collection.

    The tree was fitted by ``tools/make_pretrained.py`` (Brent search, as the
    paper) on every model of the clean collection F whose label is not
    ``optimal`` (``q2_data``: of width >= 32 only), with the features its
    hierarchy tests, and its fitted thresholds, training ranges and leaf class
    counts ship with the package; the tables themselves do not. Predictions equal
    those of a tree fitted on the published table, and a feature value far
    outside the training range warns (:class:`~md_sklearn.exceptions.FeatureRangeWarning`):
    ``train_error`` and ``mode_connectivity_peak`` are in percent,
    ``hessian_t`` is the natural log of the Hessian trace, ``CKA`` lies in [0, 1].

    It was fitted on ResNet-18 models trained on CIFAR-10, and it knows it:
    ``provenance_`` (a :class:`~md_sklearn._tree._provenance.TreeProvenance`)
    holds the models, data, training recipe and metric settings, the collections
    it was fitted and scored on (its accuracy on the noisy collection F', an upper
    reference for trees fitted on a few models, not a promise for other
    architectures) and the range of each feature over the models of both
    collections. :func:`~md_sklearn.explain` and ``md-sklearn diagnose`` print
    where it comes from. A value beyond that measured range by more than
    ``REGION_MARGIN`` (5 %) of its width warns
    (:class:`~md_sklearn.exceptions.FeatureRangeWarning`) that the sample lies
    outside the region the tree has evidence for, and says to fit your own tree
    on a small labelled collection instead
    (:func:`md_sklearn.collections.build_collection`,
    :func:`~md_sklearn.bounds_from_data`).

    Parameters
    ----------
    name : {"q1", "q1_cka", "q2_width", "q2_data"}
        The question (see :func:`get_hierarchy`): ``"q1"`` and ``"q1_cka"``
        answer ``bs_failure`` (``small`` = batch size too large, ``large`` =
        batch size too small), ``"q2_width"`` answers ``width_vs_batch`` and
        ``"q2_data"`` ``data_vs_batch``.

    Returns
    -------
    MDTreeClassifier
        A fitted tree; ``X`` must hold the columns ``feature_names_in_`` in that
        order. ``clone`` gives the unfitted tree, ready to be fitted on your own
        collection.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If ``name`` is not one of the four names.

    Examples
    --------
    >>> import pandas as pd
    >>> from md_sklearn import pretrained
    >>> clf = pretrained("q1")
    >>> list(clf.feature_names_in_)
    ['train_error', 'mode_connectivity_peak', 'hessian_t']
    >>> X = pd.DataFrame({"train_error": [0.0, 12.0, 12.0],
    ...                   "mode_connectivity_peak": [-0.1, -30.0, -1.0],
    ...                   "hessian_t": [5.0, 7.5, 5.0]})
    >>> clf.predict(X)
    array(['small', 'small', 'large'], dtype='<U5')
    """
    if not isinstance(name, str):
        raise TypeError(
            f"expected a pretrained tree name (str) in {list(PRETRAINED_NAMES)}, got "
            f"{type(name).__name__}."
        )
    trees = _shipped_summaries()["trees"]
    if name not in trees:
        raise ValueError(
            f"expected a pretrained tree name in {list(PRETRAINED_NAMES)}, got {name!r}; "
            f"for the other presets fit MDTreeClassifier(name) on your own collection."
        )
    clf = tree_from_summary(name, trees[name])
    clf.provenance_ = TreeProvenance.from_summary(
        name, _shipped_summaries()["provenance"], trees[name])
    return clf


def tree_from_summary(name, summary):
    """A fitted :class:`MDTreeClassifier` from one tree's entry of the summary file."""
    features = summary["features"]
    split_features = _fit_order_features(name)
    saved_features = [entry["feature"] for entry in summary["thresholds"]]
    if saved_features != split_features:
        raise ValueError(
            f"expected thresholds for the splits {split_features} of {name!r}, got "
            f"{saved_features}; the summary file does not match this version of md_sklearn "
            f"(regenerate it with tools/make_pretrained.py)."
        )
    classes = sorted(summary["classes"])
    return MDTreeClassifier._from_fitted_state(
        hierarchy=name,
        classes=list(summary["classes"]),
        feature_names=features,
        thresholds=[entry["value"] for entry in summary["thresholds"]],
        leaf_counts=[[leaf["counts"][c] for c in classes] for leaf in summary["leaves"]],
        feature_min=[summary["feature_range"][f][0] for f in features],
        feature_max=[summary["feature_range"][f][1] for f in features],
    )


def hierarchy_features(name):
    """Features a preset tests, in order of first use (preorder)."""
    return list(dict.fromkeys(split.feature for split in iter_splits(get_hierarchy(name))))


def tree_summary(clf, *, label_column, min_width):
    """The shipped description of a fitted paper tree: a JSON-ready dict.

    Holds the rows it was fitted on (label column, width limit, count), the
    features, classes, thresholds in fitting order with their features, the
    training range of each feature, and each leaf's training class counts (its
    support and purity); nothing else of the training table.
    """
    tree = clf.tree_
    names = feature_names_in(clf)
    classes = [str(c) for c in clf.classes_]
    return {
        "rows": {
            "label_column": label_column,
            "dropped_label": TIE_LABEL,
            "min_width": min_width,
            "n_samples": int(tree["value"][0].sum()),
        },
        "features": names,
        "classes": classes,
        "thresholds": [
            {"feature": names[tree["feature"][node]], "value": float(tree["threshold"][node])}
            for node in tree["fit_order"]
        ],
        "feature_range": {
            name: [float(clf.feature_min_[i]), float(clf.feature_max_[i])]
            for i, name in enumerate(names)
        },
        "leaves": [
            {
                "leaf": int(node),
                "regime": regime,
                "label": classes[tree["leaf_class"][node]],
                "counts": {c: int(n) for c, n in zip(classes, tree["value"][node])},
            }
            for node, regime in leaf_regimes(clf).items()
        ],
    }


def training_classes(name):
    """Classes of a pretrained tree: its label column's labels without ``optimal``."""
    label_column, _ = PRETRAINED_TREES[name]
    return decided_classes(label_column)


def _fit_order_features(name):
    hierarchy = get_hierarchy(name)
    splits = list(iter_splits(hierarchy))
    return [splits[i].feature for i in fitting_order(hierarchy)]


@functools.lru_cache(maxsize=1)
def _shipped_summaries():
    text = resources.files("md_sklearn").joinpath(*_PACKAGE_FILE).read_text(encoding="utf-8")
    summaries = json.loads(text)
    if summaries.get("format") != SUMMARY_FORMAT:
        raise ValueError(
            f"expected pretrained_trees.json of format {SUMMARY_FORMAT}, got "
            f"{summaries.get('format')!r}; reinstall md-sklearn or regenerate the file with "
            f"tools/make_pretrained.py."
        )
    return summaries
