"""Log-volume of a simplex in parameter space, in float64."""

from __future__ import annotations

import math

import torch

__all__ = ["edges_log_volume", "simplex_log_volume"]


def edges_log_volume(edges: torch.Tensor) -> torch.Tensor:
    """Log-volume of the simplex spanned by ``k`` edge vectors from one vertex.

    ``½ log det G - log k!`` with ``G = E Eᵀ`` the Gram matrix of the rows of ``edges``
    (shape ``(k, P)``), computed in float64 with :func:`torch.linalg.slogdet`;
    differentiable.  ``½ log det G`` equals the sum of the log-heights of the vertices
    over the span of the previous edges (Gram-Schmidt), so the value is ``-inf`` for a
    degenerate simplex and ``0`` for ``k = 0`` (a point).

    Parameters
    ----------
    edges : torch.Tensor of shape (k, P)
        Edge vectors ``v_i - v_0``.

    Returns
    -------
    torch.Tensor
        A float64 scalar.

    Examples
    --------
    >>> import math, torch
    >>> from extractors._manifold._volume import edges_log_volume
    >>> math.isclose(float(edges_log_volume(torch.eye(3))), -math.log(6))
    True
    """
    k = edges.shape[0]
    if k == 0:
        return torch.zeros((), dtype=torch.float64, device=edges.device)
    edges = edges.to(torch.float64)
    gram = edges @ edges.T
    sign, logabsdet = torch.linalg.slogdet(gram)
    if float(sign.detach()) <= 0:
        return torch.full((), -math.inf, dtype=torch.float64, device=edges.device)
    return 0.5 * logabsdet - math.lgamma(k + 1)


def simplex_log_volume(vertices: torch.Tensor) -> float:
    """Log of the ``k``-dimensional volume of the simplex with ``k + 1`` vertices.

    Parameters
    ----------
    vertices : torch.Tensor of shape (k + 1, P)
        One vertex per row (flat parameter vectors), ``k + 1 >= 1``.

    Returns
    -------
    float
        ``½ log det G - log k!`` (see :func:`edges_log_volume`); ``-inf`` for a
        degenerate simplex.

    Examples
    --------
    >>> import math, torch
    >>> from extractors._manifold._volume import simplex_log_volume
    >>> right = torch.cat([torch.zeros(1, 2), 2 * torch.eye(2)])  # legs of length 2
    >>> round(math.exp(simplex_log_volume(right)), 12)  # area ½ · 2 · 2
    2.0
    """
    vertices = vertices.detach().to(torch.float64)
    return float(edges_log_volume(vertices[1:] - vertices[:1]))
