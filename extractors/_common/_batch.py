"""How a batch of a dataset becomes logits and labels.

By default every extractor reads ``(input, label)`` samples and calls ``model(input)``.
Any other model and dataset plug in through one hook, ``forward(model, batch) ->
(logits, labels)``: ``batch`` is what :func:`torch.utils.data.default_collate` makes of
the dataset's samples (a dict of tensors for a tokenised text dataset, a tuple with
extra items, ...), moved to the extractor's device with its floating tensors cast to the
model's dtype; ``logits`` may also be an object with a ``.logits`` attribute or a
mapping with a ``"logits"`` key (Hugging Face-style outputs). ``docs/extractors.rst``
(*Any model, any batch*) shows the recipe.

The hook runs inside :func:`torch.func.functional_call` on a wrapper module, so the
model it receives computes with the parameters the extractor passes (a point on a
curve, a probe direction), never with anything changed on the caller's model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset, default_collate

from ._data import batch_slices
from ._loss import check_outputs, cross_entropy
from ._model import to_model_input

__all__ = ["BatchFormat", "check_forward", "gather", "iter_batches", "summed_error_and_loss"]


def check_forward(forward) -> BatchFormat:
    """The :class:`BatchFormat` of a ``forward`` argument (``None``: input-label pairs)."""
    if forward is not None and not callable(forward):
        raise TypeError(
            f"expected forward to be a function forward(model, batch) -> (logits, labels) or "
            f"None, got {type(forward).__name__}; pass a function (docs/extractors.rst, 'Any "
            "model, any batch')."
        )
    return BatchFormat(forward)


class _Hooked(nn.Module):
    """``model`` as a submodule, its forward the user's hook (for functional calls)."""

    def __init__(self, model: nn.Module, forward: Callable):
        super().__init__()
        self.model = model
        self.hook = forward

    def forward(self, batch):
        return self.hook(self.model, batch)


