"""ModelGroup: one sample of a landscape feature table, a group of models trained alike."""

from __future__ import annotations

import numbers
import os
import sys
from collections.abc import Mapping, Sequence

from md_sklearn._utils._extras import available, missing_package

__all__ = ["CHECKPOINT_FORMATS", "CHECKPOINT_SUFFIXES", "ModelGroup", "missing_checkpoint"]

#: Checkpoint formats, one home for every reader and writer: format -> the file endings
#: it is read from; the first is the ending written (``md_sklearn.collections``).
#: ``.ckpt`` is PyTorch Lightning's ending for a ``torch.save`` file.
CHECKPOINT_FORMATS = {"torch": (".pt", ".pth", ".ckpt"), "safetensors": (".safetensors",)}

#: File endings a checkpoint path may have (lower case): ``torch.save`` files and
#: safetensors files.
CHECKPOINT_SUFFIXES = tuple(suffix for suffixes in CHECKPOINT_FORMATS.values()
                            for suffix in suffixes)


def _torch_attr(path):
    """``torch.<path>`` when torch is already imported, else None (never imports torch)."""
    obj = sys.modules.get("torch")
    for name in path.split("."):
        if obj is None:
            return None
        obj = getattr(obj, name, None)
    return obj


def _is_module(value) -> bool:
    module_type = _torch_attr("nn.Module")
    return module_type is not None and isinstance(value, module_type)


def _check_dataset(value, name):
    dataset_type = _torch_attr("utils.data.Dataset")
    if dataset_type is None and not available("torch"):
        raise missing_package("torch", "ModelGroup")
    if dataset_type is None or not isinstance(value, dataset_type):
        raise TypeError(
            f"expected {name} to be a torch.utils.data.Dataset, got {type(value).__name__}; "
            "wrap tensors as torch.utils.data.TensorDataset(inputs, labels)."
        )
    try:
        size = len(value)
    except TypeError as error:
        raise TypeError(
            f"expected {name} to have a length, got {type(value).__name__} without __len__; "
            "pass a map-style dataset."
        ) from error
    if size == 0:
        raise ValueError(f"expected a non-empty {name}, got a dataset of 0 samples.")


def missing_checkpoint(path: str) -> FileNotFoundError:
    """The error for a checkpoint path that names no file."""
    return FileNotFoundError(
        f"expected a checkpoint file at {path!r}, got no such file; check the path "
        "(relative paths were resolved against the working folder when the group was made)."
    )


