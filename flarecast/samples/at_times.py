"""Model inputs at chosen issue times, for forecasts and backtests: the windows a forecast is issued from.

Only the records the requested windows need are read (plus one step before them for the difference channels, and
a background channel's span before that),
put on a grid by the same builders as training (:mod:`flarecast.samples.goes`, :mod:`flarecast.samples.sharp`)
and turned into inputs by the same :func:`flarecast.samples.features.model_inputs`, with the model card's
normalisation. The grid is laid on a fixed axis of steps so that gaps at either end count as missing, as they
would in the full series; every region (SHARP) gets its own segment of that axis.

Issue times the data cannot serve are returned as refusals (dicts with ``issue_time``, ``region``, ``reason``,
``detail``, ``coverage``), never raised: the caller decides whether a refusal is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from flarecast.config import SampleConfig
from flarecast.errors import ModelError
from flarecast.samples import features
from flarecast.samples.goes import NEEDS_XRSA, goes_grid
from flarecast.samples.grid import Grid, gather, tolerated, window_missing
from flarecast.samples.labels import FULL_DISK, Catalogue
from flarecast.samples.sharp import sharp_grid
from flarecast.util import iso

if TYPE_CHECKING:  # xarray is imported where a Dataset is built: a forecast reads its inputs without it
    import xarray as xr


@dataclass
class Windows:
    """Normalised windows at the requested issue times; ``gather`` copies one batch at a time."""

    series: np.ndarray  # [channel, segment * n_steps] float32, normalised, NaN replaced by 0
    end_index: np.ndarray  # [window] int64 index of each window's last step in ``series``
    issue_time: np.ndarray  # [window] datetime64[ns]
    region: np.ndarray  # [window] int32: HARP, or -1 for full-disk
    coverage: np.ndarray  # [window] float32: 1 - missing fraction of the window
    noaa_ars: list[list[int]]  # [window] the region's NOAA active regions ([] for full-disk)
    window_steps: int
    refused: list[dict]

    def gather(self, idx: np.ndarray) -> np.ndarray:
        return gather(self.series, self.end_index, self.window_steps, idx)


def refusal(t, region: int, reason: str, detail: str, coverage: float) -> dict:
    """One refused issue time (and region) as it appears in a forecast document's ``refused`` list."""
    return {"issue_time": iso(t), "region": None if region == FULL_DISK else int(region), "reason": reason,
            "detail": detail, "coverage": round(coverage, 4)}


