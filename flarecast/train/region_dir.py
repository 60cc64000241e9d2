"""``flarecast train-regions``: fit the region model on a store's region reports and flare catalogue and save it
as a region model directory (:mod:`flarecast.model.region_file`: a sealed JSON card, trees as npz arrays).

The features are those SWPC's files give (:data:`flarecast.samples.regions.FEED_FEATURES`), so that a forecast
from ``fetch swpc`` files alone can use the model. Reports are grouped by their region's home year
(:func:`flarecast.samples.regions.home_year`): the method per target is chosen on out-of-fold Brier over those
groups, and the threshold per target by ``rule`` on the chosen method's out-of-fold forecasts.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np

from flarecast import __version__, classes
from flarecast.errors import ModelError
from flarecast.ingest import store as st
from flarecast.jsonio import dumps, jsonable
from flarecast.metrics import ThresholdRule
from flarecast.model.region_file import CARD, FORMAT, TREE_ARRAYS, TREES, card_digests
from flarecast.model.regions import METHODS, RegionModel
from flarecast.samples.labels import Catalogue
from flarecast.samples.regions import FEED_FEATURES, feature_matrix, home_year, region_samples, regions_frame
from flarecast.train.regions import fit_region_model
from flarecast.util import atomic_write_bytes, iso

TARGETS = tuple(classes.TARGET_RANK)


def export_estimator(est, key: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A fitted scikit-learn estimator of :func:`flarecast.model.regions.region_estimator` as card parameters and
    npz arrays (:mod:`flarecast.model.region_file`'s layout)."""
    if est is None:
        return {"kind": "rate"}, {}
    if hasattr(est, "named_steps"):  # StandardScaler + LogisticRegression
        scaler, lr = est.steps[0][1], est.steps[-1][1]
        return {"kind": "logistic", "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist(),
                "coef": lr.coef_[0].tolist(), "intercept": float(lr.intercept_[0])}, {}
    trees = [p[0].nodes for p in est._predictors]  # binary: one tree per boosting round
    if est.n_trees_per_iteration_ != 1 or any(n["is_categorical"].any() for n in trees):
        raise ModelError("only binary boosted trees on numeric features can be saved")
    sizes = np.array([n.size for n in trees])
    offset = np.r_[0, np.cumsum(sizes)[:-1]]
    nodes = np.concatenate(trees)
    shift = np.repeat(offset, sizes)
    arrays = {"feature": nodes["feature_idx"].astype(np.int64), "threshold": nodes["num_threshold"].astype(np.float64),
              "left": nodes["left"].astype(np.int64) + shift, "right": nodes["right"].astype(np.int64) + shift,
              "leaf": nodes["is_leaf"].astype(bool), "missing_left": nodes["missing_go_to_left"].astype(bool),
              "value": nodes["value"].astype(np.float64), "roots": offset.astype(np.int64)}
    baseline = float(np.asarray(est._baseline_prediction).ravel()[0])
    return {"kind": "trees", "key": key, "baseline": baseline, "trees": len(trees)}, {
        f"{key}_{k}": arrays[k] for k in TREE_ARRAYS}


def save_region_model(out: str | Path, model: RegionModel, meta: dict[str, Any]) -> dict[str, Any]:
    """Write ``model`` with ``meta`` (thresholds, training span, fingerprint...) to ``out``; return the card."""
    out = Path(out)
    params, arrays = {}, {}
    for i, target in enumerate(model.models):
        params[target], a = export_estimator(model.models[target], f"t{i}")
        arrays.update(a)
    card: dict[str, Any] = {"format": FORMAT, "features": list(model.features), "targets": list(model.models),
                            "methods": model.methods, "rates": model.rates, "oof_brier": model.oof_brier,
                            **meta, "params": params, "code_version": __version__}
    out.mkdir(parents=True, exist_ok=True)
    if arrays:
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(out / TREES, buf.getvalue())
        card["trees_sha256"] = hashlib.sha256(buf.getvalue()).hexdigest()
    card = jsonable(card)
    card["fields_sha256"] = card_digests(card)
    atomic_write_bytes(out / CARD, (dumps(card) + "\n").encode())
    return card


def region_targets(days: int) -> list[str]:
    """``>=C``, ``>=M``, ``X`` (the next 24 h), then each class on each later day: ``>=C@d2`` ... ``X@d3``."""
    return [*TARGETS, *(classes.day_target(t, d) for d in range(2, days + 1) for t in TARGETS)]


def train_regions(store: str | Path, out: str | Path, *, start: str | None = None, end: str | None = None,
                  rule: str = "hss", methods=METHODS, convention: str = "swpc", days: int = 1) -> dict[str, Any]:
    """Fit the region model on the store's reports from ``start`` to ``end`` (all by default) and save it;
    ``days`` 3 adds the second and third days after each report (:func:`region_targets`).

    Raises
    ------
    SampleError
        No report inside the catalogue, or reports of fewer than two home years (out-of-fold choice).
    """
    frame = regions_frame(st.read_regions(store))
    t = frame["time"]
    frame = frame[(t >= (start or t.min())) & (t <= (end or t.max()))].reset_index(drop=True)
    samples = region_samples(frame, Catalogue.from_events(st.read_events(store)), convention=convention, days=days)
    table = samples.table
    x = feature_matrix(samples, FEED_FEATURES)
    groups = home_year(table["region"].to_numpy(), table["time"].to_numpy("datetime64[ns]"))
    targets = region_targets(days)
    labels = {g: samples.labels(g) for g in targets}
    model, oof = fit_region_model(x, labels, groups, FEED_FEATURES, methods=methods)
    chooser = ThresholdRule.parse(rule)
    meta = {"horizon": "24h", "convention": convention, "threshold_rule": rule,
            "days": days, "thresholds": {g: chooser.choose(labels[g], oof[g]) for g in targets},
            "climatology": {g: float(labels[g].mean()) for g in targets},
            "training": {"from": iso(table["time"].min()), "to": iso(table["time"].max()), "reports": len(table),
                         "regions": int(table["region"].nunique()), "groups": "home year",
                         "years": sorted(int(y) for y in np.unique(groups)), "store": str(store)},
            "data_fingerprint": data_fingerprint(store)}
    return save_region_model(out, model, meta)


def data_fingerprint(store: str | Path) -> str:
    """16 hex digits over the files the store's ``regions`` and ``events`` groups were ingested from."""
    shas = sorted(p["sha256"] for g in ("regions", "events") for p in st.provenance(st.read_group(store, g)))
    return hashlib.sha256("".join(shas).encode()).hexdigest()[:16]
