"""Few-shot curves of the MD tree paper: test accuracy vs training draw size k (Q1, Q2).

For each task (Q1 ``bs_failure``, Q2 ``width_vs_batch``), each sampling protocol
(``random`` k = 1 ... 24 (data, width) combinations, ``data_limit`` k = 1 ... 10,
``width_limit`` k over the 13 widths) and each method, the training set is drawn
from the clean collection once per repetition seed and the method is scored on
the whole noisy collection (paper-protocol.md §3 and §5). Writes the curves as
JSON and, when matplotlib is installed, one PNG figure per task.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import STARTED_AT
from benchmarks._evaluate import load_transfer_tables, random_state_for, score_seed
from benchmarks._tableb import LABELS, METHOD_TITLES, METHODS
from md_sklearn._protocol import DATA_LEVELS, PAPER_SEEDS, WIDTHS

TASKS = ("q1", "q2_width")
TASK_TITLES = {"q1": "Q1: temperature too small or too large",
               "q2_width": "Q2: model width or optimizer"}

#: Sample factors k of each protocol. Source: paper-protocol.md §5 (random: 1 ... 24;
#: data_limit: 1 ... 10; width_limit: the widths of the grid).
PROTOCOLS = {
    "random": tuple(range(1, 25)),
    "data_limit": DATA_LEVELS,
    "width_limit": WIDTHS,
}
PROTOCOL_AXES = {
    "random": "k = (data, width) combinations drawn",
    "data_limit": "k = data level limit (k × 10 % of CIFAR-10)",
    "width_limit": "k = width limit",
}

DEFAULT_METHODS = ("md_tree", "md_tree_exhaustive", "landscape_dt", "validation_dt",
                   "hyperparameter_dt")

#: The paper's few-shot figure: Q1, random draws, k = 1 (12 models), MD tree reaches
#: 76.64 % test accuracy. Source: paper-protocol.md §5.
PAPER_POINT = {"task": "q1", "protocol": "random", "k": 1, "method": "md_tree",
               "accuracy": 76.64}

DEFAULT_JSON = os.path.join("benchmark-results", "fewshot.json")
DEFAULT_PLOTS = "benchmark-results"


def run(data_home=None, methods=DEFAULT_METHODS, tasks=TASKS, protocols=None,
        seeds=PAPER_SEEDS):
    """Every point of the few-shot curves, as a list of dicts.

    Parameters
    ----------
    data_home : str, optional
        Folder holding the published CSVs (default: ``MD_SKLEARN_DATA`` or the cache).
    methods : sequence of str
        Keys of ``benchmarks._tableb.METHODS``.
    tasks : sequence of str
        Keys of ``benchmarks._tableb.LABELS``.
    protocols : dict, optional
        Protocol -> sequence of k (default :data:`PROTOCOLS`).
    seeds : sequence of int
        Repetition seeds.

    Returns
    -------
    list of dict
        One dict per (task, protocol, k, method) with ``mean`` and ``std``
        (ddof 0, percent), per-seed ``scores`` and ``n_train``, and ``mean_n_train``.
    """
    protocols = PROTOCOLS if protocols is None else protocols
    prepared = load_transfer_tables(data_home)
    return [point for task in tasks for protocol, ks in protocols.items() for k in ks
            for point in _score_point(task, protocol, k, methods, *prepared[task], seeds)]


def _score_point(task, protocol, k, methods, X, y, groups, seeds):
    """Every method at one (task, protocol, k)."""
    cache = {}  # the *_limit draws repeat across seeds; MD tree needs one fit for them
    return [_summarise(task, protocol, k, method,
                       [score_seed(method, task, protocol, k, X, y, groups, seed,
                                   random_state_for(method, seed), cache=cache)
                        for seed in seeds])
            for method in methods]


def _summarise(task, protocol, k, method, results):
    scores = np.array([r.score for r in results])
    n_train = [r.n_train for r in results]
    return {
        "task": task, "label": LABELS[task], "protocol": protocol, "k": int(k), "method": method,
        "mean": float(np.mean(scores)), "std": float(np.std(scores)),
        "scores": scores.tolist(), "seeds": [r.seed for r in results],
        "n_train": n_train, "mean_n_train": float(np.mean(n_train)),
    }


def write_json(points, path, seconds=None, seeds=PAPER_SEEDS):
    """Write the curves to ``path`` atomically (a temporary file, then a rename).

    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "seeds": list(seeds),
        "tasks": {task: LABELS[task] for task in dict.fromkeys(p["task"] for p in points)},
        "protocols": {protocol: sorted({p["k"] for p in points if p["protocol"] == protocol})
                      for protocol in dict.fromkeys(p["protocol"] for p in points)},
        "methods": list(dict.fromkeys(p["method"] for p in points)),
        "paper": PAPER_POINT,
        "points": points,
        "seconds": seconds,
    }
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent,
                                         prefix=f".{path.name}.", delete=False)
    try:
        with handle:
            json.dump(payload, handle, indent=2, allow_nan=False)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(handle.name, 0o666 & ~umask)  # a temporary file is created owner-only
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise
    return path


