"""The result of :func:`extractors.manifold_size`."""

from __future__ import annotations

from dataclasses import dataclass

from .._results import _FloatResult

__all__ = ["ManifoldSizeResult"]


@dataclass(frozen=True)
class ManifoldSizeResult(_FloatResult):
    """Size of the low-loss region (minima manifold) around a model.

    Attributes
    ----------
    value : float
        The score; larger means a larger manifold.  ``"simplex"``: ``log_volume /
        n_requested`` when every vertex was accepted, ``-inf`` when growth stopped
        early.  ``"radius"``: mean natural log of the radii (in units of the
        filter-normalised directions); ``-inf`` when some direction allowed no step at
        all.  ``"lmc"``: fraction of the pairs of fine-tuned copies that are linearly
        connected, in ``[0, 1]``.
    method : str
        ``"simplex"``, ``"radius"`` or ``"lmc"``.
    log_volume : float
        Natural log of the ``dimension``-dimensional volume of the simplex spanned by
        the accepted points, in parameter space (``½ log det G - log k!`` of the Gram
        matrix ``G`` of its edge vectors, float64): the anchor and the accepted
        vertices (``"simplex"``); the anchor and the boundary point of every direction
        (``"radius"``); the copies of the largest connected clique (``"lmc"``).
        ``-inf`` for a degenerate simplex, ``0`` for a single point.
    dimension : int
        Accepted vertices (``"simplex"``), directions with a positive radius
        (``"radius"``), or the size of the largest connected clique minus one
        (``"lmc"``).
    n_requested : int
        Vertices, directions or copies that were asked for.
    distances : tuple of float
        Distance of every vertex, boundary point or copy from the anchor, divided by
        the anchor's norm ``‖θ₀‖``.
    anchor_loss : float
        Mean cross-entropy at the model itself (BatchNorm statistics re-estimated).
    threshold : float
        Loss limit of the low-loss region: ``(1 + rtol) · anchor_loss + atol``.
        (``"lmc"`` judges each pair against its own ends; see ``barriers``.)
    interior_losses : tuple of float
        ``"simplex"``: per accepted vertex, the largest loss over the points checked
        at its accepted position (the vertex, edge midpoints, random interior points).
        ``"radius"``: the loss at the accepted radius of every direction (NaN where no
        step passed).  ``"lmc"``:
        the loss of every fine-tuned copy.
    barriers : tuple of float
        ``"lmc"`` only: per pair ``(i, j)``, ``i < j`` in lexicographic order, the loss
        barrier ``max_t [L(t) - ((1 - t) L_i + t L_j)]`` on the straight line.
        Empty for the other methods.
    n_evaluations : int
        Loss evaluations made (each one pass over the sample, plus one for the
        BatchNorm re-estimate when the model has BatchNorm layers).
    n_train_steps : int
        Gradient steps made (vertex training or fine-tuning).
    n_samples : int
        Size of the data sample every loss was measured on.
    seconds : float
        Wall time of the call.
    """

    value: float
    method: str
    log_volume: float
    dimension: int
    n_requested: int
    distances: tuple[float, ...]
    anchor_loss: float
    threshold: float
    interior_losses: tuple[float, ...]
    barriers: tuple[float, ...]
    n_evaluations: int
    n_train_steps: int
    n_samples: int
    seconds: float
