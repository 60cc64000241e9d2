"""Streaming merge of GOES rows into a new version of the store's ``goes`` group.

Memory is bounded by a batch of rows, not by the number of files or the size of the store:

1. **Stage.** Each file's rows (sorted by time, as every reader checks) join an in-memory batch; past
   :data:`STAGE_ROWS` rows the batch is appended to a staging Zarr beside the store. A small ingest never
   writes its rows twice; a large one holds one batch at a time.
2. **Plan.** Time is cut at UTC day boundaries. Days holding new rows form *merge units* together with the
   stored rows of those days, stored rows between them form *copy units*; a unit holds at most
   :data:`UNIT_ROWS` rows unless a single day holds more. The stored chunks before the first new day are
   hard-linked into the new version, not rewritten, so a daily ingest into decades of data costs a day.
3. **Merge and write.** Units are dask tasks computed a wave at a time in time order: on local threads,
   or on the workers of a ``dask.distributed`` Client when one is active (workers then need the input
   files and the store's directory on a shared filesystem). The calling process appends each unit's rows
   to the new version in whole Zarr chunks (:mod:`flarecast.ingest.goes_writer`).

**Appending.** When the staged rows simply follow the stored ones (the files came in time order, none
overlapping the next or the store, and the store ends on a chunk boundary with its arrays stored as the
staging's are: a first ingest into an empty store always does), there is nothing to merge: the staging Zarr, written with the store's own array
settings, already holds the new rows in their final chunks, and they are hard-linked into the new
version instead of being read and written again. A year of 1-second files is then written once, not twice.

At a timestamp held by several rows the one kept has a usable XRS-B if any does, then the satellite
earliest in :data:`SATELLITE_PRIORITY`, then is the row already stored, then the one from the file listed
first.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import dask
import numpy as np
import pandas as pd
import zarr

from flarecast.errors import StoreError
from flarecast.ingest.goes_writer import (
    COLUMNS,
    DTYPES,
    ChunkWriter,
    append_columns,
    same_layout,
    share_prefix,
    write_chunks,
)
from flarecast.ingest.readers.base import MASK_BITS
from flarecast.ingest.store import TIME_CHUNK, TIME_ENCODING

SATELLITE_PRIORITY = (19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8)
"""GOES numbers, most trusted first: newer GOES-R over older, any GOES-R over GOES 8-15; unknown (0) last."""

DAY_NS = 86_400 * 10**9

STAGE_ROWS = 2**20
"""Rows held in memory before a batch is written to the staging Zarr (~20 MB)."""
UNIT_ROWS = 2**17
"""Rows a merge task aims at: 91 days of 1-minute data, 1.5 days of 1-second data."""
WAVE = max(2, 2 * (os.cpu_count() or 1))
"""Units computed at once: enough to keep every core busy, few enough to bound memory."""

GROUP_ATTRS = {
    "units": "W m-2",
    "flux_basis": "true",
    "mask_bits": json.dumps(MASK_BITS),
    "satellite_priority": json.dumps(SATELLITE_PRIORITY),
}


@dataclass(frozen=True)
class Rows:
    """Rows ``[start, stop)`` of one source: arrays in memory, or a Zarr group at ``path``.

    ``origin`` orders sources at equal rank: 0 is the store, k the k-th new file.
    """

    origin: int
    start: int
    stop: int
    path: str | None = None
    arrays: dict | None = field(default=None, repr=False)

    def load(self) -> dict[str, np.ndarray]:
        """The rows' columns (time as int64 nanoseconds)."""
        if self.arrays is not None:
            return {c: self.arrays[c][self.start : self.stop] for c in COLUMNS}
        group = zarr.open_group(self.path, mode="r", zarr_format=2, use_consolidated=False)
        return {c: np.asarray(group[c][self.start : self.stop]) for c in COLUMNS}


@dataclass
class StagedFile:
    """One new file's rows and where each UTC day starts in them."""

    rows: Rows
    days: np.ndarray
    edges: np.ndarray

    def between(self, first_day: int, last_day: int) -> Rows | None:
        """The file's rows on days ``first_day..last_day``, or None when it has none."""
        a, b = np.searchsorted(self.days, [first_day, last_day + 1])
        lo, hi = int(self.edges[a]), int(self.edges[b])
        if hi == lo:
            return None
        r = self.rows
        if r.arrays is not None:  # slice now, so a task sent to a cluster carries only its rows
            return Rows(r.origin, 0, hi - lo, arrays={c: v[lo:hi] for c, v in r.arrays.items()})
        return Rows(r.origin, r.start + lo, r.start + hi, path=r.path)


