"""The on-disk feature cache, its keys, and the fingerprint of the metric code.

A cache entry's key is a group's content key (``_keys``) plus the metric unit, every
option that changes its value, the seed setting and a fingerprint of the metric code:
the source of the extractor functions the registry (``_metrics``) names, of every
extractors module they import, and of the featurizer modules that run them, each
hashed under its path inside its package, so moving code changes the key.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from md_sklearn._featurizer._keys import Hasher
from md_sklearn._utils._atomic import write_text_atomic

__all__ = ["CACHE_FORMAT", "FeatureCache", "code_fingerprint", "metric_sources", "unit_key"]

#: Version of the cache file layout; part of every key (our choice).
CACHE_FORMAT = 1

#: Featurizer modules whose code decides the values (run in the worker), besides the
#: extractors: they are fingerprinted too.
_FEATURIZER_MODULES = ("_metrics.py", "_worker.py", "_context.py", "_checkpoints.py")


def extractors_folder() -> Path:
    """Folder of the ``extractors`` package, found without importing it."""
    spec = importlib.util.find_spec("extractors")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "expected the extractors package installed beside md_sklearn (they ship in one "
            "distribution), got none on the path; reinstall md-sklearn."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def metric_modules() -> list[str]:
    """Modules defining the ``extractors`` functions the registry names (dotted names)."""
    import extractors
    from md_sklearn._featurizer import _metrics

    names = sorted({name for unit in _metrics.UNITS for name in unit.extractors})
    return sorted({getattr(extractors, name).__module__ for name in names})


def metric_sources(entry_modules=None) -> list[Path]:
    """The extractor files the metric values depend on: the modules defining the functions
    the registry names and, transitively, every module of the package they import (read
    with :mod:`ast`)."""
    folder = extractors_folder()
    entries = metric_modules() if entry_modules is None else entry_modules
    # a function registered from outside the package is fingerprinted by its own file
    outside = [Path(importlib.util.find_spec(m).origin) for m in entries
               if not m.startswith("extractors.")]
    pending = [m.split(".", 1)[1] for m in entries if m.startswith("extractors.")]
    seen = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_path(folder, name)
        package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.ImportFrom) and 0 < node.level <= len(package) + 1:
                base = package[:len(package) + 1 - node.level]
                names = [alias.name for alias in node.names]
                targets = ([node.module] + [f"{node.module}.{n}" for n in names]
                           if node.module else names)
                pending += [dotted for dotted in (".".join([*base, t]) for t in targets)
                            if _module_path(folder, dotted).is_file()]  # not names of objects
    return [_module_path(folder, name) for name in sorted(seen)] + outside


def _module_path(folder: Path, dotted: str) -> Path:
    """File of the module ``extractors.<dotted>`` (a package's ``__init__.py``)."""
    path = folder.joinpath(*dotted.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_name(path.name + ".py")


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of the metric code: package version, torch version, extractor sources."""
    from md_sklearn._utils._version import __version__

    torch = sys.modules.get("torch")
    hasher = Hasher("md_sklearn", __version__, "torch", getattr(torch, "__version__", None))
    folder = extractors_folder()
    for path in metric_sources():
        inside = path.is_relative_to(folder)
        hasher.tag("extractors" if inside else "registered",
                   path.relative_to(folder).as_posix() if inside else path.as_posix())
        hasher.raw(path.read_bytes())
    here = Path(__file__).resolve().parent
    for name in _FEATURIZER_MODULES:
        hasher.tag("md_sklearn/_featurizer", name)
        hasher.raw((here / name).read_bytes())
    return hasher.hexdigest()


def unit_key(group_key: str, unit: str, options: Mapping, random_token, extra=None) -> str:
    """Cache key of one metric unit of one group."""
    material = {"format": CACHE_FORMAT, "code": code_fingerprint(), "group": group_key,
                "unit": unit, "options": dict(options), "random_state": random_token,
                "extra": extra}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode("utf-8")).hexdigest()


# --- the cache folder ----------------------------------------------------------------------
class FeatureCache:
    """A folder of finished metric units, one JSON file each, written atomically.

    Only files named ``<unit>-<64 hex digits>.json`` (and short-lived ``.tmp`` files
    beside them) are ever written; nothing in the folder is ever deleted or changed
    otherwise.

    Parameters
    ----------
    folder : str or os.PathLike
        Created when missing.

    Raises
    ------
    ValueError
        If the folder cannot be created or written to.
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        self._check_writable()

    def _check_writable(self):
        problem = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, probe = tempfile.mkstemp(dir=self.folder, prefix=".md_sklearn-probe-")
            os.close(handle)
            os.unlink(probe)
        except OSError as error:
            problem = error.strerror or str(error)
        if problem is not None:
            raise ValueError(
                f"expected cache_dir to be a folder this process can create and write to, got "
                f"{str(self.folder)!r} ({problem}); pass a writable folder, or cache_dir=None "
                "to compute without a cache."
            )

    def path(self, unit: str, key: str) -> Path:
        return self.folder / f"{unit}-{key}.json"

    def get(self, unit: str, key: str):
        """The cached values of a unit, or None when absent or unreadable."""
        try:
            with open(self.path(unit, key), encoding="utf-8") as handle:
                payload = json.load(handle)
        except (OSError, ValueError):
            return None
        if (not isinstance(payload, dict) or payload.get("format") != CACHE_FORMAT
                or payload.get("key") != key or not isinstance(payload.get("values"), dict)):
            return None
        values = payload["values"]
        if not all(isinstance(v, (int, float)) for v in values.values()):
            return None
        return {name: float(v) for name, v in values.items()}

    def put(self, unit: str, key: str, values: Mapping, label: str) -> None:
        """Write one unit: to a temporary file in the folder, then renamed into place."""
        payload = {"format": CACHE_FORMAT, "key": key, "unit": unit, "group": label,
                   "values": {name: float(v) for name, v in values.items()}}
        text = json.dumps(payload, allow_nan=True)
        write_text_atomic(self.path(unit, key), text, fsync=True)
