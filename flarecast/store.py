"""The store: one Zarr directory with groups ``goes``, ``events`` and ``sharp``, each an xarray Dataset.

Layout (Zarr format 2, whose string and datetime encodings are settled specifications):

| group | variable | dims | dtype | units / meaning |
|---|---|---|---|---|
| goes | time (coord) | time | datetime64[ns] | UTC, sorted, unique |
| goes | xrsa, xrsb | time | float32 | W m-2, true irradiance, NaN where masked |
| goes | xrsa_mask, xrsb_mask | time | uint8 | reason bits, 0 = good (see ``mask_bits`` attr) |
| goes | satellite | time | int16 | GOES number the row came from, 0 = unknown |
| events | start, peak, end | event | datetime64[ns] | UTC; start/end may be NaT; sorted by peak |
| events | goes_class, class_basis | event | str | class as reported, and its basis (swpc/true) |
| events | peak_flux | event | float64 | W m-2, true basis |
| events | noaa_ar | event | int32 | NOAA active region, 0 = none |
| events | source | event | str | ``reader:file``; ``;``-joined when catalogues agree |
| sharp | harpnum, time, noaa_ars (coords) | record | int32, datetime64[ns], str | sorted by (harpnum, time) |
| sharp | USFLUX, AREA, ... | record | float64 | JSOC units in attrs |

Every group carries ``provenance`` (a JSON list of ``{file, sha256, reader, flarecast_version, rows}``).

Writes are atomic: the new version is built in a hidden sibling directory and swapped in with two renames,
so an exception at any point before the swap leaves the previous store untouched, byte for byte.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import zarr

from flarecast.errors import StoreError
from flarecast.readers.base import MASK_BITS, ReaderResult
from flarecast.readers.sharp import KEYWORD_UNITS

DEFAULT_STORE = "data/store.zarr"
GROUPS = ("goes", "events", "sharp")
TIME_CHUNK = 2**16
"""Rows per Zarr chunk along time/event/record: 64 Ki rows is ~45 days of 1-minute GOES data."""

SATELLITE_PRIORITY = (19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8)
"""GOES numbers, most trusted first: newer GOES-R over older, any GOES-R over GOES 8-15; unknown (0) last."""

EVENT_MATCH_TOLERANCE = np.timedelta64(5, "m")
"""Two catalogue entries are one flare when their peaks are this close (and the rest of the rules hold)."""
EVENT_FLUX_RATIO = 2.0
"""... and their true-basis peak fluxes are within this factor (revisions and C9.x/M1.0 edge cases)."""

# GOES mask bits (defined with the readers that set them): 1 fill value or missing in the source; 2 the
# source's quality flag marks the value bad (eclipse, bad data, calibration, off-point, spike ...); 4 flux
# <= 0 or above 1e-2 W m-2, not a physical value.

_HINT = {
    "goes": "flarecast ingest goes PATH",
    "events": "flarecast ingest events PATH",
    "sharp": "flarecast ingest sharp PATH",
}


def read_goes(store: str | Path = DEFAULT_STORE) -> xr.Dataset:
    """GOES XRS series on one time axis, true irradiance, masks and satellite per row.

    Raises
    ------
    StoreError
        When the store or its ``goes`` group is absent.
    """
    ds = read_group(store, "goes")
    ds.attrs.setdefault("flux_basis", "true")
    return ds


def read_events(store: str | Path = DEFAULT_STORE) -> xr.Dataset:
    """Flare events sorted by peak time, one per flare across catalogues."""
    return read_group(store, "events")


def read_sharp(store: str | Path = DEFAULT_STORE) -> xr.Dataset:
    """SHARP keyword records sorted by (harpnum, time)."""
    return read_group(store, "sharp")


def read_group(store: str | Path, group: str) -> xr.Dataset:
    """Open one group (values load lazily, as numpy arrays, when first touched)."""
    if group not in GROUPS:
        raise StoreError(f"group {group!r} is not one of {list(GROUPS)}")
    path = Path(store)
    if not path.exists() and _lock_path(path).exists():
        raise StoreError(f"store {path} is being swapped in by an ingest right now; try again in a moment")
    _recover(path)
    if not path.exists():
        raise StoreError(
            f"no {_LABEL[group]} data in store {path} (there is no store yet); build it with "
            "`flarecast ingest goes PATH` and `flarecast ingest events PATH` (and `flarecast ingest sharp PATH`)"
        )
    if not (path / group).is_dir():
        raise StoreError(f"no {_LABEL[group]} data in store {path}; run `{_HINT[group]}`")
    try:
        return xr.open_zarr(path, group=group, consolidated=False, chunks=None, zarr_format=2)
    except (OSError, ValueError, KeyError) as exc:
        raise StoreError(
            f"store {path} group {group!r} cannot be read ({exc}); re-ingest into a new store"
        ) from exc


_LABEL = {"goes": "GOES", "events": "flare event", "sharp": "SHARP"}


def provenance(ds: xr.Dataset | None) -> list[dict]:
    """The provenance list of a group (empty for None or a group without one)."""
    if ds is None:
        return []
    return json.loads(ds.attrs.get("provenance", "[]"))


def existing(store: str | Path, group: str) -> xr.Dataset | None:
    """The group loaded into memory, or None when the store does not hold it yet."""
    try:
        return read_group(store, group).load()
    except StoreError:
        if (Path(store) / group).exists():
            raise
        return None


def write_groups(store: str | Path, datasets: dict[str, xr.Dataset]) -> None:
    """Replace the given groups atomically; other groups are carried over unchanged.

    The new store is assembled in ``.<name>.tmp-<id>`` beside the old one, then the old directory is
    renamed away and the new one renamed into place. Both renames are on one filesystem, so the path holds
    either the old or the new store, never a half-written one; between the two renames it is briefly
    absent (a reader is told to retry, and a crash right there is undone on the next open).
    """
    path = Path(store)
    unknown = set(datasets) - set(GROUPS)
    if unknown:
        raise StoreError(f"groups {sorted(unknown)} are not among {list(GROUPS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    _recover(path)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        zarr.open_group(str(tmp), mode="w", zarr_format=2, attributes={"flarecast_store": 1})
        for group in GROUPS:
            if group in datasets:
                _write_dataset(tmp, group, datasets[group])
            elif (path / group).is_dir():
                shutil.copytree(path / group, tmp / group)
        _swap(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def locked(store: str | Path):
    """Hold the store's lock file for a read-merge-write cycle, so two ingests cannot lose each other's rows.

    A lock left by a process that no longer runs (a crash) is taken over.
    """
    path = Path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = _lock_path(path)
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            if _alive(lock):
                raise StoreError(
                    f"store {path} is locked by another ingest ({lock}); wait for it, or delete the lock "
                    "file if no flarecast process is running"
                ) from None
            lock.unlink(missing_ok=True)
    else:
        raise StoreError(f"store {path}: cannot create lock file {lock}")
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        lock.unlink(missing_ok=True)


def _lock_path(path: Path) -> Path:
    return path.parent / f".{path.name}.lock"


def _alive(lock: Path) -> bool:
    try:
        pid = int(lock.read_text() or 0)
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError, FileNotFoundError):
        return False
    except PermissionError:  # the process exists but belongs to someone else
        return True
    return pid > 0


def _write_dataset(root: Path, group: str, ds: xr.Dataset) -> None:
    ds = ds.copy()
    dim = next(iter(ds.sizes)) if ds.sizes else None
    encoding = {}
    for name, var in ds.variables.items():
        # Object and numpy StringDType strings become fixed-width unicode, a settled Zarr v2 type.
        if var.dtype.kind in "OT":
            ds[name] = var.astype(str)
        if dim in var.dims:
            encoding[name] = {"chunks": (min(TIME_CHUNK, max(ds.sizes[dim], 1)),)}
        if var.dtype.kind == "M":
            encoding.setdefault(name, {})["units"] = "nanoseconds since 1970-01-01"
            encoding[name]["dtype"] = "int64"
    ds.to_zarr(root, group=group, mode="w", consolidated=False, zarr_format=2, encoding=encoding)


def _swap(tmp: Path, path: Path) -> None:
    if not path.exists():
        os.replace(tmp, path)
        return
    old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
    os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _recover(path: Path) -> None:
    # A crash between the two renames of _swap leaves only ".<name>.old-*": put it back.
    if path.exists():
        return
    olds = sorted(path.parent.glob(f".{path.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if olds:
        os.replace(olds[-1], path)


def as_str(values) -> np.ndarray:
    """A numpy fixed-width unicode array (pandas 3 strings and objects are not Zarr v2 types)."""
    arr = np.asarray(pd.Series(values, dtype=object).fillna("").to_numpy(dtype=object), dtype=str)
    return arr if arr.size else np.array([], dtype="<U1")


def _priority(sat: np.ndarray) -> np.ndarray:
    lut = np.zeros(256, dtype=np.int32)
    for i, s in enumerate(SATELLITE_PRIORITY):
        lut[s] = len(SATELLITE_PRIORITY) - i
    return lut[np.clip(sat, 0, 255)]


def merge_goes(old: xr.Dataset | None, new: list[tuple[str, ReaderResult]]) -> tuple[xr.Dataset, list[int]]:
    """Union of stored and new rows, one per timestamp.

    At a timestamp held by several rows the one kept has a usable XRS-B if any does, then the satellite
    earliest in :data:`SATELLITE_PRIORITY`, then is the one already stored (or from the file listed first).
    """
    cols = ("time", "xrsa", "xrsb", "xrsa_mask", "xrsb_mask", "satellite")
    parts = [] if old is None else [{c: old[c].values for c in cols}]
    parts += [{c: r.data[c].to_numpy() for c in cols} for _, r in new]
    origin = np.concatenate(
        [np.full(len(p["time"]), i - (old is not None), dtype=np.int32) for i, p in enumerate(parts)]
    )
    rows = {c: np.concatenate([p[c] for p in parts]) for c in cols}
    t = rows["time"].astype("datetime64[ns]").view("int64")
    good = (rows["xrsb_mask"] == 0).astype(np.int8)
    order = np.lexsort((origin, -_priority(rows["satellite"]), -good, t))
    first = np.ones(order.size, dtype=bool)
    first[1:] = t[order][1:] != t[order][:-1]
    keep = order[first]
    added = np.bincount(origin[keep] + 1, minlength=len(new) + 1)[1:].tolist()
    kept = {c: rows[c][keep] for c in cols}
    ds = xr.Dataset(
        {
            "xrsa": _v("time", kept["xrsa"].astype(np.float32), units="W m-2", long_name="XRS-A 0.05-0.4 nm"),
            "xrsb": _v("time", kept["xrsb"].astype(np.float32), units="W m-2", long_name="XRS-B 0.1-0.8 nm"),
            "xrsa_mask": _v("time", kept["xrsa_mask"].astype(np.uint8), **_MASK_ATTRS),
            "xrsb_mask": _v("time", kept["xrsb_mask"].astype(np.uint8), **_MASK_ATTRS),
            "satellite": _v("time", kept["satellite"].astype(np.int16), long_name="GOES number, 0 unknown"),
        },
        coords={"time": _v("time", kept["time"].astype("datetime64[ns]"), long_name="UTC")},
        attrs={"units": "W m-2", "flux_basis": "true", "mask_bits": json.dumps(MASK_BITS)}
        | {"satellite_priority": json.dumps(SATELLITE_PRIORITY)},
    )
    return ds, added


_MASK_ATTRS = {
    "flag_masks": np.array(list(MASK_BITS), dtype=np.uint8),
    "flag_meanings": " ".join(MASK_BITS.values()),
    "long_name": "reasons the flux is unusable, 0 = good",
}


def _v(dim: str, values: np.ndarray, **attrs) -> tuple:
    return (dim, values, attrs)


def merge_events(old: xr.Dataset | None, new: list[tuple[str, ReaderResult]]) -> tuple[xr.Dataset, list[int]]:
    """Stored events plus new ones; a new event matching a known flare adds its source instead of a row.

    A match: peaks within :data:`EVENT_MATCH_TOLERANCE`, true-basis fluxes within :data:`EVENT_FLUX_RATIO`,
    NOAA regions equal or one of them 0, and not from the same file. The known event keeps its times and
    class; its missing start, end or region are filled from the newcomer.
    """
    cols = ("start", "peak", "end", "goes_class", "peak_flux", "noaa_ar", "class_basis", "source")
    stored = {c: (np.array([]) if old is None else old[c].values).astype(_EVENT_DTYPES[c]) for c in cols}
    # Known events live in chunks (the store, then each file's new rows) so that a daily file is only
    # compared with the chunks its time span overlaps, not with the whole catalogue.
    chunks = [stored]
    bounds = [_span(stored["peak"])]
    added = []
    for source, res in new:
        ev = {c: res.data[c].to_numpy(_EVENT_DTYPES[c]) for c in cols if c != "source"}
        ev["source"] = np.full(len(res.data), source, dtype=object)
        if not len(res.data):
            added.append(0)
            continue
        lo, hi = ev["peak"].min() - EVENT_MATCH_TOLERANCE, ev["peak"].max() + EVENT_MATCH_TOLERANCE
        span = np.array(bounds, dtype="datetime64[ns]").reshape(-1, 2)
        near = np.flatnonzero((span[:, 1] >= lo) & (span[:, 0] <= hi))
        refs = [(k, np.flatnonzero((chunks[k]["peak"] >= lo) & (chunks[k]["peak"] <= hi))) for k in near]
        where = [(k, int(r)) for k, rows in refs for r in rows]
        cand = {c: np.array([chunks[k][c][r] for k, r in where], dtype=_EVENT_DTYPES[c]) for c in cols}
        matches = _matches(cand, ev)
        for i, m in matches.items():
            k, r = where[m]
            known = chunks[k]
            if source not in known["source"][r].split(";"):
                known["source"][r] = f"{known['source'][r]};{source}"
            for c in ("start", "end"):
                if np.isnat(known[c][r]):
                    known[c][r] = ev[c][i]
            if known["noaa_ar"][r] == 0:
                known["noaa_ar"][r] = ev["noaa_ar"][i]
        fresh = np.ones(len(res.data), dtype=bool)
        fresh[list(matches)] = False
        added.append(int(fresh.sum()))
        chunks.append({c: ev[c][fresh] for c in cols})
        bounds.append(_span(chunks[-1]["peak"]))
    table = {c: np.concatenate([ch[c] for ch in chunks]).astype(_EVENT_DTYPES[c]) for c in cols}
    order = np.argsort(table["peak"], kind="stable")
    t = {c: table[c][order] for c in cols}
    ds = xr.Dataset(
        {
            "start": _v("event", t["start"], long_name="UTC, NaT if unknown"),
            "peak": _v("event", t["peak"], long_name="UTC"),
            "end": _v("event", t["end"], long_name="UTC, NaT if unknown"),
            "goes_class": _v("event", as_str(t["goes_class"]), long_name="class as reported, on class_basis"),
            "class_basis": _v("event", as_str(t["class_basis"]), long_name="swpc or true"),
            "peak_flux": _v("event", t["peak_flux"], units="W m-2", flux_basis="true"),
            "noaa_ar": _v("event", t["noaa_ar"], long_name="NOAA active region, 0 = none"),
            "source": _v("event", as_str(t["source"]), long_name="reader:file, ';'-joined across catalogues"),
        },
        attrs={"match_tolerance_s": int(EVENT_MATCH_TOLERANCE // np.timedelta64(1, "s"))}
        | {"match_flux_ratio": EVENT_FLUX_RATIO},
    )
    return ds, added


def _span(peaks: np.ndarray) -> tuple[np.datetime64, np.datetime64]:
    nat = np.datetime64("NaT", "ns")
    return (peaks.min(), peaks.max()) if peaks.size else (nat, nat)


_EVENT_DTYPES = (
    dict.fromkeys(("start", "peak", "end"), "datetime64[ns]")
    | dict.fromkeys(("goes_class", "class_basis", "source"), object)
    | {"peak_flux": np.float64, "noaa_ar": np.int32}
)


def _matches(table: dict[str, np.ndarray], ev: dict[str, np.ndarray]) -> dict[int, int]:
    """New event index -> known event index, each known event claimed at most once, nearest peak first."""
    order = np.argsort(table["peak"], kind="stable")
    peaks = table["peak"][order]
    lo = np.searchsorted(peaks, ev["peak"] - EVENT_MATCH_TOLERANCE, side="left")
    hi = np.searchsorted(peaks, ev["peak"] + EVENT_MATCH_TOLERANCE, side="right")
    pairs = []
    for i in np.flatnonzero(hi > lo):
        for j in order[lo[i] : hi[i]]:
            f1, f2 = table["peak_flux"][j], ev["peak_flux"][i]
            if np.isfinite(f1) and np.isfinite(f2) and max(f1, f2) > EVENT_FLUX_RATIO * min(f1, f2):
                continue
            a1, a2 = table["noaa_ar"][j], ev["noaa_ar"][i]
            if a1 and a2 and a1 != a2:
                continue
            pairs.append(
                (abs(int(table["peak"][j].astype(np.int64) - ev["peak"][i].astype(np.int64))), int(i), int(j))
            )
    out: dict[int, int] = {}
    claimed: set[int] = set()
    for _, i, j in sorted(pairs):
        if i not in out and j not in claimed:
            out[i] = j
            claimed.add(j)
    return out


def merge_sharp(old: xr.Dataset | None, new: list[tuple[str, ReaderResult]]) -> tuple[xr.Dataset, list[int]]:
    """Stored and new records, one per (harpnum, time), the stored one kept; keyword columns are unioned."""
    parts = [] if old is None else [old.to_dataframe().reset_index(drop=True)]
    parts += [r.data for _, r in new]
    origin = np.concatenate([np.full(len(p), i - (old is not None)) for i, p in enumerate(parts)])
    rows = pd.concat(parts, ignore_index=True).assign(_origin=origin)
    rows = rows.drop_duplicates(["harpnum", "time"], keep="first")
    added = [int((rows["_origin"] == i).sum()) for i in range(len(new))]
    rows = rows.drop(columns="_origin").sort_values(["harpnum", "time"], kind="stable", ignore_index=True)
    keywords = [c for c in rows.columns if c not in ("harpnum", "time", "noaa_ars")]
    unknown = "unknown (not in flarecast's JSOC table)"
    ds = xr.Dataset(
        {
            k: _v("record", rows[k].to_numpy(np.float64), units=KEYWORD_UNITS.get(k, unknown))
            for k in keywords
        },
        coords={
            "harpnum": _v("record", rows["harpnum"].to_numpy(np.int32)),
            "time": _v("record", rows["time"].to_numpy("datetime64[ns]"), long_name="UTC (from T_REC TAI)"),
            "noaa_ars": _v(
                "record", as_str(rows["noaa_ars"]), long_name="NOAA ARs, comma-separated, '' none"
            ),
        },
    )
    return ds, added


MERGE = {"goes": merge_goes, "events": merge_events, "sharp": merge_sharp}
"""Merge function per group: ``(stored dataset or None, [(source, ReaderResult)]) -> (dataset, rows added per file)``."""
