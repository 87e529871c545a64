"""The ``md-sklearn`` command line: demo, diagnose, featurize, benchmark.

Every sub-command imports what it needs when it runs, so ``md-sklearn --help`` is
fast and works without torch. Errors print as one line (``md-sklearn: error: ...``)
with exit status 1 unless ``--debug`` is given, which shows the traceback.
"""

from __future__ import annotations

import argparse
import sys

from md_sklearn._utils._version import __version__

_DESCRIPTION = """\
Diagnose why a trained neural network underperforms (batch size too large or too
small, model too small, too little data) from the geometry of its loss landscape,
with MD tree (Zhou et al., ICML 2024).

  md-sklearn demo --quick          the whole method on scikit-learn's digits, no download
  md-sklearn diagnose GROUP...     a diagnosis for your own checkpoints
  md-sklearn featurize GROUP...    the landscape features only, as CSV or Parquet
  md-sklearn benchmark paper       the paper's Table B from the published data
"""

_GROUPS_HELP = """\
A group is one training configuration trained from several seeds. Give each group as
a folder holding its members' checkpoints (*.safetensors, *.pt, *.pth, *.ckpt), or give
checkpoint files, which then form one group. A folder may carry a group.json with
"model_kwargs" (passed to the factory), "data" (a data file, relative to the
folder) and "meta" (columns copied to the feature table); `md-sklearn demo` writes
one beside every configuration it trains.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``md-sklearn`` command."""
    parser = argparse.ArgumentParser(
        prog="md-sklearn", description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"md-sklearn {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback when a command fails")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    # --debug is accepted after the sub-command too (SUPPRESS: an absent one keeps the
    # value parsed before the sub-command)
    debug = dict(action="store_true", default=argparse.SUPPRESS,
                 help="show the full traceback when a command fails")

    demo = commands.add_parser(
        "demo", help="train, featurize and diagnose small CNNs on scikit-learn's digits",
        description="Builds a clean and a 10 % label-noise collection of small CNNs on "
        "scikit-learn's 8x8 digits, computes their loss-landscape features, fits MD tree "
        "on the clean collection (few-shot) and diagnoses the noisy one. Everything is "
        "cached in the output folder, so a rerun takes seconds.")
    demo.add_argument("--output", default="md-demo", metavar="DIR",
                      help="folder for checkpoints, caches, figures and summary.json "
                      "(default: ./md-demo)")
    demo.add_argument("--quick", action="store_true",
                      help="a smaller grid and shorter training (a few minutes; used in CI)")
    demo.add_argument("--n-jobs", type=int, default=-1, metavar="N",
                      help="parallel workers for training and featurizing "
                      "(default: -1, one per core)")
    demo.add_argument("--no-progress", action="store_true", help="hide progress bars")
    demo.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    demo.add_argument("--debug", **debug)

    for name, summary in (
            ("diagnose", "features and a diagnosis report for groups of checkpoints"),
            ("featurize", "the loss-landscape features of groups of checkpoints")):
        sub = commands.add_parser(name, help=summary, description=summary + ".\n\n" + _GROUPS_HELP,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("groups", nargs="+", metavar="GROUP",
                         help="a folder of checkpoints (one group each) or checkpoint files "
                         "(one group together)")
        sub.add_argument("--model", required=True, metavar="MODULE:FACTORY",
                         help="a function returning a fresh model of the checkpoints' "
                         "architecture, e.g. md_sklearn.models:small_cnn, or mymodels:make_net "
                         "for mymodels.py in the current folder (imported as python -m does)")
        sub.add_argument("--model-kwargs", default=None, metavar="JSON",
                         help='keyword arguments of the factory, e.g. \'{"width": 4}\' '
                         "(a group.json may set its own)")
        sub.add_argument("--data", default=None, metavar="FILE",
                         help="the training data the models saw: a .pt file holding "
                         "{'inputs': tensor, 'labels': tensor} or a .npz with arrays "
                         "'inputs' and 'labels' (a group.json may name its own)")
        sub.add_argument("--cache-dir", default=None, metavar="DIR",
                         help="reuse finished groups from this folder (and add to it)")
        sub.add_argument("--n-jobs", type=int, default=None, metavar="N",
                         help="groups computed in parallel (default: 1)")
        sub.add_argument("--device", default="auto", help="torch device (default: auto)")
        sub.add_argument("--random-state", type=int, default=0, metavar="SEED",
                         help="seed of the metrics' random draws (default: 0)")
        sub.add_argument("--curve-epochs", type=int, default=None, metavar="N",
                         help="epochs of the connectivity curve fit (default: the paper's 50)")
        sub.add_argument("--curve-steps", type=int, default=None, metavar="N",
                         help="a curve-training budget in optimizer steps that does not shrink "
                         "with the data: the fewest whole epochs giving at least N steps "
                         "(the paper's: 19550; overrides --curve-epochs)")
        sub.add_argument("--hessian-probes", type=int, default=None, metavar="N",
                         help="most Hessian-vector products per member (Hutchinson probes, "
                         "power iterations; default: the paper's 100)")
        sub.add_argument("--hessian-batches", type=int, default=None, metavar="N",
                         help="independent Hessian batches per member for hessian_t "
                         "(default: the paper's 1); with more, hessian_t's standard error "
                         "and the confidence cover the batch draw too")
        sub.add_argument("--debug", **debug)
        sub.add_argument("--no-progress", action="store_true", help="hide progress bars")
        sub.add_argument("--allow-pickle", action="store_true",
                         help="read .pt/.pth/.ckpt checkpoints that need full pickle (can run "
                         "code: only for files you trust)")
        if name == "diagnose":
            sub.add_argument("--tree", default="q1", metavar="NAME|FILE",
                             help="a pretrained paper tree (q1, q1_cka, q2_width, q2_data) "
                             "or a fitted MDTreeClassifier saved with joblib.dump "
                             "(loading it runs pickle: only files you trust); default: q1")
            sub.add_argument("--format", choices=("text", "csv"), default="text",
                             help="report as text (default) or as CSV on standard output")
            sub.add_argument("--no-confidence", action="store_true",
                             help="skip the standard errors and the probability that each "
                             "diagnosis would flip (printed by default)")
        else:
            sub.add_argument("--metrics", default=None, metavar="LIST",
                             help="comma-separated feature columns (default: "
                             "train_error,mode_connectivity_peak,hessian_t,CKA)")
            sub.add_argument("--output", "-o", default=None, metavar="FILE",
                             help="write the table to FILE (.csv or .parquet); "
                             "default: print it")

    bench = commands.add_parser(
        "benchmark", help="run a benchmark of the package (python -m benchmarks NAME)",
        add_help=False)
    bench.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv=None) -> int:
    """Run the ``md-sklearn`` command; returns the exit status."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("md-sklearn: interrupted; finished work is kept in the caches.", file=sys.stderr)
        return 130
    except Exception as error:  # one line for people, the traceback with --debug
        if args.debug:
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        print(f"md-sklearn: error: {type(error).__name__}: {message} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return 1


def _run_benchmark(rest) -> int:
    """``md-sklearn benchmark NAME ...``: the suite of the source tree, if it is importable.

    The suite is not installed with the package; run in a clone's folder, the clone's
    ``benchmarks`` is found there (as ``python -m benchmarks`` finds it).
    """
    import os
    from pathlib import Path

    here = os.getcwd()
    if (Path(here) / "benchmarks" / "__main__.py").is_file() and here not in sys.path:
        sys.path.insert(0, here)
    try:
        from benchmarks.__main__ import main as run_benchmark
    except ImportError as error:
        raise ImportError(
            "expected the benchmark suite (the top-level 'benchmarks' package of the "
            f"md-sklearn source tree) to be importable, got: {error}; run it from a clone "
            "of the repository: python -m benchmarks NAME."
        ) from error
    return run_benchmark(rest)


def _run(args) -> int:
    if args.command == "benchmark":
        return _run_benchmark(args.rest)
    if args.command == "demo":
        from md_sklearn._cli._demo import run_demo

        run_demo(output=args.output, quick=args.quick, n_jobs=args.n_jobs,
                 progress=not args.no_progress, plots=not args.no_plots)
        return 0
    from md_sklearn._cli import _diagnose

    if args.command == "featurize":
        return _diagnose.featurize_command(args)
    return _diagnose.diagnose_command(args)
