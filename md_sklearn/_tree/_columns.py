"""Which column of X each split of a hierarchy tests.

A split names its feature by column name or index. Names are looked up in the column
names of X (``feature_names_in_``) or, when X comes as a plain array -- as the
meta-estimators of scikit-learn pass it (``BaggingClassifier``, ``cross_val_predict``
on arrays) -- in the estimator's ``feature_names`` parameter, which binds the names to
column positions. A ``ColumnTransformer`` prefixes its output names with the
transformer's name (``pass__train_error``) unless ``verbose_feature_names_out=False``;
a name is matched to the one column ending in ``__<name>`` when there is exactly one,
and refused with that fix when there are several.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["bound_names", "resolve_columns"]

#: The separator ColumnTransformer puts between a transformer's name and a column name.
_PREFIX_SEPARATOR = "__"


def bound_names(names_in, feature_names, n_features):
    """Column names to look features up in: X's own, or ``feature_names`` for an array.

    Raises when ``feature_names`` does not hold one name per column, or differs from
    the names X carries.
    """
    if feature_names is None:
        return names_in
    bound = np.asarray([str(name) for name in feature_names], dtype=object)
    if bound.size != n_features:
        raise ValueError(
            f"expected feature_names with one name per column of X ({n_features}), got "
            f"{bound.size} ({list(bound)}); list the columns of X in order."
        )
    if names_in is not None and list(map(str, names_in)) != list(bound):
        raise ValueError(
            f"expected feature_names to equal the column names of X, got feature_names="
            f"{list(bound)} and columns {list(map(str, names_in))}; drop feature_names "
            "(X's own names are used) or pass X as an array."
        )
    return bound


def resolve_columns(tree, names, n_features):
    """Column index of X per node of the flattened ``tree`` (used at its splits)."""
    columns = np.zeros(tree.n_nodes, dtype=np.intp)
    for node in tree.split_nodes:
        feature = tree.features[node]
        if isinstance(feature, numbers.Integral):
            if feature >= n_features:
                raise ValueError(
                    f"Split(feature={feature}): expected a column index below "
                    f"{n_features} (X has {n_features} columns), got {feature}."
                )
            columns[node] = feature
        elif names is None:
            raise ValueError(
                f"Split(feature={feature!r}): expected X with column names because the "
                f"hierarchy names its features, got an array without names; pass a pandas "
                f"DataFrame with column {feature!r} (after transformers in a Pipeline: "
                f"pipeline.set_output(transform='pandas')), or, where X travels as an array (inside "
                f"BaggingClassifier, cross_val_predict, ...), bind the names to the columns "
                f"with MDTreeClassifier(..., feature_names=[...]), or declare the tree with "
                f"integer column indices."
            )
        else:
            columns[node] = _column_named(feature, names)
    return columns


def _column_named(feature, names):
    text = np.asarray([str(name) for name in names], dtype=object)
    exact = np.flatnonzero(text == feature)
    if exact.size:
        return exact[0]
    suffix = _PREFIX_SEPARATOR + feature
    prefixed = [i for i, name in enumerate(text) if name.endswith(suffix)]
    if len(prefixed) == 1:
        return prefixed[0]
    if prefixed:
        raise ValueError(
            f"Split(feature={feature!r}): expected one column named {feature!r} in X, got "
            f"several that a ColumnTransformer prefixed ({[text[i] for i in prefixed]}); pass "
            f"ColumnTransformer(..., verbose_feature_names_out=False) and keep one of them."
        )
    hint = (" (a ColumnTransformer prefixes names with its transformers' names: pass "
            "verbose_feature_names_out=False to keep the plain names)"
            if any(_PREFIX_SEPARATOR in name for name in text) else "")
    raise ValueError(
        f"Split(feature={feature!r}): expected a column named {feature!r} in X, got columns "
        f"{list(text)}{hint}; select or compute that feature first (e.g. with a "
        f"ColumnTransformer)."
    )
