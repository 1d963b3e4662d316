"""Download the official CIFAR-10 archive and put its batches in place.

The only code in the project that touches the network. The archive is fetched
into ``<data dir>/cifar-10-python.tar.gz.partial`` (resumed with an HTTP Range
request when a previous attempt broke off), checked against its MD5, extracted
into a temporary directory inside the data dir, checked to load, and only then
renamed to ``<data dir>/cifar-10-batches-py``: readers see either no data or
complete data. Every failure raises :class:`DownloadError` with one sentence
and leaves nothing behind; only an interrupt (Ctrl-C) keeps the partial file,
so that the next run resumes it.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from http.client import HTTPException
from pathlib import Path, PurePosixPath, PureWindowsPath

from tqdm import tqdm

from .cifar10 import BATCHES_DIRNAME, DataError, default_data_dir, load_cifar10, real_data_dir

OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
OFFICIAL_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
CHUNK_SIZE = 1 << 16


class DownloadError(Exception):
    """Getting the data failed; the message says what happened and what to do."""


class _StreamBroken(Exception):
    """The body stopped before its end; another attempt can resume it."""


# ------------------------------------------------------------ shared with npm_source


def existing_data(data_dir) -> Path | None:
    """The real-data directory if it is complete and loads, else None."""
    dest = real_data_dir(data_dir)
    try:
        load_cifar10(dest)
    except DataError:
        return None
    return dest


@contextlib.contextmanager
def staging_dir(data_dir: Path):
    """A temporary directory inside ``data_dir`` (same filesystem, so the final
    rename is atomic), removed on exit whatever happens."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=".tmp-", dir=data_dir))
    except OSError as err:
        raise _disk_error(data_dir, err) from None
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def install_batches(src: Path, data_dir: Path, check=None) -> Path:
    """Check that ``src`` loads (and passes ``check(X_train, y_train, X_test, y_test)``
    if given, which raises DownloadError), then rename it to the real-data directory.

    ``src`` must be inside a :func:`staging_dir` of ``data_dir``; an old, broken
    data directory is moved there too, so it goes when the staging dir goes.
    """
    try:
        arrays = load_cifar10(src)
    except DataError:
        raise DownloadError(
            "The downloaded files are not valid CIFAR-10 batches, so nothing was installed; "
            "check the URL or source and try again."
        ) from None
    if check is not None:
        check(*arrays)
    dest = real_data_dir(data_dir)
    try:
        if dest.exists():
            os.replace(dest, src.parent / "replaced")
        os.replace(src, dest)
    except OSError as err:
        raise _disk_error(data_dir, err) from None
    return dest


def _disk_error(data_dir: Path, err: OSError) -> DownloadError:
    return DownloadError(
        f"Could not write to {data_dir} ({err.strerror or err}); free some disk space or "
        "choose another directory with --data-dir."
    )


# ----------------------------------------------------------------------- download


def download_cifar10(data_dir=None, url=OFFICIAL_URL, md5=OFFICIAL_MD5, progress=True,
                     timeout=30.0, retries=3) -> Path:
    """Download, verify and install CIFAR-10 into ``<data dir>/cifar-10-batches-py``.

    Args:
        data_dir: defaults to :func:`optimlab.data.cifar10.default_data_dir`.
        url, md5: the archive and its checksum (the official ones by default).
        progress: show a progress bar.
        timeout: seconds a socket may wait for the server before giving up.
        retries: how many times a broken-off transfer is resumed.
    Returns the installed directory. Raises DownloadError.
    """
    data_dir = Path(data_dir or default_data_dir())
    present = existing_data(data_dir)
    if present is not None:
        print(f"CIFAR-10 is already in {present}; nothing to do.")
        return present

    partial = data_dir / f"{ARCHIVE_NAME}.partial"
    try:
        with staging_dir(data_dir) as staging:
            _fetch(url, partial, timeout, retries, progress)
            _check_md5(partial, md5)
            _safe_extract(partial, staging)
            dest = install_batches(staging / BATCHES_DIRNAME, data_dir)
    except KeyboardInterrupt:
        print(f"Interrupted; {partial} is kept and the next download resumes from it.")
        raise
    except OSError as err:
        # Network errors were turned into DownloadError where they happen, so an
        # OSError here comes from writing: the partial file or the extraction.
        partial.unlink(missing_ok=True)
        raise _disk_error(data_dir, err) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.unlink()
    print(f"CIFAR-10 is ready in {dest}.")
    return dest


