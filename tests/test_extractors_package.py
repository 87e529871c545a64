"""Tests of the extractors package's layout: what imports torch, the public names, and
the import graph (no cycles; no private extractors module imported from outside)."""

import ast
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
def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.is_dir() and (path / "__init__.py").is_file() or path.with_suffix(".py").is_file()


def imported_modules(path: Path) -> set[str]:
    """Modules named by the import statements of ``path`` (relative ones resolved)."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) + 1 - node.level]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module
            submodules = {f"{source}.{alias.name}" for alias in node.names}
            named = {dotted for dotted in submodules if is_module(dotted)}
            found.update(named or {source})
            if named != submodules:
                found.add(source)
    return found


def test_extractors_import_graph_has_no_cycle():
    graph = {module_name(p): {m for m in imported_modules(p) if m.startswith("extractors.")}
             for p in PACKAGE.rglob("*.py")}
    done, active = set(), []

    def visit(node):
        if node in active:
            cycle = active[active.index(node):] + [node]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if node in done:
            return
        active.append(node)
        for target in sorted(graph.get(node, ())):
            visit(target)
        active.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)
    assert "extractors._hessian._trace" in graph  # the walk saw the folders


@pytest.mark.parametrize("path", ["benchmarks/extractors.py", "benchmarks/expansion.py"])
def test_benchmarks_import_no_private_extractors_module(path):
    private = [m for m in imported_modules(ROOT / path)
               if m.startswith("extractors.") and any(part.startswith("_")
                                                     for part in m.split(".")[1:])]
    assert private == []
