"""A forecast for every issue time: when the model's input is missing, fall back in a fixed order, and say so.

An operational centre publishes a probability every day; a gap in the X-ray record must not become a gap in the
forecasts. :func:`forecast_every` asks the first model (the *primary*) for every issue time; each full-disk issue
time it refuses (input outside the data or more missing than its card tolerates) is forecast by the first of:

1. ``fallback_model``: another of the given model directories whose own input is present at that time (its
   probability, threshold and base rate; its model id on the row): another full-disk model, or a combination
   (``flarecast combine``), e.g. a SHARP model's regions combined and recalibrated. A model of flare-history
   channels alone does not help here: its windows are built on the GOES grid, so the same gap refuses them;
   a raw SHARP model forecasts regions, so it must first be made full-disk by ``flarecast combine``;
2. ``catalogue_poisson``: the Poisson rule on the flare catalogue's recent history, ``P = 1 - exp(-lambda h)``
   with ``lambda = (n + 1/2) / L``, n the flares at or above the target class peaking in the look-back
   ``(t - L, t]`` (L = 27 days, one solar rotation) and h the horizon. It needs only the catalogue, which other
   observatories keep up when one satellite's X-ray record has a gap, and no training: it is the classical
   rate-based forecast (Gallagher et al. 2002; the Met Office's Poisson model), and ``n + 1/2`` (the posterior mean
   under Jeffreys' prior) keeps a flare-free month from giving a probability of exactly 0. It is used only where
   the catalogue starts before ``t - L`` and reaches into the look-back (its last peak after ``t - L``);
3. ``climatology``: the primary's training base rate (its card).

Those rows carry ``degraded: true``, ``method`` and ``reason`` (the primary's refusal); the primary's own rows carry
``degraded: false, method: "model"``. ``coverage_report`` counts the issue times by method. SHARP regions the
primary refuses stay in ``refused``: a region's missing input has no full-disk stand-in.

>>> doc = forecast_every(["models/goes", "models/history"], Inputs(store="data/store.zarr"),
...                      IssueTimes(start="2013-01-01", end="2013-12-31", every="1D"))  # doctest: +SKIP
>>> doc["coverage_report"]["by_method"]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flarecast import classes
from flarecast.errors import ConfigError, SampleError, StoreError
from flarecast.forecast import days
from flarecast.forecast.combine import forecast_combined, is_combination, read_combination
from flarecast.forecast.issue import card_samples, forecast
from flarecast.forecast.numbers import coherence, make_coherent
from flarecast.forecast.request import Inputs, IssueTimes, open_inputs
from flarecast.forecast.rows import degrade, make_row
from flarecast.ingest import store as st
from flarecast.model.modeldir import read_card
from flarecast.samples.labels import Catalogue
from flarecast.util import duration, utc

METHODS = ("model", "fallback_model", "catalogue_poisson", "climatology")
"""The fallback order; a row's ``method`` is the first that could forecast its issue time."""
POISSON_LOOKBACK = pd.Timedelta("27D")
"""Look-back of the catalogue rate: one synodic solar rotation, so every region on the disk was seen once."""


def forecast_every(model_dirs: Sequence[str | Path], inputs: Inputs, times: IssueTimes, *, device: str = "cpu",
                   lookback: str | pd.Timedelta = POISSON_LOOKBACK, trust_modified: bool = False) -> dict[str, Any]:
    """Forecast every requested issue time with the first model, falling back where its input is missing.

    ``inputs`` and ``times`` are those of :func:`flarecast.forecast.forecast`; ``model_dirs[0]`` is the primary, the
    others    are tried in order for its refused full-disk issue times; ``lookback`` is the catalogue rule's L.

    Returns
    -------
    dict
        The primary's forecast document with degraded rows added (sorted by issue time, region, target) and
        ``coverage_report``; ``refused`` keeps what no method could forecast (SHARP regions).
    """
    if not model_dirs:
        raise ConfigError("no model: give at least one model directory")
    look = duration(lookback, what="lookback")
    with open_inputs(inputs) as path:
        doc = forecast(model_dirs[0], Inputs(store=path), times, skip_refused=True, device=device,
                       trust_modified=trust_modified)
        rows = [degrade(r, "model", None) for r in doc["forecasts"]]
        gaps = {(r["issue_time"], t): r for r in doc["refused"]
                if r["region"] is None and r["reason"] != "region_too_young" for t in doc["targets"]}
        for other in model_dirs[1:]:
            if gaps:
                rows += _from_model(other, doc, gaps, path, device)
        cat = _catalogue(path) if gaps else None
    horizon = pd.Timedelta(doc["horizon"]).to_timedelta64()
    by_target = {t: (float(doc["thresholds"][t]), float(doc["climatology"][t])) for t in doc["targets"]}
    cfg = card_samples(read_card(model_dirs[0]), model_dirs[0]) if gaps else None
    for (t_iso, target), refusal in sorted(gaps.items()):
        t = utc(t_iso, what="issue time")
        # A forecast day's row keeps its day's window; the catalogue rule counts over that window's length.
        window = days.window(cfg, t, target) if cfg.days else None
        length = horizon if window is None else utc(window[1], what="t") - utc(window[0], what="t")
        p, method = _poisson(cat, t, target, length, look, doc["convention"])
        thr, base = by_target[target]
        if p is None:
            p, method = base, "climatology"
        rows.append(make_row(t_iso, horizon, target, p, threshold=thr, base_rate=base, coverage=refusal["coverage"],
                             model_id=doc["model_id"], convention=doc["convention"], method=method,
                             reason=refusal["detail"], window=window))
    order = {t: i for i, t in enumerate(doc["targets"])}
    rows.sort(key=lambda r: (r["issue_time"], -1 if r["region"] is None else r["region"], order[r["target"]]))
    doc["refused"] = [r for r in doc["refused"] if r["region"] is not None]
    doc["forecasts"] = rows
    lowered = make_coherent(rows)  # a fallback model may forecast some targets of an issue time, not all
    if lowered:
        doc["coherence"] = coherence(doc, lowered)
    doc["coverage_report"] = coverage_report(rows, doc["issue_times"])
    return doc


