"""Time-series cross-validation folds: which windows each fold trains on, stops early on, and holds out.

A fold is one split array over the samples (``train``, ``val``, ``test`` = held out, ``""`` = unused), made with
the same span rule as the config's own split plan (:func:`flarecast.samples.splits.assign`): a window belongs to
a part only when its whole span [t - window, t + horizon] lies inside it, so windows on either side of any edge
are at least window + horizon apart and share neither an input step nor a label minute. SHARP regions then stay
on one side (:func:`~flarecast.samples.splits.regions_on_one_side`).

Schemes (``train.cv``):

- ``blocked``: the pool's time span cut into ``k`` contiguous blocks (``by: year``: calendar years); each block
  is held out in turn and the model trains on all the others.
- ``rolling``: the same blocks; fold i trains on blocks 0..i-1 (the past only) and holds out block i, so there
  are k - 1 folds and the first block is never held out.
- ``by: regions``: one fold per file of SHARP regions (the HARPNUMs of a JSOC keyword CSV, such as the folds of
  Sun et al. 2022): that file's regions are held out, the others train.

The early-stopping set of a fold comes from its *training* part, never the held-out block: the last
``val_fraction`` of its training time (``val: last``) or the config's own val split blocks within it
(``val: split``), so a fold of SHARP regions from 2010-2021 does not stop on the flare-free solar minimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from flarecast.config import CVConfig
from flarecast.errors import ConfigError, SampleError
from flarecast.samples.build import Samples
from flarecast.samples.labels import FULL_DISK
from flarecast.samples.splits import Run, assign, regions_on_one_side

_DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class Fold:
    """One fold: its name (the held-out period or region file) and a split name per window."""

    name: str
    held_out: tuple[str, str]  # [from, to) of the held-out time, or ("", "") for a region fold
    split: np.ndarray  # [sample] "train" | "val" | "test" | ""

    def indices(self, part: str) -> np.ndarray:
        return np.flatnonzero(self.split == part)

    def summary(self, samples: Samples) -> dict:
        out = {"name": self.name, "held_out": {"from": self.held_out[0], "to": self.held_out[1]}}
        for part in ("train", "val", "test"):
            idx = self.indices(part)
            out[part] = {"windows": int(idx.size),
                         "positives": {t: int(samples.y[idx, j].sum()) for j, t in enumerate(samples.targets)}}
        return out


def make_folds(samples: Samples, cv: CVConfig) -> list[Fold]:
    """The folds of ``cv`` over the windows of ``samples`` whose split is in ``cv.pool``."""
    if cv.scheme == "none":
        raise ConfigError("train.cv.scheme = 'none' has no folds: set it to 'blocked' or 'rolling'")
    pool = np.isin(samples.split, cv.pool)
    if not pool.any():
        raise SampleError(f"train.cv.pool = {list(cv.pool)} holds no windows: name splits that have windows")
    window, horizon = samples.config.window_length, samples.config.horizon_length
    t = samples.issue_time[pool]
    start = (t.min() - window).astype("datetime64[D]").astype("datetime64[ns]")
    end = t.max() + horizon + np.timedelta64(1, "ns")
    if cv.by == "regions":
        folds = _region_folds(samples, cv, start, end, window, horizon)
    else:
        edges = _year_edges(start, end, t) if cv.by == "year" else _equal_edges(start, end, cv.k)
        first = 1 if cv.scheme == "rolling" else 0
        folds = [_time_fold(samples, edges, i, cv, window, horizon) for i in range(first, edges.size - 1)]
    for fold in folds:
        fold.split[~pool] = ""
        if cv.val == "split":
            # The config's split plan already keeps its val windows window + horizon from every other split's.
            seen = np.isin(fold.split, ["train", "val"])
            fold.split[seen] = np.where(samples.split[seen] == "val", "val", "train")
        if samples.config.source == "sharp":
            fold.split[:], _ = regions_on_one_side(samples.region, fold.split)
        for part in ("train", "val", "test"):
            if not (fold.split == part).any():
                raise SampleError(f"fold {fold.name}: its {part} part holds no windows; use fewer folds "
                                  f"(train.cv.k = {cv.k}) or a longer pool (train.cv.pool = {list(cv.pool)})")
        if not samples.y[fold.split == "val"].any():
            # Early stopping on a set without a single event cannot rank epochs: every member would stop blind.
            raise SampleError(f"fold {fold.name}: its validation part holds no event of any target "
                              f"({int((fold.split == 'val').sum())} windows); use train.cv.val: split (the config's "
                              "own val blocks) or a larger train.cv.val_fraction")
    return folds


def _equal_edges(start: np.datetime64, end: np.datetime64, k: int) -> np.ndarray:
    days = int(np.ceil((end - start) / _DAY))
    if days < 2 * k:
        raise SampleError(f"the pool spans {days} days: too short for train.cv.k = {k} blocks")
    cuts = np.round(np.linspace(0, days, k + 1)).astype(np.int64)
    edges = start + cuts * _DAY
    edges[-1] = end
    return edges.astype("datetime64[ns]")


def _year_edges(start: np.datetime64, end: np.datetime64, issue: np.ndarray) -> np.ndarray:
    """Edges at 1 January of every year in which pool windows are issued (the labels' spill-over into the
    next year makes no block of its own)."""
    years = np.unique(issue.astype("datetime64[Y]").astype(int) + 1970)
    inner = [np.datetime64(f"{y}-01-01", "ns") for y in years[1:]]
    edges = np.array([start, *[e for e in inner if start < e < end], end], dtype="datetime64[ns]")
    if edges.size < 3:
        raise SampleError(f"the pool's windows lie within one calendar year ({years[0]}): train.cv.by = 'year' "
                          "needs two")
    return edges


def _time_fold(samples: Samples, edges: np.ndarray, i: int, cv: CVConfig, window, horizon) -> Fold:
    """Hold out block i; train on the others (blocked) or on the blocks before it (rolling)."""
    a, b = edges[i], edges[i + 1]
    pieces = [(edges[0], a), (b, edges[-1])] if cv.scheme == "blocked" else [(edges[0], a)]
    pieces = [(lo, hi) for lo, hi in pieces if hi > lo]
    runs = _train_val_runs(pieces, cv.val_fraction) + [Run("test", a, b)]
    if cv.scheme == "rolling" and b < edges[-1]:
        runs.append(Run("", b, edges[-1]))  # the future of a rolling fold is not used
    runs.sort(key=lambda r: r.start)
    split = assign(samples.issue_time, window, horizon, runs, np.timedelta64(0, "ns"))
    # The first block starts a window before the first issue time, in the year before: name it by its middle.
    name = str(pd.Timestamp(a + (b - a) // 2).year) if cv.by == "year" else f"block{i}"
    return Fold(name, (str(pd.Timestamp(a)), str(pd.Timestamp(b))), split)


def _train_val_runs(pieces: list[tuple], val_fraction: float) -> list[Run]:
    """Training pieces (in time order) with their last ``val_fraction`` of time, in whole days, as ``val``."""
    total = sum(((hi - lo) for lo, hi in pieces), np.timedelta64(0, "ns"))
    left = max(_DAY, (total * val_fraction).astype("timedelta64[D]").astype("timedelta64[ns]"))
    runs: list[Run] = []
    for lo, hi in reversed(pieces):
        take = min(left, hi - lo)
        cut = hi - take
        if cut > lo:
            runs.append(Run("train", lo, cut))
        if take > np.timedelta64(0, "ns"):
            runs.append(Run("val", cut, hi))
        left -= take
    return runs


def _region_folds(samples: Samples, cv: CVConfig, start, end, window, horizon) -> list[Fold]:
    if samples.config.source != "sharp":
        raise ConfigError("train.cv.by = 'regions' folds SHARP regions: the samples are full-disk "
                          f"(samples.source = {samples.config.source!r}); use by: '' or 'year'")
    groups = [_harps(Path(p)) for p in cv.region_files]
    shared = set.intersection(*groups) if len(groups) > 1 else set()
    if shared:
        raise ConfigError(f"train.cv.region_files share HARPs {sorted(shared)[:5]}: folds must hold disjoint regions")
    known = set().union(*groups)
    cut = end - ((end - start) * cv.val_fraction).astype("timedelta64[D]").astype("timedelta64[ns]")
    time_split = assign(samples.issue_time, window, horizon, [Run("train", start, cut), Run("val", cut, end)],
                        np.timedelta64(0, "ns"))
    folds = []
    for path, harps in zip(cv.region_files, groups, strict=True):
        held = np.isin(samples.region, list(harps))
        split = np.where(held, "test", time_split).astype("<U5")
        split[~np.isin(samples.region, list(known)) | (samples.region == FULL_DISK)] = ""
        folds.append(Fold(Path(path).stem, ("", ""), split))
    return folds


def _harps(path: Path) -> set[int]:
    if not path.is_file():
        raise ConfigError(f"train.cv.region_files: {str(path)!r} does not exist; pass SHARP keyword CSVs "
                          "with a HARPNUM column, one per fold")
    try:
        harps = pd.read_csv(path, usecols=["HARPNUM"])["HARPNUM"]
    except ValueError as exc:
        raise ConfigError(f"train.cv.region_files: {path} has no HARPNUM column ({exc})") from None
    return set(harps.dropna().astype(int).tolist())