def plot(points, folder):
    """One PNG per task (a panel per protocol, a line per method, ±std shaded).

    Each panel is drawn by :func:`md_sklearn.plotting.plot_fewshot`. Returns the
    paths written; an empty list (and a note) when matplotlib is missing.
    """
    try:
        import matplotlib
    except ImportError:
        print("note: matplotlib is not installed, so no figures were drawn "
              "(pip install 'md-sklearn[plot]').")
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from md_sklearn.plotting import plot_fewshot

    results = {"points": points, "paper": PAPER_POINT}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for task in dict.fromkeys(p["task"] for p in points):
        protocols = list(dict.fromkeys(p["protocol"] for p in points if p["task"] == task))
        fig, axes = plt.subplots(1, len(protocols), figsize=(5.2 * len(protocols), 4.6),
                                 sharey=True, squeeze=False)
        for ax, protocol in zip(axes[0], protocols):
            plot_fewshot(results, task=task, protocol=protocol, ax=ax,
                         method_labels=METHOD_TITLES)
            _style_panel(ax, protocol, sorted({p["k"] for p in points
                                               if p["task"] == task
                                               and p["protocol"] == protocol}))
        axes[0][0].set_ylabel("test accuracy on the noisy collection (%)")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
        fig.suptitle(f"{TASK_TITLES.get(task, task)} ({LABELS[task]}): few-shot curves, "
                     f"mean ± std over {len(points[0]['seeds'])} seeds")
        fig.tight_layout(rect=(0, 0.07, 1, 1))
        path = folder / f"fewshot_{task}.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    return written


def _style_panel(ax, protocol, ks):
    """The benchmark's axis text: protocol as title, k explained, widths on a log2 axis."""
    if protocol == "width_limit":
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks, [str(k) for k in ks], fontsize=7)
        ax.minorticks_off()
    ax.set_xlabel(PROTOCOL_AXES.get(protocol, "k"))
    ax.set_ylabel("")
    ax.set_title(protocol)


def format_table(points):
    """Means per (task, protocol, k) and method; ``—`` where some seed could not be fitted."""
    methods = list(dict.fromkeys(p["method"] for p in points))
    width = 12
    header = f"{'task':<9}{'protocol':<12}{'k':>4}{'n_train':>9}" + "".join(
        f"{_short(m):>{width}}" for m in methods)
    lines = [header]
    by_key = {}
    for p in points:
        by_key.setdefault((p["task"], p["protocol"], p["k"]), {})[p["method"]] = p
    for (task, protocol, k), row in by_key.items():
        first = next(iter(row.values()))
        cells = []
        for method in methods:
            p = row.get(method)
            if p is None:
                cells.append(f"{'':>{width}}")
            else:
                cells.append(f"{p['mean']:>{width}.2f}")
        lines.append(f"{task:<9}{protocol:<12}{k:>4}{first['mean_n_train']:>9.1f}"
                     + "".join(cells))
    return "\n".join(lines)


def _short(method):
    return {"md_tree": "MDtree", "md_tree_exhaustive": "MDtree-exh", "landscape_dt": "LL+DT",
            "validation_dt": "Val+DT", "hyperparameter_dt": "Hyper+DT",
            "hyper_validation_dt": "HypVal+DT"}.get(method, method)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks fewshot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", metavar="PATH", default=DEFAULT_JSON,
                        help=f"where to write the curves (default: {DEFAULT_JSON})")
    parser.add_argument("--plots", metavar="DIR", default=DEFAULT_PLOTS,
                        help=f"folder for fewshot_<task>.png (default: {DEFAULT_PLOTS}/)")
    parser.add_argument("--methods", nargs="+", metavar="METHOD", choices=METHODS,
                        default=list(DEFAULT_METHODS),
                        help=f"subset of {list(METHODS)} (default: {list(DEFAULT_METHODS)})")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    parser.add_argument("--data-home", metavar="DIR", help="folder holding the published CSVs")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    points = run(args.data_home, methods=list(dict.fromkeys(args.methods)))
    seconds = time.perf_counter() - start
    print("Few-shot curves (test accuracy on the noisy collection, percent; mean over seeds "
          f"{list(PAPER_SEEDS)})")
    print(format_table(points))
    _print_paper_check(points)
    path = write_json(points, args.json, seconds=time.perf_counter() - STARTED_AT)
    print(f"wrote {path}")
    if not args.no_plots:
        for figure in plot(points, args.plots):
            print(f"wrote {figure}")
    total = time.perf_counter() - STARTED_AT
    print(f"\nwall time: {seconds:.2f} s for the benchmark, {total:.2f} s including imports "
          "and output")
    return 0


def _print_paper_check(points):
    key = (PAPER_POINT["task"], PAPER_POINT["protocol"], PAPER_POINT["k"], PAPER_POINT["method"])
    match = [p for p in points if (p["task"], p["protocol"], p["k"], p["method"]) == key]
    if match:
        ours = match[0]["mean"]
        verdict = "reproduced" if round(ours, 2) == PAPER_POINT["accuracy"] else "NOT reproduced"
        print(f"\npaper check, Q1 random k = 1 MD tree: ours {ours:.4f} %, paper "
              f"{PAPER_POINT['accuracy']:.2f} % -> {verdict} (to 2 decimals)")


if __name__ == "__main__":
    sys.exit(main())
