"""``flarecast dashboard``: gather the morning page's data (forecasts, XRS, catalogue, cards) and write
``DIR/index.html`` (rendered by :mod:`flarecast.report.dashboard`) beside ``DIR/forecast.json``, the forecast
document of the first model that the page shows.

The issue time is ``at``, or the first model's latest (``latest``). Every model is forecast at the last time on
its own step grid at or before it (a combination at that time itself); the first model with its fallbacks, the
others alone. The 30-day history is the first model's forecast at the same time of day on each of the 30 days
before, each judged against the catalogue once its window has ended ("pending" until then).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flarecast import classes
from flarecast.errors import ConfigError, SampleError, StoreError
from flarecast.forecast.combine import (
    forecast_combined,
    is_combination,
    read_combination,
    regions_to_full_disk,
)
from flarecast.forecast.fallback import forecast_every
from flarecast.forecast.issue import card_samples
from flarecast.forecast.request import Inputs, IssueTimes
from flarecast.ingest import store as st
from flarecast.jsonio import dumps
from flarecast.model.modeldir import model_id, read_card
from flarecast.report.dashboard import render
from flarecast.report.days import day_table
from flarecast.samples import labels
from flarecast.samples.labels import Catalogue
from flarecast.util import atomic_write_bytes, iso, utc

XRS_DAYS = 7
HISTORY_DAYS = 30


def dashboard(models: Sequence[str | Path], *, store: str | Path, at: str | None = None, latest: bool = False,
              out: str | Path, device: str = "cpu") -> Path:
    """Write ``out/index.html`` and ``out/forecast.json``; return the page's path."""
    if not models:
        raise ConfigError("no model: give at least one model directory")
    if (at is None) == (not latest):
        raise ConfigError("choose the issue time one way: --at T or --latest")
    first = _forecast(models, 0, store, [at] if at else [], latest, device)
    if not first["forecasts"]:
        raise SampleError(f"model {models[0]} could not forecast {at or 'the latest time'}: "
                          f"{(first['refused'] or [{'detail': 'no data'}])[0]['detail']}")
    t_iso = first["forecasts"][0]["issue_time"]
    t = utc(t_iso, what="issue time")
    docs = [first] + [_forecast(models, k, store, [_on_grid(m, t)], False, device) for k, m in enumerate(models)
                      if k > 0]
    latest_rows, region_rows = [], []
    for m, doc in zip(models, docs, strict=True):
        name = f"{Path(m).name} ({doc['model_id']})"
        full = regions_to_full_disk(doc, [_on_grid(m, t)]) if doc["source"] == "sharp" else {}
        for (_, target), p in full.items():
            # The card's threshold and base rate are a region's: no full-disk decision without recalibration.
            latest_rows.append({"model": name, "target": target, "probability": p, "threshold": None,
                                "decision": None, "base_rate": None, "method": "regions: 1 - prod(1 - p_i), "
                                "not recalibrated", "degraded": False, "reason": None})
        for r in doc["forecasts"]:
            if r["region"] is None:
                latest_rows.append({"model": name, **{k: r[k] for k in ("target", "probability", "threshold",
                                                                         "decision")},
                                    "base_rate": r["base_rate"], "method": r.get("method", "model"),
                                    "degraded": r.get("degraded", False), "reason": r.get("reason"),
                                    "rule": _rule(m) if r.get("method", "model") == "model" else None})
            else:
                region_rows.append({"model": name, "harp": r["region"], **{k: r[k] for k in (
                    "noaa_ars", "target", "probability", "threshold", "decision")}})
    cat = _catalogue(store)
    page = {"title": "flarecast: solar flare forecast", "issue_time": t_iso, "store": str(store),
            "latest": latest_rows, "regions": region_rows, "xrs": _xrs(store, cat, t, first["convention"]),
            "history": _history(models, store, t, cat, device), "cards": {f"{Path(m).name}": _card_rows(m)
                                                                          for m in models},
            "days": day_table(first, t_iso),
            "notes": [f"Classes in the {first['convention']!r} convention; forecasts of the largest flare in "
                      f"(t, t + {first['horizon']}]."]}
    out = Path(out)
    atomic_write_bytes(out / "forecast.json", (dumps(first) + "\n").encode())
    atomic_write_bytes(out / "index.html", render(page).encode())
    return out / "index.html"


def _forecast(models, k: int, store, at: list[str], latest: bool, device: str) -> dict[str, Any]:
    m = models[k]
    if is_combination(m):
        return forecast_combined(m, store, IssueTimes(at=at, latest=latest), device=device)
    # The first model falls back on the other full-disk ones (region models cannot stand in for the disk);
    # the others are shown as they are.
    chain = list(models[k:k + 1]) + ([x for x in models[1:] if _full_disk(x)] if k == 0 else [])
    return forecast_every(chain, Inputs(store=store), IssueTimes(at=at, latest=latest), device=device)


def _full_disk(model_dir) -> bool:
    return is_combination(model_dir) or read_card(model_dir).run_config().samples.source == "goes"


