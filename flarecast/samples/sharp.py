"""SHARP channels on a regular grid, one segment per region (HARP), laid end to end.

A SHARP record is a snapshot at T_REC, so a step (s - cadence, s] holds the records taken in it and ends at s;
the window issued at s holds nothing recorded after s. A region's segment runs from the step of its first
record to the step of its last, so no window mixes two regions or reaches before a region was seen. Each step
keeps the ``last``, ``max`` or ``mean`` of its records; a record whose channel keywords are not all finite
(``log_`` of a non-positive value included) counts as missing and nothing is interpolated.

Channel names are JSOC keywords (``USFLUX``, ``R_VALUE``) or ``log_`` and a keyword: log10 suits keywords that
span decades across regions (``USFLUX``, ``TOTUSJH``, ``AREA``); ``R_VALUE`` is already a log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from flarecast.config import is_common
from flarecast.errors import SampleError
from flarecast.samples.grid import Grid, new_series
from flarecast.samples.labels import read_harp_map, region_ars

if TYPE_CHECKING:  # xarray is imported where a Dataset is built: a forecast reads its inputs without it
    import xarray as xr

ID_VARIABLES = ("harpnum", "time", "noaa_ars")


def sharp_grid(sharp: xr.Dataset, cfg) -> Grid:
    """Resample the store's ``sharp`` group to ``cfg.cadence``, one segment per HARP.

    Raises
    ------
    SampleError
        When a channel names a keyword the store lacks, or the cadence is finer than the records'.
    """
    names = list(cfg.channels)
    keywords = [n for n in names if not is_common(n)]
    available = sorted(k for k in sharp.data_vars if k not in ID_VARIABLES)
    for name in keywords:
        kw = name.removeprefix("log_")
        if kw not in available:
            raise SampleError(
                f"samples.channels names {name!r}, but the store's SHARP group has no keyword {kw!r}: "
                f"expected one of {available} (with or without the 'log_' prefix)"
            )
    harp = np.asarray(sharp["harpnum"].values, dtype=np.int64)
    t = np.asarray(sharp["time"].values, dtype="datetime64[ns]").view(np.int64)
    if t.size == 0:
        raise SampleError("the store's SHARP group holds no records: run `flarecast ingest sharp PATH`")
    step = pd.Timedelta(cfg.cadence).value
    native = _native_cadence(harp, t)
    if step < native:
        raise SampleError(
            f"samples.cadence {cfg.cadence} is shorter than the SHARP records' cadence {pd.Timedelta(native)}: "
            f"use a cadence of at least {pd.Timedelta(native)}"
        )
    frame = pd.DataFrame(index=pd.RangeIndex(t.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        for name in keywords:
            v = np.asarray(sharp[name.removeprefix("log_")].values, dtype=np.float64)
            frame[name] = np.log10(np.where(v > 0, v, np.nan)) if name.startswith("log_") else v
    frame["usable"] = np.isfinite(frame[keywords].to_numpy()).all(axis=1) if keywords else True

    # Step k of the absolute grid ends at k * cadence and holds records in ((k - 1) * cadence, k * cadence].
    k = -((-t) // step)
    order = np.lexsort((k, harp))
    harp, k = harp[order], k[order]
    frame = frame.iloc[order].reset_index(drop=True)
    harps, first_rec = np.unique(harp, return_index=True)
    last_rec = np.append(first_rec[1:], harp.size) - 1
    k_first, k_last = k[first_rec], k[last_rec]
    lengths = k_last - k_first + 1
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    pos = offsets[np.searchsorted(harps, harp)] + (k - np.repeat(k_first, last_rec - first_rec + 1))

    n_steps = int(offsets[-1])
    series, missing = new_series(names, n_steps)
    grouped = frame.groupby(pos, sort=True)
    if keywords:
        agg = grouped[keywords].agg(cfg.resample)
        at = agg.index.to_numpy()
        for name in keywords:
            series[names.index(name), at] = agg[name].to_numpy(dtype=np.float32)
    usable = grouped["usable"].sum()
    expected = max(1, round(step / native))
    missing[:] = 1.0
    missing[usable.index.to_numpy()] = np.clip(1 - usable.to_numpy() / expected, 0, 1)

    step_end = np.concatenate([np.arange(a, b + 1, dtype=np.int64) * step for a, b in zip(k_first, k_last, strict=True)])
    segments = np.stack([harps, offsets[:-1], offsets[1:]], axis=1).astype(np.int64)
    harp_map = read_harp_map(cfg.harp_map) if cfg.harp_map else None
    ars = region_ars(np.asarray(sharp["harpnum"].values), np.asarray(sharp["noaa_ars"].values), harp_map)
    return Grid(step_end.view("datetime64[ns]"), series, missing, segments, ars)


def _native_cadence(harp: np.ndarray, t: np.ndarray) -> int:
    """Median interval between consecutive records of the same HARP (records sorted by HARP, then time)."""
    order = np.lexsort((t, harp))
    h, tt = harp[order], t[order]
    same = h[1:] == h[:-1]
    d = np.diff(tt)[same]
    d = d[d > 0]
    return int(np.median(d)) if d.size else 1
