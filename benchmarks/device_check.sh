#!/usr/bin/env bash
# The one device run (docs/cost.rst, "On a GPU"): the CUDA tests and the extractors, cost and
# featurizer benchmarks on CUDA, every figure in $OUT/device_check.json (or ./device_check.json).
# Sized for well under 8 minutes of device time. Pass --small to run it on a CPU.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-.}/device_check.json"
python -m benchmarks device-check --json "$out" "$@"
