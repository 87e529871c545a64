"""Explain the diagnoses of a fitted MD tree sample by sample, in words a person can act on."""

from __future__ import annotations

import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from md_sklearn._report._records import DiagnosisRecord, DiagnosisReport, PathStep
from md_sklearn._report._words import DIAGNOSIS_WORDS
from md_sklearn._tree._classifier import MDTreeClassifier
from md_sklearn._tree._fitted import (
    column_names,
    leaf_label,
    leaf_purity,
    leaf_regimes,
    leaf_support,
    row_paths,
)

__all__ = ["explain"]


def explain(clf, X):
    """Diagnose each sample and say why: the path, the regime, the evidence, the action.

    For every row of ``X`` the report gives the splits the sample passed (each
    feature's value against its threshold and the margin), the leaf it reached
    (its regime, numbered left to right as in :func:`export_text`), how many
    training samples reached that leaf and how pure they were, the predicted
    class, the failure source in words and the suggested action, and a note for
    each feature far outside the training range (the cases
    :class:`~md_sklearn.exceptions.FeatureRangeWarning` warns about, which it
    also issues).

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
        For ``X`` that ``clf.predict`` would refuse (missing feature, NaN).

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
    notes = _notes_per_row(clf._range_findings(values), values.shape[0])

    regime, names = leaf_regimes(clf), column_names(clf)
    words = _words_for(clf.classes_)
    records = []
    for row, (sample, nodes) in enumerate(zip(samples, row_paths(clf, values))):
        leaf = int(nodes[-1])
        label = leaf_label(clf, leaf)
        source, action = words.get(str(label), (f"predicted: {label}", None))
        records.append(DiagnosisRecord(
            sample=sample, path=_path_steps(clf.tree_, names, values[row], nodes), leaf=leaf,
            regime=regime[leaf], support=leaf_support(clf, leaf),
            purity=leaf_purity(clf, leaf), predicted=label,
            failure_source=source, action=action, notes=tuple(notes[row]),
        ))
    return DiagnosisReport(records)


def _path_steps(tree, names, values, nodes):
    """One :class:`PathStep` per split of a row's path; the side taken is the routing's."""
    steps = []
    for node, child in zip(nodes[:-1], nodes[1:]):
        value = float(values[tree["feature"][node]])
        threshold = float(tree["threshold"][node])
        went_left = child == tree["children_left"][node]
        steps.append(PathStep(
            int(node), names[tree["feature"][node]], value, threshold,
            "<=" if went_left else ">", value - threshold,
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
