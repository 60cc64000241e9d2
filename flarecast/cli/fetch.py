"""``flarecast fetch goes|swpc|events|sharp``: get raw files from NOAA, SWPC and JSOC, optionally ingest them.

Each command prints one line per failure (URL and HTTP status or timeout) on stderr, then a summary of what
was fetched, skipped and failed; it exits 1 when a file failed (the others are kept), 2 on bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from flarecast.cli._util import DEFAULT_STORE, JsonOpt, app, err, out, print_json, user_errors

fetch_app = typer.Typer(
    help="Download GOES XRS, SWPC real-time, flare-catalogue and SHARP files from their archives.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(fetch_app, name="fetch")

FromOpt = Annotated[str, typer.Option("--from", help="First UTC day (YYYY-MM-DD).")]
ToOpt = Annotated[str, typer.Option("--to", help="Last UTC day, inclusive (YYYY-MM-DD).")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Folder for the files (default data/raw/<source>).")]
DryOpt = Annotated[bool, typer.Option("--dry-run", help="List the URLs that would be fetched; download nothing.")]
IngestOpt = Annotated[bool, typer.Option("--ingest", help="Ingest the source's files into --store afterwards.")]
StoreOpt = Annotated[Path, typer.Option("--store", "-s", help="Store to ingest into (with --ingest).")]
RetriesOpt = Annotated[int, typer.Option(help="Retries of a failed download (with backoff).", min=0)]
TimeoutOpt = Annotated[float, typer.Option(help="Seconds without an answer before a request fails.", min=0.01)]


def _run(source: str, as_json: bool, out_dir: Path | None, ingest: bool, store: Path, **options) -> None:
    from flarecast.ingest.fetch import fetch

    show = not as_json and sys.stderr.isatty()
    report = fetch(source, out=out_dir, store=store if ingest else None, progress=show, **options)
    if as_json:
        print_json(report.to_dict())
    else:
        for line in report.failure_lines:
            err.print(f"[bold red]failed:[/] {line}", highlight=False, soft_wrap=True)
        if report.dry_run:
            for url in report.planned:
                out.print(url, highlight=False, soft_wrap=True)
        out.print(report.summary, highlight=False)
        for kind, ing in report.ingested.items():
            out.print(f"ingested into {store} ({kind}): {len(ing['files'])} files, {ing['rows_added']} rows added, "
                      f"{len(ing['skipped'])} skipped", highlight=False)
    if report.failed:
        raise typer.Exit(1)


@fetch_app.command("goes")
@user_errors
def goes_cli(
    start: FromOpt,
    end: ToOpt,
    satellite: Annotated[int | None, typer.Option(help="GOES number (default: NOAA's primary of each day).")] = None,
    resolution: Annotated[str, typer.Option(help="avg1m (1-minute averages) or flx1s (full cadence).")] = "avg1m",
    out_dir: OutOpt = None,
    dry_run: DryOpt = False,
    ingest: IngestOpt = False,
    store: StoreOpt = DEFAULT_STORE,
    retries: RetriesOpt = 3,
    timeout: TimeoutOpt = 60.0,
    as_json: JsonOpt = False,
):
    """Daily GOES XRS files from NOAA NCEI: GOES-R L2 (16 onward) or reprocessed GOES 8-15 science files.

    Lists each month's directory and takes the newest version of each day's file; files already present
    and complete are skipped, so a re-run downloads only what is new.

    [bold]Examples[/]:
      flarecast fetch goes --from 2017-09-04 --to 2017-09-08 --satellite 16
      flarecast fetch goes --from 2011-02-13 --to 2011-02-16 --dry-run
      flarecast fetch goes --from 2024-05-08 --to 2024-05-12 --ingest --store data/store.zarr
    """
    _run("goes", as_json, out_dir, ingest, store, start=start, end=end, satellite=satellite, resolution=resolution,
         dry_run=dry_run, retries=retries, timeout=timeout)


@fetch_app.command("swpc")
@user_errors
def swpc_cli(
    product: Annotated[list[str] | None, typer.Option(
        help="Product to fetch (repeat for more; default all): xrays-7-day, xrays-1-day, xray-flares-7-day, "
             "solar_regions, solar_probabilities.")] = None,
    out_dir: OutOpt = None,
    dry_run: DryOpt = False,
    ingest: IngestOpt = False,
    store: StoreOpt = DEFAULT_STORE,
    retries: RetriesOpt = 3,
    timeout: TimeoutOpt = 60.0,
    as_json: JsonOpt = False,
):
    """SWPC's real-time JSON products, saved with the fetch time in the name (a copy identical to the last
    one is dropped). With --ingest, the X-ray flux goes to the store's goes group, the flares to events.

    [bold]Examples[/]:
      flarecast fetch swpc
      flarecast fetch swpc --product xrays-7-day --ingest --store data/store.zarr
    """
    _run("swpc", as_json, out_dir, ingest, store, products=product or None, dry_run=dry_run, retries=retries,
         timeout=timeout)


@fetch_app.command("events")
@user_errors
def events_cli(
    start: FromOpt,
    end: ToOpt,
    source: Annotated[str, typer.Option(help="flsum (GOES-R flare summary, NCEI), swpc (daily event reports) "
                                             "or hek (HEK flare list via sunpy).")] = "flsum",
    satellite: Annotated[int | None, typer.Option(help="GOES-R satellite of the flare summary.")] = None,
    out_dir: OutOpt = None,
    dry_run: DryOpt = False,
    ingest: IngestOpt = False,
    store: StoreOpt = DEFAULT_STORE,
    retries: RetriesOpt = 3,
    timeout: TimeoutOpt = 60.0,
    as_json: JsonOpt = False,
):
    """Flare catalogues for a range of days.

    [bold]Examples[/]:
      flarecast fetch events --from 2017-09-04 --to 2017-09-08
      flarecast fetch events --from 2024-05-08 --to 2024-05-12 --source swpc --ingest
      flarecast fetch events --from 2011-02-13 --to 2011-02-16 --source hek --out data/raw/hek
    """
    _run("events", as_json, out_dir, ingest, store, start=start, end=end, events_source=source,
         satellite=satellite, dry_run=dry_run, retries=retries, timeout=timeout)


@fetch_app.command("sharp")
@user_errors
def sharp_cli(
    start: FromOpt,
    end: ToOpt,
    harp: Annotated[int | None, typer.Option(help="One HARP number (default: all HARPs of the days).")] = None,
    nrt: Annotated[bool, typer.Option("--nrt", help="Near-real-time series hmi.sharp_cea_720s_nrt.")] = False,
    cadence: Annotated[str, typer.Option(help="Step between records: 12m (every record), 96m, 1h.")] = "96m",
    keyword: Annotated[list[str] | None, typer.Option(
        help="JSOC keyword to fetch (repeat for more; default the SHARP space-weather set and areas).")] = None,
    out_dir: OutOpt = None,
    dry_run: DryOpt = False,
    ingest: IngestOpt = False,
    store: StoreOpt = DEFAULT_STORE,
    timeout: TimeoutOpt = 60.0,
    as_json: JsonOpt = False,
):
    """SHARP keywords from JSOC (through drms) as the keyword CSV `ingest sharp` reads, plus harp_to_noaa.txt.

    [bold]Examples[/]:
      flarecast fetch sharp --from 2011-02-14 --to 2011-02-15 --harp 377
      flarecast fetch sharp --from 2013-11-01 --to 2013-11-02 --keyword USFLUX --keyword R_VALUE
      flarecast fetch sharp --from 2026-01-29 --to 2026-01-30 --nrt --ingest
    """
    from flarecast.ingest.fetch.sharp import KEYWORDS

    _run("sharp", as_json, out_dir, ingest, store, start=start, end=end, harp=harp, nrt=nrt, cadence=cadence,
         keywords=tuple(keyword or KEYWORDS), dry_run=dry_run, timeout=timeout)
