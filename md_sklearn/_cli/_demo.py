"""``md-sklearn demo``: the whole method on scikit-learn's digits, with no download.

Trains a clean and a 10 %-label-noise collection of small CNNs, computes their
loss-landscape features, fits MD tree on the clean collection (few-shot, as the
paper) and diagnoses the noisy one, against DecisionTree baselines.
"""

from __future__ import annotations

import functools
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from md_sklearn._protocol import (
    LABEL_COLUMNS,
    METHOD_TITLES,
    TIE_LABEL,
    decided_classes,
    make_pipeline,
    method_features,
)
from md_sklearn._tree._bounds import bounds_from_data
from md_sklearn._utils._atomic import write_atomic, write_json_atomic


@dataclass(frozen=True)
class DemoGrid:
    """Grid and budgets of one demo size (our choices, measured on a 2-core CPU)."""

    widths: tuple
    batch_sizes: tuple
    data_fractions: tuple
    seeds: tuple
    #: Epochs on the full training set (fewer data train proportionally longer).
    epochs: int
    #: Constant SGD learning rate. 0.2 rather than the paper's 0.05: at the digits'
    #: scale it is what makes both batch-size failures appear inside the grid (at 0.05
    #: "batch size too small" shows only at the grid's edge).
    lr: float
    #: Epochs of the connectivity curve fit (the paper: 50 on CIFAR-10).
    curve_epochs: int


DEMO_GRIDS = {
    # The validation study's digits recipe (benchmarks/study/_grid.py, docs/study.rst) at a
    # smaller size: lr 0.2, a budget long enough that wide small-batch clean models
    # interpolate (30 epochs: width 16 reaches 99.9 % train accuracy after 20), 3 seeds.
    # Converged digits CNNs differ by less than their seed noise at most batch sizes, so
    # most configurations are ties; the quick grid spans the batch sizes (16 to 1024,
    # where 1024 gets 2 steps an epoch) to keep some decided labels, and stays a check
    # of the pipeline: measured, it keeps 1 decided Q1 configuration per collection.
    "full": DemoGrid(widths=(2, 4, 8, 16), batch_sizes=(16, 32, 64, 128, 256, 512),
                     data_fractions=(0.5, 1.0), seeds=(0, 1, 2), epochs=30, lr=0.2,
                     curve_epochs=50),
    "quick": DemoGrid(widths=(2, 8), batch_sizes=(16, 64, 256, 1024), data_fractions=(1.0,),
                      seeds=(0, 1, 2), epochs=30, lr=0.2, curve_epochs=20),
}
#: Label noise of the second collection (the paper's noisy collection: 10 %).
DEMO_LABEL_NOISE = 0.1
#: Seed of the digits split, the label noise and the metrics' random draws.
DEMO_SEED = 0
#: The features computed for every group (the Q1 tree, its CKA variant, the baselines).
DEMO_METRICS = ("train_error", "train_loss", "mode_connectivity_peak", "hessian_t", "CKA")
#: Number of example diagnoses printed in words.
DEMO_EXAMPLES = 3
#: Bootstrap resamples of the accuracy intervals and the paired comparison.
DEMO_BOOTSTRAP = 10_000
#: Standard errors of a difference of two configuration means below which two rooms
#: for improvement are a tie (labels.seed_tolerance; the study's rule).
DEMO_TOLERANCE_Z = 1.96
#: Fewest test configurations a verdict is drawn from (our choice): a bootstrap interval
#: over n configurations takes only n + 1 values, so below this the demo compares nothing.
DEMO_MIN_TEST = 10
#: What the full validation study found (docs/study.rst), quoted when the demo's own
#: interval cannot separate the methods.
STUDY_RESULT = (
    "The full validation study (python -m benchmarks study; docs/study.rst: 90 "
    "configurations x 4 seeds per collection on digits and MNIST-1D) found no general "
    "advantage: MD tree (Brent) minus the best DecisionTree baseline was +31.2 points "
    "[+12.5, +47.5] on digits Q1 (fitted on only 4 decided configurations), -24.2 "
    "[-34.2, -14.7] on MNIST-1D Q1, and inconclusive on both Q2 cases.")
#: The baselines MD tree is compared with (Table B's four DecisionTree methods).
DEMO_BASELINES = ("hyperparameter_dt", "validation_dt", "landscape_dt", "hyper_validation_dt")


