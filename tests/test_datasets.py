"""Tests of md_sklearn.datasets: lookup, checksum verification and (mocked) download."""

import hashlib
import io
import os
import shutil
import urllib.error
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from md_sklearn._protocol import (
    DATA_ENV_VAR,
    DOWNLOAD_URL_TEMPLATE,
    LABEL_COLUMNS,
    PUBLISHED_FILES,
)
from md_sklearn.datasets import _fetch, load_model_diagnosis

# Label counts of the published tables (clean, noisy), from the data README.
README_LABEL_COUNTS = {
    "clean": {
        "bs_failure": {"small": 846, "large": 714, "optimal": 130},
        "width_vs_batch": {"width": 916, "batch": 753, "optimal": 21},
        "data_vs_batch": {"data": 938, "batch": 711, "optimal": 41},
    },
    "noisy": {
        "bs_failure": {"small": 1010, "large": 550, "optimal": 130},
        "width_vs_batch": {"width": 883, "batch": 766, "optimal": 41},
        "data_vs_batch": {"data": 970, "batch": 681, "optimal": 39},
    },
}
COLLECTIONS = sorted(PUBLISHED_FILES)


def _published_folder():
    """$MD_SKLEARN_DATA, else ../shared/data/model_diagnosis next to the repository."""
    if os.environ.get(DATA_ENV_VAR):
        return Path(os.environ[DATA_ENV_VAR])
    return Path(__file__).parents[1].parent / "shared" / "data" / "model_diagnosis"


PUBLISHED_FOLDER = _published_folder()  # read before the fixtures below unset the variable


@pytest.fixture
def published_dir():
    """Folder holding the two published CSV files (read-only; never copied into the repo)."""
    missing = [f for f, _ in PUBLISHED_FILES.values() if not (PUBLISHED_FOLDER / f).is_file()]
    if missing:
        pytest.skip(
            f"published tables {missing} not found in {PUBLISHED_FOLDER}; set "
            f"{DATA_ENV_VAR} to the folder holding them."
        )
    return PUBLISHED_FOLDER


@pytest.fixture(autouse=True)
def isolated_lookup(monkeypatch, tmp_path):
    """No env folder, a cache under tmp_path, and any network access fails the test."""
    monkeypatch.delenv(DATA_ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))

    def no_network(*args, **kwargs):
        pytest.fail("a test tried to reach the network")

    monkeypatch.setattr(_fetch, "urlopen", no_network)
    return tmp_path / "xdg-cache" / "md_sklearn"


def _bytes_of(published_dir, collection):
    return (published_dir / PUBLISHED_FILES[collection][0]).read_bytes()


def _all_files(folder):
    return sorted(p.relative_to(folder) for p in folder.rglob("*")) if folder.exists() else []


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_loads_published_table_from_env_folder(collection, published_dir, monkeypatch):
    monkeypatch.setenv(DATA_ENV_VAR, str(published_dir))
    table = load_model_diagnosis(collection, download=False)

    expected = pd.read_csv(published_dir / PUBLISHED_FILES[collection][0])
    pd.testing.assert_frame_equal(table, expected)
    assert table.shape == (1690, 27)
    assert not table.isna().any().any()
    for column, counts in README_LABEL_COUNTS[collection].items():
        assert table[column].value_counts().to_dict() == counts
    assert set(README_LABEL_COUNTS[collection]) == set(LABEL_COLUMNS.values())


def test_published_grid_is_complete(published_dir, monkeypatch):
    monkeypatch.setenv(DATA_ENV_VAR, str(published_dir))
    table = load_model_diagnosis("clean", download=False)
    assert table[["width", "bs", "data"]].nunique().tolist() == [13, 13, 10]
    assert not table.duplicated(["width", "bs", "data"]).any()
    np.testing.assert_array_equal(table["test_error"], 100 - table["test_acc"])


def test_data_home_is_searched_before_env_folder(published_dir, tmp_path, monkeypatch):
    filename = PUBLISHED_FILES["clean"][0]
    home, env = tmp_path / "home", tmp_path / "env"
    home.mkdir()
    env.mkdir()
    shutil.copy(published_dir / filename, home / filename)
    (env / filename).write_bytes(b"not the table")
    monkeypatch.setenv(DATA_ENV_VAR, str(env))
    assert load_model_diagnosis("clean", data_home=home, download=False).shape == (1690, 27)

    # The first file found is verified, not skipped over.
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_model_diagnosis("clean", data_home=env, download=False)


def test_cache_folder_is_searched_last(published_dir, isolated_lookup):
    filename = PUBLISHED_FILES["noisy"][0]
    isolated_lookup.mkdir(parents=True)
    shutil.copy(published_dir / filename, isolated_lookup / filename)
    assert load_model_diagnosis("noisy", download=False).shape == (1690, 27)


