"""Explain the diagnoses of a fitted MD tree sample by sample, in words a person can act on."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from md_sklearn._report._confidence import (
    FRAGILE_LEVEL,
    check_fragile_level,
    flip_probabilities,
    margins_in_se,
    standard_errors_for,
)
from md_sklearn._report._records import DiagnosisRecord, DiagnosisReport, PathStep
from md_sklearn._report._words import DIAGNOSIS_WORDS
from md_sklearn._tree._classifier import MDTreeClassifier
from md_sklearn._tree._fitted import (
    column_names,
    leaf_boxes,
    leaf_label,
    leaf_purity,
    leaf_regimes,
    leaf_support,
    row_paths,
)
from md_sklearn._tree._ranges import RegionFinding

__all__ = ["explain"]


def explain(clf, X, X_se=None, *, fragile_level=FRAGILE_LEVEL):
    """Diagnose each sample and say why: the path, the regime, the evidence, the action.

    For every row of ``X`` the report gives the splits the sample passed (each
    feature's value against its threshold and the margin), the leaf it reached
    (its regime, numbered left to right as in :func:`export_text`), how many
    training samples reached that leaf and how pure they were, the predicted
    class, the failure source in words and the suggested action, and a note for
    each feature far outside the training range (the cases
    :class:`~md_sklearn.exceptions.FeatureRangeWarning` warns about, which it
    also issues). For a pretrained tree the report also says where the tree
    comes from (the paper's ResNet-18 models on CIFAR-10 and its metric
    settings, ``report.about_tree()``, printed after the records), notes each
    value outside the region of the models it was fitted and scored on, and
    says what to do instead: fit your own tree on a small labelled collection.

    With standard errors ``X_se`` every feature is read as a measurement: an
    independent Gaussian around its value with its standard error. Each step of
    the path then also gives its margin in standard errors, and each record the
    probability that the diagnosis (the predicted class) would change were the
    features measured again -- computed exactly from the tree's axis-aligned
    leaf regions, not sampled -- and the feature whose noise alone flips it most
    often, the measurement to repeat or refine. A diagnosis whose flip
    probability exceeds ``fragile_level`` (0.2 by default: worse than one chance
    in five) is printed as FRAGILE. A standard error of 0 is a feature known
    exactly; with every standard error 0 the flip probabilities are 0 and the
    records are those made without ``X_se`` plus the uncertainty fields.

    Labels of the published label columns get words: ``bs_failure`` (``small``:
    batch size too large, decrease it; ``large``: batch size too small, increase
    it; ``optimal``: nothing to change), ``width_vs_batch`` (``width``: model too
    small, widen it; ``batch``: tune the batch size) and ``data_vs_batch``
    (``data``: add training data; ``batch``: tune the batch size). Any other label
    is reported as ``"predicted: <label>"`` with no action.

    Parameters
    ----------
    clf : MDTreeClassifier or Pipeline
        A fitted tree, or a fitted pipeline ending in one (its other steps
        transform ``X`` first).
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        The samples, as for ``clf.predict``. A DataFrame's index labels name
        the samples; otherwise they are numbered from 0.
    X_se : DataFrame or array-like, optional
        Standard errors of the features the tree reads: a DataFrame with one
        ``<column>_se`` column per feature the tree tests (other columns are
        ignored, so the output of ``LandscapeFeaturizer(return_uncertainty=True)``
        can be passed as it is, as both ``X`` and ``X_se``), with X's rows and
        index; or an array of the shape of X. Finite and >= 0.
    fragile_level : float, default=0.2
        Flip probability above which a diagnosis is reported as fragile.

    Returns
    -------
    DiagnosisReport
        One :class:`DiagnosisRecord` per sample; ``print`` it, index it, or
        call ``to_frame()``.

    Raises
    ------
    TypeError
        If ``clf`` is not an MDTreeClassifier (or a pipeline ending in one).
    sklearn.exceptions.NotFittedError
        If ``clf`` is not fitted.
    ValueError
        For ``X`` that ``clf.predict`` would refuse (missing feature, NaN); for
        ``X_se`` missing a tested feature's column, with other rows or index than
        ``X``, or holding a negative or non-finite standard error; for a
        ``fragile_level`` outside (0, 1).

    Examples
    --------
    >>> import pandas as pd
    >>> from md_sklearn import explain, pretrained
    >>> X = pd.DataFrame({"train_error": [12.0, 0.0], "mode_connectivity_peak": [-30.0, -0.1],
    ...                   "hessian_t": [7.5, 5.0]})
    >>> report = explain(pretrained("q1"), X)
    >>> print(report[0])
    sample 0: optimizer temperature too small
      action:  batch size too large: decrease it
      path:    train_error = 12 > 0.1459 (margin +11.85)
               mode_connectivity_peak = -30 <= -4.422 (margin -25.58)
               hessian_t = 7.5 > 6.138 (margin +1.362)
      regime:  3 (leaf 5, predicts small); training purity 85.6 % of 285 samples
    >>> report.to_frame()["action"].tolist()
    ['batch size too large: decrease it', 'batch size too large: decrease it']
    """
    fragile_level = check_fragile_level(fragile_level)
    index = X.index if isinstance(X, pd.DataFrame) else None
    if isinstance(clf, Pipeline):
        check_is_fitted(clf)
        if len(clf) > 1:
            X = clf[:-1].transform(X)
        clf = clf[-1]
    if not isinstance(clf, MDTreeClassifier):
        raise TypeError(
            f"expected a fitted MDTreeClassifier (or a Pipeline ending in one), got "
            f"{type(clf).__name__}."
        )
    check_is_fitted(clf)
    samples = list(X.index) if isinstance(X, pd.DataFrame) else None
    values = clf._validate_predict_input(X)  # warns about far-out values, as predict
    if samples is None:
        samples = list(range(values.shape[0]))
    findings = clf._range_findings(values)
    notes = _notes_per_row(findings, values.shape[0])
    outside = sorted({int(r) for f in findings if isinstance(f, RegionFinding) for r in f.rows})
    at_bound = clf._bound_note()  # thresholds fitted on a search bound: say so in every record
    if at_bound is not None:
        for row_notes in notes:
            row_notes.append(at_bound)

    regime, names = leaf_regimes(clf), column_names(clf)
    words = _words_for(clf.classes_)
    paths = row_paths(clf, values)
    se = confidence = None
    if X_se is not None:
        se, confidence = _confidence(clf, values, X_se, names, paths, index, fragile_level)
    records = []
    for row, (sample, nodes) in enumerate(zip(samples, paths)):
        leaf = int(nodes[-1])
        label = leaf_label(clf, leaf)
        source, action = words.get(str(label), (f"predicted: {label}", None))
        records.append(DiagnosisRecord(
            sample=sample,
            path=_path_steps(clf.tree_, names, values[row], nodes,
                             None if se is None else se[row]),
            leaf=leaf, regime=regime[leaf], support=leaf_support(clf, leaf),
            purity=leaf_purity(clf, leaf), predicted=label,
            failure_source=source, action=action, notes=tuple(notes[row]),
            **({} if confidence is None else confidence[row]),
        ))
    return DiagnosisReport(records, getattr(clf, "provenance_", None),
                           [samples[row] for row in outside])


def _confidence(clf, values, X_se, names, paths, index, fragile_level):
    """The checked standard errors and, per row, the record's uncertainty fields."""
    tree = clf.tree_
    tested = sorted({int(tree["feature"][n]) for n in np.flatnonzero(tree["children_left"] >= 0)})
    se = standard_errors_for(X_se, names, tested, values.shape[0], index)
    leaves, low, high = leaf_boxes(clf)
    leaf_class = tree["leaf_class"][leaves]
    predicted = tree["leaf_class"][np.array([int(nodes[-1]) for nodes in paths], dtype=np.intp)]
    other = leaf_class[None, :] != predicted[:, None]
    total, by_column = flip_probabilities(values, se, low, high, tested, other)
    fields = []
    for row in range(values.shape[0]):
        alone = tuple((names[j], float(by_column[j][row])) for j in tested)
        best = max(alone, key=lambda item: item[1], default=(None, 0.0))
        p = float(total[row])
        fields.append({"flip_probability": p, "fragile": p > fragile_level,
                       "refine": best[0] if best[1] > 0 else None, "flip_by_feature": alone})
    return se, fields


def _path_steps(tree, names, values, nodes, se=None):
    """One :class:`PathStep` per split of a row's path; the side taken is the routing's."""
    steps = []
    for node, child in zip(nodes[:-1], nodes[1:]):
        column = tree["feature"][node]
        value = float(values[column])
        threshold = float(tree["threshold"][node])
        went_left = child == tree["children_left"][node]
        margin = value - threshold
        extra = {} if se is None else {
            "standard_error": float(se[column]),
            "margin_se": margins_in_se(margin, float(se[column]))}
        steps.append(PathStep(
            int(node), names[column], value, threshold,
            "<=" if went_left else ">", margin, **extra,
        ))
    return tuple(steps)


def _words_for(classes):
    """``{label: (failure source, action)}`` of the first published label column
    holding every class, or ``{}`` when none does."""
    labels = {str(c) for c in classes}
    for words in DIAGNOSIS_WORDS.values():
        if labels <= set(words):
            return words
    return {}


def _notes_per_row(findings, n_rows):
    notes = [[] for _ in range(n_rows)]
    for finding in findings:
        for row, value in zip(finding.rows, finding.values):
            notes[row].append(finding.note(float(value)))
    return notes
