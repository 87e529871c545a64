"""Loader of the MD tree paper's published model-diagnosis collections."""

import io
import os
from pathlib import Path

import pandas as pd

from md_sklearn._protocol import (
    CACHE_DIR_NAME,
    DATA_ENV_VAR,
    DOWNLOAD_TIMEOUT_S,
    DOWNLOAD_URL_TEMPLATE,
    PUBLISHED_FILES,
)
from md_sklearn.datasets._fetch import download_verified, sha256_hex


def load_model_diagnosis(collection="clean", *, data_home=None, download=True):
    """Load one of the two published model-diagnosis collections of the MD tree paper.

    Each row is one training configuration of a ResNet-18 of width ``width`` trained
    on CIFAR-10 with batch size ``bs`` on ``data`` tenths of the training images
    (1690 rows, 27 columns): its hyperparameters, validation and loss-landscape
    metrics averaged over 5 seeds, its room for improvement (``rfi_*``) and its three
    diagnosis labels (``bs_failure``, ``width_vs_batch``, ``data_vs_batch``). The
    ``bs_failure`` label is a verdict on the optimizer temperature: ``small`` means
    the batch size is too large, ``large`` means the batch size is too small.

    The file is looked for, in this order, in ``data_home`` (when given), in the
    folder named by the environment variable ``MD_SKLEARN_DATA`` (when set), and in
    the download cache ``$XDG_CACHE_HOME/md_sklearn`` (``~/.cache/md_sklearn`` when
    ``XDG_CACHE_HOME`` is unset). The first file found is checked against its
    published SHA-256 checksum at every load. If none is found and ``download`` is
    true, the file is downloaded from the reference repository into ``data_home``
    (when given) or the cache, verified, and only then saved under its name.

    Parameters
    ----------
    collection : {"clean", "noisy"}, default="clean"
        ``"clean"`` is the collection F (clean labels; the paper's training pool),
        ``"noisy"`` is F' (models trained with 10 % label noise; the test set).
    data_home : str or os.PathLike, default=None
        Folder searched first and, when given, the folder a download is saved in.
    download : bool, default=True
        Whether to download the file when it is found nowhere.

    Returns
    -------
    pandas.DataFrame
        The published table as :func:`pandas.read_csv` reads it: same columns in
        the same order, same dtypes, label columns as strings.

    Raises
    ------
    TypeError
        If ``collection`` is not a string, ``data_home`` is not a path or ``download``
        is not a bool.
    ValueError
        If ``collection`` is not a known name, or a file (found or downloaded) does
        not have the published checksum.
    FileNotFoundError
        If the file is found nowhere and ``download`` is false.
    OSError
        If the download fails; nothing is left behind.

    Examples
    --------
    With ``MD_SKLEARN_DATA`` naming a folder that holds the published CSV files:

    >>> from md_sklearn.datasets import load_model_diagnosis
    >>> clean = load_model_diagnosis("clean", download=False)
    >>> clean.shape
    (1690, 27)
    >>> clean["bs_failure"].value_counts().to_dict()
    {'small': 846, 'large': 714, 'optimal': 130}

    On a machine with internet access and no local copy, the first call downloads
    the file into the cache:

    >>> noisy = load_model_diagnosis("noisy")  # doctest: +SKIP
    """
    filename, expected_sha256 = _published_file(collection)
    download = _check_bool(download, "download")
    folders = _search_folders(data_home)

    for folder in folders:
        path = folder / filename
        if path.is_file():
            return _read_verified(path, expected_sha256)

    target = Path(os.path.expanduser(data_home)) if data_home is not None else _cache_folder()
    url = DOWNLOAD_URL_TEMPLATE.format(filename=filename)
    searched = ", ".join(str(folder) for folder in folders)
    if not download:
        raise FileNotFoundError(
            f"expected the published file {filename} (collection {collection!r}) in one "
            f"of: {searched}; found it in none. Pass download=True to fetch it from {url} "
            f"into {target}, or pass data_home (or set {DATA_ENV_VAR}) to a folder "
            "holding the published CSV files."
        )
    try:
        download_verified(url, target / filename, expected_sha256, timeout=DOWNLOAD_TIMEOUT_S)
    except OSError as exc:
        raise OSError(
            f"could not download {filename} (collection {collection!r}) from {url} into "
            f"{target}: {exc}; nothing was saved (searched before: {searched}). Check the "
            f"internet connection and retry, or pass data_home (or set {DATA_ENV_VAR}) to "
            "a folder holding the published CSV files."
        ) from exc
    except ValueError as exc:
        raise ValueError(
            f"{exc} Retry later, or pass data_home (or set {DATA_ENV_VAR}) to a folder "
            "holding the published CSV files."
        ) from exc
    return _read_verified(target / filename, expected_sha256)


def _published_file(collection):
    if not isinstance(collection, str):
        raise TypeError(
            f"expected collection to be a string, one of {sorted(PUBLISHED_FILES)}, "
            f"got {type(collection).__name__}."
        )
    if collection not in PUBLISHED_FILES:
        raise ValueError(
            f"expected collection to be one of {sorted(PUBLISHED_FILES)}, got {collection!r}."
        )
    return PUBLISHED_FILES[collection]


def _check_bool(value, name):
    if not isinstance(value, bool):
        raise TypeError(f"expected {name} to be True or False, got {type(value).__name__}.")
    return value


def _search_folders(data_home):
    """Folders to search, in lookup order, without repeats."""
    folders = []
    if data_home is not None:
        if not isinstance(data_home, str | os.PathLike):
            raise TypeError(
                f"expected data_home to be a path (str or os.PathLike) or None, "
                f"got {type(data_home).__name__}."
            )
        folders.append(Path(os.path.expanduser(data_home)))
    if os.environ.get(DATA_ENV_VAR):
        folders.append(Path(os.path.expanduser(os.environ[DATA_ENV_VAR])))
    folders.append(_cache_folder())
    return list(dict.fromkeys(folders))


def _cache_folder():
    """``$XDG_CACHE_HOME/md_sklearn``, or ``~/.cache/md_sklearn``."""
    cache_root = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(os.path.expanduser(cache_root)) / CACHE_DIR_NAME


def _read_verified(path, expected_sha256):
    """Parse the CSV at ``path`` from the very bytes whose checksum was verified."""
    content = path.read_bytes()
    actual = sha256_hex(content)
    if actual != expected_sha256:
        raise ValueError(
            f"checksum mismatch for {path}: expected SHA-256 {expected_sha256}, got "
            f"{actual}; the file is not the published table (truncated, corrupt or "
            "edited). Delete it so that it is downloaded again, or replace it with the "
            f"published file from {DOWNLOAD_URL_TEMPLATE.format(filename=path.name)}."
        )
    return pd.read_csv(io.BytesIO(content))
