"""Region samples: one per NOAA region per report (the store's ``regions`` group), labelled from the catalogue.

A sample is issued at the report's time t (an SRS is issued at 00:30 UTC). Its label is the largest flare the
catalogue attributes to the region (``noaa_ar``) peaking in (t, t + horizon]; its flare history is the region's
own flares before t. The catalogue vouches only for the span it covers: samples whose label interval leaves
it are dropped, as for windows (:mod:`flarecast.samples.labels`).

Limb and disk passage. An SRS lists the regions on the visible disk, so a region is sampled from the first
report after it rotates on (or forms) until the last before it rotates off; a region is never sampled while
behind the limb. Flares of a region near the west limb are still attributed to it for about a day after it
crosses (observers number them by the region they know), so its last reports keep their labels; flares of a
region that has rotated on at the east limb but has no number yet are in no region's label. Both are why the
full-disk forecast from regions is combined with the X-ray flux (:mod:`flarecast.forecast.combine`), and
why ``longitude`` is a feature: a region at W70 has less than a day left on the disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from flarecast import classes
from flarecast.errors import SampleError
from flarecast.samples.labels import Catalogue, next_and_previous, range_max

if TYPE_CHECKING:  # xarray is imported where a Dataset is built: a forecast reads its inputs without it
    import xarray as xr

DAY = np.timedelta64(1, "D")
ZURICH, PENUMBRA, COMPACTNESS = "ABCDEFH", "XRSAHK", "XOIC"
"""McIntosh class components, in the order of growing complexity McIntosh (1990) gives."""

HISTORY_DAYS = (1, 3)
"""Look-backs (days) of the flare-history features."""


@dataclass(frozen=True)
class RegionSamples:
    """Region reports with labels: ``table`` has one row per (time, region) with the report's columns,
    ``flux_next`` (the largest true peak flux of the region's flares in (t, t + horizon], NaN: none),
    ``flux_prev`` (the same over (t - horizon, t]: persistence), ``count_next>=C`` (and ``>=M``, ``X``: the
    number of the region's flares of the class in the horizon) and the history features
    (:func:`history_features`); ``horizon`` is the label's length."""

    table: pd.DataFrame
    horizon: np.timedelta64
    convention: str
    days: int = 1

    def labels(self, target: str) -> np.ndarray:
        """0/1 per sample: the region's largest flare in the horizon reaches ``target`` (``">=C"``, ...); for a
        later day's target (``">=M@d2"``) its largest flare in (t + (d - 1) horizon, t + d horizon]."""
        cls, day = classes.split_target(target)
        column = "flux_next" if day <= 1 else f"flux_next_d{day}"
        if column not in self.table.columns:
            raise SampleError(f"target {target!r}: the region samples hold {self.days} day(s) of labels: build "
                              f"them with days={day}")
        return (classes.ordinal(self.table[column].to_numpy(), self.convention)
                >= classes.TARGET_RANK[cls]).astype(np.int8)

    def counts(self, target: str) -> np.ndarray:
        """Number of the region's flares reaching ``target`` in (t, t + horizon] per sample (Poisson rates)."""
        return self.table[f"count_next{target}"].to_numpy(np.float64)

    def persistence(self, target: str) -> np.ndarray:
        """1.0 where the region's largest flare of the previous horizon reached ``target``, else 0.0."""
        return (classes.ordinal(self.table["flux_prev"].to_numpy(), self.convention)
                >= classes.TARGET_RANK[target]).astype(np.float64)


def regions_frame(regions: xr.Dataset) -> pd.DataFrame:
    """The ``regions`` group as a table sorted by (time, region)."""
    frame = regions.to_dataframe().reset_index(drop=True)
    return frame.sort_values(["time", "region"], kind="stable", ignore_index=True)


def region_samples(regions: pd.DataFrame, cat: Catalogue, *, horizon: np.timedelta64 = DAY,
                   convention: str = "swpc", days: int = 1) -> RegionSamples:
    """Label each report row of ``regions`` from ``cat`` and add its flare-history features.

    ``days`` > 1 adds the labels of the following horizons, ``flux_next_d2``... (the region's largest flare in
    (t + (d - 1) horizon, t + d horizon]; a region that has rotated off the disk by then flares in no label, which
    its longitude tells the model), and keeps only reports whose last day the catalogue covers.

    Raises
    ------
    SampleError
        When no report lies inside the catalogue's span.
    """
    t = regions["time"].to_numpy("datetime64[ns]")
    first, last = cat.span
    inside = (t - horizon >= first) & (t + days * horizon <= last)
    if not inside.any():
        raise SampleError(f"no region report lies inside the flare catalogue's span {first}..{last} "
                          f"(reports {t.min() if t.size else 'none'}..{t.max() if t.size else ''}): ingest the "
                          "catalogue of the reports' years")
    table = regions[inside].reset_index(drop=True).copy()
    t = table["time"].to_numpy("datetime64[ns]")
    nxt = np.full(len(table), np.nan)
    later = {d: np.full(len(table), np.nan) for d in range(2, days + 1)}
    ahead = {t_: np.zeros(len(table)) for t_ in classes.TARGET_RANK}
    own_flares = cat.one_per_peak()
    for region, idx in table.groupby("region").indices.items():
        own = own_flares.of_regions([region])
        nxt[idx] = range_max(own.peak, own.flux, t[idx], t[idx] + horizon)
        for d in range(2, days + 1):
            later[d][idx] = range_max(own.peak, own.flux, t[idx] + (d - 1) * horizon, t[idx] + d * horizon)
        r = classes.ordinal(own.flux, convention) if own.peak.size else np.zeros(0)
        for target, at_least in classes.TARGET_RANK.items():
            peaks = own.peak[r >= at_least]
            ahead[target][idx] = (np.searchsorted(peaks, t[idx] + horizon, side="right")
                                  - np.searchsorted(peaks, t[idx], side="right"))
    table["flux_next"] = nxt
    for d, v in later.items():
        table[f"flux_next_d{d}"] = v
    table = table.join(region_history(table, cat, horizon=horizon, convention=convention))
    for target, v in ahead.items():
        table[f"count_next{target}"] = v
    table = table.join(history_features(table))
    return RegionSamples(table, horizon, convention, days)


EVENT_COLUMNS = ("c_events", "m_events", "x_events")
"""SWPC's counts of a region's C, M and X flares on the day a ``solar_regions.json`` record describes."""


def region_history(table: pd.DataFrame, cat: Catalogue | None, *, horizon: np.timedelta64 = DAY,
                   convention: str = "swpc") -> pd.DataFrame:
    """The flare history of each report row: ``flux_prev`` (the region's largest catalogue flare in
    (t - horizon, t], NaN: none), ``n_c_1d``, ``n_m_1d``, ``n_c_3d``, ``n_m_3d`` (its flares of class C or above and M
    or above over the last 1 and 3 days) and ``prev_rank`` (the class of its largest flare of the last day:
    0 below C, 1 C, 2 M, 3 X).

    Two sources. A row with SWPC's event counts (``c_events``...: ``solar_regions.json``, whose flare list names
    no region) takes them: the 1-day counts and rank from its own record (the day before its issue time), the
    3-day counts summed over the region's records in (t - 3 days, t]. Other rows (SRS text, the archive) count
    the catalogue's flares naming the region (``noaa_ar``); ``cat`` None counts none.
    """
    n = len(table)
    t = table["time"].to_numpy("datetime64[ns]")
    out = {k: np.zeros(n) for k in ("n_c_1d", "n_m_1d", "n_c_3d", "n_m_3d", "prev_rank")}
    out["flux_prev"] = np.full(n, np.nan)
    if cat is not None:
        cat = cat.one_per_peak()
        for region, idx in table.groupby("region").indices.items():
            own = cat.of_regions([region])
            out["flux_prev"][idx] = range_max(own.peak, own.flux, t[idx] - horizon, t[idx])
            r = classes.ordinal(own.flux, convention) if own.peak.size else np.zeros(0)
            for c, at_least in (("c", 1), ("m", 2)):
                peaks = own.peak[r >= at_least]
                for d in HISTORY_DAYS:
                    out[f"n_{c}_{d}d"][idx] = (np.searchsorted(peaks, t[idx], side="right")
                                               - np.searchsorted(peaks, t[idx] - d * DAY, side="right"))
        prev = out["flux_prev"]
        out["prev_rank"] = np.where(np.isfinite(prev), classes.ordinal(np.nan_to_num(prev), convention), 0)
    have = [c for c in EVENT_COLUMNS if c in table.columns]
    fed = table[have].notna().any(axis=1).to_numpy() if have else np.zeros(n, dtype=bool)
    if fed.any():
        ev = {c: (table[c].fillna(0).to_numpy(float) if c in have else np.zeros(n)) for c in EVENT_COLUMNS}
        day_c, day_m = ev["c_events"] + ev["m_events"] + ev["x_events"], ev["m_events"] + ev["x_events"]
        out["n_c_1d"][fed], out["n_m_1d"][fed] = day_c[fed], day_m[fed]
        out["prev_rank"][fed] = np.select([ev["x_events"] > 0, ev["m_events"] > 0, ev["c_events"] > 0],
                                          [3, 2, 1], 0)[fed]
        for _region, idx in table[fed].groupby("region").indices.items():
            rows = np.flatnonzero(fed)[idx]
            order = rows[np.argsort(t[rows], kind="stable")]
            for c, daily in (("c", day_c), ("m", day_m)):
                csum = np.r_[0.0, np.cumsum(daily[order])]
                lo = np.searchsorted(t[order], t[order] - 3 * DAY, side="right")
                out[f"n_{c}_3d"][order] = csum[np.arange(1, order.size + 1)] - csum[lo]
    return pd.DataFrame(out, index=table.index)


def history_features(table: pd.DataFrame) -> pd.DataFrame:
    """Per report: days since the region's first report, the change of area since its previous report, and
    whether this is its first report (a region new on the disk or newly formed)."""
    g = table.groupby("region", sort=False)
    first = g["time"].transform("min").to_numpy("datetime64[ns]")
    age = (table["time"].to_numpy("datetime64[ns]") - first) / DAY
    d_area = (table["area"] - g["area"].shift(1)).fillna(0.0)
    return pd.DataFrame({"age_days": age, "d_area": d_area.to_numpy(), "new": (age == 0).astype(float)},
                        index=table.index)


def home_year(region: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Each report's fold: the year holding most of its region's reports (ties: the earlier year)."""
    frame = pd.DataFrame({"region": region, "year": pd.DatetimeIndex(time).year})
    mode = frame.groupby("region")["year"].agg(lambda y: y.value_counts().sort_index().idxmax())
    return frame["region"].map(mode).to_numpy()


def mcintosh_parts(mcintosh) -> np.ndarray:
    """``["Dai", ...]`` -> ``[n, 3]`` component ranks (Zurich 0-6, penumbra 0-5, compactness 0-3), -1 unknown."""
    out = np.full((len(mcintosh), 3), -1, dtype=np.int8)
    for i, text in enumerate(mcintosh):
        s = str(text).upper()
        if len(s) == 3:
            for j, letters in enumerate((ZURICH, PENUMBRA, COMPACTNESS)):
                out[i, j] = letters.find(s[j])
    return out


FEATURES = ("log_area", "log_spots", "extent", "abs_lat", "longitude", "zurich", "penumbra", "compactness",
            "gamma", "delta", "log_prev", "n_c_1d", "n_m_1d", "n_c_3d", "n_m_3d", "age_days", "d_area", "new")
"""Report and flare-history features of the region model, in column order."""

FEED_FEATURES = tuple("prev_rank" if f == "log_prev" else f for f in FEATURES)
"""The features SWPC's files give (``solar_regions.json`` with its event counts): the largest flare of the last
day is known by its class only (``prev_rank``), not its peak flux (``log_prev``). The saved region model
(``flarecast train-regions``) uses these, so that ``forecast --latest`` from ``fetch swpc`` files can use it."""


def feature_matrix(samples: RegionSamples | pd.DataFrame, features=FEATURES) -> np.ndarray:
    """``[n, len(features)]`` float matrix: report values (log area and spot count, McIntosh component ranks,
    Hale gamma and delta flags, position) and the region's flare history (log of the largest peak flux of the
    previous horizon, -9 without one, or its class rank; C and M counts over 1 and 3 days; age; area change).
    ``samples`` is region samples or a table with their report and history columns (:func:`region_history`,
    :func:`history_features`)."""
    t = samples.table if isinstance(samples, RegionSamples) else samples
    parts = mcintosh_parts(t["mcintosh"].tolist()).astype(float)
    hale = t["hale"].astype(str).str.upper()
    prev = t["flux_prev"].to_numpy()
    cols = {
        "log_area": np.log10(1 + t["area"].fillna(0).to_numpy()),
        "log_spots": np.log10(1 + t["spots"].fillna(0).to_numpy()),
        "extent": t["extent"].fillna(0).to_numpy(),
        "abs_lat": np.abs(t["latitude"].fillna(0).to_numpy()),
        "longitude": t["longitude"].fillna(0).to_numpy(),
        "zurich": parts[:, 0], "penumbra": parts[:, 1], "compactness": parts[:, 2],
        "gamma": hale.str.contains("GAMMA").to_numpy(float), "delta": hale.str.contains("DELTA").to_numpy(float),
        "log_prev": np.where(np.isfinite(prev), np.log10(np.where(np.isfinite(prev), prev, 1.0)), -9.0),
        **{k: t[k].to_numpy(float) for k in ("n_c_1d", "n_m_1d", "n_c_3d", "n_m_3d", "age_days", "d_area", "new",
                                              "prev_rank")},
    }
    return np.column_stack([cols[f] for f in features]).astype(np.float64)


def full_disk(time: np.ndarray, p_region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Combine per-region probabilities into one per report time: 1 - prod(1 - p) over the regions of each
    report (regions taken as independent, as in Gallagher et al. 2002). Returns (report times, probabilities)."""
    frame = pd.DataFrame({"time": time, "q": np.log1p(-np.clip(p_region, 0.0, 1.0 - 1e-12))})
    s = frame.groupby("time", sort=True)["q"].sum()
    return s.index.to_numpy("datetime64[ns]"), -np.expm1(s.to_numpy())


def flux_features(goes: xr.Dataset, cat: Catalogue, t: np.ndarray, convention: str) -> np.ndarray:
    """Full-disk features at each time: log10 of the largest XRS-B over the last 24 h and 6 h and of the last
    value (missing: the median of the rest), and the largest catalogue flare and C/M counts of the last day."""
    gt = np.asarray(goes["time"].values, dtype="datetime64[ns]")
    flux = np.asarray(goes["xrsb"].values, dtype=float)
    ok = np.isfinite(flux) & (flux > 0)
    gt, flux = gt[ok], flux[ok]
    day, six = np.timedelta64(24, "h"), np.timedelta64(6, "h")
    cols = [range_max(gt, flux, t - day, t), range_max(gt, flux, t - six, t),
            range_max(gt, flux, t - np.timedelta64(1, "h"), t)]
    _, prev = next_and_previous(cat, t, day)
    cols.append(prev)
    out = np.log10(np.column_stack(cols))
    for j in range(out.shape[1]):
        col = out[:, j]
        fill = -9.0 if j == 3 else (np.nanmedian(col) if np.isfinite(col).any() else -7.0)
        out[~np.isfinite(col), j] = fill
    rank = classes.ordinal(cat.flux, convention)
    for at_least in (1, 2):
        peaks = cat.peak[rank >= at_least]
        n = np.searchsorted(peaks, t, side="right") - np.searchsorted(peaks, t - day, side="right")
        out = np.column_stack([out, n])
    return out
