"""Per-region and full-disk probabilities now, from SWPC's latest region list alone (``flarecast fetch swpc``):
the McIntosh-Poisson rates fitted on a store's region reports and catalogue, applied to the regions of the
newest ``solar_regions.json`` copy's latest report, with SWPC's own probabilities beside them.

Per region: ``1 - exp(-rate(McIntosh class) x 1 day)``; full disk: ``1 - prod(1 - p_region)``. The rates come
from every report of the store inside its flare catalogue (``flarecast ingest regions`` of the SRS archive and
``flarecast ingest events``): the classical baseline, not the region model of :mod:`flarecast.train.regions`,
whose flare-history features need a catalogue naming regions, which SWPC's real-time flare list does not.

>>> latest_regions("data/raw/swpc", store="data/regions.zarr")["full_disk"]  # doctest: +SKIP
{'>=C': 0.93, '>=M': 0.41, 'X': 0.06}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from flarecast import classes
from flarecast.errors import InputFileError
from flarecast.evaluate.baselines import fit_mcintosh
from flarecast.ingest import store as st
from flarecast.ingest.fetch.swpc import copies
from flarecast.ingest.readers import read_file
from flarecast.samples.labels import Catalogue, next_and_previous
from flarecast.samples.regions import DAY, flux_features, full_disk, region_samples, regions_frame
from flarecast.util import iso

TARGETS = tuple(classes.TARGET_RANK)
SWPC_COLUMNS = {">=C": "p_c", ">=M": "p_m", "X": "p_x"}


def newest_regions_file(path: str | Path) -> Path:
    """``path`` itself, or the newest ``solar_regions_*.json`` copy in the folder ``path``."""
    path = Path(path)
    if path.is_file():
        return path
    found = copies(path, "solar_regions") if path.is_dir() else []
    if not found:
        raise InputFileError(path, "no solar_regions_*.json copy here: run `flarecast fetch swpc --product "
                                   "solar_regions` (or give the file)")
    return found[-1]


def latest_regions(swpc: str | Path, *, store: str | Path, convention: str = "swpc") -> dict[str, Any]:
    """Probabilities per region of the latest report in the newest copy, and for the full disk (module docstring);
    with the X-ray flux too where the folder holds ``xrays-7-day`` and ``xray-flares-7-day`` copies and the store a
    ``goes`` group (:func:`fit_flux_combination`)."""
    path = newest_regions_file(swpc)
    rows = read_file(path, "regions").data
    if rows.empty:
        raise InputFileError(path, "holds no region: SWPC lists none today, or the copy is empty; re-fetch it")
    now = rows[rows["time"] == rows["time"].max()].reset_index(drop=True)
    samples = region_samples(regions_frame(st.read_regions(store)), Catalogue.from_events(st.read_events(store)),
                             convention=convention)
    t = samples.table
    fit = fit_mcintosh(t["mcintosh"].astype(str).to_numpy(), {g: samples.counts(g) for g in TARGETS}, 1.0)
    issue = now["time"].iloc[0]
    per = {g: fit.predict(now["mcintosh"].astype(str).to_numpy(), g) for g in TARGETS}
    regions = [{"region": int(r["region"]), "location": r["location"], "mcintosh": r["mcintosh"], "hale": r["hale"],
                "area": None if np.isnan(r["area"]) else float(r["area"]),
                "probability": {g: float(per[g][i]) for g in TARGETS},
                "swpc": {g: None if np.isnan(r[c]) else float(r[c]) for g, c in SWPC_COLUMNS.items()}}
               for i, r in now.iterrows()]
    disk = {g: float(-np.expm1(np.log1p(-per[g]).sum())) for g in TARGETS}
    folder = path.parent if Path(swpc).is_file() else Path(swpc)
    with_flux, why = _with_flux(folder, store, fit, issue, disk, convention)
    return {"file": str(path), "issue_time": iso(issue), "valid_to": iso(issue + DAY),
            "method": "McIntosh-Poisson", "convention": convention,
            "fitted_on": {"store": str(store), "reports": int(len(t)), "from": iso(t["time"].min()),
                          "to": iso(t["time"].max())},
            "regions": regions, "full_disk": disk, "full_disk_with_flux": with_flux,
            **({"notes": [why]} if why else {})}


def fit_flux_combination(store: str | Path, fit, convention: str = "swpc") -> dict[str, Any]:
    """Per target, a logistic regression of the full-disk label (any flare of the class in the day after each
    report) on the X-ray flux history at the report's time (:func:`flarecast.samples.regions.flux_features`) and
    logit(1 - prod(1 - p_region)) of the McIntosh rates ``fit``, over every report time of the store inside its
    catalogue and GOES data: the combination of the study's "regions + flux" with the McIntosh rates."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = regions_frame(st.read_regions(store))
    cat = Catalogue.from_events(st.read_events(store)).one_per_peak()
    goes = st.read_goes(store)
    g_t = np.asarray(goes["time"].values, dtype="datetime64[ns]")
    t = frame["time"].to_numpy("datetime64[ns]")
    keep = (t - DAY >= max(cat.span[0], g_t.min())) & (t + DAY <= min(cat.span[1], g_t.max()))
    frame = frame[keep]
    models = {}
    for g in TARGETS:
        times, p = full_disk(frame["time"].to_numpy("datetime64[ns]"),
                             fit.predict(frame["mcintosh"].astype(str).to_numpy(), g))
        nxt, _ = next_and_previous(cat, times, DAY)
        y = (classes.ordinal(nxt, convention) >= classes.TARGET_RANK[g]).astype(int)
        x = np.column_stack([flux_features(goes, cat, times, convention), _logit(p)])
        models[g] = (make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x, y)
                     if y.size and y.min() != y.max() else None)
    return models


def _logit(p):
    p = np.clip(np.asarray(p, dtype=float), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _with_flux(folder: Path, store, fit, issue, disk: dict[str, float], convention: str):
    """The full disk from regions and the X-ray flux now, or None and why not."""
    import xarray as xr

    xrays, flares = copies(folder, "xrays-7-day"), copies(folder, "xray-flares-7-day")
    if not xrays or not flares:
        return None, "full disk with flux omitted: no xrays-7-day or xray-flares-7-day copy beside the region list"
    if st.group_attrs(store, "goes") is None:
        return None, "full disk with flux omitted: the store holds no GOES flux to fit the combination on"
    flux = read_file(xrays[-1], "goes").data
    ev = read_file(flares[-1], "events").data
    goes = xr.Dataset({"xrsb": ("time", flux["xrsb"].to_numpy(float))},
                      coords={"time": flux["time"].to_numpy("datetime64[ns]")})
    peak, pf = ev["peak"].to_numpy("datetime64[ns]"), ev["peak_flux"].to_numpy(float)
    ok = ~np.isnat(peak) & np.isfinite(pf)
    order = np.argsort(peak[ok], kind="stable")
    cat = Catalogue(peak[ok][order], pf[ok][order], np.zeros(int(ok.sum()), dtype=np.int64))
    t = np.array([np.datetime64(issue, "ns")])
    x_flux = flux_features(goes, cat, t, convention)
    models = fit_flux_combination(store, fit, convention)
    out = {}
    for g in TARGETS:
        m = models[g]
        out[g] = None if m is None else float(m.predict_proba(np.column_stack([x_flux, _logit([disk[g]])]))[0, 1])
    return out, None