class Stager:
    """New files' rows, in memory up to ``budget`` rows, beyond it in a staging Zarr under ``directory``."""

    def __init__(self, directory: Path, budget: int | None = None):
        self.path = Path(directory) / "rows.zarr"
        self.budget = STAGE_ROWS if budget is None else budget
        self.files: list[StagedFile] = []
        self.spilled = 0
        self.in_order = True
        """Whether every file's first time follows the previous file's last: the rows are then already merged."""
        self.first_time: int | None = None
        self._last_time: int | None = None
        self._batch: list[StagedFile] = []
        self._batch_rows = 0
        self._tail: dict[str, np.ndarray] | None = None
        """The staged rows of the last, partial staging chunk (in memory too: rewritten whole, not read back)."""

    def add(self, frame: pd.DataFrame) -> None:
        """Stage one file's rows (a reader's GOES frame); it becomes origin ``len(files) + 1``."""
        arrays = {c: frame[c].to_numpy().astype(DTYPES[c], copy=False) for c in COLUMNS if c != "time"}
        arrays["time"] = frame["time"].to_numpy("datetime64[ns]").view(np.int64)
        n = arrays["time"].size
        day = arrays["time"] // DAY_NS
        starts = np.flatnonzero(np.diff(day)) + 1
        days = day[np.concatenate(([0], starts))] if n else np.zeros(0, dtype=np.int64)
        edges = np.concatenate(([0], starts, [n])).astype(np.int64) if n else np.zeros(1, dtype=np.int64)
        if n:
            t = arrays["time"]
            if self._last_time is not None and t[0] <= self._last_time:
                self.in_order = False
            self.first_time = int(t[0]) if self.first_time is None else self.first_time
            self._last_time = int(t[-1])
        staged = StagedFile(Rows(len(self.files) + 1, 0, n, arrays=arrays), days, edges)
        self.files.append(staged)
        self._batch.append(staged)
        self._batch_rows += n
        if self._batch_rows >= self.budget:
            self.spill()

    def spill(self) -> None:
        """Append the in-memory batch to the staging Zarr and point its files there.

        The arrays are made by zarr with the store's own array settings, so that their chunks can be adopted;
        the chunk files are then written directly (:func:`write_chunks`), and the rows of the last, partial
        chunk are kept, to be written again whole with the next batch instead of read back.
        """
        if not self._batch:
            return
        if self.spilled == 0:
            append_columns(self.path, {c: np.zeros(0, DTYPES[c]) for c in COLUMNS}, TIME_CHUNK, create=True)
        head = self._tail or {c: np.zeros(0, DTYPES[c]) for c in COLUMNS}
        cols = {c: np.concatenate([head[c]] + [f.rows.arrays[c] for f in self._batch]) for c in COLUMNS}
        start = self.spilled - head["time"].size
        write_chunks(self.path, cols, start, TIME_CHUNK)
        n = cols["time"].size
        cut = n - n % TIME_CHUNK  # start is a whole number of chunks
        self._tail = {c: v[cut:].copy() for c, v in cols.items()} if cut < n else None
        for f in self._batch:
            n = f.rows.stop
            f.rows = Rows(f.rows.origin, self.spilled, self.spilled + n, path=str(self.path))
            self.spilled += n
        self._batch, self._batch_rows = [], 0


class Stored:
    """The stored ``goes`` group, read a chunk at a time: row counts before given times, row ranges."""

    def __init__(self, group: Path):
        self.path = str(group)
        try:
            g = zarr.open_group(self.path, mode="r", zarr_format=2, use_consolidated=False)
            self._time = g["time"]
            missing = [c for c in COLUMNS if c not in g]
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(
                f"{group}: the stored GOES group cannot be read ({exc}); re-ingest into a new store"
            ) from exc
        units = self._time.attrs.get("units")
        if missing or units != TIME_ENCODING["units"] or self._time.dtype != np.int64:
            raise StoreError(
                f"{group}: the stored GOES group lacks {missing} or keeps time as "
                f"{self._time.dtype} {units!r}, "
                f"not int64 {TIME_ENCODING['units']!r}; re-ingest into a new store"
            )
        self.n = int(self._time.shape[0])
        self.chunk = int(self._time.chunks[0])
        self.last_time = int(self._time[self.n - 1]) if self.n else None
        self._firsts = np.asarray(self._time[0 : self.n : self.chunk])  # one value per chunk
        self._cache: dict[int, np.ndarray] = {}

    def rows_before(self, t: int) -> int:
        """Number of stored rows with time < ``t`` (int64 ns)."""
        k = int(np.searchsorted(self._firsts, t, side="left")) - 1
        if k < 0:
            return 0
        if k not in self._cache:
            if len(self._cache) > 4:
                self._cache.pop(next(iter(self._cache)))
            self._cache[k] = np.asarray(self._time[k * self.chunk : (k + 1) * self.chunk])
        return k * self.chunk + int(np.searchsorted(self._cache[k], t, side="left"))

    def rows(self, start: int, stop: int) -> Rows:
        """Stored rows ``[start, stop)``."""
        return Rows(0, start, stop, path=self.path)


