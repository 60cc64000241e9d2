"""``flarecast fetch goes|swpc|events|sharp``: get raw files from NOAA, SWPC and JSOC, optionally ingest them.

Each command prints one line per failure (URL and HTTP status, timeout, deadline or cap) and one per bad copy
moved to quarantine on stderr, then a summary of what was fetched, skipped and failed; it exits 1 when a file
failed (the others are kept), 2 on bad input.

A source's command states only its own options and returns them as the keyword arguments of
:func:`flarecast.ingest.fetch.fetch`; :func:`fetch_command` adds the options every source shares (``--out``,
``--dry-run``, ``--ingest``, ``--store``, ``--retries``, ``--timeout``, ``--deadline``, ``--file-deadline``,
``--json``), fetches and prints. The defaults of the last three are those of
:mod:`flarecast.ingest.fetch.deadline` (checked by the tests).
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Annotated

import typer

from flarecast.cli._util import app, command, emit
from flarecast.cli.options import DEFAULT_STORE, JsonOpt

fetch_app = typer.Typer(
    help="Download GOES XRS, SWPC real-time, flare-catalogue and SHARP files from their archives.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(fetch_app, name="fetch")

FromOpt = Annotated[str, typer.Option("--from", help="First UTC day (YYYY-MM-DD).")]
ToOpt = Annotated[str, typer.Option("--to", help="Last UTC day, inclusive (YYYY-MM-DD).")]

SHARED = {  # name: (annotation, default), in the order --help lists them after a source's own options
    "out_dir": (Annotated[Path | None, typer.Option(
        "--out", help="Folder for the files (default data/raw/<source>).")], None),
    "dry_run": (Annotated[bool, typer.Option(
        "--dry-run", help="List the URLs that would be fetched; download nothing.")], False),
    "ingest": (Annotated[bool, typer.Option(
        "--ingest", help="Ingest the source's files into --store afterwards.")], False),
    "store": (Annotated[Path, typer.Option("--store", "-s", help="Store to ingest into (with --ingest).")],
              DEFAULT_STORE),
    "retries": (Annotated[int, typer.Option(help="Retries of a failed download (with backoff).", min=0)], 3),
    "timeout": (Annotated[float, typer.Option(help="Seconds without a byte before a request fails.",
                                              min=0.01)], 60.0),
    "deadline": (Annotated[float, typer.Option(
        help="Seconds the whole command may spend on the network, listings, files and retries together, "
             "however slowly a server trickles; what is left then fails in one line each.", min=0.01)], 3600.0),
    "file_deadline": (Annotated[float, typer.Option(
        "--file-deadline", help="Seconds one listing, document, file or query may take in all (each retry "
                                "starts a new one).", min=0.01)], 900.0),
    "as_json": (JsonOpt, False),
}


def fetch_command(source: str, *, without: tuple[str, ...] = ()):
    """Register the decorated function as ``flarecast fetch SOURCE``: its parameters, then the :data:`SHARED`
    options (less ``without``); it returns the source's own options for :func:`flarecast.ingest.fetch.fetch`."""
    shared = [name for name in SHARED if name not in without]

    def register(fn):
        def run(**kwargs):
            from flarecast.ingest.fetch import fetch
            from flarecast.report.tables import fetch_failures, fetch_summary

            common = {name: kwargs.pop(name) for name in shared}
            as_json, ingest, store = common.pop("as_json"), common.pop("ingest"), common.pop("store")
            report = fetch(source, out=common.pop("out_dir"), store=store if ingest else None,
                           progress=not as_json and sys.stderr.isatty(), **common, **fn(**kwargs))
            emit(report.to_dict(), as_json, fetch_summary, stderr=fetch_failures)
            if report.failed:
                raise typer.Exit(1)

        own = list(inspect.signature(fn, eval_str=True).parameters.values())
        run.__signature__ = inspect.Signature(own + [inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, annotation=SHARED[name][0], default=SHARED[name][1])
            for name in shared])
        run.__doc__ = _with_archives(fn.__doc__ or "", source)
        command(source, fetch_app)(run)
        return fn

    return register


def _with_archives(doc: str, source: str) -> str:
    """``doc`` with a paragraph before its examples naming the variables that point ``source``'s archives at a
    mirror or a local copy."""
    from flarecast.defaults import DEFAULT_URLS, ENV_VARS, SOURCE_ARCHIVES

    names = ", ".join(f"{ENV_VARS[k]} (default {DEFAULT_URLS[k]})" for k in SOURCE_ARCHIVES[source])
    para = f"Archive base URLs, to fetch from a mirror or a local copy: {names} (docs/fetch.md).\n\n"
    head, sep, examples = inspect.cleandoc(doc).partition("[bold]Examples[/]")
    return head + para + sep + examples


