"""Statistics per case and method, the terminal table and the figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.study._run import CONFIDENCE_METHOD, DT_BASELINES, METHOD_TITLES, METHODS
from md_sklearn._protocol._statistics import (
    bootstrap_ci,
    mcnemar_exact,
    mean_std,
    paired_bootstrap,
    resample_indices,
    verdict,
)

#: The methods compared against the best baseline (MD tree brent is the primary one).
COMPARED = ("md_tree", "md_tree_exhaustive")


def correctness(evaluation, method):
    """``(n_runs, n_test)`` 0/1 matrix of one method, or None when no run has it."""
    true = np.asarray(evaluation["true"], dtype=object)
    rows = [np.asarray(run["predictions"][method], dtype=object) == true
            for run in evaluation["runs"] if method in run["predictions"]]
    return np.vstack(rows).astype(float) if rows else None


#: Distinct test configurations a side needs before its interval, and the robust-minus-
#: fragile difference, are given (our choice: with fewer, the bootstrap over
#: configurations degenerates; diagnoses of one configuration repeat over repetitions).
MIN_CONFIGURATIONS = 5


def confidence_split(evaluation, *, n_boot, level=0.95, random_state=0):
    """Accuracy of the robust and of the fragile diagnoses of the confidence method.

    A diagnosis is one (repetition, test configuration) prediction; it is fragile when
    :func:`md_sklearn.explain` says so (its flip probability above ``fragile_level``).
    Intervals: percentile bootstrap over test configurations (each keeps all its
    repetitions), the same resamples for both accuracies and their difference (robust
    minus fragile), given for a side with at least :data:`MIN_CONFIGURATIONS`
    configurations; resamples that miss a side are left out, and the share kept is
    reported. None when no run carries the confidence.

    Returns
    -------
    dict or None
        ``robust`` and ``fragile`` (``accuracy``; ``low`` and ``high`` in percent or
        None; ``n`` diagnoses; ``configurations``), ``difference`` (``value``, ``low``,
        ``high``, ``resamples_kept``; None unless both sides have enough configurations)
        and ``fragile_share`` (percent of diagnoses).
    """
    runs = [run for run in evaluation["runs"] if CONFIDENCE_METHOD in run.get("fragile", {})]
    if not runs or not evaluation["true"]:
        return None
    true = np.asarray(evaluation["true"], dtype=object)
    correct = np.vstack([np.asarray(run["predictions"][CONFIDENCE_METHOD], dtype=object) == true
                         for run in runs]).astype(float)
    fragile = np.vstack([np.asarray(run["fragile"][CONFIDENCE_METHOD], dtype=bool)
                         for run in runs])
    # per test configuration: right and total among its robust (fragile) diagnoses
    sides = {"robust": ~fragile, "fragile": fragile}
    right = {name: (correct * mask).sum(axis=0) for name, mask in sides.items()}
    total = {name: mask.sum(axis=0).astype(float) for name, mask in sides.items()}
    indices = resample_indices(true.size, n_boot, random_state)
    alpha = (1.0 - level) / 2.0
    resampled, result, enough = {}, {}, {}
    for name in sides:
        with np.errstate(invalid="ignore", divide="ignore"):
            resampled[name] = (100.0 * right[name][indices].sum(axis=1)
                               / total[name][indices].sum(axis=1))
        n = int(total[name].sum())
        configurations = int((total[name] > 0).sum())
        enough[name] = configurations >= MIN_CONFIGURATIONS
        entry = {"accuracy": 100.0 * float(right[name].sum()) / n if n else None,
                 "low": None, "high": None, "n": n, "configurations": configurations}
        if enough[name]:
            entry["low"], entry["high"] = (float(q) for q in np.nanquantile(
                resampled[name], [alpha, 1.0 - alpha]))
        result[name] = entry
    result["difference"] = None
    if enough["robust"] and enough["fragile"]:
        difference = resampled["robust"] - resampled["fragile"]
        kept = np.isfinite(difference)
        low, high = np.quantile(difference[kept], [alpha, 1.0 - alpha])
        result["difference"] = {
            "value": result["robust"]["accuracy"] - result["fragile"]["accuracy"],
            "low": float(low), "high": float(high), "resamples_kept": float(kept.mean())}
    result["fragile_share"] = 100.0 * float(fragile.mean())
    result["unknown_se"] = evaluation.get("unknown_se", {})
    return result


def summarize(evaluation, *, n_boot, random_state=0):
    """Every statistic of one case: per method and the paired comparisons."""
    summary = {key: evaluation[key] for key in ("case", "title", "task", "label", "sampling", "k",
                                                "primary", "train", "test")}
    summary["n_test"] = len(evaluation["true"])
    summary["test_classes"] = {str(c): int(n) for c, n in zip(
        *np.unique(np.asarray(evaluation["true"], dtype=str), return_counts=True))} \
        if evaluation["true"] else {}
    summary["n_train"] = [run["n_train"] for run in evaluation["runs"]]
    if "skipped" in evaluation:
        summary["skipped"] = evaluation["skipped"]
        return summary
    methods, matrices = {}, {}
    for method in METHODS:
        matrix = correctness(evaluation, method)
        if matrix is None:
            continue
        matrices[method] = matrix
        mean, std = mean_std(100.0 * matrix.mean(axis=1))
        interval = bootstrap_ci(matrix, n_boot=n_boot, random_state=random_state)
        methods[method] = {"mean": mean, "std": std, "scores": (100 * matrix.mean(axis=1)).tolist(),
                           "ci_low": interval["low"], "ci_high": interval["high"]}
    summary["methods"] = methods
    if not methods:
        summary["skipped"] = "every training draw was empty"
        return summary
    best = max((m for m in DT_BASELINES if m in methods), key=lambda m: methods[m]["mean"])
    summary["best_baseline"] = best
    summary["comparisons"] = {}
    for method in COMPARED:
        paired = paired_bootstrap(matrices[method], matrices[best], n_boot=n_boot,
                                  random_state=random_state)
        mcnemar = [mcnemar_exact(a, b)["p_value"]
                   for a, b in zip(matrices[method], matrices[best], strict=True)]
        summary["comparisons"][method] = {
            "baseline": best, **paired, "mcnemar_p_per_repetition": mcnemar,
            "verdict": verdict(paired["low"], paired["high"])}
    split = confidence_split(evaluation, n_boot=n_boot, random_state=random_state)
    if split is not None:
        summary["confidence"] = split
    return summary


def format_tables(report):
    """The terminal tables: label counts, then every case, method by method."""
    lines = ["Collections (train error <= 1 %: share of configurations; labels kept = not 'optimal')"]
    for key, entry in report["collections"].items():
        kept = {rule: {column: sum(v for k, v in counts.items() if k != "optimal")
                       for column, counts in labels.items()}
                for rule, labels in entry["labels"].items()}
        lines.append(
            f"  {key:<15} {entry['n_configurations']:>3} configs, mean test acc "
            f"{entry['mean_test_acc']:5.1f} %, interpolating {100 * entry['fraction_interpolating']:5.1f} %, "
            f"tie tolerance {entry['tolerance_points']:.2f} pts")
        for rule, labels in entry["labels"].items():
            text = "; ".join(f"{column} " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
                             for column, c in labels.items())
            lines.append(f"      {rule:<9} kept Q1 {kept[rule]['bs_failure']:>3}, "
                         f"Q2 {kept[rule]['width_vs_batch']:>3} | {text}")
    for rule, cases in report["cases"].items():
        lines.append("")
        lines.append(f"== label rule: {rule} (accuracy %, mean ± std over repetitions; "
                     "95 % bootstrap CI over test configurations)")
        for case in cases:
            flag = " [primary]" if case["primary"] else ""
            n_train = sorted(set(case["n_train"]))
            n_text = (str(n_train[0]) if len(n_train) == 1 else f"{n_train[0]}-{n_train[-1]}") \
                if n_train else "0"
            lines.append(f"-- {case['title']}{flag}: k={case['k']}, train {n_text}, "
                         f"test {case['n_test']} {case.get('test_classes', {})}")
            if "skipped" in case:
                lines.append(f"   skipped: {case['skipped']}")
                continue
            for method, stats in case["methods"].items():
                lines.append(f"   {METHOD_TITLES[method]:<24}{stats['mean']:7.2f} ± "
                             f"{stats['std']:5.2f}   [{stats['ci_low']:6.2f}, "
                             f"{stats['ci_high']:6.2f}]")
            for method, comparison in case["comparisons"].items():
                lines.append(
                    f"   {METHOD_TITLES[method]} - {METHOD_TITLES[comparison['baseline']]}: "
                    f"{comparison['difference']:+.2f} pts [{comparison['low']:+.2f}, "
                    f"{comparison['high']:+.2f}] -> {comparison['verdict']}")
            if "confidence" in case:
                lines.append("   " + confidence_line(case["confidence"]))
    lines += ["", *headline(report)]
    return "\n".join(lines)


def confidence_line(split):
    """One line: the confidence method's accuracy on robust and on fragile diagnoses."""
    def side(name):
        entry = split[name]
        if not entry["n"]:
            return f"{name} none"
        interval = ("" if entry["low"] is None
                    else f" [{entry['low']:.1f}, {entry['high']:.1f}]")
        return (f"{name} {entry['accuracy']:.1f} %{interval} of {entry['n']} "
                f"({entry['configurations']} configs)")

    text = (f"{METHOD_TITLES[CONFIDENCE_METHOD]} by confidence: {side('robust')}; "
            f"{side('fragile')} ({split['fragile_share']:.0f} % fragile)")
    difference = split["difference"]
    if difference is not None:
        text += (f"; robust - fragile {difference['value']:+.1f} pts "
                 f"[{difference['low']:+.1f}, {difference['high']:+.1f}]")
    elif split["fragile"]["n"]:
        text += f"; too few configurations on one side to compare (< {MIN_CONFIGURATIONS})"
    return text