def coverage_report(rows: list[dict[str, Any]], issue_times: int) -> dict[str, Any]:
    """Issue times by the lowest method any of their rows needed (climatology below the catalogue, ...)."""
    worst: dict[str, int] = {}
    for r in rows:
        rank = METHODS.index(r.get("method", "model")) if r.get("method", "model") in METHODS else 0
        worst[r["issue_time"]] = max(worst.get(r["issue_time"], 0), rank)
    by = {m: sum(1 for v in worst.values() if v == k) for k, m in enumerate(METHODS)}
    degraded = len(worst) - by["model"]
    return {"issue_times": issue_times, "by_method": by, "degraded": degraded,
            "undegraded_fraction": round(by["model"] / issue_times, 4) if issue_times else 0.0}


def _from_model(model_dir, primary: dict, gaps: dict, store: Path, device: str) -> list[dict[str, Any]]:
    """Rows of another model at the primary's gaps that it can forecast (its grid, its input); gaps shrink."""
    if is_combination(model_dir):
        card = read_combination(model_dir)
        horizon, convention, step = card.horizon, card.convention, 1
    else:
        cfg = card_samples(read_card(model_dir), model_dir)
        if cfg.source == "sharp":
            raise ConfigError(f"fallback model {model_dir} forecasts regions, not the full disk: fit its full-disk "
                              f"recalibration with `flarecast combine {model_dir} ...` and give that directory")
        horizon, convention, step = cfg.horizon, cfg.convention, pd.Timedelta(cfg.cadence).value
    if (pd.Timedelta(horizon), convention) != (pd.Timedelta(primary["horizon"]), primary["convention"]):
        raise ConfigError(f"fallback model {model_dir} forecasts {horizon} ahead in {convention!r} classes; "
                          f"the first model {primary['horizon']} in {primary['convention']!r}: give fallback models "
                          "of the same horizon and class convention")
    times = sorted({t for t, _ in gaps if utc(t, what="issue time").astype(np.int64) % step == 0})
    if not times:
        return []
    try:
        at = IssueTimes(at=times)
        doc = (forecast_combined(model_dir, store, at, device=device) if is_combination(model_dir)
               else forecast(model_dir, Inputs(store=store), at, skip_refused=True, device=device))
    except (SampleError, StoreError):  # the store lacks this model's kind of input altogether
        return []
    out = []
    for r in doc["forecasts"]:
        key = (r["issue_time"], r["target"])
        if r["region"] is None and key in gaps:
            out.append(degrade(r, "fallback_model", gaps.pop(key)["detail"]))
    return out


def _catalogue(store: Path) -> Catalogue | None:
    try:
        return Catalogue.from_events(st.read_events(store)).one_per_peak()
    except (SampleError, StoreError):
        return None


def _poisson(cat: Catalogue | None, t: np.datetime64, target: str, horizon: np.timedelta64, look: pd.Timedelta,
             convention: str) -> tuple[float | None, str]:
    """The catalogue rule's probability at t, or None where the catalogue does not cover the look-back."""
    lo = t - look.to_timedelta64()
    if cat is None or cat.span[0] > lo or cat.span[1] <= lo:
        return None, "climatology"
    a, b = np.searchsorted(cat.peak, lo, side="right"), np.searchsorted(cat.peak, t, side="right")
    n = int((classes.ordinal(cat.flux[a:b], convention) >= classes.target_rank(target)).sum())
    rate = (n + 0.5) / (look / pd.Timedelta("1D"))
    return float(1.0 - np.exp(-rate * (pd.Timedelta(horizon) / pd.Timedelta("1D")))), "catalogue_poisson"

