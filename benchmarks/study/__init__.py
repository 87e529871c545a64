"""Validation study: does MD tree diagnose models trained here? (digits and MNIST-1D).

``python -m benchmarks study [--quick] [--json PATH] [--n-jobs N] [--cache DIR]``
trains a clean and a 10 %-label-noise collection per dataset (scikit-learn's digits
with the small CNN, MNIST-1D with an MLP; no download), measures their
loss-landscape features at the paper's settings, labels them with the paper's rule
and with a tie tolerance, and scores MD tree against the paper's baselines on Table
B's cases and across datasets, with intervals. Every stage is cached: a finished
model, feature row or evaluation is never recomputed, and an interrupted run
resumes. The grid and budgets, and the measurements behind them, are in
``benchmarks/study/_grid.py``; the pre-declared primary analysis in
``docs/study.rst``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks.study._data import check_datasets
from benchmarks.study._grid import DATASETS, GRIDS, cases
from benchmarks.study._report import draw_figures, draw_regimes, format_tables, summarize
from benchmarks.study._run import (
    RULES,
    evaluate_case,
    featurize,
    label_tables,
    run_stage,
    study_folder,
    train_collections,
    write_atomic,
)

DEFAULT_CACHE = ".study-cache"
DEFAULT_OUTPUT = "benchmark-results"


def run(grid, *, datasets=DATASETS, case_names=None, cache_dir=DEFAULT_CACHE, n_jobs=-1,
        progress=True, stream=None, figures_dir=None):
    """Run (or resume) the study and return its report as a dict.

    Parameters
    ----------
    grid : StudyGrid
        ``GRIDS["full"]``, ``GRIDS["quick"]`` or a grid of your own.
    datasets : sequence of str, default=("digits", "mnist1d")
        Datasets to run (cross-dataset cases need both).
    case_names : sequence of str or None
        Cases to evaluate (default: all of ``datasets``).
    cache_dir : str or os.PathLike
        Cache root; each grid's settings get their own folder inside.
    n_jobs : int
        Parallel workers for training and features.
    progress : bool
        Show progress bars.
    stream : file-like or None
        Where the stage times and tables are printed.
    figures_dir : str, os.PathLike or None
        Folder for the PNG figures (None: none drawn).

    Returns
    -------
    dict
        Settings, stage timings, per-collection label summaries, and per label
        rule the statistics of every case with each method's per-configuration
        predictions.
    """
    stream = sys.stdout if stream is None else stream
    datasets = check_datasets(datasets)
    all_cases = cases(grid, datasets)
    if case_names is not None:
        valid = [c.name for c in all_cases]
        unknown = [n for n in case_names if n not in valid]
        if unknown:
            raise ValueError(f"expected case names among {valid}, got {unknown}; pass some of "
                             "those to --cases.")
        all_cases = [c for c in all_cases if c.name in case_names]
    timings = {}
    folder = study_folder(cache_dir, grid)
    print(f"study ({grid.name}): cache {folder}", file=stream, flush=True)
    collections = run_stage("collections", timings, stream, train_collections, folder, grid,
                            datasets, n_jobs=n_jobs, progress=progress)
    tables = run_stage("features", timings, stream, featurize, folder, grid, collections,
                       n_jobs=n_jobs, progress=progress)
    labelled, label_summary = run_stage("labels", timings, stream, label_tables, tables)

    def evaluate_all():
        from tqdm.auto import tqdm

        found = {rule: [] for rule in RULES}
        jobs = [(rule, case) for rule in RULES for case in all_cases]
        for rule, case in tqdm(jobs, desc="evaluating cases", disable=not progress):
            evaluation = evaluate_case(case, grid, labelled[rule], folder / rule)
            found[rule].append({"summary": summarize(evaluation, n_boot=grid.bootstrap),
                                "evaluation": evaluation})
        return found

    evaluated = run_stage("evaluation", timings, stream, evaluate_all)
    report = {
        "settings": grid.settings(), "datasets": list(datasets), "cache": str(folder),
        "timings": timings, "collections": label_summary,
        "cases": {rule: [e["summary"] for e in items] for rule, items in evaluated.items()},
        "predictions": {rule: [e["evaluation"] for e in items]
                        for rule, items in evaluated.items()},
    }
    if figures_dir is not None:
        figures = run_stage("figures", timings, stream, draw_figures, report, figures_dir)
        if len(datasets):
            figures.update(draw_regimes(labelled["tolerance"], datasets, figures_dir))
        report["figures"] = figures
    print(format_tables(report), file=stream, flush=True)
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks study", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="tiny grid and budgets (< 3 min): checks the pipeline, not the claim")
    parser.add_argument("--json", metavar="PATH",
                        help="write the report here (default benchmark-results/study[-quick].json)")
    parser.add_argument("--n-jobs", type=int, default=-1, metavar="N",
                        help="parallel workers for training and features (default -1: all cores)")
    parser.add_argument("--cache", default=DEFAULT_CACHE, metavar="DIR",
                        help=f"cache root (default {DEFAULT_CACHE}); reruns resume from it")
    parser.add_argument("--datasets", default=",".join(DATASETS),
                        help=f"comma-separated, among {','.join(DATASETS)}")
    parser.add_argument("--cases", default=None,
                        help="comma-separated case names (default: all); a wrong name lists them")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--no-plot", action="store_true", help="no figures")
    args = parser.parse_args(argv)
    if args.n_jobs == 0:
        parser.error("--n-jobs: expected a non-zero int, got 0; pass 1 or -1.")
    try:
        datasets = check_datasets(args.datasets)
    except ValueError as error:
        parser.error(str(error))
    grid = GRIDS["quick" if args.quick else "full"]
    case_names = None if args.cases is None else [c for c in args.cases.split(",") if c]
    json_path = Path(args.json or Path(DEFAULT_OUTPUT) /
                     f"study{'-quick' if args.quick else ''}.json")
    figures_dir = None if args.no_plot else json_path.parent / (json_path.stem + "-figures")
    start = time.perf_counter()
    try:
        report = run(grid, datasets=datasets, case_names=case_names, cache_dir=args.cache,
                     n_jobs=args.n_jobs, progress=not args.no_progress,
                     figures_dir=figures_dir)
    except (ValueError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report["timings"]["total"] = time.perf_counter() - start
    write_atomic(json_path, json.dumps(report, indent=1, default=str))
    print(f"\nwrote {json_path}; total {report['timings']['total']:.1f} s "
          f"({', '.join(f'{k} {v:.1f} s' for k, v in report['timings'].items())})")
    return 0
