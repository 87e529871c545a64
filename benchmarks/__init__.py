"""Benchmarks of md-sklearn, run as ``python -m benchmarks <name>``.

Each benchmark is a module of this package exposing ``main(argv) -> int``.
"""

import time

#: When the benchmarks package was first imported: the wall times reported
#: include importing numpy, pandas, scikit-learn and md_sklearn after this point.
STARTED_AT = time.perf_counter()

BENCHMARKS = {
    "paper": "benchmarks.paper",
    "fewshot": "benchmarks.fewshot",
    "speed": "benchmarks.speed",
    "extractors": "benchmarks.extractors",
    "featurizer": "benchmarks.featurizer",
    "expansion": "benchmarks.expansion",
    "study": "benchmarks.study",
    "cost": "benchmarks.cost",
    "device-check": "benchmarks.device_check",
}

__all__ = ["BENCHMARKS", "STARTED_AT"]
