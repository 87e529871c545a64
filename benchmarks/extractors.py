"""Speed of the torch extractors: Hessian trace, curve training and CKA against plain baselines.

Prints three figures, each measured in this process on the same data:

(a) ``extractors.hessian_trace`` against a one-probe-at-a-time double-backward loop
    written here (same batch, same Rademacher probes, ``rtol=0`` so the probe counts
    are equal), on a small CNN and on an MLP.  Two loops are timed: the textbook one
    that rebuilds the gradient graph for every probe, and one that builds it once and
    reuses it (as PyHessian does).  Ratio = loop time / extractor time (target >= 2).
(b) one epoch of mode-connectivity curve training against one epoch of plain SGD
    training of one model (same batches, batch 128).  Ratio = curve / SGD (target <= 1.5).
(c) ``extractors.cka`` on 768 samples (6 batches of 128) for a group of models, against
    the textbook computation written here: each model copied and run on the same mixed-up
    batches, then ``tr(KHLH)`` with ``n × n`` Gram matrices and the centring matrix ``H``
    for every ordered pair, as most public CKA code does.  Ratio = textbook time /
    extractor time (the issue sets no target).

``--device`` (default ``cpu``) runs the extractors and their baselines on another device,
e.g. ``cuda``; the timings then wait for the device to finish.

Every timing is the minimum over ``--repeats`` interleaved runs after a warm-up (the minimum is the
figure least disturbed by other work on the machine).  The warm-up also absorbs one-off
costs of the process, such as loading torch's tracer for the first ``hessian_trace``
(about one second, once per process).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import platform
import time

import torch
from torch import nn
from torch.utils.data import TensorDataset

import extractors
from extractors.utils import (
    ParameterLayout,
    PointEvaluator,
    mixed_batches,
    rademacher_probe,
    resolve_device,
    sample_indices,
    train_curve,
)


def small_cnn(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))


def mlp(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 128), nn.ReLU(),
                         nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))


def cifar_like(n: int, seed: int = 0) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(n, 3, 32, 32, generator=g),
                         torch.randint(0, 10, (n,), generator=g))


def best_of(repeats: int, *functions):
    """Minimum wall time of each function over interleaved repeats (after one untimed
    warm-up call each), and its last result."""
    for function in functions:
        function()
    times = [math.inf] * len(functions)
    results = [None] * len(functions)
    for _ in range(repeats):
        for i, function in enumerate(functions):
            start = time.perf_counter()
            results[i] = function()
            times[i] = min(times[i], time.perf_counter() - start)
    return times, results


# --- (a) Hessian trace ------------------------------------------------------------------
def naive_trace(model, data, n_samples, n_probes, seed, reuse_graph, device="cpu"):
    """Hutchinson trace by a plain double-backward loop, one probe at a time.

    Draws the batch and the probes exactly as ``extractors.hessian_trace`` does.
    """
    gen = torch.Generator().manual_seed(seed)
    x, y = data.tensors[0], data.tensors[1]
    idx = sample_indices(len(data), n_samples, gen)
    x, y = x[idx].to(device), y[idx].to(device)
    model = copy.deepcopy(model).to(device).eval()
    params = [p for p in model.parameters() if p.requires_grad]
    size = sum(p.numel() for p in params)

    def gradient():
        loss = nn.functional.cross_entropy(model(x), y)
        return torch.autograd.grad(loss, params, create_graph=True)

    grads = gradient() if reuse_graph else None
    values = []
    for _ in range(n_probes):
        v = rademacher_probe(size, gen, params[0].dtype).to(device).split(
            [p.numel() for p in params])
        v = [piece.view_as(p) for piece, p in zip(v, params, strict=True)]
        g = grads if reuse_graph else gradient()
        hv = torch.autograd.grad(g, params, v, retain_graph=reuse_graph)
        values.append(float(sum((a * b).sum() for a, b in zip(hv, v, strict=True))))
    return sum(values) / len(values)


def bench_trace(name, model, data, n_probes, repeats, device="cpu"):
    seed = 0

    def ours():
        return extractors.hessian_trace(model, data, max_probes=n_probes, rtol=0,
                                        random_state=seed, device=device).value

    def loop():
        return naive_trace(model, data, 200, n_probes, seed, reuse_graph=False, device=device)

    def cached():
        return naive_trace(model, data, 200, n_probes, seed, reuse_graph=True, device=device)

    (t_ours, t_loop, t_cached), (v_ours, v_loop, v_cached) = best_of(repeats, ours, loop, cached)
    agreement = max(abs(v_ours - v_loop), abs(v_ours - v_cached)) / abs(v_loop)
    return {
        "model": name, "parameters": sum(p.numel() for p in model.parameters()),
        "probes": n_probes, "seconds_extractor": t_ours, "seconds_loop": t_loop,
        "seconds_cached_loop": t_cached, "ratio_vs_loop": t_loop / t_ours,
        "ratio_vs_cached_loop": t_cached / t_ours, "relative_difference_of_values": agreement,
    }


# --- (b) curve training -------------------------------------------------------------------
def _synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_curve(data, repeats, batch_size=128, device="cpu"):
    model_a, model_b = small_cnn(0), small_cnn(1)
    device = torch.device(device)

    def curve_epoch():
        layout = ParameterLayout(model_a)
        worker = PointEvaluator(model_a, device)
        end_a, end_b = layout.flatten(model_a, device), layout.flatten(model_b, device)
        middle = (0.5 * (end_a + end_b)).requires_grad_(True)
        train_curve(worker, layout, end_a, middle, end_b, data, 1, batch_size, 0.01, 0.9, 5e-4,
                    torch.Generator().manual_seed(0), False)
        _synchronize(device)

    def sgd_epoch():
        model = copy.deepcopy(model_a).to(device).train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
        x_all, y_all = data.tensors
        for start in range(0, len(data), batch_size):
            idx = order[start:start + batch_size]
            x, y = x_all[idx].to(device), y_all[idx].to(device)
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        _synchronize(device)

    (t_curve, t_sgd), _ = best_of(repeats, curve_epoch, sgd_epoch)
    return {"model": "small CNN", "samples": len(data), "batch_size": batch_size,
            "seconds_curve_epoch": t_curve, "seconds_sgd_epoch": t_sgd,
            "ratio_curve_vs_sgd": t_curve / t_sgd}


# --- (c) CKA ----------------------------------------------------------------------------------
def textbook_cka(models, data, seed, n_batches=6, batch_size=128, mixup_alpha=16.0,
                 device="cpu"):
    """Mean linear CKA over ordered pairs, computed the textbook way.

    Feeds the models the batches ``extractors.cka`` draws (its own helper); then each
    model (a copy, in eval mode) gives softmax outputs, and every ordered pair costs
    ``HSIC(K, L) = tr(K H L H)`` with ``n × n`` Gram matrices in float64.
    """
    batches = [x.to(device) for x, _ in mixed_batches(data, n_batches, batch_size, mixup_alpha,
                                                       seed)]
    grams = []
    for model in models:
        model = copy.deepcopy(model).to(device).eval()
        with torch.no_grad():
            outputs = torch.cat([torch.softmax(model(x).double(), dim=1) for x in batches])
        grams.append(outputs @ outputs.T)
    n = grams[0].shape[0]
    centring = torch.eye(n, dtype=torch.float64, device=grams[0].device) - 1.0 / n

    def hsic(k, l):
        return torch.trace(k @ centring @ l @ centring)

    values = [float(hsic(grams[i], grams[j]) / torch.sqrt(hsic(grams[i], grams[i])
                                                          * hsic(grams[j], grams[j])))
              for i in range(len(models)) for j in range(len(models)) if i != j]
    return sum(values) / len(values)


def bench_cka(data, repeats, n_models, device="cpu"):
    models = [small_cnn(seed) for seed in range(n_models)]

    def ours():
        return extractors.cka(models, data, random_state=0, device=device)

    def textbook():
        return textbook_cka(models, data, seed=0, device=device)

    (t_cka, t_textbook), (result, v_textbook) = best_of(repeats, ours, textbook)
    return {"model": "small CNN", "models": n_models, "samples": result.n_samples,
            "seconds": t_cka, "seconds_textbook": t_textbook,
            "ratio_vs_textbook": t_textbook / t_cka, "value": result.value,
            "relative_difference_of_values": abs(result.value - v_textbook) / abs(v_textbook)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks extractors",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=24,
                        help="Hutchinson probes per trace in (a) (default: 24)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="interleaved repeats; the minimum time counts (default: 3)")
    parser.add_argument("--curve-samples", type=int, default=1024,
                        help="training samples of the epoch in (b) (default: 1024)")
    parser.add_argument("--cka-models", type=int, default=5,
                        help="models in the CKA group of (c) (default: 5, as in the paper)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads for this run (default: torch's choice)")
    parser.add_argument("--device", default="cpu",
                        help="where the extractors and baselines run: cpu, cuda, cuda:N or auto "
                             "(default: cpu)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH as JSON")
    args = parser.parse_args(argv)
    if args.probes < 2 or args.repeats < 1 or args.curve_samples < 128 or args.cka_models < 2:
        parser.error("expected --probes >= 2, --repeats >= 1, --curve-samples >= 128, "
                     "--cka-models >= 2")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        device = resolve_device(args.device)
    except ValueError as error:
        parser.error(str(error))

    machine = (f"{platform.machine()} CPU, {torch.get_num_threads()} torch threads, "
               f"torch {torch.__version__}")
    if device.type == "cuda":
        machine += f", device {torch.cuda.get_device_name(device)}"
    print(f"extractors benchmark on {machine}; minimum of {args.repeats} interleaved runs")
    hessian_data = cifar_like(1000)
    trace = [bench_trace("small CNN", small_cnn(0), hessian_data, args.probes, args.repeats, device),
             bench_trace("MLP", mlp(0), hessian_data, args.probes, args.repeats, device)]
    print(f"(a) hessian_trace, {args.probes} probes on 200 samples "
          "(ratio = loop time / extractor time; target >= 2)")
    for row in trace:
        print(f"    {row['model']:<10} {row['parameters']:>7} params: extractor "
              f"{row['seconds_extractor']:.3f} s | per-probe loop {row['seconds_loop']:.3f} s "
              f"-> {row['ratio_vs_loop']:.2f}x | cached-gradient loop "
              f"{row['seconds_cached_loop']:.3f} s -> {row['ratio_vs_cached_loop']:.2f}x "
              f"(values agree to {row['relative_difference_of_values']:.1e})")
    curve = bench_curve(cifar_like(args.curve_samples, seed=1), args.repeats, device=device)
    print(f"(b) one epoch, {curve['samples']} samples, batch 128, small CNN: curve "
          f"{curve['seconds_curve_epoch']:.3f} s vs SGD {curve['seconds_sgd_epoch']:.3f} s "
          f"-> {curve['ratio_curve_vs_sgd']:.2f}x (target <= 1.5)")
    cka_row = bench_cka(hessian_data, args.repeats, args.cka_models, device)
    print(f"(c) cka of {cka_row['models']} small CNNs on {cka_row['samples']} samples: "
          f"extractor {cka_row['seconds']:.3f} s | textbook n x n Gram {cka_row['seconds_textbook']:.3f} s "
          f"-> {cka_row['ratio_vs_textbook']:.2f}x (no target; values agree to "
          f"{cka_row['relative_difference_of_values']:.1e})")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"machine": machine, "device": str(device), "repeats": args.repeats,
                       "hessian_trace": trace,
                       "curve_epoch": curve, "cka": cka_row}, handle, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
