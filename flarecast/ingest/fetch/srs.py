"""NOAA's daily Solar Region Summary (SRS) text files, from NCEI's archive (the files sunpy's SRS client reads).

| source | files | reader |
|---|---|---|
| ``srs`` | ``{srs}/{YYYY}/{MM}/{YYYYMMDD}SRS.txt`` (1996 onward; SWPC issues one at 00:30 UTC each day) | ``swpc-srs-text`` |

Files land as ``{YYYYMMDD}SRS.txt`` in ``out``; a whole copy already there is not fetched again, a cut or HTML
one is quarantined and fetched again (:func:`flarecast.ingest.fetch.download.download`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from flarecast.errors import ConfigError
from flarecast.ingest.fetch.download import FetchReport, Target, download
from flarecast.ingest.fetch.goes import days_between
from flarecast.ingest.fetch.settings import base_urls

FIRST_DAY = pd.Timestamp("1996-01-01")
"""The first SRS in the archive's machine-readable layout (earlier reports are free text sunpy cannot parse)."""


def srs_name(day: pd.Timestamp) -> str:
    """``20150101SRS.txt``."""
    return f"{day:%Y%m%d}SRS.txt"


def fetch_srs(start, end, *, out: str | Path = "data/raw/srs", urls: dict[str, str] | None = None,
              dry_run: bool = False, **options) -> FetchReport:
    """Fetch the SRS of each day ``start``..``end`` (UTC days, inclusive) into ``out``.

    ``options``: ``retries``, ``timeout``, ``backoff``, ``max_conn``, ``progress``, ``deadline``,
    ``file_deadline`` of :func:`download`.

    Examples
    --------
    >>> fetch_srs("2015-01-01", "2015-01-03").summary  # doctest: +SKIP
    'srs: fetched 3, skipped 0, failed 0 into data/raw/srs'
    """
    days = days_between(start, end)
    if days[0] < FIRST_DAY:
        raise ConfigError(f"--from {days[0].date()}: the SRS archive's parsable reports start {FIRST_DAY.date()}")
    base = base_urls(urls)["srs"]
    out = Path(out)
    report = FetchReport(source="srs", out=str(out), dry_run=dry_run)
    download([Target(f"{base}/{d:%Y}/{d:%m}/{srs_name(d)}", out / srs_name(d)) for d in days], report, **options)
    return report
