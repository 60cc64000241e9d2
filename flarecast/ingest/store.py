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
| events | noaa_ar, noaa_ar_alt | event | int32 | NOAA active region, 0 = none; another catalogue's region |
| events | source | event | str | ``reader:file``; ``;``-joined when catalogues agree, primary first |
| sharp | harpnum, time, noaa_ars (coords) | record | int32, datetime64[ns], str | sorted by (harpnum, time) |
| sharp | USFLUX, AREA, ... | record | float64 | JSOC units in attrs |
| regions | time, region (coords) | report | datetime64[ns], int32 | SRS issue time (UTC), full NOAA number; sorted |
| regions | latitude, longitude, carrington_longitude, area, extent, spots | report | float64 | deg (+N, +W), deg, millionths of the hemisphere, deg, count |
| regions | location, mcintosh, hale, source | report | str | ``N19W56``, ``Dai``, ``Beta-Gamma``; the reader whose values win |
| regions | p_c, p_m, p_x | report | float64 | SWPC's probability of a C/M/X flare in the next day, NaN: none given |
| regions | c_events, m_events, x_events | report | float64 | SWPC's counts of the region's C/M/X flares on the reported day (`solar_regions.json`), NaN: none given |

Every group carries ``provenance`` (a JSON list of ``{file, sha256, reader, flarecast_version, rows,
time_range}``); ``events`` also carries ``coverage`` (first and last peak per reader).

Writes are atomic: a new version is built in a hidden sibling directory and swapped in with two renames,
so an exception at any point before the swap leaves the previous store untouched, byte for byte. Files a
new version shares with the old one (groups not being replaced, GOES chunks before the first new row) are
hard links, not copies: nothing in a store is ever modified in place, so sharing them is safe and a daily
ingest into decades of data does not copy the decades.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import zarr

from flarecast.config import DEFAULT_STORE  # noqa: E402  (re-exported: the default of every reader)
from flarecast.errors import MissingDataError, ParseError, StoreError
from flarecast.safeio import load_json

if TYPE_CHECKING:  # xarray is imported where a Dataset is built: a forecast reads its inputs without it
    import xarray as xr

GROUPS = ("goes", "events", "sharp", "regions")
TIME_CHUNK = 2**16
"""Rows per Zarr chunk along time/event/record: 64 Ki rows is ~45 days of 1-minute GOES data."""

TIME_ENCODING = {"units": "nanoseconds since 1970-01-01", "dtype": "int64"}
"""How every datetime variable is stored: integer nanoseconds, so a chunk can be read back without xarray."""

_HINT = {
    "goes": "flarecast ingest goes PATH",
    "events": "flarecast ingest events PATH",
    "sharp": "flarecast ingest sharp PATH",
    "regions": "flarecast ingest regions PATH",
}
_LABEL = {"goes": "GOES", "events": "flare event", "sharp": "SHARP", "regions": "NOAA region report"}


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


def read_regions(store: str | Path = DEFAULT_STORE) -> xr.Dataset:
    """NOAA region reports (SRS, ``solar_regions.json``), one row per region per report, sorted by (time, region)."""
    return read_group(store, "regions")


def read_group(store: str | Path, group: str) -> xr.Dataset:
    """Open one group (values load lazily, as numpy arrays, when first touched)."""
    import xarray as xr

    path = group_path(store, group)
    try:
        return xr.open_zarr(path.parent, group=group, consolidated=False, chunks=None, zarr_format=2)
    except (OSError, ValueError, KeyError) as exc:
        raise StoreError(
            f"store {path.parent} group {group!r} cannot be read ({exc}); re-ingest into a new store"
        ) from exc


def group_path(store: str | Path, group: str) -> Path:
    """The folder of ``group`` in ``store``, after recovering an interrupted swap; a missing store or group raises
    :class:`~flarecast.errors.MissingDataError` naming the ingest command that builds it."""
    if group not in GROUPS:
        raise StoreError(f"group {group!r} is not one of {list(GROUPS)}")
    path = Path(store)
    if not path.exists() and _locked_elsewhere(real_path(path)):
        raise StoreError(f"store {path} is being swapped in by an ingest right now; try again in a moment")
    _recover(path)
    if not path.exists():
        raise MissingDataError(
            f"no {_LABEL[group]} data in store {path} (there is no store yet); build it with "
            "`flarecast ingest goes PATH` and `flarecast ingest events PATH` (and `flarecast ingest sharp PATH`)",
            group,
        )
    if not (path / group).is_dir():
        raise MissingDataError(f"no {_LABEL[group]} data in store {path}; run `{_HINT[group]}`", group)
    return path / group


