"""Trace and top eigenvalue of the loss Hessian on one random batch."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.overrides import TorchFunctionMode

from ._common import (
    check_dataset,
    check_int,
    check_model,
    check_outputs,
    check_real,
    cross_entropy,
    floating_dtype,
    functional_state,
    gather,
    generator,
    preserved_modes,
    resolve_device,
    seed_from,
    to_model_input,
)
from ._constants import (
    EIGEN_MAX_ITER,
    EIGEN_RTOL,
    HESSIAN_N_SAMPLES,
    MAX_PROBE_BLOCK,
    PROBE_BLOCK_MEMORY_BYTES,
    RELATIVE_CHANGE_FLOOR,
    TRACE_MAX_PROBES,
    TRACE_RTOL,
)
from ._results import HessianEigenvalueResult, HessianTraceResult
from ._taylor import TaylorNetwork, UnsupportedOperation, quadratic_forms

__all__ = ["hessian_top_eigenvalue", "hessian_trace"]


@dataclass
class _Problem:
    """The loss of one batch as a function of the flat trainable parameters."""

    loss: Callable[[torch.Tensor], torch.Tensor]
    logits: Callable[[torch.Tensor], torch.Tensor]
    labels: torch.Tensor
    flat: torch.Tensor
    n_samples: int
    activation_elements: int


def sample_indices(n: int, n_samples: int, gen: torch.Generator) -> torch.Tensor:
    """One random batch: ``n_samples`` distinct indices, or all of them when ``n`` is smaller."""
    if n <= n_samples:
        return torch.arange(n)
    return torch.randperm(n, generator=gen)[:n_samples]


def rademacher_probes(count: int, size: int, gen: torch.Generator,
                      dtype: torch.dtype) -> torch.Tensor:
    """``count`` ±1 vectors of ``size`` on the CPU, one per row.

    Each 32-bit draw of ``gen`` gives 32 signs: its four bytes index a table of the
    eight signs of every byte value (bit ``j`` set gives ``+1`` at position ``j``),
    which is 7x faster than one draw per sign.  The CPU generator fills the block in
    memory order, so the rows are exactly the vectors ``count`` calls of
    :func:`rademacher_probe` would draw: how probes are blocked never changes them.
    """
    words_per_probe = -(-size // 32)
    words = torch.randint(0, 2**32, (count, words_per_probe), generator=gen, dtype=torch.int64)
    octets = words.to(torch.int32).view(torch.uint8).long()  # four random bytes per word
    bit_is_set = (torch.arange(256).unsqueeze(1) >> torch.arange(8)) & 1
    signs = (2 * bit_is_set - 1).to(dtype)  # (256, 8): the signs of each byte value
    return torch.nn.functional.embedding(octets, signs).view(count, -1)[:, :size]


def rademacher_probe(size: int, gen: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """One ±1 vector on the CPU."""
    return rademacher_probes(1, size, gen, dtype)[0]


_BATCH_NORM_ARGS = ("input", "running_mean", "running_var", "weight", "bias", "training",
                    "momentum", "eps")


class _EvalBatchNormAsAffine(TorchFunctionMode):
    """Compute eval-mode batch norm as the per-channel affine map it is.

    ``(x - mean) * weight / sqrt(var + eps) + bias`` gives the same values and
    derivatives as ``F.batch_norm(..., training=False)``, but its second derivatives
    are a few multiplications instead of the generic batch-norm double-backward
    formula (measured 1.7x faster Hessian-vector products on a small CNN).
    """

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.nn.functional.batch_norm:
            bound = {**dict(zip(_BATCH_NORM_ARGS, args)), **kwargs}
            if not bound.get("training", False) and bound["running_mean"] is not None:
                x = bound["input"]
                shape = (1, -1) + (1,) * (x.ndim - 2)
                scale = torch.rsqrt(bound["running_var"] + bound.get("eps", 1e-5))
                if bound.get("weight") is not None:
                    scale = scale * bound["weight"]
                shift = -bound["running_mean"] * scale
                if bound.get("bias") is not None:
                    shift = shift + bound["bias"]
                return x * scale.view(shape) + shift.view(shape)
        return func(*args, **kwargs)


class _CountOutputs(TorchFunctionMode):
    """Counts the elements of every tensor a forward pass creates (a memory estimate)."""

    def __init__(self):
        super().__init__()
        self.elements = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for item in out if isinstance(out, (tuple, list)) else (out,):
            if torch.is_tensor(item) and not item._is_view():
                self.elements += item.numel()
        return out


def _problem(model, data, n_samples, gen, device) -> _Problem:
    """Set up the Hessian batch drawn with ``gen``; call with the model in eval mode."""
    n = check_dataset(data)
    x, y = gather(data, sample_indices(n, n_samples, gen))
    dtype = floating_dtype(model)
    x, y = to_model_input(x, dtype, device), y.to(device)
    params, buffers = functional_state(model, device)
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    if not trainable:
        raise ValueError(
            "expected a model with trainable parameters, got none with requires_grad=True; "
            "unfreeze the parameters whose curvature you want."
        )
    dtypes = {p.dtype for _, p in trainable}
    if len(dtypes) != 1 or not trainable[0][1].is_floating_point():
        raise ValueError(
            f"expected all trainable parameters to share one floating dtype, got {sorted(map(str, dtypes))}; "
            "convert the model with model.float() or model.double()."
        )
    names = [name for name, _ in trainable]
    shapes = [params[name].shape for name in names]
    sizes = [params[name].numel() for name in names]
    constants = {**{k: v for k, v in params.items() if k not in set(names)}, **buffers}
    flat = torch.cat([params[name].reshape(-1) for name in names])

    def logits(theta: torch.Tensor) -> torch.Tensor:
        pieces = theta.split(sizes)
        state = {name: piece.view(shape) for name, piece, shape in zip(names, pieces, shapes, strict=True)}
        state.update(constants)
        return torch.func.functional_call(model, state, (x,))

    def loss(theta: torch.Tensor) -> torch.Tensor:
        with _EvalBatchNormAsAffine():
            out = logits(theta)
        check_outputs(out, x, y)
        return cross_entropy(out, y)

    counter = _CountOutputs()
    with torch.no_grad(), counter:
        value = float(loss(flat))
    if not math.isfinite(value):
        raise ValueError(
            f"expected a finite loss on the Hessian batch, got {value}; the model produces "
            "non-finite logits (check its parameters and the input normalisation)."
        )
    return _Problem(loss, logits, y, flat, x.shape[0], counter.elements)


def _hvp_function(problem: _Problem):
    """``v -> Hv``: the gradient graph is built once and reused for every product
    (reverse over reverse; the Hessian is symmetric so the VJP is the HVP)."""
    _, vjp = torch.func.vjp(torch.func.grad(problem.loss), problem.flat)
    return lambda v: vjp(v)[0]


def _probe_block_size(problem: _Problem, max_probes: int) -> int:
    element_bytes = problem.flat.element_size()
    per_probe = (3 * problem.activation_elements + 2 * problem.flat.numel()) * element_bytes
    return max(1, min(MAX_PROBE_BLOCK, max_probes, PROBE_BLOCK_MEMORY_BYTES // max(per_probe, 1)))


def _relative_change(new: float, old: float) -> float:
    return abs(new - old) / (abs(old) + RELATIVE_CHANGE_FLOOR)


def _validate(model, data, n_samples, count, count_name, rtol, random_state, device):
    check_model(model)
    check_dataset(data)
    n_samples = check_int(n_samples, "n_samples", 1)
    count = check_int(count, count_name, 1)
    rtol = check_real(rtol, "rtol", 0.0)
    return n_samples, count, rtol, seed_from(random_state), resolve_device(device)


def hessian_trace(model, data, *, n_samples=HESSIAN_N_SAMPLES, max_probes=TRACE_MAX_PROBES,
                  rtol=TRACE_RTOL, random_state=None, device="auto") -> HessianTraceResult:
    """Trace of the Hessian of the mean cross-entropy on one random batch (Hutchinson).

    The loss is the mean cross-entropy of the model, in eval mode and without any
    weight-decay term, over one batch of ``n_samples`` samples drawn at random from
    ``data`` (all samples when the dataset is smaller).  The Hessian is taken with
    respect to every parameter with ``requires_grad=True`` (frozen ones are held
    fixed), BatchNorm scale and shift and biases included.  Each probe ``v`` is a
    Rademacher (±1) vector and contributes ``vᵀHv``; probes are drawn until the
    running mean ``m_k`` changes by less than ``rtol``, relative
    (``|m_k - m_{k-1}| / (|m_{k-1}| + 1e-6) < rtol``), or ``max_probes`` were drawn.
    Each ``vᵀHv`` is the second derivative of the loss along ``v``, computed by
    second-order forward mode through the traced network (no backward pass); a model
    with an operation that has no forward rule (LayerNorm, say) or with control flow
    on tensor values falls back to exact Hessian-vector products.  Several probes are
    evaluated per call with :func:`torch.func.vmap` when the block fits a small
    memory budget.

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
        ``0`` draws exactly ``max_probes`` probes.
    random_state : int or None, default=None
        Seed of the batch and the probes; ``None`` draws a seed from torch's global RNG.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Where to compute; ``"auto"`` picks CUDA when available.

    Returns
    -------
    HessianTraceResult
        ``value`` (trace estimate), ``standard_error``, ``n_probes``, ``n_samples``.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If an argument is out of range, the dataset is empty, the output or labels are
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
    n_samples, max_probes, rtol, seed, device = _validate(
        model, data, n_samples, max_probes, "max_probes", rtol, random_state, device)
    with preserved_modes(model):
        model.eval()
        gen = generator(seed)  # draws the batch, then the probes
        problem = _problem(model, data, n_samples, gen, device)
        values = _trace_probes(problem, max_probes, rtol, gen)
    n_probes = len(values)
    mean = math.fsum(values) / n_probes
    if n_probes > 1:
        variance = math.fsum((v - mean) ** 2 for v in values) / (n_probes - 1)
        standard_error = math.sqrt(variance / n_probes)
    else:
        standard_error = math.nan
    return HessianTraceResult(value=mean, standard_error=standard_error,
                              n_probes=n_probes, n_samples=problem.n_samples)


