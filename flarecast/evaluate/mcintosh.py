"""The McIntosh-Poisson baseline on full-disk windows, for ``evaluate`` and ``compare`` beside persistence and
climatology, where the store holds NOAA region reports (``flarecast ingest regions``).

Rates per McIntosh class are fitted on the reports issued inside the model's training runs (labelled by the
catalogue's region numbers, :mod:`flarecast.samples.regions`); a window issued at t takes the latest report at
or before t (an SRS is issued daily at 00:30 UTC) and forecasts ``1 - exp(-sum of its regions' rates x
horizon)``, the full-disk form of Gallagher et al. (2002): 1 - prod(1 - p_region). A window with no report in
the :data:`STALE` before it gets the training period's mean over reports. The threshold is chosen on the
validation windows by the model card's rule. SHARP windows are not scored with it (a HARP is not one NOAA
region); ``notes`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from flarecast.errors import SampleError
from flarecast.evaluate.baselines import McIntoshPoisson, fit_mcintosh
from flarecast.ingest import store as st
from flarecast.metrics import ThresholdRule
from flarecast.samples.build import Samples
from flarecast.samples.labels import Catalogue
from flarecast.samples.regions import DAY, region_samples, regions_frame

STALE = np.timedelta64(48, "h")
"""A report older than this at a window's issue time is not used (a missing day of SRS)."""


@dataclass(frozen=True)
class McIntoshWindows:
    """The fitted rates, each report's summed rate per target, and the thresholds chosen on validation."""

    fit: McIntoshPoisson
    report_time: np.ndarray
    disk_rate: dict[str, np.ndarray]
    mean_rate: dict[str, float]
    thresholds: dict[str, float]
    n_train_reports: int

    def predict(self, samples: Samples, idx: np.ndarray) -> np.ndarray:
        """``[len(idx), targets]`` full-disk probabilities for windows of ``samples``."""
        t = samples.issue_time[idx]
        k = np.searchsorted(self.report_time, t, side="right") - 1
        fresh = (k >= 0) & (t - self.report_time[np.maximum(k, 0)] <= STALE)
        days = pd.Timedelta(samples.config.horizon) / pd.Timedelta(days=1)
        out = np.empty((t.size, len(samples.targets)))
        for j, target in enumerate(samples.targets):
            rate = np.where(fresh, self.disk_rate[target][np.maximum(k, 0)], self.mean_rate[target])
            out[:, j] = -np.expm1(-rate * days)
        return out

    def describe(self) -> dict[str, Any]:
        """What ``metrics.json`` records about the fit."""
        return {"train_reports": self.n_train_reports, "thresholds": dict(self.thresholds),
                "classes_with_own_rate": {t: len(r) for t, r in self.fit.rates.items()},
                "min_region_days": self.fit.min_days}


def _in_runs(t: np.ndarray, runs: list[dict], split: str) -> np.ndarray:
    hit = np.zeros(t.size, bool)
    for r in runs:
        if r["split"] == split:
            hit |= (t >= np.datetime64(pd.Timestamp(r["from"]).tz_localize(None), "ns")) & (
                t < np.datetime64(pd.Timestamp(r["to"]).tz_localize(None), "ns"))
    return hit


def fit_windows(regions: xr.Dataset, events: xr.Dataset, samples: Samples, *,
                threshold_score: str = "hss") -> McIntoshWindows | None:
    """Fit on the reports of ``samples``' train runs; choose thresholds on its val windows. None when no
    report falls in a train run (the store's reports and the model's training period do not meet)."""
    frame = regions_frame(regions)
    cat = Catalogue.from_events(events)
    try:
        rs = region_samples(frame, cat, horizon=DAY, convention=samples.config.convention)
    except SampleError:  # no report inside the catalogue's span: the baseline is left out
        return None
    t = rs.table["time"].to_numpy("datetime64[ns]")
    train = _in_runs(t, samples.runs, "train")
    if not train.any():
        return None
    targets = tuple(samples.targets)
    fit = fit_mcintosh(rs.table["mcintosh"].astype(str).to_numpy()[train], {g: rs.counts(g)[train] for g in targets},
                       1.0)
    per_report = frame.groupby("time", sort=True)["mcintosh"].agg(list)
    report_time = per_report.index.to_numpy("datetime64[ns]")
    disk = {g: np.array([fit.rate(ks, g).sum() for ks in per_report]) for g in targets}
    in_train = _in_runs(report_time, samples.runs, "train")
    mean = {g: float(disk[g][in_train].mean()) if in_train.any() else float(disk[g].mean()) for g in targets}
    base = McIntoshWindows(fit, report_time, disk, mean, dict.fromkeys(targets, 0.5), int(train.sum()))
    val = samples.indices("val")
    if val.size:
        p = base.predict(samples, val)
        rule = ThresholdRule.parse(threshold_score)
        base = McIntoshWindows(fit, report_time, disk, mean,
                               {g: rule.choose(samples.y[val, j], p[:, j]) for j, g in enumerate(targets)},
                               int(train.sum()))
    return base


def fit_from_store(store, samples: Samples, *, threshold_score: str = "hss") -> tuple[McIntoshWindows | None, str | None]:
    """:func:`fit_windows` on the store's region reports and catalogue, or None and why not (None and no reason
    when the store holds no region reports: nothing to say, as for any store before this baseline existed)."""
    if st.group_attrs(store, "regions") is None or st.group_attrs(store, "events") is None:
        return None, None
    if samples.config.source != "goes":
        return None, "mcintosh baseline omitted: it forecasts the full disk, and these are region (SHARP) windows"
    fit = fit_windows(st.read_regions(store), st.read_events(store), samples, threshold_score=threshold_score)
    if fit is None:
        return None, ("mcintosh baseline omitted: no region report of the store falls in the model's training "
                      "runs inside the flare catalogue")
    return fit, None
