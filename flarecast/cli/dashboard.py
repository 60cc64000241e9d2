"""``flarecast dashboard`` and ``flarecast combine``: the operational products."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flarecast.cli._util import command, emit
from flarecast.cli.options import DEFAULT_STORE, DeviceOpt, JsonOpt, StoreOpt


@command("dashboard")
def dashboard_cli(
    models: Annotated[list[Path], typer.Argument(help="Model directories or combinations; the first one's "
                                                      "forecast is the headline, the others are shown beside it.",
                                                 metavar="MODEL [MODEL]...")],
    store: StoreOpt = DEFAULT_STORE,
    at: Annotated[str | None, typer.Option("--at", help="Issue time (UTC).")] = None,
    latest: Annotated[bool, typer.Option("--latest", help="Issue at the last step the data reach.")] = False,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for index.html and forecast.json.")] = Path(
        "runs/dashboard"),
    device: DeviceOpt = "cpu",
    as_json: JsonOpt = False,
):
    """Write OUT/index.html: one self-contained page (no network) for the morning briefing.

    It shows the latest full-disk and per-region probabilities with thresholds and base rates, the last 7 days
    of GOES XRS with the catalogue's flares, the last 30 days of forecasts against what happened, and the model
    cards; OUT/forecast.json is the forecast it shows.

    [bold]Examples[/]:
      flarecast dashboard models/goes models/sharp --store data/store.zarr --latest --out runs/dashboard
      flarecast dashboard models/combined --store data/ops.zarr --at 2013-05-14T00:00 --out runs/dash-may
    """
    from flarecast.jobs.dashboard import dashboard

    page = dashboard(models, store=store, at=at, latest=latest, out=out_dir, device=device)
    written = {"page": str(page), "forecast": str(page.parent / "forecast.json")}
    emit(written, as_json, wrote=list(written.values()))


@command("combine")
def combine_cli(
    models: Annotated[list[Path], typer.Argument(help="Member model directories (GOES full-disk, SHARP regions, a "
                                                      "region model of `train-regions`).",
                                                 metavar="MODEL [MODEL]...")],
    store: StoreOpt = DEFAULT_STORE,
    start: Annotated[str, typer.Option("--from", help="First issue time to fit on (the members' validation "
                                                      "period, never their training or test).")] = ...,
    end: Annotated[str, typer.Option("--to", help="Last issue time to fit on.")] = ...,
    every: Annotated[str, typer.Option(help="Step of the fitting issue times.")] = "1D",
    out_dir: Annotated[Path, typer.Option("--out", help="Combination directory to write (combination.json).")] = Path(
        "models/combined"),
    device: DeviceOpt = "cpu",
    as_json: JsonOpt = False,
):
    """Fit a full-disk combination of models: SHARP regions combined as 1 - prod(1 - p_i), then a logistic
    regression on every member's logit, fitted on labelled issue times; one member alone is recalibrated.

    The card (OUT/combination.json) holds the weights, the threshold and base rate on the fitting days and the
    members' ids; `flarecast forecast OUT` then forecasts with it.

    [bold]Examples[/]:
      flarecast combine models/goes models/sharp --store data/ops.zarr --from 2012-10-01 --to 2013-04-30 --out models/combined
      flarecast combine models/sharp --store data/ops.zarr --from 2012-10-01 --to 2013-04-30 --out models/sharp-fd
      flarecast combine models/goes models/regions --store data/regions.zarr --from 2013-01-01 --to 2013-06-30 --out models/goes+regions
    """
    from flarecast.forecast.combine import fit_combination
    from flarecast.report.tables import combination_summary

    card = fit_combination(models, store=store, start=start, end=end, every=every, out=out_dir, device=device)
    emit(card.to_dict(), as_json, lambda _: combination_summary(card), wrote=[out_dir / "combination.json"])
