"""Full-disk forecasts from region forecasts, and one forecast combined from several models.

Full disk from regions: a per-region (SHARP) model forecasts each region on the disk at t; the full-disk
probability of a flare is that at least one region flares, ``P = 1 - prod_i (1 - p_i)`` (regions taken as
independent; an issue time whose regions were all too young to forecast, or with no region, gets ``P = 0``).
The product over-counts when regions are not independent and misses flares from regions the model does not see
(unnumbered regions, regions beyond its longitude cut), so it is recalibrated.

Members: GOES models (their own full-disk probability), SHARP models (their regions' product) and saved region
models (``flarecast train-regions``: the product over the regions of NOAA's latest report, per-region rows kept in
the document's ``regions``; :mod:`flarecast.forecast.region_member`).

Combination: a logistic regression on the logits of the members' full-disk probabilities (a GOES model's own,
a SHARP model's or a region model's combined regions), ``P = sigmoid(b + sum_k w_k logit p_k)``, fitted on labelled issue times that
the members did not train on: their validation period, or out-of-fold predictions once cross-validated models
exist. One member alone is Platt recalibration (of the regions' product, say). The weights, the threshold chosen on
the same issue times (the first member's ``threshold_score``), the base rate there and the members' model ids are
stored in ``DIR/combination.json``, the combination's card; :func:`forecast_combined` then forecasts with it like
with any model, and its files are scored like any forecast file. Members of forecast days (``>=C@d1`` ... ``X@d3``)
combine per class and day, each target labelled on its own window (:func:`flarecast.samples.labels.target_windows`),
and the rows are made coherent on every day after the separate regressions (:func:`make_coherent`).

>>> fit_combination(["models/goes", "models/sharp"], store="data/store.zarr", start="2012-09-01",
...                 end="2013-04-30", out="models/combined")  # doctest: +SKIP
>>> forecast_combined("models/combined", store="data/store.zarr", latest=True)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flarecast import __version__, classes
from flarecast.errors import ConfigError, ModelError, ParseError
from flarecast.forecast.issue import FORMAT, card_samples, forecast
from flarecast.forecast.numbers import coherence, make_coherent
from flarecast.forecast.region_member import latest_report, region_member
from flarecast.forecast.request import Inputs, IssueTimes, open_inputs
from flarecast.forecast.rows import make_row
from flarecast.ingest import store as st
from flarecast.jsonio import dumps, jsonable
from flarecast.metrics import ThresholdRule
from flarecast.model.card import COMBINATION_FORMAT, CombinationCard
from flarecast.model.modeldir import model_id, read_card
from flarecast.model.region_file import is_region_model, read_region_model
from flarecast.safeio import load_json
from flarecast.samples import labels
from flarecast.samples.labels import Catalogue
from flarecast.util import atomic_write_bytes, iso, utc

CARD = "combination.json"
CARD_FORMAT = COMBINATION_FORMAT
EPS = 1e-4
"""Probabilities are clipped to [EPS, 1 - EPS] before the logit: a product of many regions reaches 0 or 1."""


def regions_to_full_disk(doc: dict[str, Any], issue: Sequence[str]) -> dict[tuple[str, str], float]:
    """``{(issue_time, target): 1 - prod(1 - p_i)}`` over a forecast document's regions, for every issue time in
    ``issue`` that the document does not refuse as a whole (outside its data)."""
    if doc["source"] != "sharp":
        raise ConfigError(f"model {doc['model_id']} is a {doc['source']} model: only per-region (SHARP) forecasts are "
                          "combined over the disk")
    refused = {r["issue_time"] for r in doc["refused"] if r["region"] is None}
    out = {(t, target): 1.0 for t in issue if t not in refused for target in doc["targets"]}
    for r in doc["forecasts"]:
        out[(r["issue_time"], r["target"])] *= 1.0 - r["probability"]
    return {k: 1.0 - v for k, v in out.items()}


def member_probabilities(model_dir: str | Path, store: Path, issue: Sequence[str], *,
                         device: str = "cpu") -> tuple[dict[tuple[str, str], float], dict[str, Any]]:
    """A member's full-disk probability at each issue time it can forecast, and its forecast document."""
    if is_region_model(model_dir):
        return region_member(model_dir, store, list(issue))
    doc = forecast(model_dir, Inputs(store=store), IssueTimes(at=list(issue)), skip_refused=True, device=device)
    if doc["source"] == "sharp":
        return regions_to_full_disk(doc, issue), doc
    return {(r["issue_time"], r["target"]): r["probability"] for r in doc["forecasts"]}, doc