def plan(
    stored: Stored | None, files: list[StagedFile], start_row: int = 0, unit_rows: int | None = None
) -> list[list[Rows]]:
    """Units in time order, each a list of :class:`Rows` to merge, covering stored rows from ``start_row``."""
    unit_rows = UNIT_ROWS if unit_rows is None else unit_rows
    n_stored = stored.n if stored else 0
    before = stored.rows_before if stored else (lambda t: 0)
    files = [f for f in files if f.days.size]
    first = np.array([f.days[0] for f in files], dtype=np.int64)
    last = np.array([f.days[-1] for f in files], dtype=np.int64)
    units: list[list[Rows]] = []

    def close(unit: list, stop: int) -> None:
        d0, d1, start, _ = unit
        parts = [stored.rows(start, stop)] if stored and stop > start else []
        overlapping = np.flatnonzero((first <= d1) & (last >= d0))
        units.append(parts + [r for k in overlapping if (r := files[k].between(d0, d1)) is not None])

    def copy(a: int, b: int) -> None:
        units.extend([stored.rows(i, min(i + unit_rows, b))] for i in range(a, b, unit_rows))

    days = np.unique(np.concatenate([f.days for f in files] + [np.zeros(0, dtype=np.int64)]))
    new_per_day = np.zeros(days.size, dtype=np.int64)
    for f in files:
        np.add.at(new_per_day, np.searchsorted(days, f.days), np.diff(f.edges))
    pos, unit = start_row, None  # unit: [first day, last day, first stored row, rows]
    for d, n_new in zip(days.tolist(), new_per_day.tolist(), strict=True):
        o0, o1 = before(d * DAY_NS), before((d + 1) * DAY_NS)
        if unit and (o0 > pos or unit[3] + n_new + o1 - o0 > unit_rows):
            close(unit, pos)
            unit = None
        if o0 > pos:
            copy(pos, o0)
        unit = unit or [d, d, o0, 0]
        unit[1], unit[3] = d, unit[3] + n_new + o1 - o0
        pos = o1
    if unit:
        close(unit, pos)
    if n_stored > pos:
        copy(pos, n_stored)
    return units


def load(parts: list[Rows]) -> list[dict[str, np.ndarray]]:
    """Each part's columns; parts lying close together in one Zarr group are read in one slice.

    A unit of daily files holds one short slice per file, and staged files lie side by side: reading
    each slice on its own would decompress the same chunk once per file.
    """
    out: list = [p.load() if p.arrays is not None else None for p in parts]
    on_disk = sorted((p.path, p.start, i) for i, p in enumerate(parts) if p.arrays is None)
    k = 0
    while k < len(on_disk):
        path, a, _ = on_disk[k]
        j, b = k, parts[on_disk[k][2]].stop
        while j + 1 < len(on_disk) and on_disk[j + 1][0] == path and on_disk[j + 1][1] - b <= TIME_CHUNK:
            j += 1
            b = max(b, parts[on_disk[j][2]].stop)
        block = Rows(0, a, b, path=path).load()
        for _, start, i in on_disk[k : j + 1]:
            out[i] = {c: v[start - a : parts[i].stop - a] for c, v in block.items()}
        k = j + 1
    return out