def _map_tensors(value, function):
    """``value`` with ``function`` applied to every tensor in nested dicts, lists, tuples."""
    if torch.is_tensor(value):
        return function(value)
    if isinstance(value, Mapping):
        items = {k: _map_tensors(v, function) for k, v in value.items()}
        return items if type(value) is dict else type(value)(items)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple
        return type(value)(*(_map_tensors(v, function) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(_map_tensors(v, function) for v in value)
    return value


def _tensors(value) -> list[torch.Tensor]:
    found = []
    _map_tensors(value, lambda t: found.append(t) or t)
    return found


def _as_logits(out):
    """The logits tensor of a model output: a tensor, ``.logits``, or ``["logits"]``."""
    if torch.is_tensor(out):
        return out
    if isinstance(out, Mapping) and "logits" in out:
        return out["logits"]
    logits = getattr(out, "logits", None)
    return logits if logits is not None else out


@dataclass(frozen=True)
class BatchFormat:
    """Gathering, moving and evaluating batches, by default or through a ``forward`` hook.

    Parameters
    ----------
    forward : callable or None
        ``forward(model, batch) -> (logits, labels)``; None reads ``(input, label)``
        samples and calls ``model(input)``.
    """

    forward: Callable[[nn.Module, Any], tuple[Any, torch.Tensor]] | None = None
    #: ids of the models the hook was seen to run (checked once per model)
    _runs_model: set = field(default_factory=set, compare=False, repr=False)

    @property
    def custom(self) -> bool:
        return self.forward is not None

    def gather(self, data: Dataset, indices: torch.Tensor):
        """The batch of ``data`` at ``indices`` (a CPU long tensor), on the CPU."""
        if isinstance(data, TensorDataset):
            items = tuple(t[indices] for t in data.tensors)
        else:
            items = default_collate([data[int(i)] for i in indices])
        if self.custom:
            return items
        if not isinstance(items, (tuple, list)) or len(items) != 2:
            count = len(items) if isinstance(items, (tuple, list)) else type(items).__name__
            raise ValueError(
                f"expected each sample of data to be an (input, label) pair, got {count} "
                "items; use TensorDataset(inputs, labels), or pass forward=fn with "
                "fn(model, batch) -> (logits, labels) (docs/extractors.rst, 'Any model, any "
                "batch')."
            )
        x, y = items
        return x, (y if torch.is_tensor(y) else torch.as_tensor(y))

    def to(self, batch, dtype: torch.dtype | None, device):
        """``batch`` on ``device``, its floating tensors in ``dtype``."""
        if not self.custom:
            x, y = batch
            return to_model_input(x, dtype, device), y.to(device)
        return _map_tensors(batch, lambda t: to_model_input(t, dtype, device))

    def size(self, batch) -> int:
        """Samples in ``batch`` (the leading size of its first tensor)."""
        if not self.custom:
            return int(batch[0].shape[0])
        tensors = [t for t in _tensors(batch) if t.ndim > 0]
        if not tensors:
            raise ValueError(
                "expected a batch holding at least one tensor with a batch dimension, got "
                f"{type(batch).__name__} without one; make the dataset's samples tensors "
                "(or values default_collate stacks)."
            )
        return int(tensors[0].shape[0])

    def batches(self, data: Dataset, batch_size: int, order: torch.Tensor | None = None, *,
                merge_singleton: bool = False):
        """Consecutive batches of ``data`` in ``order`` (CPU); with ``merge_singleton`` a
        trailing one-sample batch joins the previous one."""
        n = len(data)
        order = torch.arange(n) if order is None else order
        slices = (batch_slices(n, batch_size) if merge_singleton
                  else [slice(i, i + batch_size) for i in range(0, n, batch_size)])
        for part in slices:
            yield self.gather(data, order[part])

    def logits(self, model: nn.Module, state: dict, batch) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits, labels)`` of a moved ``batch`` at the parameters and buffers ``state``,
        checked: ``(batch, classes)`` logits, integer labels in range."""
        if not self.custom:
            out, y = self.unchecked_logits(model, state, batch)
            check_outputs(out, y, y)
            return out, y
        # the hook must run the model it is handed (the extractor's parameters): checked
        # on its first batch for each model, off the per-step path afterwards
        if id(model) in self._runs_model:
            out, y = self.unchecked_logits(model, state, batch)
        else:
            out, y = self._first_call(model, state, batch)
        check_outputs(out, y, y)
        size = self.size(batch)  # one row per sample: the metrics average over samples
        if y.shape[0] != size:
            raise ValueError(
                f"expected one label (and one row of logits) per sample of the batch, "
                f"{size}, got {y.shape[0]}; return per-sample logits and labels (pool or "
                "select per-token outputs), since the metrics average over samples."
            )
        return out, y

    def _first_call(self, model: nn.Module, state: dict, batch):
        """:meth:`unchecked_logits`, refusing a hook that never runs ``model``."""
        members = {id(m) for m in model.modules()}
        called = []
        handle = torch.nn.modules.module.register_module_forward_pre_hook(
            lambda module, args: called.append(True) if id(module) in members else None)
        try:
            out, y = self.unchecked_logits(model, state, batch)
        finally:
            handle.remove()
        if not called:
            raise ValueError(
                "expected forward(model, batch) to call the model it receives, got a hook "
                "that never ran it (a model captured from outside?); compute the logits with "
                "the model argument: the metrics evaluate it at other parameters."
            )
        self._runs_model.add(id(model))
        return out, y

    def unchecked_logits(self, model: nn.Module, state: dict, batch):
        """:meth:`logits` without the checks of the output (inside function transforms)."""
        if not self.custom:
            x, y = batch
            return _as_logits(torch.func.functional_call(model, state, (x,))), y
        wrapper = _Hooked(model, self.forward)
        returned = torch.func.functional_call(
            wrapper, {f"model.{name}": value for name, value in state.items()}, (batch,))
        if not isinstance(returned, (tuple, list)) or len(returned) != 2:
            raise ValueError(
                "expected forward(model, batch) to return (logits, labels), got "
                f"{type(returned).__name__}; return the model's class scores and the batch's "
                "integer labels."
            )
        out, y = returned
        out = _as_logits(out)
        if not torch.is_tensor(y):
            raise ValueError(
                f"expected forward(model, batch) to return labels as a tensor, got "
                f"{type(y).__name__}; return batch['labels'] (an integer tensor)."
            )
        if torch.is_tensor(out):
            y = y.to(out.device)
        return out, y

    def summed_error_and_loss(self, logits_of, batches, dtype, device) -> tuple[int, float]:
        """Misclassified count and summed cross-entropy (float64) over ``batches``.

        ``logits_of(batch) -> (logits, labels)`` gets each batch moved to ``device``;
        call under :func:`torch.no_grad`.
        """
        wrong, loss_sum = 0, 0.0
        for batch in batches:
            out, y = logits_of(self.to(batch, dtype, device))
            loss_sum += float(cross_entropy(out, y, reduction="sum").double())
            wrong += int((out.argmax(dim=1) != y).sum())
        return wrong, loss_sum

    def mix(self, batch, lam: float, permutation: torch.Tensor):
        """Mixup ``lam * batch + (1 - lam) * batch[permutation]`` of the inputs that can be
        mixed: by default the input ``x`` (never the labels); with a hook, every floating
        tensor with a batch dimension -- including a floating mask or sample weight, so
        keep those integer or boolean, or pass ``mixup_alpha=None``."""
        if not self.custom:
            x, y = batch
            return lam * x + (1.0 - lam) * x[permutation], y
        size = self.size(batch)
        mixed = []

        def mix_one(t):
            if t.is_floating_point() and t.ndim > 0 and t.shape[0] == size:
                mixed.append(t)
                return lam * t + (1.0 - lam) * t[permutation]
            return t

        result = _map_tensors(batch, mix_one)
        if not mixed:
            raise ValueError(
                "expected a batch with floating-point inputs to mix up, got only integer "
                "tensors (token ids?); pass cka_mixup_alpha=None (LandscapeFeaturizer) or "
                "mixup_alpha=None (extractors.cka) to compare the models on unmixed batches."
            )
        return result


def gather(data: Dataset, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and labels of ``data`` at ``indices`` (CPU long tensor), as two tensors
    (:meth:`BatchFormat.gather` of ``(input, label)`` samples)."""
    return BatchFormat().gather(data, indices)


def iter_batches(data: Dataset, batch_size: int, order: torch.Tensor | None = None,
                 *, merge_singleton: bool = False):
    """Consecutive ``(input, label)`` batches (:meth:`BatchFormat.batches`)."""
    return BatchFormat().batches(data, batch_size, order, merge_singleton=merge_singleton)


def summed_error_and_loss(forward, batches, dtype, device) -> tuple[int, float]:
    """Misclassified count and summed cross-entropy of ``forward(x, y) -> logits`` over
    ``(input, label)`` ``batches`` (:meth:`BatchFormat.summed_error_and_loss`).

    Call under ``torch.no_grad()``; the loss is accumulated in float64.
    """
    return BatchFormat().summed_error_and_loss(
        lambda batch: (forward(*batch), batch[1]), batches, dtype, device)
