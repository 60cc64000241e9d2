"""SWPC's real-time JSON products, saved under the time they were fetched.

The products are rolling windows (the last 7 days, the last day) that SWPC rewrites every minute, so a copy
is only meaningful with its fetch time: ``xrays-7-day_20260130T061500Z.json``. A copy byte-identical to the
newest earlier copy of the same product is dropped (counted as skipped), so fetching again when nothing
changed adds no file, and a later ingest sees the same inputs. A copy that is not whole JSON (an HTML error
page, a cut file) is never kept: a new one is refused before it gets its name, and an old one found in the
folder is moved to ``quarantine/`` and reported.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flarecast.errors import ConfigError
from flarecast.ingest.fetch.download import FetchReport, Target, download
from flarecast.ingest.fetch.settings import base_urls
from flarecast.ingest.fetch.verify import problem

PRODUCTS = {
    "xrays-7-day": "json/goes/primary/xrays-7-day.json",
    "xrays-1-day": "json/goes/primary/xrays-1-day.json",
    "xray-flares-7-day": "json/goes/primary/xray-flares-7-day.json",
    "solar_regions": "json/solar_regions.json",
    "solar_probabilities": "json/solar_probabilities.json",
}
"""Product name -> path under the SWPC base URL."""

INGEST_KIND = {"xrays-7-day": "goes", "xrays-1-day": "goes", "xray-flares-7-day": "events",
               "solar_regions": "regions"}
"""Products flarecast's readers ingest, by store group (the region list, with SWPC's per-region probabilities,
into ``regions``). SWPC's full-disk probabilities are kept as fetched (NOAA's forecast, to score beside
flarecast's: :mod:`flarecast.forecast.swpc`)."""

STAMP = "%Y%m%dT%H%M%SZ"
"""Fetch time in a copy's name (UTC)."""


def stamped_name(product: str, when: datetime) -> str:
    """``{product}_{YYYYMMDDTHHMMSSZ}.json``: sorts by fetch time."""
    return f"{product}_{when.astimezone(UTC).strftime(STAMP)}.json"


def fetched_at(path: str | Path) -> datetime | None:
    """The fetch time a copy's name carries (:func:`stamped_name`); None for a name without one."""
    head, sep, stamp = Path(path).stem.rpartition("_")
    try:
        return datetime.strptime(stamp, STAMP).replace(tzinfo=UTC) if sep and head else None
    except ValueError:
        return None


def copies(out: Path, product: str) -> list[Path]:
    """Earlier copies of a product in ``out``, oldest first."""
    return sorted(p for p in out.glob(f"{product}_*.json") if p.stem[len(product) + 1:].endswith("Z"))


def fetch_swpc(products: list[str] | None = None, *, out: str | Path = "data/raw/swpc",
               urls: dict[str, str] | None = None, dry_run: bool = False, now: datetime | None = None,
               **options) -> FetchReport:
    """Fetch SWPC's real-time products (default: all of :data:`PRODUCTS`) into ``out``.

    Parameters
    ----------
    products : list of str, optional
        Names from :data:`PRODUCTS`.
    out : str or Path, keyword-only
        Folder for the stamped copies.
    urls : dict, optional, keyword-only
        Base URL overrides (``swpc``).
    dry_run : bool, keyword-only
        Plan the URLs, download nothing.
    now : datetime, optional, keyword-only
        Fetch time for the names (default: the clock).
    **options
        ``retries``, ``timeout``, ``backoff``, ``max_conn``, ``progress``, ``deadline``, ``file_deadline`` of
        :func:`download`.

    Examples
    --------
    >>> fetch_swpc(["xrays-7-day"]).fetched  # doctest: +SKIP
    ['data/raw/swpc/xrays-7-day_20260130T061500Z.json']
    """
    products = list(products or PRODUCTS)
    unknown = [p for p in products if p not in PRODUCTS]
    if unknown:
        raise ConfigError(f"SWPC product {unknown[0]!r}: expected one of {list(PRODUCTS)}")
    base = base_urls(urls)["swpc"]
    out = Path(out)
    when = now or datetime.now(UTC)
    report = FetchReport(source="swpc", out=str(out), dry_run=dry_run)
    if not dry_run:
        _quarantine_bad_copies(out, report)
    previous = {p: copies(out, p) for p in products}
    targets = [Target(f"{base}/{PRODUCTS[p]}", out / stamped_name(p, when)) for p in products]
    download(targets, report, **options)
    for product in products:
        new = out / stamped_name(product, when)
        before = [p for p in previous[product] if p != new]
        if str(new) in report.fetched and before and before[-1].read_bytes() == new.read_bytes():
            new.unlink()
            report.fetched.remove(str(new))
            report.skipped.append(str(before[-1]))
    return report


def _quarantine_bad_copies(out: Path, report: FetchReport) -> None:
    """Move every copy of every product in ``out`` that is not whole JSON (an HTML page saved by an earlier
    version, a cut file) to ``quarantine/``, so that neither the comparison with the last copy nor an ingest
    of the folder meets it. Only the first and last bytes are read: copies accumulate."""
    for product in PRODUCTS:
        for path in copies(out, product):
            why = problem(path, thorough=False)
            if why:
                report.quarantine(path, why)


def ingest_paths(report: FetchReport) -> dict[str, list[str]]:
    """Files of a report to ingest, by store group: every copy of the ingestible products in its folder."""
    out = Path(report.out)
    groups: dict[str, list[str]] = {}
    for product, kind in INGEST_KIND.items():
        groups.setdefault(kind, []).extend(str(p) for p in copies(out, product))
    return {k: v for k, v in groups.items() if v}
