"""Size of the minima manifold around a model: the package's own estimator for choosing
model expansions, in the spirit of Malviya et al. (2024)."""

from __future__ import annotations

import math
import time

import torch
from torch.utils.data import Subset, TensorDataset

from .._common import (
    check_dataset,
    check_forward,
    check_int,
    check_model,
    check_real,
    gather,
    generator,
    resolve_device,
    sample_indices,
    seed_from,
)
from ..defaults import (
    MANIFOLD_ATOL,
    MANIFOLD_BATCH_SIZE,
    MANIFOLD_LR,
    MANIFOLD_MAX_COPIES,
    MANIFOLD_N_COPIES,
    MANIFOLD_N_DIRECTIONS,
    MANIFOLD_N_SAMPLES,
    MANIFOLD_N_STEPS,
    MANIFOLD_N_VERTICES,
    MANIFOLD_RTOL,
    MANIFOLD_VOLUME_WEIGHT,
)
from ._landscape import Landscape
from ._lmc import connect_copies
from ._radius import directional_radii
from ._result import ManifoldSizeResult
from ._simplex import grow_simplex
from ._volume import simplex_log_volume

__all__ = ["manifold_size"]

METHODS = ("simplex", "radius", "lmc")


def manifold_size(model, data, *, method="simplex", n_vertices=MANIFOLD_N_VERTICES,
                  n_directions=MANIFOLD_N_DIRECTIONS, n_copies=MANIFOLD_N_COPIES,
                  rtol=MANIFOLD_RTOL, atol=MANIFOLD_ATOL, n_samples=MANIFOLD_N_SAMPLES,
                  batch_size=MANIFOLD_BATCH_SIZE, n_steps=MANIFOLD_N_STEPS, lr=MANIFOLD_LR,
                  volume_weight=MANIFOLD_VOLUME_WEIGHT, random_state=None,
                  device="auto", forward=None) -> ManifoldSizeResult:
    """Size of the low-loss, linearly connected region of parameter space around a model.

    Meant for comparing expansions of one trained model (wider, deeper, ...): the
    expanded model is the *anchor* ``θ₀`` and a larger manifold of low-loss points
    around it is taken as a sign that the expansion has room to improve.  This is
    **the package's own estimator** in the spirit of Malviya et al. (2024, arXiv
    2405.15895), whose formulas were not available; see ``docs/expansion.rst``.

    A point is *low-loss* when its mean cross-entropy on a fixed sample of ``data``
    is at most ``threshold = (1 + rtol) · L(θ₀) + atol``.  Every loss is measured in
    eval mode after re-estimating the BatchNorm statistics at that point (one pass
    over the sample, as :func:`extractors.mode_connectivity` does), on a private copy
    of the model through :func:`torch.func.functional_call`.  All parameters are
    coordinates.  Three estimators:

    ``"simplex"`` (default)
        Grow a simplex from ``θ₀`` one vertex at a time, ``n_vertices`` in all.  A
        new vertex starts at the centroid of the current ones plus small per-tensor
        noise, and is trained alone for ``n_steps`` SGD steps on the mean loss at
        random convex combinations of all vertices (Dirichlet(1) weights, two per
        step, BatchNorm on batch statistics) minus ``volume_weight`` times the simplex
        log-volume.  It is then placed on the line from the centroid through the
        trained point at the largest scale (doubling, or halving, then bisection on a
        log scale) at which the vertex, the midpoints of its edges and four random
        interior points all stay low-loss; if none does, growth stops.  ``value =
        log_volume / n_vertices`` with ``log_volume = ½ log det G - log k!`` (``G``
        the float64 Gram matrix of the edges from ``θ₀``, via ``slogdet``), i.e. the
        mean log-height of the vertices minus ``log(k!) / k``; ``-inf`` when fewer
        than ``n_vertices`` were accepted.
    ``"radius"``
        Forward passes only.  Along ``n_directions`` random filter-normalised
        directions ``d`` (each filter scaled to the norm of the model's filter,
        biases and BatchNorm parameters left out, Li et al. 2018), the largest ``r``
        with ``θ₀ + r d`` low-loss, by the same line search from ``r = 0.05``.
        ``value`` = mean ``log r`` (``-inf`` if some direction allows no step at all).
    ``"lmc"``
        Fine-tune ``n_copies`` copies of ``θ₀`` (``n_steps`` SGD steps each, their own
        batch orders); a pair is linearly connected when its straight-line loss
        barrier ``max_t [L(t) - ((1-t) L_i + t L_j)]`` (``t`` = 0.25, 0.5, 0.75) is at
        most ``rtol · max(L_i, L_j) + atol``.  ``value`` = fraction of connected
        pairs; ``log_volume`` is that of the simplex spanned by the largest clique of
        pairwise connected copies.

    Parameters
    ----------
    model : torch.nn.Module
        The (expanded) model: a classifier returning ``(batch, classes)`` logits whose
        parameters share one floating dtype.  Not modified.
    data : torch.utils.data.Dataset
        ``(input, label)`` pairs: the training data.
    method : {"simplex", "radius", "lmc"}, default="simplex"
        The estimator.
    n_vertices : int, default=3
        Vertices added to the anchor (``"simplex"``).
    n_directions : int, default=8
        Random directions (``"radius"``).
    n_copies : int, default=4
        Fine-tuned copies, 2 to 16 (``"lmc"``).
    rtol : float, default=0.05
        Relative loss tolerance of the low-loss region (> 0).
    atol : float, default=1e-3
        Absolute loss tolerance added to it, in nats (>= 0).
    n_samples : int, default=1024
        Samples drawn once from ``data`` (all of them when ``data`` is smaller) on
        which every loss is measured and every step is taken.
    batch_size : int, default=128
        Mini-batch size of training steps and of the BatchNorm re-estimate.
    n_steps : int, default=30
        SGD steps (momentum 0.9) per vertex (``"simplex"``) or per copy (``"lmc"``);
        ``0`` skips training.
    lr : float, default=0.05
        Learning rate of those steps (a stable training rate of the model).
    volume_weight : float, default=0.01
        Weight of the log-volume in the vertex objective (``"simplex"``; >= 0).
    random_state : int or None, default=None
        Seed of the sample, the noise, the directions, the batch orders and the
        Dirichlet draws; ``None`` draws a seed from torch's global RNG.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Where to compute; ``"auto"`` picks CUDA when available.
    forward : callable or None, default=None
        ``forward(model, batch) -> (logits, labels)`` for any other model or dataset
        (dict batches, outputs with ``.logits``); ``batch`` is what
        ``torch.utils.data.default_collate`` makes of the samples, on ``device``
        (``docs/extractors.rst``, *Any model, any batch*).

    Returns
    -------
    ManifoldSizeResult
        ``value`` (the score; larger is a larger manifold), ``method``,
        ``log_volume``, ``dimension``, ``n_requested``, ``distances`` (relative to
        ``‖θ₀‖``), ``anchor_loss``, ``threshold``, ``interior_losses``, ``barriers``,
        ``n_evaluations``, ``n_train_steps``, ``n_samples``, ``seconds``.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``method`` is unknown, an argument is out of range, the dataset is empty,
        the output or labels are malformed, the loss at the model is not finite, the
        parameters do not share one floating dtype, or training diverges.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from extractors import manifold_size
    >>> _ = torch.manual_seed(0)
    >>> x = torch.randn(64, 2); y = (x[:, 0] > 0).long()
    >>> model = torch.nn.Linear(2, 2)
    >>> result = manifold_size(model, TensorDataset(x, y), method="radius", n_directions=2,
    ...                        random_state=0, device="cpu")
    >>> result.method, result.dimension, result.value == float(result)
    ('radius', 2, True)
    >>> all(loss <= result.threshold for loss in result.interior_losses)
    True
    """
    started = time.perf_counter()
    check_model(model)
    n = check_dataset(data)
    if not isinstance(method, str):
        raise TypeError(f"expected method to be a str, got {type(method).__name__}.")
    if method not in METHODS:
        raise ValueError(
            f"expected method to be one of {', '.join(map(repr, METHODS))}, got {method!r}."
        )
    n_vertices = check_int(n_vertices, "n_vertices", 1)
    n_directions = check_int(n_directions, "n_directions", 1)
    n_copies = check_int(n_copies, "n_copies", 2)
    if n_copies > MANIFOLD_MAX_COPIES:
        raise ValueError(
            f"expected n_copies <= {MANIFOLD_MAX_COPIES}, got {n_copies}; the largest "
            "clique is found by enumeration, pass fewer copies."
        )
    rtol = check_real(rtol, "rtol", 0.0, strict=True)
    atol = check_real(atol, "atol", 0.0)
    n_samples = check_int(n_samples, "n_samples", 2)
    batch_size = check_int(batch_size, "batch_size", 2)
    n_steps = check_int(n_steps, "n_steps", 0)
    lr = check_real(lr, "lr", 0.0, strict=True)
    volume_weight = check_real(volume_weight, "volume_weight", 0.0)
    if not math.isfinite(rtol + atol + lr + volume_weight):
        raise ValueError("expected finite rtol, atol, lr and volume_weight, got an infinity.")
    batch_format = check_forward(forward)
    seed = seed_from(random_state)
    device = resolve_device(device)

    gen = generator(seed)
    indices = sample_indices(n, n_samples, gen)
    if batch_format.custom:  # the hook reads the dataset's own samples
        sample = Subset(data, indices.tolist())
    else:
        sample = TensorDataset(*gather(data, indices))
    landscape = Landscape(model, sample, batch_size, device, batch_format)
    anchor_loss = landscape.loss(landscape.anchor)
    if not math.isfinite(anchor_loss):
        raise ValueError(
            f"expected a finite loss at the model, got {anchor_loss}; the model produces "
            "non-finite logits (check its parameters and the input normalisation)."
        )
    threshold = (1.0 + rtol) * anchor_loss + atol
    norm = landscape.anchor_norm or 1.0

    def relative(points: torch.Tensor) -> tuple[float, ...]:
        offsets = points.double() - landscape.anchor.double()
        return tuple(float(d) / norm for d in offsets.norm(dim=1))

    barriers = ()
    if method == "simplex":
        outcome = grow_simplex(landscape, n_vertices=n_vertices, threshold=threshold,
                               n_steps=n_steps, lr=lr, volume_weight=volume_weight, gen=gen)
        dimension = outcome.vertices.shape[0] - 1
        log_volume = outcome.log_volume
        value = log_volume / n_vertices if dimension == n_vertices else -math.inf
        distances = relative(outcome.vertices[1:])
        interior = outcome.worst_losses
        requested = n_vertices
    elif method == "radius":
        outcome = directional_radii(landscape, n_directions=n_directions, threshold=threshold,
                                    gen=gen)
        radii = torch.tensor(outcome.radii, dtype=torch.float64)
        value = float(radii.log().mean())
        dimension = int((radii > 0).sum())
        points = torch.cat([landscape.anchor.unsqueeze(0), outcome.boundary_points])
        log_volume = simplex_log_volume(points)
        distances = relative(outcome.boundary_points)
        interior = outcome.losses
        requested = n_directions
    else:
        outcome = connect_copies(landscape, n_copies=n_copies, n_steps=n_steps, lr=lr,
                                 rtol=rtol, atol=atol, gen=gen)
        value = sum(outcome.connected) / len(outcome.connected)
        clique = list(outcome.clique)
        dimension = len(clique) - 1
        log_volume = simplex_log_volume(outcome.copies[clique])
        distances = relative(outcome.copies)
        interior = outcome.losses
        barriers = outcome.barriers
        requested = n_copies
    return ManifoldSizeResult(
        value=float(value), method=method, log_volume=float(log_volume), dimension=dimension,
        n_requested=requested, distances=distances, anchor_loss=anchor_loss,
        threshold=threshold, interior_losses=tuple(interior), barriers=tuple(barriers),
        n_evaluations=landscape.n_evaluations, n_train_steps=landscape.n_train_steps,
        n_samples=len(sample), seconds=time.perf_counter() - started)
