"""Region study: leave-one-year-out scores of per-region forecasts (region model, McIntosh-Poisson, persistence) and
of full-disk forecasts from regions and X-ray flux beside flux alone.

Each region belongs to the year holding most of its reports, so no region is split between training and test.
For each held-out year: the region model (method chosen on out-of-fold Brier over the training years), McIntosh
rates and the full-disk combinations are fitted on the other years; thresholds are chosen by the rule (HSS by
default) on the training years' out-of-fold forecasts (the region model, the combinations) or on the training
forecasts themselves (McIntosh rates, a table of counts); persistence is 0/1. The held-out years' forecasts
are then pooled and scored with group-bootstrap intervals: groups are regions for per-region scores and weeks
for full-disk scores (neighbouring days share the same regions). BSS is against the mean training event rate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from flarecast import classes
from flarecast.errors import MissingDataError, SampleError
from flarecast.evaluate.baselines import fit_mcintosh
from flarecast.evaluate.bootstrap import score_with_ci
from flarecast.metrics import ThresholdRule, UndefinedScoreWarning
from flarecast.samples.labels import Catalogue, next_and_previous
from flarecast.samples.regions import (
    FEATURES,
    RegionSamples,
    feature_matrix,
    flux_features,
    full_disk,
    home_year,
    region_samples,
    regions_frame,
)
from flarecast.train.regions import fit_region_model

SCORES = ("bss", "tss", "hss")
_EPS = 1e-4


@dataclass
class StudyResult:
    """Rows of the region table and the full-disk table: target, method, n, positives, then value and
    interval of each score; ``chosen`` records the region model's method per held-out year and target."""

    regions: pd.DataFrame
    full_disk: pd.DataFrame
    chosen: dict


def _logit(p):
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def _stack():
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))


def _fit_predict(x_train, y_train, x_test):
    if y_train.min() == y_train.max():
        return np.full(len(x_test), y_train.mean()), np.full(len(x_train), y_train.mean())
    m = _stack().fit(x_train, y_train)
    return m.predict_proba(x_test)[:, 1], m.predict_proba(x_train)[:, 1]


def _row(target, method, y, p, groups, threshold, clim, n_boot):
    s = score_with_ci(y, p, groups, threshold=threshold, climatology=clim, n_boot=n_boot)
    row = {"target": target, "method": method, "n": s["n"], "positives": s["positives"], "threshold": threshold}
    for k in SCORES:
        row[k], (row[f"{k}_lo"], row[f"{k}_hi"]) = s[k]["value"], s[k]["ci"]
    return row


