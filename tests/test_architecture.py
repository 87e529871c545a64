"""The layout's promises: no import cycle, no private import across packages, torch-free core."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("md_sklearn", "extractors", "benchmarks")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(package):
    return {_module_name(p): p for p in (REPO / package).rglob("*.py")}


ALL_MODULES = {name: path for package in PACKAGES for name, path in _modules(package).items()}


def _imports(name: str, path: Path):
    """Modules of the repository ``name`` imports anywhere in its file (top level or inside
    functions), each resolved to the most specific module that exists."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    package = name.split(".") if is_package else name.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) + 1 - node.level]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module
            targets = [f"{module}.{alias.name}" for alias in node.names]
            if not all(target in ALL_MODULES for target in targets):
                targets.append(module)  # names defined by the module itself
        else:
            continue
        for target in targets:
            while target and target not in ALL_MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: _imports(name, path) for name, path in ALL_MODULES.items()}


def _cycles(graph, within):
    """Strongly connected components with more than one module (Tarjan), or self-loops."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    nodes = [n for n in graph if n.split(".")[0] == within]

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt.split(".")[0] != within:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in nodes:
        if node not in index:
            visit(node)
    return out


@pytest.mark.parametrize("package", ["md_sklearn", "extractors"])
def test_no_import_cycle(package):
    assert _cycles(GRAPH, package) == []


def test_the_cycle_finder_finds_cycles():
    graph = {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "p.d": {"p.a"}, "q.x": {"p.a"}}
    assert _cycles(graph, "p") == [["p.a", "p.b", "p.c"]]
    assert _cycles({"p.a": {"p.b"}, "p.b": set()}, "p") == []


def _is_private(module: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in module.split("."))


def test_no_private_import_across_packages():
    """A package reaches into another only through its public modules (``extractors.utils``,
    ``md_sklearn.collections``, ...); ``md_sklearn``'s own private folders are one package."""
    crossings = sorted(
        (source, target) for source, targets in GRAPH.items() for target in targets
        if source.split(".")[0] != target.split(".")[0] and _is_private(target)
        and not source.startswith("benchmarks")  # the benchmarks are the project's own tools
    )
    assert crossings == []


def test_benchmarks_use_no_private_extractors_module():
    crossings = sorted(
        (source, target) for source, targets in GRAPH.items() if source.startswith("benchmarks")
        for target in targets if target.startswith("extractors") and _is_private(target)
    )
    assert crossings == []


def test_the_library_never_imports_the_cli_or_the_benchmarks():
    library = [name for name in GRAPH if name.startswith("md_sklearn")
               and not name.startswith(("md_sklearn._cli", "md_sklearn.__main__"))]
    offending = sorted((name, target) for name in library for target in GRAPH[name]
                       if target.startswith(("md_sklearn._cli", "benchmarks")))
    assert offending == []


def test_comments_cite_this_repository_only():
    """Sources point readers to ``docs/*.rst``, never to notes outside the repository."""
    offending = [str(path.relative_to(REPO)) for package in PACKAGES
                 for path in (REPO / package).rglob("*.py")
                 if "shared/docs" in path.read_text(encoding="utf-8")]
    assert offending == []


def test_cited_docs_pages_exist():
    import re

    cited = {match for package in PACKAGES for path in (REPO / package).rglob("*.py")
             for match in re.findall(r"docs/([\w.-]+\.rst)", path.read_text(encoding="utf-8"))}
    assert cited, "expected the sources to cite the docs"
    assert sorted(name for name in cited if not (REPO / "docs" / name).is_file()) == []
