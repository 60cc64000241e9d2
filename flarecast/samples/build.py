"""Windowed samples from the store: channels on a regular step grid, labels from the catalogue, time-block splits.

A window issued at time t holds the steps covering (t - window, t]; its label is the largest flare class among
catalogue events peaking in (t, t + horizon] (0 quiet < C, 1 C, 2 M, 3 X), plus one binary target per
threshold. Full-disk GOES windows count every flare, SHARP windows only their region's (:mod:`flarecast.samples.labels`).

Splits are contiguous time blocks whose windows' spans [t - window, t + horizon] never cross a block edge, and
SHARP regions stay on one side (:mod:`flarecast.samples.splits`). Normalisation statistics come from the training
windows' steps alone. Windows over the missing-data tolerance are dropped and counted; within it, masked steps
are filled with the training mean and the ``missing`` channel says where.

Windows are never materialised: :meth:`Samples.windows` is a strided view over the normalised series, and
:class:`WindowDataset` gathers one batch at a time.

>>> from flarecast.config import load_config  # doctest: +SKIP
>>> s = samples_from_store("data/store.zarr", load_config("configs/real-goes-hourly.yaml").samples)  # doctest: +SKIP
>>> s.counts()["splits"]["test"]["classes"]  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr
from numpy.lib.stride_tricks import sliding_window_view

from flarecast import classes
from flarecast.config import SampleConfig
from flarecast.errors import SampleError
from flarecast.samples import features, labels, splits
from flarecast.samples.goes import goes_grid
from flarecast.samples.grid import Grid, gaps, gather, tolerated, window_ends, window_missing
from flarecast.samples.labels import FULL_DISK, Catalogue
from flarecast.samples.sharp import sharp_grid
from flarecast.samples.splits import SPLITS
from flarecast.util import atomic_path

INDEX_SUFFIXES = (".parquet", ".nc")


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
    region: np.ndarray  # [sample] int32 HARP number, -1 for full-disk
    prev_flux: np.ndarray  # [sample] largest peak flux (true) in (t - horizon, t]: persistence baseline
    norm_mean: np.ndarray
    norm_std: np.ndarray
    fingerprint: str
    dropped: dict[str, int] = field(default_factory=dict)
    runs: list[dict] = field(default_factory=list)  # the split plan: [{"split", "from", "to"}]
    gaps: dict = field(default_factory=dict)  # fully missing steps and the longest runs of them

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
        return gather(self.series, self.end_index, self.window_steps, idx)

    def counts(self) -> dict:
        """Windows, classes and positives per split and target; dropped windows by reason; gaps; the split plan."""
        out = {"source": self.config.source, "convention": self.config.convention, "splits": {},
               "dropped": dict(self.dropped), "gaps": self.gaps, "runs": list(self.runs)}
        for s in SPLITS:
            idx = self.indices(s)
            entry = {"windows": int(idx.size)}
            if idx.size:
                entry["from"] = str(pd.Timestamp(self.issue_time[idx].min()))
                entry["to"] = str(pd.Timestamp(self.issue_time[idx].max()))
            if self.config.source == "sharp":
                entry["regions"] = int(np.unique(self.region[idx]).size)
            entry["classes"] = {n: int((self.label[idx] == k).sum()) for k, n in enumerate(classes.ORDINAL_NAMES)}
            entry["positives"] = {t: int(self.y[idx, j].sum()) for j, t in enumerate(self.targets)}
            out["splits"][s] = entry
        return out

    def to_frame(self) -> pd.DataFrame:
        """The sample index: issue_time (UTC), region (HARP; empty for full-disk), label, one bool per target, split."""
        region = pd.array(self.region, dtype="Int64")
        region[self.region == FULL_DISK] = pd.NA
        df = pd.DataFrame({"issue_time": pd.DatetimeIndex(self.issue_time).tz_localize("UTC"), "region": region,
                           "label": self.label})
        for j, t in enumerate(self.targets):
            df[t] = self.y[:, j].astype(bool)
        df["split"] = pd.array(self.split, dtype="string")
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


def samples_from_store(store_path: str | Path, cfg: SampleConfig, *, norm=None) -> Samples:
    """Read the groups ``cfg.source`` needs (``goes`` or ``sharp``, and ``events``) and build the samples.

    ``norm`` (mean, std per channel) replaces the training statistics: a trained model is applied with the
    normalisation stored in its card, never with statistics of the data it is scored on.
    """
    from flarecast.ingest import store

    events = store.read_events(store_path)
    data = store.read_goes(store_path) if cfg.source == "goes" else store.read_sharp(store_path)
    provenance = json.dumps([data.attrs.get("provenance", ""), events.attrs.get("provenance", "")])
    build = build_samples if cfg.source == "goes" else build_sharp_samples
    return build(data, events, cfg, provenance=provenance, norm=norm)


def build_samples(goes: xr.Dataset, events: xr.Dataset, cfg: SampleConfig, *, provenance: str = "",
                  norm: tuple[np.ndarray, np.ndarray] | None = None) -> Samples:
    """Full-disk samples from the store's ``goes`` and ``events`` groups (see :func:`samples_from_store`)."""
    if cfg.source != "goes":
        raise SampleError(f"samples.source = {cfg.source!r}: build_samples makes GOES samples; use samples_from_store")
    return _assemble(goes_grid(goes, cfg), Catalogue.from_events(events), cfg, provenance, norm)


