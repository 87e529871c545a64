"""Model expansion on digits: does the minima-manifold size predict which growth pays off?

On scikit-learn's 8x8 digits (``md_sklearn.collections.load_digits_data``: 1,347
training and 450 test images), 20 % of the training images are held out as a
validation split (stratified by class, fixed by ``random_state``; ``split_data``),
leaving 1,077 for training.  Everything that trains or measures on training data uses
the reduced training split; the validation split is used only to score the
short-fine-tune proxy, the test split only for the gain.  A small CNN
(``md_sklearn.models.small_cnn``) and a small MLP are trained; each is grown into
candidates with ``extractors.expansion.expansion_candidates`` (wider x1.5/x2/x3/x4,
deeper +1/+2, and a wider model matching the parameter count of each deeper one).  For
every candidate the predictors are measured at the expanded point:

- ``manifold_simplex``, ``manifold_radius``, ``manifold_lmc``: ``extractors.manifold_size``
  with each method (the package's own estimator; larger = larger manifold);
- baselines: parameter count; training loss right after expansion (lower is better);
  gradient norm of the training loss there (larger is better, as zero-cost proxies
  use it); Hessian trace (``extractors.hessian_trace``; lower = flatter is better);
  validation accuracy after a short fine-tune on the training split (one extra seed).

Then every candidate (and, as a reference, the unexpanded model) is fine-tuned with a
fixed budget and 3 seeds; gain = test accuracy after − test accuracy of the expanded
model before.  Reported per model family and pooled: Spearman and Kendall rank
correlation (scipy.stats) between each predictor -- oriented so that "larger predicts
more gain" -- and the mean gain, and whether each predictor's top-ranked candidate is
(one of) the best.  Writes a table, JSON and, when matplotlib is installed, a scatter
plot of every predictor against the gain.

The pixel standardisation is that of ``load_digits_data``: one scalar mean and standard
deviation over all 1,347 training images, the validation part included (no labels, no
test images).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import TensorDataset

from benchmarks import STARTED_AT

DEFAULT_JSON = os.path.join("benchmark-results", "expansion.json")
DEFAULT_PLOT = os.path.join("benchmark-results", "expansion.png")

#: Predictors and their orientation: +1 if a larger value should mean a larger gain.
PREDICTORS = {
    "manifold_simplex": +1,
    "manifold_radius": +1,
    "manifold_lmc": +1,
    "parameter_count": +1,
    "loss_after_expansion": -1,
    "gradient_norm": +1,
    "hessian_trace": -1,
    "short_finetune_accuracy": +1,
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """One size of the experiment."""

    cnn_width: int = 2  # small_cnn(2): 496 parameters
    mlp_hidden: int = 8  # 64-8-8-10: 682 parameters
    base_epochs: int = 30
    base_lr: float = 0.05
    finetune_epochs: int = 30
    finetune_lr: float = 0.01
    finetune_seeds: tuple[int, ...] = (0, 1, 2)
    proxy_epochs: int = 2
    proxy_seed: int = 100
    batch_size: int = 64
    widths: tuple[float, ...] = (1.5, 2, 3, 4)
    depths: tuple[int, ...] = (1, 2)
    equal_parameter_pairs: bool = True
    parameter_tolerance: float = 0.1
    manifold_steps: int = 30
    n_directions: int = 8
    hessian_max_probes: int = 100
    validation_fraction: float = 0.2  # of the digits training split, for the proxy only
    train_size: int | None = None  # None: the whole reduced training split
    random_state: int = 0


FULL = Settings()
QUICK = Settings(base_epochs=20, finetune_epochs=10, finetune_lr=0.02, proxy_epochs=1,
                 manifold_steps=10, n_directions=4, hessian_max_probes=20)
#: For the test suite only: a few seconds, structure not figures.
SMOKE = Settings(base_epochs=2, finetune_epochs=1, finetune_seeds=(0, 1), proxy_epochs=1,
                 widths=(2,), depths=(1,), equal_parameter_pairs=False, manifold_steps=2,
                 n_directions=2, hessian_max_probes=2, train_size=200)


def mlp(hidden: int) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def accuracy(model, data) -> float:
    from extractors import error_and_loss

    return 100.0 - error_and_loss(model, data, device="cpu").value


def gradient_norm(model, data) -> float:
    """Norm of the gradient of the mean training cross-entropy (eval mode, all data), on a
    private copy."""
    from extractors.utils import gather

    worker = copy.deepcopy(model).eval()
    x, y = gather(data, torch.arange(len(data)))
    worker.zero_grad(set_to_none=True)
    nn.functional.cross_entropy(worker(x), y).backward()
    return float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in worker.parameters()
                                if p.grad is not None)))


def split_data(settings: Settings):
    """The digits ``(train, validation, test)`` splits as ``TensorDataset`` objects.

    ``validation`` is ``settings.validation_fraction`` of the training split of
    ``load_digits_data`` (rounded up), stratified by class and fixed by
    ``settings.random_state``; ``train`` is the rest, in its original order, cut to its
    first ``settings.train_size`` images when that is set.  ``test`` is untouched.
    """
    from md_sklearn.collections import load_digits_data

    full_train, test = load_digits_data(random_state=settings.random_state)
    inputs, labels = full_train.tensors
    kept, held_out = train_test_split(np.arange(len(labels)),
                                      test_size=settings.validation_fraction,
                                      random_state=settings.random_state,
                                      stratify=labels.numpy())
    kept, held_out = torch.from_numpy(np.sort(kept)), torch.from_numpy(np.sort(held_out))
    if settings.train_size is not None:
        kept = kept[:settings.train_size]
    return (TensorDataset(inputs[kept], labels[kept]),
            TensorDataset(inputs[held_out], labels[held_out]), test)


def short_finetune_accuracy(candidate, train, validation, settings: Settings) -> float:
    """Validation accuracy (%) of ``candidate`` after ``settings.proxy_epochs`` of
    fine-tuning on ``train`` with the separate seed ``settings.proxy_seed``."""
    from md_sklearn.collections import train_classifier

    proxy = train_classifier(candidate, train, epochs=settings.proxy_epochs,
                             batch_size=settings.batch_size, lr=settings.finetune_lr,
                             random_state=settings.proxy_seed, device="cpu")
    return accuracy(proxy, validation)


def measure_predictors(candidate, train, validation, settings: Settings) -> dict:
    from extractors import error_and_loss, hessian_trace, manifold_size
    from extractors.expansion import parameter_count

    seconds, values, diagnostics = {}, {}, {}
    for method in ("simplex", "radius", "lmc"):
        start = time.perf_counter()
        result = manifold_size(candidate, train, method=method, n_steps=settings.manifold_steps,
                               n_directions=settings.n_directions,
                               random_state=settings.random_state, device="cpu")
        values[f"manifold_{method}"] = result.value
        seconds[f"manifold_{method}"] = time.perf_counter() - start
        diagnostics[method] = {
            "log_volume": result.log_volume, "dimension": result.dimension,
            "distances": result.distances, "anchor_loss": result.anchor_loss,
            "threshold": result.threshold, "n_evaluations": result.n_evaluations,
            "n_train_steps": result.n_train_steps}
    values["parameter_count"] = parameter_count(candidate)
    start = time.perf_counter()
    values["loss_after_expansion"] = error_and_loss(candidate, train, device="cpu").loss
    values["gradient_norm"] = gradient_norm(candidate, train)
    seconds["loss_and_gradient"] = time.perf_counter() - start
    start = time.perf_counter()
    values["hessian_trace"] = hessian_trace(candidate, train, max_probes=settings.hessian_max_probes,
                                            random_state=settings.random_state, device="cpu").value
    seconds["hessian_trace"] = time.perf_counter() - start
    start = time.perf_counter()
    values["short_finetune_accuracy"] = short_finetune_accuracy(candidate, train, validation,
                                                                settings)
    seconds["short_finetune_accuracy"] = time.perf_counter() - start
    return {"predictors": values, "manifold": diagnostics, "seconds": seconds}


def fine_tune_gain(model, train, test, settings: Settings) -> dict:
    from md_sklearn.collections import train_classifier

    before = accuracy(model, test)
    start = time.perf_counter()
    after = [accuracy(train_classifier(model, train, epochs=settings.finetune_epochs,
                                       batch_size=settings.batch_size, lr=settings.finetune_lr,
                                       random_state=seed, device="cpu"), test)
             for seed in settings.finetune_seeds]
    gains = [a - before for a in after]
    return {"accuracy_before": before, "accuracy_after": after, "gains": gains,
            "gain": float(np.mean(gains)), "gain_std": float(np.std(gains)),
            "finetune_seconds": time.perf_counter() - start}


def correlations(candidates: list[dict]) -> dict:
    """Per predictor: Spearman and Kendall (of the oriented predictor vs the mean gain) with
    their two-sided p-values, the top-ranked candidate, whether it is among the best, and
    its regret (best mean gain minus its mean gain)."""
    gains = np.array([c["gain"] for c in candidates])
    best = max(gains)
    out = {}
    for name, sign in PREDICTORS.items():
        scores = np.array([sign * c["predictors"][name] for c in candidates], dtype=float)
        finite = np.where(np.isfinite(scores), scores, np.where(scores > 0, 1e300, -1e300))
        spearman = kendall = spearman_p = kendall_p = None  # a constant predictor ranks nothing
        if np.ptp(finite) > 0 and np.ptp(gains) > 0 and len(scores) >= 3:
            rho, tau = stats.spearmanr(finite, gains), stats.kendalltau(finite, gains)
            spearman, spearman_p = float(rho.statistic), float(rho.pvalue)
            kendall, kendall_p = float(tau.statistic), float(tau.pvalue)
        top = int(np.argmax(finite))
        out[name] = {"spearman": spearman, "spearman_p": spearman_p, "kendall": kendall,
                     "kendall_p": kendall_p,
                     "top_candidate": candidates[top]["name"],
                     "top_is_best": bool(np.isclose(gains[top], best, rtol=0, atol=1e-9)),
                     "regret": float(best - gains[top])}
    return out


def run(settings: Settings = FULL, log=print) -> dict:
    """Train, expand, measure and fine-tune; return the JSON payload."""
    from extractors.expansion import expansion_candidates, parameter_count
    from md_sklearn.collections import train_classifier
    from md_sklearn.models import small_cnn

    started = time.perf_counter()
    train, validation, test = split_data(settings)
    sizes = {"train": len(train), "validation": len(validation), "test": len(test)}
    log(f"digits: {sizes['train']} training, {sizes['validation']} validation (short-fine-tune "
        f"proxy only), {sizes['test']} test images (gain only)")
    families = {}
    for family, build in (("cnn", lambda: small_cnn(settings.cnn_width)),
                          ("mlp", lambda: mlp(settings.mlp_hidden))):
        start = time.perf_counter()
        torch.manual_seed(settings.random_state)
        base = train_classifier(build(), train, epochs=settings.base_epochs,
                                batch_size=settings.batch_size, lr=settings.base_lr,
                                random_state=settings.random_state, device="cpu")
        base_seconds = time.perf_counter() - start
        log(f"{family}: base model trained in {base_seconds:.1f} s, "
            f"{parameter_count(base)} parameters, test accuracy {accuracy(base, test):.2f} %")
        built = expansion_candidates(base, widths=settings.widths, depths=settings.depths,
                                     equal_parameter_pairs=settings.equal_parameter_pairs,
                                     parameter_tolerance=settings.parameter_tolerance,
                                     random_state=settings.random_state)
        candidates = []
        for name, candidate in built.items():
            record = {"name": name, **measure_predictors(candidate, train, validation, settings),
                      **fine_tune_gain(candidate, train, test, settings)}
            candidates.append(record)
            spent = sum(record["seconds"].values()) + record["finetune_seconds"]
            log(f"  {name:<28} gain {record['gain']:+.2f} ± {record['gain_std']:.2f} "
                f"points, manifold_simplex {record['predictors']['manifold_simplex']:.3f} "
                f"({spent:.1f} s)")
        reference = fine_tune_gain(base, train, test, settings)
        log(f"  {'(base, no expansion)':<28} gain {reference['gain']:+.2f} ± "
            f"{reference['gain_std']:.2f} points")
        families[family] = {
            "base": {"parameters": parameter_count(base), "test_accuracy": accuracy(base, test),
                     "train_seconds": base_seconds, "finetune_reference": reference},
            "candidates": candidates, "correlations": correlations(candidates)}
    pooled = [dict(c, name=f"{family}/{c['name']}") for family, f in families.items()
              for c in f["candidates"]]
    return {
        "settings": dataclasses.asdict(settings),
        "data_sizes": sizes,
        "predictors": {name: ("higher" if sign > 0 else "lower") + " predicts more gain"
                       for name, sign in PREDICTORS.items()},
        "families": families,
        "pooled": {"correlations": correlations(pooled)},
        "seconds": time.perf_counter() - started,
        "machine": {"platform": platform.platform(), "torch": torch.__version__,
                    "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count()},
    }


def _cell(value) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def format_table(payload: dict) -> str:
    groups = [(family, data["correlations"], len(data["candidates"]))
              for family, data in payload["families"].items()]
    groups.append(("pooled", payload["pooled"]["correlations"],
                   sum(len(d["candidates"]) for d in payload["families"].values())))
    header = f"{'predictor':<24}" + "".join(
        f" | {f'{name} (n={n}) rho / tau / top':<34}" for name, _, n in groups)
    lines = [header, "-" * len(header)]
    for predictor in PREDICTORS:
        row = f"{predictor:<24}"
        for _, corr, _ in groups:
            c = corr[predictor]
            top = "best" if c["top_is_best"] else f"-{c['regret']:.2f}"
            row += f" | {_cell(c['spearman']):>6} / {_cell(c['kendall']):>6} / {top:<16}"
        lines.append(row)
    return "\n".join(lines)


def format_candidates(payload: dict) -> str:
    names = list(PREDICTORS)
    short = {"manifold_simplex": "simplex", "manifold_radius": "radius", "manifold_lmc": "lmc",
             "parameter_count": "params", "loss_after_expansion": "loss0",
             "gradient_norm": "gradnorm", "hessian_trace": "hess_tr",
             "short_finetune_accuracy": "short_acc"}
    header = f"{'candidate':<32}{'gain':>7}{'±':>6}" + "".join(f"{short[n]:>10}" for n in names)
    lines = [header, "-" * len(header)]
    for family, data in payload["families"].items():
        for c in data["candidates"]:
            cells = "".join(f"{c['predictors'][n]:>10.4g}" for n in names)
            lines.append(f"{family + '/' + c['name']:<32}{c['gain']:>+7.2f}{c['gain_std']:>6.2f}"
                         + cells)
        ref = data["base"]["finetune_reference"]
        lines.append(f"{family + '/(base, no expansion)':<32}{ref['gain']:>+7.2f}"
                     f"{ref['gain_std']:>6.2f}")
    return "\n".join(lines)


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_json(payload: dict, path) -> Path:
    """Write ``payload`` (non-finite numbers as null) atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(_json_safe(payload), indent=2, allow_nan=False))
    partial.replace(path)
    return path