def run_demo(output="md-demo", *, quick=False, grid=None, n_jobs=-1, progress=True, plots=True,
             device="auto", stream=None) -> dict:
    """Run the digits demo and return its summary (also written to ``summary.json``).

    Parameters
    ----------
    output : str or os.PathLike, default="md-demo"
        Folder for the collections, the feature cache, the fitted trees, the
        figures and ``summary.json``. Everything is cached: a rerun reuses every
        finished model and feature row.
    quick : bool, default=False
        Use the small grid (``DEMO_GRIDS["quick"]``) instead of ``DEMO_GRIDS["full"]``.
    grid : DemoGrid or None, default=None
        A grid of your own; overrides ``quick``.
    n_jobs : int or None, default=-1
        Parallel workers for training and featurizing (-1: one per core; tiny CNNs
        train about 3x faster in two one-thread workers than in one two-thread one).
    progress : bool, default=True
        Show progress bars.
    plots : bool, default=True
        Draw the PNG figures (needs matplotlib).
    device : str, default="auto"
        Torch device.
    stream : file-like or None, default=None
        Where the report is printed (standard output by default).

    Returns
    -------
    dict
        The summary: grid, label counts, accuracies, fitted thresholds, example
        diagnoses, file paths and timings.

    Raises
    ------
    TypeError
        If ``grid`` is not a :class:`DemoGrid`.
    ImportError
        If torch is not installed (the ``torch`` extra).

    Examples
    --------
    >>> import io, tempfile
    >>> from md_sklearn._cli._demo import DemoGrid, run_demo
    >>> tiny = DemoGrid(widths=(2, 4), batch_sizes=(16, 256), data_fractions=(1.0,),
    ...                 seeds=(0, 1), epochs=1, lr=0.2, curve_epochs=1)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     summary = run_demo(folder, grid=tiny, n_jobs=1, progress=False, plots=False,
    ...                        device="cpu", stream=io.StringIO())
    >>> sorted(summary["tasks"])
    ['q1', 'q2_width']
    >>> summary["grid"]["widths"]
    (2, 4)
    """
    from md_sklearn._utils._extras import require

    require("torch", "md-sklearn demo")  # one line naming the extra, not "No module named"

    from md_sklearn.collections import build_collection, load_digits_data

    stream = sys.stdout if stream is None else stream
    out = Path(output)
    if grid is None:
        grid = DEMO_GRIDS["quick" if quick else "full"]
    elif not isinstance(grid, DemoGrid):
        raise TypeError(f"expected grid to be a DemoGrid, got {type(grid).__name__}.")
    timings = {}
    started = time.perf_counter()

    train, test = load_digits_data(random_state=DEMO_SEED)
    tables, tolerances = {}, {}
    for name, noise in (("clean", 0.0), ("noisy", DEMO_LABEL_NOISE)):
        tick = time.perf_counter()
        collection = build_collection(
            _small_cnn, train, test, widths=grid.widths, batch_sizes=grid.batch_sizes,
            data_fractions=grid.data_fractions, seeds=grid.seeds,
            output_dir=out / "collections" / name, epochs=grid.epochs, lr=grid.lr,
            label_noise=noise,
            random_state=DEMO_SEED, n_jobs=n_jobs, device=device, progress=progress)
        timings[f"train_{name}_s"] = time.perf_counter() - tick
        tick = time.perf_counter()
        tables[name], tolerances[name] = _featurize(collection, test, out, grid, n_jobs,
                                                    progress, device)
        timings[f"featurize_{name}_s"] = time.perf_counter() - tick

    results = {task: _fit_and_transfer(task, tables["clean"], tables["noisy"], out)
               for task in ("q1", "q2_width")}
    examples = _examples(results["q1"], tables["noisy"])
    figures, skipped = _draw(results, tables, out) if plots else ({}, "--no-plots was given")
    timings["total_s"] = time.perf_counter() - started

    summary = {
        "grid": asdict(grid), "label_noise": DEMO_LABEL_NOISE, "output": str(out),
        "collections": {name: _label_counts(table) for name, table in tables.items()},
        "tie_tolerance_points": tolerances,
        "tasks": {task: {k: v for k, v in result.items() if k != "clf"}
                  for task, result in results.items()},
        "examples": examples, "figures": figures, "figures_skipped": skipped,
        "timings": timings,
    }
    write_json_atomic(out / "summary.json", _plain(summary))
    for name, table in tables.items():
        write_atomic(out / f"features_{name}.csv", table.to_csv)
    _print_report(summary, results, stream)
    return summary


