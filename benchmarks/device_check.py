"""One run for a machine with a GPU: the CUDA tests and the extractors, cost and featurizer benchmarks, every figure in one JSON.

``python -m benchmarks device-check --json PATH`` (or ``bash benchmarks/device_check.sh``,
which writes ``$OUT/device_check.json``) runs, each in its own process so that no step's
thread or device settings leak into the next:

1. ``pytest tests/test_cuda.py``: every extractor and the featurizer on CUDA against the CPU;
2. ``python -m benchmarks extractors --device cuda``: the extractors against their baselines;
3. ``python -m benchmarks cost --device cuda --width 64 --samples 5120 --probes 16``: the
   paper's Table 3 on the paper's model (ResNet-18, width 64), with its featurizer check;
4. ``python -m benchmarks featurizer --quick``: the featurizer's speed, cache and memory
   figures (that benchmark runs on the CPU: it measures the worker processes).

Sized to take well under 8 minutes of device time (the cost step is the longest).
``--small`` runs the same steps with small sizes on whatever device there is (the CPU
here), so the script itself is exercised without a GPU: the CUDA tests then skip.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def steps(device: str, small: bool) -> list[tuple[str, list[str]]]:
    """``(name, argv)`` of each step; ``{json}`` in argv is replaced by the step's file."""
    python = [sys.executable, "-m"]
    tests = [*python, "pytest", "tests/test_cuda.py", "-q", "-p", "no:cacheprovider", "-rs"]
    if small:
        return [
            ("cuda_tests", tests),
            ("extractors", [*python, "benchmarks", "extractors", "--device", device,
                            "--probes", "2", "--repeats", "1", "--curve-samples", "128",
                            "--cka-models", "2", "--train-epochs", "5", "--targets", "0.05",
                            "--rule-seeds", "2", "--target-max-probes", "200",
                            "--hutchpp-products", "30", "--hutchpp-seeds", "4",
                            "--json", "{json}"]),
            ("cost", [*python, "benchmarks", "cost", "--device", device, "--quick",
                      "--repeats", "1", "--json", "{json}"]),
            ("featurizer", [*python, "benchmarks", "featurizer", "--quick", "--json", "{json}"]),
        ]
    return [
        ("cuda_tests", tests),
        ("extractors", [*python, "benchmarks", "extractors", "--device", device,
                        "--json", "{json}"]),
        ("cost", [*python, "benchmarks", "cost", "--device", device, "--width", "64",
                  "--samples", "5120", "--probes", "16", "--json", "{json}"]),
        ("featurizer", [*python, "benchmarks", "featurizer", "--quick", "--json", "{json}"]),
    ]


def run_step(name: str, argv: list[str], folder: str, timeout: float) -> dict:
    path = os.path.join(folder, f"{name}.json")
    argv = [path if part == "{json}" else part for part in argv]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env,
                              timeout=timeout)
        returncode, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as expired:
        returncode = None
        output = f"timed out after {timeout:.0f} s\n" + (
            expired.stdout or b"").decode(errors="replace")[-4000:]
    seconds = time.perf_counter() - start
    figures = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            figures = json.load(handle)
    return {"command": " ".join(argv[1:]).replace(path, "<json>"), "returncode": returncode,
            "seconds": seconds, "output_tail": output[-3000:], "figures": figures}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks device-check",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None,
                        help="device of the extractors and cost steps (default: cuda, or cpu "
                             "with --small when CUDA is not available)")
    parser.add_argument("--small", action="store_true",
                        help="small sizes: the script itself, exercised on a CPU")
    parser.add_argument("--only", metavar="NAMES",
                        help="comma-separated steps to run (cuda_tests, extractors, cost, "
                             "featurizer; default: all)")
    parser.add_argument("--step-timeout", type=float, default=300.0,
                        help="seconds before a step is stopped (default: 300)")
    parser.add_argument("--json", metavar="PATH", required=True,
                        help="the one JSON with every figure")
    args = parser.parse_args(argv)

    import torch

    has_cuda = torch.cuda.is_available()
    device = args.device or ("cuda" if has_cuda or not args.small else "cpu")
    if device.startswith("cuda") and not has_cuda:
        parser.error("CUDA is not available here; pass --small (and --device cpu) to run the "
                     "script on the CPU")
    plan = steps(device, args.small)
    if args.only:
        wanted = args.only.split(",")
        unknown = sorted(set(wanted) - {name for name, _ in plan})
        if unknown:
            parser.error(f"unknown step(s) {unknown}")
        plan = [(name, command) for name, command in plan if name in wanted]

    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
        "gpu": torch.cuda.get_device_name(0) if has_cuda else None,
        "device": device, "small": args.small, "steps": {},
    }
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for name, command in plan:
            print(f"device-check: {name} ...", flush=True)
            step = run_step(name, command, folder, args.step_timeout)
            result["steps"][name] = step
            last = step["output_tail"].strip().splitlines()[-1:] or [""]
            print(f"device-check: {name}: exit {step['returncode']} in {step['seconds']:.0f} s "
                  f"-- {last[0][:160]}", flush=True)
            Path(args.json).write_text(json.dumps(result, indent=2, default=str),
                                       encoding="utf-8")  # partial results survive a kill
    result["seconds_total"] = time.perf_counter() - start
    result["ok"] = all(step["returncode"] == 0 for step in result["steps"].values())
    Path(args.json).write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print(f"device-check: {'all steps passed' if result['ok'] else 'SOME STEPS FAILED'} in "
          f"{result['seconds_total']:.0f} s; wrote {args.json}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