def fit_combination(model_dirs: Sequence[str | Path], *, store: str | Path, start: str, end: str,
                    every: str = "1D", out: str | Path, device: str = "cpu") -> CombinationCard:
    """Fit the combination's weights on the issue times from ``start`` to ``end`` and write its card.

    Choose a period none of the members trained on (their validation split); the card records it.

    Raises
    ------
    ConfigError
        Members of different horizons or class conventions, no common target, or an issue time grid that is
        not on every member's step grid.
    ModelError
        Fewer than 20 issue times that every member forecasts, or no target with events and non-events there
        (a target with only one class is left out, and the card's ``notes`` say so).
    """
    members, cfgs = _members(model_dirs)
    issue = _grid(start, end, every, cfgs)
    with open_inputs(Inputs(store=store)) as path:
        probs = [member_probabilities(m, path, issue, device=device)[0] for m in model_dirs]
        cat = Catalogue.from_events(st.read_events(path))
    targets = [t for t in cfgs[0]["targets"] if all(t in c["targets"] for c in cfgs)]
    horizon = pd.Timedelta(cfgs[0]["horizon"]).to_timedelta64()
    common = [t for t in issue if all((t, targets[0]) in p for p in probs)]
    times = np.array([utc(t, what="issue time") for t in common], dtype="datetime64[ns]")
    lo, hi = labels.target_windows(times, targets, horizon, cfgs[0]["day_windows"])  # each target's own window
    inside = (times - horizon >= cat.span[0]) & (hi.max(axis=1) <= cat.span[1])
    times, lo, hi = times[inside], lo[inside], hi[inside]
    if times.size < 20:
        raise ModelError(f"{times.size} issue times from {start} to {end} are forecast by every member and labelled "
                         "by the catalogue: fit on a longer period (at least 20)")
    rank = classes.ordinal(labels.window_fluxes(cat, lo, hi), cfgs[0]["convention"])  # [issue time, target]
    score = _threshold_score(model_dirs)
    weights, thresholds, clim, notes = {}, {}, {}, []
    for j, target in enumerate(targets):
        y = (rank[:, j] >= classes.target_rank(target)).astype(int)
        if y.min() == y.max():
            notes.append(f"target {target} left out: its {times.size} fitting issue times hold "
                         f"{'only events' if y.min() else 'no event'}")
            continue
        x = _logits(probs, [iso(t) for t in times], target)
        from sklearn.linear_model import LogisticRegression  # fitting only: a forecast applies stored weights

        lr = LogisticRegression(C=1.0).fit(x, y)
        weights[target] = {"intercept": float(lr.intercept_[0]), "coef": [float(c) for c in lr.coef_[0]]}
        thresholds[target] = ThresholdRule.parse(score).choose(y, lr.predict_proba(x)[:, 1])
        clim[target] = float(y.mean())
    if not weights:
        raise ModelError(f"no target can be fitted ({'; '.join(notes)}): fit on a longer or more active period")
    doc = {"format": CARD_FORMAT, "members": members, "targets": list(weights), "notes": notes, "horizon": cfgs[0]["horizon"],
            "convention": cfgs[0]["convention"], "weights": weights, "thresholds": thresholds, "climatology": clim,
            "threshold_score": score, "fit": {"from": iso(times.min()), "to": iso(times.max()), "every": every,
                                              "issue_times": int(times.size), "store": str(store)},
            "code_version": __version__}
    card = CombinationCard.parse(jsonable(doc), str(Path(out) / CARD), "the fit built an incomplete card").sealed()
    atomic_write_bytes(Path(out) / CARD, (dumps(card.to_dict()) + "\n").encode())
    return card