def group_attrs(store: str | Path, group: str) -> dict | None:
    """A group's attributes without opening its arrays, or None when the store does not hold the group."""
    try:
        path = group_path(store, group)
    except StoreError:
        if (Path(store) / group).exists():
            raise
        return None
    try:
        return dict(zarr.open_group(str(path), mode="r", zarr_format=2, use_consolidated=False).attrs)
    except (OSError, ValueError, KeyError) as exc:
        raise StoreError(
            f"store {store} group {group!r} cannot be read ({exc}); re-ingest into a new store"
        ) from exc


def provenance(ds: xr.Dataset | dict | None) -> list[dict]:
    """The provenance list of a group or its attrs (empty for None or a group without one)."""
    if ds is None:
        return []
    attrs = ds if isinstance(ds, dict) else ds.attrs
    return json.loads(attrs.get("provenance", "[]"))


def existing(store: str | Path, group: str) -> xr.Dataset | None:
    """The group loaded into memory, or None when the store does not hold it yet."""
    try:
        return read_group(store, group).load()
    except StoreError:
        if (Path(store) / group).exists():
            raise
        return None


@contextmanager
def new_version(store: str | Path, groups: Iterable[str]) -> Iterator[Path]:
    """Build the next version of a store and swap it in atomically when the ``with`` body succeeds.

    Yields the root of the new version; the body writes each of ``groups`` under it (a group it leaves
    unwritten is dropped). Every other group is linked over from the current version. On an exception the
    new version is removed and the store is as it was. A store given as a symbolic link stays a link: the
    directory it points to is the one swapped (:func:`real_path`).
    """
    groups = set(groups)
    if groups - set(GROUPS):
        raise StoreError(f"groups {sorted(groups - set(GROUPS))} are not among {list(GROUPS)}")
    check_store(store)
    path = real_path(store)
    _recover(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        zarr.open_group(str(tmp), mode="w", zarr_format=2, attributes={"flarecast_store": 1})
        for group in set(GROUPS) - groups:
            if (path / group).is_dir():
                link_tree(path / group, tmp / group)
        yield tmp
        _consolidate(tmp)
        _swap(tmp, path)
    except BaseException as exc:
        remove_tree(tmp)
        if isinstance(exc, OSError) and exc.errno is not None and (exc.filename is None
                                                                   or _about(exc.filename, path)):
            # a full disk or a read-only file system met while building or swapping (a write names no file):
            # said of the store, not of a chunk file of its hidden next version
            raise OSError(exc.errno, exc.strerror, str(store)) from exc
        raise


def remove_tree(path: Path, wait: float = 5.0) -> None:
    """Delete ``path`` and everything under it, retrying for up to ``wait`` seconds.

    A failed Zarr write leaves its sibling chunk writes running in zarr's worker threads for a moment (the
    first error ends the gather, not the others), so one ``rmtree`` can meet a file created after it listed a
    folder; it is run again until the tree is gone. Whatever is still left is removed with the next lock.
    """
    deadline = time.monotonic() + wait
    while True:
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path) or time.monotonic() > deadline:
            return
        time.sleep(0.02)


def _consolidate(root: Path) -> None:
    """Write consolidated metadata for the root and each group, so a plain ``xr.open_zarr(store, group=...)``
    reads the store without warning that it has none. flarecast itself reads each group's own metadata
    (``consolidated=False``), so these copies never decide what it reads; every new version rewrites them."""
    for group in GROUPS:
        if (root / group).is_dir():
            zarr.consolidate_metadata(str(root), path=group, zarr_format=2)
    zarr.consolidate_metadata(str(root), zarr_format=2)


def write_groups(store: str | Path, datasets: dict[str, xr.Dataset]) -> None:
    """Replace the given groups atomically with in-memory datasets; other groups are carried over unchanged.

    Between the two renames of the swap the path is briefly absent (a reader is told to retry, and a crash
    right there is undone on the next open).
    """
    with new_version(store, datasets) as root:
        for group, ds in datasets.items():
            _write_dataset(root, group, ds)


def link_tree(src: Path, dst: Path, skip=lambda rel: False) -> None:
    """Hard-link the chunk files under ``src`` into ``dst`` and copy its metadata (``.zarray``, ``.zattrs``).

    Metadata is copied because the new version rewrites it (a resize, new provenance) and a write through
    a link would change the old version too; chunks are never rewritten, only added. Where the filesystem
    refuses links, chunks are copied. ``skip(relative_path)`` leaves a file out.
    """
    for root, _, names in os.walk(src):
        rel_root = Path(root).relative_to(src)
        (dst / rel_root).mkdir(parents=True, exist_ok=True)
        for name in names:
            rel = rel_root / name
            if skip(rel):
                continue
            if name.startswith("."):
                shutil.copy2(src / rel, dst / rel)
                continue
            try:
                os.link(src / rel, dst / rel)
            except OSError:
                shutil.copy2(src / rel, dst / rel)


