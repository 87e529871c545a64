"""Linear CKA similarity between the outputs of a group of models."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from ._common import (
    BatchFormat,
    check_dataset,
    check_forward,
    check_int,
    check_model,
    check_real,
    check_same_architecture,
    floating_dtype,
    functional_state,
    generator,
    preserved_modes,
    resolve_device,
    seed_from,
)
from ._results import CKAResult
from .defaults import CKA_BATCH_SIZE, CKA_MIXUP_ALPHA, CKA_N_BATCHES

__all__ = ["cka"]


def _centred(x: torch.Tensor) -> torch.Tensor:
    return x - x.mean(dim=0, keepdim=True)


def _hsic_biased(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``||Yᵀ X||_F²`` of column-centred outputs (the 1/(n-1)² factor cancels in CKA)."""
    return torch.linalg.matrix_norm(_centred(y).T @ _centred(x)) ** 2


def _hsic_unbiased(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Debiased HSIC with linear kernels (Song et al. 2012), without forming n×n Grams.

    With ``K = X Xᵀ`` and ``L = Y Yᵀ`` whose diagonals are set to 0:
    ``[tr(K L) + 1ᵀK1 · 1ᵀL1 / ((n-1)(n-2)) - 2/(n-2) · 1ᵀ K L 1] / (n (n-3))``.
    """
    n = x.shape[0]
    x, y = _centred(x), _centred(y)  # leaves the estimator unchanged, improves rounding
    kd = (x * x).sum(dim=1)  # diag K
    ld = (y * y).sum(dim=1)
    trace_kl = torch.linalg.matrix_norm(y.T @ x) ** 2 - torch.dot(kd, ld)
    k1 = x @ x.sum(dim=0) - kd  # K̃ 1
    l1 = y @ y.sum(dim=0) - ld
    sum_k, sum_l = k1.sum(), l1.sum()
    return (trace_kl + sum_k * sum_l / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * torch.dot(k1, l1)) / (
        n * (n - 3))


def _is_constant(x: torch.Tensor, rtol: float) -> bool:
    """Rows equal up to rounding (relative to the size of the entries)."""
    scale = float(torch.linalg.matrix_norm(x))
    return float(torch.linalg.matrix_norm(_centred(x))) <= rtol * scale


def linear_cka(x: torch.Tensor, y: torch.Tensor, estimator: str = "biased") -> float:
    """Linear CKA of two ``(n, features)`` matrices whose rows are the same samples.

    Rows that agree to within 64 machine epsilons of the inputs' dtype count as
    constant (CKA undefined).
    """
    rtol = 64 * max(torch.finfo(x.dtype).eps, torch.finfo(y.dtype).eps)
    x, y = x.double(), y.double()
    hsic = _hsic_biased if estimator == "biased" else _hsic_unbiased
    denominator = float(hsic(x, x) * hsic(y, y))
    if not denominator > 0.0 or _is_constant(x, rtol) or _is_constant(y, rtol):
        raise ValueError(
            "expected outputs that vary over the samples, got a model whose outputs are "
            "constant (CKA is 0/0); check the model or use outputs='logits'."
        )
    return float(hsic(x, y)) / math.sqrt(denominator)


def _check_models(models) -> list:
    if isinstance(models, torch.nn.Module) or not isinstance(models, Sequence):
        raise TypeError(
            f"expected models to be a list of torch.nn.Module, got {type(models).__name__}."
        )
    if len(models) < 2:
        raise ValueError(
            f"expected at least two models, got {len(models)}; CKA compares models of one "
            "configuration trained from different seeds."
        )
    for i, model in enumerate(models):
        check_model(model, f"models[{i}]")
    check_same_architecture(list(models), [f"models[{i}]" for i in range(len(models))])
    return list(models)


def _batch_indices(n: int, n_batches: int, batch_size: int, gen: torch.Generator) -> list:
    """Consecutive batches of one shuffle; a fresh shuffle when it runs out."""
    size = min(batch_size, n)
    order, position, batches = torch.randperm(n, generator=gen), 0, []
    while len(batches) < n_batches:
        if position + size > n:
            order, position = torch.randperm(n, generator=gen), 0
        batches.append(order[position:position + size])
        position += size
    return batches


def mixed_batches(data, n_batches: int, batch_size: int, mixup_alpha, seed: int,
                  batch_format: BatchFormat | None = None) -> list:
    """The ``(x̃, y)`` batches :func:`cka` feeds every model, drawn from ``seed``.

    Consecutive batches of one shuffle, each mixed up with its own
    ``λ ~ Beta(mixup_alpha, mixup_alpha)`` and permutation (no mixing when
    ``mixup_alpha`` is ``None``). With a ``batch_format`` of a ``forward`` hook the
    batches are what it reads, their floating tensors mixed
    (:meth:`~extractors.utils.BatchFormat.mix`).
    """
    batch_format = BatchFormat() if batch_format is None else batch_format
    gen = generator(seed)
    mixing = np.random.default_rng(seed)  # Beta draws (torch has no seeded Beta sampler)
    batches = []
    for indices in _batch_indices(len(data), n_batches, batch_size, gen):
        batch = batch_format.gather(data, indices)
        if mixup_alpha is not None:
            lam = float(mixing.beta(mixup_alpha, mixup_alpha))
            permutation = torch.randperm(batch_format.size(batch), generator=gen)
            batch = batch_format.mix(batch, lam, permutation)
        batches.append(batch)
    return batches


def cka(models, data, *, n_batches=CKA_N_BATCHES, batch_size=CKA_BATCH_SIZE,
        mixup_alpha=CKA_MIXUP_ALPHA, outputs="softmax", estimator="biased", random_state=None,
        device="auto", forward=None) -> CKAResult:
    """Mean linear CKA between the outputs of a group of models on mixed-up training batches.

    ``n_batches`` shuffled batches of ``batch_size`` samples are drawn from ``data``.
    Each batch is mixed up: one ``λ ~ Beta(mixup_alpha, mixup_alpha)`` per batch and a
    random permutation ``π`` of the batch give ``x̃ = λ x + (1 - λ) x[π]``; every model
    sees the same ``x̃``.  Outputs are taken in eval mode without gradients, turned into
    softmax probabilities (or kept as logits), stacked into an ``n × C`` matrix per
    model, and compared by linear CKA in float64:
    ``||Yᵀ X||_F² / (||Xᵀ X||_F ||Yᵀ Y||_F)`` on column-centred ``X``, ``Y`` (biased), or
    the same ratio of debiased HSIC estimates (Song et al. 2012; Nguyen et al. 2021).

    Parameters
    ----------
    models : sequence of torch.nn.Module
        At least two models of one architecture.  Not modified.
    data : torch.utils.data.Dataset
        ``(input, label)`` pairs: the training data, normalised as the models expect.
    n_batches : int, default=6
        Number of batches (paper: 6).
    batch_size : int, default=128
        Samples per batch (paper: 128); all samples when the dataset is smaller.
    mixup_alpha : float or None, default=16.0
        Beta parameter of the mixup weight (paper: 16); ``None`` disables mixing.
    outputs : {"softmax", "logits"}, default="softmax"
        Compare probabilities (paper) or raw logits.
    estimator : {"biased", "unbiased"}, default="biased"
        Plain HSIC (paper) or the debiased HSIC (needs at least 4 samples).
    random_state : int or None, default=None
        Seed of the batches, permutations and mixup weights; ``None`` draws a seed from
        torch's global RNG.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Where to compute; ``"auto"`` picks CUDA when available.
    forward : callable or None, default=None
        ``forward(model, batch) -> (logits, labels)`` for any other model or dataset
        (dict batches, outputs with ``.logits``); ``batch`` is what
        ``torch.utils.data.default_collate`` makes of the samples, on ``device``
        (``docs/extractors.rst``, *Any model, any batch*).

    Returns
    -------
    CKAResult
        ``value`` = mean over ordered pairs ``i != j``; ``matrix`` (pairwise, symmetric);
        ``n_samples``; ``estimator``; ``standard_error`` (jackknife over the batches:
        the batch draw and the mixup weights; NaN with one batch).

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If fewer than two models are given, the models differ in architecture (the
        message names the first differing parameter), an argument is out of range, the
        dataset is empty, the outputs are malformed, not finite or constant.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from extractors import cka
    >>> _ = torch.manual_seed(0)
    >>> models = [torch.nn.Linear(5, 3) for _ in range(3)]
    >>> data = TensorDataset(torch.randn(256, 5), torch.randint(0, 3, (256,)))
    >>> result = cka(models, data, random_state=0, device="cpu")
    >>> 0.0 <= result.value <= 1.0, result.as_array().shape, result.n_samples
    (True, (3, 3), 768)
    """
    models = _check_models(models)
    check_dataset(data)
    n_batches = check_int(n_batches, "n_batches", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    if mixup_alpha is not None:
        mixup_alpha = check_real(mixup_alpha, "mixup_alpha", 0.0, strict=True)
    if outputs not in ("softmax", "logits"):
        raise ValueError(f"expected outputs to be 'softmax' or 'logits', got {outputs!r}.")
    if estimator not in ("biased", "unbiased"):
        raise ValueError(f"expected estimator to be 'biased' or 'unbiased', got {estimator!r}.")
    batch_format = check_forward(forward)
    seed = seed_from(random_state)
    device = resolve_device(device)

    batches = mixed_batches(data, n_batches, batch_size, mixup_alpha, seed, batch_format)
    sizes = [batch_format.size(batch) for batch in batches]
    n_samples = sum(sizes)
    if estimator == "unbiased" and n_samples < 4:
        raise ValueError(
            f"expected at least 4 samples for the unbiased estimator, got {n_samples}; "
            "pass more data or estimator='biased'."
        )

    features = [_outputs(model, batches, outputs, device, batch_format) for model in models]
    matrix = _pair_matrix(features, estimator)
    value = _mean_off_diagonal(matrix)
    return CKAResult(value=value, matrix=tuple(tuple(float(v) for v in row) for row in matrix),
                     n_samples=n_samples, estimator=estimator,
                     standard_error=_jackknife_over_batches(
                         features, sizes, estimator))


def _pair_matrix(features, estimator) -> np.ndarray:
    k = len(features)
    matrix = np.eye(k)
    for i in range(k):
        for j in range(i + 1, k):
            matrix[i, j] = matrix[j, i] = linear_cka(features[i], features[j], estimator)
    return matrix


def _mean_off_diagonal(matrix: np.ndarray) -> float:
    k = matrix.shape[0]
    return float((matrix.sum() - np.trace(matrix)) / (k * (k - 1)))


def _jackknife_over_batches(features, sizes, estimator) -> float:
    """Jackknife standard error of the mean CKA, leaving out one batch at a time."""
    n_batches = len(sizes)
    if n_batches < 2:
        return math.nan
    ends = np.cumsum(sizes)
    left_out = []
    for end, size in zip(ends, sizes):
        keep = torch.ones(int(ends[-1]), dtype=torch.bool)
        keep[end - size:end] = False
        try:
            left_out.append(_mean_off_diagonal(_pair_matrix([f[keep] for f in features],
                                                            estimator)))
        except ValueError:  # too few samples left (unbiased) or constant outputs
            return math.nan
    left_out = np.array(left_out)
    return float(math.sqrt((n_batches - 1) / n_batches
                           * np.sum((left_out - left_out.mean()) ** 2)))


def _outputs(model, batches, outputs, device, batch_format) -> torch.Tensor:
    dtype = floating_dtype(model)
    pieces = []
    with preserved_modes(model), torch.no_grad():
        model.eval()
        params, buffers = functional_state(model, device)
        state = {**params, **buffers}
        for batch in batches:
            # labels are only checked for range; CKA does not use them
            logits, _ = batch_format.logits(model, state, batch_format.to(batch, dtype, device))
            pieces.append(torch.softmax(logits.double(), dim=1).to(logits.dtype)
                          if outputs == "softmax" else logits)
    features = torch.cat(pieces).cpu()  # in the model's dtype; linear_cka works in float64
    if not torch.isfinite(features).all():
        raise ValueError(
            "expected finite model outputs, got inf/NaN; check the model's parameters and the "
            "input normalisation."
        )
    return features