def windows_at(data: xr.Dataset, cat: Catalogue | None, cfg: SampleConfig, issue: np.ndarray, *, norm,
               data_start, data_end) -> Windows:
    """Normalised model inputs for windows ending at ``issue`` (full-disk, or one per region seen at t).

    ``cat`` is the flare catalogue, needed (and only read) when the channels include flare history.
    """
    step = pd.Timedelta(cfg.cadence).to_timedelta64()
    L = cfg.window_steps
    window = cfg.window_length
    look = features.catalogue_look_back(cfg)
    pre = features.data_look_back(cfg)  # a background channel reads the series this far before the window
    refused, keep = [], []
    for t in issue:
        why = None
        if t - window - pre < data_start or t > data_end:
            why = (f"outside the data ({iso(data_start)} to {iso(data_end)}; the window"
                   f"{' and its background span' if pre else ''} start at {iso(t - window - pre)})")
        elif cat is not None and t - look < cat.span[0]:
            why = f"the flare catalogue starts at {iso(cat.span[0])}, after the history look-back {iso(t - look)}"
        if why:
            refused.append(refusal(t, FULL_DISK, "outside_data", why, 0.0))
        else:
            keep.append(t)
    issue = np.array(keep, dtype="datetime64[ns]")
    if issue.size == 0:
        return _no_windows(cfg, refused)
    lo, hi = issue.min() - window - step - pre, issue.max()
    n = int((hi - lo) // step)  # steps (lo, hi] on the fixed axis; step k ends at lo + (k + 1) step
    axis = lo + step * np.arange(1, n + 1)
    grid, spans = _fixed_axis_grid(data, cfg, lo, hi, axis)
    if grid is None:
        return _no_windows(cfg, refused)
    ends, regions, ars, coverage = [], [], [], []
    e_all = ((issue - lo) // step).astype(np.int64) - 1
    for k, (region, _, _) in enumerate(grid.segments.tolist()):
        first, last = spans[k]
        seen = (e_all >= first) & (e_all <= last)
        young = seen & (e_all - L + 1 < first)
        refused += [refusal(t, region, "region_too_young", "the region was first recorded less than one window "
                            "before the issue time", 0.0) for t in issue[young]]
        e = e_all[seen & ~young]
        miss = window_missing(grid.missing[k * n:(k + 1) * n], e, L)
        ok = tolerated(miss, cfg.max_missing)  # the training rule
        refused += [refusal(t, region, "too_much_missing", f"{m:.0%} of the window's input is missing; the model "
                            f"tolerates {cfg.max_missing:.0%}", 1 - float(m))
                    for t, m in zip(issue[seen & ~young][~ok], miss[~ok], strict=True)]
        ends.append(k * n + e[ok])
        regions.append(np.full(int(ok.sum()), region, np.int32))
        ars += [list(grid.region_ars.get(region, []))] * int(ok.sum())
        coverage.append(1 - miss[ok])
    refused.sort(key=lambda r: (r["issue_time"], r["region"] or FULL_DISK))
    series, _, _ = features.model_inputs(grid, cat, cfg, norm=norm)
    end_index, region = np.concatenate(ends), np.concatenate(regions)
    order = np.lexsort((region, end_index % n))  # by issue time, then region
    return Windows(series, end_index[order], lo + step * (end_index[order] % n + 1), region[order],
                   np.concatenate(coverage)[order].astype(np.float32), [ars[i] for i in order], L, refused)


def _no_windows(cfg: SampleConfig, refused: list[dict]) -> Windows:
    return Windows(np.zeros((len(cfg.channels), 0), np.float32), np.zeros(0, np.int64),
                   np.zeros(0, "datetime64[ns]"), np.zeros(0, np.int32), np.zeros(0, np.float32), [],
                   cfg.window_steps, refused)


def _fixed_axis_grid(data: xr.Dataset, cfg: SampleConfig, lo, hi, axis: np.ndarray):
    """A :class:`Grid` of one ``len(axis)``-step segment per region on ``axis``, and each segment's first and
    last step holding records; ``(None, [])`` when no region has records in (lo, hi]."""
    step = pd.Timedelta(cfg.cadence).to_timedelta64()
    t = np.asarray(data["time"].values, dtype="datetime64[ns]")
    n, n_ch = axis.size, len(cfg.channels)
    if cfg.source == "goes":  # a GOES record stamps the start of its interval: steps [s, s + step)
        a, b = np.searchsorted(t, lo), np.searchsorted(t, hi)
        sub = data.isel(time=slice(int(a), int(b)))
        if set(cfg.channels) & set(NEEDS_XRSA) and b - a >= 2 and not np.isfinite(sub["xrsa"].values).any():
            raise ModelError(f"no usable XRS-A from {iso(lo)} to {iso(hi)}, and the model's channels "
                             f"{list(cfg.channels)} need it; for XRS-B-only inputs use a model trained without "
                             f"{list(NEEDS_XRSA)}")
    else:  # a SHARP record is a snapshot: steps (s - step, s]
        sub = data.isel(record=np.flatnonzero((t > lo) & (t <= hi)))
    if sub["time"].size < 2:
        if cfg.source != "goes":
            return None, []
        empty = np.full((n_ch, n), np.nan, np.float32)
        missing = np.ones(n, np.float32)
        if "missing" in cfg.channels:
            empty[cfg.channels.index("missing")] = missing
        return Grid(axis, empty, missing, np.array([[FULL_DISK, 0, n]], np.int64), {}), [(0, n - 1)]
    built = goes_grid(sub, cfg) if cfg.source == "goes" else sharp_grid(sub, cfg)
    k_seg = len(built.segments)
    series = np.full((n_ch, k_seg * n), np.nan, np.float32)
    missing = np.ones(k_seg * n, np.float32)
    segments, spans = [], []
    for k, (region, a, b) in enumerate(built.segments.tolist()):
        k0 = int((built.step_end[a] - axis[0]) // step)
        series[:, k * n + k0 : k * n + k0 + b - a] = built.series[:, a:b]
        missing[k * n + k0 : k * n + k0 + b - a] = built.missing[a:b]
        segments.append((region, k * n, (k + 1) * n))
        spans.append((0, n - 1) if region == FULL_DISK else (k0, k0 + b - a - 1))
    if "missing" in cfg.channels:
        series[cfg.channels.index("missing")] = missing
    return Grid(np.tile(axis, k_seg), series, missing, np.array(segments, np.int64), built.region_ars), spans
