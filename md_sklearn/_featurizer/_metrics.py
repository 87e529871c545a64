"""The metric registry: every metric the featurizer computes, described once.

A *unit* is one set of extractor calls per group, cached as a whole; it yields one or
more published columns. Everything else reads this table: the featurizer's valid metric
names, which metrics need two members, which depend on the seed, the options that enter
a unit's cache key, the seeds each unit draws, the computation run in the worker, and
the extractor functions whose source code the cache fingerprints. Adding a metric is one
:class:`MetricUnit` entry in :data:`UNITS` plus its extractor function
(``docs/architecture.rst`` shows an example).

How each column is aggregated over a group follows ``docs/featurizer.rst``: means of the
errors and losses, the natural log of the mean Hessian trace (eigenvalue), the mean CKA
over ordered pairs, the peak of one curve between the first two members (or the mean
over all pairs).

Every unit also yields the standard error of each of its columns, ``<column>_se``
(:func:`se_column`), cached with the values; the featurizer reports them with
``return_uncertainty=True``. What each covers is in ``docs/featurizer.rst``: the errors and
losses, the spread over the members over ``sqrt(n)`` (NaN with one member); the Hessian
columns, the members' probe (convergence) standard errors carried to the log of their mean
by the delta method; ``CKA``, the jackknife over the CKA batches; the connectivity peak,
the spread of the peaks over the pairs over ``sqrt(n_pairs)`` (NaN with one curve).

The compute functions import torch and the extractors when called, so importing this
module (and md_sklearn) never imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

from md_sklearn._featurizer._context import context, per_member

__all__ = ["CONNECTIVITY_STD", "METRIC_NAMES", "UNITS", "MetricUnit", "connectivity_pairs",
           "curve_epochs_for", "eval_columns", "metric_names", "se_column", "unit_named",
           "unit_of"]

#: Column of the spread of the peaks over pairs (``connectivity_pairs="all"`` only).
CONNECTIVITY_STD = "mode_connectivity_peak_std"


def se_column(column: str) -> str:
    """The name of a column's standard error: ``<column>_se``."""
    return f"{column}_se"


@dataclass(frozen=True)
class MetricUnit:
    """One unit of work of the featurizer.

    Attributes
    ----------
    name : str
        Key of the unit in cache file names and seeds.
    columns : tuple of str
        The published columns the unit yields, in order.
    extractors : tuple of str
        Names of the ``extractors`` functions it calls (their code is fingerprinted).
    compute : callable
        ``compute(task, models, device, notes) -> {column: value}``; runs in the worker.
    options : callable
        ``options(featurizer, group) -> dict`` of the settings that change the value
        for that group (part of the cache key and handed to ``compute`` as
        ``task.options[name]``).
    seeds : callable or None
        ``seeds(derive, n_members, options) -> tuple of int``, with ``derive(*purpose)``
        giving a seed for the group; None for units that draw nothing.
    pairwise : bool
        Whether the unit compares members (needs at least two).
    data : {"train", "eval"}
        Which of the group's datasets it reads; ``"eval"`` units are computed only for
        groups with ``eval_data``, and that data's hash enters the key.
    """

    name: str
    columns: tuple
    extractors: tuple
    compute: Callable
    options: Callable
    seeds: Callable | None = None
    pairwise: bool = False
    data: str = "train"

    @property
    def random(self) -> bool:
        """Whether the unit's value depends on the seed."""
        return self.seeds is not None

    @property
    def se_columns(self) -> tuple:
        """The standard-error entries ``compute`` yields beside the columns."""
        return tuple(se_column(column) for column in self.columns)


def connectivity_pairs(n_members: int, mode: str) -> tuple[tuple[int, int], ...]:
    """Member pairs a curve is fitted between: the first two, or every unordered pair."""
    if mode == "first":
        return ((0, 1),)
    return tuple(combinations(range(n_members), 2))


# --- the computations (run in the worker) -------------------------------------------------
def _mean(values) -> float:
    return math.fsum(values) / len(values)


def _standard_error(result) -> float:
    """An extractor result's standard error; NaN for a result that carries none."""
    return float(getattr(result, "standard_error", math.nan))


def _spread_se(values) -> float:
    """Sample standard deviation over ``sqrt(n)``: the standard error of the mean (NaN if n < 2)."""
    n = len(values)
    if n < 2:
        return math.nan
    mean = _mean(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1) / n)


def _errors(task, models, device, notes, *, prefix):
    import extractors

    data = task.group.data if prefix == "train" else task.group.eval_data
    results = per_member(task, models, f"{prefix}_error",
                         lambda i, m: extractors.error_and_loss(m, data, device=device,
                                                               forward=task.group.forward))
    errors, losses = [r.value for r in results], [r.loss for r in results]
    # each member's error is exact; the group's value varies only with the members drawn
    return {f"{prefix}_error": _mean(errors), f"{prefix}_loss": _mean(losses),
            se_column(f"{prefix}_error"): _spread_se(errors),
            se_column(f"{prefix}_loss"): _spread_se(losses)}