def _small_cnn(width):
    from md_sklearn.models import small_cnn

    return small_cnn(width)


def _featurize(collection, test, out, grid, n_jobs, progress, device):
    """The collection's table (one row per configuration) joined with its features."""
    import torch

    from md_sklearn import LandscapeFeaturizer, ModelGroup

    groups, names = [], []
    for config in collection.configurations():
        folder = Path(config.checkpoints[0]).parent
        data = collection.training_data(config.data_fraction)
        data_file = collection.output_dir / "data" / f"train_n{config.data_amount}.pt"
        if not data_file.exists():
            inputs, labels = data.tensors
            write_atomic(data_file, lambda tmp, i=inputs, y=labels: torch.save(
                {"inputs": i, "labels": y}, tmp))
        meta = {"width": config.width, "bs": config.batch_size, "data": config.data_fraction,
                "data_amount": config.data_amount}
        group_file = folder / "group.json"
        if not group_file.exists():
            write_json_atomic(group_file, {
                "model_kwargs": {"width": config.width},
                "data": str(Path("..") / ".." / "data" / data_file.name), "meta": meta})
        names.append(folder.name)
        groups.append(ModelGroup([str(p) for p in config.checkpoints], data,
                                 build_model=functools.partial(_small_cnn, config.width),
                                 name=folder.name, eval_data=test, meta=meta))
    featurizer = LandscapeFeaturizer(
        metrics=DEMO_METRICS, device=device, random_state=DEMO_SEED, n_jobs=n_jobs,
        cache_dir=out / "feature-cache", progress=progress, curve_epochs=grid.curve_epochs)
    features = featurizer.fit_transform(groups)
    from md_sklearn.labels import label_collection, seed_tolerance

    tolerance = seed_tolerance(collection.table, z=DEMO_TOLERANCE_Z)
    table = label_collection(collection.table, width="width", batch_size="bs", data="data",
                             accuracy="test_acc", tolerance=tolerance)
    table.index = pd.Index(names, name="group")
    features = features.drop(columns=[c for c in features.columns if c in table.columns
                                      and c not in DEMO_METRICS + ("test_error", "test_loss")])
    table = table.drop(columns=[c for c in features.columns if c in table.columns])
    table = table.join(features)
    table["log_para_amount"] = np.log(table["para_amount"].astype(float))
    table["log_data_amount"] = np.log(table["data_amount"].astype(float))
    table["log_bs"] = np.log(table["bs"].astype(float))
    return table, tolerance


def _fit_and_transfer(task, clean, noisy, out):
    """Fit MD tree and the baselines on the clean table; accuracy on the noisy one."""
    import joblib

    from md_sklearn import MDTreeClassifier

    label = LABEL_COLUMNS[task]
    classes = decided_classes(label)
    train = clean[clean[label] != TIE_LABEL]
    test = noisy[noisy[label] != TIE_LABEL]
    result = {"label": label, "n_train": len(train), "n_test": len(test),
              "train_classes": train[label].value_counts().to_dict(),
              "test_classes": test[label].value_counts().to_dict(), "accuracy": {}}
    if len(train) == 0 or len(test) == 0:
        result["skipped"] = "no non-optimal configuration in one of the collections"
        return result
    features = method_features("md_tree", task)
    hierarchy = bounds_from_data(task, train[features])
    fitted, correct = {}, {}
    for search, method in (("brent", "MD tree"), ("exhaustive", "MD tree (exhaustive)")):
        clf = MDTreeClassifier(hierarchy, threshold_search=search, classes=classes)
        fitted[search] = clf.fit(train[features], train[label])
        correct[method] = clf.predict(test[features]) == test[label].to_numpy()
    # Examples and figures use the search that fits the training collection better
    # (chosen on the clean collection only; the paper's Brent search can stop at a
    # bound when the other splits still sit at their initial thresholds).
    result["search"] = max(fitted, key=lambda k: fitted[k].train_score_)
    clf = result["clf"] = fitted[result["search"]]
    result["train_accuracy"] = {k: 100 * float(v.train_score_) for k, v in fitted.items()}
    result["thresholds"] = [{"feature": str(split.feature), "threshold": float(split.init)}
                            for split in _splits(clf.hierarchy_)]
    majority = train[label].value_counts().idxmax()
    correct["Majority class"] = (test[label] == majority).to_numpy()
    for method in DEMO_BASELINES:
        baseline = make_pipeline(method, task, random_state=DEMO_SEED).fit(train, train[label])
        correct[METHOD_TITLES[method]] = baseline.predict(test) == test[label].to_numpy()
    result.update(_with_intervals(correct))
    path = out / "trees" / f"{task}.joblib"
    write_atomic(path, lambda tmp: joblib.dump(clf, tmp))
    for search, tree in fitted.items():
        write_atomic(out / "trees" / f"{task}_{search}.joblib",
                     lambda tmp, tree=tree: joblib.dump(tree, tmp))
    result["tree_file"] = str(path)
    return result