def plot(payload: dict, path) -> Path | None:
    """Scatter of every predictor against the gain; ``None`` without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(2, 4, figsize=(16, 7.5))
    for ax, predictor in zip(axes.flat, PREDICTORS):
        for family, data in payload["families"].items():
            xs = [c["predictors"][predictor] for c in data["candidates"]]
            ys = [c["gain"] for c in data["candidates"]]
            keep = [(x, y) for x, y in zip(xs, ys) if x is not None and math.isfinite(x)]
            ax.scatter([x for x, _ in keep], [y for _, y in keep], label=family)
        corr = payload["pooled"]["correlations"][predictor]
        ax.set_title(f"{predictor}\npooled rho {_cell(corr['spearman'])}", fontsize=9)
        ax.set_ylabel("gain (points)")
        if predictor == "parameter_count":
            ax.set_xscale("log")
    axes.flat[0].legend()
    fig.tight_layout()
    partial = path.with_name(path.stem + ".partial" + path.suffix)
    fig.savefig(partial, dpi=90)
    plt.close(fig)
    partial.replace(path)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks expansion", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="shorter training and cheaper predictors (under 2 minutes)")
    size.add_argument("--smoke", action="store_true",
                      help="a few seconds, for the test suite: checks the plumbing, not figures")
    parser.add_argument("--json", metavar="PATH", default=DEFAULT_JSON,
                        help=f"where to write the results (default: {DEFAULT_JSON})")
    parser.add_argument("--plot", metavar="PATH", default=DEFAULT_PLOT,
                        help=f"scatter plot (default: {DEFAULT_PLOT})")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG figure")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="torch threads (default: 1; the models are tiny and one thread "
                             "measured fastest here)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"expected --threads >= 1, got {args.threads}")
    settings = QUICK if args.quick else SMOKE if args.smoke else FULL

    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        payload = run(settings, log=(lambda *_: None) if args.quiet else print)
    finally:
        torch.set_num_threads(threads)
    payload["seconds_including_imports"] = time.perf_counter() - STARTED_AT
    print("\nCandidates (gain = mean test-accuracy change over the fine-tuning seeds, "
          "percentage points):")
    print(format_candidates(payload))
    print("\nRank correlation with the gain (predictor oriented so that + = works as "
          "intended; top = its top-ranked candidate is the best, else its regret):")
    print(format_table(payload))
    print(f"\nwrote {write_json(payload, args.json)}")
    if not args.no_plot:
        figure = plot(payload, args.plot)
        print(f"wrote {figure}" if figure else "matplotlib not installed: no plot")
    print(f"wall time: {payload['seconds']:.1f} s for the experiment, "
          f"{payload['seconds_including_imports']:.1f} s including imports "
          f"({payload['machine']['torch_threads']} torch threads)")
    return 0
