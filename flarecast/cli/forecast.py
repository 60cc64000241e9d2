"""``flarecast forecast`` and ``flarecast card``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flarecast.cli._util import command, emit
from flarecast.cli.options import DEFAULT_STORE, DeviceOpt, JsonOpt, TrustOpt

FilesOpt = Annotated[list[str] | None, typer.Option(
    help="Files, folders or quoted globs to ingest into a temporary store (repeat the option for more).")]


@command("forecast")
def forecast_cli(
    models: Annotated[list[Path], typer.Argument(
        help="Model directory (`flarecast train`) or combination (`flarecast combine`); more models are fallbacks, "
             "tried in order where the first one's input is missing.", metavar="MODEL [MODEL]...")],
    store: Annotated[Path | None, typer.Option("--store", "-s", help="Store to read (default data/store.zarr "
                                                                     "unless files are given).")] = None,
    goes: FilesOpt = None,
    events: FilesOpt = None,
    sharp: FilesOpt = None,
    regions: Annotated[list[str] | None, typer.Option(
        help="NOAA region reports (solar_regions.json from `fetch swpc`, or SRS) for a combination with a region "
             "model member (`train-regions`, `combine`); repeat for more.")] = None,
    at: Annotated[list[str] | None, typer.Option("--at", help="Issue time (UTC, on the model's step grid); "
                                                              "repeat for more.")] = None,
    latest: Annotated[bool, typer.Option("--latest", help="Issue at the last step the data reach.")] = False,
    start: Annotated[str | None, typer.Option("--from", help="First issue time of a series.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last issue time of a series (inclusive).")] = None,
    every: Annotated[str | None, typer.Option(help="Step of the series (default: the model's stride).")] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="No fallback: refuse issue times whose input is missing (one line, exit 2).")] = False,
    skip_refused: Annotated[bool, typer.Option(
        "--skip-refused", help="No fallback either: list refused issue times in the output and forecast the rest.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the forecasts (.json or .csv).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="flarecast (JSON or CSV by --out's suffix) or ccmc (the CCMC "
                                                      "flare scoreboard's JSON).")] = "flarecast",
    device: DeviceOpt = "cpu",
    trust_modified: TrustOpt = False,
    as_json: JsonOpt = False,
):
    """Issue probabilities for (t, t + horizon] at issue times t, with the decision at the card's threshold.

    Every issue time gets a forecast: where the first model's input is missing beyond its tolerance, the next
    MODEL whose input is present forecasts it, else the Poisson rate of the catalogue's recent flares, else the
    card's climatology; those rows say `degraded` and why (docs/operations.md). `--strict` refuses them instead
    (one line, exit 2). Inputs whose channels, cadence or units do not fit the model card are always refused.

    A combination with a region model member (`flarecast train-regions`, then `flarecast combine MODEL REGIONS`)
    also reads NOAA's region reports (`--regions`: `solar_regions.json` from `fetch swpc`, or SRS) and prints each
    region of the latest report (location, McIntosh class, P(C+), P(M+), P(X), SWPC's own) beside the full disk.

    [bold]Examples[/]:
      flarecast forecast models/latest --latest --out runs/forecast.json
      flarecast forecast models/goes models/sharp --from 2013-01-01 --to 2013-12-31 --every 1D --out year.csv
      flarecast forecast models/latest --goes 'data/raw/goes/*.nc' --at 2017-09-06T12:00 --strict
      flarecast forecast models/sharp --latest --format ccmc --out runs/scoreboard.json
      flarecast forecast models/edited --latest --trust-modified
      flarecast forecast models/goes+regions --goes data/raw/swpc/xrays-7-day.json --events data/raw/swpc/xray-flares-7-day.json --regions data/raw/swpc/solar_regions.json --latest
    """
    from flarecast.forecast.ops import issue_forecast
    from flarecast.forecast.request import ForecastRequest, Inputs, IssueTimes
    from flarecast.report.tables import forecast_summary

    files = bool(goes or events or sharp or regions)
    inputs = Inputs(store if store is not None or files else DEFAULT_STORE, goes=goes, events=events, sharp=sharp,
                    regions=regions)
    request = ForecastRequest(models, inputs, IssueTimes(at=at, latest=latest, start=start, end=end, every=every),
                              strict=strict, skip_refused=skip_refused, device=device, trust_modified=trust_modified)
    doc = issue_forecast(request, out=out_file, fmt=fmt)
    emit(doc, as_json, lambda d: forecast_summary(d, out_file))


@command("card")
def card_cli(
    model: Annotated[Path, typer.Argument(help="Model directory written by `flarecast train` (or `train-regions`).")],
    trust_modified: TrustOpt = False,
    as_json: JsonOpt = False,
):
    """Print a model's card: what it forecasts, from which inputs, how it was trained and validated (a region model
    of `flarecast train-regions` too: its methods, out-of-fold Brier scores and thresholds).

    [bold]Examples[/]:
      flarecast card models/latest
      flarecast card models/latest --json
      flarecast card models/edited --trust-modified
      flarecast card models/regions
    """
    from flarecast.model.modeldir import model_id, read_card
    from flarecast.model.region_file import is_region_model, read_region_model
    from flarecast.report.tables import card_summary, region_model_summary

    if is_region_model(model):  # sealed without a trust option: an edited region card is refused
        region = read_region_model(model)
        emit({"model_id": region.model_id, **region.card}, as_json, region_model_summary)
        return

    card, mid = read_card(model, trust_modified=trust_modified), model_id(model, trust_modified=trust_modified)
    emit({"model_id": mid, **card.to_dict()}, as_json, lambda _: card_summary(card, mid, model))