def _on_grid(model_dir, t: np.datetime64) -> str:
    if is_combination(model_dir):
        return iso(t)
    step = pd.Timedelta(card_samples(read_card(model_dir), model_dir).cadence).value
    return iso(np.datetime64(int(t.astype(np.int64) // step * step), "ns"))


def _catalogue(store) -> Catalogue | None:
    try:
        return Catalogue.from_events(st.read_events(store)).one_per_peak()
    except (SampleError, StoreError):
        return None


def _xrs(store, cat: Catalogue | None, t: np.datetime64, convention: str) -> dict[str, Any] | None:
    try:
        goes = st.read_goes(store)
    except StoreError:
        return None
    lo = t - np.timedelta64(XRS_DAYS, "D")
    sub = goes.sel(time=slice(lo, t))
    if sub["time"].size == 0:
        return None
    peaks, flux = np.zeros(0, "datetime64[ns]"), np.zeros(0)
    if cat is not None:
        sel = (cat.peak > lo) & (cat.peak <= t) & (classes.ordinal(cat.flux, convention) >= 1)
        peaks, flux = cat.peak[sel], cat.flux[sel]
    return {"time": sub["time"].values, "xrsb": sub["xrsb"].values,
            "xrsa": sub["xrsa"].values if "xrsa" in sub else None, "flares": (peaks, flux), "convention": convention}


def _history(models, store, t: np.datetime64, cat: Catalogue | None, device: str) -> list[dict[str, Any]]:
    start = t - np.timedelta64(HISTORY_DAYS, "D")
    times = IssueTimes(start=iso(start), end=iso(t), every="1D")
    doc = (forecast_combined(models[0], store, times, device=device) if is_combination(models[0])
           else forecast_every(list(models[:1]), Inputs(store=store), times, device=device))
    rows = [r for r in doc["forecasts"] if r["region"] is None]
    if doc["source"] == "sharp":
        times = sorted({r["issue_time"] for r in doc["forecasts"]})
        rows = [{"issue_time": ti, "target": g, "probability": p, "threshold": float(doc["thresholds"][g]),
                 "valid_to": iso(utc(ti, what="t") + pd.Timedelta(doc["horizon"]).to_timedelta64())}
                for (ti, g), p in regions_to_full_disk(doc, times).items()]
    out = []
    for r in rows:
        # A forecast day's window is its own (valid_from, valid_to], not the issue time's.
        ti, tv = utc(r.get("valid_from") or r["issue_time"], what="t"), utc(r["valid_to"], what="t")
        observed = None
        if cat is not None and tv <= t:
            peak = labels.range_max(cat.peak, cat.flux, np.array([ti]), np.array([tv]))
            observed = bool(classes.ordinal(peak, doc["convention"])[0] >= classes.target_rank(r["target"]))
        out.append({"issue_time": r["issue_time"], "target": r["target"], "probability": r["probability"],
                    "threshold": r["threshold"], "observed": observed})
    return sorted(out, key=lambda r: (r["target"], r["issue_time"]))


def _rule(m) -> str | None:
    """How the model's thresholds were chosen, as the reports say it; None for a combination."""
    return None if is_combination(m) else read_card(m).rule().sentence()


def _card_rows(m) -> list[tuple[str, str]]:
    if is_combination(m):
        c = read_combination(m)
        return [("kind", "combination (flarecast combine)"),
                ("members", ", ".join(f"{x.path} ({x.source}, {x.model_id})" for x in c.members)),
                ("weights", "; ".join(f"{t}: b {w.intercept:.2f}, w {', '.join(f'{v:.2f}' for v in w.coef)}"
                                      for t, w in c.weights.items())),
                ("fitted on", f"{c.fit.issue_times} issue times {c.fit.start} to {c.fit.end}"),
                ("thresholds", ", ".join(f"{t} {v:.3f}" for t, v in c.thresholds.items())),
                ("base rate", ", ".join(f"{t} {v:.3f}" for t, v in c.climatology.items()))]
    card = read_card(m)
    s = card.run_config().samples
    pr = (card.val or {}).get("val_pr_auc", {})
    rows = [("model id", model_id(m)), ("loss", str(card.loss)),
            ("source", f"{s.source}: window {s.window} at {card.cadence}, horizon {card.horizon}"),
            ("channels", ", ".join(card.channels)), ("class convention", card.convention),
            *_ensemble_rows(card),
            ("thresholds", ", ".join(f"{t} {v:.3f}" for t, v in card.thresholds.items())
             + f" ({card.rule().sentence()})"),
            ("base rate (training)", ", ".join(f"{t} {v:.3f}" for t, v in card.climatology.items()))]
    shown = ", ".join(f"{t} {v:.3f}" for t, v in pr.items() if v is not None)
    return rows + ([("validation PR AUC", shown)] if shown else [])  # an ensemble has none: no "-" row


def _ensemble_rows(card) -> list[tuple[str, str]]:
    """What a CV ensemble forecasts with: its members, how they combine (the logistic blend's weights), its
    calibration."""
    if getattr(card, "kind", None) != "ensemble":
        return []
    folds = ", ".join(f.name for f in card.cv.folds)
    rows = [("ensemble", f"{len(card.members)} networks ({card.cv.scheme} CV, folds {folds}), probabilities averaged"),
            ("calibration", ", ".join(f"{t} {c.method}" for t, c in card.calibration.items()))]
    if card.blend is not None:
        rows.append(("logistic blend", "networks' weight " + ", ".join(
            f"{t} {w:.2f}" for t, w in card.blend.weights.items()) + "; the logistic regression on window "
            "statistics has the rest (chosen on out-of-fold Brier score)"))
    return rows

