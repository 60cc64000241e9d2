"""Flare catalogues: the GOES-R XRS flare summary from NCEI, SWPC's daily event reports, HEK's flare list.

| source | files | reader |
|---|---|---|
| ``flsum`` | ``{ncei}/goes{NN}/l2/data/xrsf-l2-flsum_science/{YYYY}/{MM}/sci_xrsf-l2-flsum_g{NN}_d{YYYYMMDD}_v*.nc`` (newest version) | ``goes-flsum-nc`` |
| ``swpc`` | ``{swpc_events}/{YYYYMMDD}events.txt`` (SWPC keeps the recent months; NCEI the older ones) | ``swpc-edited-events`` |
| ``hek`` | one ``hek_goes_{from}_{to}.csv`` per query, written from sunpy's ``HEKClient`` | ``hek-csv`` |

HEK is queried through sunpy's ``HEKClient`` given the ``hek`` base URL (Fido itself has no URL setting),
for GOES flares (``FL`` events whose observatory is GOES); HEK's region numbers are often 0 (none).
"""

from __future__ import annotations

import urllib.error
from pathlib import Path

import pandas as pd

from flarecast.errors import ConfigError, FetchError
from flarecast.ingest.fetch.deadline import FILE_DEADLINE, Deadline, DeadlinePassed, call_within
from flarecast.ingest.fetch.download import FetchReport, Target, download, reason, socket_timeout
from flarecast.ingest.fetch.fields import GOES_CLASS_TEXT, HEK_TIME, one_line
from flarecast.ingest.fetch.goes import (
    GOES_R_FIRST_DAY,
    day_file,
    days_between,
    fetch_days,
    primary_satellite,
)
from flarecast.ingest.fetch.settings import base_urls
from flarecast.ingest.fetch.transfer import Refused, cause, urllib_guarded
from flarecast.ingest.fetch.verify import QUERY_CAP, problem
from flarecast.safeio import clip, short
from flarecast.util import atomic_write_text

SOURCES = ("flsum", "swpc", "hek")


def fetch_events(start, end, *, source: str = "flsum", satellite: int | None = None,
                 out: str | Path = "data/raw/events", urls: dict[str, str] | None = None, dry_run: bool = False,
                 **options) -> FetchReport:
    """Fetch the flare catalogue ``source`` for ``start``..``end`` (UTC days, inclusive) into ``out``.

    Parameters
    ----------
    source : {"flsum", "swpc", "hek"}, keyword-only
        GOES-R flare summary (NCEI, from 2017-02-07), SWPC daily event reports, or HEK's GOES flare list.
    satellite : int, optional, keyword-only
        GOES-R satellite of the flare summary; default: the primary of the day, GOES-16 before GOES-R was primary.
    out : str or Path, keyword-only
        Folder the files land in.
    urls : dict, optional, keyword-only
        Base URL overrides (``ncei``, ``swpc_events``, ``hek``).
    dry_run : bool, keyword-only
        Plan the URLs (flsum: list the directories), download nothing.
    **options
        ``retries``, ``timeout``, ``backoff``, ``max_conn``, ``progress``, ``deadline``, ``file_deadline`` of
        :func:`download` (HEK: the query ends by the sooner of the two deadlines).

    Examples
    --------
    >>> fetch_events("2017-09-04", "2017-09-08", source="flsum").summary  # doctest: +SKIP
    'events: fetched 5, skipped 0, failed 0 into data/raw/events'
    """
    if source not in SOURCES:
        raise ConfigError(f"events source {source!r}: expected one of {list(SOURCES)}")
    urls = base_urls(urls)
    days = days_between(start, end)
    out = Path(out)
    report = FetchReport(source=f"events-{source}", out=str(out), dry_run=dry_run)
    if source == "flsum":
        if days[0] < GOES_R_FIRST_DAY:
            raise ConfigError(f"--from {days[0].date()}: the GOES-R flare summary starts {GOES_R_FIRST_DAY.date()}; "
                              "use --source swpc or hek for earlier flares")
        files = [day_file(d, satellite or max(16, primary_satellite(d)), "flsum", urls) for d in days]
        fetch_days(files, out, report, dry_run=dry_run, **options)
    elif source == "swpc":
        names = [f"{d.strftime('%Y%m%d')}events.txt" for d in days]
        download([Target(f"{urls['swpc_events']}/{n}", out / n) for n in names], report, **options)
    else:
        limit = Deadline.start(options.get("deadline")).within(options.get("file_deadline", FILE_DEADLINE),
                                                               "one HEK query")
        _fetch_hek(days[0], days[-1], urls["hek"], out, report, timeout=options.get("timeout", 60.0), deadline=limit)
    return report


