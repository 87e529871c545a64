"""Atomic file writes: a file is either complete or absent, never half-written."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary sibling of ``path``; move it onto ``path`` only on success.

    The temporary name starts with a dot and ends in ``.tmp``, so folder scans that
    look for finished files never see it; it is removed when the block fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_atomic(path, write):
    """Call ``write(temporary_path)`` and move the result onto ``path``."""
    with atomic_path(path) as temporary:
        write(temporary)


def write_text_atomic(path, text):
    """Write ``text`` (UTF-8, ``\\n`` line ends on every platform) to ``path`` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8", newline="\n")


def write_json_atomic(path, payload):
    """Write ``payload`` as indented, key-sorted JSON to ``path`` atomically."""
    write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")