def forecast_combined(comb_dir: str | Path, store: str | Path, times: IssueTimes, *,
                      device: str = "cpu") -> dict[str, Any]:
    """The combination's forecast document (schema ``forecast.schema.json``, ``source: "combined"``) from the
    ``store`` at ``times`` (``every`` defaults to a day).

    Issue times some member cannot forecast are listed in ``refused`` with that member's reason.
    """
    card = read_combination(comb_dir)
    dirs = [m.path for m in card.members]
    members, cfgs = _members(dirs)
    changed = [m["path"] for m, c in zip(members, card.members, strict=True) if m["model_id"] != c.model_id]
    if changed:
        raise ModelError(f"{comb_dir}: member(s) {changed} changed since the combination was fitted: refit it with "
                         "`flarecast combine`")
    mid = hashlib.sha256(json.dumps(card.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
    horizon = pd.Timedelta(card.horizon).to_timedelta64()
    at, latest, start, end, every = times.at, times.latest, times.start, times.end, times.every
    with open_inputs(Inputs(store=store)) as path:
        if latest:
            flux = [m for m in dirs if not is_region_model(m)]
            last = (min(utc(_latest(m, path, device), what="latest") for m in flux) if flux
                    else latest_report(path))
            issue = [iso(_floor(last, cfgs))]
        elif at:
            issue = sorted({iso(utc(a, what="--at")) for a in at})
        else:
            if start is None or end is None:
                raise ConfigError("choose issue times one way: --at T, --latest, or --from T --to T [--every DT]")
            issue = _grid(start, end, every or "1D", cfgs)
        results = [member_probabilities(m, path, issue, device=device) for m in dirs]
    rows, refused = [], []
    first = next((c for c in cfgs if c["cadence"]), cfgs[0])  # a flux member's windows (a region member has none)
    for t in issue:
        lacking = [k for k, (p, _) in enumerate(results) if (t, card.targets[0]) not in p]
        if lacking:
            k = lacking[0]
            why = next((r for r in results[k][1]["refused"] if r["issue_time"] == t), None)
            refused.append({"issue_time": t, "region": None, "reason": why["reason"] if why else "outside_data",
                            "detail": f"member {dirs[k]}: " + (why["detail"] if why else "no forecast"),
                            "coverage": why["coverage"] if why else 0.0})
            continue
        lo, hi = labels.target_windows(np.array([utc(t)]), card.targets, horizon, first["day_windows"])
        for j, target in enumerate(card.targets):
            w = card.weights[target]
            z = w.intercept + float(np.dot(w.coef, _logits([p for p, _ in results], [t], target)[0]))
            day = classes.split_target(target)[1]
            rows.append(make_row(t, horizon, target, 1.0 / (1.0 + np.exp(-z)), threshold=card.threshold(target),
                                 base_rate=card.base_rate(target), coverage=1.0, model_id=mid,
                                 convention=card.convention, method="combination",
                                 window=(iso(lo[0, j]), iso(hi[0, j])) if day else None))
    lowered = make_coherent(rows)  # per forecast day: P(X) <= P(>=M) <= P(>=C) after the separate regressions
    regions = [r for _, doc in results if doc["source"] == "regions" for r in doc["regions"]]
    return {
        "format": FORMAT, "flarecast_version": __version__, "model_id": mid, "loss": None, "source": "combined",
        "convention": card.convention, "cadence": first["cadence"], "window": first["window"],
        "horizon": card.horizon, "channels": sorted({c for cfg in cfgs for c in cfg["channels"]}),
        "targets": list(card.targets), "thresholds": dict(card.thresholds),
        "climatology": dict(card.climatology), "max_missing": first["max_missing"],
        "inputs": {k: v for _, d in results for k, v in d["inputs"].items()}, "issue_times": len(issue),
        "forecasts": rows, "refused": refused,
        "members": members, **({"regions": regions} if regions else {}),
        **({"coherence": coherence({}, lowered)} if lowered else {}),
    }


def read_combination(comb_dir: str | Path) -> CombinationCard:
    """The card of a combination directory written by :func:`fit_combination`."""
    path = Path(comb_dir) / CARD
    if not path.is_file():
        raise ModelError(f"{comb_dir}: no {CARD}; expected a directory written by `flarecast combine`")
    try:
        doc = load_json(path)
    except ParseError as exc:
        raise ModelError(f"{path}: not JSON ({exc.reason}); refit it with `flarecast combine`") from None
    card = CombinationCard.parse(doc, str(path), "refit it with `flarecast combine`")
    # sealed like a model's card: an edited weight, threshold or member is refused naming the field (a card
    # written before the seal has none and is read as it is)
    card.check_sealed(str(path), required=False, fix="restore it or refit it with `flarecast combine`")
    return card


def is_combination(path: str | Path) -> bool:
    return (Path(path) / CARD).is_file()


def _members(model_dirs: Sequence[str | Path]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if not model_dirs:
        raise ConfigError("no member: give at least one model directory")
    members, cfgs = [], []
    for m in model_dirs:
        if is_region_model(m):
            members.append({"path": str(m), "model_id": (rm := read_region_model(m)).model_id, "source": "regions"})
            cfgs.append({"targets": rm.targets, "horizon": rm.card["horizon"], "convention": rm.card["convention"],
                         "cadence": None, "window": None, "max_missing": None, "channels": [],
                         "day_windows": None})
            continue
        card = read_card(m)
        cfg = card_samples(card, m)
        members.append({"path": str(m), "model_id": model_id(m), "source": cfg.source})
        cfgs.append({"targets": list(card.targets), "horizon": cfg.horizon, "convention": cfg.convention,
                     "cadence": cfg.cadence, "window": cfg.window, "max_missing": cfg.max_missing,
                     "channels": list(card.channels), "day_windows": cfg.day_windows if cfg.days else None})
    for m, c in zip(members[1:], cfgs[1:], strict=True):
        if (pd.Timedelta(c["horizon"]), c["convention"]) != (pd.Timedelta(cfgs[0]["horizon"]), cfgs[0]["convention"]):
            raise ConfigError(f"member {m['path']} forecasts {c['horizon']} ahead in {c['convention']!r} classes, "
                              f"{members[0]['path']} {cfgs[0]['horizon']} in {cfgs[0]['convention']!r}: combine "
                              "models of one horizon and class convention")
        if c["day_windows"] != cfgs[0]["day_windows"]:  # X@d1 is one UT day to one member, 24 h to the other
            raise ConfigError(f"member {m['path']} forecasts days {c['day_windows'] or 'none'}, {members[0]['path']} "
                              f"{cfgs[0]['day_windows'] or 'none'} (samples.day_windows): combine models whose "
                              "forecast days are the same windows")
    if not [t for t in cfgs[0]["targets"] if all(t in c["targets"] for c in cfgs)]:
        raise ConfigError("the members share no target: combine models that forecast the same class")
    return members, cfgs


def _grid(start: str, end: str, every: str, cfgs: list[dict[str, Any]]) -> list[str]:
    t0, t1 = utc(start, what="--from"), utc(end, what="--to")
    step = pd.Timedelta(every)
    times = pd.date_range(pd.Timestamp(t0), pd.Timestamp(t1), freq=step)
    for c in cfgs:
        if not c["cadence"]:
            continue  # a region model forecasts at any time, from the latest report
        cad = pd.Timedelta(c["cadence"]).value
        if times.size and (times[0].value % cad or step.value % cad):
            raise ConfigError(f"issue times from {start} every {every} are not on the {c['cadence']} step grid of "
                              "every member: start at a multiple of every cadence (00:00 UTC works for 1h and "
                              "96min) and step by a multiple (1D)")
    return [iso(t) for t in times]


def _floor(t: np.datetime64, cfgs: list[dict[str, Any]]) -> np.datetime64:
    step = int(np.lcm.reduce([pd.Timedelta(c["cadence"] or "1h").value for c in cfgs]))
    return np.datetime64(int(np.datetime64(t, "ns").astype(np.int64) // step * step), "ns")


def _threshold_score(model_dirs: Sequence[str | Path]) -> str:
    """The score the first GOES or SHARP member chose its thresholds by (HSS for region members alone)."""
    flux = [m for m in model_dirs if not is_region_model(m)]
    return (read_card(flux[0]).threshold_score if flux else None) or "hss"


def _latest(model_dir, store: Path, device: str) -> str:
    doc = forecast(model_dir, Inputs(store=store), IssueTimes(latest=True), skip_refused=True, device=device)
    return (doc["forecasts"] or doc["refused"])[0]["issue_time"]


def _logits(probs: list[dict[tuple[str, str], float]], times: Sequence[str], target: str) -> np.ndarray:
    p = np.array([[pr[(t, target)] for pr in probs] for t in times], dtype=np.float64)
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))

