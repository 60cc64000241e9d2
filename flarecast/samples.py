"""Windowed samples from the store: channels on a regular step grid, labels from the catalogue, time-block splits.

A window issued at time t holds the steps covering (t - window, t]; its label is the largest flare class among
catalogue events peaking in (t, t + horizon] (0 quiet < C, 1 C, 2 M, 3 X), plus one binary target per
threshold. GOES time stamps are record *start* times, so the step ending at t holds only minutes that ended
by t: nothing from after the issue time leaks into the input.

Splits are contiguous time blocks (train, val, test in order). A window belongs to a block only if its whole
span [t - window, t + horizon] lies inside it, so no test window shares an input minute or a label minute with
a training window; windows straddling an edge are dropped and counted. Normalisation statistics come from the
training block alone.

Windows are never materialised: :meth:`Samples.windows` returns a strided view over the normalised series, and
:class:`WindowDataset` gathers one batch at a time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import xarray as xr
from numpy.lib.stride_tricks import sliding_window_view

from flarecast import classes
from flarecast.config import SampleConfig
from flarecast.errors import SampleError

SPLITS = ("train", "val", "test")


@dataclass
class Samples:
    """Series, window index, labels and splits. ``series[:, end_index[i] - L + 1 : end_index[i] + 1]`` is window i."""

    config: SampleConfig
    channels: tuple[str, ...]
    targets: tuple[str, ...]
    series: np.ndarray  # [channel, step] float32, normalised, NaN replaced by 0 (the "missing" channel says where)
    step_end: np.ndarray  # [step] datetime64[ns]: end of each step
    end_index: np.ndarray  # [sample] int64
    issue_time: np.ndarray  # [sample] datetime64[ns]
    label: np.ndarray  # [sample] int8 ordinal 0..3
    y: np.ndarray  # [sample, target] float32 0/1
    split: np.ndarray  # [sample] str
    prev_flux: np.ndarray  # [sample] largest peak flux (true) in (t - horizon, t]: persistence baseline
    norm_mean: np.ndarray
    norm_std: np.ndarray
    fingerprint: str
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def window_steps(self) -> int:
        return self.config.window_steps

    def windows(self) -> np.ndarray:
        """Strided view ``[sample_start, channel, step]`` over the series (no copy); index it with ``end_index - L + 1``."""
        return sliding_window_view(self.series.T, self.window_steps, axis=0)

    def indices(self, split: str) -> np.ndarray:
        if split not in SPLITS:
            raise SampleError(f"split {split!r}: expected one of {list(SPLITS)}")
        return np.flatnonzero(self.split == split)

    def gather(self, idx: np.ndarray) -> np.ndarray:
        """Windows ``idx`` as one contiguous ``[batch, channel, step]`` array (the only copy made)."""
        return self.windows()[self.end_index[idx] - self.window_steps + 1]

    def counts(self) -> dict:
        """Sample and positive counts per split and target, and dropped windows by reason."""
        out = {"splits": {}, "dropped": dict(self.dropped)}
        for s in SPLITS:
            idx = self.indices(s)
            entry = {"windows": int(idx.size)}
            if idx.size:
                entry["from"] = str(pd.Timestamp(self.issue_time[idx[0]]))
                entry["to"] = str(pd.Timestamp(self.issue_time[idx[-1]]))
            entry["classes"] = {n: int((self.label[idx] == k).sum()) for k, n in enumerate(classes.ORDINAL_NAMES)}
            entry["positives"] = {t: int(self.y[idx, j].sum()) for j, t in enumerate(self.targets)}
            out["splits"][s] = entry
        return out

    def to_frame(self) -> pd.DataFrame:
        """The sample index: issue_time (UTC), region (empty for full-disk), label, one bool per target, split."""
        df = pd.DataFrame(
            {
                "issue_time": pd.DatetimeIndex(self.issue_time).tz_localize("UTC"),
                "region": pd.array([pd.NA] * len(self.issue_time), dtype="Int64"),
                "label": self.label,
            }
        )
        for j, t in enumerate(self.targets):
            df[t] = self.y[:, j].astype(bool)
        df["split"] = self.split
        return df


class WindowDataset(torch.utils.data.Dataset):
    """Windows of one split for a DataLoader; ``__getitems__`` gathers a whole batch in one NumPy call."""

    def __init__(self, samples: Samples, split: str):
        self.samples = samples
        self.idx = samples.indices(split)

    def __len__(self) -> int:
        return int(self.idx.size)

    def __getitem__(self, i: int):
        x, y = self.__getitems__([i])
        return x[0], y[0]

    def __getitems__(self, items):
        idx = self.idx[np.asarray(items)]
        return torch.from_numpy(self.samples.gather(idx)), torch.from_numpy(self.samples.y[idx])


def collate_batch(batch):
    """``__getitems__`` already returns a batch; the DataLoader must not stack it again."""
    return batch


def build_samples(goes: xr.Dataset, events: xr.Dataset, cfg: SampleConfig, *, provenance: str = "",
                  norm: tuple[np.ndarray, np.ndarray] | None = None) -> Samples:
    """Build windows, labels and splits from the store's ``goes`` and ``events`` groups.

    ``norm`` (mean, std per channel) replaces the statistics of the training block: a trained model is applied
    with the normalisation stored in its card, never with statistics of the data it is scored on.
    """
    flux, step_end, missing = _resample(goes, cfg)
    raw = _channels(flux, missing, cfg.channels)
    L = cfg.window_steps
    stride = pd.Timedelta(cfg.stride)
    horizon = pd.Timedelta(cfg.horizon)
    window = pd.Timedelta(cfg.window)
    step = pd.Timedelta(cfg.cadence)

    data_start = step_end[0] - step.to_timedelta64()
    data_end = step_end[-1]
    every = max(1, int(stride / step))
    if stride % step != pd.Timedelta(0):
        raise SampleError(f"samples.stride {cfg.stride} is not a multiple of samples.cadence {cfg.cadence}")
    end_index = np.arange(L - 1, step_end.size, every)
    issue = step_end[end_index]
    dropped = {}
    complete = issue + horizon.to_timedelta64() <= data_end
    dropped["horizon_beyond_data"] = int((~complete).sum())
    end_index, issue = end_index[complete], issue[complete]

    miss_frac = sliding_window_view(missing, L)[end_index - L + 1].mean(axis=1)
    ok = miss_frac <= cfg.max_missing
    dropped["too_much_missing"] = int((~ok).sum())
    end_index, issue = end_index[ok], issue[ok]

    split, bounds = _assign_blocks(issue, window, horizon, data_start, data_end, cfg)
    keep = split != ""
    dropped["straddles_split_edge"] = int((~keep).sum())
    end_index, issue, split = end_index[keep], issue[keep], split[keep]
    if issue.size == 0:
        raise SampleError(
            f"no windows left from {data_start} to {data_end} (dropped: {dropped}); the data must span several "
            f"windows of {cfg.window} plus the horizon {cfg.horizon}"
        )

    peaks, peak_flux = _event_arrays(events)
    next_flux = range_max(peaks, peak_flux, issue, issue + horizon.to_timedelta64())
    prev_flux = range_max(peaks, peak_flux, issue - horizon.to_timedelta64(), issue)
    label = classes.ordinal(next_flux, cfg.convention)
    y = np.stack([label >= classes.TARGET_RANK[t] for t in cfg.targets], axis=1).astype(np.float32)

    train_steps = (step_end > bounds[0]) & (step_end <= bounds[1])
    if norm is None:
        mean, std = _norm_stats(raw[:, train_steps], cfg.channels)
    else:
        mean, std = (np.asarray(v, dtype=np.float32) for v in norm)
    series = np.nan_to_num((raw - mean[:, None]) / std[:, None], nan=0.0).astype(np.float32)
    fp = hashlib.sha256(json.dumps([provenance, _cfg_repr(cfg)]).encode()).hexdigest()[:16]
    return Samples(
        config=cfg, channels=tuple(cfg.channels), targets=tuple(cfg.targets), series=np.ascontiguousarray(series),
        step_end=step_end, end_index=end_index.astype(np.int64), issue_time=issue, label=label, y=y,
        split=split, prev_flux=prev_flux, norm_mean=mean, norm_std=std, fingerprint=fp, dropped=dropped,
    )


def range_max(times: np.ndarray, values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Largest ``values`` with ``times`` in (lo, hi] for each pair; NaN where none. ``times`` sorted.

    A sparse table answers each range in O(1) after O(n log n) set-up, so labelling decades of hourly windows
    against tens of thousands of events stays vectorised.
    """
    a = np.searchsorted(times, lo, side="right")
    b = np.searchsorted(times, hi, side="right")
    out = np.full(a.shape, np.nan)
    nonempty = b > a
    if not nonempty.any():
        return out
    table = [np.asarray(values, dtype=float)]
    while 2 ** len(table) <= len(values):
        prev, half = table[-1], 2 ** (len(table) - 1)
        table.append(np.maximum(prev[:-half], prev[half:]))
    a, b = a[nonempty], b[nonempty]
    k = np.floor(np.log2(b - a)).astype(int)
    res = np.empty(a.size)
    for level in np.unique(k):
        sel = k == level
        t = table[level]
        res[sel] = np.maximum(t[a[sel]], t[b[sel] - 2**level])
    out[nonempty] = res
    return out


