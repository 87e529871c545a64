"""Small frozen result objects returned by the extractors."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

__all__ = [
    "CKAResult",
    "ErrorLossResult",
    "HessianEigenvalueResult",
    "HessianTraceResult",
    "LinearBarrierResult",
    "ModeConnectivityResult",
]


class _FloatResult:
    """Mixin: ``float(result)`` is ``result.value``."""

    def __float__(self) -> float:
        return float(self.value)


@dataclass(frozen=True)
class ErrorLossResult(_FloatResult):
    """Error and loss of one model on a whole dataset.

    Attributes
    ----------
    value : float
        Error in percent, ``100 * (1 - accuracy)`` of the argmax predictions.
    loss : float
        Mean cross-entropy over the dataset.
    n_samples : int
        Number of samples evaluated.
    standard_error : float
        0: the error is exact for the given model and dataset (no randomness).
    """

    value: float
    loss: float
    n_samples: int
    standard_error: float = 0.0


@dataclass(frozen=True)
class HessianTraceResult(_FloatResult):
    """Hutchinson estimate of the trace of the loss Hessian.

    Attributes
    ----------
    value : float
        Mean of the probe values ``vᵀHv`` (the trace estimate).
    standard_error : float
        With one batch, the sample standard deviation of the probe values over
        ``sqrt(n_probes)``: the probe noise of the trace of the drawn batch's Hessian
        (the batch draw itself is not covered); NaN when only one probe was drawn.
        With several batches, the standard deviation of the batches' traces over
        ``sqrt(n_batches)``: the batch draw and the probes.
    n_probes : int
        Number of probes that entered the mean (over all batches).
    n_samples : int
        Size of each batch the Hessian was taken on.
    stopped_by : {"rtol", "target_se", "max_probes"}
        What stopped the probes: the paper's relative-change rule, the precision
        target (``standard_error`` at most the target), or the ``max_probes`` cap (a
        target that was not reached); with several batches, the rule of all of them,
        or ``"max_probes"`` when they differ.
    n_batches : int
        Number of independent batches averaged (1: the paper's single batch).
    """

    value: float
    standard_error: float
    n_probes: int
    n_samples: int
    stopped_by: str = "max_probes"
    n_batches: int = 1


@dataclass(frozen=True)
class HessianEigenvalueResult(_FloatResult):
    """Power-iteration estimate of the top eigenvalue of the loss Hessian.

    Attributes
    ----------
    value : float
        Last Rayleigh quotient.
    n_iter : int
        Number of Hessian-vector products made.
    converged : bool
        Whether the relative-change rule stopped the iteration before ``max_iter``.
    n_samples : int
        Size of the batch the Hessian was taken on.
    standard_error : float
        Convergence error: the residual norm ``||Hv - value v||`` of the last
        (unit) iterate, within which some eigenvalue of the batch's Hessian lies
        (Krylov-Weinstein). Conservative: it reveals a run the relative-change
        rule stopped on a plateau (the error then is about this size), but once
        the iterate has converged the error is nearer ``residual² / gap`` and this
        overstates it (up to 100x on tiny networks). The batch draw is not covered.
    """

    value: float
    n_iter: int
    converged: bool
    n_samples: int
    standard_error: float = math.nan


@dataclass(frozen=True)
class ModeConnectivityResult(_FloatResult):
    """Trained Bezier curve between two models and its errors.

    Attributes
    ----------
    value : float
        Peak: minus the largest train error in percent over ``points`` (≤ 0; the
        paper's ``mode_connectivity_peak``).
    points : tuple of float
        Curve parameters ``t`` that were evaluated.
    errors : tuple of float
        Train error in percent at each point.
    losses : tuple of float
        Mean train cross-entropy at each point.
    middle : Mapping of str to torch.Tensor
        The fitted middle point θ₁, one CPU tensor per parameter name (read-only view);
        left out of ``repr``.
    epochs : int
        Epochs of curve training.
    init : str
        How the middle point started: ``"random"`` or ``"linear"``.
    standard_error : float
        NaN: one curve cannot measure its own training noise; fit several pairs
        (or seeds) and take the spread of their peaks over the square root of
        their number (the featurizer does with ``connectivity_pairs="all"``).
    """

    value: float
    points: tuple[float, ...]
    errors: tuple[float, ...]
    losses: tuple[float, ...]
    middle: Mapping[str, torch.Tensor] = field(repr=False)  # a model's worth of numbers
    epochs: int
    init: str
    standard_error: float = math.nan


@dataclass(frozen=True)
class LinearBarrierResult(_FloatResult):
    """Errors along the straight line between two models.

    Attributes
    ----------
    value : float
        Barrier in percentage points: the largest excess, over ``points``, of the
        train error at ``t`` above the straight interpolation of the end errors,
        ``max_t [err(t) - ((1 - t) err(0) + t err(1))]``.  About 0 when the
        straight path is as good as its ends; large when a ridge separates them.
    peak : float
        Minus the largest train error in percent over ``points`` (the sign
        convention of :class:`ModeConnectivityResult`).
    points : tuple of float
        Interpolation parameters ``t`` that were evaluated (ends excluded).
    errors : tuple of float
        Train error in percent at each point.
    losses : tuple of float
        Mean train cross-entropy at each point.
    end_errors : tuple of float
        Train errors at ``t = 0`` and ``t = 1`` (after the same BatchNorm re-estimate).
    standard_error : float
        0: the line and its errors are deterministic given the two models.
    """

    value: float
    peak: float
    points: tuple[float, ...]
    errors: tuple[float, ...]
    losses: tuple[float, ...]
    end_errors: tuple[float, float]
    standard_error: float = 0.0


@dataclass(frozen=True)
class CKAResult(_FloatResult):
    """Linear CKA similarity of a group of models.

    Attributes
    ----------
    value : float
        Mean CKA over all ordered pairs ``(i, j)``, ``i != j``.
    matrix : tuple of tuple of float
        Pairwise CKA matrix (symmetric, ones on the diagonal); ``as_array()``
        returns it as a NumPy array.
    n_samples : int
        Number of (mixed-up) samples the outputs were taken on.
    estimator : str
        ``"biased"`` or ``"unbiased"``.
    standard_error : float
        Jackknife over the batches: ``value`` recomputed leaving out one batch at
        a time (every pair, so their correlation is kept), the spread of those
        values times ``sqrt((B - 1) / B)``. Covers the batch draw and the mixup
        weights; NaN with one batch.
    """

    value: float
    matrix: tuple[tuple[float, ...], ...]
    n_samples: int
    estimator: str
    standard_error: float = math.nan

    def as_array(self) -> np.ndarray:
        """Return the pairwise matrix as a new ``float64`` NumPy array."""
        return np.array(self.matrix, dtype=np.float64)