def _with_intervals(correct):
    """Accuracy of each method with its 95 % bootstrap interval over the test
    configurations, and MD tree minus the best DecisionTree baseline, paired."""
    from md_sklearn._protocol._statistics import bootstrap_ci, paired_bootstrap, verdict

    intervals = {method: bootstrap_ci(hits.astype(float), n_boot=DEMO_BOOTSTRAP,
                                      random_state=DEMO_SEED)
                 for method, hits in correct.items()}
    baselines = [METHOD_TITLES[m] for m in DEMO_BASELINES]
    best = max(baselines, key=lambda m: intervals[m]["accuracy"])
    paired = {}
    for method in ("MD tree", "MD tree (exhaustive)"):
        comparison = paired_bootstrap(correct[method].astype(float), correct[best].astype(float),
                                      n_boot=DEMO_BOOTSTRAP, random_state=DEMO_SEED)
        enough = comparison["n_test"] >= DEMO_MIN_TEST
        paired[method] = {"baseline": best, **comparison,
                          "verdict": (verdict(comparison["low"], comparison["high"]) if enough
                                      else "too few configurations to compare")}
    return {"accuracy": {m: v["accuracy"] for m, v in intervals.items()},
            "interval": {m: [v["low"], v["high"]] for m, v in intervals.items()},
            "best_baseline": best, "paired": paired,
            "predictions_correct": {m: hits.astype(int).tolist() for m, hits in correct.items()}}


def _splits(node):
    from md_sklearn._tree._hierarchy import iter_splits

    return list(iter_splits(node))


def _examples(result, noisy):
    """Plain-word diagnoses of a few noisy configurations, one per predicted class first."""
    from md_sklearn import explain

    clf = result.get("clf")
    if clf is None:
        return []
    label = LABEL_COLUMNS["q1"]
    noisy = noisy[noisy[label] != TIE_LABEL]  # examples whose diagnosis is known
    report = explain(clf, noisy[method_features("md_tree", "q1")])
    chosen, seen = [], set()
    for i, record in enumerate(report):  # one example per predicted class first
        if record.predicted not in seen:
            chosen.append(i)
            seen.add(record.predicted)
    chosen += [i for i in range(len(report)) if i not in chosen]
    examples = []
    for i in chosen[:DEMO_EXAMPLES]:
        row = noisy.iloc[i]
        examples.append({"group": str(noisy.index[i]), "width": int(row["width"]),
                         "batch_size": int(row["bs"]), "data_fraction": float(row["data"]),
                         "true_label": str(row[label]),
                         "report": str(report[i])})
    return examples


def _draw(results, tables, out):
    """``(figures, None)``, or ``({}, why)`` when matplotlib is missing."""
    from md_sklearn._utils._extras import available, missing_package

    if not available("matplotlib"):
        return {}, str(missing_package("matplotlib", "drawing the figures"))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from md_sklearn.plotting import plot_regimes, plot_tree
    figures = {}
    for task, result in results.items():
        clf = result.get("clf")
        if clf is None:
            continue
        fig, ax = plt.subplots(figsize=(8, 5))
        plot_tree(clf, ax=ax)
        figures[f"{task}_tree"] = _save(fig, out / "figures" / f"{task}_tree.png")
        label = result["label"]
        for name, table in tables.items():
            shown = table[table[label] != TIE_LABEL]
            fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
            plot_regimes(clf, shown[method_features("md_tree", task)], shown[label], axes=axes)
            fig.suptitle(f"{task} tree on the {name} collection")
            figures[f"{task}_regimes_{name}"] = _save(
                fig, out / "figures" / f"{task}_regimes_{name}.png")
    return figures, None


