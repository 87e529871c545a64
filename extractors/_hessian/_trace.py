"""Trace of the loss Hessian on one random batch: Hutchinson's estimator."""

from __future__ import annotations

import math

import torch

from .._common import check_forward, check_int, generator, preserved_modes
from .._results import HessianTraceResult
from ..defaults import (
    HESSIAN_N_SAMPLES,
    MAX_PROBE_BLOCK,
    PROBE_BLOCK_FREE_MEMORY_FRACTION,
    PROBE_BLOCK_MEMORY_BYTES,
    TRACE_MAX_PROBES,
    TRACE_RTOL,
    TRACE_TARGET_MIN_PROBES,
)
from ._estimator import check_arguments, check_target, relative_change
from ._operator import BatchLoss, batch_loss, hvp_function
from ._probes import rademacher_probes
from ._taylor import TaylorNetwork, UnsupportedOperation, quadratic_forms

__all__ = ["hessian_trace"]


def hessian_trace(model, data, *, n_samples=HESSIAN_N_SAMPLES, max_probes=TRACE_MAX_PROBES,
                  rtol=TRACE_RTOL, target_se=None, target_relative_se=None, n_batches=1,
                  random_state=None, device="auto", forward=None) -> HessianTraceResult:
    """Trace of the Hessian of the mean cross-entropy on one random batch (Hutchinson).

    The loss is the mean cross-entropy of the model, in eval mode and without any
    weight-decay term, over one batch of ``n_samples`` samples drawn at random from
    ``data`` (all samples when the dataset is smaller).  The Hessian is taken with
    respect to every parameter with ``requires_grad=True`` (frozen ones are held
    fixed), BatchNorm scale and shift and biases included.  Each probe ``v`` is a
    Rademacher (±1) vector and contributes ``vᵀHv``; probes are drawn until the
    running mean ``m_k`` changes by less than ``rtol``, relative
    (``|m_k - m_{k-1}| / (|m_{k-1}| + 1e-6) < rtol``), or ``max_probes`` were drawn
    (the paper's rule).  With a precision target instead (``target_se`` or
    ``target_relative_se``) the probes stop once the standard error of the mean, the
    sample standard deviation of ``vᵀHv`` over ``sqrt(k)``, is at most the target, after
    at least 10 probes (so the standard deviation is itself measured), or at
    ``max_probes``; ``rtol`` is then not used.  ``stopped_by`` says which rule stopped.
    Each ``vᵀHv`` is the second derivative of the loss along ``v``, computed by
    second-order forward mode through the traced network (no backward pass); a model
    with an operation that has no forward rule (LayerNorm, say) or with control flow
    on tensor values falls back to exact Hessian-vector products.  Several probes are
    evaluated per call with :func:`torch.func.vmap` when the block fits a memory
    budget (64 MiB on the CPU, a quarter of the free memory on a CUDA device).

    Parameters
    ----------
    model : torch.nn.Module
        Classifier returning ``(batch, classes)`` logits.  Not modified.
    data : torch.utils.data.Dataset
        ``(input, label)`` pairs: the model's training data, normalised as it expects.
    n_samples : int, default=200
        Size of the random batch (paper: 200).
    max_probes : int, default=100
        Most probes drawn (paper: 100).
    rtol : float, default=1e-3
        Relative change of the running mean that stops the estimate (paper: 0.1 %);
        ``0`` draws exactly ``max_probes`` probes.  Not used when a target is given.
    target_se : float > 0 or None, default=None
        Absolute standard error of the trace estimate at which the probes stop (at
        most ``max_probes`` of them: raise it for a tight target).  ``None``: the
        paper's ``rtol`` rule.
    target_relative_se : float > 0 or None, default=None
        The same target relative to the running mean: stop once ``standard_error <=
        target_relative_se * |mean|``.  By the delta method this is the standard error
        of ``ln(trace)``, the scale of the featurizer's ``hessian_t``.  At most one of
        the two targets.
    n_batches : int, default=1
        Independent random batches of ``n_samples`` (paper: 1).  With more than one,
        each batch gets its own probes under the rule above and ``value`` is the mean of
        the batches' traces; ``standard_error`` is then the spread of those traces over
        ``sqrt(n_batches)``, which covers the draw of the batch as well as the probes
        (the batch draw is usually the larger share: docs/extractors.rst, *Noise and
        standard errors*).  With one batch the standard error covers the probes only.
        Not combined with a precision target.
    random_state : int or None, default=None
        Seed of the batch and the probes; ``None`` draws a seed from torch's global RNG.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Where to compute; ``"auto"`` picks CUDA when available.
    forward : callable or None, default=None
        ``forward(model, batch) -> (logits, labels)`` for any other model or dataset
        (dict batches, outputs with ``.logits``); ``batch`` is what
        ``torch.utils.data.default_collate`` makes of the samples, on ``device``
        (``docs/extractors.rst``, *Any model, any batch*).

    Returns
    -------
    HessianTraceResult
        ``value`` (trace estimate), ``standard_error``, ``n_probes``, ``n_samples`` and
        ``stopped_by`` (``"rtol"``, ``"target_se"`` or ``"max_probes"``).

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If an argument is out of range (a target that is not a finite number > 0, or
        both targets), the dataset is empty, the output or labels are
        malformed, the model has no trainable parameter, or the loss or a Hessian-vector
        product is not finite (the message names the probe).

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from extractors import hessian_trace
    >>> _ = torch.manual_seed(0)
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    >>> data = TensorDataset(torch.randn(64, 4), torch.randint(0, 3, (64,)))
    >>> result = hessian_trace(model, data, n_samples=32, random_state=0, device="cpu")
    >>> result.value > 0, result.n_probes <= 100
    (True, True)
    """
    n_samples, max_probes, rtol, seed, device = check_arguments(
        model, data, n_samples, max_probes, "max_probes", rtol, random_state, device)
    target = check_target(target_se, target_relative_se)
    n_batches = check_int(n_batches, "n_batches", 1)
    if n_batches > 1 and target is not None:
        raise ValueError(
            f"expected n_batches=1 with a precision target, got n_batches={n_batches}; a "
            "target bounds one batch's probe noise, not the spread over batches: pass one "
            "of the two (more batches when the batch draw dominates).")
    batches = check_forward(forward)
    per_batch, stops = [], []
    with preserved_modes(model):
        model.eval()
        gen = generator(seed)  # draws a batch, then its probes; then the next batch
        for _ in range(n_batches):
            problem = batch_loss(model, data, n_samples, gen, device, batches)
            values, stopped_by = _trace_probes(problem, max_probes, rtol, gen, target)
            per_batch.append(values)
            stops.append(stopped_by)
    n_probes = sum(len(values) for values in per_batch)
    if n_batches == 1:
        mean, standard_error = _mean_and_standard_error(per_batch[0])
    else:  # the batches' traces: their spread covers the batch draw and the probes
        mean, standard_error = _mean_and_standard_error(
            [math.fsum(values) / len(values) for values in per_batch])
    # one rule for all batches, else the cap (a target some batch did not reach)
    stopped_by = stops[0] if len(set(stops)) == 1 else "max_probes"
    return HessianTraceResult(value=mean, standard_error=standard_error,
                              n_probes=n_probes, n_samples=problem.n_samples,
                              stopped_by=stopped_by, n_batches=n_batches)


