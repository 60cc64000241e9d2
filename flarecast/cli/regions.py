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
