"""Tests of the extractors package's layout: what imports torch, the public names, and
the import graph (no cycles; no private extractors module imported from outside)."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from _without_package import import_message_without

import extractors
import extractors.utils

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "extractors"


def fresh_import_loads_torch(module: str) -> bool:
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


@pytest.mark.parametrize("module", ["extractors", "extractors.defaults"])
def test_defaults_import_without_torch(module):
    assert not fresh_import_loads_torch(module)
    assert import_message_without("torch", module).strip() == "imported without torch"


def test_defaults_are_the_metrics_defaults():
    import inspect

    from extractors import defaults

    signature = inspect.signature(extractors.hessian_trace)
    assert signature.parameters["n_samples"].default == defaults.HESSIAN_N_SAMPLES
    assert signature.parameters["max_probes"].default == defaults.TRACE_MAX_PROBES


def test_lazy_names_come_from_their_modules():
    for name, module in extractors._LAZY.items():
        obj = getattr(extractors, name)
        assert obj is getattr(importlib.import_module(module, "extractors"), name)
        assert obj.__module__.startswith("extractors" + module)
    assert set(dir(extractors)) >= set(extractors.__all__)


def test_utils_exports_every_listed_name():
    assert sorted(extractors.utils.__all__) == sorted(set(extractors.utils.__all__))
    for name in extractors.utils.__all__:
        obj = getattr(extractors.utils, name)
        assert obj.__module__.startswith("extractors."), name


# --- the import graph -------------------------------------------------------------------


# The import graph (no cycle, no private module reached from the benchmarks) is checked
# for every package at once by tests/test_architecture.py.
