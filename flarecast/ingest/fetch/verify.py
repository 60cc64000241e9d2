"""Is a downloaded file whole and of its format? And moving a bad copy aside instead of trusting it.

A file gets its final name only when :func:`problem` finds nothing wrong with it; a copy already under its
final name that :func:`problem` finds wrong is moved to ``quarantine/`` beside it (:func:`quarantine`) and
reported, never skipped as complete nor fed to ingest.

| suffix | whole and of its format when |
|---|---|
| ``.nc`` | HDF5 (netCDF-4) whose superblock's end-of-file address is within the file, or a netCDF-3 signature (``CDF\\x01``, ``\\x02``, ``\\x05``) |
| ``.json`` | JSON that parses (``thorough``) or, for copies checked on every run, starts with ``[``/``{`` and ends with ``]``/``}`` |
| ``.txt``, ``.csv`` | text: no NUL byte, not an HTML page, ends with a line break (or is empty) |
"""

from __future__ import annotations

import json
import os
from fnmatch import fnmatch
from pathlib import Path

HDF5 = b"\x89HDF\r\n\x1a\n"
NETCDF3 = (b"CDF\x01", b"CDF\x02", b"CDF\x05")
QUARANTINE = "quarantine"
"""Folder, beside the files, that bad copies are moved to."""

MB = 1 << 20
CAPS = (
    ("*avg1m*.nc", 32 * MB),  # GOES 1-minute averages: 3.1 MB a day
    ("*flsum*.nc", 32 * MB),  # GOES-R flare summary: tens of kB a day
    ("*.nc", 512 * MB),  # full cadence (GOES-R flx1s, GOES 8-15 irrad): tens of MB a day
    ("*.json", 32 * MB),  # SWPC products: xrays-7-day is about 4 MB
    ("*.txt", 8 * MB),  # SWPC daily event reports: tens of kB
)
"""Largest file accepted, in decoded bytes, by name (first match): about ten times the largest real file."""
LISTING_CAP = 16 * MB
"""Largest directory listing accepted."""
QUERY_CAP = 256 * MB
"""Largest answer (one page) accepted from HEK or JSOC (a month of every HARP at 12 minutes is tens of MB)."""
DEFAULT_CAP = 64 * MB


def cap_for(path: Path) -> int:
    """The size cap of a file by its name (:data:`CAPS`)."""
    return next((cap for pattern, cap in CAPS if fnmatch(path.name.lower(), pattern)), DEFAULT_CAP)


def _looks_html(head: bytes) -> bool:
    # Every data format fetched starts otherwise; an error page (HTML, XML) starts with '<'.
    return head.lstrip()[:1] == b"<"


def _hdf5_problem(path: Path, head: bytes) -> str | None:
    version = head[8]
    if version in (0, 1):
        size, at = head[13], 24 + (4 if version == 1 else 0)
        base = int.from_bytes(head[at:at + size], "little")
        end = base + int.from_bytes(head[at + 2 * size:at + 3 * size], "little")
    elif version in (2, 3):
        size = head[9]
        base = int.from_bytes(head[12:12 + size], "little")
        end = base + int.from_bytes(head[12 + 2 * size:12 + 3 * size], "little")
    else:
        return f"HDF5 superblock version {version} unknown"
    actual = path.stat().st_size
    if actual < end:
        return f"truncated: {actual} bytes, its HDF5 header says {end}"
    return None


def _netcdf_problem(path: Path) -> str | None:
    with path.open("rb") as fh:
        head = fh.read(64)
    if head.startswith(HDF5) and len(head) >= 48:
        return _hdf5_problem(path, head)
    if head.startswith(NETCDF3):
        return None
    what = "an HTML page" if _looks_html(head) else f"starts with {head[:8]!r}"
    return f"not netCDF ({what}; expected the HDF5 or netCDF-3 signature)"


def _edges(path: Path, n: int = 64) -> tuple[bytes, bytes]:
    with path.open("rb") as fh:
        head = fh.read(n)
        fh.seek(max(path.stat().st_size - n, 0))
        tail = fh.read(n)
    return head, tail


def _json_problem(path: Path, thorough: bool) -> str | None:
    head, tail = _edges(path)
    if _looks_html(head):
        return "an HTML page, not JSON"
    if thorough:
        try:
            json.loads(path.read_bytes())
        except (ValueError, RecursionError) as exc:
            return f"not JSON that parses ({str(exc)[:80]})"
        return None
    if not (head.lstrip()[:1] in (b"[", b"{") and tail.rstrip()[-1:] in (b"]", b"}")):
        return "not whole JSON (does not start with [ or { and end with ] or })"
    return None


def _text_problem(path: Path) -> str | None:
    if path.stat().st_size == 0:
        return None
    head, tail = _edges(path, 512)
    if b"\0" in head or b"\0" in tail:
        return "not text (NUL bytes)"
    if _looks_html(head):
        return "an HTML page, not data"
    if not tail.endswith(b"\n"):
        return "cut mid-line (no line break at the end)"
    return None


def problem(path: str | Path, *, thorough: bool = True) -> str | None:
    """What is wrong with the file at ``path`` for its format, or None when it looks whole.

    ``thorough=False`` keeps the check to the first and last bytes (for copies checked on every run).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if path.name.endswith(".part"):
        suffix = Path(path.name[:-5]).suffix.lower()
    if suffix == ".nc":
        return _netcdf_problem(path)
    if suffix == ".json":
        return _json_problem(path, thorough)
    if suffix in (".txt", ".csv"):
        return _text_problem(path)
    return None


def quarantine(path: Path) -> Path:
    """Move ``path`` to ``quarantine/`` beside it (``NAME``, or ``NAME.1``, ``NAME.2`` when taken); the new path."""
    folder = path.parent / QUARANTINE
    folder.mkdir(exist_ok=True)
    dest, n = folder / path.name, 0
    while dest.exists():
        n += 1
        dest = folder / f"{path.name}.{n}"
    os.replace(path, dest)
    return dest
