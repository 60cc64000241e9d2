"""SHARP keywords from JSOC through ``drms``, written as the keyword CSV the SHARP reader reads.

One query per call: ``{series}[{harp}][{from}_TAI-{to}_TAI@{cadence}]`` with the keywords asked for, answered
by JSOC's ``jsoc_info?op=rs_list`` JSON service. Values are written as JSOC sends them (strings, no numeric
conversion), so the CSV holds exactly JSOC's digits. Beside the CSV, ``harp_to_noaa.txt`` gets one
``HARPNUM NOAA_AR[,NOAA_AR...]`` line per HARP seen (merged with the lines already there), the file
``samples.harp_map`` reads.
"""

from __future__ import annotations

import re
import urllib.error
from pathlib import Path

import pandas as pd

from flarecast.errors import ConfigError, FetchError
from flarecast.ingest.fetch.deadline import FILE_DEADLINE, Deadline, DeadlinePassed, call_within
from flarecast.ingest.fetch.download import FetchReport, socket_timeout
from flarecast.ingest.fetch.fields import BREAKS, one_line
from flarecast.ingest.fetch.goes import days_between
from flarecast.ingest.fetch.settings import base_urls
from flarecast.ingest.fetch.transfer import Refused, urllib_guarded
from flarecast.ingest.fetch.verify import QUERY_CAP, problem
from flarecast.util import atomic_write_text

SERIES = {False: "hmi.sharp_cea_720s", True: "hmi.sharp_cea_720s_nrt"}
KEYWORDS = ("T_REC", "HARPNUM", "NOAA_ARS", "USFLUX", "MEANGAM", "MEANGBT", "MEANGBZ", "MEANGBH", "MEANJZD",
            "TOTUSJZ", "MEANALP", "MEANJZH", "TOTUSJH", "ABSNJZH", "SAVNCPP", "MEANPOT", "TOTPOT", "MEANSHR",
            "SHRGT45", "R_VALUE", "AREA", "AREA_ACR")
"""Record keys and the SHARP space-weather keywords (Bobra et al. 2014) plus areas."""
HARP_MAP = "harp_to_noaa.txt"


def jsoc_client(base: str):
    """A drms client for the JSOC at ``base`` (its ``cgi-bin/ajax/jsoc_info`` answers the queries)."""
    import drms

    config = drms.ServerConfig(name="flarecast-jsoc", cgi_baseurl=f"{base}/cgi-bin/ajax/", cgi_jsoc_info="jsoc_info",
                               http_download_baseurl=f"{base}/")
    return drms.Client(server=config)


def record_set(start, end, *, harp: int | None = None, nrt: bool = False, cadence: str = "96m") -> str:
    """The DRMS record-set query: ``hmi.sharp_cea_720s[377][2011.02.14_00:00:00_TAI-2011.02.15_23:59:59_TAI@96m]``."""
    days = days_between(start, end)
    if not re.fullmatch(r"\d+[smhd]", cadence):
        raise ConfigError(f"cadence {cadence!r}: expected a JSOC step such as 12m, 96m or 1h")
    span = f"{days[0]:%Y.%m.%d}_00:00:00_TAI-{days[-1]:%Y.%m.%d}_23:59:59_TAI@{cadence}"
    return f"{SERIES[nrt]}[{'' if harp is None else int(harp)}][{span}]"


