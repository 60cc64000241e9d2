"""Ingest: read raw files with the product readers, merge them into the store, report what happened.

Rules the merge follows (constants in :mod:`flarecast.store`):

* **Idempotent.** A file whose sha256 is already in the group's provenance is not read again; rows whose
  key is already stored (GOES: time; SHARP: harpnum and time; events: the same flare) are not duplicated.
* **GOES overlap.** Per timestamp one row is kept: first a row whose XRS-B is usable over one that is
  masked, then the satellite earlier in ``SATELLITE_PRIORITY``, then the row already in the store (or the
  file listed first). Rows are merged by exact timestamp; products of different cadence interleave.
* **Catalogue overlap.** An event matches one already known from another file when their peaks are within
  ``EVENT_MATCH_TOLERANCE`` (5 min), their true-basis peak fluxes within ``EVENT_FLUX_RATIO`` (2x), and
  their NOAA regions agree (or one is 0). The first-ingested event keeps its times and class, missing
  start/end/region are filled from the newcomer, and ``source`` lists both.
* **All or nothing.** Every file is read and checked before anything is written; with ``skip_bad`` a bad
  file is reported in ``skipped`` and the others go in. The write itself is atomic.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from flarecast import __version__
from flarecast.errors import ConfigError, InputFileError
from flarecast.readers import KINDS, ReaderResult, read_file
from flarecast.store import DEFAULT_STORE, MERGE, existing, locked, provenance, write_groups

PARALLEL_MIN_FILES = 16
PARALLEL_MIN_BYTES = 64 * 2**20
"""Below this many files or bytes, reading stays in-process: starting worker processes costs about a second
and sending results back costs more than parsing small text files."""


class IngestWarning(UserWarning):
    """Something the user should know about a file that was still ingested (a leap second, an estimated peak)."""


@dataclass
class FileReport:
    """What ingest did with one file."""

    path: str
    reader: str
    rows_read: int = 0
    masked: dict[str, int] = field(default_factory=dict)
    rows_added: int = 0
    duplicates_skipped: int = 0
    time_range: tuple[str, str] | None = None
    sha256: str = ""
    note: str = ""


@dataclass
class IngestReport:
    """Per-file reports, skipped files with their error, and the store written."""

    kind: str
    store: str
    files: list[FileReport] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_added(self) -> int:
        """Rows (or events, or records) added to the store by this ingest."""
        return sum(f.rows_added for f in self.files)

    def to_dict(self) -> dict:
        """JSON-ready summary for ``--json``."""
        out = asdict(self)
        out["rows_added"] = self.rows_added
        return out


def ingest(
    kind: str,
    paths: Sequence[str | Path],
    *,
    store: str | Path = DEFAULT_STORE,
    skip_bad: bool = False,
    basis: str | None = None,
    satellite: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Read files of one kind and merge them into the store.

    Parameters
    ----------
    kind : {"goes", "events", "sharp"}
        Store group to fill; the reader for each file is picked by content.
    paths : sequence of str or Path
        Files, directories (searched recursively) or glob patterns.
    store : str or Path, keyword-only
        Zarr store directory; created when absent.
    skip_bad : bool, keyword-only
        Record unreadable files in ``skipped`` and ingest the rest, instead of raising on the first.
    basis : {"true", "swpc"}, optional, keyword-only
        Flux basis of files that do not define one (plain CSV); a product with a known basis refuses another.
    satellite : int, optional, keyword-only
        GOES number for files whose metadata and name do not give one.
    progress : callable, optional, keyword-only
        Called with 1 each time a file has been read (or skipped as already ingested).

    Returns
    -------
    IngestReport

    Raises
    ------
    InputFileError
        For the first bad file (naming it) when ``skip_bad`` is False; nothing is written then.

    Examples
    --------
    >>> report = ingest("goes", ["data/raw/goes"], store="data/store.zarr")  # doctest: +SKIP
    >>> report.rows_added  # doctest: +SKIP
    7200
    """
    if kind not in KINDS:
        raise ConfigError(f"kind {kind!r} is not one of {list(KINDS)}")
    if basis not in (None, "true", "swpc"):
        raise ConfigError(f"basis {basis!r} is not one of ['true', 'swpc']")
    report = IngestReport(kind=kind, store=str(store))
    files = expand_paths(paths, report, skip_bad)
    with locked(store):
        _ingest_files(kind, files, store, skip_bad, basis, satellite, progress, report)
    return report