def _quadratic_form_function(problem: _Problem):
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


def _hvp_quadratic_form(problem: _Problem):
    hvp = _hvp_function(problem)
    return lambda v: torch.dot(hvp(v), v)


def _trace_probes(problem: _Problem, max_probes: int, rtol: float,
                  gen: torch.Generator) -> list[float]:
    size, dtype, device = problem.flat.numel(), problem.flat.dtype, problem.flat.device
    quadratic_form = _quadratic_form_function(problem)
    block = _probe_block_size(problem, max_probes)
    batched = torch.func.vmap(quadratic_form)
    values: list[float] = []
    previous = 0.0
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
            mean = math.fsum(values) / len(values)
            if rtol > 0 and _relative_change(mean, previous) < rtol:
                return values
            previous = mean
    return values


def hessian_top_eigenvalue(model, data, *, n_samples=HESSIAN_N_SAMPLES, max_iter=EIGEN_MAX_ITER,
                           rtol=EIGEN_RTOL, random_state=None,
                           device="auto") -> HessianEigenvalueResult:
    """Top eigenvalue of the Hessian of the mean cross-entropy on one random batch.

    Same loss, batch and parameters as :func:`hessian_trace` (with the same
    ``random_state`` both use the same batch).  Power iteration from a normalised
    Gaussian vector: ``v <- Hv / ||Hv||``, estimate = Rayleigh quotient ``vᵀHv``,
    stopped when it changes by less than ``rtol`` relative
    (``|λ_k - λ_{k-1}| / (|λ_{k-1}| + 1e-6) < rtol``) or after ``max_iter`` products.
    Power iteration finds the eigenvalue of largest magnitude; for trained networks
    this is the largest positive one.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier returning ``(batch, classes)`` logits.  Not modified.
    data : torch.utils.data.Dataset
        ``(input, label)`` pairs: the model's training data, normalised as it expects.
    n_samples : int, default=200
        Size of the random batch (paper: 200).
    max_iter : int, default=100
        Most Hessian-vector products (paper: 100).
    rtol : float, default=1e-3
        Relative change of the Rayleigh quotient that stops the iteration (paper: 1e-3).
    random_state : int or None, default=None
        Seed of the batch and the start vector; ``None`` draws a seed from torch's
        global RNG.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Where to compute; ``"auto"`` picks CUDA when available.

    Returns
    -------
    HessianEigenvalueResult
        ``value``, ``n_iter``, ``converged``, ``n_samples``.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If an argument is out of range, the dataset is empty, the output or labels are
        malformed, the model has no trainable parameter, or the loss or a Hessian-vector
        product is not finite (the message names the iteration).

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from extractors import hessian_top_eigenvalue
    >>> _ = torch.manual_seed(0)
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    >>> data = TensorDataset(torch.randn(64, 4), torch.randint(0, 3, (64,)))
    >>> result = hessian_top_eigenvalue(model, data, random_state=0, device="cpu")
    >>> result.value > 0, result.n_iter <= 100
    (True, True)
    """
    n_samples, max_iter, rtol, seed, device = _validate(
        model, data, n_samples, max_iter, "max_iter", rtol, random_state, device)
    with preserved_modes(model):
        model.eval()
        gen = generator(seed)  # draws the batch, then the start vector
        problem = _problem(model, data, n_samples, gen, device)
        value, n_iter, converged = _power_iteration(problem, max_iter, rtol, gen)
    return HessianEigenvalueResult(value=value, n_iter=n_iter, converged=converged,
                                   n_samples=problem.n_samples)


def _power_iteration(problem: _Problem, max_iter: int, rtol: float, gen: torch.Generator):
    flat = problem.flat
    v = torch.randn(flat.numel(), generator=gen, dtype=flat.dtype).to(flat.device)
    v = v / torch.linalg.vector_norm(v)
    hvp = _hvp_function(problem)
    estimate = None
    for iteration in range(1, max_iter + 1):
        product = hvp(v)
        rayleigh = float(torch.dot(product, v))
        norm = float(torch.linalg.vector_norm(product))
        if not (math.isfinite(rayleigh) and math.isfinite(norm)):
            raise ValueError(
                f"expected finite Hessian-vector products, got {rayleigh} at power iteration "
                f"{iteration}; check the parameters for inf/NaN and the input normalisation."
            )
        if norm == 0.0:
            return 0.0, iteration, True
        v = product / norm
        if estimate is not None and _relative_change(rayleigh, estimate) < rtol:
            return rayleigh, iteration, True
        estimate = rayleigh
    return estimate, max_iter, False
