"""MDTreeClassifier: a decision tree of fixed shape whose thresholds are fitted one by one."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from md_sklearn._tree._bound_hits import at_bound, bound_note
from md_sklearn._tree._columns import bound_names, resolve_columns
from md_sklearn._tree._encoded import encoded_label_names
from md_sklearn._tree._fitted import (
    feature_names_in,
    route_leaves,
    route_visits,
    split_nodes,
)
from md_sklearn._tree._flat import flatten
from md_sklearn._tree._hierarchy import Leaf, Split, iter_splits
from md_sklearn._tree._inputs import check_finite, explain_text_columns
from md_sklearn._tree._presets import PRESET_NAMES, get_hierarchy
from md_sklearn._tree._ranges import (
    range_findings,
    region_findings,
    training_range,
    warn_findings,
)
from md_sklearn._tree._routing import route_paths
from md_sklearn._tree._search import accuracy_profile, brent_threshold, exhaustive_threshold
from md_sklearn._tree._state import fitted_state, saved_arrays
from md_sklearn._utils._compat import AddedParametersMixin

__all__ = ["MDTreeClassifier"]


class MDTreeClassifier(AddedParametersMixin, ClassifierMixin, BaseEstimator):
    """Model-diagnosis tree: a user-declared tree shape with fitted thresholds.

    The shape of the tree (which feature each split tests, what each leaf
    predicts) is fixed by ``hierarchy``; fitting only chooses the thresholds,
    one split at a time in the declared order, each by maximising the training
    accuracy of the whole tree with the other thresholds held at their current
    values (fitted, or initial for splits not yet fitted). This is MD tree
    (Zhou et al., ICML 2024). A sample goes left when ``feature <= threshold``.

    Parameters
    ----------
    hierarchy : Split, str or None, default=None
        The tree to fit: a :class:`Split` root, or the name of one of the
        paper's trees (``"q1"``, ``"q1_cka"``, ``"q1_ood"``, ``"q2_width"``,
        ``"q2_data"``; see :func:`get_hierarchy`). ``None`` fits a one-split
        stump on feature 0 whose bounds are the training range of that feature
        and whose two leaves predict their majority class.
    threshold_search : {"brent", "exhaustive"}, default="brent"
        ``"brent"`` reproduces the paper: bounded Brent minimisation
        (``scipy.optimize.minimize_scalar(method="bounded")``, default options)
        of minus the training accuracy. ``"exhaustive"`` takes, for each split,
        the globally best threshold in its bounds (midpoints between sorted
        training values), breaking ties towards the Brent answer.
    classes : array-like or None, default=None
        Every class the tree may predict, when a training set lacks some.
    feature_names : sequence of str or None, default=None
        The names of the columns of X, in order, for a hierarchy that names its
        features when X comes as an array without names -- as inside
        ``BaggingClassifier`` or ``cross_val_predict`` on arrays. With a DataFrame
        X they must equal its columns (or be left None).

    Attributes
    ----------
    thresholds_ : ndarray of shape (n_splits,)
        Fitted thresholds in fitting order.
    hierarchy_ : Split
        The fitted tree: each split's ``init`` is its fitted threshold and each
        majority leaf carries the label it predicts.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names seen in ``fit`` (DataFrame input only).
    train_score_ : float
        Training accuracy of the fitted tree.
    encoded_labels_ : ndarray or None
        When ``y`` held the integer codes of the leaf labels (a meta-estimator's
        ``LabelEncoder``; see Notes), the labels the codes stand for (code ``i`` is
        ``encoded_labels_[i]``); None otherwise.
    thresholds_at_bound_ : ndarray of bool of shape (n_splits,)
        Per split in fitting order: its threshold was fitted on an end of its
        bounds while no training value of its feature lies inside them -- the
        usual sign of features on another scale (a ``StandardScaler`` before a
        paper tree), though few-shot fits of the paper's trees have some too.
        :func:`explain` notes it in every record and :func:`export_text` under
        the tree.
    feature_min_, feature_max_ : ndarray of shape (``n_features_in_``,)
        Smallest and largest training value of each feature the tree tests;
        NaN for the columns it does not test. Prediction warns when a value
        lies far outside (see Notes).
    tree_ : dict of ndarray
        The fitted tree as plain arrays indexed by node id (depth-first
        preorder, 0 = root): ``children_left``, ``children_right`` (-1 at
        leaves), ``feature`` (column index, -1 at leaves), ``threshold`` (NaN
        at leaves), ``value`` (training class counts per node),
        ``leaf_class`` (class index each leaf predicts, -1 at splits),
        ``fit_order`` (split node ids in fitting order), ``depth``.

    See Also
    --------
    get_hierarchy : The paper's trees.
    export_text : A text report of a fitted tree.
    sklearn.tree.DecisionTreeClassifier : A tree whose shape is learned.

    Notes
    -----
    Each objective evaluation costs one binary search: while one split is
    fitted the others are fixed, so the training accuracy is a step function
    of the split position, tabulated once per split in O(n log n).

    ``predict`` returns each leaf's declared label; ``predict_proba`` returns
    the class frequencies of the training samples in the leaf, so for a leaf
    whose declared label is not its majority class the two disagree by design.

    ``predict``, ``predict_proba``, ``apply`` and ``decision_path`` issue a
    :class:`~md_sklearn.exceptions.FeatureRangeWarning` for each tested feature
    with a value far outside the range seen in fitting, the usual sign of a unit
    mismatch (an error in percent where the tree saw fractions, a raw Hessian
    trace where it saw its natural log, a flipped sign). A feature's reference
    interval is the hull of its training range and of the search bounds of the
    splits testing it, and its scale the larger of the interval's width and its
    largest magnitude; a value is far out more than 3 scales beyond the
    interval, or, for a feature the interval keeps on one side of zero, on the
    other side by more than 0.05 scales. No value of the paper's transfer from
    the clean to the noisy collection, nor of cross-validation on either, is.

    scikit-learn's meta-estimators work with a tree whose hierarchy names its
    features and labels. ``BaggingClassifier``, ``VotingClassifier``,
    ``StackingClassifier``, ``CalibratedClassifierCV`` and
    ``cross_val_predict(method="predict_proba")`` fit their estimators on
    ``LabelEncoder`` codes ``0 .. k-1``: when every leaf names a non-integer
    label and ``y`` holds integer codes below the number of classes (the
    ``classes`` parameter, else the leaf labels), code ``i`` is read as the
    ``i``-th class in sorted order -- the encoder's order -- and the tree
    predicts codes, as those meta-estimators expect (``encoded_labels_`` names
    them). Where X travels as an array (``BaggingClassifier`` always), bind the
    names with ``feature_names``. A column named ``<prefix>__<feature>``, as a
    ``ColumnTransformer`` names its output, is used for ``feature`` when it is the
    only such column; several are refused with the fix
    (``verbose_feature_names_out=False``).

    Examples
    --------
    >>> import numpy as np
    >>> from md_sklearn import Leaf, MDTreeClassifier, Split
    >>> X = np.arange(0.05, 1.0, 0.1).reshape(-1, 1)  # ten samples
    >>> y = np.where(X[:, 0] < 0.5, "small", "large")
    >>> tree = Split(0, 0.2, (0.0, 1.0), Leaf("small"), Leaf("large"))
    >>> clf = MDTreeClassifier(tree).fit(X, y)
    >>> clf.predict([[0.3], [0.7]])
    array(['small', 'large'], dtype='<U5')
    >>> clf.train_score_
    1.0
    >>> round(float(clf.thresholds_[0]), 3)
    0.5
    """

    _parameter_constraints: dict = {
        "hierarchy": [None, StrOptions(set(PRESET_NAMES)), Split],
        "threshold_search": [StrOptions({"brent", "exhaustive"})],
        "classes": [None, "array-like"],
        "feature_names": [None, "array-like"],
    }

    def __init__(self, hierarchy=None, threshold_search="brent", classes=None,
                 feature_names=None):
        self.hierarchy = hierarchy
        self.threshold_search = threshold_search
        self.classes = classes
        self.feature_names = feature_names

    #: Parameters added after the first release -> their default, so trees pickled
    #: before they existed load with today's behaviour.
    _ADDED_PARAMETERS = {"feature_names": None}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A handful of fixed splits cannot reach the accuracy generic checks ask of a
        # free tree on arbitrary data (e.g. a stump cannot separate three classes).
        tags.classifier_tags.poor_score = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the thresholds of the hierarchy on training data.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Features. Column names are required when the hierarchy names its
            features (the paper's trees do).
        y : array-like of shape (n_samples,)
            Class labels; every class must be one some leaf can predict.

        Returns
        -------
        self : MDTreeClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            If a hierarchy feature is missing from ``X``, the used features
            hold NaN or infinity, a declared leaf label is absent from ``y``, or
            ``y`` holds a class no leaf predicts.
        """
        with explain_text_columns(X):
            X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite=False)
        check_classification_targets(y)
        root = self._resolve_hierarchy(X)
        tree = flatten(root)
        columns = self._resolve_columns(tree)
        check_finite(X, columns[tree.split_nodes], self._column_label)

        split_columns = columns[tree.split_nodes]
        feature_min, feature_max = training_range(X, split_columns)
        self.encoded_labels_ = encoded_label_names(
            y, [tree.labels[node] for node in tree.leaf_nodes], self.classes)
        if self.encoded_labels_ is None:
            self.classes_, y_codes = self._encode_classes(y)
        else:  # LabelEncoder codes from a meta-estimator: predict codes too
            self.classes_ = np.arange(self.encoded_labels_.size, dtype=y.dtype)
            y_codes = y.astype(np.intp)
        leaf_targets = self._leaf_targets(tree)
        n_classes = self.classes_.size

        thresholds = tree.init.copy()
        for split_index in tree.fit_order:
            node = tree.split_nodes[split_index]
            xs, correct = accuracy_profile(
                X, y_codes, n_classes, tree, columns, thresholds, leaf_targets, node
            )
            bounds = tree.bounds[node]
            value = brent_threshold(xs, correct, X.shape[0], bounds)
            if self.threshold_search == "exhaustive":
                value = exhaustive_threshold(xs, correct, bounds, prefer=value)
            thresholds[node] = value

        value = np.zeros((tree.n_nodes, n_classes), dtype=np.int64)
        rows, nodes = route_paths(
            X, columns, thresholds, tree.children_left, tree.children_right, tree.depth
        )
        np.add.at(value, (nodes, y_codes[rows]), 1)
        fitted = fitted_state(root, tree, columns, thresholds, value, leaf_targets, self.classes_)
        return self._set_fitted(fitted, feature_min, feature_max, tree)

    @classmethod
    def _from_fitted_state(cls, *, hierarchy, classes, feature_names, thresholds, leaf_counts,
                           feature_min, feature_max):
        """A fitted tree from a saved summary, in place of ``fit`` (as unpickling would).

        Used by :func:`md_sklearn.pretrained`; the attributes are those ``fit``
        sets, built by :func:`md_sklearn._tree._state.fitted_state`.

        Parameters
        ----------
        hierarchy : Split or str
            The declared tree (the ``hierarchy`` parameter).
        classes : sequence
            Its classes (the ``classes`` parameter); ``classes_`` is them sorted.
        feature_names : sequence of str
            The columns of X, as ``feature_names_in_``.
        thresholds : sequence of float
            Fitted thresholds in fitting order, as ``thresholds_``.
        leaf_counts : sequence of sequence of int
            One row of training class counts per leaf in preorder (as
            ``tree_["value"]`` at the leaves, columns as ``classes_``).
        feature_min, feature_max : sequence of float
            Training range per column of ``feature_names``.

        Returns
        -------
        MDTreeClassifier
            A new fitted estimator.

        Raises
        ------
        ValueError
            If the summary does not fit the declared tree.
        """
        estimator = cls(hierarchy, classes=classes)
        names = np.asarray(feature_names, dtype=object)
        estimator.n_features_in_ = names.size
        estimator.feature_names_in_ = names
        estimator.classes_ = np.unique(np.asarray(classes))
        root = estimator._resolve_hierarchy(np.zeros((1, names.size)))
        tree = flatten(root)
        node_thresholds, value, low, high = saved_arrays(
            tree, names.size, estimator.classes_.size, thresholds=thresholds,
            leaf_counts=leaf_counts, feature_min=feature_min, feature_max=feature_max,
        )
        fitted = fitted_state(
            root, tree, estimator._resolve_columns(tree), node_thresholds, value,
            estimator._leaf_targets(tree), estimator.classes_,
        )
        return estimator._set_fitted(fitted, low, high, tree)

    def _set_fitted(self, fitted, feature_min, feature_max, tree):
        """Set the attributes of :func:`~md_sklearn._tree._state.fitted_state`, the ranges
        and which thresholds sit on a search bound."""
        self.tree_ = fitted["tree_"]
        self.thresholds_ = fitted["thresholds_"]
        self.hierarchy_ = fitted["hierarchy_"]
        self.train_score_ = fitted["train_score_"]
        self.feature_min_ = feature_min
        self.feature_max_ = feature_max
        columns = self.tree_["feature"][self.tree_["fit_order"]]
        self.thresholds_at_bound_ = at_bound(
            self.thresholds_, [tree.bounds[node] for node in self.tree_["fit_order"]],
            feature_min[columns], feature_max[columns])
        return self

    def _bound_note(self):
        """The sentence about thresholds fitted on a search bound, or None."""
        hits = getattr(self, "thresholds_at_bound_", None)
        if hits is None or not hits.any():
            return None
        names = feature_names_in(self)
        columns = self.tree_["feature"][self.tree_["fit_order"]]
        features = [names[c] if names is not None else f"x[{c}]" for c in columns]
        bounds_of = {int(node): split.bounds  # both in preorder
                     for node, split in zip(split_nodes(self), iter_splits(self.hierarchy_))}
        bounds = [bounds_of[int(node)] for node in self.tree_["fit_order"]]
        return bound_note(features, self.thresholds_, bounds, hits)

    # ------------------------------------------------------------------ predict
    def apply(self, X):
        """Return the id of the leaf each sample ends in.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of int of shape (n_samples,)
            Node ids (depth-first preorder, as in ``tree_`` and
            :func:`export_text`).
        """
        check_is_fitted(self)
        return self._leaves(self._validate_predict_input(X))

    def predict(self, X):
        """Predict the class of each sample: the label of the leaf it reaches.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        leaves = self._leaves(self._validate_predict_input(X))
        return self.classes_[self.tree_["leaf_class"][leaves]]

    def predict_proba(self, X):
        """Class frequencies of the training samples in each sample's leaf.

        A leaf no training sample reached gives probability 1 to its declared
        (or inherited) label.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        check_is_fitted(self)
        leaves = self._leaves(self._validate_predict_input(X))
        counts = self.tree_["value"].astype(float)
        totals = counts.sum(axis=1, keepdims=True)
        empty = totals[:, 0] == 0
        counts[empty, self.tree_["leaf_class"][empty].clip(min=0)] = 1.0
        proba = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
        return proba[leaves]

    def decision_path(self, X):
        """Indicator of the nodes each sample passes through.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n_samples, n_nodes)
            Entry ``[i, j]`` is 1 when sample i visits node j.
        """
        check_is_fitted(self)
        X = self._validate_predict_input(X)
        rows, nodes = route_visits(self, X)
        data = np.ones(rows.size, dtype=np.int64)
        shape = (X.shape[0], self.tree_["children_left"].size)
        return sparse.csr_matrix((data, (rows, nodes)), shape=shape)

    # ----------------------------------------------------------------- helpers
    def _leaves(self, X):
        return route_leaves(self, X)

    def _validate_predict_input(self, X):
        """Checked float array of ``X``; warns about far-out feature values.

        The warning points at the caller of the public method calling this.
        """
        with explain_text_columns(X):
            X = validate_data(self, X, dtype=np.float64, ensure_all_finite=False, reset=False)
        check_finite(X, self.tree_["feature"][split_nodes(self)], self._column_label)
        warn_findings(self._range_findings(X), X.shape[0], stacklevel=3)
        return X

    def _range_findings(self, X):
        """Far-out values of ``X`` (a validated array) per tested feature; for a pretrained
        tree (``provenance_``) also the values outside the paper's measured region."""
        bounds = [split.bounds for split in iter_splits(self.hierarchy_)]  # preorder
        names = feature_names_in(self)
        columns = self.tree_["feature"][split_nodes(self)]
        far = range_findings(
            X, self.feature_min_, self.feature_max_, columns,
            bounds, lambda column: names[column] if names is not None else int(column),
        )
        provenance = getattr(self, "provenance_", None)
        if provenance is None:
            return far
        return far + region_findings(
            X, columns, names, provenance.measured_range, self.feature_min_, self.feature_max_,
            f"{provenance.models}/{provenance.dataset}", provenance.name,
            skip={finding.column: finding.rows for finding in far},
        )

    def _column_label(self, column):
        names = feature_names_in(self)
        return repr(names[column]) if names is not None else f"column {column}"

    def _resolve_hierarchy(self, X):
        if self.hierarchy is None:
            column = X[:, 0]
            finite = column[np.isfinite(column)]
            low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            if not low < high:
                low, high = low - 1.0, high + 1.0
            return Split(0, 0.5 * (low + high), (low, high), Leaf(), Leaf())
        if isinstance(self.hierarchy, str):
            return get_hierarchy(self.hierarchy)
        return self.hierarchy

    def _resolve_columns(self, tree):
        names = bound_names(getattr(self, "feature_names_in_", None), self.feature_names,
                            self.n_features_in_)
        return resolve_columns(tree, names, self.n_features_in_)

    def _encode_classes(self, y):
        """``classes_`` and the code of each label of ``y``."""
        if self.classes is None:
            return np.unique(y, return_inverse=True)
        classes = np.unique(np.asarray(self.classes))
        unknown = np.unique(y[~np.isin(y, classes)])
        if unknown.size:
            raise ValueError(
                f"expected every label of y in classes={classes.tolist()}, got "
                f"{unknown.tolist()}; add them to classes or drop those rows."
            )
        return classes, np.searchsorted(classes, y)

    def _leaf_targets(self, tree):
        """Class code per node for fixed-label leaves, -1 elsewhere; checks labels vs y."""
        encoded = getattr(self, "encoded_labels_", None)
        known = {label: code for code, label in enumerate(
            (self.classes_ if encoded is None else encoded).tolist())}
        targets = np.full(tree.n_nodes, -1, dtype=np.intp)
        declared = set()
        for node in tree.leaf_nodes:
            label = tree.labels[node]
            if label is None:
                continue
            if label not in known:
                raise ValueError(
                    f"Leaf(label={label!r}): expected one of the classes {list(known)}, got a "
                    f"label {'y never takes' if self.classes is None else 'missing from classes'}; "
                    f"fix the leaf label, or, if this training set merely lacks the class, pass "
                    f"the full list as MDTreeClassifier(classes=[...])."
                )
            targets[node] = known[label]
            declared.add(label)
        all_fixed = all(tree.labels[node] is not None for node in tree.leaf_nodes)
        unreachable = [c for c in known if c not in declared]
        if all_fixed and unreachable:
            raise ValueError(
                f"expected every class in y to be predicted by some leaf, got class(es) "
                f"{unreachable} that no leaf of the hierarchy predicts; drop those rows "
                f"(e.g. the paper drops label 'optimal': df[df[label] != 'optimal']) or add a "
                f"leaf for them."
            )
        return targets