def _mean_and_standard_error(values) -> tuple[float, float]:
    """Mean and standard error of the mean (sample standard deviation over sqrt(n);
    NaN for one value)."""
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean, math.nan
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(variance / n)


def _probe_block_memory(device: torch.device) -> int:
    """Bytes the extra probes of one vmap block may take: a fixed budget on the CPU, a
    fraction of the free memory on a CUDA device."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(PROBE_BLOCK_FREE_MEMORY_FRACTION * free)
    return PROBE_BLOCK_MEMORY_BYTES


def _probe_block_size(problem: BatchLoss, max_probes: int) -> int:
    element_bytes = problem.flat.element_size()
    per_probe = (3 * problem.activation_elements + 2 * problem.flat.numel()) * element_bytes
    budget = _probe_block_memory(problem.flat.device)
    return max(1, min(MAX_PROBE_BLOCK, max_probes, budget // max(per_probe, 1)))


def _quadratic_form_function(problem: BatchLoss):
    """``v -> vᵀHv``: by second-order forward mode when every operation on the parameter
    path has a rule (no backward pass per probe), else by a Hessian-vector product."""
    try:
        network = TaylorNetwork(problem.logits, problem.flat)
    except UnsupportedOperation:
        return _hvp_quadratic_form(problem)

    def quadratic_form(v: torch.Tensor) -> torch.Tensor:
        return quadratic_forms(network.value, problem.labels, *network(v))

    try:  # one sweep along zero proves every rule runs on this network
        quadratic_form(torch.zeros_like(problem.flat))
    except Exception:  # noqa: BLE001 - any failure of the fast path means: use the exact fallback
        return _hvp_quadratic_form(problem)
    return quadratic_form


def _hvp_quadratic_form(problem: BatchLoss):
    hvp = hvp_function(problem)
    return lambda v: torch.dot(hvp(v), v)


class _RunningMoments:
    """Welford's running mean and variance of the probe values (for the precision rule)."""

    def __init__(self):
        self.count, self.mean, self.squares = 0, 0.0, 0.0

    def add(self, value: float) -> None:
        self.count += 1
        delta = value - self.mean
        self.mean += delta / self.count
        self.squares += delta * (value - self.mean)

    def standard_error(self) -> float:
        return math.sqrt(self.squares / (self.count - 1) / self.count)