def merge_rows(parts: list[Rows]) -> tuple[dict[str, np.ndarray], dict[int, int], dict[int, int]]:
    """One row per timestamp from ``parts`` (module docstring's rule), the rows kept per origin, and per
    origin the kept rows that took the place of a stored row."""
    loaded = load(parts)
    if len(parts) == 1:  # a copy unit, or a file alone on its days: already sorted and unique
        return loaded[0], {parts[0].origin: int(loaded[0]["time"].size)}, {}
    origin = np.concatenate(
        [np.full(x["time"].size, p.origin, dtype=np.int32) for p, x in zip(parts, loaded, strict=True)]
    )
    rows = {c: np.concatenate([x[c] for x in loaded]) for c in COLUMNS}
    t = rows["time"]
    good = (rows["xrsb_mask"] == 0).astype(np.int8)
    order = np.lexsort((origin, -_priority(rows["satellite"]), -good, t))
    first = np.ones(order.size, dtype=bool)
    first[1:] = t[order][1:] != t[order][:-1]
    keep = order[first]
    stored_there = np.maximum.reduceat((origin[order] == 0).astype(np.int8), np.flatnonzero(first)) > 0
    kept_from = origin[keep]
    replaced = kept_from[stored_there & (kept_from > 0)]
    return {c: v[keep] for c, v in rows.items()}, _counts(kept_from), _counts(replaced)


def _counts(origins: np.ndarray) -> dict[int, int]:
    who, count = np.unique(origins, return_counts=True)
    return dict(zip(who.tolist(), count.tolist(), strict=True))


def _priority(sat: np.ndarray) -> np.ndarray:
    lut = np.zeros(256, dtype=np.int32)
    for i, s in enumerate(SATELLITE_PRIORITY):
        lut[s] = len(SATELLITE_PRIORITY) - i
    return lut[np.clip(sat, 0, 255)]


def stream_merge(
    old: Path | None, staged: Stager, root: Path, attrs: dict
) -> tuple[dict[int, int], dict[int, int]]:
    """Write stored and staged rows, merged, as ``root/goes``.

    Returns the rows kept per origin (0 = the store, k = the k-th staged file) and, per file, how many of
    them took the place of a stored row (a usable or higher-priority satellite's value at a stored time).
    """
    stored = Stored(old) if old is not None and old.is_dir() else None
    if appends(stored, staged):
        return _adopt_staged(old, stored, staged, root, attrs)
    first_day = min((int(f.days[0]) for f in staged.files if f.days.size), default=None)
    shared = 0
    if stored is not None and first_day is not None:
        first_new_row = stored.rows_before(first_day * DAY_NS)
        shared = share_prefix(old, root / "goes", first_new_row, old_chunk=stored.chunk, chunk=TIME_CHUNK)
    kept, replaced = {0: shared}, {}
    writer = ChunkWriter(root, GROUP_ATTRS | attrs, shared, chunk=TIME_CHUNK)
    units = plan(stored, staged.files, start_row=shared)
    for i in range(0, len(units), WAVE):
        tasks = [dask.delayed(merge_rows)(u) for u in units[i : i + WAVE]]
        for cols, unit_kept, unit_replaced in dask.compute(*tasks):
            writer.add(cols)
            for total, counts in ((kept, unit_kept), (replaced, unit_replaced)):
                for k, v in counts.items():
                    total[k] = total.get(k, 0) + v
    writer.close()
    return kept, replaced


def appends(stored: Stored | None, staged: Stager) -> bool:
    """Whether the staged rows, in file order, simply follow the stored rows, with whole stored chunks to
    share and a staging Zarr to adopt (see "Appending" above); small ingests, held in memory, never stage."""
    if not (staged.in_order and staged.spilled and staged.first_time is not None):
        return False
    if stored is None or stored.n == 0:
        return True
    return (
        stored.chunk == TIME_CHUNK
        and stored.n % TIME_CHUNK == 0
        and stored.last_time < staged.first_time
        and same_layout(Path(stored.path), staged.path)
    )


def _adopt_staged(old: Path | None, stored: Stored | None, staged: Stager, root: Path, attrs: dict):
    """:func:`stream_merge` when :func:`appends`: the stored chunks and the staged ones, linked, not rewritten."""
    staged.spill()
    n_stored = stored.n if stored is not None else 0
    shared = share_prefix(old, root / "goes", n_stored, old_chunk=stored.chunk, chunk=TIME_CHUNK) if n_stored else 0
    writer = ChunkWriter(root, GROUP_ATTRS | attrs, shared, chunk=TIME_CHUNK)
    writer.adopt(staged.path, staged.spilled)
    kept = {0: n_stored}
    for f in staged.files:
        kept[f.rows.origin] = kept.get(f.rows.origin, 0) + f.rows.stop - f.rows.start
    return kept, {}
