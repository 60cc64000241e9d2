"""GOES XRS files from NOAA NCEI: GOES-R L2 (GOES-16 onward) and the reprocessed GOES 8-15 science files.

Layouts (as sunpy's ``XRSClient`` reads them, :mod:`sunpy.net.dataretriever.sources.goes`):

* GOES-16+: ``{ncei}/goes{NN}/l2/data/xrsf-l2-{avg1m|flx1s}_science/{YYYY}/{MM}/``
  ``sci_xrsf-l2-{avg1m|flx1s}_g{NN}_d{YYYYMMDD}_v{X}-{Y}-{Z}.nc``
* GOES 8-15: ``{ncei_science}/goes{NN}/{xrsf-l2-avg1m|gxrs-l2-irrad}_science/{YYYY}/{MM}/``
  ``sci_{xrsf-l2-avg1m|gxrs-l2-irrad}_g{NN}_d{YYYYMMDD}_v{X}-{Y}-{Z}.nc`` (``flx1s`` is the 2-3 s
  ``gxrs-l2-irrad`` product there).

NOAA reprocesses and bumps the version suffix, and several versions can sit side by side, so each month's
directory is listed once and the newest version of each day's file is taken; a name is never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from flarecast.errors import ConfigError, FetchError
from flarecast.ingest.fetch.deadline import Deadline
from flarecast.ingest.fetch.download import FetchReport, Target, download, list_directory
from flarecast.ingest.fetch.settings import base_urls

RESOLUTIONS = ("avg1m", "flx1s")
GOES_R_FIRST_DAY = pd.Timestamp("2017-02-07")
"""First day of GOES-16 L2 science data at NCEI."""
SCIENCE_LAST_DAY = pd.Timestamp("2020-03-04")
"""Last day of the reprocessed GOES 8-15 science data (GOES-15 was retired in March 2020)."""

PRIMARY_XRS = (
    ("1995-03-01", 8), ("2003-04-08T15:00", 10), ("2003-05-15T15:00", 12), ("2007-04-12", 11),
    ("2008-02-10T16:30", 10), ("2009-12-01", 14), ("2010-10-28", 15), ("2012-10-23T16:00", 14),
    ("2012-11-19T16:31", 15), ("2015-05-21T18:00", 14), ("2015-06-09T16:25", 15), ("2016-05-03T13:00", 13),
    ("2016-05-12T17:30", 14), ("2016-06-09T17:30", 15), ("2017-08-08T20:52", 13), ("2017-08-23T21:20", 15),
    ("2019-12-09T17:30", 16), ("2025-04-07", 18),
)
"""NOAA SWPC's primary X-ray satellite from each time on (SWPC's "GOES Primary/Secondary Status" list, to
2024-09-06; GOES-16 left GOES-East on 2025-04-07 and SWPC's real-time feed has named GOES-18 since). Where the
list overlaps itself (2007), the later start wins."""


def primary_satellite(day) -> int:
    """NOAA's primary XRS satellite at noon UTC of ``day`` (noon: the satellite of most of a switch day).

    Raises
    ------
    ConfigError
        For a day before GOES-8 (1995-03-01), which NCEI's science archive does not hold.
    """
    noon = pd.Timestamp(day).normalize() + pd.Timedelta(hours=12)
    sat = None
    for start, number in PRIMARY_XRS:
        if pd.Timestamp(start) <= noon:
            sat = number
    if sat is None:
        raise ConfigError(f"day {str(day)[:10]}: before GOES-8 (1995-03-01); NCEI's XRS archives that flarecast "
                          "fetches start then: choose a later date")
    return sat


@dataclass(frozen=True)
class DayFile:
    """Where one day's file of a product lives: its month directory and the name up to the version."""

    day: pd.Timestamp
    directory: str
    prefix: str


def day_file(day: pd.Timestamp, satellite: int, product: str, urls: dict[str, str]) -> DayFile:
    """Directory and file-name prefix of ``product`` (``avg1m``, ``flx1s`` or ``flsum``) for one day."""
    ym, ymd = day.strftime("%Y/%m"), day.strftime("%Y%m%d")
    if satellite >= 16:
        name = f"xrsf-l2-{product}"
        directory = f"{urls['ncei']}/goes{satellite}/l2/data/{name}_science/{ym}"
    else:
        name = "xrsf-l2-avg1m" if product == "avg1m" else "gxrs-l2-irrad"
        directory = f"{urls['ncei_science']}/goes{satellite:02d}/{name}_science/{ym}"
    return DayFile(day, directory, f"sci_{name}_g{satellite:02d}_d{ymd}_v")


