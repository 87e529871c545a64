"""The straight line between two models: a cheap screen, not the paper's metric."""

from __future__ import annotations

import torch

from .._common import check_forward, resolve_device
from .._evaluator import PointEvaluator
from .._layout import ParameterLayout
from .._results import LinearBarrierResult
from ..defaults import CURVE_BATCH_SIZE, CURVE_POINTS
from ._checks import check_pair

__all__ = ["linear_barrier"]


def linear_barrier(model_a, model_b, data, *, points=CURVE_POINTS, batch_size=CURVE_BATCH_SIZE,
                   device="auto", forward=None) -> LinearBarrierResult:
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
    forward : callable or None, default=None
        ``forward(model, batch) -> (logits, labels)`` for any other model or dataset
        (dict batches, outputs with ``.logits``); ``batch`` is what
        ``torch.utils.data.default_collate`` makes of the samples, on ``device``
        (``docs/extractors.rst``, *Any model, any batch*).

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
    batch_size, points = check_pair(model_a, model_b, data, batch_size, points)
    device = resolve_device(device)
    layout = ParameterLayout(model_a)
    worker = PointEvaluator(model_a, device, check_forward(forward))
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
