"""GOES XRS channels on a regular grid: full-disk log fluxes, their ratio and derivatives, and the mask.

GOES time stamps are record *start* times, so a step [s, s + cadence) holds the records that started in it and
ends at s + cadence; the window issued at t therefore holds only records that ended by t. Each step is the
``max`` or ``mean`` of its usable records (NaN fluxes are masked in the store); ``missing`` is the fraction of
the records the native cadence promises that are absent or masked. Nothing is interpolated. A background
channel (``log_xrsb_median_27d``) is the rolling median of the log10 XRS-B steps over its span, so a grid built
from the data from (first step - span) on gives every later step the value the whole series gives it.

Memory: the rows are written straight into the output array and records are binned in chunks, so building
decades of 1-minute data needs the output plus a few megabytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from flarecast.config import background_span
from flarecast.errors import SampleError
from flarecast.samples.grid import Grid, new_series
from flarecast.samples.labels import FULL_DISK

if TYPE_CHECKING:  # xarray is imported where a Dataset is built: a forecast reads its inputs without it
    import xarray as xr

NEEDS_XRSA = ("log_xrsa", "log_ratio", "dlog_xrsa")
_CHUNK = 2**18


def goes_grid(goes: xr.Dataset, cfg) -> Grid:
    """Resample the store's ``goes`` group to ``cfg.cadence`` and compute the GOES channels of ``cfg``.

    Raises
    ------
    SampleError
        When the series is too short, the cadence is finer than the data's, or a channel needs XRS-A and the
        store holds none (XRS-B-only products such as the hourly GOES-15 CSV).
    """
    names = list(cfg.channels)
    t = np.asarray(goes["time"].values, dtype="datetime64[ns]").view(np.int64)
    if t.size < 2:
        raise SampleError(f"the store holds {t.size} GOES records: expected at least a few windows of data")
    native = int(np.median(np.diff(t[:100_000])))
    step = pd.Timedelta(cfg.cadence).value
    if step < native:
        raise SampleError(
            f"samples.cadence {cfg.cadence} is shorter than the data's cadence {pd.Timedelta(native)}: "
            f"use a cadence of at least {pd.Timedelta(native)}"
        )
    need_a = [c for c in names if c in NEEDS_XRSA]
    xrsb = goes["xrsb"].values
    xrsa = _xrsa(goes, need_a) if need_a else None

    first = (t[0] // step) * step
    n_steps = int(t[-1] // step - t[0] // step + 1)
    series, missing = new_series(names, n_steps)
    lb = series[names.index("log_xrsb")] if "log_xrsb" in names else np.full(n_steps, np.nan, np.float32)
    la = None
    if xrsa is not None:
        la = series[names.index("log_xrsa")] if "log_xrsa" in names else np.full(n_steps, np.nan, np.float32)
    good = _bin(t, first, step, xrsb, xrsa, lb, la, cfg.resample)

    with np.errstate(divide="ignore", invalid="ignore"):
        for row in (lb, la):
            if row is not None:
                np.log10(row, out=row)
                row[~np.isfinite(row)] = np.nan
    expected = max(1, round(step / native))
    np.subtract(1, good / np.float32(expected), out=missing, dtype=np.float32)
    np.clip(missing, 0, 1, out=missing)
    del good
    for i, name in enumerate(names):
        if background_span(name):
            series[i] = background(lb, pd.Timedelta(background_span(name)) // pd.Timedelta(step))
        elif name == "log_ratio":
            np.subtract(la, lb, out=series[i])
        elif name in ("dlog_xrsb", "dlog_xrsa"):
            src = lb if name == "dlog_xrsb" else la
            np.subtract(src[1:], src[:-1], out=series[i, 1:])
    step_end = ((np.arange(n_steps, dtype=np.int64) + 1) * step + first).view("datetime64[ns]")
    return Grid(step_end, series, missing, np.array([[FULL_DISK, 0, n_steps]], dtype=np.int64), {})


def background(log_xrsb: np.ndarray, steps: int) -> np.ndarray:
    """Median of each step's last ``steps`` log10 XRS-B values (NaN ignored): the activity level around it.

    The median of hourly maxima over a solar rotation moves with the number and size of the active regions
    on the disk, and no single flare moves it. NaN where fewer than half of the span's steps were measured.
    """
    rolled = pd.Series(log_xrsb, dtype=np.float64, copy=False).rolling(steps, min_periods=max(1, steps // 2))
    return rolled.median().to_numpy(dtype=np.float32)


def _xrsa(goes: xr.Dataset, need_a: list[str]) -> np.ndarray:
    fix = f"remove {need_a} from samples.channels (for example channels: [log_xrsb, dlog_xrsb, missing])"
    if "xrsa" not in goes.variables:
        raise SampleError(f"samples.channels {need_a} need XRS-A, and the store's GOES group has none: {fix}")
    xrsa = goes["xrsa"].values
    if not np.isfinite(xrsa).any():
        raise SampleError(
            f"samples.channels {need_a} need XRS-A, but all {xrsa.size} XRS-A values in the store are masked "
            f"(XRS-B-only products, such as the hourly GOES-15 CSV, carry none): {fix}"
        )
    return xrsa


def _bin(t, first, step, xrsb, xrsa, out_b, out_a, how: str) -> np.ndarray:
    """Aggregate records into steps in chunks; returns the usable-record count per step.

    A record is usable when XRS-B (and XRS-A, when a channel needs it) is finite; ``missing`` counts the others.
    """
    n_steps = out_b.size
    good = np.zeros(n_steps, dtype=np.uint32)
    pairs = [(xrsb, out_b)] + ([(xrsa, out_a)] if xrsa is not None else [])
    sums = [np.zeros(n_steps, np.float32) for _ in pairs] if how == "mean" else []
    counts = [np.zeros(n_steps, np.uint32) for _ in sums]
    for lo in range(0, t.size, _CHUNK):
        hi = min(t.size, lo + _CHUNK)
        k = (t[lo:hi] - first) // step
        starts = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
        bins = k[starts]
        ok = np.isfinite(xrsb[lo:hi])
        if xrsa is not None:
            ok &= np.isfinite(xrsa[lo:hi])
        good[bins] += np.add.reduceat(ok, starts, dtype=np.uint32)
        for j, (src, out) in enumerate(pairs):
            v = np.asarray(src[lo:hi], dtype=np.float32)
            if how == "max":
                out[bins] = np.fmax(out[bins], np.fmax.reduceat(v, starts))
            else:
                fin = np.isfinite(v)
                sums[j][bins] += np.add.reduceat(np.where(fin, v, 0), starts)
                counts[j][bins] += np.add.reduceat(fin, starts, dtype=np.uint32)
    for j, (_, out) in enumerate(pairs if how == "mean" else []):
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(sums[j], counts[j], out=out)
    return good
