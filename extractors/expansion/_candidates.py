"""Sets of expansion candidates of one model: wider, deeper, and wider-vs-deeper pairs."""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable

from torch import nn

from .._common import check_int, check_model, check_real, seed_from
from ._checks import WIDENABLE, check_choice, check_factor
from ._deepen import DEEPEN_METHODS, deepen
from ._graph import NoConsumerError, activation_site, widen_plan
from ._widen import WIDEN_METHODS, widen

DEFAULT_COPY_NOISE = 0.01
"""Relative noise ``expansion_candidates`` adds to copied units when ``noise=None`` and
``widen_method="copy"``.  Our choice (Net2Net adds "a small amount" of noise without a fixed
value): exact copies receive identical gradients and would never separate in fine-tuning."""

_MAX_FACTOR = 1024.0
"""Largest width factor tried when matching a parameter count."""


def parameter_count(model):
    """Number of parameters of ``model``; a parameter shared by several modules counts once.

    Trainable and frozen parameters both count; buffers (e.g. BatchNorm running
    statistics) do not.

    Parameters
    ----------
    model : torch.nn.Module
        The network.

    Returns
    -------
    int
        ``sum(p.numel() for p in model.parameters())``.

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module``.

    Examples
    --------
    >>> from torch import nn
    >>> from extractors.expansion import parameter_count
    >>> parameter_count(nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)))
    21
    """
    check_model(model)
    return sum(parameter.numel() for parameter in model.parameters())


def expansion_candidates(model, *, widths=(1.5, 2, 4), depths=(1, 2), equal_parameter_pairs=True,
                         widen_method="copy", noise=None, deepen_method="identity",
                         parameter_tolerance=0.05, random_state=None):
    """Build wider and deeper versions of ``model``, and wider-vs-deeper pairs of equal size.

    The *hidden layers* are the Linear/Conv2d layers that have a consumer (every one but
    the output layer), in ``named_modules()`` order: for an ``nn.Sequential`` MLP
    ``Flatten -> Linear -> ReLU -> ... -> Linear`` every Linear but the last, for
    :class:`md_sklearn.models.SmallCNN` its three convolutions.  The candidates, all
    computing the function of ``model`` (up to the noise on copies):

    - ``"wider_x{f:g}"`` for each ``f`` in ``widths``: every hidden layer of width ``n``
      widened to ``round(f * n)`` units with :func:`widen` (halves rounded up); for a
      SmallCNN of width ``w`` and an integer ``f * w`` this has the shape of
      ``small_cnn(f * w)``.
    - ``"deeper_+{d}"`` for each ``d`` in ``depths``: ``d`` new layers inserted with
      :func:`deepen`, one after each of the last ``d`` hidden activations (the ReLUs after
      the hidden layers, last first); when ``d`` exceeds their number the insertion
      starts again from the last one, stacking layers there.
    - ``"wider_matching_deeper_+{d}"`` for each ``d`` (when ``equal_parameter_pairs``):
      the model with every hidden layer widened by one common factor ``f >= 1``, chosen
      among all factors so that its parameter count is the closest to that of
      ``"deeper_+{d}"`` (widths are integers, so equality is rarely possible).  If the
      relative difference exceeds ``parameter_tolerance`` a ``ValueError`` says so.

    Random choices of each candidate (units to copy, noise, fresh weights) come from
    ``random_state`` and the candidate's name, so a candidate does not depend on which
    other candidates are requested.  ``model`` is not modified.

    Parameters
    ----------
    model : torch.nn.Module
        The network, with at least one hidden Linear/Conv2d layer; see :func:`widen` and
        :func:`deepen` for the structures they support.
    widths : iterable of float, default=(1.5, 2, 4)
        Width factors (>= 1).
    depths : iterable of int, default=(1, 2)
        Numbers of layers to insert (>= 1).
    equal_parameter_pairs : bool, default=True
        Also build a wider model matching the parameter count of each deeper one.
    widen_method : {"copy", "zero"}, default="copy"
        ``method`` of :func:`widen`.
    noise : float or None, default=None
        ``noise`` of :func:`widen`; ``None`` means ``0.01`` with ``widen_method="copy"``
        (to break the symmetry of copies) and ``0`` with ``"zero"``.  Pass ``noise=0`` for
        exactly function-preserving copies.
    deepen_method : {"identity", "residual"}, default="identity"
        ``method`` of :func:`deepen`.
    parameter_tolerance : float, default=0.05
        Largest accepted ``|count(wider) - count(deeper)| / count(deeper)`` of a pair.
    random_state : int or None, default=None
        Seed of all random choices; ``None`` draws one from torch's global generator.

    Returns
    -------
    dict of str to torch.nn.Module
        The candidates, in the order listed above.

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module`` or an argument has the wrong type.
    ValueError
        If the model has no hidden Linear/Conv2d layer or a structure :func:`widen` or
        :func:`deepen` does not support, an argument is out of range, two entries of
        ``widths`` or ``depths`` give the same name, or no widened model is within
        ``parameter_tolerance`` of a deeper one.

    Examples
    --------
    >>> from torch import nn
    >>> from extractors.expansion import expansion_candidates, parameter_count
    >>> mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 16),
    ...                     nn.ReLU(), nn.Linear(16, 10))
    >>> candidates = expansion_candidates(mlp, random_state=0)
    >>> parameter_count(mlp)
    1482
    >>> for name, candidate in candidates.items():
    ...     print(name, parameter_count(candidate))
    wider_x1.5 2410
    wider_x2 3466
    wider_x4 8970
    deeper_+1 1754
    deeper_+2 2026
    wider_matching_deeper_+1 1702
    wider_matching_deeper_+2 2047
    """
    check_model(model)
    widths = tuple(check_factor(f) for f in _sequence(widths, "widths"))
    depths = tuple(check_int(d, "each entry of depths", 1) for d in _sequence(depths, "depths"))
    if not isinstance(equal_parameter_pairs, bool):
        raise TypeError(f"expected equal_parameter_pairs to be a bool, got "
                        f"{type(equal_parameter_pairs).__name__}.")
    widen_method = check_choice(widen_method, "widen_method", WIDEN_METHODS)
    deepen_method = check_choice(deepen_method, "deepen_method", DEEPEN_METHODS)
    if noise is None:
        noise = DEFAULT_COPY_NOISE if widen_method == "copy" else 0.0
    parameter_tolerance = check_real(parameter_tolerance, "parameter_tolerance", 0.0)
    seed = seed_from(random_state)
    names = [f"wider_x{f:g}" for f in widths] + [f"deeper_+{d}" for d in depths]
    if len(set(names)) != len(names):
        raise ValueError(f"expected distinct widths and depths, got the names {names}; drop "
                         "the repeated entries.")

    layers = _hidden_layers(model)
    widen_settings = {"method": widen_method, "noise": noise}
    candidates = {}
    for factor, name in zip(widths, names):
        candidates[name] = _widen_all(model, layers, factor, widen_settings, seed, name)
    relus = [activation_site(model, layer).relu for layer in layers] if depths else []
    for d in depths:
        name = f"deeper_+{d}"
        candidates[name] = _deepen_times(model, relus, d, deepen_method, seed, name)
    if equal_parameter_pairs:
        for d in depths:
            name = f"wider_matching_deeper_+{d}"
            target = parameter_count(candidates[f"deeper_+{d}"])
            factor = _matching_factor(model, layers, target)
            wider = _widen_all(model, layers, factor, widen_settings, seed, name)
            gap = abs(parameter_count(wider) - target) / target
            if gap > parameter_tolerance:
                raise ValueError(
                    f"expected a widened model within parameter_tolerance="
                    f"{parameter_tolerance} of the {target} parameters of 'deeper_+{d}', got "
                    f"at best {parameter_count(wider)} ({gap:.1%} away); pass a larger "
                    "parameter_tolerance or equal_parameter_pairs=False."
                )
            candidates[name] = wider
    return candidates


