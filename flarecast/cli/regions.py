"""``flarecast regions``: per-region and full-disk probabilities now from SWPC's region list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flarecast.cli._util import command, emit
from flarecast.cli.options import JsonOpt, StoreOpt
from flarecast.defaults import DEFAULT_STORE


@command("regions")
def regions_cli(
    swpc: Annotated[Path, typer.Argument(help="A solar_regions.json copy, or the folder of `fetch swpc` copies "
                                              "(the newest is used).")] = Path("data/raw/swpc"),
    store: StoreOpt = DEFAULT_STORE,
    as_json: JsonOpt = False,
) -> None:
    """Probabilities of a C, M and X flare in the next day for each region of SWPC's latest region list and for
    the full disk, from McIntosh-Poisson rates fitted on the store's region reports (`ingest regions`) and
    catalogue, beside SWPC's own per-region probabilities.

    [bold]Examples[/]:
      flarecast fetch swpc --product solar_regions
      flarecast regions data/raw/swpc --store data/regions.zarr
    """
    from flarecast.forecast.regions import latest_regions
    from flarecast.report.tables import regions_now_summary

    emit(latest_regions(swpc, store=store), as_json, regions_now_summary)


@command("train-regions")
def train_regions_cli(
    store: StoreOpt = DEFAULT_STORE,
    out_dir: Annotated[Path, typer.Option("--out", help="Region model directory to write (region_model.json).")] = Path(
        "models/regions"),
    start: Annotated[str | None, typer.Option("--from", help="First report to train on (default: the first).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last report to train on (default: the last).")] = None,
    rule: Annotated[str, typer.Option(help="Threshold rule on the out-of-fold forecasts (hss, tss, cost:K).")] = "hss",
    days: Annotated[int, typer.Option(min=1, max=3, help="1: the next 24 h; 3: also the second and third 24 h "
                                                         "after each report (targets >=C@d2 ... X@d3).")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Fit the region model (C, M, X in the next day per NOAA region) on the store's region reports (`ingest
    regions`) and flare catalogue (`ingest events`, with NOAA region numbers), on the features SWPC's
    solar_regions.json gives, and save it: a sealed JSON card and, for boosted trees, npz arrays (no pickle).

    Per target the method (logistic regression or boosted trees) is chosen on out-of-fold Brier over the regions'
    home years; `flarecast combine` takes the directory as a member beside a GOES model, and `flarecast forecast`
    then prints per-region rows from `--regions` files (docs/regions.md).

    [bold]Examples[/]:
      flarecast train-regions --store data/regions.zarr --out models/regions
      flarecast train-regions --store data/regions.zarr --from 2010-01-01 --to 2013-12-31 --out models/regions
      flarecast train-regions --store data/regions.zarr --days 3 --out models/regions-3day
    """
    from flarecast.report.tables import region_model_summary
    from flarecast.train.region_dir import train_regions

    card = train_regions(store, out_dir, start=start, end=end, rule=rule, days=days)
    emit(card, as_json, region_model_summary, wrote=[out_dir / "region_model.json"])
