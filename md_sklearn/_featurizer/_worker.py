"""The worker: load one group's members and compute its missing metric units.

Runs inside a joblib worker (or the calling process). torch, the extractors and the
checkpoint reader are imported only when a group is computed, so importing this
module (and md_sklearn) never imports torch. What each unit computes is in the
registry (``_metrics``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from md_sklearn._featurizer._context import context
from md_sklearn._featurizer._metrics import unit_named

__all__ = ["GroupOutcome", "GroupTask", "compute_group"]


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


def _device(device: str, index: int) -> str:
    """``"auto"``/``"cuda"``: one CUDA device per group, by group index modulo the count."""
    import torch

    if device in ("auto", "cuda") and torch.cuda.is_available():
        return f"cuda:{index % torch.cuda.device_count()}"
    return "cpu" if device == "auto" else device


def _compute(task: GroupTask):
    from extractors.utils import check_same_architecture
    from md_sklearn._featurizer._checkpoints import load_member

    group, label = task.group, task.label
    device = _device(task.device, task.index)
    models = []
    for index, member in enumerate(group.members):
        with context(f"group {label!r}, {group.describe_member(index)}"):
            # what was done to the keys was said when the group's content key was made
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
        values[unit] = unit_named(unit).compute(task, models, device, notes)
    return values, notes