def _log_of_mean(task, metric, values, notes):
    mean = _mean(values)
    if mean > 0:
        return math.log(mean)
    notes.append(f"group {task.label!r}: the mean {metric} estimate over the members is {mean} "
                 f"<= 0, so its log is undefined; {metric} is NaN (the models may be far from "
                 "a minimum).")
    return math.nan


def _hessian(task, models, device, notes, *, metric):
    import extractors

    options, seeds = task.options[metric], task.seeds[metric]
    function = (extractors.hessian_trace if metric == "hessian_t"
                else extractors.hessian_top_eigenvalue)
    count = "max_probes" if metric == "hessian_t" else "max_iter"

    extra = {}  # the trace's batches and precision target, when not the paper's
    if options.get("n_batches", 1) != 1:
        extra["n_batches"] = options["n_batches"]
    if options.get("target_se") is not None:
        # the target is on hessian_t = ln(mean trace); each member gets the relative target
        # target * sqrt(n) on its own trace (docs/featurizer.rst: with equal member traces
        # the group's delta-method se is then the target; target * sqrt(1 + cv^2) for
        # member traces with coefficient of variation cv)
        extra["target_relative_se"] = options["target_se"] * math.sqrt(len(models))

    def call(index, model):
        return function(model, task.group.data, n_samples=options["n_samples"],
                        rtol=options["rtol"], random_state=seeds[index], device=device,
                        forward=task.group.forward, **{count: options["max_probes"]}, **extra)

    results = per_member(task, models, metric, call)
    capped = [i for i, r in enumerate(results)
              if "target_relative_se" in extra and r.stopped_by == "max_probes"]
    if capped:
        notes.append(f"group {task.label!r}: members {capped} drew hessian_max_probes="
                     f"{options['max_probes']} probes before reaching hessian_target_se="
                     f"{options['target_se']}; hessian_t_se is above the target (raise "
                     "hessian_max_probes to reach it).")
    values = [r.value for r in results]
    log_mean = _log_of_mean(task, metric, values, notes)
    # delta method: se(ln m) = se(m) / m, with se(m) = sqrt(sum se_i^2) / n for independent
    # member estimates (the probes', or the power iteration's, noise; the batch draw too
    # when hessian_n_batches > 1)
    se_mean = math.sqrt(math.fsum(_standard_error(r) ** 2 for r in results)) / len(results)
    se = se_mean / _mean(values) if math.isfinite(log_mean) else math.nan
    return {metric: log_mean, se_column(metric): se}


def _connectivity(task, models, device, notes):
    import extractors

    options, seeds = task.options["connectivity"], task.seeds["connectivity"]
    pairs = connectivity_pairs(len(models), options["pairs"])
    peaks = []
    for (i, j), seed in zip(pairs, seeds, strict=True):
        with context(f"group {task.label!r}, members {i} and {j}, mode_connectivity_peak"):
            result = extractors.mode_connectivity(
                models[i], models[j], task.group.data, epochs=options["epochs"],
                batch_size=options["batch_size"], lr=options["lr"], random_state=seed,
                device=device, progress=task.progress, forward=task.group.forward)
        peaks.append(result.value)
    # one curve cannot measure its own training noise: NaN unless several pairs were fitted
    values = {"mode_connectivity_peak": _mean(peaks),
              se_column("mode_connectivity_peak"): _spread_se(peaks)}
    if options["pairs"] == "all":
        mean = values["mode_connectivity_peak"]
        values[CONNECTIVITY_STD] = math.sqrt(_mean([(p - mean) ** 2 for p in peaks]))
    return values


def _cka(task, models, device, notes):
    import extractors

    options = task.options["cka"]
    with context(f"group {task.label!r}, members 0 to {len(models) - 1}, CKA"):
        result = extractors.cka(models, task.group.data, n_batches=options["n_batches"],
                                batch_size=options["batch_size"],
                                mixup_alpha=options["mixup_alpha"],
                                random_state=task.seeds["cka"][0], device=device,
                                forward=task.group.forward)
    return {"CKA": result.value, se_column("CKA"): _standard_error(result)}


# --- options and seeds ---------------------------------------------------------------------
def _no_options(featurizer, group):
    return {}


def _hessian_options(featurizer, group):
    return {"n_samples": int(featurizer.hessian_n_samples),
            "max_probes": int(featurizer.hessian_max_probes),
            "rtol": float(featurizer.hessian_rtol)}


