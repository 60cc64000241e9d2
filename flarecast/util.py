"""Small utilities every stage uses, written once: UTC times and durations as text, file digests, atomic writes.

>>> iso(np.datetime64("2017-09-06T12:02:00"))
'2017-09-06T12:02:00Z'
>>> utc("2017-09-06T14:02+02:00", what="--at")
np.datetime64('2017-09-06T12:02:00.000000000')
>>> duration_text(pd.Timedelta("90min")), duration_text(np.timedelta64(3600, "s"))
('90min', '1h')
"""

from __future__ import annotations

import glob
import hashlib
import os
import stat
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from flarecast.errors import ConfigError


def iso(t) -> str:
    """A time as ISO 8601 UTC text to the second: ``2017-09-06T12:02:00Z``."""
    return pd.Timestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc(text, *, what: str = "time", error: type[Exception] = ConfigError) -> np.datetime64:
    """A UTC ``datetime64[ns]`` from ISO text or a datetime (naive = UTC; an offset is converted).

    Raises ``error`` (a :class:`~flarecast.errors.FlarecastError` type) naming ``what`` for text that is no time.
    """
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        ts = pd.NaT
    if ts is pd.NaT:
        raise error(f"{what} {text!r}: expected a UTC date or time such as 2017-09-06 or 2017-09-06T12:00")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return np.datetime64(ts.to_datetime64(), "ns")


def duration(text, *, what: str = "duration") -> pd.Timedelta:
    """A positive duration from text such as ``1h`` or ``15min``, or a :class:`ConfigError` naming ``what``."""
    try:
        td = pd.Timedelta(text)
    except (ValueError, TypeError):
        td = pd.NaT
    if td is pd.NaT or td <= pd.Timedelta(0):
        raise ConfigError(f"{what} {text!r}: expected a positive duration such as 1h or 15min")
    return td


def duration_text(td) -> str:
    """A duration as ``1h``, ``15min`` or ``20s`` (pandas would write ``0 days 01:00:00``)."""
    s = int(pd.Timedelta(td).total_seconds())
    return f"{s // 3600}h" if s % 3600 == 0 else f"{s // 60}min" if s % 60 == 0 else f"{s}s"


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, read in 4 MiB blocks (provenance, idempotency and integrity key)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` under a temporary name in the same folder, fsync, rename over ``path``.

    A process killed at any moment leaves the old file or the new one, never half of either; an OS error (a full
    disk, a read-only file system) leaves the old file and is raised naming ``path`` (see :func:`atomic_path`).
    """
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode())


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs) -> Iterator[IO]:
    """``open(path, mode, **kwargs)`` for writers that stream (``csv.writer``): the file is written under a
    temporary name and renamed over ``path`` when the ``with`` body succeeds (:func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer that wants a path (``savefig``, ``to_netcdf``,
    ``to_parquet``, safetensors' ``save_file``); when the ``with`` body succeeds the file is fsynced, given the
    mode a plain ``open`` would give it, and renamed over ``path``.

    - The temporary name is hidden and keeps ``path``'s suffix (writers choose the format by it):
      ``.fc.csv.1a2b3c4d.tmp.csv``.
    - A process killed at any moment leaves the old file or the new one, never half of either, under ``path``.
    - The mode: an existing file's is kept; a new file gets ``0o666 & ~umask`` (``mkstemp`` alone would give
      0600, which a web server could not read).
    - ``path`` a symbolic link: the file it points to is replaced and the link stays.
    - Temporary files of ``path`` that a killed writer left (older than :data:`STALE_TMP_S`) are removed after
      a successful write.
    - An exception in the body or in the write removes the temporary file and leaves ``path`` as it was; an
      :class:`OSError` is raised again naming ``path`` (not the temporary name), with its errno.
    """
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}"
    try:
        try:
            yield tmp
            _commit(tmp, path)
            _sweep_stale(path)
        except OSError as exc:
            named = _naming(exc, tmp, path)
            if named is exc:
                raise
            raise named from exc
    finally:
        with suppress(OSError):  # a read-only file system refuses even this (EROFS): keep the first error
            tmp.unlink(missing_ok=True)


STALE_TMP_S = 3600.0
"""A hidden temporary file of ``path`` untouched for this long was left by a killed writer (a live one writes
on, and flarecast's writes take seconds)."""


def _sweep_stale(path: Path) -> None:
    """Remove the temporary files a killed writer of ``path`` left beside it (``.NAME.<id>.tmp.SUFFIX``, older
    than :data:`STALE_TMP_S`), so that a job killed daily does not fill its folder with them."""
    now = time.time()
    for old in path.parent.glob(f".{glob.escape(path.name)}.*.tmp{glob.escape(path.suffix)}"):
        with suppress(OSError):
            if now - old.lstat().st_mtime > STALE_TMP_S and old.is_file():
                old.unlink()


def _commit(tmp: Path, path: Path) -> None:
    """fsync ``tmp``, give it ``path``'s mode (or the umask's), rename it over ``path``, fsync the folder."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    with suppress(OSError):  # the rename itself survives a power cut only once the folder is on disk
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _naming(exc: OSError, tmp: Path, path: Path) -> OSError:
    """``exc`` naming ``path`` where it named the temporary file or no file (a write's ENOSPC), with the same
    errno (so the same OSError subclass); an error about another file (an input the body read) as it was."""
    if exc.errno is None or (exc.filename is not None and str(exc.filename) != str(tmp)):
        return exc
    return OSError(exc.errno, exc.strerror or os.strerror(exc.errno), str(path))


def _umask() -> int:
    """The process's umask, read without changing it where Linux says it (``/proc/self/status``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, hence the /proc reading first)
    os.umask(mask)
    return mask