def encodable(ds: xr.Dataset) -> tuple[xr.Dataset, dict]:
    """``ds`` with strings as fixed-width unicode and datetimes as ns, and the encoding to write it with.

    Raises
    ------
    StoreError
        When a datetime lies outside what nanoseconds can hold (years 1678-2262).
    """
    dim = next(iter(ds.sizes)) if ds.sizes else None
    encoding, changed = {}, {}
    for name, var in ds.variables.items():
        if var.dtype.kind in "OT":  # object and numpy StringDType strings: not Zarr v2 types
            changed[name] = var.astype(str)
        elif var.dtype.kind == "M" and var.dtype != np.dtype("datetime64[ns]"):
            # pandas 3 makes microsecond datetimes; written as they are, they read back as NaT.
            changed[name] = var.copy(data=_as_ns(name, var.values))
        if dim in var.dims:
            encoding[name] = {"chunks": (min(TIME_CHUNK, max(ds.sizes[dim], 1)),)}
        if var.dtype.kind == "M":
            encoding.setdefault(name, {}).update(TIME_ENCODING)
    if changed:
        ds = ds.copy()
        for name, var in changed.items():
            if name in ds.coords:
                ds = ds.assign_coords({name: var})
            else:
                ds[name] = var
    return ds, encoding


def _as_ns(name: str, values: np.ndarray) -> np.ndarray:
    lo, hi = np.datetime64("1678-01-02"), np.datetime64("2262-04-10")
    finite = values[~np.isnat(values)]
    if finite.size and (finite.min() < lo or finite.max() > hi):
        raise StoreError(
            f"variable {name!r} holds {finite.min()}..{finite.max()}: outside the datetime64[ns] range "
            f"{lo}..{hi} the store keeps; fix the times"
        )
    return values.astype("datetime64[ns]")


def _write_dataset(root: Path, group: str, ds: xr.Dataset) -> None:
    ds, encoding = encodable(ds)
    ds.to_zarr(root, group=group, mode="w", consolidated=False, zarr_format=2, encoding=encoding)


def check_store(store: str | Path) -> None:
    """Refuse a path that exists but is not a flarecast store: an ingest must never move or replace it.

    A store is a directory whose ``.zattrs`` says ``flarecast_store``; an absent path or an empty directory
    may become one.

    Raises
    ------
    StoreError
        Naming the path and what it is.
    """
    path = Path(store)
    if not path.exists() and not path.is_symlink():
        return
    if not path.is_dir():
        what = "a symbolic link to nowhere" if not path.exists() else "a file"
        raise StoreError(f"store {path} is {what}, not a flarecast store; nothing was changed: give a new path "
                         "or an existing store (--store)")
    if not any(path.iterdir()):
        return
    try:
        marked = load_json(path / ".zattrs").get("flarecast_store") is not None
    except (OSError, ParseError, AttributeError):
        marked = False
    if not marked:
        raise StoreError(f"store {path} is a directory that is not a flarecast store (no .zattrs with "
                         "flarecast_store); nothing was changed: give a new path or an existing store (--store)")


@contextmanager
def locked(store: str | Path):
    """Hold the store's lock for a read-merge-write cycle, so two ingests cannot lose each other's rows.

    The lock is an advisory ``flock`` on ``.<name>.lock`` beside the store, which the kernel releases when its
    process ends however it ends: a lock file left by a killed ingest is taken over even where its pid now
    belongs to another process (a container restarted gives the same small pids again). The file holds the
    holder's pid, for the message. Taking it over also removes the temporary directories the dead ingest left.
    The lock lives beside the directory a symbolic link points to (:func:`real_path`), so an ingest through the
    link and one through the target share it.
    """
    check_store(store)
    path = real_path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = _lock_path(path)
    fd = _take_lock(lock, store)
    try:
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError as exc:  # a full disk: said of the store
            raise OSError(exc.errno, exc.strerror, str(store)) from exc
        # Half-built versions and staging rows left by a crashed ingest: with the lock held, none is in use
        # (after _recover, which needs a half-swapped version's pair to tell it from a finished swap).
        _recover(path)
        for left in (*path.parent.glob(f".{path.name}.tmp-*"), *path.parent.glob(f".{path.name}.stage-*")):
            remove_tree(left)
        yield
    finally:
        lock.unlink(missing_ok=True)  # before the close: a waiter that opened this file sees it gone and retries
        os.close(fd)