def _trace_options(featurizer, group):
    options = _hessian_options(featurizer, group)
    target = getattr(featurizer, "hessian_target_se", None)
    if target is not None:  # absent by default, so the paper's rule keeps its cache keys
        options["target_se"] = float(target)
    n_batches = int(getattr(featurizer, "hessian_n_batches", 1))
    if n_batches != 1:  # likewise: one batch is the paper's estimate
        options["n_batches"] = n_batches
    return options


def curve_epochs_for(n_samples: int, batch_size: int, curve_steps: int) -> int:
    """Epochs of curve training that give at least ``curve_steps`` optimizer steps.

    An epoch over ``n_samples`` samples in batches of ``batch_size`` takes
    ``ceil(n_samples / batch_size)`` steps; the budget is rounded up to whole epochs
    (the curve's learning-rate schedule is defined per epoch).

    Examples
    --------
    >>> from md_sklearn._featurizer._metrics import curve_epochs_for
    >>> curve_epochs_for(50_000, 128, 19_550)   # the paper's 50 epochs on CIFAR-10
    50
    >>> curve_epochs_for(1_000, 128, 19_550)    # a small training set: more epochs
    2444
    """
    steps_per_epoch = -(-int(n_samples) // int(batch_size))
    return max(1, -(-int(curve_steps) // steps_per_epoch))


def _connectivity_options(featurizer, group):
    epochs = int(featurizer.curve_epochs)
    if featurizer.curve_steps is not None:
        epochs = curve_epochs_for(len(group.data), featurizer.curve_batch_size,
                                  featurizer.curve_steps)
    return {"epochs": epochs, "batch_size": int(featurizer.curve_batch_size),
            "lr": float(featurizer.curve_lr), "pairs": featurizer.connectivity_pairs}


def _cka_options(featurizer, group):
    alpha = featurizer.cka_mixup_alpha
    return {"n_batches": int(featurizer.cka_n_batches), "batch_size": int(featurizer.cka_batch_size),
            "mixup_alpha": None if alpha is None else float(alpha)}


def _hessian_seeds(derive, n_members, options):
    # one batch and probe stream per member, the same for the trace and the eigenvalue
    return tuple(derive("hessian", i) for i in range(n_members))


def _connectivity_seeds(derive, n_members, options):
    return tuple(derive("mode_connectivity", i, j)
                 for i, j in connectivity_pairs(n_members, options["pairs"]))


def _cka_seeds(derive, n_members, options):
    return (derive("cka"),)


def _unit_errors(prefix):
    def compute(task, models, device, notes):
        return _errors(task, models, device, notes, prefix=prefix)
    return compute


def _unit_hessian(metric):
    def compute(task, models, device, notes):
        return _hessian(task, models, device, notes, metric=metric)
    return compute


#: The registry, in the order the worker computes the units.
UNITS = (
    MetricUnit("train", ("train_error", "train_loss"), ("error_and_loss",),
               _unit_errors("train"), _no_options),
    MetricUnit("test", ("test_error", "test_loss"), ("error_and_loss",),
               _unit_errors("test"), _no_options, data="eval"),
    MetricUnit("hessian_t", ("hessian_t",), ("hessian_trace",),
               _unit_hessian("hessian_t"), _trace_options, _hessian_seeds),
    MetricUnit("hessian_e", ("hessian_e",), ("hessian_top_eigenvalue",),
               _unit_hessian("hessian_e"), _hessian_options, _hessian_seeds),
    MetricUnit("connectivity", ("mode_connectivity_peak",), ("mode_connectivity",),
               _connectivity, _connectivity_options, _connectivity_seeds, pairwise=True),
    MetricUnit("cka", ("CKA",), ("cka",), _cka, _cka_options, _cka_seeds, pairwise=True),
)

# The lookups below read UNITS at call time, so the registry is the only table to edit.
def unit_named(name: str) -> MetricUnit:
    """The unit called ``name``."""
    for unit in UNITS:
        if unit.name == name:
            return unit
    raise KeyError(f"expected a metric unit among {[u.name for u in UNITS]}, got {name!r}.")


def unit_of(column: str) -> MetricUnit | None:
    """The unit computing a published column (None for other columns)."""
    for unit in UNITS:
        if column in unit.columns:
            return unit
    return None


def metric_names() -> tuple:
    """The metric names :class:`LandscapeFeaturizer` accepts (the published columns)."""
    return tuple(column for unit in UNITS for column in unit.columns)


def eval_columns() -> tuple:
    """Columns of the units that read a group's ``eval_data``."""
    return tuple(column for unit in UNITS if unit.data == "eval" for column in unit.columns)


#: The metric names of the registry as shipped (``metric_names()`` follows later entries).
METRIC_NAMES = metric_names()
