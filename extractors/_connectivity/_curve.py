"""Mode connectivity: a trained quadratic Bezier curve between two models, and the
straight line between them."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from types import MappingProxyType

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ._common import (
    batch_slices,
    check_dataset,
    check_int,
    check_model,
    check_real,
    check_same_architecture,
    cross_entropy,
    floating_dtype,
    fork_rng_seeded,
    forward_logits,
    gather,
    generator,
    iter_batches,
    owned_buffers,
    resolve_device,
    seed_from,
    summed_error_and_loss,
    to_model_input,
)
from ._constants import (
    CURVE_BATCH_SIZE,
    CURVE_EPOCHS,
    CURVE_LR,
    CURVE_MOMENTUM,
    CURVE_POINTS,
    CURVE_WEIGHT_DECAY,
    EVAL_BATCH_SIZE,
    LR_SCHEDULE_DECAY_UNTIL,
    LR_SCHEDULE_FINAL_FACTOR,
    LR_SCHEDULE_FLAT_UNTIL,
)
from ._results import LinearBarrierResult, ModeConnectivityResult

__all__ = ["linear_barrier", "mode_connectivity"]


class _Layout:
    """Names and shapes of a model's parameters, to go between flat vectors and dicts."""

    def __init__(self, model: nn.Module):
        named = list(model.named_parameters())
        self.names = [name for name, _ in named]
        self.shapes = [p.shape for _, p in named]
        self.sizes = [p.numel() for _, p in named]
        dtypes = {p.dtype for _, p in named}
        if not named or len(dtypes) != 1 or not named[0][1].is_floating_point():
            raise ValueError(
                "expected a model whose parameters share one floating dtype, got "
                f"{sorted(map(str, dtypes)) or 'no parameters'}; convert it with model.float()."
            )

    def flatten(self, model: nn.Module, device) -> torch.Tensor:
        params = dict(model.named_parameters())
        return torch.cat([params[n].detach().reshape(-1).to(device) for n in self.names])

    def unflatten(self, flat: torch.Tensor) -> dict:
        pieces = flat.split(self.sizes)
        return {n: p.view(s) for n, p, s in zip(self.names, pieces, self.shapes, strict=True)}


class _Worker:
    """A private copy of the architecture on which every curve point is evaluated."""

    def __init__(self, model: nn.Module, device: torch.device):
        self.module = copy.deepcopy(model).to(device)
        self.module.requires_grad_(False)
        self.device = device
        self.dtype = floating_dtype(self.module)
        self.buffers = owned_buffers(self.module, device)
        self.batchnorms = [(name, m) for name, m in self.module.named_modules()
                           if isinstance(m, _BatchNorm) and m.track_running_stats]

    def forward(self, params: dict, x, y, buffers=None):
        state = {**params, **(self.buffers if buffers is None else buffers)}
        return forward_logits(self.module, state, x, y)

    def set_mode(self, train: bool, batchnorm_only: bool = False) -> None:
        self.module.train(train and not batchnorm_only)
        if batchnorm_only:
            for _, m in self.batchnorms:
                m.train(train)

    def reestimated_buffers(self, params: dict, data, batch_size: int) -> dict:
        """Buffers whose BatchNorm statistics are the exact averages over ``data`` at ``params``.

        One pass in train mode (BatchNorm layers only; dropout stays off), each batch
        weighted by its size, as in Garipov et al.'s ``update_bn``.
        """
        buffers = {n: b.clone() for n, b in self.buffers.items()}
        if not self.batchnorms:
            return buffers
        if len(data) < 2:
            raise ValueError(
                "expected at least 2 samples to re-estimate the BatchNorm statistics, got 1; "
                "pass the whole training set."
            )
        for name, _ in self.batchnorms:
            prefix = f"{name}." if name else ""
            buffers[prefix + "running_mean"].zero_()
            buffers[prefix + "running_var"].fill_(1.0)
            buffers[prefix + "num_batches_tracked"].zero_()
        momenta = [m.momentum for _, m in self.batchnorms]
        seen = 0
        try:
            self.set_mode(True, batchnorm_only=True)
            with torch.no_grad():
                for x, y in iter_batches(data, batch_size, merge_singleton=True):
                    size = x.shape[0]
                    for _, m in self.batchnorms:
                        m.momentum = size / (seen + size)
                    self.forward(params, to_model_input(x, self.dtype, self.device),
                                 y.to(self.device), buffers)
                    seen += size
        finally:
            for (_, m), momentum in zip(self.batchnorms, momenta, strict=True):
                m.momentum = momentum
        return buffers

    def error_and_loss(self, params: dict, data, batch_size: int) -> tuple[float, float]:
        buffers = self.reestimated_buffers(params, data, batch_size)
        self.set_mode(False)
        with torch.no_grad():
            wrong, loss_sum = summed_error_and_loss(
                lambda x, y: self.forward(params, x, y, buffers),
                iter_batches(data, EVAL_BATCH_SIZE), self.dtype, self.device)
        n = len(data)
        return 100.0 * wrong / n, loss_sum / n