def _fetch_hek(first: pd.Timestamp, last: pd.Timestamp, base: str, out: Path, report: FetchReport, *,
               timeout: float, deadline: Deadline) -> None:
    """Query HEK for GOES flares peaking in the days and write them as the ``;``-separated HEK export.

    sunpy's client reads every page of the answer itself, so the query runs under :func:`call_within`: it
    ends by ``deadline`` however slowly HEK answers. A copy already there is skipped if whole, else
    quarantined and fetched again.
    """
    path = out / f"hek_goes_{first:%Y%m%d}_{last:%Y%m%d}.csv"
    url = f"{base}?event_type=FL&event_starttime={first:%Y-%m-%dT00:00:00}&event_endtime={last:%Y-%m-%dT23:59:59}"
    report.planned.append(url)
    if report.dry_run:
        return
    if path.is_file():
        why = problem(path)
        if not why:
            report.skipped.append(str(path))
            return
        report.quarantine(path, why)

    def search():
        from sunpy.net import attrs as a  # imported here: a slow first import counts against the deadline too
        from sunpy.net.hek import HEKClient

        return HEKClient(url=f"{base}?").search(
            a.Time(f"{first:%Y-%m-%d} 00:00:00", f"{last:%Y-%m-%d} 23:59:59"), a.hek.EventType("FL"),
            a.hek.OBS.Observatory == "GOES")

    try:
        with socket_timeout(timeout), urllib_guarded(QUERY_CAP):  # HEKClient sets no timeout of its own
            table = call_within(search, deadline)
    except (DeadlinePassed, Refused) as exc:
        report.fail(url, str(exc))
        return
    except (urllib.error.URLError, OSError) as exc:  # sunpy's OSError for an answer it cannot read
        report.fail(url, reason(cause(exc), timeout))
        return
    except (ValueError, TypeError, KeyError) as exc:  # sunpy parsing an answer that is not HEK's JSON of events
        raise FetchError(url, f"HEK's answer cannot be read ({clip(exc)}); nothing was written",
                         "query other days, or check the hek URL") from None
    raw = getattr(table, "raw", table)  # HEK's fields as sent, before sunpy turns them into objects
    try:
        lines = [hek_line(row, record=i) for i, row in enumerate(raw, start=1)] if len(raw) else []
    except ValueError as exc:
        raise FetchError(url, f"HEK's answer cannot be saved as its export: {exc}; nothing was written",
                         "the record is malformed at HEK; query other days, or report it to HEK") from None
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "".join(line + "\n" for line in sorted(lines)))
    report.fetched.append(str(path))


def hek_line(row, *, record: int = 1) -> str:
    """One HEK flare as the export's line: ``date;start;peak;end;class;(x, y);AR``.

    Every field is rewritten from its parsed value (times, numbers) or checked (the class), so a record whose
    fields hold line breaks, ``;`` or quotes gives exactly one line, or a ValueError naming the record and field.
    """

    def t(key: str) -> str:
        text = one_line(row[key], record=record, field=key)
        try:
            if not HEK_TIME.fullmatch(str(text).strip()):
                raise ValueError(text)
            return pd.Timestamp(str(text).strip().rstrip("Z")).strftime("%Y-%m-%d %H:%M:%S")
        except (ValueError, TypeError, OverflowError):
            raise ValueError(f"record {record}: {key} = {short(text)} is not a time") from None

    start = t("event_starttime")
    try:
        ar = int(row["ar_noaanum"])
    except (TypeError, ValueError, KeyError, OverflowError):
        ar = 0
    x, y = (_coordinate(row, k) for k in ("hpc_x", "hpc_y"))
    goes_class = one_line(row["fl_goescls"], record=record, field="fl_goescls").strip()
    if not GOES_CLASS_TEXT.match(goes_class):
        raise ValueError(f"record {record}: fl_goescls = {short(goes_class)} is not a GOES class such as 'M1.2'")
    return (f"{start[:10]};{start};{t('event_peaktime')};{t('event_endtime')};"
            f"{goes_class};({x:.0f}, {y:.0f});{ar}")


def _coordinate(row, key: str) -> float:
    """A helioprojective coordinate in arcsec; 0 where HEK gives none or a non-number."""
    try:
        v = float(row[key]) if key in row.colnames else 0.0
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return v if -1e6 < v < 1e6 else 0.0