def build_sharp_samples(sharp: xr.Dataset, events: xr.Dataset, cfg: SampleConfig, *, provenance: str = "",
                        norm: tuple[np.ndarray, np.ndarray] | None = None) -> Samples:
    """Per-region samples from the store's ``sharp`` and ``events`` groups (see :func:`samples_from_store`)."""
    if cfg.source != "sharp":
        raise SampleError(f"samples.source = {cfg.source!r}: build_sharp_samples makes SHARP samples")
    return _assemble(sharp_grid(sharp, cfg), Catalogue.from_events(events), cfg, provenance, norm)


def describe(store_path: str | Path, cfg: SampleConfig, *, index: str | Path | None = None) -> dict:
    """What ``flarecast samples`` reports: :meth:`Samples.counts` of the store's samples, with the store, horizon
    and targets; the sample index is written to ``index`` (.parquet or .nc) when given."""
    samples = samples_from_store(store_path, cfg)
    if index is not None:
        write_index(samples, index)
    return {**samples.counts(), "store": str(store_path), "horizon": cfg.horizon, "targets": list(cfg.target_names),
            "index": None if index is None else str(index)}


def write_index(samples: Samples, path: str | Path) -> Path:
    """Write the sample index (:meth:`Samples.to_frame`) as Parquet or, for ``.nc``, netCDF.

    netCDF names cannot start with ``>``, so there the target columns are ``target_ge_C``, ``target_ge_M``,
    ``target_X`` (int8 0/1, the target in their ``target`` attribute) and ``region`` is -1 for full-disk.
    """
    path = Path(path)
    if path.suffix not in INDEX_SUFFIXES:
        raise SampleError(f"--out {str(path)!r}: expected a file name ending in one of {list(INDEX_SUFFIXES)}")
    frame = samples.to_frame()
    if path.suffix == ".parquet":
        with atomic_path(path) as tmp:
            frame.to_parquet(tmp, index=False)
        return path
    ds = xr.Dataset(
        {"issue_time": ("sample", samples.issue_time.astype("datetime64[ns]"), {"timezone": "UTC"}),
         "region": ("sample", samples.region.astype(np.int32), {"comment": "HARP number; -1 for full-disk"}),
         "label": ("sample", samples.label.astype(np.int8), {"flag_values": "0 1 2 3",
                                                              "flag_meanings": "quiet C M X"}),
         "split": ("sample", samples.split.astype(str))},
        attrs={"convention": samples.config.convention, "fingerprint": samples.fingerprint},
    )
    for j, t in enumerate(samples.targets):
        name = "target_" + t.replace(">=", "ge_").replace("@", "_")
        ds[name] = ("sample", samples.y[:, j].astype(np.int8), {"target": t})
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp)
    return path