def fetch_sharp(start, end, *, harp: int | None = None, nrt: bool = False, keywords=KEYWORDS, cadence: str = "96m",
                out: str | Path = "data/raw/sharp", urls: dict[str, str] | None = None, dry_run: bool = False,
                client=None, timeout: float = 60.0, deadline: Deadline | float | None = None,
                file_deadline: float | None = FILE_DEADLINE, **_options) -> FetchReport:
    """Fetch SHARP keywords of ``start``..``end`` (UTC days) into one CSV, and update the HARP-to-NOAA map.

    Parameters
    ----------
    harp : int, optional, keyword-only
        One HARP; default: every HARP of the days.
    nrt : bool, keyword-only
        Near-real-time series (``_nrt``: hours old, provisional) instead of the definitive one (weeks old).
    keywords : sequence of str, keyword-only
        JSOC keywords; ``T_REC``, ``HARPNUM`` and ``NOAA_ARS`` are always included.
    cadence : str, keyword-only
        Step between records (SHARP records come every 12 minutes; 96m is the MDI-era cadence most studies use).
    client : drms.Client, optional, keyword-only
        Client to query with (default: one for the ``jsoc`` base URL).
    timeout, deadline, file_deadline : float, keyword-only
        Seconds without a byte; seconds for the whole fetch (or its running
        :class:`~flarecast.ingest.fetch.deadline.Deadline`); seconds for the query. drms reads the answer
        itself, so the query runs under :func:`~flarecast.ingest.fetch.deadline.call_within` and ends by the
        sooner deadline however slowly JSOC answers.

    Examples
    --------
    >>> fetch_sharp("2011-02-14", "2011-02-15", harp=377).fetched  # doctest: +SKIP
    ['data/raw/sharp/sharp_hmi.sharp_cea_720s_20110214_20110215_harp377.csv']
    """
    ds = record_set(start, end, harp=harp, nrt=nrt, cadence=cadence)
    base = base_urls(urls)["jsoc"]
    days = days_between(start, end)
    keys = list(dict.fromkeys(["T_REC", "HARPNUM", "NOAA_ARS", *keywords]))
    out = Path(out)
    name = f"sharp_{SERIES[nrt]}_{days[0]:%Y%m%d}_{days[-1]:%Y%m%d}" + ("" if harp is None else f"_harp{harp}")
    path = out / f"{name}.csv"
    url = f"{base}/cgi-bin/ajax/jsoc_info?op=rs_list&ds={ds}"
    report = FetchReport(source="sharp", out=str(out), dry_run=dry_run, planned=[url])
    if dry_run:
        return report
    if path.is_file():
        why = problem(path)
        if not why:
            report.skipped.append(str(path))
            return report
        report.quarantine(path, why)
    limit = Deadline.start(deadline).within(file_deadline, "one JSOC query")
    try:
        with socket_timeout(timeout), urllib_guarded(QUERY_CAP):  # drms takes the socket default over its 60 s
            table = call_within(lambda: (client or jsoc_client(base)).query(ds, key=keys, convert_numeric=False),
                                limit)
    except (DeadlinePassed, Refused) as exc:
        report.fail(url, str(exc))
        return report
    except ValueError as exc:  # an answer that is not JSON (an HTML error page answered with 200, a cut one)
        report.fail(url, f"JSOC's answer is not JSON ({str(exc)[:80]})")
        return report
    except urllib.error.HTTPError as exc:
        report.fail(url, f"HTTP {exc.code}")
        return report
    except (urllib.error.URLError, OSError) as exc:
        report.fail(url, f"cannot reach JSOC ({exc})")
        return report
    except Exception as exc:  # drms raises its own DrmsQueryError / DrmsExportError for a refused query
        if type(exc).__module__.split(".")[0] != "drms":
            raise
        raise FetchError(url, f"JSOC refused the query ({exc})", "check the series, HARP and dates") from exc
    missing = [k for k in keys if k not in table.columns]
    if len(table) and missing:
        raise FetchError(url, f"JSOC's answer lacks keywords {missing}", "drop them from the keyword list")
    table = table.reindex(columns=keys)
    _one_line_cells(table, url)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, table.to_csv(index=False))
    report.fetched.append(str(path))
    update_harp_map(out / HARP_MAP, table)
    return report


def _one_line_cells(table: pd.DataFrame, url: str) -> None:
    """Refuse an answer with a cell holding a line break or another control character: the saved CSV is read
    line by line, so such a cell would add a row."""
    for key in table.columns:
        cells = table[key].astype(str)
        hit = cells.str.contains(BREAKS).to_numpy()
        if hit.any():
            i = int(hit.argmax())
            try:
                one_line(cells.iloc[i], record=i + 1, field=key)
            except ValueError as exc:
                raise FetchError(url, f"JSOC's answer cannot be saved as CSV: {exc}; nothing was written",
                                 "query other records, or report it to JSOC") from None


def update_harp_map(path: Path, table: pd.DataFrame) -> None:
    """Merge the table's HARPNUM -> NOAA_ARS pairs into ``path`` (``HARPNUM NOAA_AR[,NOAA_AR...]`` lines)."""
    pairs: dict[int, set[int]] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            parts = re.split(r"[\s,;]+", line.split("#", 1)[0].strip())
            if len(parts) >= 2 and all(p.isdigit() for p in parts):
                pairs.setdefault(int(parts[0]), set()).update(int(p) for p in parts[1:])
    for harp, ars in zip(table.get("HARPNUM", []), table.get("NOAA_ARS", []), strict=False):
        numbers = {int(n) for n in re.split(r"[,\s;]+", str(ars)) if n.isdigit() and int(n) > 0}
        if str(harp).strip().isdigit():
            pairs.setdefault(int(str(harp).strip()), set()).update(numbers)
    lines = [f"{h} {','.join(str(a) for a in sorted(ars))}" for h, ars in sorted(pairs.items()) if ars]
    atomic_write_text(path, "".join(line + "\n" for line in lines))