def newest_version(names: list[str], prefix: str) -> str | None:
    """The listed name ``{prefix}{X}-{Y}-{Z}.nc`` with the highest version, compared as numbers."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)-(\d+)-(\d+)\.nc$")
    found = [(tuple(int(g) for g in m.groups()), n) for n in names if (m := pattern.match(n))]
    return max(found)[1] if found else None


def days_between(start, end) -> list[pd.Timestamp]:
    """Every UTC day from ``start`` to ``end`` inclusive; ConfigError naming a bad date or an empty range."""
    try:
        first, last = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    except (ValueError, TypeError):
        raise ConfigError(f"dates {start!r}..{end!r}: expected calendar dates YYYY-MM-DD, such as 2017-09-06") from None
    if last < first:
        raise ConfigError(f"--to {last.date()} is before --from {first.date()}: swap them")
    return list(pd.date_range(first, last, freq="D"))


def fetch_days(days: list[DayFile], out: Path, report: FetchReport, *, dry_run: bool = False, **options) -> None:
    """List each month directory once, pick each day's newest version, download what is not there yet.

    A directory that cannot be listed is one failure line for the days in it; a day missing from its
    listing (not published yet, or a gap in the archive) is one failure line naming the directory.
    """
    options["deadline"] = Deadline.start(options.get("deadline"))  # one clock for the listings and the files
    listing_options = {k: v for k, v in options.items()
                       if k in ("timeout", "retries", "backoff", "deadline", "file_deadline")}
    targets = []
    by_dir: dict[str, list[DayFile]] = {}
    for d in days:
        by_dir.setdefault(d.directory, []).append(d)
    for directory, month in by_dir.items():
        try:
            names = list_directory(directory, **listing_options)
        except FetchError as exc:
            span = f"{month[0].day.date()}..{month[-1].day.date()}"
            report.fail(directory + "/", f"{exc.reason} (no listing, so no files for {span})")
            continue
        for d in month:
            name = newest_version(names, d.prefix)
            if name is None:
                report.fail(f"{directory}/{d.prefix}*.nc", f"not in the directory listing ({d.day.date()} "
                                                           "not published yet, or a gap in the archive)")
                continue
            targets.append(Target(f"{directory}/{name}", out / name))
    report.dry_run = dry_run
    download(targets, report, **options)


def fetch_goes(start, end, *, satellite: int | None = None, resolution: str = "avg1m",
               out: str | Path = "data/raw/goes", urls: dict[str, str] | None = None, dry_run: bool = False,
               **options) -> FetchReport:
    """Fetch the daily GOES XRS files of ``start``..``end`` (UTC days, inclusive) from NCEI.

    Parameters
    ----------
    start, end : str or datetime-like
        First and last day.
    satellite : int, optional, keyword-only
        GOES number; default: NOAA's primary XRS satellite of each day (:func:`primary_satellite`).
    resolution : {"avg1m", "flx1s"}, keyword-only
        1-minute averages or the full-cadence fluxes (1 s GOES-R, 2-3 s GOES 8-15).
    out : str or Path, keyword-only
        Folder the files land in, under their archive names.
    urls : dict, optional, keyword-only
        Base URL overrides (see :mod:`flarecast.ingest.fetch.settings`).
    dry_run : bool, keyword-only
        List the directories and plan the URLs, download nothing.
    **options
        ``retries``, ``timeout``, ``backoff``, ``max_conn``, ``progress``, ``deadline`` (seconds for the whole
        fetch, listings included), ``file_deadline`` (seconds for one listing or file) of :func:`download`.

    Returns
    -------
    FetchReport

    Examples
    --------
    >>> report = fetch_goes("2017-09-04", "2017-09-08", satellite=16)  # doctest: +SKIP
    >>> report.summary  # doctest: +SKIP
    'goes: fetched 5, skipped 0, failed 0 into data/raw/goes'
    """
    if resolution not in RESOLUTIONS:
        raise ConfigError(f"resolution {resolution!r}: expected one of {list(RESOLUTIONS)}")
    urls = base_urls(urls)
    out = Path(out)
    files = []
    for day in days_between(start, end):
        sat = satellite if satellite is not None else primary_satellite(day)
        if sat >= 16 and day < GOES_R_FIRST_DAY:
            raise ConfigError(f"GOES-{sat} on {day.date()}: GOES-R L2 data start {GOES_R_FIRST_DAY.date()}; "
                              "drop --satellite to take the primary GOES 8-15 satellite of that day")
        if sat < 16 and day > SCIENCE_LAST_DAY:
            raise ConfigError(f"GOES-{sat} on {day.date()}: the GOES 8-15 science archive ends "
                              f"{SCIENCE_LAST_DAY.date()}; use --satellite 16 or later")
        if not 8 <= sat <= 99:
            raise ConfigError(f"satellite {sat}: expected a GOES number from 8 (NCEI archives GOES 8 onward)")
        files.append(day_file(day, sat, resolution, urls))
    report = FetchReport(source="goes", out=str(out))
    fetch_days(files, out, report, dry_run=dry_run, **options)
    return report