def _save(fig, path):
    import matplotlib.pyplot as plt

    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png"))
    plt.close(fig)
    return str(path)


def _label_counts(table):
    return {label: table[label].value_counts().to_dict() for label in (LABEL_COLUMNS["q1"], LABEL_COLUMNS["q2_width"])}


def _verdict_line(result):
    """One sentence the paired interval supports, for MD tree (Brent, the paper's search)."""
    paired = result["paired"]["MD tree"]
    low, high, best = paired["low"], paired["high"], paired["baseline"]
    if result["n_test"] < DEMO_MIN_TEST:
        return (f"only {result['n_test']} noisy configuration(s) carry a decided label at this "
                f"size, fewer than the {DEMO_MIN_TEST} a comparison needs: the demo shows the "
                f"pipeline, not whether MD tree beats the baselines. {STUDY_RESULT}")
    if low > 0:
        return (f"MD tree beats the best baseline ({best}) on this collection: the paired "
                f"95 % interval [{low:+.1f}, {high:+.1f}] points excludes zero.")
    if high < 0:
        return (f"the best baseline ({best}) beats MD tree on this collection: the paired "
                f"95 % interval [{low:+.1f}, {high:+.1f}] points excludes zero.")
    return (f"at this size the interval [{low:+.1f}, {high:+.1f}] points includes zero: the demo "
            f"cannot tell MD tree from the best baseline ({best}). {STUDY_RESULT}")


def _plain(value):
    """JSON-ready copy: numpy scalars to Python, NaN to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return value


def _print_report(summary, results, stream):
    from md_sklearn import export_text

    def say(text=""):
        print(text, file=stream)

    grid = summary["grid"]
    say(f"md-sklearn demo: small CNNs on scikit-learn's 8x8 digits "
        f"(widths {grid['widths']}, batch sizes {grid['batch_sizes']}, data fractions "
        f"{grid['data_fractions']}, seeds {grid['seeds']}); clean collection vs "
        f"{100 * summary['label_noise']:.0f} % label noise")
    for name, counts in summary["collections"].items():
        tolerance = summary["tie_tolerance_points"][name]
        say(f"  {name:<6} labels (ties: rooms for improvement within {tolerance:.2f} points, "
            "seed noise): " + "; ".join(
            f"{label} " + ", ".join(f"{k} {v}" for k, v in c.items())
            for label, c in counts.items() if label != "data_vs_batch"))
    for task, result in results.items():
        say()
        say(f"== {task}: {result['label']} (fitted on {result['n_train']} clean "
            f"configurations, tested on {result['n_test']} noisy ones)")
        if "clf" not in result:
            say(f"   skipped: {result.get('skipped')}")
            continue
        say(f"   MD tree, {result['search']} search (the better fit of the clean collection; "
            "training accuracy " + ", ".join(f"{k} {v:.1f} %" for k, v in
                                             result["train_accuracy"].items()) + "):")
        say(export_text(result["clf"]))
        say(f"   accuracy on the {result['n_test']} noisy configurations (%, 95 % bootstrap "
            "interval over the test configurations):")
        for method, value in result["accuracy"].items():
            low, high = result["interval"][method]
            say(f"     {method:<22} {value:6.2f}  [{low:6.2f}, {high:6.2f}]")
        say(f"   MD tree minus the best baseline ({result['best_baseline']}), paired "
            "bootstrap, points:")
        for method, paired in result["paired"].items():
            say(f"     {method:<22} {paired['difference']:+6.2f}  [{paired['low']:+6.2f}, "
                f"{paired['high']:+6.2f}]  {paired['verdict']}")
        say("   verdict: " + _verdict_line(result))
    if summary["examples"]:
        say()
        say(f"== example diagnoses (noisy collection, q1 tree, {results['q1']['search']} search)")
        for example in summary["examples"]:
            say(f"-- {example['group']} (true label: {example['true_label']})")
            say(example["report"])
    say()
    if summary["figures"]:
        say(f"figures: {', '.join(summary['figures'].values())}")
    else:
        say(f"figures: none ({summary.get('figures_skipped') or 'nothing to draw'})")
    say(f"summary: {Path(summary['output']) / 'summary.json'}; "
        f"total {summary['timings']['total_s']:.1f} s")