def _take_lock(lock: Path, store: str | Path) -> int:
    """An open descriptor of ``lock`` holding its exclusive ``flock``; a :class:`StoreError` where a running
    process holds it."""
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as exc:  # a read-only file system or a full disk: said of the store, not of its lock
            raise OSError(exc.errno, exc.strerror, str(store)) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise StoreError(
                f"store {store} is locked by another ingest ({lock}{f', pid {holder}' if holder else ''}); "
                "wait for it to finish (the lock goes with its process)"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise OSError(exc.errno, exc.strerror, str(store)) from exc
        try:  # the holder before us may have removed the file between our open and our flock
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)
    raise StoreError(f"store {store}: cannot take its lock file {lock} (it kept being replaced)")


def _holder(fd: int) -> int:
    """The pid written in an open lock file (0 where none is)."""
    try:
        return int(os.pread(fd, 32, 0) or 0)
    except (OSError, ValueError):
        return 0


def _locked_elsewhere(path: Path) -> bool:
    """Whether another running process holds the store's lock (an ingest that may be mid-swap)."""
    try:
        fd = os.open(_lock_path(path), os.O_RDONLY)
    except OSError:
        return False
    try:
        if _holder(fd) == os.getpid():  # our own lock (this process is the ingest): a second flock would clash
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _lock_path(path: Path) -> Path:
    return path.parent / f".{path.name}.lock"


def scratch_dir(store: str | Path, what: str) -> Path:
    """A fresh hidden directory beside the store (same filesystem, so renames and links work)."""
    path = real_path(store)
    out = path.parent / f".{path.name}.{what}-{uuid.uuid4().hex[:8]}"
    out.mkdir(parents=True)
    return out


def _about(filename, path: Path) -> bool:
    """Whether an OSError's ``filename`` lies in the store ``path`` or in one of its hidden versions beside it."""
    if not Path(filename).is_relative_to(path.parent) or Path(filename) == path.parent:
        return False
    first = Path(filename).relative_to(path.parent).parts[0]
    return first == path.name or first.startswith(f".{path.name}.")


def real_path(store: str | Path) -> Path:
    """The store's directory with symbolic links followed: where its versions are built, swapped and locked, so
    that a store given as a link (to another disk, say) stays a link and is written through it."""
    path = Path(store)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _swap(tmp: Path, path: Path) -> None:
    """Rename the new version ``tmp`` (``.<name>.tmp-<id>``) over ``path``; the current version moves aside as
    ``.<name>.old-<id>``, the same ``<id>``, and is deleted. While both ``old-<id>`` and ``tmp-<id>`` exist the
    swap is half done (the old version is the store); an ``old-<id>`` without its ``tmp-<id>`` is a finished
    swap's leftover (:func:`_recover`)."""
    if not path.exists():
        os.replace(tmp, path)
        return
    old = path.parent / f".{path.name}.old-{tmp.name.rsplit('-', 1)[-1]}"
    os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _recover(path: Path) -> None:
    """Undo a crash inside :func:`_swap`, and delete what a finished swap left.

    - ``path`` absent, ``old-<id>`` and ``tmp-<id>`` present: the crash fell between the two renames; the old
      version goes back (``tmp-<id>`` is removed with the next lock).
    - ``old-<id>`` without ``tmp-<id>``: the swap had finished (the crash fell before or during the old
      version's deletion): it is deleted, never put back, even where the store was removed since.
    """
    path = real_path(path)
    olds = {p.name.rsplit("-", 1)[-1]: p for p in path.parent.glob(f".{path.name}.old-*")}
    half = [p for key, p in olds.items() if (path.parent / f".{path.name}.tmp-{key}").is_dir()]
    if half and not path.exists() and not _locked_elsewhere(path):  # not a live ingest between its renames
        os.replace(max(half, key=lambda p: p.stat().st_mtime), path)
    for key, p in olds.items():
        if not (path.parent / f".{path.name}.tmp-{key}").exists():
            shutil.rmtree(p, ignore_errors=True)


def as_str(values) -> np.ndarray:
    """A numpy fixed-width unicode array (pandas 3 strings and objects are not Zarr v2 types)."""
    arr = np.asarray(pd.Series(values, dtype=object).fillna("").to_numpy(dtype=object), dtype=str)
    return arr if arr.size else np.array([], dtype="<U1")