def _event_arrays(events: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    peaks = np.asarray(events["peak"].values, dtype="datetime64[ns]")
    flux = np.asarray(events["peak_flux"].values, dtype=float)
    ok = ~np.isnat(peaks) & np.isfinite(flux)
    order = np.argsort(peaks[ok], kind="stable")
    return peaks[ok][order], flux[ok][order]


def _resample(goes: xr.Dataset, cfg: SampleConfig):
    """Fluxes per step (max or mean of the good minutes), each step's end time, and its missing fraction."""
    times = pd.DatetimeIndex(goes["time"].values)
    if times.size < 2:
        raise SampleError(f"the store holds {times.size} GOES records: expected at least a few windows of data")
    native = pd.Timedelta(np.median(np.diff(times.values[: 100_000])))
    step = pd.Timedelta(cfg.cadence)
    if step < native:
        raise SampleError(
            f"samples.cadence {cfg.cadence} is shorter than the data's cadence {native}: use a cadence of at least {native}"
        )
    df = pd.DataFrame({"xrsb": goes["xrsb"].values, "xrsa": goes["xrsa"].values}, index=times)
    df = df.where(df > 0)
    start = times[0].floor(step)
    grouped = df.resample(step, origin=start, label="left", closed="left")
    agg = grouped.max() if cfg.resample == "max" else grouped.mean()
    good = grouped.count()["xrsb"].to_numpy()
    expected = max(1, int(round(step / native)))
    missing = np.clip(1 - good / expected, 0, 1).astype(np.float32)
    step_end = (agg.index + step).values.astype("datetime64[ns]")
    return agg, step_end, missing


def _channels(flux: pd.DataFrame, missing: np.ndarray, names) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        lb = np.log10(flux["xrsb"].to_numpy(dtype=float))
        la = np.log10(flux["xrsa"].to_numpy(dtype=float))
    dl = np.diff(lb, prepend=np.nan)
    table = {"log_xrsb": lb, "log_xrsa": la, "log_ratio": la - lb, "dlog_xrsb": dl, "missing": missing}
    return np.stack([table[n] for n in names]).astype(np.float32)


def _norm_stats(train_part: np.ndarray, names) -> tuple[np.ndarray, np.ndarray]:
    if train_part.shape[1] == 0:
        raise SampleError("the training block holds no data steps: widen samples.split.train")
    mean = np.nanmean(train_part, axis=1).astype(np.float32)
    std = np.nanstd(train_part, axis=1).astype(np.float32)
    for i, n in enumerate(names):
        if n == "missing":  # already a fraction in [0, 1]; keep it readable
            mean[i], std[i] = 0.0, 1.0
    std = np.where(np.isfinite(std) & (std > 1e-6), std, 1.0).astype(np.float32)
    return np.nan_to_num(mean).astype(np.float32), std


def _assign_blocks(issue, window, horizon, data_start, data_end, cfg: SampleConfig):
    span = data_end - data_start
    f = cfg.split
    b1 = data_start + np.timedelta64(int(span / np.timedelta64(1, "ns") * f.train), "ns")
    b2 = data_start + np.timedelta64(int(span / np.timedelta64(1, "ns") * (f.train + f.val)), "ns")
    gap = pd.Timedelta(cfg.split.extra_gap).to_timedelta64() / 2
    lo = issue - window.to_timedelta64()
    hi = issue + horizon.to_timedelta64()
    split = np.full(issue.shape, "", dtype=object)
    split[(lo >= data_start) & (hi <= b1 - gap)] = "train"
    split[(lo >= b1 + gap) & (hi <= b2 - gap)] = "val"
    split[(lo >= b2 + gap) & (hi <= data_end)] = "test"
    return split.astype(str), (data_start, b1, b2, data_end)


def _cfg_repr(cfg: SampleConfig) -> str:
    from dataclasses import asdict

    return json.dumps(asdict(cfg), sort_keys=True, default=str)
