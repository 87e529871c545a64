"""Turn a ModelGroup member (module, state dict or checkpoint file) into a module.

Imports torch: only the worker that computes a group imports this module.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping

import torch
from torch import nn

from md_sklearn._featurizer._groups import CHECKPOINT_FORMATS, missing_checkpoint
from md_sklearn._featurizer._state_keys import KeyMismatch, match_keys
from md_sklearn._utils._extras import missing_package

__all__ = ["build", "load_member", "load_state", "member_state", "read_checkpoint",
           "read_state_dict"]

#: Keys under which training scripts commonly nest the state dict in a checkpoint
#: (PyTorch Lightning: "state_dict"; hand-written loops: the others), tried in order.
NESTED_STATE_KEYS = ("state_dict", "model_state_dict", "model", "module", "net", "network",
                     "model_state")

_PICKLE_REFUSED = "Weights only load failed"


def read_checkpoint(path: str, allow_pickle: bool):
    """The object stored in a ``torch.save`` file (``.pt``, ``.pth``, ``.ckpt``) or a
    ``.safetensors`` file, on the CPU."""
    if not os.path.isfile(path):
        raise missing_checkpoint(path)
    if path.lower().endswith(CHECKPOINT_FORMATS["safetensors"]):
        return _read_safetensors(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=not allow_pickle)
    except pickle.UnpicklingError as error:
        if _PICKLE_REFUSED in str(error):
            raise ValueError(
                f"expected a checkpoint of tensors that loads with weights_only=True, got "
                f"{path!r}, which needs pickle (it stores Python objects, e.g. a whole module); "
                "re-save it with torch.save(model.state_dict(), path), or, only if you trust "
                "the file, pass ModelGroup(..., allow_pickle=True) (md-sklearn: --allow-pickle): "
                "unpickling a file can run arbitrary code."
            ) from error
        raise _unreadable(path, error) from error
    except (RuntimeError, EOFError, ValueError, OSError) as error:
        raise _unreadable(path, error) from error


def _unreadable(path, error):
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return ValueError(
        f"expected a complete checkpoint at {path!r}, got a file torch.load cannot read "
        f"({reason}); the file may be truncated or not a torch checkpoint: save it again."
    )


def _read_safetensors(path):
    try:
        from safetensors.torch import load_file
    except ImportError as error:
        raise missing_package("safetensors", f"reading {path!r}") from error
    try:
        return load_file(path, device="cpu")
    except Exception as error:  # safetensors raises its own SafetensorError
        raise ValueError(
            f"expected a complete safetensors file at {path!r}, got one that cannot be read "
            f"({error}); the file may be truncated: save it again."
        ) from error


def _is_state(obj) -> bool:
    return (isinstance(obj, Mapping) and bool(obj)
            and all(isinstance(k, str) and torch.is_tensor(v) for k, v in obj.items()))


def _find_state(obj, depth=2):
    """The tensor mapping in ``obj``: itself, under a common key (a level or two down,
    e.g. Lightning's ``{"state_dict": ...}``), or the only tensor mapping among its values."""
    if _is_state(obj):
        return obj
    if not isinstance(obj, Mapping) or depth == 0:
        return None
    for key in NESTED_STATE_KEYS:
        found = _find_state(obj.get(key), depth - 1)
        if found is not None:
            return found
    only = [value for value in obj.values() if _is_state(value)]
    return only[0] if len(only) == 1 else None


def _state_dict(obj, origin):
    """The tensor mapping inside a checkpoint object (possibly nested)."""
    found = _find_state(obj)
    if found is not None:
        return found
    raise ValueError(
        f"expected {origin} to hold a state dict (parameter names -> tensors, possibly under "
        f"one of the keys {list(NESTED_STATE_KEYS)}), got {type(obj).__name__}"
        f"{' with keys ' + repr(list(obj)[:5]) if isinstance(obj, Mapping) else ''}; save "
        "model.state_dict()."
    )


def read_state_dict(path, allow_pickle: bool = False):
    """The state dict stored in a checkpoint file (possibly nested under a common key)."""
    path = os.fspath(path)
    return _state_dict(read_checkpoint(path, allow_pickle), f"the checkpoint {path!r}")


def member_state(member, allow_pickle: bool):
    """``(state dict or module, origin)`` of a non-module member, read from disk if a path."""
    if isinstance(member, Mapping):
        obj, origin = member, "the state dict"
    else:
        obj, origin = read_checkpoint(member, allow_pickle), f"the checkpoint {member!r}"
        if isinstance(obj, nn.Module):  # only possible with allow_pickle=True
            return obj, origin
    return _state_dict(obj, origin), origin


def build(build_model, origin) -> nn.Module:
    """A fresh module from ``build_model()``, checked."""
    if build_model is None:
        raise ValueError(
            f"expected build_model to turn {origin} into a module, got build_model=None; pass "
            "ModelGroup(..., build_model=...)."
        )
    model = build_model()
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"expected build_model() to return a torch.nn.Module, got {type(model).__name__}."
        )
    return model


def load_state(model: nn.Module, state, origin, notes=None) -> nn.Module:
    """Load ``state`` into ``model`` strictly, after matching the keys (``_state_keys``).

    A removed prefix or left-out keys are appended to ``notes`` (when given). A mismatch
    raises a ValueError with a short difference of the names or the first shapes that
    differ.
    """
    expected = model.state_dict()
    try:
        match = match_keys(state.keys(), expected.keys())
    except KeyMismatch as error:
        raise ValueError(
            f"expected {origin} to fit the module build_model() returns, got parameter "
            f"names that differ: {error}; build the members' architecture or check the "
            "checkpoint."
        ) from None
    state = match.rename(state)
    shapes = [f"{key!r}: checkpoint {tuple(value.shape)}, module {tuple(expected[key].shape)}"
              for key, value in state.items() if tuple(value.shape) != tuple(expected[key].shape)]
    if shapes:
        shown = "; ".join(shapes[:3]) + (f"; ... {len(shapes) - 3} more" if len(shapes) > 3 else "")
        raise ValueError(
            f"expected {origin} to fit the module build_model() returns, got {len(shapes)} "
            f"tensor(s) of another shape ({shown}); build the members' architecture (width, "
            "classes) or check the checkpoint."
        )
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        detail = " ".join(str(error).split())[:500]
        raise ValueError(
            f"expected {origin} to fit the module build_model() returns, got a mismatch: "
            f"{detail}; build the members' architecture or check the checkpoint."
        ) from error
    note = match.note()
    if note is not None and notes is not None:
        notes.append(note)
    return model


def load_member(member, build_model, allow_pickle: bool, notes=None) -> nn.Module:
    """A module for ``member``: the module itself, or ``build_model()`` with its weights.

    A module given by the user is returned as is (the extractors never change it);
    modules built here belong to the caller. What was done to the checkpoint's keys to
    fit the module (a prefix removed) is appended to ``notes`` when given.
    """
    if isinstance(member, nn.Module):
        return member
    state, origin = member_state(member, allow_pickle)
    if isinstance(state, nn.Module):
        return state
    return load_state(build(build_model, origin), state, origin, notes)
