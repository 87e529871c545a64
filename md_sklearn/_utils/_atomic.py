"""Atomic file writes: a file is either complete or absent, never half-written."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path

__all__ = ["atomic_path", "write_atomic", "write_json_atomic", "write_text_atomic"]


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return those created, outermost first."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()][::-1]
    folder.mkdir(parents=True, exist_ok=True)
    return missing


@contextlib.contextmanager
def atomic_path(path, *, fsync: bool = False, remove_created_folders: bool = False):
    """Yield a temporary sibling of ``path``; move it onto ``path`` only on success.

    The temporary name starts with a dot and ends in ``.tmp``, so folder scans that
    look for finished files never see it; it is removed when the block fails.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write. Missing parent folders are created.
    fsync : bool, default=False
        Flush the temporary file to disk before the rename, so that after a power cut
        the file is either the old one or the complete new one (caches, downloads).
    remove_created_folders : bool, default=False
        When the block fails, also remove the parent folders this call created (when
        they are empty), leaving the file system as it was.

    Yields
    ------
    pathlib.Path
        Where to write.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from md_sklearn._utils._atomic import atomic_path
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "a.txt") as temporary:
    ...     _ = temporary.write_text("done")
    >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('done', ['a.txt'])
    """
    path = Path(path)
    created = _make_folders(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield temporary
        if fsync:
            _fsync_file(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        if remove_created_folders:
            for folder in reversed(created):
                with contextlib.suppress(OSError):
                    folder.rmdir()
        raise
    finally:
        temporary.unlink(missing_ok=True)


def write_atomic(path, write, *, fsync: bool = False):
    """Call ``write(temporary_path)`` and move the result onto ``path``."""
    with atomic_path(path, fsync=fsync) as temporary:
        write(temporary)


def write_text_atomic(path, text, *, fsync: bool = False):
    """Write ``text`` (UTF-8, ``\\n`` line ends on every platform) to ``path`` atomically."""
    with atomic_path(path, fsync=fsync) as temporary:
        temporary.write_text(text, encoding="utf-8", newline="\n")


def write_json_atomic(path, payload, *, fsync: bool = False):
    """Write ``payload`` as indented, key-sorted JSON to ``path`` atomically."""
    write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=True) + "\n", fsync=fsync)
