"""Commands that make data: ``simulate``, ``ingest`` and ``samples``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flarecast.cli._util import (
    DEFAULT_STORE,
    JsonOpt,
    StoreOpt,
    app,
    emit,
    out,
    print_json,
    progress_bar,
    user_errors,
)
from flarecast.errors import FlarecastError


@app.command("simulate")
@user_errors
def simulate_cli(
    outdir: Annotated[Path, typer.Argument(help="Folder to write goes/, events/ and sharp/ into.")],
    days: Annotated[int, typer.Option(help="Number of UTC days to simulate.")] = 30,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 0,
    start: Annotated[str, typer.Option(help="First UTC day (YYYY-MM-DD).")] = "2018-01-01",
    activity: Annotated[float, typer.Option(help="Active-region emergence rate; 1 moderate, 4 solar maximum.")] = 1.0,
    as_json: JsonOpt = False,
):
    """Write simulated data in real formats: GOES-16 L2 avg1m netCDF, SWPC edited events, JSOC SHARP CSV.

    [bold]Example[/]: flarecast simulate data/sim --days 60 --seed 1
    """
    from flarecast.simulate.generate import simulate

    with progress_bar(not as_json) as p:
        summary = simulate(outdir, days=days, seed=seed, start=start, activity=activity,
                           progress=p.task("Simulating days", days))
    if as_json:
        print_json(summary.to_dict())
    else:
        out.print(f"wrote {days} days to {outdir}: flares by class {summary.to_dict().get('flares_by_class')}")


@app.command("ingest")
@user_errors
def ingest_cli(
    kind: Annotated[str, typer.Argument(help="What the files hold: goes, sharp or events.")],
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
    """
    if kind not in ("goes", "sharp", "events"):
        raise FlarecastError(f"kind {kind!r}: expected one of ['goes', 'sharp', 'events']")
    from flarecast.ingest.pipeline import ingest

    with progress_bar(not as_json) as p:
        report = ingest(kind, paths, store=store, skip_bad=skip_bad, basis=basis, satellite=satellite,
                        progress=p.task(f"Ingesting {kind}", None))
    data = report.to_dict()
    if as_json:
        print_json(data)
        return
    from flarecast.report.text import ingest_table

    out.print(ingest_table(data))


@app.command("samples")
@user_errors
def samples_cli(
    config: Annotated[Path, typer.Argument(help="YAML config with a samples section.")],
    overrides: Annotated[list[str] | None, typer.Argument(help="Dotted overrides: samples.window=12h")] = None,
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
