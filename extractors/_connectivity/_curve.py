"""Mode connectivity: the peak error along a trained quadratic Bezier curve between two models."""

from __future__ import annotations

import copy
from types import MappingProxyType

from .._common import (
    check_forward,
    check_int,
    check_real,
    fork_rng_seeded,
    generator,
    resolve_device,
    seed_from,
)
from .._evaluator import PointEvaluator
from .._layout import ParameterLayout
from .._results import ModeConnectivityResult
from ..defaults import (
    CURVE_BATCH_SIZE,
    CURVE_EPOCHS,
    CURVE_LR,
    CURVE_MOMENTUM,
    CURVE_POINTS,
    CURVE_WEIGHT_DECAY,
)
from ._checks import check_pair
from ._training import train_curve

__all__ = ["mode_connectivity"]


def mode_connectivity(model_a, model_b, data, *, epochs=CURVE_EPOCHS, batch_size=CURVE_BATCH_SIZE,
                      lr=CURVE_LR, momentum=CURVE_MOMENTUM, weight_decay=CURVE_WEIGHT_DECAY,
                      points=CURVE_POINTS, init="random", random_state=None, device="auto",
                      progress=False, forward=None) -> ModeConnectivityResult:
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
    forward : callable or None, default=None
        ``forward(model, batch) -> (logits, labels)`` for any other model or dataset
        (dict batches, outputs with ``.logits``); ``batch`` is what
        ``torch.utils.data.default_collate`` makes of the samples, on ``device``
        (``docs/extractors.rst``, *Any model, any batch*).

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
    batch_size, points = check_pair(model_a, model_b, data, batch_size, points)
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

    layout = ParameterLayout(model_a)
    worker = PointEvaluator(model_a, device, check_forward(forward))
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
        train_curve(worker, layout, end_a, middle, end_b, data, epochs, batch_size, lr,
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
