"""Leakage-free splits: contiguous time blocks, a window's whole span inside one block, regions on one side.

Consecutive windows are near copies, so windows are never split at random. The data's time span is cut into
blocks (three in order, or many of ``split.block`` dealt out in a fixed interleaved order), adjacent blocks of
the same split merge into runs, and a window issued at t belongs to a split only if its span
[t - window, t + horizon] lies inside one run (shrunk by ``extra_gap / 2`` at each inner edge). Two windows on
either side of an edge are therefore at least window + horizon (+ extra_gap) apart in issue time and share
neither an input nor a label minute. SHARP windows also keep each region (HARP) on one side: a region goes to
the split holding most of its windows, and its windows elsewhere are dropped.

The plan depends on the data's span and the config only (no labels, no randomness), and is recorded with the
samples. Normalisation statistics come from the steps the training windows cover, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from flarecast.config import SplitConfig

SPLITS = ("train", "val", "test")
_FAR = np.timedelta64(100 * 365, "D")  # far beyond any data, yet inside datetime64[ns] (+-292 years)
_CHUNK = 2**16


@dataclass(frozen=True)
class Run:
    """Adjacent blocks of one split: ``[start, end)``."""

    split: str
    start: np.datetime64
    end: np.datetime64

    def to_dict(self) -> dict[str, str]:
        return {"split": self.split, "from": str(pd.Timestamp(self.start)), "to": str(pd.Timestamp(self.end))}


def deal(n_blocks: int, cfg: SplitConfig) -> list[str]:
    """Split of each block: each block goes to the split furthest behind its share (ties: train, val, test).

    With 0.6/0.2/0.2 this repeats train, val, train, test, train: every split sees every phase of the cycle.
    """
    frac = np.array([cfg.train, cfg.val, cfg.test])
    dealt = np.zeros(3)
    out = []
    for i in range(n_blocks):
        k = int(np.argmax(frac * (i + 1) - dealt))
        dealt[k] += 1
        out.append(SPLITS[k])
    return out


def plan(data_start: np.datetime64, data_end: np.datetime64, cfg: SplitConfig) -> list[Run]:
    """Runs of same-split blocks covering [data_start, data_end)."""
    # Edges fall at 00:00 UTC, so the plan reads as dates.
    data_start = np.datetime64(data_start, "D").astype("datetime64[ns]")
    span = (data_end - data_start).astype("timedelta64[ns]").astype(np.int64)
    if not cfg.block:
        day = np.timedelta64(1, "D").astype("timedelta64[ns]").astype(np.int64)
        cuts = np.round(np.array([0, cfg.train, cfg.train + cfg.val, 1.0]) * span / day) * day
        edges = data_start + cuts.astype(np.int64).astype("timedelta64[ns]")
        edges[-1] = data_end
        names = list(SPLITS)
    else:
        block = pd.Timedelta(cfg.block).value
        n = max(1, int(np.ceil(span / block)))
        edges = data_start + (np.arange(n + 1, dtype=np.int64) * block).astype("timedelta64[ns]")
        edges[-1] = data_end
        names = deal(n, cfg)
    runs: list[Run] = []
    for name, a, b in zip(names, edges[:-1], edges[1:], strict=True):
        if runs and runs[-1].split == name:
            runs[-1] = Run(name, runs[-1].start, b)
        else:
            runs.append(Run(name, a, b))
    return runs


def assign(issue: np.ndarray, window: np.timedelta64, horizon: np.timedelta64, runs: list[Run],
           extra_gap: np.timedelta64) -> np.ndarray:
    """Split name of each window, ``""`` where its span [t - window, t + horizon] crosses a run edge.

    The first run has no lower edge and the last no upper one: the data's own ends are not split edges.
    """
    half = extra_gap // 2
    starts = np.array([r.start for r in runs], dtype="datetime64[ns]")
    lower = starts + half
    upper = np.array([r.end for r in runs], dtype="datetime64[ns]") - half
    lower[0], upper[-1] = starts[0] - _FAR, runs[-1].end + _FAR
    lo, hi = issue - window, issue + horizon
    k = np.clip(np.searchsorted(starts, lo, side="right") - 1, 0, len(runs) - 1)
    inside = (lo >= lower[k]) & (hi <= upper[k])
    names = np.array([r.split for r in runs])
    return np.where(inside, names[k], "")


def regions_on_one_side(region: np.ndarray, split: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    """Keep each region in the split holding most of its windows (ties: train, val, test); drop the rest.

    Returns the new split array (``""`` where dropped) and the split of every region that kept windows.
    """
    out = split.copy()
    home: dict[int, str] = {}
    for r in np.unique(region).tolist():
        sel = region == r
        counts = [int((split[sel] == s).sum()) for s in SPLITS]
        if max(counts) == 0:
            continue
        home[r] = SPLITS[int(np.argmax(counts))]
        out[sel & (split != home[r])] = ""
    return out, home


def covered_steps(end_index: np.ndarray, window_steps: int, n_steps: int) -> np.ndarray:
    """Boolean mask of the steps that at least one of the given windows covers.

    Overlapping windows are merged into intervals first, so the only per-step array is the mask itself.
    """
    mask = np.zeros(n_steps, dtype=bool)
    if end_index.size == 0:
        return mask
    stop = np.sort(end_index) + 1
    start = stop - window_steps
    # A new interval begins where a window starts after every earlier window has ended.
    new = np.concatenate(([True], start[1:] > np.maximum.accumulate(stop)[:-1]))
    firsts = np.flatnonzero(new)
    lasts = np.append(firsts[1:], stop.size) - 1
    for a, b in zip(start[firsts].tolist(), np.maximum.accumulate(stop)[lasts].tolist(), strict=True):
        mask[a:b] = True
    return mask


def norm_stats(series: np.ndarray, steps: np.ndarray, names, fixed=("missing",)) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each channel over ``steps`` (boolean mask), ignoring NaN.

    Channels in ``fixed`` (the mask fraction, already in [0, 1]) keep mean 0 and std 1 so they stay readable.
    Accumulates in float64 over chunks, so decades of 1-minute steps need no float64 copy of a channel.
    """
    n_ch = series.shape[0]
    s1, s2, cnt = np.zeros(n_ch), np.zeros(n_ch), np.zeros(n_ch)
    for a in range(0, series.shape[1], _CHUNK):
        part = series[:, a : a + _CHUNK][:, steps[a : a + _CHUNK]].astype(np.float64)
        ok = np.isfinite(part)
        part[~ok] = 0.0
        s1 += part.sum(axis=1)
        s2 += (part * part).sum(axis=1)
        cnt += ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / cnt
        std = np.sqrt(np.maximum(s2 / cnt - mean * mean, 0.0))
    for i, name in enumerate(names):
        if name in fixed:
            mean[i], std[i] = 0.0, 1.0
    std = np.where(np.isfinite(std) & (std > 1e-6), std, 1.0)
    return np.nan_to_num(mean).astype(np.float32), std.astype(np.float32)
