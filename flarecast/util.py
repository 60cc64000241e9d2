"""Small utilities every stage uses, written once: UTC times and durations as text, file digests, atomic writes.

>>> iso(np.datetime64("2017-09-06T12:02:00"))
'2017-09-06T12:02:00Z'
>>> utc("2017-09-06T14:02+02:00", what="--at")
np.datetime64('2017-09-06T12:02:00.000000000')
>>> duration_text(pd.Timedelta("90min")), duration_text(np.timedelta64(3600, "s"))
('90min', '1h')
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

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

    A process killed at any moment leaves the old file or the new one, never half of either.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode())
