"""The study's stages: collections, features, labels, evaluation; all cached on disk."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.study._data import load_dataset
from benchmarks.study._grid import COLLECTIONS, STUDY_SEED, sample_factor
from md_sklearn._utils._atomic import write_text_atomic

#: The metrics every group gets (the Q1/Q2 trees, the CKA column and the baselines).
METRICS = ("train_error", "train_loss", "mode_connectivity_peak", "hessian_t", "CKA")
#: Curve-training batch size (the featurizer's paper default), used to turn epochs into steps.
CURVE_BATCH_SIZE = 128
#: Label rules: the paper's (exact ties only) and the study's tie tolerance.
RULES = ("rfi", "tolerance")
#: Tie tolerance in standard errors of a difference of two seed means: 1.96 * sqrt(2)
#: pooled standard errors (a 95 % two-sided z threshold for the difference of two
#: configuration means, each the mean of n seeds with the collection's pooled spread).
TOLERANCE_Z = 1.96
#: Train error (percent) at or under which a configuration counts as interpolating.
INTERPOLATION_ERROR = 1.0


# --- files ---------------------------------------------------------------------------
def write_atomic(path, text):
    """Write ``text`` to ``path`` atomically (the package's one atomic writer)."""
    write_text_atomic(path, text)


def digest(value):
    """SHA-256 hex digest of a JSON-able value (sorted keys)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def study_folder(cache_dir, grid):
    """The cache folder of ``grid``: one per settings digest, so settings never mix.

    The folder holds ``settings.json``; a folder whose file disagrees (a digest
    collision or a hand edit) is refused with ``ValueError``.
    """
    settings = grid.training_settings()
    folder = Path(cache_dir) / f"{grid.name}-{digest(settings)[:12]}"
    stored = folder / "settings.json"
    if stored.is_file():
        found = json.loads(stored.read_text(encoding="utf-8"))
        if found != json.loads(json.dumps(settings, default=str)):
            raise ValueError(
                f"expected the cache {folder} to hold settings {settings}, got {found}; "
                "delete the folder or pass another --cache."
            )
    else:
        write_atomic(stored, json.dumps(settings, indent=2, default=str))
    return folder


# --- stage 1: collections --------------------------------------------------------------
def train_collections(folder, grid, datasets, *, n_jobs, progress):
    """``{(dataset, collection): (Collection, test_data, build_model)}``, trained or reloaded."""
    from md_sklearn.collections import build_collection

    found = {}
    for dataset in datasets:
        spec = grid.grids[dataset]
        train, test, build_model = load_dataset(dataset)
        for name, noise in COLLECTIONS:
            collection = build_collection(
                build_model, train, test, widths=spec.widths, batch_sizes=spec.batch_sizes,
                data_fractions=spec.data_fractions, seeds=spec.seeds,
                output_dir=folder / "collections" / f"{dataset}_{name}", epochs=spec.epochs,
                lr=spec.lr, label_noise=noise, random_state=STUDY_SEED, n_jobs=n_jobs,
                device="cpu", progress=progress)
            found[dataset, name] = (collection, test, build_model)
    return found


# --- stage 2: features -----------------------------------------------------------------
def featurize(folder, grid, collections, *, n_jobs, progress):
    """``{(dataset, collection): table}``: configurations joined with their features.

    The table of a collection is written to ``features/<dataset>_<collection>.csv``
    once complete and read back afterwards; each group's metrics are also cached by
    the featurizer (``feature-cache/``), so an interrupted stage loses at most the
    groups in flight.
    """
    tables = {}
    for (dataset, name), (collection, test, build_model) in collections.items():
        spec = grid.grids[dataset]
        available = _featurizer_parameters()
        budget = "steps" if "curve_steps" in available else "epochs"
        # tables with standard errors (issue 15) have their own name: an older table
        # without them is never read as if it had them
        suffix = "_se" if "return_uncertainty" in available else ""
        path = folder / "features" / f"{dataset}_{name}_curve-{budget}{suffix}.csv"
        if path.is_file():
            tables[dataset, name] = pd.read_csv(path, index_col="group")
            continue
        table = _featurize_collection(collection, test, build_model, spec, folder, n_jobs,
                                      progress, grid.extra.get("featurizer", {}))
        write_atomic(path, table.to_csv())
        tables[dataset, name] = table
    return tables


def _featurizer_parameters():
    from md_sklearn import LandscapeFeaturizer

    return LandscapeFeaturizer().get_params()


def curve_budget(spec, fraction, n_train, available):
    """Featurizer keyword arguments giving the curve the same number of steps at every fraction.

    With a ``curve_steps`` parameter (when the featurizer has one): ``curve_epochs``
    epochs' worth of steps on the full training set; otherwise ``curve_epochs`` is
    scaled by ``1 / fraction`` (about the same steps, as the paper's research code).
    """
    if "curve_steps" in available:
        return {"curve_steps": spec.curve_epochs * math.ceil(n_train / CURVE_BATCH_SIZE)}
    return {"curve_epochs": max(1, round(spec.curve_epochs / fraction))}


def _featurize_collection(collection, test, build_model, spec, folder, n_jobs, progress,
                          options):
    from md_sklearn import LandscapeFeaturizer, ModelGroup

    available = LandscapeFeaturizer().get_params()
    n_train = int(collection.settings["n_train"])
    by_fraction = {}
    for config in collection.configurations():
        name = Path(config.checkpoints[0]).parent.name
        meta = {"data_amount": config.data_amount}
        group = ModelGroup([str(p) for p in config.checkpoints],
                           collection.training_data(config.data_fraction),
                           build_model=functools.partial(build_model, config.width),
                           name=name, eval_data=test, meta=meta)
        by_fraction.setdefault(config.data_fraction, []).append(group)
    parts = []
    for fraction, groups in sorted(by_fraction.items()):
        featurizer = LandscapeFeaturizer(
            metrics=METRICS, device="cpu", random_state=STUDY_SEED, n_jobs=n_jobs,
            cache_dir=folder / "feature-cache", progress=progress,
            **curve_budget(spec, fraction, n_train, available),
            **({"return_uncertainty": True} if "return_uncertainty" in available else {}),
            **options)
        with warnings.catch_warnings():  # one curve per group: said in docs/study.rst
            warnings.filterwarnings("ignore", message="mode_connectivity_peak_se is NaN")
            parts.append(featurizer.fit_transform(groups))
    features = pd.concat(parts)
    table = collection.table.copy()
    table.index = pd.Index(
        [Path(c.checkpoints[0]).parent.name for c in collection.configurations()], name="group")
    keep = [c for c in features.columns if c != "data_amount"]
    table = table.drop(columns=[c for c in keep if c in table.columns]).join(features[keep])
    table["log_para_amount"] = np.log(table["para_amount"].astype(float))
    table["log_data_amount"] = np.log(table["data_amount"].astype(float))
    table["log_bs"] = np.log(table["bs"].astype(float))
    return table


# --- stage 3: labels -------------------------------------------------------------------
def tie_tolerance(table):
    """The tolerance rule's threshold (accuracy points) for one collection.

    ``TOLERANCE_Z * sqrt(2) * s / sqrt(n)``: ``s`` the pooled standard deviation of
    test accuracy across seeds within configurations, ``n`` the seeds per configuration.
    """
    from md_sklearn.labels import seed_tolerance

    return seed_tolerance(table, z=TOLERANCE_Z)


def label_tables(tables):
    """``{rule: {(dataset, collection): labelled table}}`` and a per-collection summary."""
    from md_sklearn.labels import label_collection

    labelled = {rule: {} for rule in RULES}
    summary = {}
    for key, table in tables.items():
        tolerance = tie_tolerance(table)
        entry = {"n_configurations": len(table), "tolerance_points": tolerance,
                 "fraction_interpolating": float(
                     np.mean(table["train_error"] <= INTERPOLATION_ERROR)),
                 "interpolating_by_width": {
                     str(w): float(np.mean(g["train_error"] <= INTERPOLATION_ERROR))
                     for w, g in table.groupby("width")},
                 "mean_test_acc": float(table["test_acc"].mean()),
                 "pooled_seed_std": tolerance / (TOLERANCE_Z * math.sqrt(2.0))
                 * math.sqrt(float(table["n_models"].min())),
                 "labels": {}}
        for rule, value in (("rfi", 0.0), ("tolerance", tolerance)):
            result = label_collection(table, tolerance=value)
            labelled[rule][key] = result
            entry["labels"][rule] = {
                column: {str(k): int(v) for k, v in result[column].value_counts().items()}
                for column in ("bs_failure", "width_vs_batch")}
        summary["/".join(key)] = entry
    return labelled, summary


# --- stage 4: evaluation ---------------------------------------------------------------
METHODS = ("md_tree", "md_tree_exhaustive", "pretrained", "hyperparameter_dt", "validation_dt",
           "landscape_dt", "hyper_validation_dt", "majority")
METHOD_TITLES = {
    "md_tree": "MD tree (brent)", "md_tree_exhaustive": "MD tree (exhaustive)",
    "pretrained": "Paper tree, zero-shot", "hyperparameter_dt": "Hyperparameter+DT",
    "validation_dt": "Validation+DT", "landscape_dt": "Loss-landscape+DT",
    "hyper_validation_dt": "Hyper+Validation+DT", "majority": "Majority class",
}
#: The baselines the paired comparison picks the best of (Table B's four).
DT_BASELINES = ("hyperparameter_dt", "validation_dt", "landscape_dt", "hyper_validation_dt")
LABELS = {"q1": "bs_failure", "q2_width": "width_vs_batch"}


def evaluate_case(case, grid, labelled, folder):
    """Predictions of every method on ``case`` for every repetition seed (cached)."""
    label = LABELS[case.task]
    pool = labelled[case.train]
    test = labelled[case.test]
    columns = sorted(_columns(case.task) | {"width", "data", "bs", label})
    errors = [se_name(c) for c in _md_tree_columns(case.task) if se_name(c) in test.columns]
    pool = pool[pool[label] != "optimal"][columns]
    test = test[test[label] != "optimal"][columns + errors]
    # a metric that failed (NaN, e.g. a non-positive Hessian trace) drops its row, counted;
    # an unknown standard error (one connectivity curve per group) does not
    dropped = {"pool": int(pool.isna().any(axis=1).sum()),
               "test": int(test[columns].isna().any(axis=1).sum())}
    pool, test = pool.dropna(), test.dropna(subset=columns)
    k = sample_factor(case, grid)
    key = digest({"case": case.name, "sampling": case.sampling, "k": k, "task": case.task,
                  "seeds": list(grid.repetition_seeds), "methods": list(METHODS),
                  "pool": pool.to_csv(), "test": test.to_csv()})
    path = folder / "evaluations" / f"{case.name.replace('/', '__')}-{key[:16]}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    result = _evaluate(case, grid, pool, test, label, k, errors)
    result["dropped_nan_rows"] = dropped
    # the standard errors nobody could measure, taken as 0 by the flip probability
    result["unknown_se"] = {c: int(test[c].isna().sum()) for c in errors}
    write_atomic(path, json.dumps(result))
    return result


def _columns(task):
    from benchmarks._tableb import features

    names = set()
    for method in ("hyperparameter_dt", "validation_dt", "landscape_dt", "hyper_validation_dt",
                   "md_tree"):
        names |= set(features(method, task))
    return names


def _md_tree_columns(task):
    from benchmarks._tableb import features

    return list(features("md_tree", task))


def se_name(column):
    """The featurizer's standard-error column of ``column`` (``<column>_se``, the
    documented name of ``return_uncertainty=True``; docs/featurizer.rst)."""
    return f"{column}_se"


def _evaluate(case, grid, pool, test, label, k, errors=()):
    from md_sklearn.model_selection import TransferSplit

    result = {"case": case.name, "title": case.title, "task": case.task, "label": label,
              "sampling": case.sampling, "k": k, "train": list(case.train),
              "test": list(case.test), "primary": case.primary,
              "test_groups": [str(i) for i in test.index], "true": test[label].tolist(),
              "pool_size": len(pool), "runs": []}
    if len(test) == 0 or len(pool) == 0:
        result["skipped"] = (f"no non-optimal configuration in the "
                             f"{'test collection' if len(test) == 0 else 'training pool'}")
        return result
    if case.sampling in ("random", "random_data"):
        # A pool left with fewer (data, width) combinations (or data levels) than k
        # after its ties are dropped gives all of them (recorded as k_used).
        available = (pool["data"].nunique() * pool["width"].nunique()
                     if case.sampling == "random" else pool["data"].nunique())
        k = min(k, available)
    elif not (pool["data" if case.sampling == "data_limit" else "width"] <= k).any():
        result["skipped"] = (f"no non-optimal configuration of the training pool within "
                             f"{case.sampling} k={k}")
        return result
    result["k_used"] = k
    X = pd.concat([pool, test], ignore_index=True)
    groups = np.array(["pool"] * len(pool) + ["test"] * len(test))
    splitter = TransferSplit(case.sampling, k, seeds=list(grid.repetition_seeds), pool="pool",
                             test="test")
    for seed, (train_rows, test_rows) in zip(grid.repetition_seeds,
                                             splitter.split(X, groups=groups), strict=True):
        train = X.iloc[train_rows]
        run = {"seed": int(seed), "n_train": int(len(train)),
               "train_groups": [str(pool.index[i]) for i in train_rows],
               "train_classes": {str(c): int(n) for c, n in train[label].value_counts().items()},
               "predictions": {}}
        if len(train):
            for method in METHODS:
                if method == CONFIDENCE_METHOD and errors:  # one fit: diagnoses and confidence
                    predicted, probability, fragile = confidence(case.task, label, train,
                                                                 X.iloc[test_rows])
                    run["flip_probability"] = {method: probability}
                    run["fragile"] = {method: fragile}
                else:
                    predicted = _predict(method, case.task, label, train, X.iloc[test_rows],
                                         seed)
                run["predictions"][method] = predicted
        result["runs"].append(run)
    return result


@functools.cache
def _pretrained(task):
    """The paper's fitted tree for ``task`` (loaded once per process)."""
    from md_sklearn import pretrained

    return pretrained(task)


def _md_tree(method, task, label, train):
    """The MD tree of ``method`` fitted on one training draw."""
    from md_sklearn import MDTreeClassifier, bounds_from_data

    columns = _md_tree_columns(task)
    classes = [c for c in ("small", "large", "width", "batch")
               if c in {"q1": ("small", "large"), "q2_width": ("width", "batch")}[task]]
    # Search intervals moved to this training draw's feature ranges (never the test's).
    hierarchy = bounds_from_data(task, train[columns])
    search = "exhaustive" if method.endswith("exhaustive") else "brent"
    clf = MDTreeClassifier(hierarchy, threshold_search=search, classes=classes)
    return clf.fit(train[columns], train[label]), columns


#: The method whose diagnoses get a confidence (the primary one).
CONFIDENCE_METHOD = "md_tree"


def confidence(task, label, train, test):
    """Per test row, the MD tree's diagnosis (as :func:`_predict` gives it), the
    probability that it flips under the noise of its features, and whether
    :func:`md_sklearn.explain` calls it fragile (above its default ``fragile_level``),
    from the featurizer's ``<column>_se``.

    A standard error the featurizer could not measure (NaN: the connectivity peak of a
    group with one curve) is taken as 0, so this probability covers the measured
    sources only (docs/study.rst).
    """
    from md_sklearn import FeatureRangeWarning, explain

    clf, columns = _md_tree(CONFIDENCE_METHOD, task, label, train)
    errors = test[[se_name(c) for c in columns]].fillna(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureRangeWarning)
        frame = explain(clf, test[columns], errors).to_frame()
    return ([str(p) for p in frame["predicted"]], [float(p) for p in frame["flip_probability"]],
            [bool(f) for f in frame["fragile"]])


def _predict(method, task, label, train, test, seed):
    from benchmarks._tableb import features, make_pipeline
    from md_sklearn import FeatureRangeWarning

    y = train[label]
    if method == "majority":
        counts = y.value_counts()
        winner = sorted(counts[counts == counts.max()].index)[0]
        return [str(winner)] * len(test)
    if method == "pretrained":
        tree = _pretrained(task)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FeatureRangeWarning)
            return [str(p) for p in tree.predict(test[list(features("md_tree", task))])]
    if method.startswith("md_tree"):
        clf, columns = _md_tree(method, task, label, train)
        with warnings.catch_warnings():  # features far from the training draw's: counted apart
            warnings.simplefilter("ignore", FeatureRangeWarning)
            return [str(p) for p in clf.predict(test[columns])]
    pipeline = make_pipeline(method, task, random_state=int(seed))
    pipeline.fit(train, y)
    return [str(p) for p in pipeline.predict(test)]


def run_stage(name, timings, stream, function, *args, **kwargs):
    """Run one stage, print and record its wall time."""
    print(f"== stage: {name}", file=stream, flush=True)
    start = time.perf_counter()
    result = function(*args, **kwargs)
    timings[name] = time.perf_counter() - start
    print(f"   {name}: {timings[name]:.1f} s", file=stream, flush=True)
    return result
