"""Commands that make data: ``simulate``, ``ingest`` and ``samples``."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from flarecast.cli._util import command, emit, progress_bar
from flarecast.cli.options import DEFAULT_STORE, ConfigArg, JsonOpt, OverridesArg, StoreOpt
from flarecast.errors import FlarecastError


@command("simulate")
def simulate_cli(
    outdir: Annotated[Path, typer.Argument(help="Folder to write goes/, events/ and sharp/ into.")],
    days: Annotated[int, typer.Option(help="Number of UTC days to simulate.")] = 30,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 0,
    start: Annotated[str, typer.Option(help="First UTC day (YYYY-MM-DD).")] = "2018-01-01",
    activity: Annotated[float, typer.Option(help="Active-region emergence rate; 1 moderate, 4 solar maximum.")] = 1.0,
    one_second: Annotated[bool, typer.Option("--one-second", help="Also write 1-second GOES-16 L2 flx1s files into goes-1s/ (86,400 rows, ~1.2 MB a day).")] = False,
    as_json: JsonOpt = False,
):
    """Write simulated data in real formats: GOES-16 L2 avg1m netCDF, SWPC edited events, JSOC SHARP CSV.

    [bold]Example[/]: flarecast simulate data/sim --days 60 --seed 1

      flarecast simulate data/sim1s --days 30 --one-second
    """
    from flarecast.report.tables import simulate_summary
    from flarecast.simulate.generate import simulate

    with progress_bar(not as_json) as p:
        summary = simulate(outdir, days=days, seed=seed, start=start, activity=activity, one_second=one_second,
                           progress=p.task("Simulating days", days * (2 if one_second else 1)))
    emit(summary.to_dict(), as_json, simulate_summary)


@command("ingest")
def ingest_cli(
    kind: Annotated[str, typer.Argument(help="What the files hold: goes, sharp, events or regions (NOAA SRS, solar_regions.json).")],
    paths: Annotated[list[Path], typer.Argument(help="Files, folders (searched recursively) or globs.")],
    store: StoreOpt = DEFAULT_STORE,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip unreadable files and bad rows (cut short, impossible dates), list them, go on.")] = False,
    basis: Annotated[str | None, typer.Option(help="Flux basis of a plain CSV: swpc or true.")] = None,
    satellite: Annotated[int | None, typer.Option(help="GOES satellite number of a plain CSV.")] = None,
    as_json: JsonOpt = False,
):
    """Read GOES XRS, SHARP or flare-catalogue files into the store (atomic, idempotent).

    [bold]Examples[/]:
      flarecast ingest goes data/raw/goes/*.nc
      flarecast ingest events ../shared/data/real/events/ngdc --store data/store.zarr
      flarecast ingest goes hourly.csv --basis swpc --satellite 15 --json
      flarecast ingest regions data/raw/srs data/raw/swpc/solar_regions.json
    """
    if kind not in ("goes", "sharp", "events", "regions"):
        raise FlarecastError(f"kind {kind!r}: expected one of ['goes', 'sharp', 'events', 'regions']")
    from flarecast.ingest.pipeline import IngestWarning, ingest
    from flarecast.report.tables import ingest_summary

    # the report's warnings are printed once, below the table (and are in --json), not again as Python warnings
    with progress_bar(not as_json) as p, warnings.catch_warnings():
        warnings.simplefilter("ignore", IngestWarning)
        report = ingest(kind, paths, store=store, skip_bad=skip_bad, basis=basis, satellite=satellite,
                        progress=p.task(f"Ingesting {kind}", None))
    emit(report.to_dict(), as_json, ingest_summary)


@command("samples")
def samples_cli(
    config: ConfigArg,
    overrides: OverridesArg = None,
    store: StoreOpt = DEFAULT_STORE,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the sample index (.parquet or .nc).")] = None,
    as_json: JsonOpt = False,
):
    """Build windows, labels and splits; print class counts per split and target, dropped windows and gaps.

    The index file has one row per window: issue_time (UTC), region (HARP; empty for full-disk), label
    (0 quiet, 1 C, 2 M, 3 X), one boolean column per target, split.

    [bold]Example[/]: flarecast samples configs/real-goes-hourly.yaml samples.horizon=12h --out samples.parquet
    """
    from flarecast.config import load_config
    from flarecast.report.tables import samples_summary
    from flarecast.samples import describe

    emit(describe(store, load_config(config, overrides).samples, index=out_file), as_json, samples_summary)
