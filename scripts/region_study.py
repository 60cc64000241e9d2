"""Per-region and full-disk forecasts from NOAA region reports, leave-one-year-out (issue 24's measurement).

Reads a store holding ``regions`` (SRS), ``events`` (a catalogue with NOAA region numbers) and ``goes`` (XRS-B),
and prints two Markdown tables: per-region BSS, TSS and HSS with 95% group-bootstrap intervals for the region
model, the McIntosh-Poisson baseline and persistence; full-disk scores from regions, regions + flux and flux
alone. See ``flarecast.studies.regions`` for the protocol and docs/regions.md for the results.

    python scripts/region_study.py --store data/regions.zarr --years 2011 2012 2013 --n-boot 500
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from flarecast.ingest.store import read_events, read_goes, read_regions
from flarecast.samples.labels import Catalogue
from flarecast.samples.regions import FEATURES, FEED_FEATURES, region_samples, regions_frame
from flarecast.studies.regions import markdown, region_study


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--years", type=int, nargs="+", default=[2011, 2012, 2013])
    ap.add_argument("--targets", nargs="+", default=[">=C", ">=M"])
    ap.add_argument("--rule", default="hss", help="threshold rule (hss, tss, cost:K)")
    ap.add_argument("--n-boot", type=int, default=500)
    ap.add_argument("--convention", default="swpc", help="class thresholds' basis (swpc: the catalogue's classes)")
    ap.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads")
    ap.add_argument("--json", help="also write the tables here as JSON")
    ap.add_argument("--features", choices=("study", "feed"), default="study",
                    help="the region model's features: the study's (log peak flux of the last day's largest flare) or "
                         "the saved model's, those SWPC's solar_regions.json gives (its class)")
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    cat = Catalogue.from_events(read_events(a.store))
    frame = regions_frame(read_regions(a.store))
    years = np.asarray(frame["time"].dt.year)
    frame = frame[(years >= min(a.years) - 1) & (years <= max(a.years) + 1)].reset_index(drop=True)
    samples = region_samples(frame, cat, convention=a.convention)
    with threadpool_limits(a.threads):  # OpenMP threads of the trees spin for minutes on a shared machine
        res = region_study(samples, cat, read_goes(a.store), years=tuple(a.years), targets=tuple(a.targets),
                           rule=a.rule, n_boot=a.n_boot, features=FEED_FEATURES if a.features == "feed" else FEATURES)
    print("## Per region (pooled held-out years; intervals: bootstrap over regions)\n")
    print(markdown(res.regions))
    print("\n## Full disk, one forecast per SRS issue time (intervals: bootstrap over weeks)\n")
    print(markdown(res.full_disk))
    print("\nRegion model method chosen per held-out year (out-of-fold Brier per method):")
    for (year, tg), (method, briers) in sorted(res.chosen.items()):
        print(f"- {year} {tg}: {method} ({', '.join(f'{m} {b:.4f}' for m, b in briers.items())})")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"regions": res.regions.to_dict("records"), "full_disk": res.full_disk.to_dict("records"),
                       "chosen": {f"{y} {t}": v for (y, t), v in res.chosen.items()}}, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