def _fetch(url: str, partial: Path, timeout: float, retries: int, progress: bool) -> None:
    """Download ``url`` into ``partial``, resuming whenever the transfer breaks off."""
    for _ in range(retries + 1):
        try:
            _fetch_once(url, partial, timeout, progress)
            return
        except _StreamBroken:
            continue
    raise DownloadError(
        f"The download from {_host(url)} broke off {retries + 1} times; check your network "
        "connection and run the command again."
    )


def _fetch_once(url: str, partial: Path, timeout: float, progress: bool) -> None:
    """One HTTP request: ask for the bytes ``partial`` lacks and append them.

    Raises _StreamBroken if the body ends early, DownloadError if the server
    cannot be reached or refuses.
    """
    have = partial.stat().st_size if partial.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                          timeout=timeout)
    except urllib.error.HTTPError as err:
        err.close()  # it holds the connection open
        if err.code == 416 and have:
            return  # Nothing left to fetch; the checksum tells whether the file is right.
        raise DownloadError(
            f"{url} answered HTTP {err.code} ({err.reason}); check the URL or try again later."
        ) from None
    except (OSError, HTTPException) as err:  # URLError and socket timeouts are OSErrors
        reason = getattr(err, "reason", None) or err
        raise DownloadError(
            f"Could not reach {_host(url)} ({reason}); check your network connection and try again."
        ) from None

    with response:
        if have and response.status == 206:
            if _range_start(response) != have:
                partial.unlink()
                raise _StreamBroken  # A range we did not ask for: start over.
        elif have:
            have = 0  # The server ignored Range and sends the whole file: start over.
        length = response.headers.get("Content-Length")
        total = have + int(length) if length else None
        with open(partial, "ab" if have else "wb") as out, tqdm(
            total=total, initial=have, unit="B", unit_scale=True, unit_divisor=1024,
            desc=ARCHIVE_NAME, disable=not progress,
        ) as bar:
            while chunk := _read_chunk(response):
                out.write(chunk)
                bar.update(len(chunk))
    if total is not None and partial.stat().st_size < total:
        raise _StreamBroken


def _read_chunk(response) -> bytes:
    """Next piece of the body; b'' at its end. A dropped connection or a stalled
    server (socket timeout) is a broken stream that the next attempt resumes.

    ``read1`` returns what has arrived; ``read(n)`` would wait for all n bytes and
    lose the ones it had if the socket then timed out.
    """
    try:
        return response.read1(CHUNK_SIZE)
    except (OSError, HTTPException):
        raise _StreamBroken from None


def _range_start(response) -> int | None:
    """First byte of a 206 response, from ``Content-Range: bytes START-END/TOTAL``."""
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else None


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _check_md5(path: Path, expected: str) -> None:
    """Raise DownloadError unless the MD5 of ``path`` is ``expected``."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    if digest.hexdigest() != expected.lower():
        raise DownloadError(
            f"The downloaded archive's MD5 checksum is {digest.hexdigest()}, not {expected}, "
            "so it was deleted; run the command again, and check the URL if you gave one."
        )


# ---------------------------------------------------------------------- extraction


def escapes_directory(name: str) -> bool:
    """Whether an archive member called ``name`` could land outside the extraction directory.

    The name is read both as tar means it (``/``-separated) and as Windows would when writing it
    (``\\`` separates too, and ``C:`` or a leading separator anchors it), so the answer is the same
    on every system: ``/etc/x``, ``C:\\x``, ``\\x``, ``../x`` and ``a\\..\\..\\x`` all escape.
    """
    return any(path.anchor or ".." in path.parts for path in (PurePosixPath(name), PureWindowsPath(name)))


def _check_member(member: tarfile.TarInfo) -> None:
    """Refuse members that could write outside the extraction directory or are not
    plain files or directories (links, devices, FIFOs)."""
    if escapes_directory(member.name):
        raise DownloadError(
            f"The archive holds {member.name!r}, a path outside its own directory, so it was "
            "not extracted; check the URL."
        )
    if not (member.isfile() or member.isdir()):
        raise DownloadError(
            f"The archive holds {member.name!r}, which is a link or special file, so it was "
            "not extracted; check the URL."
        )


def _safe_extract(archive: Path, dest: Path) -> None:
    """Extract a .tar.gz into ``dest`` after checking every member."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()  # Reads to the end, so truncation shows here.
            for member in members:
                _check_member(member)
            # Where tarfile has extraction filters (3.11.4+), "data" re-checks the
            # same rules inside tarfile itself.
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, members=members, filter="data")
            else:
                tar.extractall(dest, members=members)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile):
        raise DownloadError(
            f"The archive {archive.name} is truncated or corrupt, so it was deleted; "
            "run the command again."
        ) from None
