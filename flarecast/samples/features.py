"""The one feature pipeline: raw channels on a step grid -> the normalised model inputs.

Training samples (:func:`flarecast.samples.samples_from_store`) and the windows a forecast or backtest is issued
from (:func:`flarecast.samples.windows_at`) both pass their :class:`~flarecast.samples.grid.Grid` through
:func:`model_inputs`: the flare-history rows are filled from the catalogue, the statistics are the training
windows' (or the model card's), masked values become the training mean (0 after normalising) and the
``missing`` channel says where. What evaluation scored is what a forecast feeds the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from flarecast.config import SampleConfig, background_span, history_channel
from flarecast.errors import SampleError
from flarecast.samples import labels, splits
from flarecast.samples.grid import Grid
from flarecast.samples.labels import FULL_DISK, Catalogue

_CHUNK = 2**18  # steps per history pass: bounded temporaries for decades of 1-minute steps


def uses_history(cfg: SampleConfig) -> bool:
    """Whether any channel is read from the flare catalogue (then the catalogue must cover the look-back)."""
    return any(map(history_channel, cfg.channels))


def catalogue_look_back(cfg: SampleConfig) -> np.timedelta64:
    """How far before an issue time the catalogue must reach: window + the longest history span (a regime
    channel's own, ``history_ge_m_27d``, or ``samples.history``), or 0 without history."""
    spans = [pd.Timedelta(h[1] or cfg.history) for h in map(history_channel, cfg.channels) if h]
    if not spans:
        return np.timedelta64(0, "ns")
    return (pd.Timedelta(cfg.window_length) + max(spans)).to_timedelta64()


def data_look_back(cfg: SampleConfig) -> np.timedelta64:
    """How far before a window's first step its channels read the series itself (a background channel's span;
    0 without one): the data, and a forecast's reading of them, must start that much earlier."""
    spans = [pd.Timedelta(s) for s in map(background_span, cfg.channels) if s]
    return max(spans, default=pd.Timedelta(0)).to_timedelta64()


def fill_history(grid: Grid, cat: Catalogue | None, cfg: SampleConfig) -> None:
    """Write the flare-history rows of ``grid.series`` in place (full-disk: every flare; a region: its own)."""
    rows = [i for i, c in enumerate(cfg.channels) if history_channel(c)]
    if not rows:
        return
    if cat is None:
        raise SampleError(f"samples.channels {[cfg.channels[i] for i in rows]} are read from the flare catalogue, "
                          "and none was given: ingest a catalogue (flarecast ingest events PATH)")
    names = [cfg.channels[i] for i in rows]
    span = pd.Timedelta(cfg.history).to_timedelta64()
    for region, a, b in grid.segments.tolist():
        own = cat if region == FULL_DISK else cat.of_regions(grid.region_ars.get(region, []))
        for lo in range(a, b, _CHUNK):
            hi = min(b, lo + _CHUNK)
            grid.series[rows, lo:hi] = labels.history(names, own, grid.step_end[lo:hi], span, cfg.convention)


def normalise(series: np.ndarray, mean: np.ndarray, std: np.ndarray) -> None:
    """``(x - mean) / std`` per channel in place, row by row (no second [channel, step] array); NaN -> 0."""
    for row, m, sd in zip(series, mean, std, strict=True):
        row -= m
        row /= sd
        row[~np.isfinite(row)] = 0.0


def model_inputs(grid: Grid, cat: Catalogue | None, cfg: SampleConfig, *, norm=None,
                 train_steps: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fill the history rows and normalise ``grid.series`` in place; return it with the statistics used.

    ``norm`` (mean, std per channel, from a model card) is applied as given; without it the statistics are
    computed over ``train_steps`` (the steps the training windows cover) and nothing else.
    """
    fill_history(grid, cat, cfg)
    series = grid.series
    if norm is None:
        if train_steps is None:
            raise SampleError("model_inputs needs norm (from a model card) or train_steps (to compute it)")
        mean, std = splits.norm_stats(series, train_steps, cfg.channels)
    else:
        mean, std = (np.asarray(v, dtype=np.float32) for v in norm)
        if mean.shape != (len(cfg.channels),) or std.shape != mean.shape:
            raise SampleError(f"normalisation has {mean.size} channels, the config {len(cfg.channels)} "
                              f"({list(cfg.channels)}): use the model's own config and card")
    normalise(series, mean, std)
    return series, mean, std
