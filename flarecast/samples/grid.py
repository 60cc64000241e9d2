"""The regular step grid that windows are views over, shared by the GOES and SHARP builders.

A grid is one ``[channel, step]`` float32 array, possibly made of several segments (one per SHARP region, one
for the full-disk GOES series) laid end to end. A window is ``window_steps`` consecutive steps of one segment
and is identified by the index of its last step; it is issued at that step's end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view


@dataclass
class Grid:
    """Raw channel values on a regular grid, before normalisation.

    ``series`` rows follow the config's channels; NaN marks an unusable value (the history rows are filled by
    the caller). ``missing`` is the fraction of each step's expected records that were absent or masked.
    ``segments`` holds rows ``(region, first step, stop step)``; region is -1 for full-disk GOES.
    """

    step_end: np.ndarray
    series: np.ndarray
    missing: np.ndarray
    segments: np.ndarray
    region_ars: dict[int, list[int]]


def new_series(channels, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """A NaN-filled ``[channel, step]`` array and the array for the missing fraction (its row when listed)."""
    series = np.full((len(channels), n_steps), np.nan, dtype=np.float32)
    if "missing" in channels:
        return series, series[list(channels).index("missing")]
    return series, np.zeros(n_steps, dtype=np.float32)


def window_ends(grid: Grid, window_steps: int, stride: pd.Timedelta) -> tuple[np.ndarray, np.ndarray]:
    """Last-step index and region of every window issued on a stride boundary (counted from 1970-01-01).

    Issue times on stride multiples make the window set independent of where the data happen to start. Steps
    within a segment are regular and stride is a multiple of the cadence, so the ends are an arithmetic
    progression: no per-step temporary.
    """
    ends, regions = [], []
    stride_ns = stride.value
    cadence = int(grid.step_end[1] - grid.step_end[0]) if grid.step_end.size > 1 else stride_ns
    for region, first, stop in grid.segments.tolist():
        e0 = first + window_steps - 1
        if e0 >= stop:
            continue
        lead = (-int(grid.step_end[e0].view(np.int64))) % stride_ns // cadence
        idx = np.arange(e0 + lead, stop, stride_ns // cadence, dtype=np.int64)
        ends.append(idx)
        regions.append(np.full(idx.size, region, dtype=np.int32))
    if not ends:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
    return np.concatenate(ends), np.concatenate(regions)


MISSING_SLACK = 1e-5
"""What :func:`window_missing`'s float32 sums may exceed ``max_missing`` by and still be kept."""


def tolerated(missing_fraction: np.ndarray, max_missing: float) -> np.ndarray:
    """The missing-data rule, the same for training windows and forecast windows: a window is kept when its
    missing fraction (:func:`window_missing`) is at most ``samples.max_missing``.

    >>> tolerated(np.array([0.0, 0.2, 0.2000001, 0.25], np.float32), 0.2).tolist()
    [True, True, True, False]
    """
    return missing_fraction <= max_missing + MISSING_SLACK


def gather(series: np.ndarray, end_index: np.ndarray, window_steps: int, idx: np.ndarray) -> np.ndarray:
    """Windows ``idx`` (by ``end_index``, the index of each one's last step) of ``[channel, step]`` ``series`` as
    one contiguous ``[batch, channel, step]`` array: the only copy, for training samples and forecast windows alike.

    >>> gather(np.arange(10.0)[None, :], np.array([3, 9]), 3, np.array([1, 0])).tolist()
    [[[7.0, 8.0, 9.0]], [[1.0, 2.0, 3.0]]]
    """
    return sliding_window_view(series.T, window_steps, axis=0)[end_index[idx] - window_steps + 1]


def window_missing(missing: np.ndarray, end_index: np.ndarray, window_steps: int) -> np.ndarray:
    """Mean missing fraction of each window, without a [window, step] temporary or a float64 copy.

    Sums of at most a few thousand fractions in float32 are exact for whole steps and within 1e-6 otherwise.
    """
    if end_index.size == 0:
        return np.zeros(0, dtype=np.float32)
    start = end_index - window_steps + 1
    stop = np.minimum(end_index + 1, missing.size - 1)
    pairs = np.empty(2 * start.size, dtype=np.int64)
    pairs[0::2], pairs[1::2] = start, stop
    # reduceat sums missing[pairs[2i]:pairs[2i+1]] at even positions; odd positions are discarded.
    sums = np.add.reduceat(missing, pairs)[0::2]
    last = end_index == missing.size - 1
    sums[last] += missing[-1]
    return (sums / window_steps).astype(np.float32)


def gaps(grid: Grid, step: np.timedelta64, top: int = 5) -> dict:
    """Fully missing steps: their number and the ``top`` longest runs of them (region, from, to, length)."""
    full = grid.missing >= 1
    n_missing = int(full.sum())
    runs = []
    if n_missing:
        edges = np.flatnonzero(np.diff(np.concatenate((np.zeros(1, np.int8), full.view(np.int8), np.zeros(1, np.int8)))))
        a, b = edges[0::2], edges[1::2]
        order = np.argsort(-(b - a), kind="stable")[:top]
        seg_first = grid.segments[:, 1]
        for i in order.tolist():
            seg = int(np.searchsorted(seg_first, a[i], side="right") - 1)
            runs.append({
                "region": int(grid.segments[seg, 0]),
                "from": str(pd.Timestamp(grid.step_end[a[i]] - step)),
                "to": str(pd.Timestamp(grid.step_end[b[i] - 1])),
                "steps": int(b[i] - a[i]),
            })
    return {"missing_steps": n_missing, "steps": int(grid.missing.size), "longest": runs}