def region_study(samples: RegionSamples, cat: Catalogue, goes: xr.Dataset, *, years=(2011, 2012, 2013),
                 targets=(">=C", ">=M"), rule: str = "hss", n_boot: int = 500,
                 features=FEATURES) -> StudyResult:
    """Leave-one-year-out over ``years`` (module docstring). ``cat`` is the whole catalogue (full-disk labels
    count flares of every region and of none); ``goes`` holds XRS-B over the years; ``features`` the region
    model's (:data:`~flarecast.samples.regions.FEED_FEATURES`: those of the saved model)."""
    table = samples.table
    t_all = table["time"].to_numpy("datetime64[ns]")
    fold = home_year(table["region"].to_numpy(), t_all)
    keep = np.isin(fold, years)
    table, fold, t_all = table[keep].reset_index(drop=True), fold[keep], t_all[keep]
    x = feature_matrix(RegionSamples(table, samples.horizon, samples.convention), features)
    kept = RegionSamples(table, samples.horizon, samples.convention)
    days = samples.horizon / np.timedelta64(1, "D")
    threshold = ThresholdRule.parse(rule)
    labels = {tg: kept.labels(tg) for tg in targets}
    counts = {tg: kept.counts(tg) for tg in targets}
    mcintosh = table["mcintosh"].astype(str).to_numpy()
    fd_cat = cat.one_per_peak()
    times = np.unique(t_all)
    fd_next, _ = next_and_previous(fd_cat, times, samples.horizon)
    fd_fold = pd.DatetimeIndex(times).year.to_numpy()
    fd_x = flux_features(goes, fd_cat, times, samples.convention)
    reg_rows, fd_rows, chosen = [], [], {}
    for tg in targets:
        y = labels[tg]
        fd_y = (classes.ordinal(fd_next, samples.convention) >= classes.TARGET_RANK[tg]).astype(np.int8)
        pred = {m: np.full(len(y), np.nan) for m in ("region model", "McIntosh-Poisson", "persistence")}
        thr = {m: np.full(len(y), np.nan) for m in pred}
        fd_pred = {m: np.full(len(times), np.nan) for m in
                   ("flux alone", "regions (1 - prod(1 - p))", "McIntosh full disk", "regions + flux")}
        fd_thr = {m: np.full(len(times), np.nan) for m in fd_pred}
        clims, fd_clims = [], []
        for year in years:
            test, train = fold == year, fold != year
            if not test.any():
                continue
            model, oof = fit_region_model(x[train], {tg: y[train]}, fold[train], features)
            chosen[(year, tg)] = (model.methods[tg], model.oof_brier[tg])
            pred["region model"][test] = model.predict(x[test], tg)
            thr["region model"][test] = threshold.choose(y[train], oof[tg])
            mc = fit_mcintosh(mcintosh[train], {tg: counts[tg][train]}, days)
            pred["McIntosh-Poisson"][test] = mc.predict(mcintosh[test], tg, days)
            thr["McIntosh-Poisson"][test] = threshold.choose(y[train], mc.predict(mcintosh[train], tg, days))
            pred["persistence"][test] = kept.persistence(tg)[test]
            thr["persistence"][test] = 0.5
            clims.append(float(y[train].mean()))
            # full disk: per report time; region forecasts of training years are out-of-fold
            p_reg = np.where(test, pred["region model"], np.nan)
            p_reg[train] = oof[tg]
            _, fd_reg = full_disk(t_all, p_reg)
            _, fd_mc = full_disk(t_all, mc.predict(mcintosh, tg, days))
            ftest, ftrain = fd_fold == year, fd_fold != year
            fy = fd_y[ftrain]
            fd_clims.append(float(fy.mean()))
            p_test, p_train = _fit_predict(fd_x[ftrain], fy, fd_x[ftest])
            fd_pred["flux alone"][ftest], fd_thr["flux alone"][ftest] = p_test, threshold.choose(fy, p_train)
            fd_pred["regions (1 - prod(1 - p))"][ftest] = fd_reg[ftest]
            fd_thr["regions (1 - prod(1 - p))"][ftest] = threshold.choose(fy, fd_reg[ftrain])
            fd_pred["McIntosh full disk"][ftest] = fd_mc[ftest]
            fd_thr["McIntosh full disk"][ftest] = threshold.choose(fy, fd_mc[ftrain])
            both = np.column_stack([fd_x, _logit(fd_reg)])
            p_test, p_train = _fit_predict(both[ftrain], fy, both[ftest])
            fd_pred["regions + flux"][ftest], fd_thr["regions + flux"][ftest] = p_test, threshold.choose(fy, p_train)
        clim, fd_clim = float(np.mean(clims)), float(np.mean(fd_clims))
        for m, p in pred.items():
            # one threshold per held-out year: scored per year-threshold by binarising before pooling
            reg_rows.append(_pooled_row(tg, m, y, p, thr[m], table["region"].to_numpy(), clim, n_boot))
        weeks = pd.DatetimeIndex(times).to_period("W").astype(str).to_numpy()
        for m, p in fd_pred.items():
            fd_rows.append(_pooled_row(tg, m, fd_y, p, fd_thr[m], weeks, fd_clim, n_boot))
    return StudyResult(pd.DataFrame(reg_rows), pd.DataFrame(fd_rows), chosen)


def _pooled_row(target, method, y, p, thr, groups, clim, n_boot):
    """Scores of forecasts pooled over held-out years, each year with its own threshold: the probabilities are
    shifted so that each year's threshold falls at 0.5 for the categorical scores, while BSS uses them as
    they are."""
    ok = np.isfinite(p)
    y, p, thr, groups = y[ok], p[ok], thr[ok], groups[ok]
    prob_row = _row(target, method, y, p, groups, 0.5, clim, n_boot)
    cat = (p >= thr).astype(float)
    cat_row = _row(target, method, y, cat, groups, 0.5, clim, n_boot)
    for k in ("tss", "hss"):
        for suffix in ("", "_lo", "_hi"):
            prob_row[f"{k}{suffix}"] = cat_row[f"{k}{suffix}"]
    prob_row["threshold"] = ",".join(f"{v:.3g}" for v in pd.unique(thr))
    return prob_row


def markdown(frame: pd.DataFrame) -> str:
    """A table of the study's rows: each score as ``value [low, high]``."""
    head = "| target | method | n | events | threshold | " + " | ".join(s.upper() for s in SCORES) + " |"
    lines = [head, "|" + "---|" * (5 + len(SCORES))]
    for _, r in frame.iterrows():
        cells = [f"{r[s]:.3f} [{r[s + '_lo']:.3f}, {r[s + '_hi']:.3f}]" for s in SCORES]
        lines.append(f"| {r['target']} | {r['method']} | {r['n']} | {r['positives']} | {r['threshold']} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def swpc_region_rows(paths) -> pd.DataFrame:
    """SWPC's per-region forecasts from saved ``solar_regions.json`` copies: one row per (time, region) that
    carries a probability, from the earliest copy holding it (the forecast as first issued; copies in the order
    given, which for ``flarecast fetch swpc``'s stamped names is fetch order)."""
    from flarecast.ingest.readers import read_file

    parts = [read_file(p, "regions").data for p in paths]
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["time", "region"])
    given = rows[["p_c", "p_m", "p_x"]].notna().any(axis=1) if len(rows) else pd.Series([], dtype=bool)
    return rows[given].drop_duplicates(["time", "region"], keep="first").reset_index(drop=True)


