"""Command line entry: ``python -m benchmarks {paper,fewshot,speed,extractors} [options]``."""

import importlib
import sys

from benchmarks import BENCHMARKS

USAGE = (
    "usage: python -m benchmarks {"
    + ",".join(BENCHMARKS)
    + "} [options]   (-h for a benchmark's options)"
)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        print(
            "\n".join(
                f"  {name:<11} {importlib.import_module(mod).__doc__.strip().splitlines()[0]}"
                for name, mod in BENCHMARKS.items()
            )
        )
        return 0
    name, rest = argv[0], argv[1:]
    if name not in BENCHMARKS:
        print(
            f"error: unknown benchmark {name!r}; expected one of {sorted(BENCHMARKS)}.",
            file=sys.stderr,
        )
        print(USAGE, file=sys.stderr)
        return 2
    return importlib.import_module(BENCHMARKS[name]).main(rest)


if __name__ == "__main__":
    sys.exit(main())