def _garipov_lr_factor(epoch: int, epochs: int) -> float:
    """Learning-rate factor of Garipov et al. (2018) for 0-based ``epoch``."""
    fraction = epoch / epochs
    if fraction <= LR_SCHEDULE_FLAT_UNTIL:
        return 1.0
    if fraction <= LR_SCHEDULE_DECAY_UNTIL:
        span = LR_SCHEDULE_DECAY_UNTIL - LR_SCHEDULE_FLAT_UNTIL
        return 1.0 - (fraction - LR_SCHEDULE_FLAT_UNTIL) / span * (1.0 - LR_SCHEDULE_FINAL_FACTOR)
    return LR_SCHEDULE_FINAL_FACTOR


def _check_points(points) -> tuple[float, ...]:
    if isinstance(points, (str, bytes)) or not isinstance(points, Sequence):
        raise TypeError(f"expected points to be a sequence of floats, got {type(points).__name__}.")
    if len(points) == 0:
        raise ValueError("expected at least one point, got an empty sequence; pass e.g. (0.5,).")
    return tuple(check_real(t, "every point", 0.0, maximum=1.0) for t in points)


def _check_pair(model_a, model_b, data, batch_size, points):
    check_model(model_a, "model_a")
    check_model(model_b, "model_b")
    check_dataset(data)
    check_same_architecture([model_a, model_b], ["model_a", "model_b"])
    return check_int(batch_size, "batch_size", 1), _check_points(points)


