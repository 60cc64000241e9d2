"""Per-region and full-disk probabilities now, from SWPC's latest region list alone (``flarecast fetch swpc``):
the McIntosh-Poisson rates fitted on a store's region reports and catalogue, applied to the regions of the
newest ``solar_regions.json`` copy's latest report, with SWPC's own probabilities beside them.

Per region: ``1 - exp(-rate(McIntosh class) x 1 day)``; full disk: ``1 - prod(1 - p_region)``. The rates come
from every report of the store inside its flare catalogue (``flarecast ingest regions`` of the SRS archive and
``flarecast ingest events``): the classical baseline, with nothing to train. The region model
(``flarecast train-regions``) and the full disk from regions and X-ray flux (``flarecast combine``) forecast through
``flarecast forecast COMBINATION --regions ...`` (:mod:`flarecast.forecast.region_member`).

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
from flarecast.samples.labels import Catalogue
from flarecast.samples.regions import DAY, region_samples, regions_frame
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
    """Probabilities per region of the latest report in the newest copy, and for the full disk (module docstring).
    The full disk from regions and the X-ray flux is the combination's (``flarecast combine`` of a flux model and a
    saved region model, then ``flarecast forecast COMB --regions ...``): one fitted, sealed card, not refitted here."""
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
    return {"file": str(path), "issue_time": iso(issue), "valid_to": iso(issue + DAY),
            "method": "McIntosh-Poisson", "convention": convention,
            "fitted_on": {"store": str(store), "reports": int(len(t)), "from": iso(t["time"].min()),
                          "to": iso(t["time"].max())},
            "regions": regions, "full_disk": disk}
