"""A store group's arrays read straight through zarr, for a forecast's cold start: no xarray objects, only the
rows asked for.

:func:`flarecast.ingest.store.read_group` is the store's reader. Building its Dataset costs a cold process about a
third of a second beyond reading: xarray indexes the time coordinate and, to ask whether the index is a dask
array, imports dask (with jinja2, toolz and psutil) although the store is opened without chunks. A forecast
needs a few arrays of two groups, and of the long GOES series only the rows of its last windows.
:func:`open_columns` gives those as :class:`Columns`: the handful of Dataset operations the forecast inputs use
(``ds[name].values``, ``ds[name].attrs``, ``ds[name].size``, ``name in ds.variables``, ``ds.attrs`` and
``ds.isel(dim=slice)``), decoded as ``read_group`` decodes them, and read lazily: ``isel`` reads nothing and
``values`` reads only the selected rows' chunks.

The decoding is the store's plain layout (:data:`flarecast.ingest.store.TIME_ENCODING`): datetimes as int64
nanoseconds since 1970-01-01 become ``datetime64[ns]`` (the int64 minimum is NaT), and the attributes xarray
moves into the encoding (``units`` and ``calendar`` of a time, ``_ARRAY_DIMENSIONS``, ``coordinates``) are not
attributes. A group with any other encoding (CF time units, a fill value other than NaN, scale factors,
variable-length strings: a store not written by flarecast, or by an older one) gets None: read it with
``read_group``. ``tests/test_columns.py`` checks every variable, dtype, value and attribute against
``read_group`` on simulated and real stores.

>>> goes = open_columns("data/store.zarr", "goes")  # doctest: +SKIP
>>> tail = goes.isel(time=slice(-96, None))  # doctest: +SKIP
>>> tail["xrsb"].values.shape  # doctest: +SKIP
(96,)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from flarecast.errors import StoreError
from flarecast.ingest.store import TIME_ENCODING, group_path

_HIDDEN = ("_ARRAY_DIMENSIONS", "coordinates")
"""Attributes xarray turns into dimensions and coordinates rather than keeping as attributes."""
_DECODED = ("scale_factor", "add_offset", "_Unsigned", "dtype", "missing_value", "_FillValue")
"""Attributes xarray would decode (mask, scale, cast): a group holding one gets None."""
_CALENDARS = (None, "proleptic_gregorian", "standard", "gregorian")


@dataclass(frozen=True)
class Column:
    """One variable over the selected rows: decoded ``values`` (read on first use), ``attrs``, ``dims``."""

    array: Any  # zarr.Array
    rows: range
    attrs: dict
    dims: tuple[str, ...]
    is_time: bool
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def size(self) -> int:
        return len(self.rows)

    @property
    def values(self) -> np.ndarray:
        if "values" not in self._cache:
            raw = np.asarray(self.array[self.rows.start : self.rows.stop]) if self.rows else \
                np.zeros(0, self.array.dtype)
            self._cache["values"] = raw.view("datetime64[ns]") if self.is_time else raw
        return self._cache["values"]


@dataclass(frozen=True)
class Columns:
    """A store group's variables (all along one dimension) over a range of its rows; see the module doc."""

    path: Path
    arrays: dict[str, Any]  # name: zarr.Array
    attrs: dict
    dim: str
    rows: range
    _columns: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(self.arrays)

    def __contains__(self, name: str) -> bool:
        return name in self.arrays

    def __getitem__(self, name: str) -> Column:
        if name not in self.arrays:
            raise KeyError(f"{name!r} is not a variable of {self.path}; it holds {list(self.arrays)}")
        if name not in self._columns:
            a = self.arrays[name]
            attrs = {k: v for k, v in a.attrs.items() if k not in _HIDDEN}
            is_time = _is_time(a)
            if is_time:
                attrs = {k: v for k, v in attrs.items() if k not in ("units", "calendar")}
            self._columns[name] = Column(a, self.rows, attrs, (self.dim,), is_time)
        return self._columns[name]

    def isel(self, **index: slice) -> Columns:
        """The rows ``index[dim]`` (a slice of step 1) of these rows, as ``Dataset.isel`` selects them; reads
        nothing."""
        if set(index) != {self.dim} or not isinstance(index[self.dim], slice) or index[self.dim].step not in (None, 1):
            raise TypeError(f"Columns.isel takes one slice of step 1 along {self.dim!r}, got {index!r}")
        return Columns(self.path, self.arrays, self.attrs, self.dim, self.rows[index[self.dim]])


def open_columns(store: str | Path, group: str) -> Columns | None:
    """The group ``group`` of ``store`` as :class:`Columns`, or None when its encoding is not the store's plain
    layout (then read it with :func:`flarecast.ingest.store.read_group`, which decodes any).

    Raises
    ------
    StoreError
        As ``read_group`` does: no store or no such group (:class:`~flarecast.errors.MissingDataError`), or a
        group that cannot be read.
    """
    path = group_path(store, group)
    try:
        g = zarr.open_group(str(path), mode="r", zarr_format=2, use_consolidated=False)
        arrays = {name: g[name] for name in sorted(g.array_keys())}
        attrs = dict(g.attrs)
    except (OSError, ValueError, KeyError) as exc:
        raise StoreError(f"store {path.parent} group {group!r} cannot be read ({exc}); re-ingest into a new "
                         "store") from exc
    dims = {tuple(a.attrs.get("_ARRAY_DIMENSIONS", ())) for a in arrays.values()}
    shapes = {a.shape for a in arrays.values()}
    if len(dims) != 1 or len(shapes) != 1 or len(next(iter(dims))) != 1 or not all(map(_plain, arrays.values())):
        return None
    ((dim,),), ((n,),) = dims, shapes
    return Columns(path, arrays, attrs, dim, range(n))


def _is_time(a) -> bool:
    return a.attrs.get("units") == TIME_ENCODING["units"] and a.dtype == np.dtype(TIME_ENCODING["dtype"]) \
        and a.attrs.get("calendar") in _CALENDARS


def _plain(a) -> bool:
    """Whether xarray decodes ``a`` to its stored values unchanged (or, for a time, to a view of them)."""
    if any(k in a.attrs for k in _DECODED) or a.dtype.kind not in "biufUS":
        return False
    units = a.attrs.get("units")
    if isinstance(units, str) and " since " in units and not _is_time(a):
        return False  # CF times in another unit or calendar
    fill = a.fill_value
    return fill is None or (a.dtype.kind == "f" and isinstance(fill, float | np.floating) and math.isnan(fill))
