"""Content keys of model groups, the seeds derived from them, and the on-disk feature cache.

A group's *content key* hashes what its features depend on: the bytes of every
checkpoint file (or the tensors of every state dict or module), the architecture
``build_model`` returns, and the tensors of the training data. A cache entry's key
adds the metric, every option that changes its value, the seed setting and a
fingerprint of the metric code. Names, paths and the order of the groups are not
part of any key, so renaming or moving files keeps the cache valid.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import json
import os
import pickle
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from md_sklearn._extractor_defaults import extractors_folder
from md_sklearn._group_features import context
from md_sklearn._groups import missing_checkpoint

__all__ = ["CACHE_FORMAT", "ContentKeys", "FeatureCache", "code_fingerprint", "derive_seed",
           "metric_sources", "unit_key"]

#: Version of the cache file layout; part of every key (our choice).
CACHE_FORMAT = 1

#: Bytes read at a time when hashing a checkpoint file (our choice).
_CHUNK_BYTES = 1 << 20

#: Extractor modules the featurizer calls; the cached values depend on their code and on
#: every extractor module they import (found by :func:`metric_sources`).
_METRIC_MODULES = ("_error", "_hessian", "_connectivity", "_cka")

#: Seeds handed to the extractors lie in [0, 2**63) (their ``random_state`` range).
_SEED_BITS = 63


# --- hashing ---------------------------------------------------------------------------------
class _Hasher:
    """SHA-256 over tagged pieces: tensors, arrays, plain values, containers, files."""

    def __init__(self, *tags):
        self._sha = hashlib.sha256()
        self.tag(*tags)

    def tag(self, *parts):
        for part in parts:
            self._sha.update(str(part).encode("utf-8") + b"\0")

    def tensor(self, tensor):
        import torch

        tensor = tensor.detach().resolve_conj().resolve_neg()
        if tensor.device.type != "cpu":
            tensor = tensor.cpu()
        tensor = tensor.contiguous()
        self.tag("tensor", tensor.dtype, tuple(tensor.shape))
        if tensor.numel():
            self._sha.update(memoryview(tensor.reshape(-1).view(torch.uint8).numpy()))

    def value(self, value):
        torch = sys.modules.get("torch")
        if torch is not None and torch.is_tensor(value):
            self.tensor(value)
        elif isinstance(value, np.ndarray):
            array = np.ascontiguousarray(value)
            self.tag("ndarray", array.dtype.str, array.shape)
            self._sha.update(memoryview(array).cast("B"))
        elif value is None or isinstance(value, (bool, int, float, str, bytes, np.generic)):
            self.tag(type(value).__name__, repr(value))
        elif isinstance(value, Mapping):
            self.tag("mapping", len(value))
            for key, item in value.items():
                self.value(key)
                self.value(item)
        elif isinstance(value, (tuple, list)):
            self.tag(type(value).__name__, len(value))
            for item in value:
                self.value(item)
        else:  # other sample types (e.g. images): their pickle, which is deterministic for data
            self.tag("pickle", type(value).__qualname__)
            self._sha.update(pickle.dumps(value, protocol=4))

    def file(self, path):
        self.tag("file", os.path.splitext(path)[1].lower())
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(_CHUNK_BYTES):
                    self._sha.update(chunk)
        except FileNotFoundError as error:
            raise missing_checkpoint(path) from error

    def raw(self, data: bytes):
        self._sha.update(data)

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def _module_digest(module, hasher):
    hasher.tag("module", type(module).__module__, type(module).__qualname__, repr(module))
    hasher.tag("trainable", *(p.requires_grad for p in module.parameters()))
    for name, tensor in module.state_dict().items():
        hasher.tag(name)
        hasher.tensor(tensor)


class ContentKeys:
    """Content keys of the groups of one featurization call.

    Datasets and architectures shared by several groups are hashed once (memoised
    by identity for the duration of the call).
    """

    def __init__(self):
        self._datasets = {}
        self._architectures = {}

    def dataset(self, data) -> str:
        entry = self._datasets.get(id(data))
        if entry is None:
            from torch.utils.data import TensorDataset

            hasher = _Hasher("dataset", type(data).__module__, type(data).__qualname__, len(data))
            if isinstance(data, TensorDataset):
                for tensor in data.tensors:
                    hasher.tensor(tensor)
            else:
                for index in range(len(data)):
                    hasher.value(data[index])
            entry = self._datasets[id(data)] = (data, hasher.hexdigest())
        return entry[1]

    def architecture(self, build_model) -> str:
        """What ``build_model()`` builds: class, printed structure, trainable flags."""
        entry = self._architectures.get(id(build_model))
        if entry is None:
            from torch import nn

            model = build_model()
            if not isinstance(model, nn.Module):
                raise TypeError(
                    f"expected build_model() to return a torch.nn.Module, got "
                    f"{type(model).__name__}."
                )
            hasher = _Hasher("architecture", type(model).__module__, type(model).__qualname__,
                             repr(model))
            hasher.tag("trainable", *(p.requires_grad for p in model.parameters()))
            entry = self._architectures[id(build_model)] = (build_model, hasher.hexdigest())
        return entry[1]

    def group(self, group, label: str) -> str:
        """Content key of a :class:`ModelGroup`: its members, architecture and training data.

        ``eval_data`` is not part of it (only the test metrics depend on it). Errors
        (a missing checkpoint file, a failing ``build_model``) name the group and member.
        """
        from torch import nn

        hasher = _Hasher("group", len(group.members))
        loaded_later = [m for m in group.members if not isinstance(m, nn.Module)]
        if loaded_later and group.build_model is not None:
            with context(f"group {label!r}, build_model()"):
                hasher.tag("architecture", self.architecture(group.build_model))
        for index, member in enumerate(group.members):
            hasher.tag("member", index)
            with context(f"group {label!r}, {group.describe_member(index)}"):
                if isinstance(member, nn.Module):
                    _module_digest(member, hasher)
                elif isinstance(member, Mapping):
                    hasher.tag("state_dict")
                    hasher.value(member)
                else:
                    hasher.file(member)
        hasher.tag("data", self.dataset(group.data))
        return hasher.hexdigest()


def metric_sources() -> list[Path]:
    """The extractor files the metric values depend on: the modules the featurizer calls
    and, transitively, every module of the package they import (read with :mod:`ast`, so
    torch is not imported)."""
    folder = extractors_folder()
    pending, seen = list(_METRIC_MODULES), set()
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
                targets = [node.module] if node.module else [alias.name for alias in node.names]
                pending += [dotted for dotted in (".".join([*base, t]) for t in targets)
                            if _module_path(folder, dotted).is_file()]  # not names of objects
    return [_module_path(folder, name) for name in sorted(seen)]


def _module_path(folder: Path, dotted: str) -> Path:
    """File of the module ``extractors.<dotted>`` (a package's ``__init__.py``)."""
    path = folder.joinpath(*dotted.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_name(path.name + ".py")


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of the metric code: package version, torch version, extractor sources."""
    from md_sklearn import __version__

    torch = sys.modules.get("torch")
    hasher = _Hasher("md_sklearn", __version__, "torch", getattr(torch, "__version__", None))
    here = Path(__file__).resolve().parent
    sources = metric_sources()
    sources += [here / "_group_features.py", here / "_checkpoints.py"]
    for path in sources:
        hasher.tag(path.name)
        hasher.raw(path.read_bytes())
    return hasher.hexdigest()


def derive_seed(base: str, group_key: str, *parts) -> int:
    """A seed in ``[0, 2**63)`` from the base seed, the group's content key and a purpose."""
    digest = _Hasher("seed", base, group_key, *parts).hexdigest()
    return int(digest, 16) >> (256 - _SEED_BITS)


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
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=f".{unit}-{key[:16]}-",
                                             suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path(unit, key))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

