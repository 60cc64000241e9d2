"""A saved region model (``flarecast train-regions``) as a member of a combination: per-region probabilities at
issue times from the store's ``regions`` group, and the full disk ``1 - prod(1 - p_region)`` they give.

At an issue time t the member forecasts the regions of the latest report that describes the Sun at or before t:
an SRS (or ``solar_regions.json`` record) issued at 00:30 UTC describes it at 24:00 UTC, so the report of
00:30 on the 9th serves an issue time of 00:00 on the 9th. A report more than :data:`MAX_AGE` older than t is
stale: the issue time is refused. Each region's flare history is counted up to the time its report describes
(:func:`flarecast.samples.regions.region_history`): from SWPC's per-region event counts where the report carries
them (``solar_regions.json``), else from the catalogue's flares naming the region. Per region the probabilities
are made coherent, P(X) <= P(>=M) <= P(>=C) (each the lowest of itself and the classes below), so the full disk
is coherent too (the product is monotone in each region's probability).

Numpy only (the saved model's own predictor): a forecast never imports scikit-learn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flarecast import classes
from flarecast.errors import MissingDataError
from flarecast.ingest import store as st
from flarecast.model.region_file import SavedRegionModel, read_region_model
from flarecast.samples.labels import Catalogue
from flarecast.samples.regions import feature_matrix, history_features, region_history, regions_frame
from flarecast.util import iso, utc

MAX_AGE = np.timedelta64(48, "h")
"""The oldest report a forecast uses (SWPC misses a day now and then; two days' rotation moves a region ~26 deg)."""

SWPC_COLUMNS = {">=C": "p_c", ">=M": "p_m", "X": "p_x"}


def region_table(store: str | Path, model: SavedRegionModel) -> pd.DataFrame:
    """The store's region reports with their features (:func:`feature_matrix` columns) and the model's coherent
    probability per target (columns ``p>=C``, ``p>=M``, ``pX``); ``described`` is the time a report describes."""
    # the readers (astropy, scipy) are imported only when a region member runs
    from flarecast.ingest.readers.regions import ISSUE_OFFSET

    frame = regions_frame(st.read_regions(store))
    try:
        cat = Catalogue.from_events(st.read_events(store))
    except MissingDataError:
        cat = None
    described = frame["time"] - pd.Timedelta(ISSUE_OFFSET)
    asof = frame.assign(time=described)
    table = frame.join(region_history(asof, cat, convention=model.card["convention"])).join(history_features(frame))
    x = feature_matrix(table, model.features)
    for chain in classes.nested(model.targets):  # each day's classes, C to X
        ranked = [model.targets[j] for j in chain]
        p = np.minimum.accumulate(np.column_stack([model.predict(x, t) for t in ranked]), axis=1)
        for j, t in enumerate(ranked):  # P(X) <= P(>=M) <= P(>=C) per region and day
            table[f"p{t}"] = p[:, j]
    return table.assign(described=described)


def region_member(model_dir: str | Path, store: str | Path,
                  issue: list[str]) -> tuple[dict[tuple[str, str], float], dict[str, Any]]:
    """The member's full-disk probability per (issue time, target) it can forecast, and its document: ``source``
    ``"regions"``, the per-region rows of each issue time (``regions``), ``refused`` and ``inputs``."""
    model = read_region_model(model_dir)
    table = region_table(store, model)
    described = table["described"].to_numpy("datetime64[ns]")
    reports = np.unique(described)
    out, rows, refused = {}, [], []
    for t_text in issue:
        t = utc(t_text, what="issue time")
        k = np.searchsorted(reports, t, side="right") - 1
        if k < 0 or t - reports[k] > MAX_AGE:
            refused.append({"issue_time": t_text, "region": None, "reason": "outside_data", "coverage": 0.0,
                            "detail": "no region report describes the Sun in the 48 h up to it: add the day's "
                                      "solar_regions.json (--regions) or SRS"})
            continue
        now = table[described == reports[k]]
        for target in model.targets:
            out[(t_text, target)] = float(-np.expm1(np.log1p(-now[f"p{target}"].to_numpy()).sum()))
        rows += [region_row(t_text, r, model.targets) for _, r in now.iterrows()]
    from flarecast.forecast.issue import _fingerprint

    return out, {"source": "regions", "model_id": model.model_id, "regions": rows, "refused": refused,
                 "inputs": {"regions": _fingerprint(Path(store), "regions")}}


def region_row(issue: str, r: pd.Series, targets: list[str]) -> dict[str, Any]:
    """One region's row of a forecast document: its report and the model's and SWPC's probabilities."""
    def num(v):
        return None if pd.isna(v) else float(v)

    return {"issue_time": issue, "report_time": iso(r["time"]), "region": int(r["region"]),
            "location": str(r["location"]), "mcintosh": str(r["mcintosh"]), "hale": str(r["hale"]),
            "area": num(r["area"]), "probability": {t: float(r[f"p{t}"]) for t in targets},
            "swpc": {t: num(r.get(c)) for t, c in SWPC_COLUMNS.items() if t in targets}}


def latest_report(store: str | Path) -> np.datetime64:
    """The time the store's latest region report describes (``--latest`` of a combination of region members)."""
    from flarecast.ingest.readers.regions import ISSUE_OFFSET

    t = np.asarray(st.read_regions(store)["time"].values, dtype="datetime64[ns]")
    return t.max() - ISSUE_OFFSET
