"""plot_fewshot: accuracy against the training draw size k, one curve per method."""

from __future__ import annotations

import numpy as np

from md_sklearn.plotting._common import check_axes

__all__ = ["plot_fewshot"]

#: Keys every point of the few-shot results carries (``python -m benchmarks fewshot``).
POINT_KEYS = ("task", "protocol", "k", "method", "mean", "std")
#: Opacity of the spread bands.
BAND_ALPHA = 0.15


def plot_fewshot(results, *, task=None, protocol=None, methods=None, ax=None,
                 method_labels=None, band="std", show_reference=True):
    """Draw few-shot curves: mean accuracy against k per method, with a spread band.

    Takes the results of ``python -m benchmarks fewshot`` (the JSON it
    writes, loaded, or its list of points) and draws one panel: one task,
    one sampling protocol.

    Parameters
    ----------
    results : dict or list of dict
        The benchmark's JSON payload (a dict with ``"points"`` and,
        optionally, ``"paper"``), or the list of points. Each point has
        ``task``, ``protocol``, ``k``, ``method``, ``mean`` and ``std``, and,
        for ``band="range"``, the per-seed ``scores``.
    task, protocol : str, optional
        Which curves to draw; may be left out when the results hold only one.
    methods : sequence of str, optional
        Methods to draw, in this order (which also fixes their colours
        ``C0``, ``C1`` ...); default: all, in order of appearance.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    method_labels : mapping, optional
        Method -> legend label; methods left out are shown by their key.
    band : {"std", "range", None}, default="std"
        Shaded spread around each curve: mean ± std, the range (min to max)
        of the per-seed scores, or none.
    show_reference : bool, default=True
        Mark the published reference point (the payload's ``"paper"`` entry:
        ``task``, ``protocol``, ``k``, ``method``, ``accuracy``) as a star when
        it belongs to this panel.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: one line per method (labelled for the legend; no
        legend is drawn, so panels can share one) and one band per method.

    Raises
    ------
    TypeError
        If ``results`` is neither a dict with ``"points"`` nor a list of
        dicts, or ``ax`` is not an Axes.
    ValueError
        If a point lacks a key, the results hold several tasks or protocols
        and none was chosen, the choice matches no point, ``methods`` names
        a method absent from the panel, or ``band`` is unknown.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")  # draw off-screen
    >>> import matplotlib.pyplot as plt
    >>> from md_sklearn.plotting import plot_fewshot
    >>> points = [
    ...     {"task": "q1", "protocol": "random", "k": k, "method": m, "mean": mean, "std": 2.0}
    ...     for m, means in {"md_tree": (76.6, 87.7), "validation_dt": (60.1, 72.8)}.items()
    ...     for k, mean in zip((1, 8), means)
    ... ]
    >>> ax = plot_fewshot(points, method_labels={"md_tree": "MD tree"})
    >>> [(line.get_label(), line.get_ydata().tolist()) for line in ax.get_lines()]
    [('MD tree', [76.6, 87.7]), ('validation_dt', [60.1, 72.8])]
    >>> plt.close(ax.figure)
    """
    check_axes(ax)
    if band not in ("std", "range", None):
        raise ValueError(f"expected band to be 'std', 'range' or None, got {band!r}.")
    points, reference = _check_results(results)
    task = _choose(points, "task", task)
    protocol = _choose([p for p in points if p["task"] == task], "protocol", protocol)
    panel = [p for p in points if p["task"] == task and p["protocol"] == protocol]
    present = list(dict.fromkeys(p["method"] for p in panel))
    if methods is None:
        methods = present
    else:
        methods = list(methods)
        missing = [m for m in methods if m not in present]
        if missing:
            raise ValueError(
                f"expected methods among those in the results for {task}/{protocol} "
                f"{present}, got {missing}."
            )
    labels = dict(method_labels or {})
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.5, 4.2))

    for i, method in enumerate(methods):
        rows = sorted((p for p in panel if p["method"] == method), key=lambda p: p["k"])
        k = np.array([p["k"] for p in rows], dtype=float)
        mean = np.array([p["mean"] for p in rows], dtype=float)
        (line,) = ax.plot(k, mean, marker="o", markersize=3, linewidth=1.5, color=f"C{i % 10}",
                          label=labels.get(method, method))
        if band is not None:
            low, high = _band(rows, mean, band)
            ax.fill_between(k, low, high, color=line.get_color(), alpha=BAND_ALPHA, linewidth=0)
    if show_reference and reference is not None and (
        reference.get("task"), reference.get("protocol")
    ) == (task, protocol):
        name = labels.get(reference.get("method"), reference.get("method"))
        ax.plot(reference["k"], reference["accuracy"], marker="*", markersize=13,
                markerfacecolor="none", markeredgecolor="black", linestyle="none", zorder=5,
                label=f"paper: {name}, k = {reference['k']} ({reference['accuracy']:.2f} %)")
    ax.set_xlabel("k")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"{task}, {protocol}")
    ax.grid(alpha=0.3)
    return ax


def _check_results(results):
    """The list of points and the reference point (or None) of a payload or list."""
    reference = None
    if isinstance(results, dict):
        if "points" not in results:
            raise TypeError(
                f"expected the few-shot results (a dict with 'points', as written by python -m "
                f"benchmarks fewshot) or a list of points, got a dict with keys "
                f"{sorted(results)[:8]}."
            )
        reference = results.get("paper")
        points = results["points"]
    else:
        points = results
    if not isinstance(points, (list, tuple)) or not all(isinstance(p, dict) for p in points):
        raise TypeError(
            f"expected the few-shot points as a list of dicts, got {type(points).__name__}; "
            f"load the benchmark's JSON with json.load first."
        )
    for i, point in enumerate(points):
        missing = [key for key in POINT_KEYS if key not in point]
        if missing:
            raise ValueError(
                f"expected every point to have keys {list(POINT_KEYS)}, got point {i} without "
                f"{missing}."
            )
    if not points:
        raise ValueError("expected at least one few-shot point, got none.")
    return list(points), reference


def _choose(points, key, value):
    """``value`` if some point has it; the only value present when ``value`` is None."""
    present = list(dict.fromkeys(p[key] for p in points))
    if value is None:
        if len(present) > 1:
            raise ValueError(
                f"expected one {key} in the results or {key}= to choose, got several: "
                f"{present}; pass e.g. {key}={present[0]!r}."
            )
        return present[0]
    if value not in present:
        raise ValueError(f"expected {key} among {present}, got {value!r}.")
    return value


def _band(rows, mean, band):
    if band == "std":
        std = np.array([p["std"] for p in rows], dtype=float)
        return mean - std, mean + std
    if not all("scores" in p for p in rows):
        raise ValueError(
            "expected per-seed 'scores' in every point for band='range', got points without "
            "them; use band='std'."
        )
    return (np.array([np.nanmin(p["scores"]) for p in rows], dtype=float),
            np.array([np.nanmax(p["scores"]) for p in rows], dtype=float))