def mode_connectivity(model_a, model_b, data, *, epochs=CURVE_EPOCHS, batch_size=CURVE_BATCH_SIZE,
                      lr=CURVE_LR, momentum=CURVE_MOMENTUM, weight_decay=CURVE_WEIGHT_DECAY,
                      points=CURVE_POINTS, init="random", random_state=None, device="auto",
                      progress=False) -> ModeConnectivityResult:
    """Peak train error along a trained quadratic Bezier curve between two models.

    The curve is ``θ(t) = (1-t)² θ_a + 2t(1-t) θ_1 + t² θ_b`` over every parameter
    tensor (BatchNorm scale and shift included).  The ends are the two models and
    stay fixed; the middle point ``θ_1`` is trained: per mini-batch a ``t ~ U(0, 1)``
    is drawn and the loss ``CE(θ(t)) + ½ · weight_decay · ||θ(t)||²`` is minimised by
    SGD with momentum, BatchNorm in train mode, with Garipov et al.'s learning-rate
    schedule (factor 1 for the first half of the epochs, then linearly down to 0.01
    at 90 %, then 0.01).  The network is evaluated at interpolated parameters with
    :func:`torch.func.functional_call` on a private copy, so any module built from
    standard layers works unchanged.  At every ``t`` in ``points`` the BatchNorm
    running statistics are re-estimated exactly at ``θ(t)`` (one pass over ``data``)
    before the eval-mode train error is measured.

    Parameters
    ----------
    model_a, model_b : torch.nn.Module
        Two models of the same architecture (two seeds of one configuration).  Not modified.
    data : torch.utils.data.Dataset
        ``(input, label)`` pairs: the training data both models saw, no augmentation.
    epochs : int, default=50
        Epochs of curve training (paper: 50 on 50k images; the research code used
        ``int(10 / data_fraction) * 5`` to keep the number of steps about constant).
        ``0`` evaluates the initial curve.
    batch_size : int, default=128
        Mini-batch size of training and of the BatchNorm re-estimate (paper: 128).
    lr : float, default=0.01
        Base learning rate (paper: 0.01).
    momentum : float, default=0.9
        SGD momentum (paper: 0.9).
    weight_decay : float, default=5e-4
        Weight of the ``½ ||θ(t)||²`` term in the curve loss (paper: 5e-4).
    points : sequence of float, default=(0.25, 0.5, 0.75)
        Curve parameters in ``[0, 1]`` at which the error is measured (paper).
    init : {"random", "linear"}, default="random"
        Start of the middle point: a fresh initialisation of the architecture
        (``reset_parameters()`` of every submodule that has one, on a copy of
        ``model_a``; the paper's choice) or the midpoint of the ends.
    random_state : int or None, default=None
        Seed of the initialisation, shuffling, ``t`` draws and dropout; ``None`` draws a
        seed from torch's global RNG.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Where to compute; ``"auto"`` picks CUDA when available.
    progress : bool, default=False
        Show a progress bar over epochs (needs ``tqdm``).

    Returns
    -------
    ModeConnectivityResult
        ``value`` = ``-max(errors)`` (the paper's ``mode_connectivity_peak``, ≤ 0),
        ``points``, ``errors``, ``losses``, ``middle`` (fitted θ₁ on the CPU), ``epochs``,
        ``init``.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If the models differ in architecture (the message names the first differing
        parameter), an argument is out of range, the dataset is empty, the output or
        labels are malformed, or the training loss becomes non-finite (the message
        names the epoch and step).
    ImportError
        If ``progress=True`` and ``tqdm`` is not installed.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from extractors import mode_connectivity
    >>> _ = torch.manual_seed(0)
    >>> x = torch.randn(64, 2); y = (x[:, 0] > 0).long()
    >>> a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    >>> result = mode_connectivity(a, b, TensorDataset(x, y), epochs=2, random_state=0,
    ...                            device="cpu")
    >>> result.value <= 0, len(result.errors), sorted(result.middle)
    (True, 3, ['bias', 'weight'])
    """
    batch_size, points = _check_pair(model_a, model_b, data, batch_size, points)
    epochs = check_int(epochs, "epochs", 0)
    lr = check_real(lr, "lr", 0.0, strict=True)
    momentum = check_real(momentum, "momentum", 0.0)
    weight_decay = check_real(weight_decay, "weight_decay", 0.0)
    if init not in ("random", "linear"):
        raise ValueError(f"expected init to be 'random' or 'linear', got {init!r}.")
    if not isinstance(progress, bool):
        raise TypeError(f"expected progress to be a bool, got {type(progress).__name__}.")
    seed = seed_from(random_state)
    device = resolve_device(device)

    layout = _Layout(model_a)
    worker = _Worker(model_a, device)
    end_a = layout.flatten(model_a, device)
    end_b = layout.flatten(model_b, device)
    with fork_rng_seeded(seed, device):
        if init == "linear":
            start = 0.5 * (end_a + end_b)
        else:
            fresh = copy.deepcopy(worker.module).cpu()
            for module in fresh.modules():
                if callable(getattr(module, "reset_parameters", None)):
                    module.reset_parameters()
            start = layout.flatten(fresh, device)
        middle = start.clone().requires_grad_(True)
        _train_curve(worker, layout, end_a, middle, end_b, data, epochs, batch_size, lr,
                     momentum, weight_decay, generator(seed), progress)

    errors, losses = [], []
    middle = middle.detach()
    for t in points:
        theta = (1 - t) ** 2 * end_a + 2 * t * (1 - t) * middle + t**2 * end_b
        error, loss = worker.error_and_loss(layout.unflatten(theta), data, batch_size)
        errors.append(error)
        losses.append(loss)
    middle_cpu = {n: p.cpu().clone() for n, p in layout.unflatten(middle).items()}
    return ModeConnectivityResult(
        value=-max(errors), points=points, errors=tuple(errors), losses=tuple(losses),
        middle=MappingProxyType(middle_cpu), epochs=epochs, init=init)


