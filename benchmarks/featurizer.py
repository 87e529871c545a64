"""LandscapeFeaturizer: seconds per group, n_jobs=2 speed-up, warm-cache rerun, peak memory.

Prints four figures, each measured in this process (the memory figure in a fresh
child process, so that its baseline holds nothing but the imports):

(a) serial: 8 groups x 3 small CNNs (``small_cnn`` of widths 2, 4, 6, 8, trained 2 or 6
    epochs with ``train_classifier`` on 300 digits), the featurizer's default metrics and
    default (paper) options, ``n_jobs=None``, torch's default number of threads.
(b) ``n_jobs=2`` (joblib's loky backend, which limits each worker to
    ``cpu_count // 2`` threads): speed-up = serial time / parallel time, once with the
    workers to be started (cold) and once with them running (warm); also against a
    serial run with ``torch.set_num_threads(1)`` (the workers' setting); the largest
    difference of the values against the serial run.
    With ``--repeats N`` the serial, one-thread and warm runs are interleaved N times
    and the minimum of each counts (the figure least disturbed by other work).
(c) a rerun of (a) from its warm cache: wall time of the whole ``fit_transform`` call.
(d) peak memory: 50 groups x 3 checkpoints of a wider CNN on disk (``small_cnn(64)``,
    1.5 MB each), metrics ``train_error`` and ``CKA``, serial and with ``n_jobs=2``; the
    peak resident memory above the idle process (for workers: above each worker's own
    idle level) against the size of all checkpoints together.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

#: Memory run: widths of the CNNs, groups, members (our choice; see the docstring).
MEMORY_WIDTH = 64
MEMORY_GROUPS = 50
MEMORY_MEMBERS = 3


def _digits(n):
    from torch.utils.data import TensorDataset

    from md_sklearn.collections import load_digits_data

    train, _ = load_digits_data(random_state=0)
    x, y = train.tensors
    return TensorDataset(x[:n], y[:n])


def _speed_groups(data, configurations, members):
    import torch

    from md_sklearn import ModelGroup
    from md_sklearn.collections import train_classifier
    from md_sklearn.models import small_cnn

    groups = []
    for index, (width, epochs) in enumerate(configurations):
        models = []
        for seed in range(members):
            with torch.random.fork_rng():
                torch.manual_seed(1000 * index + seed)
                model = small_cnn(width)
            models.append(train_classifier(model, data, epochs=epochs, batch_size=64,
                                           random_state=seed, device="cpu"))
        groups.append(ModelGroup(models, data, name=f"width {width}, {epochs} epochs",
                                 meta={"width": width, "epochs": epochs}))
    return groups


def _timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def bench_speed(quick, repeats):
    import numpy as np
    import torch
    from joblib.externals.loky import get_reusable_executor

    from md_sklearn import LandscapeFeaturizer

    n_samples = 120 if quick else 300
    data = _digits(n_samples)
    if quick:
        configurations, members = [(2, 1), (4, 1)], 2
        options = dict(curve_epochs=2, hessian_n_samples=64, hessian_max_probes=5,
                       cka_n_batches=2, cka_batch_size=64)
    else:
        configurations = [(w, e) for w in (2, 4, 6, 8) for e in (2, 6)]
        members, options = 3, {}
    start = time.perf_counter()
    groups = _speed_groups(data, configurations, members)
    train_seconds = time.perf_counter() - start

    def featurizer(**kwargs):
        return LandscapeFeaturizer(**{"device": "cpu", "random_state": 0, "progress": False,
                                      **options, **kwargs})

    def one_thread_run():
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # the per-worker setting of (b), as a second baseline
        try:
            return featurizer().fit_transform(groups)
        finally:
            torch.set_num_threads(threads)

    # warm-up: torch's lazy initialisation happens here, not in the timed serial run; its
    # values are discarded, so the warnings of its 2-probe traces (a mean <= 0 has no log)
    # are too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        featurizer(**{"curve_epochs": 1, "hessian_max_probes": 2}).fit_transform(groups[:1])
    serial_times, one_thread_times, warm_times = [], [], []
    with tempfile.TemporaryDirectory() as cache:
        get_reusable_executor().shutdown(wait=True)  # the cold run starts its workers
        cold_seconds, cold = _timed(lambda: featurizer(n_jobs=2).fit_transform(groups))
        serial = None
        for repeat in range(repeats):  # interleaved; the minimum counts
            serial_featurizer = featurizer(cache_dir=cache if repeat == 0 else None)
            seconds, table = _timed(lambda f=serial_featurizer: f.fit_transform(groups))
            serial_times.append(seconds)
            serial = table if serial is None else serial
            seconds, one_thread = _timed(one_thread_run)
            one_thread_times.append(seconds)
            seconds, warm = _timed(lambda: featurizer(n_jobs=2).fit_transform(groups))
            warm_times.append(seconds)
        cache_seconds, cached = _timed(lambda: featurizer(cache_dir=cache).fit_transform(groups))
    serial_seconds, one_thread_seconds = min(serial_times), min(one_thread_times)
    warm_seconds = min(warm_times)
    metric_columns = [c for c in serial.columns if c not in ("width", "epochs")]

    def difference(table):
        return float(np.nanmax(np.abs(table[metric_columns].to_numpy()
                                      - serial[metric_columns].to_numpy())))

    return {
        "groups": len(groups), "members": members, "samples": n_samples,
        "metrics": metric_columns, "options": options or "defaults (the paper's)",
        "torch_threads_serial": torch.get_num_threads(),
        "seconds_training_the_models": train_seconds,
        "repeats": repeats, "seconds_serial_runs": serial_times,
        "seconds_serial_one_thread_runs": one_thread_times, "seconds_n_jobs_2_warm_runs": warm_times,
        "seconds_serial": serial_seconds, "seconds_per_group_serial": serial_seconds / len(groups),
        "seconds_serial_one_thread": one_thread_seconds,
        "speedup_warm_vs_one_thread": one_thread_seconds / warm_seconds,
        "max_difference_one_thread_vs_serial": difference(one_thread),
        "seconds_n_jobs_2_cold": cold_seconds, "seconds_n_jobs_2_warm": warm_seconds,
        "speedup_cold": serial_seconds / cold_seconds,
        "speedup_warm": serial_seconds / warm_seconds,
        "max_difference_parallel_vs_serial": max(difference(cold), difference(warm)),
        "seconds_warm_cache_rerun": cache_seconds,
        "cache_rerun_identical": bool(cached.equals(serial)),
        "table": serial.round(4).reset_index().to_dict(orient="records"),
    }


# --- (d) memory, in a child process ------------------------------------------------------------
def _write_checkpoints(folder, n_groups, members, width):
    import torch

    from md_sklearn.models import small_cnn

    paths = []
    for group in range(n_groups):
        row = []
        for member in range(members):
            with torch.random.fork_rng():
                torch.manual_seed(group * members + member)
                state = small_cnn(width).state_dict()
            path = Path(folder) / f"group{group:02d}-seed{member}.pt"
            torch.save(state, path)
            row.append(str(path))
        paths.append(row)
    return paths


def loky_workers(process):
    """The loky worker processes among the children of ``process`` (not its helpers)."""
    workers = []
    for child in process.children(recursive=True):
        try:
            if "popen_loky" in " ".join(child.cmdline()):
                workers.append(child)
        except Exception:  # a process that just ended
            continue
    return workers


class _PeakSampler:
    """Samples the resident memory of this process (or of its workers) every 5 ms."""

    def __init__(self, children=False):
        import psutil

        self._me = psutil.Process()
        self._children = children
        self.peak = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _processes(self):
        return loky_workers(self._me) if self._children else [self._me]

    def sample(self):
        for process in self._processes():
            try:
                rss = process.memory_info().rss
            except Exception:  # a worker that just ended
                continue
            self.peak[process.pid] = max(self.peak.get(process.pid, 0), rss)

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            time.sleep(0.005)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()


def _memory_child(spec_path):
    """Measure, print JSON; run as ``python -m benchmarks.featurizer --memory-child SPEC``."""
    import psutil

    from md_sklearn import LandscapeFeaturizer, ModelGroup
    from md_sklearn.models import small_cnn

    spec = json.loads(Path(spec_path).read_text())
    data = _digits(spec["samples"])

    build = functools.partial(small_cnn, spec["width"])
    groups = [ModelGroup(paths, data, build_model=build, name=f"g{i}")
              for i, paths in enumerate(spec["paths"])]

    def featurizer(**kwargs):
        return LandscapeFeaturizer(["train_error", "CKA"], device="cpu", random_state=0,
                                   progress=False, cka_n_batches=2, **kwargs)

    featurizer().fit_transform(groups[:1])  # imports and torch's lazy set-up
    idle = psutil.Process().memory_info().rss
    with _PeakSampler() as sampler:
        serial_seconds, _ = _timed(lambda: featurizer().fit_transform(groups))
    serial_peak = sampler.peak[os.getpid()]

    featurizer(n_jobs=2).fit_transform(groups[:2])  # start the workers, import torch there
    worker_idle = {p.pid: p.memory_info().rss for p in loky_workers(psutil.Process())}
    with _PeakSampler(children=True) as workers:
        parallel_seconds, _ = _timed(lambda: featurizer(n_jobs=2).fit_transform(groups))
    growth = [workers.peak[pid] - worker_idle[pid] for pid in workers.peak if pid in worker_idle]
    print(json.dumps({
        "serial_idle_rss": idle, "serial_peak_rss": serial_peak,
        "serial_growth": serial_peak - idle, "seconds_serial": serial_seconds,
        "workers": len(worker_idle), "worker_idle_rss": sorted(worker_idle.values()),
        "worker_peak_growth": sorted(growth), "seconds_n_jobs_2": parallel_seconds,
    }))
    return 0


def bench_memory(quick):
    n_groups = 6 if quick else MEMORY_GROUPS
    width = 16 if quick else MEMORY_WIDTH
    with tempfile.TemporaryDirectory() as folder:
        paths = _write_checkpoints(folder, n_groups, MEMORY_MEMBERS, width)
        sizes = [os.path.getsize(p) for row in paths for p in row]
        spec = Path(folder) / "spec.json"
        spec.write_text(json.dumps({"paths": paths, "width": width, "samples": 300}))
        repo = Path(__file__).resolve().parent.parent
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(repo), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        done = subprocess.run([sys.executable, "-m", "benchmarks.featurizer", "--memory-child",
                               str(spec)], capture_output=True, text=True, env=env, cwd=repo)
        if done.returncode != 0:
            raise RuntimeError(f"the memory run failed:\n{done.stderr[-3000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures.update({"groups": n_groups, "members": MEMORY_MEMBERS, "width": width,
                    "checkpoint_bytes_all": sum(sizes),
                    "checkpoint_bytes_one_group": sum(sizes) // n_groups})
    return figures


def _mb(n):
    return f"{n / 2**20:.1f} MB"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks featurizer",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 2 groups of 2 models, cheap options, 6 groups "
                             "of width 16 for the memory figure")
    parser.add_argument("--repeats", type=int, default=1,
                        help="interleaved repeats of (a) and (b); the minimum counts (default: 1)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH as JSON")
    parser.add_argument("--memory-child", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        return _memory_child(args.memory_child)

    import torch

    machine = (f"{platform.machine()} CPU, {os.cpu_count()} cores, {torch.get_num_threads()} "
               f"torch threads, torch {torch.__version__}")
    print(f"featurizer benchmark on {machine}{' (quick)' if args.quick else ''}; load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    if args.repeats < 1:
        parser.error("expected --repeats >= 1")
    speed = bench_speed(args.quick, args.repeats)
    print(f"(a) serial: {speed['groups']} groups x {speed['members']} small CNNs on "
          f"{speed['samples']} digits, metrics {speed['metrics']}, options "
          f"{speed['options']}: {speed['seconds_serial']:.2f} s = "
          f"{speed['seconds_per_group_serial']:.2f} s per group")
    print(f"    serial with torch.set_num_threads(1): {speed['seconds_serial_one_thread']:.2f} s")
    print(f"(b) n_jobs=2: cold {speed['seconds_n_jobs_2_cold']:.2f} s -> "
          f"{speed['speedup_cold']:.2f}x, warm {speed['seconds_n_jobs_2_warm']:.2f} s -> "
          f"{speed['speedup_warm']:.2f}x (target >= 1.6); against the one-thread serial run "
          f"{speed['speedup_warm_vs_one_thread']:.2f}x; values differ from the serial run by at "
          f"most {speed['max_difference_parallel_vs_serial']:.1e}")
    print(f"(c) rerun from the warm cache: {speed['seconds_warm_cache_rerun']:.3f} s for the "
          f"whole call (target < 1 s); identical: {speed['cache_rerun_identical']}")
    memory = bench_memory(args.quick)
    print(f"(d) {memory['groups']} groups x {memory['members']} checkpoints of small_cnn("
          f"{memory['width']}) on disk, {_mb(memory['checkpoint_bytes_all'])} in all "
          f"({_mb(memory['checkpoint_bytes_one_group'])} per group): serial peak "
          f"{_mb(memory['serial_peak_rss'])}, {_mb(memory['serial_growth'])} above the idle "
          f"process ({memory['seconds_serial']:.1f} s); n_jobs=2: each worker's peak "
          f"{', '.join(_mb(g) for g in memory['worker_peak_growth'])} above its idle level")
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} at the end (other processes share the cores)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"machine": machine, "quick": args.quick, "load_average_end": load,
                       "speed": speed,
                       "memory": memory}, handle, indent=2, default=str)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