def _sequence(values, name: str) -> tuple:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"expected {name} to be a sequence of numbers, got "
                        f"{type(values).__name__}; pass e.g. {name}=(1, 2).")
    return tuple(values)


def _hidden_layers(model: nn.Module) -> list[str]:
    layers = []
    for name, module in model.named_modules():
        if isinstance(module, WIDENABLE):
            try:
                widen_plan(model, name)
            except NoConsumerError:
                continue
            layers.append(name)
    if not layers:
        raise ValueError(
            f"expected a model with at least one hidden Linear or Conv2d layer, got "
            f"{type(model).__name__} with none; candidates widen and deepen hidden layers."
        )
    return layers


def _sub_seed(seed: int, name: str, step: int) -> int:
    """A seed for one step of one candidate: the same whatever else is built."""
    return (seed * 1_000_003 + zlib.crc32(f"{name}/{step}".encode())) % 2**63


def _widen_all(model, layers, factor, settings, seed, name):
    new = model
    for step, layer in enumerate(layers):
        new = widen(new, layer, factor, random_state=_sub_seed(seed, name, step), **settings)
    return new


def _deepen_times(model, relus, times, method, seed, name):
    current = {relu: relu for relu in relus}  # where each original ReLU is now
    new = model
    for step in range(times):
        relu = relus[-1 - step % len(relus)]
        new = deepen(new, current[relu], method=method, random_state=_sub_seed(seed, name, step))
        current[relu] += ".0"
    return new


def _matching_factor(model, layers, target: int) -> float:
    """The common width factor whose widened model has the parameter count closest to
    ``target`` (ties: the smaller model); the count never decreases with the factor."""
    counts = {}

    def count(factor):
        if factor not in counts:
            settings = {"method": "zero", "noise": 0.0}
            counts[factor] = parameter_count(_widen_all(model, layers, factor, settings, 0, ""))
        return counts[factor]

    high = 2.0
    while count(high) < target:
        high *= 2
        if high > _MAX_FACTOR:
            raise ValueError(f"expected a widened model with {target} parameters within a "
                             f"width factor of {_MAX_FACTOR:g}, got none.")
    widths = [widen_plan(model, layer).width for layer in layers]
    # A layer of width n has k units for factors in [(k - 0.5) / n, (k + 0.5) / n): one
    # factor inside each interval between consecutive breakpoints covers every width vector.
    breakpoints = sorted({1.0, high} | {(k - 0.5) / n for n in widths
                                        for k in range(n + 1, math.floor(high * n + 0.5) + 1)})
    factors = [1.0] + [(a + b) / 2 for a, b in zip(breakpoints, breakpoints[1:])] + [high]
    low, high_index = 0, len(factors) - 1  # count(factors[low]) < target <= count(high)
    while high_index - low > 1:
        middle = (low + high_index) // 2
        if count(factors[middle]) >= target:
            high_index = middle
        else:
            low = middle
    below, above = factors[low], factors[high_index]
    return below if target - count(below) <= count(above) - target else above