def _ingest_files(kind, files, store, skip_bad, basis, satellite, progress, report: IngestReport) -> None:
    # Runs under the store lock: read what is stored, read the new files, merge, write atomically.
    old = existing(store, kind)
    known = {p["sha256"] for p in provenance(old)}
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        digests = list(pool.map(sha256, files))
    todo = []
    for path, digest in zip(files, digests, strict=True):
        if digest in known:
            report.files.append(
                FileReport(str(path), "-", sha256=digest, note="already in store (same sha256)")
            )
            if progress:
                progress(1)
        else:
            known.add(digest)
            todo.append((path, digest))
    results = _read_all([p for p, _ in todo], kind, basis, satellite, skip_bad, report, progress)
    read = [(p, d, results[p]) for p, d in todo if p in results]
    for _, _, res in read:
        for message in res.warnings:
            report.warnings.append(message)
            warnings.warn(message, IngestWarning, stacklevel=3)
    if not read:
        return
    merged, added = MERGE[kind](old, [(f"{r.reader}:{p.name}", r) for p, _, r in read])
    prov = provenance(old)
    for (path, digest, res), n_added in zip(read, added, strict=True):
        prov.append(
            {
                "file": path.name,
                "sha256": digest,
                "reader": res.reader,
                "flarecast_version": __version__,
                "rows": res.rows_read,
            }
        )
        report.files.append(
            FileReport(
                str(path),
                res.reader,
                res.rows_read,
                res.masked,
                n_added,
                res.rows_read - n_added,
                _time_range(kind, res.data),
                digest,
            )
        )
    merged.attrs["provenance"] = json.dumps(prov)
    write_groups(store, {kind: merged})


def expand_paths(paths: Sequence[str | Path], report: IngestReport, skip_bad: bool) -> list[Path]:
    """Files named by ``paths`` (directories recursed, globs expanded), in order, each once."""
    out: list[Path] = []
    for item in paths:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        elif p.exists():
            found = [p]
        else:
            found = sorted(Path(f) for f in glob.glob(str(item), recursive=True) if Path(f).is_file())
        if not found:
            err = InputFileError(item, "no such file, directory or matching file")
            if not skip_bad:
                raise err
            report.skipped.append((str(item), str(err)))
        out.extend(found)
    seen: set[Path] = set()
    return [f for f in out if not (f.resolve() in seen or seen.add(f.resolve()))]


def sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (provenance and idempotency key)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_one(args: tuple[Path, str, str | None, int | None]) -> ReaderResult | InputFileError:
    path, kind, basis, satellite = args
    try:
        return read_file(path, kind, basis=basis, satellite=satellite)
    except InputFileError as exc:  # returned, not raised: the caller decides between skip and stop
        return exc


def _read_all(files, kind, basis, satellite, skip_bad, report, progress) -> dict[Path, ReaderResult]:
    jobs = [(f, kind, basis, satellite) for f in files]
    big = sum(f.stat().st_size for f in files) >= PARALLEL_MIN_BYTES
    if len(files) >= PARALLEL_MIN_FILES and big and (os.cpu_count() or 1) > 1:
        # GOES-R files store one value per HDF5 chunk: reading is CPU bound, so processes, not threads.
        # "spawn" because forking a process that holds HDF5 or thread-pool state can deadlock.
        workers = min(os.cpu_count() or 1, 8)
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
        n_skipped = len(report.skipped)
        try:
            outcomes = pool.map(_read_one, jobs, chunksize=max(1, len(jobs) // (workers * 8)))
            return _collect(jobs, outcomes, skip_bad, report, progress)
        except BrokenProcessPool:
            # Workers cannot start when the calling script lacks an `if __name__ == "__main__":` guard
            # (spawn re-imports it); reading in-process is slower but always works.
            warnings.warn(
                "worker processes failed; reading the files one by one", IngestWarning, stacklevel=3
            )
            del report.skipped[n_skipped:]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return _collect(jobs, map(_read_one, jobs), skip_bad, report, progress)


def _collect(jobs, outcomes, skip_bad, report, progress) -> dict[Path, ReaderResult]:
    results: dict[Path, ReaderResult] = {}
    for (path, *_), out in zip(jobs, outcomes, strict=True):
        if progress:
            progress(1)
        if isinstance(out, InputFileError):
            if not skip_bad:
                raise out
            report.skipped.append((str(path), str(out)))
        else:
            results[path] = out
    return results


def _time_range(kind: str, data: pd.DataFrame) -> tuple[str, str] | None:
    col = {"goes": "time", "events": "peak", "sharp": "time"}[kind]
    t = data[col].dropna()
    return (str(t.min()), str(t.max())) if len(t) else None
