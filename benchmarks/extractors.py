"""Speed of the torch extractors against plain baselines; the trace's stopping rules and Hutch++.

Prints five figures, each measured in this process on the same data:

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
(d) stopping rules of ``hessian_trace`` on the small CNN and the MLP, trained (Adam,
    ``--train-epochs``) on labels of a random teacher CNN: the Hessian-vector products
    each rule spends and the precision it reaches -- the paper's rule (``rtol`` 1e-3,
    at most 100 probes) against ``target_relative_se`` at each of ``--targets`` (the
    standard error of ``ln(trace)``, the featurizer's ``hessian_target_se`` for a
    one-member group), over ``--rule-seeds`` probe seeds on one fixed batch.  Counted,
    not timed: one probe is one product.
(e) Hutch++ (Meyer, Musco, Musco & Woodruff 2021, written here) against Hutchinson at
    equal numbers of products on the same trained networks and batch: the variance of
    each estimate over ``--hutchpp-seeds`` seeds; ratio = Hutchinson variance / Hutch++
    variance (> 1: Hutch++ is more precise for the same products).

``--parts`` picks the parts to run (default ``abcde``).

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
    rademacher_probes,
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


# --- (d) stopping rules and (e) Hutch++ ---------------------------------------------------------
def teacher_labelled(n: int, seed: int = 0) -> TensorDataset:
    """CIFAR-shaped noise labelled by a random small CNN (logits standardised per class, so
    the ten classes are about balanced): a task the benchmark's networks can learn."""
    inputs = cifar_like(n, seed).tensors[0]
    with torch.no_grad():
        logits = small_cnn(123).eval()(inputs)
    return TensorDataset(inputs, ((logits - logits.mean(0)) / logits.std(0)).argmax(1))