#: The pre-declared primary analysis (docs/study.rst): label rule, method, cases.
PRIMARY_RULE = "tolerance"
PRIMARY_METHOD = "md_tree"


def headline(report):
    """The primary analysis in a few lines: MD tree (brent) minus the best baseline per case."""
    lines = [f"== primary analysis (label rule {PRIMARY_RULE}; {METHOD_TITLES[PRIMARY_METHOD]} "
             "minus the best DecisionTree baseline, paired 95 % bootstrap interval)"]
    counts = {}
    for case in report["cases"].get(PRIMARY_RULE, []):
        if not case["primary"]:
            continue
        if "comparisons" not in case:
            lines.append(f"   {case['case']:<24} not evaluable: {case.get('skipped')}")
            counts["not evaluable"] = counts.get("not evaluable", 0) + 1
            continue
        comparison = case["comparisons"][PRIMARY_METHOD]
        ours = case["methods"][PRIMARY_METHOD]["mean"]
        theirs = case["methods"][comparison["baseline"]]["mean"]
        lines.append(
            f"   {case['case']:<24} {ours:6.2f} vs {theirs:6.2f} "
            f"({METHOD_TITLES[comparison['baseline']]}): {comparison['difference']:+.2f} pts "
            f"[{comparison['low']:+.2f}, {comparison['high']:+.2f}], n={case['n_test']} "
            f"-> {comparison['verdict']}")
        counts[comparison["verdict"]] = counts.get(comparison["verdict"], 0) + 1
        if "confidence" in case:
            lines.append(f"   {'':<24} {confidence_line(case['confidence'])}")
    lines.append("   verdicts: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                                    or "none yet"))
    return lines


def draw_figures(report, output):
    """Accuracy with intervals per case and method, one PNG per label rule; paths."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return {}
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    figures = {}
    for rule, cases in report["cases"].items():
        shown = [c for c in cases if "methods" in c]
        if not shown:
            continue
        columns = 3
        rows = -(-len(shown) // columns)
        fig, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.0 * rows),
                                 squeeze=False)
        for ax, case in zip(axes.flat, shown):
            names = list(case["methods"])
            means = [case["methods"][m]["mean"] for m in names]
            low = [case["methods"][m]["mean"] - case["methods"][m]["ci_low"] for m in names]
            high = [case["methods"][m]["ci_high"] - case["methods"][m]["mean"] for m in names]
            colors = ["tab:red" if m.startswith("md_tree") else "tab:grey" for m in names]
            ax.barh(range(len(names)), means, xerr=[low, high], color=colors, capsize=2)
            ax.set_yticks(range(len(names)), [METHOD_TITLES[m] for m in names], fontsize=7)
            ax.invert_yaxis()
            ax.set_xlim(0, 100)
            ax.set_title(f"{case['case']} (n={case['n_test']})", fontsize=8)
            ax.tick_params(axis="x", labelsize=7)
        for ax in list(axes.flat)[len(shown):]:
            ax.axis("off")
        fig.suptitle(f"Study accuracy (%), label rule {rule}: mean over repetitions, "
                     "95 % bootstrap CI over test configurations", fontsize=9)
        fig.tight_layout()
        path = output / f"study_accuracy_{rule}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        figures[f"accuracy_{rule}"] = str(path)
    return figures


def draw_regimes(labelled, datasets, output):
    """The paper's Figure 4 view per dataset: a Q1 MD tree fitted on the clean collection
    (exhaustive search, tolerance labels), drawn over the noisy collection. Exploratory."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from md_sklearn import MDTreeClassifier, bounds_from_data
        from md_sklearn.plotting import plot_regimes
    except ImportError:
        return {}
    features = ["train_error", "mode_connectivity_peak", "hessian_t"]
    figures = {}
    for dataset in datasets:
        clean = labelled[dataset, "clean"]
        noisy = labelled[dataset, "noisy"]
        clean = clean[clean["bs_failure"] != "optimal"].dropna(subset=features)
        noisy = noisy[noisy["bs_failure"] != "optimal"].dropna(subset=features)
        if clean["bs_failure"].nunique() < 2 or noisy.empty:
            continue
        clf = MDTreeClassifier(bounds_from_data("q1", clean[features]),
                               threshold_search="exhaustive", classes=["small", "large"])
        clf.fit(clean[features], clean["bs_failure"])
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
        plot_regimes(clf, noisy[features], noisy["bs_failure"], axes=axes)
        fig.suptitle(f"{dataset}: Q1 tree fitted on the clean collection, noisy collection shown")
        path = Path(output) / f"study_regimes_{dataset}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        figures[f"regimes_{dataset}"] = str(path)
    return figures