def _train_curve(worker, layout, end_a, middle, end_b, data, epochs, batch_size, lr, momentum,
                 weight_decay, gen, progress) -> None:
    if epochs == 0:
        return
    optimizer = torch.optim.SGD([middle], lr=lr, momentum=momentum)
    n = len(data)
    epoch_range = range(epochs)
    if progress:
        try:
            from tqdm.auto import tqdm
        except ImportError as exc:
            raise ImportError(
                "progress=True needs tqdm; install it (pip install tqdm) or pass progress=False."
            ) from exc
        epoch_range = tqdm(epoch_range, desc="curve training", unit="epoch")
    worker.set_mode(True)
    for epoch in epoch_range:
        for group in optimizer.param_groups:
            group["lr"] = lr * _garipov_lr_factor(epoch, epochs)
        order = torch.randperm(n, generator=gen)
        for step, part in enumerate(batch_slices(n, batch_size)):
            x, y = gather(data, order[part])
            x, y = to_model_input(x, worker.dtype, worker.device), y.to(worker.device)
            t = float(torch.rand((), generator=gen))
            with torch.no_grad():
                ends = (1 - t) ** 2 * end_a + t**2 * end_b
            theta = torch.add(ends, middle, alpha=2 * t * (1 - t))
            loss = cross_entropy(worker.forward(layout.unflatten(theta), x, y), y)
            if weight_decay:
                loss = loss + 0.5 * weight_decay * torch.dot(theta, theta)
            value = float(loss.detach())
            if not math.isfinite(value):
                raise ValueError(
                    f"expected a finite curve-training loss, got {value} at epoch "
                    f"{epoch + 1}, step {step + 1}; lower lr or check the models for inf/NaN."
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def linear_barrier(model_a, model_b, data, *, points=CURVE_POINTS, batch_size=CURVE_BATCH_SIZE,
                   device="auto") -> LinearBarrierResult:
    """Error barrier on the straight line between two models (no training).

    Evaluates ``θ(t) = (1-t) θ_a + t θ_b`` at ``t = 0``, at every point and at ``t = 1``,
    each after the same exact BatchNorm re-estimate as :func:`mode_connectivity`.  A
    cheap screen: the straight line usually crosses a ridge even when a curved path of
    low error exists, so this is a different and much larger quantity than the
    paper's ``mode_connectivity_peak``; do not feed it to trees fitted on the tables.

    Parameters
    ----------
    model_a, model_b : torch.nn.Module
        Two models of the same architecture.  Not modified.
    data : torch.utils.data.Dataset
        ``(input, label)`` pairs: the training data.
    points : sequence of float, default=(0.25, 0.5, 0.75)
        Interpolation parameters in ``[0, 1]``.
    batch_size : int, default=128
        Mini-batch size of the BatchNorm re-estimate.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Where to compute; ``"auto"`` picks CUDA when available.

    Returns
    -------
    LinearBarrierResult
        ``value`` = ``max_t [err(t) - ((1-t) err(0) + t err(1))]`` in percentage
        points, ``peak`` = ``-max_t err(t)``, ``points``, ``errors``, ``losses``,
        ``end_errors``.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If the models differ in architecture (the message names the first differing
        parameter), an argument is out of range, the dataset is empty, or the output
        or labels are malformed.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from extractors import linear_barrier
    >>> _ = torch.manual_seed(0)
    >>> x = torch.randn(64, 2); y = (x[:, 0] > 0).long()
    >>> model = torch.nn.Linear(2, 2)
    >>> result = linear_barrier(model, model, TensorDataset(x, y), device="cpu")
    >>> abs(result.value) < 1e-9, result.errors == (result.end_errors[0],) * 3
    (True, True)
    """
    batch_size, points = _check_pair(model_a, model_b, data, batch_size, points)
    device = resolve_device(device)
    layout = _Layout(model_a)
    worker = _Worker(model_a, device)
    end_a = layout.flatten(model_a, device)
    end_b = layout.flatten(model_b, device)

    def evaluate(t: float) -> tuple[float, float]:
        theta = torch.lerp(end_a, end_b, t)
        return worker.error_and_loss(layout.unflatten(theta), data, batch_size)

    start_error, end_error = evaluate(0.0)[0], evaluate(1.0)[0]
    results = [evaluate(t) for t in points]
    errors = tuple(e for e, _ in results)
    excess = [e - ((1 - t) * start_error + t * end_error) for t, e in zip(points, errors, strict=True)]
    return LinearBarrierResult(
        value=max(excess), peak=-max(errors), points=points, errors=errors,
        losses=tuple(loss for _, loss in results), end_errors=(start_error, end_error))
