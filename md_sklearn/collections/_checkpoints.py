"""Checkpoint files of a collection: atomic writes, safetensors or torch.save, fingerprints.

Reading goes through the featurizer's one checkpoint reader (``md_sklearn._featurizer``).
"""

import hashlib

import torch

from md_sklearn._featurizer._checkpoints import read_state_dict
from md_sklearn._featurizer._groups import CHECKPOINT_FORMATS
from md_sklearn._utils._atomic import atomic_path
from md_sklearn._utils._extras import missing_package

try:
    import safetensors.torch as _safetensors
except ImportError:  # pragma: no cover - exercised only without safetensors
    _safetensors = None

#: Format -> the ending a saved checkpoint gets (the formats' one home is ``ModelGroup``'s).
CHECKPOINT_SUFFIXES = {name: suffixes[0] for name, suffixes in CHECKPOINT_FORMATS.items()}


def default_checkpoint_format():
    """``"safetensors"`` when the package is installed, else ``"torch"`` (``torch.save``)."""
    return "torch" if _safetensors is None else "safetensors"


def save_checkpoint(model, path, checkpoint_format):
    """Write ``model``'s state dict (CPU copies) to ``path`` in one atomic step."""
    state = {name: tensor.detach().to("cpu", copy=True).contiguous()
             for name, tensor in model.state_dict().items()}
    with atomic_path(path) as temporary:
        if checkpoint_format == "safetensors":
            if _safetensors is None:  # pragma: no cover - exercised only without safetensors
                raise missing_package("safetensors", "saving safetensors checkpoints")
            _safetensors.save_file(state, str(temporary))
        else:
            torch.save(state, temporary)


def load_checkpoint(path):
    """Load a state dict saved by a collection (``.safetensors`` or ``torch.save``).

    Parameters
    ----------
    path : str or os.PathLike
        A checkpoint file of a collection.

    Returns
    -------
    state_dict : dict of str to torch.Tensor
        CPU tensors, ready for ``model.load_state_dict``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is truncated, needs pickle, or holds no state dict.
    ImportError
        If ``path`` is a ``.safetensors`` file and safetensors is not installed.

    Examples
    --------
    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> from md_sklearn.collections import load_checkpoint
    >>> from md_sklearn.collections._checkpoints import save_checkpoint
    >>> model = torch.nn.Linear(3, 2)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "seed0.safetensors"
    ...     save_checkpoint(model, path, "safetensors")
    ...     state = load_checkpoint(path)
    >>> sorted(state), torch.equal(state["weight"], model.weight.detach())
    (['bias', 'weight'], True)
    """
    return read_state_dict(path)


def fingerprint(*tensors):
    """SHA-256 of the dtypes, shapes and bytes of CPU copies of ``tensors``."""
    digest = hashlib.sha256()
    for tensor in tensors:
        tensor = tensor.detach().to("cpu").contiguous()
        digest.update(f"{tensor.dtype}{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
