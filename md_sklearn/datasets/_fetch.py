"""Checksum verification and atomic download of one file."""

import hashlib
from pathlib import Path
from urllib.request import urlopen

from md_sklearn._utils._atomic import atomic_path

_CHUNK_BYTES = 1 << 16


def sha256_hex(content):
    """Return the SHA-256 hex digest of ``content`` (bytes)."""
    return hashlib.sha256(content).hexdigest()


def download_verified(url, destination, expected_sha256, *, timeout):
    """Download ``url`` to ``destination`` if its SHA-256 is ``expected_sha256``.

    The bytes go to a temporary file in the destination folder, which replaces
    ``destination`` atomically only once the checksum matches. On any failure the
    temporary file, and any folder this call created, are removed.

    Parameters
    ----------
    url : str
        Address to fetch.
    destination : pathlib.Path
        Final path of the file.
    expected_sha256 : str
        Expected SHA-256 hex digest of the file.
    timeout : float
        Seconds to wait on the network before failing.

    Returns
    -------
    pathlib.Path
        ``destination``.

    Raises
    ------
    OSError
        If the download fails (network, HTTP or disk error).
    ValueError
        If the downloaded bytes do not have the expected checksum.
    """
    destination = Path(destination)
    with atomic_path(destination, fsync=True, remove_created_folders=True) as temporary:
        digest = hashlib.sha256()
        with open(temporary, "wb") as out, urlopen(url, timeout=timeout) as response:
            while chunk := response.read(_CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
        actual = digest.hexdigest()
        if actual != expected_sha256:
            raise ValueError(
                f"checksum mismatch for {destination.name} downloaded from {url}: "
                f"expected SHA-256 {expected_sha256}, got {actual}; nothing was saved."
            )
    return destination
