"""The diagnosis report :func:`md_sklearn.explain` returns: one record per sample."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import pandas as pd

__all__ = ["DiagnosisRecord", "DiagnosisReport", "PathStep"]


def _repr_skipping_unset(obj, optional):
    """The dataclass repr, leaving out the uncertainty fields while they hold their default
    (records made without standard errors print as they always did)."""
    parts = []
    for f in fields(obj):
        value = getattr(obj, f.name)
        if f.name in optional and value == f.default:
            continue
        parts.append(f"{f.name}={value!r}")
    return f"{type(obj).__name__}({', '.join(parts)})"


@dataclass(frozen=True, repr=False)
class PathStep:
    """One split a sample passed: its feature's value against the threshold.

    Attributes
    ----------
    node : int
        Id of the split (depth-first preorder, as ``MDTreeClassifier.tree_``).
    feature : str
        Name of the feature tested.
    value : float
        The sample's value of that feature.
    threshold : float
        The fitted threshold.
    direction : {"<=", ">"}
        ``"<="`` when the sample went left (``value <= threshold``).
    margin : float
        ``value - threshold``: how far the sample lies from the boundary, in
        the feature's units (at most 0 on the left, above 0 on the right).
    standard_error : float or None
        The standard error of ``value`` (``explain(..., X_se=...)``); None without.
    margin_se : float or None
        ``margin / standard_error``: the margin in standard errors (``±inf`` for a
        feature known exactly, 0 on the threshold); None without standard errors.

    Examples
    --------
    >>> from md_sklearn import PathStep
    >>> print(PathStep(0, "train_error", 12.0, 0.1459, ">", 12.0 - 0.1459))
    train_error = 12 > 0.1459 (margin +11.85)
    """

    node: int
    feature: str
    value: float
    threshold: float
    direction: str
    margin: float
    standard_error: float | None = None
    margin_se: float | None = None

    def __str__(self):
        if self.standard_error is None:
            return (
                f"{self.feature} = {self.value:.4g} {self.direction} {self.threshold:.4g} "
                f"(margin {self.margin:+.4g})"
            )
        return (
            f"{self.feature} = {self.value:.4g} ± {self.standard_error:.2g} {self.direction} "
            f"{self.threshold:.4g} (margin {self.margin:+.4g} = {self.margin_se:+.3g} SE)"
        )

    def __repr__(self):
        return _repr_skipping_unset(self, ("standard_error", "margin_se"))


@dataclass(frozen=True, repr=False)
class DiagnosisRecord:
    """The diagnosis of one sample and how the tree reached it.

    Attributes
    ----------
    sample : object
        The sample's index label (DataFrame input) or row position.
    path : tuple of PathStep
        The splits passed, from the root.
    leaf : int
        Id of the leaf reached (as :meth:`MDTreeClassifier.apply`).
    regime : int
        The leaf's number counted left to right from 1, as in
        :func:`export_text` and the paper's figures.
    support : int
        Training samples that reached the leaf.
    purity : float
        Share of those samples whose label is the predicted class; NaN when no
        training sample reached the leaf.
    predicted : object
        The predicted class.
    failure_source : str
        What the prediction says limits the model, in words; for labels outside
        the published label columns, ``"predicted: <label>"``.
    action : str or None
        The suggested change, or None when the label has no known words.
    notes : tuple of str
        One sentence per feature whose value lies far outside the training
        range (the same cases :class:`~md_sklearn.exceptions.FeatureRangeWarning`
        reports).
    flip_probability : float or None
        With standard errors (``explain(..., X_se=...)``): the probability that the
        diagnosis (the predicted class) would change if the features were measured
        again, each an independent Gaussian around its value with its standard
        error; exact for the tree's leaf regions. None without standard errors.
    fragile : bool or None
        Whether ``flip_probability`` exceeds the level passed to :func:`explain`
        (``fragile_level``, 0.2 by default). None without standard errors.
    refine : str or None
        The feature whose noise alone flips the diagnosis most often: the
        measurement to repeat or refine to settle it. None without standard
        errors or when no single feature's noise can flip it.
    flip_by_feature : tuple of (str, float)
        For each feature the tree tests, the flip probability with only that
        feature's noise (the others held at their values); empty without
        standard errors.

    Examples
    --------
    >>> import pandas as pd
    >>> from md_sklearn import explain, pretrained
    >>> X = pd.DataFrame({"train_error": [3.0], "mode_connectivity_peak": [-12.0]})
    >>> record = explain(pretrained("q2_width"), X)[0]
    >>> record.predicted, record.action, record.regime
    ('width', 'model too small: widen it', 3)
    >>> [step.direction for step in record.path]
    ['>', '<=']
    """

    sample: object
    path: tuple
    leaf: int
    regime: int
    support: int
    purity: float
    predicted: object
    failure_source: str
    action: str | None
    notes: tuple
    flip_probability: float | None = None
    fragile: bool | None = None
    refine: str | None = None
    flip_by_feature: tuple = ()

    def __repr__(self):
        return _repr_skipping_unset(
            self, ("flip_probability", "fragile", "refine", "flip_by_feature"))

    def confidence(self):
        """The confidence line of the printed record (None without standard errors)."""
        if self.flip_probability is None:
            return None
        p = self.flip_probability
        if not self.fragile:
            return f"robust: the diagnosis flips with probability {p:.3g} under the features' noise"
        text = (f"FRAGILE: the diagnosis flips with probability {p:.3g} under the features' "
                "noise")
        if self.refine is not None:
            alone = dict(self.flip_by_feature)[self.refine]
            text += (f"; repeat or refine the measurement of {self.refine} to settle it (its "
                     f"noise alone flips it with probability {alone:.3g})")
        return text

    def __str__(self):
        lines = [f"sample {self.sample}: {self.failure_source}"]
        if self.action is not None:
            lines.append(f"  action:  {self.action}")
        for i, step in enumerate(self.path):
            lines.append(f"  {'path:' if i == 0 else '':<9}{step}")
        if self.support:
            evidence = f"training purity {100 * self.purity:.1f} % of {self.support} samples"
        else:
            evidence = "no training sample reached this leaf"
        lines.append(f"  regime:  {self.regime} (leaf {self.leaf}, predicts {self.predicted}); "
                     f"{evidence}")
        confidence = self.confidence()
        if confidence is not None:
            lines.append(f"  confidence: {confidence}")
        lines.extend(f"  warning: {note}" for note in self.notes)
        return "\n".join(lines)


class DiagnosisReport(Sequence):
    """The diagnoses of several samples: a sequence of :class:`DiagnosisRecord`.

    ``str(report)`` is readable text, one block per sample; ``report[i]`` is a
    record and ``report[i:j]`` a report; :meth:`to_frame` gives a table.

    Parameters
    ----------
    records : iterable of DiagnosisRecord
    provenance : TreeProvenance, optional
        Where the tree comes from (a pretrained tree's ``provenance_``); printed
        after the records, with what to do for models unlike the tree's.
    outside_region : iterable, default=()
        The samples with a feature outside the region of the models the tree was
        fitted and scored on.

    Attributes
    ----------
    records : tuple of DiagnosisRecord
        The records, in the order of the samples.
    provenance : TreeProvenance or None
    outside_region : tuple

    Examples
    --------
    >>> import pandas as pd
    >>> from md_sklearn import explain, pretrained
    >>> X = pd.DataFrame({"train_error": [12.0], "mode_connectivity_peak": [-1.0],
    ...                   "hessian_t": [5.0]}, index=["resnet_w8_bs16"])
    >>> report = explain(pretrained("q1"), X)
    >>> len(report), report[0].predicted
    (1, 'large')
    >>> report.to_frame()[["predicted", "action", "regime"]]
                   predicted                             action  regime
    sample
    resnet_w8_bs16     large  batch size too small: increase it       4
    """

    def __init__(self, records, provenance=None, outside_region=()):
        self.records = tuple(records)
        self.provenance = provenance
        self.outside_region = tuple(outside_region)

    def __len__(self):
        return len(self.records)

    def __getitem__(self, index):
        if isinstance(index, slice):
            records = self.records[index]
            kept = {r.sample for r in records}
            return DiagnosisReport(records, self.provenance,
                                   [s for s in self.outside_region if s in kept])
        return self.records[index]

    def about_tree(self):
        """Where the tree comes from and when to fit your own (None for a tree of yours)."""
        if self.provenance is None:
            return None
        from md_sklearn._tree._provenance import fit_your_own

        text = f"about the tree: {self.provenance.summary()}."
        advice = fit_your_own(self.provenance.name)
        if self.outside_region:
            return (f"{text}\n{len(self.outside_region)} of {len(self)} sample(s) lie outside "
                    f"the region of those models (see their warnings); for models like "
                    f"them, {advice}.")
        return (f"{text}\nIt applies to models trained and measured like those; for other "
                f"models, {advice}.")

    def __str__(self):
        text = "\n\n".join(str(record) for record in self.records)
        about = self.about_tree()
        return text if about is None else f"{text}\n\n{about}"

    def __repr__(self):
        return f"<DiagnosisReport of {len(self)} sample(s); print() it or call to_frame()>"

    def to_frame(self):
        """The report as a table, one row per sample.

        Returns
        -------
        pandas.DataFrame
            Index ``sample``; columns ``predicted``, ``failure_source``,
            ``action``, ``regime``, ``leaf``, ``purity``, ``support``, ``path``
            (the steps as text, ``"; "``-separated) and ``notes`` (the
            out-of-range sentences, ``"; "``-separated, empty when none); with
            standard errors also ``flip_probability``, ``fragile`` and ``refine``.
        """
        rows = [
            {
                "sample": r.sample,
                "predicted": r.predicted,
                "failure_source": r.failure_source,
                "action": r.action,
                "regime": r.regime,
                "leaf": r.leaf,
                "purity": r.purity,
                "support": r.support,
                "path": "; ".join(map(str, r.path)),
                "notes": "; ".join(r.notes),
            }
            for r in self.records
        ]
        columns = ["sample", "predicted", "failure_source", "action", "regime", "leaf",
                   "purity", "support", "path", "notes"]
        if any(r.flip_probability is not None for r in self.records):
            for row, r in zip(rows, self.records):
                row.update(flip_probability=r.flip_probability, fragile=r.fragile,
                           refine=r.refine)
            columns += ["flip_probability", "fragile", "refine"]
        return pd.DataFrame(rows, columns=columns).set_index("sample")

