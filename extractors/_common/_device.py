"""Where a metric computes."""

from __future__ import annotations

import torch

__all__ = ["resolve_device"]


def resolve_device(device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; checks that CUDA exists when asked."""
    if isinstance(device, str):
        if device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            device = torch.device(device)
        except RuntimeError as exc:
            raise ValueError(
                f"expected device to be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}."
            ) from exc
    if not isinstance(device, torch.device):
        raise TypeError(
            f"expected device to be a str or torch.device, got {type(device).__name__}."
        )
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"expected a device that exists here, got {str(device)!r} but CUDA is not "
            "available; pass device='cpu' or device='auto'."
        )
    return device
