"""Seeds and random generators: every draw of a metric comes from its ``random_state``."""

from __future__ import annotations

import contextlib
import numbers

import torch

__all__ = ["fork_rng_seeded", "generator", "seed_from"]

_UINT63 = 2**63 - 1


def seed_from(random_state) -> int:
    """Turn ``random_state`` into a seed; ``None`` draws one from torch's global RNG."""
    if random_state is None:
        return int(torch.randint(0, _UINT63, (1,)).item())
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            f"expected random_state to be None or an int, got {type(random_state).__name__}."
        )
    if not 0 <= random_state <= _UINT63:
        raise ValueError(f"expected 0 <= random_state < 2**63, got {random_state}.")
    return int(random_state)


def generator(seed: int) -> torch.Generator:
    """A CPU generator: the same seed gives the same draws whatever the device."""
    return torch.Generator().manual_seed(seed)


def fork_rng_seeded(seed: int, device: torch.device):
    """Context that seeds torch's global RNG (dropout, inits) and restores it on exit."""
    devices = [device.index or 0] if device.type == "cuda" else []

    @contextlib.contextmanager
    def _ctx():
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    return _ctx()