def test_cache_folder_defaults_to_home_dot_cache(published_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    cache = tmp_path / ".cache" / "md_sklearn"
    cache.mkdir(parents=True)
    shutil.copy(published_dir / PUBLISHED_FILES["clean"][0], cache)
    assert load_model_diagnosis("clean", download=False).shape == (1690, 27)


def test_corrupt_local_file_raises_and_is_left_untouched(published_dir, tmp_path):
    filename, expected_sha256 = PUBLISHED_FILES["clean"]
    corrupt = _bytes_of(published_dir, "clean")[:-10]
    (tmp_path / filename).write_bytes(corrupt)
    actual = hashlib.sha256(corrupt).hexdigest()
    with pytest.raises(ValueError, match=rf"(?s){filename}.*{expected_sha256}.*{actual}.*Delete"):
        load_model_diagnosis("clean", data_home=tmp_path)
    assert (tmp_path / filename).read_bytes() == corrupt


def test_missing_without_download_lists_searched_folders(tmp_path, isolated_lookup, monkeypatch):
    env = tmp_path / "env"
    monkeypatch.setenv(DATA_ENV_VAR, str(env))
    with pytest.raises(FileNotFoundError) as info:
        load_model_diagnosis("noisy", data_home=tmp_path / "home", download=False)
    message = str(info.value)
    for place in (tmp_path / "home", env, isolated_lookup):
        assert str(place) in message
    assert "download=True" in message and DATA_ENV_VAR in message
    assert _all_files(tmp_path) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"collection": "dirty"},
            ValueError,
            r"expected collection to be one of \['clean', 'noisy'\]",
        ),
        ({"collection": 1}, TypeError, "expected collection to be a string"),
        ({"download": "yes"}, TypeError, "expected download to be True or False"),
        ({"data_home": 3}, TypeError, "expected data_home to be a path"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_model_diagnosis(**kwargs)


def _serve(content, calls):
    def fake_urlopen(url, timeout):
        calls.append((url, timeout))
        return io.BytesIO(content)

    return fake_urlopen


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_download_into_cache(collection, published_dir, isolated_lookup, monkeypatch):
    filename = PUBLISHED_FILES[collection][0]
    calls = []
    monkeypatch.setattr(_fetch, "urlopen", _serve(_bytes_of(published_dir, collection), calls))

    table = load_model_diagnosis(collection)

    assert len(calls) == 1
    assert calls[0][0] == DOWNLOAD_URL_TEMPLATE.format(filename=filename)
    assert calls[0][1] > 0
    assert _all_files(isolated_lookup) == [Path(filename)]
    pd.testing.assert_frame_equal(table, pd.read_csv(published_dir / filename))

    # The next load reads the cached file without the network.
    monkeypatch.setattr(_fetch, "urlopen", _serve(b"", calls))
    pd.testing.assert_frame_equal(load_model_diagnosis(collection), table)
    assert len(calls) == 1


def test_download_into_data_home(published_dir, tmp_path, isolated_lookup, monkeypatch):
    home = tmp_path / "new" / "home"
    calls = []
    monkeypatch.setattr(_fetch, "urlopen", _serve(_bytes_of(published_dir, "noisy"), calls))
    assert load_model_diagnosis("noisy", data_home=home).shape == (1690, 27)
    assert _all_files(home) == [Path(PUBLISHED_FILES["noisy"][0])]
    assert not isolated_lookup.exists()


def test_corrupt_download_leaves_nothing(published_dir, tmp_path, isolated_lookup, monkeypatch):
    content = bytearray(_bytes_of(published_dir, "clean"))
    content[1000] ^= 1
    monkeypatch.setattr(_fetch, "urlopen", _serve(bytes(content), []))
    with pytest.raises(ValueError, match=r"(?s)checksum mismatch.*nothing was saved.*data_home"):
        load_model_diagnosis("clean")
    assert not isolated_lookup.exists()
    assert _all_files(tmp_path) == []

    existing = tmp_path / "existing"
    existing.mkdir()
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_model_diagnosis("clean", data_home=existing)
    assert _all_files(existing) == []


def test_network_error_leaves_nothing(tmp_path, isolated_lookup, monkeypatch):
    def unreachable(url, timeout):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(_fetch, "urlopen", unreachable)
    with pytest.raises(OSError, match=rf"(?s)could not download.*not known.*{DATA_ENV_VAR}"):
        load_model_diagnosis("noisy")
    assert _all_files(tmp_path) == []


def test_interrupted_download_leaves_nothing(published_dir, tmp_path, monkeypatch):
    content = _bytes_of(published_dir, "clean")

    class DroppedConnection(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > 0:
                raise ConnectionResetError("connection reset by peer")
            return super().read(size)

    monkeypatch.setattr(_fetch, "urlopen", lambda url, timeout: DroppedConnection(content))
    home = tmp_path / "home"
    home.mkdir()
    with pytest.raises(OSError, match="connection reset"):
        load_model_diagnosis("clean", data_home=home)
    assert _all_files(home) == []