class ModelGroup:
    """A group of models trained alike (one configuration, several seeds) and their data.

    One group is one sample of the feature table that :class:`LandscapeFeaturizer`
    computes: one row, named by ``name``. Nothing is loaded when the group is made:
    checkpoints are read when the featurizer reaches the group, inside the worker
    that computes it, one group at a time. Making a group never imports torch
    (a group of modules or datasets needs torch imported already).

    Parameters
    ----------
    members : sequence of torch.nn.Module, state dicts or checkpoint paths
        The models of the group, trained from different seeds; at least one
        (connectivity and CKA need at least two). A member is a module, a state
        dict (a mapping of parameter names to tensors), or a path to a checkpoint:
        a ``.pt``/``.pth``/``.ckpt`` file written by :func:`torch.save` (a state
        dict, or a dict holding one under a common key such as ``"state_dict"`` --
        PyTorch Lightning -- ``"model_state_dict"`` or ``"model"``) or a
        ``.safetensors`` file (needs the ``safetensors`` package). Keys saved from
        a wrapped module (``module.`` from DataParallel/DDP, ``_orig_mod.`` from
        ``torch.compile``, ``model.`` from a Lightning module) are matched to the
        built module by removing that one prefix, with a warning saying so. Paths
        are made absolute when the group is made.
    data : torch.utils.data.Dataset
        The training data the members saw, ``(input, label)`` pairs, exactly as they
        saw it (same subset, same labels, no augmentation, normalised as the models
        expect). Gives ``train_error``, ``train_loss`` and the landscape metrics.
    build_model : callable or None, default=None
        Called with no argument, returns a fresh module of the members'
        architecture into which each state dict or checkpoint is loaded (strictly:
        every name, after removing a common prefix, and shape must match). Needed when a member is a state dict or
        a path, unless ``allow_pickle=True`` and the files hold whole modules.
        With ``n_jobs`` it travels to the workers, so it must be picklable by
        joblib (a function of an importable module or a
        :func:`functools.partial` of one; loky also takes lambdas).
    name : str or None, default=None
        Row label in the feature table; ``None`` names the group by its position,
        ``"group_<i>"``.
    eval_data : torch.utils.data.Dataset or None, default=None
        Held-out data; gives ``test_error`` and ``test_loss``.
    meta : mapping of str to scalar or None, default=None
        Metadata (width, batch size, data fraction, ...) copied into the feature
        table as columns.
    forward : callable or None, default=None
        ``forward(model, batch) -> (logits, labels)``: how a batch of ``data`` (and
        ``eval_data``) becomes class scores and integer labels, for models and
        datasets other than ``(input, label)`` samples fed to ``model(input)``: dict
        batches of a tokenised dataset, outputs with ``.logits``, samples with extra
        items. ``batch`` is what :func:`torch.utils.data.default_collate` makes of the
        samples, on the featurizer's device; the same hook reaches every metric
        (``docs/your_models.rst``, *Any model, any batch*). Part of the cache key (its
        module, name, source code and captured values; not the globals it calls). With
        ``n_jobs`` it must be picklable, as ``build_model``.
    allow_pickle : bool, default=False
        Read ``torch.save`` files (``.pt``, ``.pth``, ``.ckpt``) with ``torch.load(weights_only=False)``. By
        default checkpoints are read with ``weights_only=True``, which accepts
        tensors and plain containers only: a full pickle can run arbitrary code
        when it is loaded, so a checkpoint from an untrusted source could take
        over the machine. Pass ``True`` only for files you trust (for example a
        whole module saved with ``torch.save(model, path)``).

    Attributes
    ----------
    members : tuple
        The members as given, paths made absolute strings.
    data, build_model, name, eval_data, forward, allow_pickle
        As given.
    meta : dict
        A copy of ``meta`` (empty when ``None``).

    Raises
    ------
    TypeError
        If an argument has the wrong type (a member that is not a module, mapping
        or path; data that is not a dataset; a ``build_model`` that is not
        callable).
    ValueError
        If ``members`` is empty, a path has an unknown ending, ``build_model`` is
        missing for state dicts or paths, a dataset is empty, or ``name`` is empty.

    See Also
    --------
    LandscapeFeaturizer : Computes the feature table of a list of groups.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from md_sklearn import ModelGroup
    >>> data = TensorDataset(torch.randn(32, 4), torch.randint(0, 3, (32,)))
    >>> models = [torch.nn.Linear(4, 3) for _ in range(2)]
    >>> group = ModelGroup(models, data, name="width 4", meta={"width": 4})
    >>> group
    ModelGroup(name='width 4', members=2, data=TensorDataset of 32, meta={'width': 4})
    >>> states = [m.state_dict() for m in models]
    >>> ModelGroup(states, data, build_model=lambda: torch.nn.Linear(4, 3)).members[0] is states[0]
    True
    """

    #: Groups pickled before the ``forward`` keyword existed read it as None.
    forward = None

    def __init__(self, members, data, *, build_model=None, name=None, eval_data=None,
                 meta=None, forward=None, allow_pickle=False):
        if not isinstance(allow_pickle, bool):
            raise TypeError(f"expected allow_pickle to be a bool, got {type(allow_pickle).__name__}.")
        if forward is not None and not callable(forward):
            raise TypeError(
                f"expected forward to be a function forward(model, batch) -> (logits, labels) "
                f"or None, got {type(forward).__name__}; pass a function (docs/your_models.rst, "
                "'Any model, any batch')."
            )
        self.forward = forward
        self.members = self._check_members(members)
        self.build_model = self._check_build_model(build_model, self.members, allow_pickle)
        _check_dataset(data, "data")
        self.data = data
        if eval_data is not None:
            _check_dataset(eval_data, "eval_data")
        self.eval_data = eval_data
        if name is not None and not isinstance(name, str):
            raise TypeError(f"expected name to be a str or None, got {type(name).__name__}.")
        if name == "":
            raise ValueError("expected a non-empty name, got ''; pass a label or None.")
        self.name = name
        self.meta = self._check_meta(meta)
        self.allow_pickle = allow_pickle

    @staticmethod
    def _check_members(members):
        if (isinstance(members, (str, bytes, os.PathLike, Mapping)) or _is_module(members)
                or not isinstance(members, Sequence)):
            raise TypeError(
                f"expected members to be a list of models, state dicts or checkpoint paths, "
                f"got {type(members).__name__}; pass a list, e.g. [model_seed0, model_seed1]."
            )
        if len(members) == 0:
            raise ValueError("expected at least one member, got an empty list.")
        checked = []
        for index, member in enumerate(members):
            if _is_module(member) or isinstance(member, Mapping):
                checked.append(member)
            elif isinstance(member, (str, os.PathLike)):
                path = os.path.abspath(os.fspath(member))
                if not path.lower().endswith(CHECKPOINT_SUFFIXES):
                    raise ValueError(
                        f"expected members[{index}] to be a {', '.join(CHECKPOINT_SUFFIXES)} "
                        f"file, got {path!r}; save the weights with torch.save(model.state_dict(), "
                        "'model.pt') or safetensors.torch.save_file."
                    )
                checked.append(path)
            else:
                raise TypeError(
                    f"expected members[{index}] to be a torch.nn.Module, a state dict or a "
                    f"checkpoint path, got {type(member).__name__}."
                )
        return tuple(checked)

    @staticmethod
    def _check_build_model(build_model, members, allow_pickle):
        if build_model is not None and not callable(build_model):
            raise TypeError(
                f"expected build_model to be a callable returning a fresh module, got "
                f"{type(build_model).__name__}; pass e.g. build_model=lambda: MyNet()."
            )
        if build_model is None:
            for index, member in enumerate(members):
                if isinstance(member, Mapping) or (isinstance(member, str) and not allow_pickle):
                    kind = "a state dict" if isinstance(member, Mapping) else f"path {member!r}"
                    raise ValueError(
                        f"expected build_model for members[{index}], got {kind} and "
                        "build_model=None; pass build_model, a callable that returns a fresh "
                        "module of the members' architecture."
                    )
        return build_model

    @staticmethod
    def _check_meta(meta):
        if meta is None:
            return {}
        if not isinstance(meta, Mapping):
            raise TypeError(f"expected meta to be a mapping or None, got {type(meta).__name__}.")
        for key, value in meta.items():
            if not isinstance(key, str):
                raise TypeError(f"expected meta keys to be str, got {key!r}.")
            if value is not None and not isinstance(value, (numbers.Number, str)):
                raise TypeError(
                    f"expected meta[{key!r}] to be a number, a str or None, got "
                    f"{type(value).__name__}; store plain values."
                )
        return dict(meta)

    def describe_member(self, index: int) -> str:
        """``"member <index>"`` with the path for a checkpoint file, for error messages."""
        member = self.members[index]
        return f"member {index} ({member!r})" if isinstance(member, str) else f"member {index}"

    def __len__(self) -> int:
        return len(self.members)

    def __repr__(self) -> str:
        parts = [f"name={self.name!r}", f"members={len(self.members)}",
                 f"data={type(self.data).__name__} of {len(self.data)}"]
        if self.eval_data is not None:
            parts.append(f"eval_data={type(self.eval_data).__name__} of {len(self.eval_data)}")
        if self.meta:
            parts.append(f"meta={self.meta!r}")
        if self.forward is not None:
            parts.append(f"forward={getattr(self.forward, '__qualname__', type(self.forward).__name__)}")
        return f"ModelGroup({', '.join(parts)})"