SWPC_TARGETS = {">=C": "p_c", ">=M": "p_m", "X": "p_x"}


def score_swpc_regions(paths, regions: pd.DataFrame, cat: Catalogue, *, threshold: float = 0.5,
                       rule: str = "hss", n_boot: int = 1000, convention: str = "swpc") -> dict:
    """SWPC's per-region probabilities from ``paths`` beside flarecast's on the same regions and days.

    flarecast's forecasts are fitted on the store's reports ``regions`` issued before the first scored day's
    label can have been seen (time + 1 day <= first scored time): the region model where those span two or
    more years (out-of-fold choice needs a year to hold out), and the McIntosh-Poisson rates. Labels come from
    the catalogue's region numbers; intervals resample regions. SWPC's threshold is ``threshold``; flarecast's
    are chosen by ``rule`` on their training forecasts.

    Raises
    ------
    SampleError
        When no file row carries a probability, or none lies inside the catalogue.
    """
    swpc = swpc_region_rows(paths)
    if swpc.empty:
        raise SampleError("the files hold no region with an SWPC probability: give solar_regions.json copies "
                          "fetched with `flarecast fetch swpc`")
    both = pd.concat([regions.assign(_swpc=False), swpc.assign(_swpc=True)], ignore_index=True)
    both = both.sort_values(["time", "region", "_swpc"], kind="stable").drop_duplicates(["time", "region"],
                                                                                          keep="last")
    samples = region_samples(both.reset_index(drop=True), cat, convention=convention)
    t = samples.table
    scored = t["_swpc"].to_numpy(bool)
    if not scored.any():
        raise SampleError(f"no region forecast of the files lies inside the flare catalogue ({cat.span[0]} to "
                          f"{cat.span[1]}): ingest the catalogue of those days")
    first = t["time"][scored].min()
    train = (~scored) & (t["time"] + pd.Timedelta(samples.horizon) <= first).to_numpy()
    x = feature_matrix(samples)
    mcintosh = t["mcintosh"].astype(str).to_numpy()
    days = samples.horizon / np.timedelta64(1, "D")
    chooser = ThresholdRule.parse(rule)
    years = pd.DatetimeIndex(t["time"]).year.to_numpy()
    out = {"n_files": len(list(paths)), "from": str(first), "to": str(t["time"][scored].max()),
           "train_reports": int(train.sum()), "targets": {}, "notes": []}
    for target, col in SWPC_TARGETS.items():
        have = scored & t[col].notna().to_numpy()
        if not have.any():
            continue
        y = samples.labels(target)
        groups = t["region"].to_numpy()[have]
        clim = float(y[train].mean()) if train.any() else float(y[have].mean())
        entry = {"swpc": _entry(y[have], t[col].to_numpy(float)[have], groups, threshold, clim, n_boot)}
        entry["persistence"] = _entry(y[have], samples.persistence(target)[have], groups, 0.5, clim, n_boot)
        if train.any():
            mc = fit_mcintosh(mcintosh[train], {target: samples.counts(target)[train]}, days)
            cut = chooser.choose(y[train], mc.predict(mcintosh[train], target, days))
            entry["mcintosh"] = _entry(y[have], mc.predict(mcintosh[have], target, days), groups, cut, clim, n_boot)
        if np.unique(years[train]).size >= 2:
            model, oof = fit_region_model(x[train], {target: y[train]}, years[train], FEATURES)
            entry["region model"] = _entry(y[have], model.predict(x[have], target), groups,
                                           chooser.choose(y[train], oof[target]), clim, n_boot)
        out["targets"][target] = {"n": int(have.sum()), "positives": int(y[have].sum()), "scores": entry}
    if np.unique(years[train]).size < 2:
        out["notes"].append("region model omitted: the store's reports before the scored days span fewer than two "
                            "years (ingest earlier SRS: `flarecast ingest regions`)")
    return out


def _entry(y, p, groups, threshold, clim, n_boot):
    s = score_with_ci(y, p, groups, threshold=threshold, climatology=clim, n_boot=n_boot)
    return {"threshold": threshold, "n": s["n"], **{k: s[k] for k in ("bss", "tss", "hss", "roc_auc")}}


def score_swpc_regions_in_store(paths, store, *, threshold: float = 0.5, n_boot: int = 1000) -> dict:
    """:func:`score_swpc_regions` with the store's region reports and flare catalogue (``evaluate --forecasts``)."""
    from flarecast.ingest.store import read_events, read_regions

    cat = Catalogue.from_events(read_events(store))
    try:
        regions = regions_frame(read_regions(store))
    except MissingDataError:
        regions = pd.DataFrame(columns=["time", "region", "mcintosh"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedScoreWarning)
        return {"store": str(store), **score_swpc_regions(sorted(map(str, paths)), regions, cat, threshold=threshold,
                                                          n_boot=n_boot)}