def _target_reached(moments: _RunningMoments, target) -> bool:
    """Whether the standard error of the mean is at most the target (absolute, or
    relative to the running mean), with enough probes to measure it."""
    if moments.count < TRACE_TARGET_MIN_PROBES:
        return False
    kind, level = target
    bound = level if kind == "absolute" else level * abs(moments.mean)
    return moments.standard_error() <= bound


def _trace_probes(problem: BatchLoss, max_probes: int, rtol: float,
                  gen: torch.Generator, target=None) -> tuple[list[float], str]:
    """The probe values and the rule that stopped them: the paper's ``rtol`` rule, or a
    precision ``target`` (``("absolute" | "relative", level)``), or ``max_probes``."""
    size, dtype, device = problem.flat.numel(), problem.flat.dtype, problem.flat.device
    quadratic_form = _quadratic_form_function(problem)
    block = _probe_block_size(problem, max_probes)
    batched = torch.func.vmap(quadratic_form)
    values: list[float] = []
    previous = 0.0
    moments = _RunningMoments()
    while len(values) < max_probes:
        count = min(block, max_probes - len(values))
        probes = rademacher_probes(count, size, gen, dtype).to(device)
        forms = None
        if count > 1:
            try:
                forms = batched(probes)
            except (RuntimeError, NotImplementedError):
                block = 1  # some operator has no batching rule: go one probe at a time
        if forms is None:
            forms = torch.stack([quadratic_form(v) for v in probes])
        for value in forms.double().cpu().tolist():
            if not math.isfinite(value):
                raise ValueError(
                    f"expected a finite curvature vᵀHv, got {value} at probe "
                    f"{len(values) + 1}; the loss is not twice differentiable there "
                    "(check the parameters for inf/NaN and the input normalisation)."
                )
            values.append(value)
            if target is not None:
                moments.add(value)
                if _target_reached(moments, target):
                    return values, "target_se"
                continue
            mean = math.fsum(values) / len(values)
            if rtol > 0 and relative_change(mean, previous) < rtol:
                return values, "rtol"
            previous = mean
    return values, "max_probes"
