"""Top eigenvalue of the loss Hessian on one random batch: power iteration."""

from __future__ import annotations

import math

import torch

from .._common import check_forward, generator, preserved_modes
from .._results import HessianEigenvalueResult
from ..defaults import EIGEN_MAX_ITER, EIGEN_RTOL, HESSIAN_N_SAMPLES
from ._estimator import check_arguments, relative_change
from ._operator import BatchLoss, batch_loss, hvp_function

__all__ = ["hessian_top_eigenvalue"]


def hessian_top_eigenvalue(model, data, *, n_samples=HESSIAN_N_SAMPLES, max_iter=EIGEN_MAX_ITER,
                           rtol=EIGEN_RTOL, random_state=None,
                           device="auto", forward=None) -> HessianEigenvalueResult:
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
    forward : callable or None, default=None
        ``forward(model, batch) -> (logits, labels)`` for any other model or dataset
        (dict batches, outputs with ``.logits``); ``batch`` is what
        ``torch.utils.data.default_collate`` makes of the samples, on ``device``
        (``docs/extractors.rst``, *Any model, any batch*).

    Returns
    -------
    HessianEigenvalueResult
        ``value``, ``n_iter``, ``converged``, ``n_samples``, ``standard_error``
        (the convergence error: the residual norm of the last iterate).

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
    n_samples, max_iter, rtol, seed, device = check_arguments(
        model, data, n_samples, max_iter, "max_iter", rtol, random_state, device)
    batches = check_forward(forward)
    with preserved_modes(model):
        model.eval()
        gen = generator(seed)  # draws the batch, then the start vector
        problem = batch_loss(model, data, n_samples, gen, device, batches)
        value, n_iter, converged, residual = _power_iteration(problem, max_iter, rtol, gen)
    return HessianEigenvalueResult(value=value, n_iter=n_iter, converged=converged,
                                   n_samples=problem.n_samples, standard_error=residual)


def _power_iteration(problem: BatchLoss, max_iter: int, rtol: float, gen: torch.Generator):
    flat = problem.flat
    v = torch.randn(flat.numel(), generator=gen, dtype=flat.dtype).to(flat.device)
    v = v / torch.linalg.vector_norm(v)
    hvp = hvp_function(problem)
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
            return 0.0, iteration, True, 0.0
        # residual of the Rayleigh quotient: an eigenvalue lies within it (Krylov-Weinstein)
        residual = float(torch.linalg.vector_norm(product.double() - rayleigh * v.double()))
        v = product / norm
        if estimate is not None and relative_change(rayleigh, estimate) < rtol:
            return rayleigh, iteration, True, residual
        estimate = rayleigh
    return estimate, max_iter, False, residual
