"""The paper's Table 3: what sharpness and connectivity cost next to training, composed from measured pieces.

The paper (Zhou et al. 2024, appendix B, Table 3) trains one configuration -- ResNet-18
on CIFAR-10, batch 128, five seeds x 150 epochs -- in 17,492.25 s on a Quadro RTX 6000
and reports that measuring sharpness (the Hessian trace) adds 42.73 s (+0.244 %) and
connectivity (one mode-connectivity curve) 1,232.76 s (+7.04 %).  Here each piece of
that protocol is timed on ``md_sklearn.models.resnet18_width(K)`` and the chosen device,
on synthetic CIFAR-shaped tensors (3 x 32 x 32 Gaussian inputs, 10 uniform labels):

- ``training``: one SGD epoch with the paper's recipe (``train_classifier``: momentum
  0.9, weight decay 5e-4, constant learning rate), batch 128; per sample;
- ``trace``: ``extractors.hessian_trace`` on 200 samples with ``rtol=0``, once with 1
  probe and once with ``1 + P`` probes: the 1-probe call is the per-model set-up plus one
  probe, the difference gives the cost of one more Hutchinson probe;
- ``curve``: one epoch of mode-connectivity curve training (``extractors.utils.train_curve``),
  batch 128; per sample;
- ``evaluation``: one BatchNorm re-estimation pass plus one eval-mode error pass at a
  point of the curve (``PointEvaluator.error_and_loss``); per sample.

Pixels do not change the cost: every operation of these networks (convolution,
BatchNorm, ReLU, pooling, linear, cross-entropy) does the same work whatever the values,
and every step count is fixed (``rtol=0``, whole epochs), so Gaussian tensors time
exactly what CIFAR-10 images would.  Each piece is the median over ``--repeats``
interleaved runs after one untimed warm-up.  The percentages are also composed within
each repeat, from pieces timed seconds apart, and their median over the repeats decides
whether a target is met: on a shared machine the load drifts during a run, and a ratio
of two pieces timed together drifts far less than either piece.  On the CPU
the run uses one torch thread unless ``--threads`` says otherwise: the percentages are
ratios, and one thread is far less disturbed by other processes on the cores.

The pieces are composed with the paper's protocol on 50,000 training images:
training = 5 seeds x 150 epochs; sharpness = 5 models x (set-up + 100 probes), an upper
bound (the estimate stops earlier once the running mean changes by < 0.1 %);
connectivity = 1 curve x (50 epochs + 3 points x one evaluation).  The percentages are
ratios of times measured on the same device in the same process, so they compare with
the paper's on any device.  The composition is checked against a direct
``LandscapeFeaturizer`` run (``hessian_t`` and ``mode_connectivity_peak``) on a short
configuration, timed in the same interleaved repeats: predicted and measured seconds
(medians) should agree within 20 %.

Defaults: width 8, 512 samples, 5 repeats, 4 extra probes (about 2 minutes on the
2-core CPU of docs/cost.rst, shared with other jobs); ``--quick``: width 2, 256 samples, 3 repeats, 2 extra probes (about 30 s).
``docs/cost.rst`` has the table of a run and how to read it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

#: The paper's Table 3 and its text (appendix B): seconds on a Quadro RTX 6000.
PAPER = {
    "training_seconds": 17492.25,
    "sharpness_seconds": 42.73,
    "connectivity_seconds": 1232.76,
    "sharpness_percent": 0.244,
    "connectivity_percent": 7.04,
    "seconds_per_training_epoch": 23.32,
    "device": "Quadro RTX 6000 + Intel Xeon Gold 6248",
}

#: The paper's protocol for one configuration (appendix B; docs/extractors.rst).
PROTOCOL = {
    "train_set_size": 50_000,  # CIFAR-10 training images
    "batch_size": 128,
    "seeds": 5,
    "training_epochs": 150,
    "models": 5,  # sharpness is measured on every seed's model
    "max_probes": 100,  # extractors.defaults.TRACE_MAX_PROBES
    "hessian_samples": 200,  # extractors.defaults.HESSIAN_N_SAMPLES
    "curves": 1,  # one curve, between the first two seeds
    "curve_epochs": 50,  # extractors.defaults.CURVE_EPOCHS
    "curve_points": 3,  # t = 0.25, 0.5, 0.75: one BatchNorm pass + one eval pass each
}

#: The figures also taken within each repeat (their medians decide the targets).
RATIOS = ("sharpness_percent", "connectivity_percent", "probe_vs_training_on_same_samples",
          "curve_vs_training_epoch", "evaluation_vs_training_epoch")

#: Our settings: (width, training subset, repeats, extra probes, featurizer check).
SETTINGS = {
    "default": {"width": 8, "samples": 512, "repeats": 5, "probes": 4,
                "check_members": 2, "check_probes": 4, "check_curve_epochs": 1},
    "quick": {"width": 2, "samples": 256, "repeats": 3, "probes": 2,
              "check_members": 2, "check_probes": 2, "check_curve_epochs": 1},
}


def compose(pieces: dict, protocol: dict = PROTOCOL) -> dict:
    """Table 3 from the measured pieces (seconds) and the protocol.

    ``pieces`` holds ``training_per_sample``, ``curve_per_sample``,
    ``evaluation_per_sample`` (seconds per training sample), ``trace_first_probe``
    (set-up plus one probe) and ``trace_per_probe`` (each further probe).
    """
    n = protocol["train_set_size"]
    training = protocol["seeds"] * protocol["training_epochs"] * n * pieces["training_per_sample"]
    per_model = pieces["trace_first_probe"] + (protocol["max_probes"] - 1) * pieces["trace_per_probe"]
    sharpness = protocol["models"] * per_model
    probes_only = protocol["models"] * protocol["max_probes"] * pieces["trace_per_probe"]
    curve_training = protocol["curves"] * protocol["curve_epochs"] * n * pieces["curve_per_sample"]
    evaluation = protocol["curves"] * protocol["curve_points"] * n * pieces["evaluation_per_sample"]
    connectivity = curve_training + evaluation
    batch = protocol["hessian_samples"] * pieces["training_per_sample"]
    # mean probes per model at which sharpness costs exactly the paper's percentage
    budget = PAPER["sharpness_percent"] / 100.0 * training / protocol["models"]
    break_even = (1 + (budget - pieces["trace_first_probe"]) / pieces["trace_per_probe"]
                  if pieces["trace_per_probe"] > 0 else float("inf"))
    return {
        "training_seconds": training,
        "sharpness_seconds": sharpness,
        "connectivity_seconds": connectivity,
        "sharpness_percent": 100.0 * sharpness / training,
        "connectivity_percent": 100.0 * connectivity / training,
        # what dominates: the shares and the ratios that decide the percentages
        "sharpness_setup_seconds": sharpness - probes_only,
        "sharpness_probes_seconds": probes_only,
        "connectivity_curve_training_seconds": curve_training,
        "connectivity_evaluation_seconds": evaluation,
        "probe_vs_training_on_same_samples": pieces["trace_per_probe"] / batch,
        "probes_per_model_at_paper_percent": break_even,
        "curve_vs_training_epoch": pieces["curve_per_sample"] / pieces["training_per_sample"],
        "evaluation_vs_training_epoch": (pieces["evaluation_per_sample"]
                                         / pieces["training_per_sample"]),
    }


def predict_featurizer(pieces: dict, members: int, probes: int, curve_epochs: int,
                       samples: int, points: int = PROTOCOL["curve_points"]) -> float:
    """Seconds a featurizer run of ``hessian_t`` (``probes`` probes, ``rtol=0``) and one
    curve (``curve_epochs`` epochs, ``points`` evaluations) should take on ``samples``."""
    trace = members * (pieces["trace_first_probe"] + (probes - 1) * pieces["trace_per_probe"])
    curve = samples * (curve_epochs * pieces["curve_per_sample"]
                       + points * pieces["evaluation_per_sample"])
    return trace + curve


# --- the measured pieces ------------------------------------------------------------------
def _synthetic(n, seed=0):
    import torch
    from torch.utils.data import TensorDataset

    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(n, 3, 32, 32, generator=g),
                         torch.randint(0, 10, (n,), generator=g))


def _models(width, count):
    import torch

    from md_sklearn.models import resnet18_width

    models = []
    for seed in range(count):
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            models.append(resnet18_width(width))
    return models


def _timer(device):
    import torch

    def timed(function):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        function()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - start

    return timed


def measure_pieces(width, samples, repeats, probes, device, check=None):
    """Median seconds of each piece over ``repeats`` interleaved runs, after a warm-up.

    ``check`` (members, probes, curve_epochs) adds a direct featurizer run of that short
    configuration to every repeat (the composition is checked under the same load).
    """
    import torch

    import extractors
    from extractors.defaults import (
        CURVE_BATCH_SIZE,
        CURVE_LR,
        CURVE_MOMENTUM,
        CURVE_WEIGHT_DECAY,
        HESSIAN_N_SAMPLES,
    )
    from extractors.utils import ParameterLayout, PointEvaluator, train_curve
    from md_sklearn.collections import train_classifier

    timed = _timer(device)
    data = _synthetic(samples)
    model_a, model_b = _models(width, 2)
    layout = ParameterLayout(model_a)
    end_a, end_b = layout.flatten(model_a, device), layout.flatten(model_b, device)
    worker = PointEvaluator(model_a, device)
    params = layout.unflatten(0.5 * (end_a + end_b))

    def training():
        train_classifier(model_a, data, epochs=1, batch_size=PROTOCOL["batch_size"],
                         random_state=0, device=device)

    def trace(count):
        return lambda: extractors.hessian_trace(model_a, data, n_samples=HESSIAN_N_SAMPLES,
                                                max_probes=count, rtol=0, random_state=0,
                                                device=device)

    def curve():
        middle = (0.5 * (end_a + end_b)).requires_grad_(True)
        train_curve(worker, layout, end_a, middle, end_b, data, 1, CURVE_BATCH_SIZE, CURVE_LR,
                    CURVE_MOMENTUM, CURVE_WEIGHT_DECAY, torch.Generator().manual_seed(0), False)

    def evaluation():
        worker.error_and_loss(params, data, CURVE_BATCH_SIZE)

    functions = {"training": training, "trace_1": trace(1), "trace_more": trace(1 + probes),
                 "curve": curve, "evaluation": evaluation}
    for function in functions.values():  # warm-up: lazy set-up of torch, the tracer, cuDNN
        function()
    if check is not None:  # warmed up by the pieces it is made of
        functions["featurizer"] = _featurizer_run(width, samples, *check, device)
    runs = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            runs[name].append(timed(function))
    median = {name: statistics.median(times) for name, times in runs.items()}
    pieces = _pieces(median, samples, probes)
    per_repeat = [_pieces({name: times[i] for name, times in runs.items()}, samples, probes)
                  for i in range(repeats)]
    runs = {name: [round(t, 4) for t in times] for name, times in runs.items()}
    runs["pieces_per_repeat"] = per_repeat
    if check is None:
        return pieces, runs, None
    members, check_probes, curve_epochs = check
    predicted = predict_featurizer(pieces, members, check_probes, curve_epochs, samples)
    measured = median["featurizer"]
    return pieces, runs, {
        "metrics": ["hessian_t", "mode_connectivity_peak"], "members": members,
        "probes": check_probes, "curve_epochs": curve_epochs, "samples": samples,
        "seconds_predicted": predicted, "seconds_measured": measured,
        "relative_error": (predicted - measured) / measured,
        "within_20_percent": abs(predicted - measured) <= 0.2 * measured}


def _pieces(seconds, samples, probes):
    return {
        "training_per_sample": seconds["training"] / samples,
        "trace_first_probe": seconds["trace_1"],
        "trace_per_probe": max(seconds["trace_more"] - seconds["trace_1"], 0.0) / probes,
        "curve_per_sample": seconds["curve"] / samples,
        "evaluation_per_sample": seconds["evaluation"] / samples,
    }


def _featurizer_run(width, samples, members, probes, curve_epochs, device):
    """A direct featurizer run (``hessian_t`` with ``probes`` probes, ``rtol=0``; one curve
    of ``curve_epochs`` epochs) of ``members`` fresh models on other synthetic samples."""
    from md_sklearn import LandscapeFeaturizer, ModelGroup

    group = ModelGroup(_models(width, members), _synthetic(samples, seed=1),
                       name=f"resnet18_width({width})")

    def run():
        LandscapeFeaturizer(["hessian_t", "mode_connectivity_peak"], device=str(device),
                            random_state=0, progress=False, hessian_max_probes=probes,
                            hessian_rtol=0.0, curve_epochs=curve_epochs).fit_transform([group])

    return run


# --- output --------------------------------------------------------------------------------
def _row(name, ours, paper, percent=None, paper_percent=None):
    text = f"  {name:<14} {ours:>14,.2f} s {paper:>12,.2f} s"
    if percent is not None:
        text += f" {percent:>11.3f} % {paper_percent:>8.3f} %"
    return text


def print_table(result):
    table, pieces, paper = result["table"], result["pieces"], PAPER
    print(f"Table 3, composed: resnet18_width({result['width']}) "
          f"({result['parameters']:,} parameters) on {result['device']}, pieces timed on "
          f"{result['samples']} synthetic CIFAR-shaped samples, median of {result['repeats']}")
    print(f"  pieces: SGD training {1e3 * pieces['training_per_sample']:.3f} ms/sample | "
          f"trace set-up + 1st probe {pieces['trace_first_probe']:.3f} s, each further probe "
          f"{pieces['trace_per_probe']:.3f} s (200 samples) | curve "
          f"{1e3 * pieces['curve_per_sample']:.3f} ms/sample | BatchNorm re-estimate + eval "
          f"{1e3 * pieces['evaluation_per_sample']:.3f} ms/sample")
    print(f"  {'':<14} {'ours':>16} {'paper':>14} {'ours':>13} {'paper':>10}")
    print(_row("training", table["training_seconds"], paper["training_seconds"]))
    print(_row("sharpness", table["sharpness_seconds"], paper["sharpness_seconds"],
               table["sharpness_percent"], paper["sharpness_percent"]))
    print(_row("connectivity", table["connectivity_seconds"], paper["connectivity_seconds"],
               table["connectivity_percent"], paper["connectivity_percent"]))
    met = result["targets_met"]
    print(f"  targets (median ratio <= the paper's percentage): sharpness "
          f"{'met' if met['sharpness'] else 'MISSED'}, connectivity "
          f"{'met' if met['connectivity'] else 'MISSED'}")
    print(f"  sharpness = set-up {table['sharpness_setup_seconds']:,.1f} s + probes "
          f"{table['sharpness_probes_seconds']:,.1f} s; one probe costs "
          f"{table['probe_vs_training_on_same_samples']:.2f}x training on its 200 samples; "
          f"the paper's {PAPER['sharpness_percent']} % holds up to "
          f"{table['probes_per_model_at_paper_percent']:.0f} probes per model")
    print(f"  connectivity = curve training {table['connectivity_curve_training_seconds']:,.1f} s"
          f" + evaluation {table['connectivity_evaluation_seconds']:,.1f} s; a curve epoch costs "
          f"{table['curve_vs_training_epoch']:.2f}x an SGD epoch, an evaluation "
          f"{table['evaluation_vs_training_epoch']:.2f}x")
    ratios = result["ratios_per_repeat"]

    def spread(key, unit):
        values = ratios[key]
        return (f"{ratios['median_' + key]:.3f}{unit} (repeats {min(values):.3f} to "
                f"{max(values):.3f})")

    print(f"  ratios within each repeat, median over the {len(ratios['sharpness_percent'])} "
          f"repeats: sharpness {spread('sharpness_percent', ' %')}, connectivity "
          f"{spread('connectivity_percent', ' %')}; probe {spread('probe_vs_training_on_same_samples', 'x')}, "
          f"curve epoch {spread('curve_vs_training_epoch', 'x')}")
    check = result["featurizer_check"]
    if check is None:
        return
    print(f"  check: LandscapeFeaturizer(hessian_t, mode_connectivity_peak), "
          f"{check['members']} members, {check['probes']} probes, {check['curve_epochs']} curve "
          f"epoch(s) on {check['samples']} samples: predicted {check['seconds_predicted']:.1f} s, "
          f"measured {check['seconds_measured']:.1f} s ({100 * check['relative_error']:+.1f} %; "
          f"{'within' if check['within_20_percent'] else 'OUTSIDE'} 20 %)")


def run(device="auto", width=None, quick=False, samples=None, repeats=None, probes=None,
        check=True):
    """Measure, compose and check; returns the figures (the JSON payload)."""
    import torch

    from extractors.utils import resolve_device

    settings = dict(SETTINGS["quick" if quick else "default"])
    for key, value in (("width", width), ("samples", samples), ("repeats", repeats),
                       ("probes", probes)):
        if value is not None:
            settings[key] = value
    device = resolve_device(device)
    start, load_start = time.perf_counter(), os.getloadavg()[0]
    checked = ((settings["check_members"], settings["check_probes"],
                settings["check_curve_epochs"]) if check else None)
    pieces, runs, check_result = measure_pieces(settings["width"], settings["samples"],
                                                settings["repeats"], settings["probes"], device,
                                                checked)
    table = compose(pieces)
    tables = [compose(one) for one in runs["pieces_per_repeat"]]
    ratios = {key: [t[key] for t in tables] for key in RATIOS}
    ratios.update({f"median_{key}": statistics.median(values)
                   for key, values in list(ratios.items())})
    result = {
        "machine": (f"{platform.machine()} CPU, {os.cpu_count()} cores, "
                    f"{torch.get_num_threads()} torch threads, torch {torch.__version__}"),
        "device": (torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"),
        "quick": quick, "width": settings["width"],
        "parameters": sum(p.numel() for p in _models(settings["width"], 1)[0].parameters()),
        "samples": settings["samples"], "repeats": settings["repeats"],
        "extra_probes": settings["probes"], "data": "synthetic CIFAR-shaped tensors",
        "protocol": PROTOCOL, "paper": PAPER, "pieces": pieces, "runs_seconds": runs,
        "table": table,
        "ratios_per_repeat": ratios,
        "targets_met": {"sharpness": (ratios["median_sharpness_percent"]
                                      <= PAPER["sharpness_percent"]),
                        "connectivity": (ratios["median_connectivity_percent"]
                                         <= PAPER["connectivity_percent"])},
        "featurizer_check": check_result,
    }
    result["load_average_start"], result["load_average_end"] = load_start, os.getloadavg()[0]
    result["seconds_total"] = time.perf_counter() - start
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks cost",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA when available), cpu, cuda or cuda:N (default: auto)")
    parser.add_argument("--width", type=int, default=None,
                        help="ResNet-18 width K (default: 8; 2 with --quick; the paper's model is 64)")
    parser.add_argument("--samples", type=int, default=None,
                        help="synthetic training samples the epochs are timed on "
                             "(default: 512; 256 with --quick; at least 200)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="interleaved repeats; the median counts (default: 5; 3 with --quick)")
    parser.add_argument("--probes", type=int, default=None,
                        help="probes added to the 1-probe trace to time one probe "
                             "(default: 4; 2 with --quick)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads for this run (default: 1 on the CPU -- the "
                             "figure least disturbed by other work on a shared machine; "
                             "torch's choice with CUDA)")
    parser.add_argument("--quick", action="store_true", help="a smoke run in well under a minute")
    parser.add_argument("--no-check", action="store_true",
                        help="skip the direct featurizer run that checks the composition")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH as JSON")
    args = parser.parse_args(argv)
    if ((args.width is not None and args.width < 1)
            or (args.samples is not None and args.samples < 200)
            or (args.repeats is not None and args.repeats < 1)
            or (args.probes is not None and args.probes < 1)):
        parser.error("expected --width >= 1, --samples >= 200, --repeats >= 1, --probes >= 1")
    threads = args.threads
    if threads is None and not args.device.startswith(("cuda", "auto")):
        threads = 1
    if threads is None and args.device == "auto":
        import torch

        threads = None if torch.cuda.is_available() else 1
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    try:
        result = run(args.device, args.width, args.quick, args.samples, args.repeats,
                     args.probes, check=not args.no_check)
    except ValueError as error:  # e.g. --device cuda without CUDA
        parser.error(str(error))
    print(f"cost benchmark on {result['machine']}, device {result['device']}"
          f"{' (quick)' if args.quick else ''}; load average {result['load_average_start']:.1f} "
          f"at the start, {result['load_average_end']:.1f} at the end (other processes share "
          f"the cores)")
    print_table(result)
    print(f"done in {result['seconds_total']:.0f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
