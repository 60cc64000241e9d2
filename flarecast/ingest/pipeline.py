"""Ingest: read raw files with the product readers, merge them into the store, report what happened.

Rules the merge follows (constants in :mod:`flarecast.ingest.merge_goes` and :mod:`flarecast.ingest.merge`):

* **Idempotent.** A file whose sha256 is already in the group's provenance is not read again; rows whose
  key is already stored (GOES: time; SHARP: harpnum and time; regions: time and region; events: the same
  flare) are not duplicated.
* **GOES overlap.** Per timestamp one row is kept: first a row whose XRS-B is usable over one that is
  masked, then the satellite earlier in ``SATELLITE_PRIORITY``, then the row already in the store (or the
  file listed first). Rows are merged by exact timestamp; products of different cadence interleave.
* **Catalogue overlap.** Entries of two catalogues whose peaks are within ``EVENT_MATCH_TOLERANCE``
  (5 min) and whose true-basis peak fluxes are within ``EVENT_FLUX_RATIO`` (2x) are one flare, whatever
  regions they name; it keeps the times, class and region of the catalogue ranked first in
  ``CATALOGUE_PRIORITY``, a different region goes to ``noaa_ar_alt``, and ``source`` lists both.
* **All or nothing.** Every file is read and checked before anything is written; with ``skip_bad`` a bad
  file is reported in ``skipped`` and the others go in. The write itself is atomic.
* **Bounded memory.** GOES rows stream (:mod:`flarecast.ingest.merge_goes`); files are read a wave at a time, in
  worker processes for large inputs, or on the workers of a ``dask.distributed`` cluster when a Client is
  active or ``scheduler`` (or the ``DASK_SCHEDULER_ADDRESS`` environment variable) names one.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

import dask
import numpy as np
import pandas as pd

from flarecast import __version__
from flarecast.errors import ConfigError, InputFileError
from flarecast.ingest.merge import MERGE
from flarecast.ingest.merge_goes import Stager, stream_merge
from flarecast.ingest.readers import KINDS, ReaderResult, read_or_error
from flarecast.ingest.store import (
    DEFAULT_STORE,
    existing,
    group_attrs,
    locked,
    new_version,
    provenance,
    remove_tree,
    scratch_dir,
    write_groups,
)
from flarecast.util import sha256_file

PARALLEL_MIN_FILES = 16
PARALLEL_MIN_BYTES = 64 * 2**20
"""Below this many files or bytes, reading stays in-process: starting worker processes costs about a second
and sending results back costs more than parsing small text files."""
READ_WAVE = 8
"""Files per worker process in one wave; two waves are in flight, so at most 16 results per worker wait."""


class IngestWarning(UserWarning):
    """Something the user should know about a file that was still ingested (a leap second, an estimated peak)."""


@dataclass
class FileReport:
    """What ingest did with one file.

    ``rows_added`` rows of the file are in the store now, ``rows_replaced`` of them in place of a stored
    GOES row they outrank (so they did not lengthen the series); ``duplicates_skipped`` = read - added
    (rows whose time, record or flare the store already held from a source it ranks higher); ``masked``
    counts values kept but unusable, by reason; ``ignored`` counts lines that are not data rows.
    """

    path: str
    reader: str
    rows_read: int = 0
    masked: dict[str, int] = field(default_factory=dict)
    rows_added: int = 0
    duplicates_skipped: int = 0
    time_range: tuple[str, str] | None = None
    sha256: str = ""
    note: str = ""
    rows_replaced: int = 0
    ignored: dict[str, int] = field(default_factory=dict)


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
    scheduler: str | None = None,
) -> IngestReport:
    """Read files of one kind and merge them into the store.

    Parameters
    ----------
    kind : {"goes", "events", "sharp", "regions"}
        Store group to fill; the reader for each file is picked by content.
    paths : sequence of str or Path
        Files, directories (searched recursively) or glob patterns.
    store : str or Path, keyword-only
        Zarr store directory; created when absent.
    skip_bad : bool, keyword-only
        Record unreadable files in ``skipped`` and ingest the rest, instead of raising on the first; text
        files' bad rows (cut short, impossible dates) are left out and reported in ``warnings``.
    basis : {"true", "swpc"}, optional, keyword-only
        Flux basis of files that do not define one (plain CSV); a product with a known basis refuses another.
    satellite : int, optional, keyword-only
        GOES number for files whose metadata and name do not give one.
    progress : callable, optional, keyword-only
        Called with 1 each time a file has been read (or skipped as already ingested).
    scheduler : str, optional, keyword-only
        Address of a ``dask.distributed`` scheduler (``tcp://host:8786``) to read and merge on; default: the
        active Client if there is one, else ``DASK_SCHEDULER_ADDRESS``, else this machine. Workers must see
        the input files and the store's directory at the same paths.

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
    with locked(store), _cluster(scheduler):
        _ingest_files(kind, files, Path(store), skip_bad, basis, satellite, progress, report)
    return report


_NO_ROWS = pd.DataFrame()


@dataclass
class _Read:
    """A file read and checked: what the report and the provenance need (GOES rows go to the stager)."""

    path: Path
    digest: str
    result: ReaderResult
    time_range: tuple[str, str] | None


def _ingest_files(
    kind, files, store: Path, skip_bad, basis, satellite, progress, report: IngestReport
) -> None:
    # Runs under the store lock: read what is stored, read the new files, merge, write atomically.
    attrs = group_attrs(store, kind) or {}
    prov = provenance(attrs)
    known = {p["sha256"] for p in prov}
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        digests = list(pool.map(sha256_file, files))
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
    stage = scratch_dir(store, "stage") if kind == "goes" and todo else None
    try:
        stager = Stager(stage) if stage else None
        read: list[_Read] = []
        for (path, digest), out in zip(
            todo, _read_iter([p for p, _ in todo], kind, basis, satellite, skip_bad, progress), strict=True
        ):
            if isinstance(out, InputFileError):
                if not skip_bad:
                    raise out
                report.skipped.append((str(path), str(out)))
                continue
            read.append(_Read(path, digest, out, _time_range(kind, out.data)))
            if stager is not None:
                stager.add(out.data)  # the rows now live in the stager; keep only the summary
                out.data = (
                    _NO_ROWS  # one shared empty frame: per-file frames (even empty) add up over 10^4 files
                )
        for r in read:
            for message in r.result.warnings:
                report.warnings.append(message)
                warnings.warn(message, IngestWarning, stacklevel=3)
        if not read:
            return
        prov += [_provenance(kind, r) for r in read]
        added, replaced = _merge_and_write(kind, store, read, stager, prov)
    finally:
        if stage is not None:
            remove_tree(stage)
    for r, n_added, n_replaced in zip(read, added, replaced, strict=True):
        res = r.result
        report.files.append(
            FileReport(
                str(r.path),
                res.reader,
                res.rows_read,
                res.masked,
                n_added,
                res.rows_read - n_added,
                r.time_range,
                r.digest,
                rows_replaced=n_replaced,
                ignored=res.ignored,
            )
        )


def _merge_and_write(kind, store: Path, read: list[_Read], stager, prov: list[dict]) -> tuple[list, list]:
    """Merge the files read into a new version of the group; rows added and replaced per file."""
    attrs = {"provenance": json.dumps(prov)}
    if kind == "events":
        attrs["coverage"] = json.dumps(_coverage(prov))
    if stager is not None:
        with new_version(store, ["goes"]) as root:
            kept, replaced = stream_merge(store / "goes", stager, root, attrs)
        return [kept.get(i, 0) for i in range(1, len(read) + 1)], [
            replaced.get(i, 0) for i in range(1, len(read) + 1)
        ]
    sources = [(f"{r.result.reader}:{r.path.name}", r.result) for r in read]
    merged, added = MERGE[kind](existing(store, kind), sources)
    merged.attrs.update(attrs)
    write_groups(store, {kind: merged})
    return added, [0] * len(read)


def _provenance(kind: str, r: _Read) -> dict:
    return {
        "file": r.path.name,
        "sha256": r.digest,
        "reader": r.result.reader,
        "flarecast_version": __version__,
        "rows": r.result.rows_read,
        "time_range": r.time_range,
    }


def _coverage(prov: list[dict]) -> dict[str, list[str]]:
    """First and last peak per catalogue reader, over every file it read."""
    out: dict[str, list[str]] = {}
    for p in prov:
        span = p.get("time_range")
        if not span:
            continue
        lo, hi = out.get(p["reader"], span)
        out[p["reader"]] = [min(lo, span[0]), max(hi, span[1])]
    return out


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


@contextlib.contextmanager
def _cluster(address: str | None):
    """Connect to a dask.distributed scheduler for the duration of an ingest, when one is named."""
    address = address or dask.config.get("scheduler-address", None)
    if not address or _client() is not None:
        yield
        return
    try:
        from distributed import Client
    except ImportError as exc:
        raise ConfigError(
            f"scheduler {address!r} given, but dask.distributed is not installed: pip install distributed"
        ) from exc
    with Client(address):
        yield


def _client():
    """The active dask.distributed Client, or None. A process that never imported distributed has none, and
    importing it only to ask costs ~0.5 s of every ingest."""
    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


def _read_iter(
    files: list[Path], kind, basis, satellite, skip_bad, progress
) -> Iterator[ReaderResult | InputFileError]:
    """Each file's ReaderResult (or its InputFileError), in order, holding at most a wave of results."""
    jobs = [(f, kind, basis, satellite, skip_bad) for f in files]
    client = _client()
    done = 0
    if client is not None:
        # Two waves in flight: the workers read the next wave while this process stages the current one.
        wave = 4 * max(1, len(client.scheduler_info().get("workers", {})))
        pending = None
        for i in range(0, len(jobs) + wave, wave):
            futures = client.map(read_or_error, jobs[i : i + wave], pure=False) if i < len(jobs) else None
            if pending is not None:
                for out in client.gather(pending):
                    done += 1
                    yield _tick(progress, out)
            pending = futures
        return
    big = sum(f.stat().st_size for f in files) >= PARALLEL_MIN_BYTES
    if len(files) >= PARALLEL_MIN_FILES and big and (os.cpu_count() or 1) > 1:
        # GOES-R files store one value per HDF5 chunk: reading is CPU bound, so processes, not threads.
        # "spawn" because forking a process that holds HDF5 or thread-pool state can deadlock.
        # Two waves in flight, as on a cluster: workers never wait for this process to take a whole wave.
        workers = min(os.cpu_count() or 1, 8)
        wave = READ_WAVE * workers
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
                pending: list = []
                for i in range(0, len(jobs) + wave, wave):
                    futures = [pool.submit(read_or_error, job) for job in jobs[i : i + wave]]
                    for future in pending:
                        out = future.result()
                        done += 1
                        yield _tick(progress, out)
                    pending = futures
            return
        except BrokenProcessPool:
            # Workers cannot start when the calling script lacks an `if __name__ == "__main__":` guard
            # (spawn re-imports it); reading in-process is slower but always works.
            warnings.warn(
                "worker processes failed; reading the files one by one", IngestWarning, stacklevel=4
            )
    for job in jobs[done:]:
        yield _tick(progress, read_or_error(job))


def _tick(progress, out):
    if progress:
        progress(1)
    return out


def _time_range(kind: str, data) -> tuple[str, str] | None:
    col = {"goes": "time", "events": "peak", "sharp": "time", "regions": "time"}[kind]
    t = data[col].to_numpy("datetime64[ns]")
    t = t[~np.isnat(t)]
    return (str(pd.Timestamp(t.min())), str(pd.Timestamp(t.max()))) if t.size else None
