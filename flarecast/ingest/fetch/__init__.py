"""Fetch: get the raw files flarecast reads from the archives that publish them, then optionally ingest them.

One module per source (:mod:`~flarecast.ingest.fetch.goes` NCEI GOES XRS, :mod:`~flarecast.ingest.fetch.swpc`
SWPC real-time JSON, :mod:`~flarecast.ingest.fetch.events` flare catalogues, :mod:`~flarecast.ingest.fetch.sharp`
JSOC SHARP keywords, :mod:`~flarecast.ingest.fetch.srs` NOAA's Solar Region Summaries), the download mechanics they share (:mod:`~flarecast.ingest.fetch.download`) and the
base-URL settings (:mod:`~flarecast.ingest.fetch.settings`).

>>> from flarecast.ingest.fetch import fetch
>>> fetch("goes", start="2017-09-04", end="2017-09-08", satellite=16).summary  # doctest: +SKIP
'goes: fetched 5, skipped 0, failed 0 into data/raw/goes'
"""

from __future__ import annotations

from pathlib import Path

from flarecast.errors import ConfigError
from flarecast.ingest.fetch.deadline import DEADLINE, FILE_DEADLINE, Deadline
from flarecast.ingest.fetch.download import FetchReport
from flarecast.ingest.fetch.events import fetch_events
from flarecast.ingest.fetch.goes import fetch_goes, primary_satellite
from flarecast.ingest.fetch.settings import DEFAULT_URLS, ENV_VARS, base_urls
from flarecast.ingest.fetch.sharp import fetch_sharp
from flarecast.ingest.fetch.srs import fetch_srs
from flarecast.ingest.fetch.swpc import PRODUCTS, fetch_swpc, ingest_paths
from flarecast.ingest.pipeline import ingest

SOURCES = ("goes", "swpc", "events", "sharp", "srs")
DEFAULT_OUT = {"goes": "data/raw/goes", "swpc": "data/raw/swpc", "events": "data/raw/events",
               "sharp": "data/raw/sharp", "srs": "data/raw/srs"}
KIND = {"goes": "goes", "events": "events", "sharp": "sharp", "srs": "regions"}
"""Store group each archive source's files go to (SWPC: by product, see :data:`swpc.INGEST_KIND`)."""

__all__ = ["DEADLINE", "DEFAULT_OUT", "DEFAULT_URLS", "ENV_VARS", "FILE_DEADLINE", "PRODUCTS", "SOURCES",
           "FetchReport", "base_urls", "fetch", "fetch_events", "fetch_goes", "fetch_sharp", "fetch_srs", "fetch_swpc",
           "primary_satellite"]


def fetch(source: str, *, out: str | Path | None = None, store: str | Path | None = None, **options) -> FetchReport:
    """Fetch from one source and, when ``store`` is given, ingest what the folder holds of it.

    ``options`` go to :func:`fetch_goes` (``start``, ``end``, ``satellite``, ``resolution``),
    :func:`fetch_swpc` (``products``), :func:`fetch_events` (``start``, ``end``, ``source`` as
    ``events_source``) or :func:`fetch_sharp` (``start``, ``end``, ``harp``, ``nrt``), plus ``urls``,
    ``dry_run`` and the download options (``deadline``: seconds for every request of this fetch together,
    default :data:`~flarecast.ingest.fetch.deadline.DEADLINE`; ``file_deadline``: seconds for one listing,
    document or file, default :data:`~flarecast.ingest.fetch.deadline.FILE_DEADLINE`). Ingest takes every file of the source in ``out`` (fetched now or
    before): ingest skips files it already holds, so a folder filled over several runs ends up complete.
    Nothing is ingested on a dry run.
    """
    if source not in SOURCES:
        raise ConfigError(f"fetch source {source!r}: expected one of {list(SOURCES)}")
    out = Path(out if out is not None else DEFAULT_OUT[source])
    options["deadline"] = Deadline.start(options.get("deadline"))  # the command's clock starts here
    if source == "swpc":
        report = fetch_swpc(options.pop("products", None), out=out, **options)
    else:
        start, end = options.pop("start"), options.pop("end")
        if source == "events":
            options["source"] = options.pop("events_source", "flsum")
        report = {"goes": fetch_goes, "events": fetch_events, "sharp": fetch_sharp,
                  "srs": fetch_srs}[source](start, end, out=out, **options)
    if store is not None and not report.dry_run:
        paths = ingest_paths(report) if source == "swpc" else {KIND[source]: _files(report)}
        for kind, files in paths.items():
            if files:
                report.ingested[kind] = ingest(kind, files, store=store).to_dict()
    return report


def _files(report: FetchReport) -> list[str]:
    """The data files a report names: fetched now or present from before."""
    return sorted(set(report.fetched + report.skipped))