def _assemble(grid: Grid, cat: Catalogue, cfg: SampleConfig, provenance: str, norm) -> Samples:
    L = cfg.window_steps
    window, horizon = cfg.window_length, cfg.horizon_length
    step = _td(cfg.cadence)
    end_index, region = window_ends(grid, L, pd.Timedelta(cfg.stride))
    issue = grid.step_end[end_index]
    dropped: dict[str, int] = {}

    def keep(reason: str, ok: np.ndarray) -> None:
        nonlocal end_index, region, issue
        dropped[reason] = int((~ok).sum())
        end_index, region, issue = end_index[ok], region[ok], issue[ok]

    data_start, data_end = grid.step_end.min() - step, grid.step_end.max()
    if cfg.source == "goes":
        # The catalogue comes from the same instrument: past the series' end it may still be incomplete.
        keep("horizon_beyond_data", issue + horizon <= data_end)
    else:
        keep("region_without_noaa_ar", np.array([bool(grid.region_ars.get(r)) for r in region.tolist()], bool))
    if features.data_look_back(cfg):
        # A background over a span cut short by the start of the data is another statistic (forecasts refuse it).
        keep("background_before_data", issue - window - features.data_look_back(cfg) >= data_start)
    first, last = cat.span
    keep("beyond_catalogue", (issue - features.catalogue_look_back(cfg) >= first) & (issue + horizon <= last))
    keep("too_much_missing", tolerated(window_missing(grid.missing, end_index, L), cfg.max_missing))

    runs = splits.plan(data_start, data_end, cfg.split)
    split = splits.assign(issue, window, horizon, runs, _td(cfg.split.extra_gap))
    keep("straddles_split_edge", split != "")
    split = split[split != ""]
    if cfg.source == "sharp":
        moved, _ = splits.regions_on_one_side(region, split)
        keep("region_in_other_split", moved != "")
        split = moved[moved != ""]
    if issue.size == 0:
        raise SampleError(
            f"no windows left from {data_start} to {data_end} (dropped: {dropped}); the data must span several "
            f"windows of {cfg.window} plus the horizon {cfg.horizon}, inside the catalogue's {first} to {last}"
        )

    label, y, prev_flux = _labels(cat, issue, region, grid.region_ars, cfg)
    train_steps = None
    if norm is None:
        train = split == "train"
        if not train.any():
            raise SampleError(f"the train split holds no windows (dropped: {dropped}): widen samples.split.train")
        train_steps = splits.covered_steps(end_index[train], L, grid.series.shape[1])
    series, mean, std = features.model_inputs(grid, cat, cfg, norm=norm, train_steps=train_steps)
    fp = hashlib.sha256(json.dumps([provenance, json.dumps(_fingerprinted(cfg), sort_keys=True, default=str)]).encode())
    return Samples(
        config=cfg, channels=tuple(cfg.channels), targets=cfg.target_names, series=series,
        step_end=grid.step_end, end_index=end_index.astype(np.int64), issue_time=issue, label=label, y=y,
        split=split.astype(str), region=region.astype(np.int32), prev_flux=prev_flux, norm_mean=mean, norm_std=std,
        fingerprint=fp.hexdigest()[:16], dropped=dropped, runs=[r.to_dict() for r in runs],
        gaps=gaps(grid, step),
    )



def _labels(cat: Catalogue, issue: np.ndarray, region: np.ndarray, region_ars, cfg: SampleConfig):
    """The ordinal label (the largest class over the horizon, or over all forecast days), the 0/1 targets
    ``[sample, target]`` of ``cfg.target_names`` and persistence's largest flux in (t - horizon, t]."""
    next_flux, prev_flux = labels.label_fluxes(cat, issue, _td(cfg.horizon), region, region_ars)
    if not cfg.days:
        label = classes.ordinal(next_flux, cfg.convention)
        return label, np.stack([label >= classes.TARGET_RANK[t] for t in cfg.targets], axis=1).astype(np.float32), \
            prev_flux
    per_day = classes.ordinal(labels.day_fluxes(cat, issue, cfg.days, cfg.day_windows, region, region_ars),
                              cfg.convention)
    y = np.stack([per_day[:, classes.split_target(t)[1] - 1] >= classes.target_rank(t) for t in cfg.target_names],
                 axis=1).astype(np.float32)
    return per_day.max(axis=1).astype(np.int8), y, prev_flux


def _td(text: str) -> np.timedelta64:
    return pd.Timedelta(text).to_timedelta64()


_ADDED_LATER = {"days": 0, "day_windows": "ut"}
"""Sample-config keys added after fingerprints were first written, with the values that mean what a config without
them meant: left out of the fingerprint at those values, so samples built as before keep their fingerprint (a
model trained before the keys existed still recognises its own training samples)."""


def _fingerprinted(cfg: SampleConfig) -> dict:
    """The sample config as the data fingerprint hashes it (see :data:`_ADDED_LATER`)."""
    dump = cfg.model_dump()
    return {k: v for k, v in dump.items() if not (k in _ADDED_LATER and v == _ADDED_LATER[k])}
