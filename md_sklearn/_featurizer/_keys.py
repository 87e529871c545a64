"""Content keys of model groups and the seeds derived from them.

A group's *content key* hashes what its features depend on: each member's weights as
the metrics see them -- the module's class, printed structure and trainable flags and
the bytes of every tensor of its state dict once loaded -- and the tensors of the
training data. A checkpoint file is read and loaded into ``build_model()`` to be
hashed, so one set of weights gives one key (and the same seeds, so the same features)
whether it is a module, a state dict, a ``.pt`` or ``.safetensors`` file, or a dict
nested in a Lightning ``.ckpt`` with prefixed keys. Names, paths, file formats and the
order of the groups are not part of any key, so renaming or moving files keeps the
cache valid, and the seeds derived from the key do not depend on them either.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import pickle
import sys
from collections.abc import Mapping

import numpy as np

from md_sklearn._featurizer._context import context
from md_sklearn._featurizer._groups import missing_checkpoint

__all__ = ["ContentKeys", "Hasher", "derive_seed", "function_digest"]

#: Bytes read at a time when hashing a checkpoint file (our choice).
_CHUNK_BYTES = 1 << 20

#: Seeds handed to the extractors lie in [0, 2**63) (their ``random_state`` range).
_SEED_BITS = 63


class Hasher:
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


#: Canonical member digests of checkpoint files already loaded in this process, keyed by
#: the file's bytes (SHA-256), the pickle setting and the architecture: a rerun in the
#: same process hashes each file instead of loading it again. Bounded (our choice).
_FILE_DIGESTS: dict = {}
_FILE_DIGESTS_MAX = 4096


def _module_digest(module) -> str:
    """Digest of a module as the metrics see it: class, structure, trainable flags, tensors."""
    hasher = Hasher("member", "module", type(module).__module__, type(module).__qualname__,
                    repr(module))
    hasher.tag("trainable", *(p.requires_grad for p in module.parameters()))
    for name, tensor in module.state_dict().items():
        hasher.tag(name)
        hasher.tensor(tensor)
    return hasher.hexdigest()


def function_digest(function) -> str:
    """Digest of a user hook (``ModelGroup(forward=...)``), the same in every process.

    Hashed: the function's module, name and source code, and what it captures -- closure
    cells, :func:`functools.partial` arguments, a bound method's instance, a callable
    object's attributes -- walked by structure (:func:`_captured_digest`): tensors by
    their bytes, modules as the metrics see them, functions recursively, plain values by
    value. Not hashed: globals and helpers the hook calls by name (edit the hook, or
    clear the cache, when those change). A hook whose source cannot be read (built in, or
    typed at an interactive prompt) is keyed by its name and captures only.
    """
    return _captured_digest(function, set())


#: How deep captured objects are walked (our choice: hooks capture a few levels at most).
_CAPTURE_DEPTH = 6


def _captured_digest(value, seen, depth=0) -> str:
    """Stable digest of a captured value (see :func:`function_digest`)."""
    torch = sys.modules.get("torch")
    hasher = Hasher("captured", type(value).__module__, type(value).__qualname__)
    if depth > _CAPTURE_DEPTH or id(value) in seen:
        hasher.tag("cut")  # a cycle, or deeper than we walk: the type only
        return hasher.hexdigest()
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        hasher.tag(repr(value))
        return hasher.hexdigest()
    if torch is not None and torch.is_tensor(value):
        hasher.tensor(value.detach().cpu())
        return hasher.hexdigest()
    if isinstance(value, np.ndarray):
        hasher.value(value)
        return hasher.hexdigest()
    seen = seen | {id(value)}

    def walk(item):
        return _captured_digest(item, seen, depth + 1)

    if torch is not None and isinstance(value, torch.nn.Module):
        hasher.tag("module", _module_digest(value))
    elif isinstance(value, functools.partial):
        hasher.tag("partial", walk(value.func), *(walk(a) for a in value.args))
        hasher.tag(*(f"{k}={walk(v)}" for k, v in sorted(value.keywords.items())))
    elif inspect.ismethod(value):
        hasher.tag("method", walk(value.__func__), walk(value.__self__))
    elif inspect.isfunction(value):
        hasher.tag(value.__module__, value.__qualname__, _source(value))
        for cell in value.__closure__ or ():
            try:
                contents = cell.cell_contents
            except ValueError:  # a cell not yet filled
                hasher.tag("empty cell")
                continue
            hasher.tag(walk(contents))
        hasher.tag("defaults", *(walk(d) for d in value.__defaults__ or ()))
    elif inspect.isbuiltin(value) or inspect.isclass(value) or inspect.ismodule(value):
        hasher.tag(getattr(value, "__module__", None), getattr(value, "__qualname__",
                                                               getattr(value, "__name__", None)))
    elif isinstance(value, Mapping):
        hasher.tag("mapping", *sorted(f"{walk(k)}:{walk(v)}" for k, v in value.items()))
    elif isinstance(value, (list, tuple)):
        hasher.tag("sequence", *(walk(v) for v in value))
    elif isinstance(value, (set, frozenset)):
        hasher.tag("set", *sorted(walk(v) for v in value))
    else:  # another object (a callable instance): its class's source and its attributes
        hasher.tag("object", _source(type(value)))
        state = getattr(value, "__dict__", None)
        if isinstance(state, dict):
            hasher.tag(*(f"{k}={walk(v)}" for k, v in sorted(state.items())))
    return hasher.hexdigest()


def _source(obj):
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return None


def _file_digest(path) -> str:
    hasher = Hasher("file")
    hasher.file(path)
    return hasher.hexdigest()


class ContentKeys:
    """Content keys of the groups of one featurization call.

    Datasets and architectures shared by several groups are hashed once (memoised
    by identity for the duration of the call). What loading a checkpoint did to its
    keys (a prefix removed) is collected in :attr:`notes`, one list per group label.
    """

    def __init__(self):
        self._datasets = {}
        self._architectures = {}
        self.notes = {}

    def dataset(self, data) -> str:
        entry = self._datasets.get(id(data))
        if entry is None:
            from torch.utils.data import TensorDataset

            hasher = Hasher("dataset", type(data).__module__, type(data).__qualname__, len(data))
            if isinstance(data, TensorDataset):
                for tensor in data.tensors:
                    hasher.tensor(tensor)
            else:
                for index in range(len(data)):
                    hasher.value(data[index])
            entry = self._datasets[id(data)] = (data, hasher.hexdigest())
        return entry[1]

    def _architecture(self, build_model):
        """``(key, module)``: what ``build_model()`` builds (class, printed structure,
        trainable flags) and one instance of it, into which members are loaded to be hashed."""
        entry = self._architectures.get(id(build_model))
        if entry is None:
            from md_sklearn._featurizer._checkpoints import build

            model = build(build_model, "the members")
            hasher = Hasher("architecture", type(model).__module__, type(model).__qualname__,
                            repr(model))
            hasher.tag("trainable", *(p.requires_grad for p in model.parameters()))
            entry = self._architectures[id(build_model)] = (build_model, hasher.hexdigest(),
                                                            model)
        return entry[1], entry[2]

    def architecture(self, build_model) -> str:
        """Key of what ``build_model()`` builds: class, printed structure, trainable flags."""
        return self._architecture(build_model)[0]

    def member(self, member, group, notes=None) -> str:
        """Canonical digest of one member: the weights once loaded, however they were stored."""
        from torch import nn

        if isinstance(member, nn.Module):
            return _module_digest(member)
        if isinstance(member, Mapping):
            return self._loaded_digest(member, group, notes)
        memo = (_file_digest(member), group.allow_pickle,
                self.architecture(group.build_model) if group.build_model is not None else None)
        found = _FILE_DIGESTS.get(memo)
        if found is None:
            file_notes = []
            found = (self._loaded_digest(member, group, file_notes), tuple(file_notes))
            if len(_FILE_DIGESTS) >= _FILE_DIGESTS_MAX:
                _FILE_DIGESTS.clear()
            _FILE_DIGESTS[memo] = found
        if notes is not None:
            notes.extend(found[1])
        return found[0]

    def _loaded_digest(self, member, group, notes):
        from md_sklearn._featurizer._checkpoints import build, load_state, member_state

        state, origin = member_state(member, group.allow_pickle)
        if isinstance(state, Mapping):
            if group.build_model is None:
                build(None, origin)  # raises: names the member and the fix
            _, model = self._architecture(group.build_model)
            state = load_state(model, state, origin, notes)
        return _module_digest(state)

    def group(self, group, label: str) -> str:
        """Content key of a :class:`ModelGroup`: its members' weights and its training data.

        ``eval_data`` is not part of it (only the test metrics depend on it). Errors
        (a missing checkpoint file, a failing ``build_model``, keys that do not fit)
        name the group and member. Notes on the members' keys go to ``notes[label]``.
        """
        from md_sklearn._featurizer._state_keys import group_notes

        hasher = Hasher("group", len(group.members))
        member_notes = {}
        for index, member in enumerate(group.members):
            member_notes[index] = []
            with context(f"group {label!r}, {group.describe_member(index)}"):
                hasher.tag("member", index, self.member(member, group, member_notes[index]))
        hasher.tag("data", self.dataset(group.data))
        if group.forward is not None:  # the hook decides what the metrics see
            hasher.tag("forward", function_digest(group.forward))
        self.notes[label] = group_notes(label, member_notes)
        return hasher.hexdigest()


def derive_seed(base: str, group_key: str, *parts) -> int:
    """A seed in ``[0, 2**63)`` from the base seed, the group's content key and a purpose."""
    digest = Hasher("seed", base, group_key, *parts).hexdigest()
    return int(digest, 16) >> (256 - _SEED_BITS)
