"""Content keys of model groups and the seeds derived from them.

A group's *content key* hashes what its features depend on: the bytes of every
checkpoint file (or the tensors of every state dict or module), the architecture
``build_model`` returns, and the tensors of the training data. Names, paths and the
order of the groups are not part of any key, so renaming or moving files keeps the
cache valid, and the seeds derived from the key do not depend on them either.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from collections.abc import Mapping

import numpy as np

from md_sklearn._featurizer._context import context
from md_sklearn._featurizer._groups import missing_checkpoint

__all__ = ["ContentKeys", "Hasher", "derive_seed"]

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

            hasher = Hasher("dataset", type(data).__module__, type(data).__qualname__, len(data))
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
            hasher = Hasher("architecture", type(model).__module__, type(model).__qualname__,
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

        hasher = Hasher("group", len(group.members))
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


def derive_seed(base: str, group_key: str, *parts) -> int:
    """A seed in ``[0, 2**63)`` from the base seed, the group's content key and a purpose."""
    digest = Hasher("seed", base, group_key, *parts).hexdigest()
    return int(digest, 16) >> (256 - _SEED_BITS)
