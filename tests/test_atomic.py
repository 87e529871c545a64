"""md_sklearn._utils._atomic: a written file is complete or absent, never half-written."""

import json
import os

import pytest

from md_sklearn._utils import _atomic
from md_sklearn._utils._atomic import (
    atomic_path,
    write_atomic,
    write_json_atomic,
    write_text_atomic,
)


class Boom(RuntimeError):
    pass


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_success_moves_the_temporary_onto_the_path_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "a.txt"
    with atomic_path(target) as temporary:
        assert temporary.parent == tmp_path and temporary != target
        assert temporary.name.startswith(".a.txt.") and temporary.name.endswith(".tmp")
        temporary.write_text("done")
        assert not target.exists()  # nothing visible before the block ends
    assert target.read_text() == "done" and _names(tmp_path) == ["a.txt"]


def test_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(Boom), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise Boom
    assert target.read_text() == "old" and _names(tmp_path) == ["a.txt"]


def test_failure_before_anything_was_written_leaves_no_file(tmp_path):
    with pytest.raises(Boom), atomic_path(tmp_path / "a.txt"):
        raise Boom
    assert _names(tmp_path) == []


def test_keyboard_interrupt_cleans_up_too(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "a.txt") as temporary:
        temporary.write_text("half")
        raise KeyboardInterrupt
    assert _names(tmp_path) == []


def test_a_failed_rename_leaves_no_temporary(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(_atomic.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"), atomic_path(tmp_path / "a.txt") as temporary:
        temporary.write_text("x")
    assert _names(tmp_path) == []


def test_missing_parents_are_created(tmp_path):
    target = tmp_path / "x" / "y" / "a.json"
    write_json_atomic(target, {"b": 1, "a": [1, 2]})
    assert json.loads(target.read_text()) == {"a": [1, 2], "b": 1}
    assert target.read_text().startswith('{\n  "a"') and target.read_text().endswith("}\n")


@pytest.mark.parametrize("remove", [False, True])
def test_remove_created_folders_on_failure(tmp_path, remove):
    (tmp_path / "kept").mkdir()
    target = tmp_path / "kept" / "new" / "deeper" / "a.txt"
    with pytest.raises(Boom), atomic_path(target, remove_created_folders=remove):
        raise Boom
    assert (tmp_path / "kept").is_dir()  # existed before: never removed
    assert (tmp_path / "kept" / "new").exists() is not remove


def test_remove_created_folders_keeps_a_folder_someone_else_filled(tmp_path):
    target = tmp_path / "new" / "a.txt"
    with pytest.raises(Boom), atomic_path(target, remove_created_folders=True):
        (tmp_path / "new" / "other.txt").write_text("someone else's")
        raise Boom
    assert _names(tmp_path / "new") == ["other.txt"]


@pytest.mark.parametrize("fsync", [False, True])
def test_fsync_flushes_the_temporary_before_the_rename_only_when_asked(tmp_path, monkeypatch,
                                                                       fsync):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(_atomic.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(_atomic.os, "replace",
                        lambda a, b: (calls.append("replace"), real_replace(a, b)))
    write_text_atomic(tmp_path / "a.txt", "x", fsync=fsync)
    assert calls == (["fsync", "replace"] if fsync else ["replace"])
    assert (tmp_path / "a.txt").read_text() == "x"


def test_text_is_utf8_with_unix_line_ends(tmp_path):
    write_text_atomic(tmp_path / "a.txt", "é\nb\n")
    assert (tmp_path / "a.txt").read_bytes() == "é\nb\n".encode()


def test_write_atomic_calls_the_writer_with_the_temporary(tmp_path):
    seen = []

    def write(path):
        seen.append(path)
        path.write_bytes(b"\x00\x01")

    write_atomic(tmp_path / "a.bin", write)
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01" and seen[0].name.endswith(".tmp")
    with pytest.raises(Boom):
        write_atomic(tmp_path / "a.bin", lambda path: (path.write_bytes(b"half"), _raise()))
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01" and _names(tmp_path) == ["a.bin"]


def _raise():
    raise Boom