@fetch_command("goes")
def goes_cli(
    start: FromOpt,
    end: ToOpt,
    satellite: Annotated[int | None, typer.Option(help="GOES number (default: NOAA's primary of each day).")] = None,
    resolution: Annotated[str, typer.Option(help="avg1m (1-minute averages) or flx1s (full cadence).")] = "avg1m",
) -> dict:
    """Daily GOES XRS files from NOAA NCEI: GOES-R L2 (16 onward) or reprocessed GOES 8-15 science files.

    Lists each month's directory and takes the newest version of each day's file; files already present
    and complete are skipped, so a re-run downloads only what is new.

    [bold]Examples[/]:
      flarecast fetch goes --from 2017-09-04 --to 2017-09-08 --satellite 16
      flarecast fetch goes --from 2011-02-13 --to 2011-02-16 --dry-run
      flarecast fetch goes --from 2024-05-08 --to 2024-05-12 --ingest --store data/store.zarr
    """
    return {"start": start, "end": end, "satellite": satellite, "resolution": resolution}


@fetch_command("swpc")
def swpc_cli(
    product: Annotated[list[str] | None, typer.Option(
        help="Product to fetch (repeat for more; default all): xrays-7-day, xrays-1-day, xray-flares-7-day, "
             "solar_regions, solar_probabilities.")] = None,
) -> dict:
    """SWPC's real-time JSON products, saved with the fetch time in the name (a copy identical to the last
    one is dropped). With --ingest, the X-ray flux goes to the store's goes group, the flares to events.

    [bold]Examples[/]:
      flarecast fetch swpc
      flarecast fetch swpc --product xrays-7-day --ingest --store data/store.zarr
    """
    return {"products": product or None}


@fetch_command("events")
def events_cli(
    start: FromOpt,
    end: ToOpt,
    source: Annotated[str, typer.Option(help="flsum (GOES-R flare summary, NCEI), swpc (daily event reports) "
                                             "or hek (HEK flare list via sunpy).")] = "flsum",
    satellite: Annotated[int | None, typer.Option(help="GOES-R satellite of the flare summary.")] = None,
) -> dict:
    """Flare catalogues for a range of days.

    [bold]Examples[/]:
      flarecast fetch events --from 2017-09-04 --to 2017-09-08
      flarecast fetch events --from 2024-05-08 --to 2024-05-12 --source swpc --ingest
      flarecast fetch events --from 2011-02-13 --to 2011-02-16 --source hek --out data/raw/hek
    """
    return {"start": start, "end": end, "events_source": source, "satellite": satellite}


@fetch_command("srs")
def srs_cli(start: FromOpt, end: ToOpt) -> dict:
    """NOAA's daily Solar Region Summaries (SRS text, one per day, 1996 onward) for `ingest regions`.

    [bold]Examples[/]:
      flarecast fetch srs --from 2015-01-01 --to 2015-01-31
      flarecast fetch srs --from 2024-05-08 --to 2024-05-14 --ingest
    """
    return {"start": start, "end": end}


@fetch_command("sharp", without=("retries",))
def sharp_cli(
    start: FromOpt,
    end: ToOpt,
    harp: Annotated[int | None, typer.Option(help="One HARP number (default: all HARPs of the days).")] = None,
    nrt: Annotated[bool, typer.Option("--nrt", help="Near-real-time series hmi.sharp_cea_720s_nrt.")] = False,
    cadence: Annotated[str, typer.Option(help="Step between records: 12m (every record), 96m, 1h.")] = "96m",
    keyword: Annotated[list[str] | None, typer.Option(
        help="JSOC keyword to fetch (repeat for more; default the SHARP space-weather set and areas).")] = None,
) -> dict:
    """SHARP keywords from JSOC (through drms) as the keyword CSV `ingest sharp` reads, plus harp_to_noaa.txt.

    [bold]Examples[/]:
      flarecast fetch sharp --from 2011-02-14 --to 2011-02-15 --harp 377
      flarecast fetch sharp --from 2013-11-01 --to 2013-11-02 --keyword USFLUX --keyword R_VALUE
      flarecast fetch sharp --from 2026-01-29 --to 2026-01-30 --nrt --ingest
    """
    return {"start": start, "end": end, "harp": harp, "nrt": nrt, "cadence": cadence,
            **({"keywords": tuple(keyword)} if keyword else {})}
