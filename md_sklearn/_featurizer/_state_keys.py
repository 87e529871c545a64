"""Match a checkpoint's parameter names to the module they are loaded into.

People save state dicts of wrapped modules: ``torch.nn.DataParallel`` and DDP prefix
every key with ``module.``, ``torch.compile`` with ``_orig_mod.``, a PyTorch Lightning
module with the attribute holding the network (``model.``). A single common prefix
whose removal makes the keys equal the built module's keys exactly is removed; when
only the keys under one prefix match (a Lightning module that also holds a loss or an
EMA copy under other names), those are used and the others left out, and the caller is
told either way. When nothing matches, :func:`key_difference` says briefly how the
names differ. Plain Python: names in, names out (no torch).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

__all__ = ["KeyMatch", "KeyMismatch", "group_notes", "key_difference", "match_keys"]

#: Keys shown per list in a difference (our choice: enough to see the pattern).
_SHOWN = 3


@dataclass(frozen=True)
class KeyMatch:
    """How a checkpoint's keys map onto the module: drop ``prefix``, leave out ``ignored``."""

    prefix: str = ""
    ignored: tuple = ()

    def rename(self, state):
        """The state dict with the prefix removed and the ignored keys left out (a new dict)."""
        if not self.prefix and not self.ignored:
            return state
        n = len(self.prefix)
        return {key[n:]: value for key, value in state.items() if key.startswith(self.prefix)}

    def note(self) -> str | None:
        """What was done to the keys, for a warning; None when the keys matched as saved."""
        if not self.prefix and not self.ignored:
            return None
        text = f"removed the prefix {self.prefix!r} from the checkpoint's keys"
        if self.ignored:
            text += (f" and left out {len(self.ignored)} key(s) outside it "
                     f"({_listing(self.ignored)})")
        return text + " to match the module build_model() returns"


class KeyMismatch(ValueError):
    """The keys cannot be matched; the message is a short difference."""


def match_keys(state_keys, model_keys) -> KeyMatch:
    """The :class:`KeyMatch` that turns ``state_keys`` into exactly ``model_keys``.

    Tried in order: the keys as saved; one common prefix whose removal gives exactly
    the module's keys; the keys under one prefix giving exactly the module's keys (the
    others left out). Raises :class:`KeyMismatch` (with :func:`key_difference`) when none
    applies or when two prefixes would do (ambiguous).
    """
    state_keys, model_keys = list(state_keys), list(model_keys)
    wanted = set(model_keys)
    if set(state_keys) == wanted:
        return KeyMatch()
    full, partial = [], []
    for prefix in _candidate_prefixes(state_keys, wanted):
        inside = [key for key in state_keys if key.startswith(prefix)]
        renamed = {key[len(prefix):] for key in inside}
        if renamed != wanted:
            continue
        outside = tuple(key for key in state_keys if not key.startswith(prefix))
        (partial if outside else full).append(KeyMatch(prefix, outside))
    for found in (full, partial):
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            prefixes = ", ".join(repr(m.prefix) for m in found)
            raise KeyMismatch(
                f"keys that fit the module under several prefixes ({prefixes}); keep the one "
                "you mean: {k[len(p):]: v for k, v in state.items() if k.startswith(p)}"
            )
    raise KeyMismatch(key_difference(state_keys, model_keys))


def _candidate_prefixes(state_keys, wanted):
    """Prefixes ending at a dot after which some checkpoint key is a module key."""
    found = {}
    for key in state_keys:
        start = key.find(".")
        while start != -1:
            if key[start + 1:] in wanted:
                found.setdefault(key[:start + 1], None)
            start = key.find(".", start + 1)
    return list(found)


def key_difference(state_keys, model_keys) -> str:
    """A short description of how two key lists differ: counts, a few examples, a prefix hint."""
    state_keys, model_keys = list(state_keys), list(model_keys)
    state_set, model_set = set(state_keys), set(model_keys)
    missing = [k for k in model_keys if k not in state_set]
    unexpected = [k for k in state_keys if k not in model_set]
    parts = []
    if missing:
        parts.append(f"{len(missing)} of the module's {len(model_keys)} key(s) missing from "
                     f"the checkpoint ({_listing(missing)})")
    if unexpected:
        parts.append(f"{len(unexpected)} of the checkpoint's {len(state_keys)} key(s) unknown "
                     f"to the module ({_listing(unexpected)})")
    hint = _prefix_hint(unexpected, missing, model_keys)
    if hint:
        parts.append(hint)
    return "; ".join(parts) if parts else "the same keys"


def _listing(keys) -> str:
    shown = ", ".join(repr(k) for k in keys[:_SHOWN])
    return shown + (f", ... {len(keys) - _SHOWN} more" if len(keys) > _SHOWN else "")


def _first_segment(keys):
    """The most common first dotted segment of ``keys`` and how many keys share it."""
    counts = Counter(key.split(".", 1)[0] + "." for key in keys if "." in key)
    return counts.most_common(1)[0] if counts else (None, 0)


def _prefix_hint(unexpected, missing, model_keys) -> str | None:
    """Where the names seem to part: a prefix shared by most of one side only."""
    prefix, count = _first_segment(unexpected)
    if prefix and count * 2 > len(unexpected) and not any(k.startswith(prefix) for k in missing):
        stripped = {k[len(prefix):] for k in unexpected if k.startswith(prefix)}
        still = [k for k in model_keys if k not in stripped]
        after = (f"; without it, still missing: {_listing(still)}" if still and
                 len(still) < len(model_keys) else "")
        return (f"most unknown keys start with {prefix!r}: the checkpoint may hold a wrapper "
                f"of the module (build that, or save the inner module's state_dict()){after}")
    prefix, count = _first_segment(missing)
    if prefix and count * 2 > len(missing) and not any(k.startswith(prefix) for k in unexpected):
        return (f"most missing keys start with {prefix!r}: build_model() may return a wrapper "
                "of the saved module (return the inner module instead)")
    return None


def group_notes(label, member_notes) -> list[str]:
    """One warning per distinct note over a group's members (``{index: [note, ...]}``)."""
    by_note = {}
    for index, notes in sorted(member_notes.items()):
        for note in notes:
            by_note.setdefault(note, []).append(index)
    out = []
    for note, indexes in by_note.items():
        which = (f"member {indexes[0]}" if len(indexes) == 1
                 else f"members {', '.join(map(str, indexes))}")
        out.append(f"group {label!r}, {which}: {note}.")
    return out
