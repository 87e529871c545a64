"""Landscape features of one group: load its members, run the extractors, aggregate.

Runs inside a joblib worker (or the calling process). torch, the extractors and the
checkpoint reader are imported only when a group is computed, so importing this
module (and md_sklearn) never imports torch. How each column is aggregated over the
group follows ``shared/docs/metrics.md``: means of the errors and losses, the natural
log of the mean Hessian trace (eigenvalue), the mean CKA over ordered pairs, the peak
of one curve between the first two members (or the mean over all pairs).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations

__all__ = ["CONNECTIVITY_STD", "METRIC_NAMES", "METRIC_UNITS", "GroupOutcome", "GroupTask",
           "compute_group", "connectivity_pairs", "context"]

#: Column of the spread of the peaks over pairs (``connectivity_pairs="all"`` only).
CONNECTIVITY_STD = "mode_connectivity_peak_std"

#: Published column name -> the unit of work that computes it (a unit gives one or more
#: columns from one set of extractor calls, and is cached as a whole).
METRIC_UNITS = {
    "train_error": "train",
    "train_loss": "train",
    "test_error": "test",
    "test_loss": "test",
    "hessian_t": "hessian_t",
    "hessian_e": "hessian_e",
    "mode_connectivity_peak": "connectivity",
    "CKA": "cka",
}

#: The metric names :class:`LandscapeFeaturizer` accepts (the published columns).
METRIC_NAMES = tuple(METRIC_UNITS)

#: Units that compare members, so need at least two of them.
PAIRWISE_UNITS = ("connectivity", "cka")


def connectivity_pairs(n_members: int, mode: str) -> tuple[tuple[int, int], ...]:
    """Member pairs a curve is fitted between: the first two, or every unordered pair."""
    if mode == "first":
        return ((0, 1),)
    return tuple(combinations(range(n_members), 2))


@dataclass(frozen=True)
class GroupTask:
    """Everything a worker needs to compute the missing units of one group."""

    index: int
    label: str
    group: object
    units: tuple
    options: Mapping
    seeds: Mapping
    device: str
    catch_errors: bool
    progress: bool = False


@dataclass(frozen=True)
class GroupOutcome:
    """Values per unit, or the error that stopped the group; notes to warn about."""

    index: int
    values: dict | None
    error: str | None = None
    notes: tuple = field(default_factory=tuple)


def compute_group(task: GroupTask) -> GroupOutcome:
    """Compute the units of one group; errors name the group and the member.

    With ``task.catch_errors`` a failure is returned as the outcome's ``error``
    instead of raised (``on_error="nan"``).
    """
    try:
        values, notes = _compute(task)
    except Exception as error:
        if not task.catch_errors:
            raise
        return GroupOutcome(task.index, None, f"{type(error).__name__}: {error}")
    return GroupOutcome(task.index, values, None, tuple(notes))


# --- the work ------------------------------------------------------------------------------
def _with_context(error: Exception, where: str) -> Exception:
    """The same kind of error, its message prefixed with where it happened."""
    message = f"{where}: {error}"
    try:
        return type(error)(message)
    except Exception:  # an exception type whose constructor takes other arguments
        return RuntimeError(message)


@contextlib.contextmanager
def context(where: str):
    """Re-raise any error inside with ``where`` (group, member, metric) before its message."""
    try:
        yield
    except Exception as error:
        raise _with_context(error, where) from error


def _device(device: str, index: int) -> str:
    """``"auto"``/``"cuda"``: one CUDA device per group, by group index modulo the count."""
    import torch

    if device in ("auto", "cuda") and torch.cuda.is_available():
        return f"cuda:{index % torch.cuda.device_count()}"
    return "cpu" if device == "auto" else device


def _mean(values) -> float:
    return math.fsum(values) / len(values)


def _compute(task: GroupTask):
    from extractors._common import check_same_architecture
    from md_sklearn._checkpoints import load_member

    group, label = task.group, task.label
    device = _device(task.device, task.index)
    models = []
    for index, member in enumerate(group.members):
        with context(f"group {label!r}, {group.describe_member(index)}"):
            model = load_member(member, group.build_model, group.allow_pickle)
            if model is not member:  # built here, so ours to move
                model.to(device)
        models.append(model)
    if len(models) > 1:
        with context(f"group {label!r}"):
            check_same_architecture(
                models, [group.describe_member(i) for i in range(len(models))])
    notes, values = [], {}
    for unit in task.units:
        values[unit] = _UNITS[unit](task, models, device, notes)
    return values, notes


def _per_member(task, models, metric, call):
    results = []
    for index, model in enumerate(models):
        with context(f"group {task.label!r}, {task.group.describe_member(index)}, {metric}"):
            results.append(call(index, model))
    return results


def _errors(task, models, device, notes, *, data, prefix):
    import extractors

    results = _per_member(task, models, f"{prefix}_error",
                          lambda i, m: extractors.error_and_loss(m, data, device=device))
    return {f"{prefix}_error": _mean([r.value for r in results]),
            f"{prefix}_loss": _mean([r.loss for r in results])}


def _train(task, models, device, notes):
    return _errors(task, models, device, notes, data=task.group.data, prefix="train")


def _test(task, models, device, notes):
    return _errors(task, models, device, notes, data=task.group.eval_data, prefix="test")


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

    def call(index, model):
        return function(model, task.group.data, n_samples=options["n_samples"],
                        rtol=options["rtol"], random_state=seeds[index], device=device,
                        **{count: options["max_probes"]})

    results = _per_member(task, models, metric, call)
    return {metric: _log_of_mean(task, metric, [r.value for r in results], notes)}


def _hessian_t(task, models, device, notes):
    return _hessian(task, models, device, notes, metric="hessian_t")


def _hessian_e(task, models, device, notes):
    return _hessian(task, models, device, notes, metric="hessian_e")


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
                device=device, progress=task.progress)
        peaks.append(result.value)
    values = {"mode_connectivity_peak": _mean(peaks)}
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
                                random_state=task.seeds["cka"][0], device=device)
    return {"CKA": result.value}


_UNITS = {"train": _train, "test": _test, "hessian_t": _hessian_t, "hessian_e": _hessian_e,
          "connectivity": _connectivity, "cka": _cka}