def trained(model: nn.Module, data: TensorDataset, epochs: int, seed: int = 0) -> nn.Module:
    """``model`` after ``epochs`` epochs of Adam (lr 1e-3, batch 64), in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x_all, y_all = data.tensors
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(data), generator=gen)
        for start in range(0, len(data), 64):
            idx = order[start:start + 64]
            loss = nn.functional.cross_entropy(model(x_all[idx]), y_all[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


def training_summary(model, data) -> dict:
    with torch.no_grad():
        logits = model(data.tensors[0])
    return {"train_loss": float(nn.functional.cross_entropy(logits, data.tensors[1])),
            "train_accuracy": float((logits.argmax(1) == data.tensors[1]).double().mean())}


def _mean(values):
    return math.fsum(values) / len(values)


def _std(values):
    mean = _mean(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))


def bench_stopping(name, model, batch, targets, seeds, target_max_probes, device="cpu"):
    """Products and precision of the paper's rule and of each precision target, on one
    fixed batch (``batch`` is the whole Hessian batch, so only the probes vary)."""
    rules = [("paper rtol 1e-3", {})] + [
        (f"target {t:g}", {"target_relative_se": t, "max_probes": target_max_probes})
        for t in targets]
    rows = []
    for rule, options in rules:
        results = [extractors.hessian_trace(model, batch, n_samples=len(batch),
                                            random_state=seed, device=device, **options)
                   for seed in range(seeds)]
        logs = [math.log(r.value) if r.value > 0 else math.nan for r in results]
        rows.append({
            "model": name, "rule": rule, "target_se_of_log": options.get("target_relative_se"),
            "products_mean": _mean([r.n_probes for r in results]),
            "products": [r.n_probes for r in results],
            "trace_mean": _mean([r.value for r in results]),
            "se_trace_mean": _mean([r.standard_error for r in results]),
            "se_log_mean": _mean([r.standard_error / abs(r.value) for r in results]),
            "sd_log_over_seeds": _std(logs) if seeds > 1 else math.nan,
            "stopped_at_max_probes": sum(r.stopped_by == "max_probes" for r in results),
        })
    return rows


def hvp_on_batch(model, batch, device="cpu"):
    """``(v -> Hv, number of parameters)`` for the eval-mode mean cross-entropy on
    ``batch``, by double backward through a gradient graph built once."""
    model = copy.deepcopy(model).to(device).eval()
    x, y = (t.to(device) for t in batch.tensors)
    params = [p for p in model.parameters() if p.requires_grad]
    sizes = [p.numel() for p in params]
    grads = torch.autograd.grad(nn.functional.cross_entropy(model(x), y), params,
                                create_graph=True)

    def hvp(v: torch.Tensor) -> torch.Tensor:
        pieces = [piece.view_as(p) for piece, p in zip(v.split(sizes), params, strict=True)]
        products = torch.autograd.grad(grads, params, pieces, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in products])

    return hvp, sum(sizes)


def hutchpp_trace(hvp, size, products, gen, dtype=torch.float32, device="cpu"):
    """Hutch++ (Meyer et al. 2021, Algorithm 1) with ``products`` matrix-vector products.

    ``k = products // 3`` Rademacher columns ``S``; ``Q`` an orthonormal basis of ``HS``
    (k products); ``tr(QᵀHQ)`` exactly (k products); plus Hutchinson on the deflated
    matrix ``(I - QQᵀ)H(I - QQᵀ)`` with the remaining ``products - 2k`` Rademacher probes
    projected off ``Q``.  Returns ``(estimate, standard error)``: the sample standard
    deviation of the deflated probes over ``sqrt(count)`` (the low-rank part is exact
    given ``S``; NaN with one deflated probe).
    """
    k = products // 3
    if k < 1 or products - 2 * k < 1:
        raise ValueError(f"expected products >= 3 for Hutch++, got {products}.")
    sketch = rademacher_probes(k, size, gen, dtype).to(device)
    basis, _ = torch.linalg.qr(torch.stack([hvp(s) for s in sketch]).T.double())
    basis = basis.to(dtype)  # (size, k), orthonormal columns
    low_rank = math.fsum(float(torch.dot(q, hvp(q))) for q in basis.T)
    probes = rademacher_probes(products - 2 * k, size, gen, dtype).to(device)
    probes = probes - (probes @ basis) @ basis.T
    forms = [float(torch.dot(g.double(), hvp(g).double())) for g in probes]
    se = _std(forms) / math.sqrt(len(forms)) if len(forms) > 1 else math.nan
    return low_rank + _mean(forms), se


def bench_hutchpp(name, model, batch, products, seeds, device="cpu"):
    """Variance over seeds of Hutchinson (the extractor, ``rtol=0``) and of Hutch++, both
    with ``products`` products on the same batch."""
    hvp, size = hvp_on_batch(model, batch, device)
    dtype = next(model.parameters()).dtype
    hutchinson = [extractors.hessian_trace(model, batch, n_samples=len(batch),
                                           max_probes=products, rtol=0, random_state=seed,
                                           device=device).value for seed in range(seeds)]
    plusplus = [hutchpp_trace(hvp, size, products, torch.Generator().manual_seed(seed), dtype,
                              device)[0] for seed in range(seeds)]
    var_h, var_pp = _std(hutchinson) ** 2, _std(plusplus) ** 2
    return {"model": name, "parameters": size, "products": products, "seeds": seeds,
            "hutchinson_mean": _mean(hutchinson), "hutchinson_sd": math.sqrt(var_h),
            "hutchpp_mean": _mean(plusplus), "hutchpp_sd": math.sqrt(var_pp),
            "variance_ratio": var_h / var_pp}


def precision_models(train_epochs, hessian_samples):
    """The benchmark's small CNN and MLP trained on teacher labels, and the fixed batch of
    ``hessian_samples`` training samples their Hessians are taken on."""
    data = teacher_labelled(1000)
    batch = TensorDataset(*(t[:hessian_samples] for t in data.tensors))
    models = []
    for name, build in (("small CNN", small_cnn), ("MLP", mlp)):
        with torch.random.fork_rng():
            model = trained(build(0), data, train_epochs)
        models.append((name, model, {"model": name, "train_epochs": train_epochs,
                                     **training_summary(model, data)}))
    return models, batch


def _floats(text):
    return [float(t) for t in text.split(",") if t.strip()]


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
    parser.add_argument("--parts", default="abcde",
                        help="which parts to run, e.g. 'de' (default: abcde)")
    parser.add_argument("--train-epochs", type=int, default=30,
                        help="Adam epochs of the networks of (d) and (e) (default: 30)")
    parser.add_argument("--hessian-samples", type=int, default=200,
                        help="the fixed Hessian batch of (d) and (e) (default: 200)")
    parser.add_argument("--targets", default="0.05,0.02",
                        help="standard errors of ln(trace) the rules of (d) aim at "
                             "(default: 0.05,0.02)")
    parser.add_argument("--rule-seeds", type=int, default=3,
                        help="probe seeds per rule in (d) (default: 3)")
    parser.add_argument("--target-max-probes", type=int, default=2000,
                        help="max_probes of the target rules in (d) (default: 2000)")
    parser.add_argument("--hutchpp-products", default="30,90",
                        help="products per estimate in (e) (default: 30,90)")
    parser.add_argument("--hutchpp-seeds", type=int, default=30,
                        help="seeds per estimator in (e) (default: 30)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH as JSON")
    args = parser.parse_args(argv)
    if args.probes < 2 or args.repeats < 1 or args.curve_samples < 128 or args.cka_models < 2:
        parser.error("expected --probes >= 2, --repeats >= 1, --curve-samples >= 128, "
                     "--cka-models >= 2")
    try:
        targets, products = _floats(args.targets), [int(p) for p in _floats(args.hutchpp_products)]
    except ValueError:
        parser.error("expected --targets and --hutchpp-products as comma-separated numbers")
    if (not set(args.parts) <= set("abcde") or not args.parts or args.train_epochs < 0
            or args.hessian_samples < 1 or not all(t > 0 for t in targets)
            or args.rule_seeds < 2 or args.target_max_probes < 2
            or not all(p >= 6 for p in products) or args.hutchpp_seeds < 2):
        parser.error("expected --parts among 'abcde', --train-epochs >= 0, --hessian-samples "
                     ">= 1, --targets > 0, --rule-seeds >= 2, --target-max-probes >= 2, "
                     "--hutchpp-products >= 6 and --hutchpp-seeds >= 2")
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
    payload = {"machine": machine, "device": str(device), "repeats": args.repeats}
    if "a" in args.parts:
        payload["hessian_trace"] = trace = [
            bench_trace("small CNN", small_cnn(0), hessian_data, args.probes, args.repeats, device),
            bench_trace("MLP", mlp(0), hessian_data, args.probes, args.repeats, device)]
        print(f"(a) hessian_trace, {args.probes} probes on 200 samples "
              "(ratio = loop time / extractor time; target >= 2)")
        for row in trace:
            print(f"    {row['model']:<10} {row['parameters']:>7} params: extractor "
                  f"{row['seconds_extractor']:.3f} s | per-probe loop {row['seconds_loop']:.3f} s "
                  f"-> {row['ratio_vs_loop']:.2f}x | cached-gradient loop "
                  f"{row['seconds_cached_loop']:.3f} s -> {row['ratio_vs_cached_loop']:.2f}x "
                  f"(values agree to {row['relative_difference_of_values']:.1e})")
    if "b" in args.parts:
        payload["curve_epoch"] = curve = bench_curve(cifar_like(args.curve_samples, seed=1),
                                                     args.repeats, device=device)
        print(f"(b) one epoch, {curve['samples']} samples, batch 128, small CNN: curve "
              f"{curve['seconds_curve_epoch']:.3f} s vs SGD {curve['seconds_sgd_epoch']:.3f} s "
              f"-> {curve['ratio_curve_vs_sgd']:.2f}x (target <= 1.5)")
    if "c" in args.parts:
        payload["cka"] = cka_row = bench_cka(hessian_data, args.repeats, args.cka_models, device)
        print(f"(c) cka of {cka_row['models']} small CNNs on {cka_row['samples']} samples: "
              f"extractor {cka_row['seconds']:.3f} s | textbook n x n Gram {cka_row['seconds_textbook']:.3f} s "
              f"-> {cka_row['ratio_vs_textbook']:.2f}x (no target; values agree to "
              f"{cka_row['relative_difference_of_values']:.1e})")
    if "d" in args.parts or "e" in args.parts:
        models, batch = precision_models(args.train_epochs, args.hessian_samples)
        payload["precision_models"] = [summary for _, _, summary in models]
        print(f"    (d, e) networks after {args.train_epochs} Adam epochs on 1000 teacher-labelled "
              f"samples: " + "; ".join(f"{s['model']} train accuracy {s['train_accuracy']:.2f}"
                                       for _, _, s in models)
              + f"; one fixed Hessian batch of {len(batch)} samples")
    if "d" in args.parts:
        payload["stopping_rules"] = rules = [
            row for name, model, _ in models
            for row in bench_stopping(name, model.to(device), batch, targets, args.rule_seeds,
                                      args.target_max_probes, device)]
        print(f"(d) hessian_trace stopping rules, mean over {args.rule_seeds} probe seeds "
              "(products = probes; se of ln = se / trace; target rules capped at "
              f"{args.target_max_probes} probes)")
        for row in rules:
            capped = (f", {row['stopped_at_max_probes']} at max_probes"
                      if row["stopped_at_max_probes"] and row["target_se_of_log"] else "")
            print(f"    {row['model']:<10} {row['rule']:<16} {row['products_mean']:>7.1f} products"
                  f" | trace {row['trace_mean']:.4g} se {row['se_trace_mean']:.3g} | se of ln "
                  f"{row['se_log_mean']:.4f} (sd over seeds {row['sd_log_over_seeds']:.4f})"
                  + capped)
    if "e" in args.parts:
        payload["hutchpp"] = hutchpp = [
            bench_hutchpp(name, model.to(device), batch, count, args.hutchpp_seeds, device)
            for name, model, _ in models for count in products]
        print(f"(e) Hutch++ vs Hutchinson at equal products, {args.hutchpp_seeds} seeds "
              "(ratio = Hutchinson variance / Hutch++ variance; > 1: Hutch++ wins)")
        for row in hutchpp:
            print(f"    {row['model']:<10} {row['products']:>4} products: Hutchinson "
                  f"{row['hutchinson_mean']:.4g} sd {row['hutchinson_sd']:.3g} | Hutch++ "
                  f"{row['hutchpp_mean']:.4g} sd {row['hutchpp_sd']:.3g} -> "
                  f"{row['variance_ratio']:.2f}x")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
