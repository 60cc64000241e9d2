"""SHARP active-region keyword series exported from JSOC as CSV (``T_REC``, ``HARPNUM``, ``NOAA_ARS``, keywords).

``T_REC`` is a JSOC TAI string (``2013.11.01_00:00:00_TAI``); it becomes UTC through astropy, which knows
the leap-second table (TAI - UTC = 35 s in 2013, 37 s since 2017), not by subtracting a constant.
Keyword columns keep their JSOC names and get JSOC units in the store; an empty cell is NaN and is counted.
"""

from __future__ import annotations

import calendar
import re
from pathlib import Path

import numpy as np
import pandas as pd

from flarecast.errors import InputFileError
from flarecast.ingest.readers.base import ReaderResult
from flarecast.ingest.readers.reader import Reader
from flarecast.ingest.readers.rows import BadRows, read_text, text_table

KEYWORD_UNITS = {
    "USFLUX": "Mx",
    "MEANGAM": "degree",
    "MEANGBT": "G/Mm",
    "MEANGBZ": "G/Mm",
    "MEANGBH": "G/Mm",
    "MEANJZD": "mA/m2",
    "TOTUSJZ": "A",
    "MEANALP": "1/Mm",
    "MEANJZH": "G2/m",
    "TOTUSJH": "G2/m",
    "ABSNJZH": "G2/m",
    "SAVNCPP": "A",
    "MEANPOT": "erg/cm3",
    "TOTPOT": "erg/cm",
    "MEANSHR": "degree",
    "SHRGT45": "percent",
    "R_VALUE": "Mx (log10)",
    "AREA": "micro-hemisphere",
    "AREA_ACR": "micro-hemisphere",
    "USFLUXL": "Mx",
    "MEANGBL": "G",
    "CMASK": "pixel",
    "NPIX": "pixel",
    "SIZE": "micro-hemisphere",
    "SIZE_ACR": "micro-hemisphere",
    "LAT_FWT": "degree",
    "LON_FWT": "degree",
    "CRVAL1": "degree",
    "CRVAL2": "degree",
    "TOTFX": "Mx",
    "TOTFY": "Mx",
    "TOTFZ": "Mx",
    "TOTBSQ": "G2",
    "EPSX": "1",
    "EPSY": "1",
    "EPSZ": "1",
    "D_R": "Mm",
    "TOTUSJH_ERR": "G2/m",
}
"""JSOC units of the SHARP keywords (hmi.sharp_720s series description)."""

ID_COLUMNS = ("T_REC", "HARPNUM", "NOAA_ARS")

_TREC = re.compile(r"^(\d{4})\.(\d{2})\.(\d{2})_(\d{2}):(\d{2}):(\d{2}(?:\.\d*)?)_TAI$")


def trec_problem(text: str) -> str | None:
    """Why ``text`` is not a JSOC TAI time (a wrong layout, 30 February, hour 25), or None when it is one."""
    m = _TREC.match(text.strip())
    if m is None:
        return f"T_REC {text!r} is not a JSOC TAI time: expected 'YYYY.MM.DD_hh:mm:ss_TAI'"
    y, mo, d, hh, mm, ss = (float(v) for v in m.groups())
    if not 1 <= mo <= 12 or not 1 <= d <= calendar.monthrange(int(y), int(mo))[1]:
        return f"T_REC {text!r} is not a calendar date"
    if hh > 23 or mm > 59 or ss >= 61:
        return f"T_REC {text!r} is not a time of day"
    return None


def tai_to_utc(path: str | Path, t_rec: np.ndarray, lines: np.ndarray | None = None) -> np.ndarray:
    """JSOC ``YYYY.MM.DD_hh:mm:ss_TAI`` strings to UTC datetime64[ns] (astropy time scales).

    Raises
    ------
    InputFileError
        Naming the first string that is not a JSOC TAI time and its line (``lines``: the line of each
        string; default: a CSV with one header line).
    """
    t_rec = np.asarray(t_rec, dtype=str)
    lines = np.arange(2, t_rec.size + 2) if lines is None else np.asarray(lines)
    uniq, inverse = np.unique(t_rec, return_inverse=True)
    iso = []
    for k, text in enumerate(uniq.tolist()):
        problem = trec_problem(text)
        if problem is not None:
            raise InputFileError(path, f"line {lines[np.flatnonzero(inverse == k)[0]]}: {problem}")
        y, mo, d, hh, mm, ss = _TREC.match(text.strip()).groups()
        iso.append(f"{y}-{mo}-{d}T{hh}:{mm}:{ss}")
    if not iso:
        return np.array([], dtype="datetime64[ns]")
    from astropy.time import Time  # here: the GOES reading workers import this module but never convert TAI

    utc = Time(iso, format="isot", scale="tai").utc
    return utc.to_value("datetime64").astype("datetime64[ns]")[inverse]


class JsocSharpCsv(Reader, name="jsoc-sharp-csv", kind="sharp", basis="none",
                   description="JSOC SHARP keyword CSV (T_REC TAI, HARPNUM, NOAA_ARS, keyword columns)"):
    """JSOC SHARP keyword export as CSV (one row per record: T_REC, HARPNUM, NOAA_ARS, keywords)."""

    header_columns = ("t_rec", "harpnum")

    @classmethod
    def read(cls, path: str | Path, *, skip_bad: bool = False, **_options) -> ReaderResult:
        """Read the table, convert T_REC to UTC and check that (HARPNUM, time) is unique.

        Rows cut short, impossible T_REC dates, HARP numbers that are not positive integers, negative
        NOAA region numbers and non-numeric keywords are bad rows: refused, or left out with ``skip_bad``.
        """
        path = Path(path)
        rows = BadRows(path, skip_bad=skip_bad)
        raw = text_table(path, read_text(path), rows)
        raw.columns = [str(c).strip().upper() for c in raw.columns]
        missing = [c for c in ("T_REC", "HARPNUM") if c not in raw.columns]
        if missing:
            raise InputFileError(
                path, f"columns {missing} are missing: expected a JSOC export with {list(ID_COLUMNS)}"
            )
        harp = pd.to_numeric(raw["HARPNUM"], errors="coerce")
        for i in np.flatnonzero(harp.isna().to_numpy() | (harp.to_numpy() % 1 != 0) | (harp.to_numpy() <= 0)):
            rows.bad(int(raw.index[i]), f"HARPNUM {raw['HARPNUM'].iloc[i]!r} is not a positive integer")
        for i, text in enumerate(raw["T_REC"].tolist()):
            problem = trec_problem(text)
            if problem is not None:
                rows.bad(int(raw.index[i]), problem)
        ars = _noaa_ars(raw["NOAA_ARS"], rows) if "NOAA_ARS" in raw.columns else None
        values = {col: _keyword(raw, col, rows) for col in raw.columns if col not in ID_COLUMNS}
        keep = ~np.isin(raw.index.to_numpy(), rows.lines)
        raw = raw[keep]
        data = {
            "harpnum": harp.to_numpy()[keep].astype(np.int32),
            "time": tai_to_utc(path, raw["T_REC"].to_numpy(), raw.index.to_numpy()),
            "noaa_ars": ars[keep] if ars is not None else np.full(len(raw), "", dtype=object),
        }
        masked = {}
        for col, v in values.items():
            data[col] = v[keep]
            n_nan = int(np.isnan(data[col]).sum())
            if n_nan:
                masked[f"{col}:missing"] = n_nan
        frame = pd.DataFrame(data)
        dup = frame.duplicated(["harpnum", "time"]).to_numpy()
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            raise InputFileError(
                path,
                f"line {raw.index[i]}: HARP {frame['harpnum'].iloc[i]} at {frame['time'].iloc[i]} is duplicated; "
                "expected one record per HARP and T_REC",
            )
        return ReaderResult(
            data=frame,
            reader=cls.name,
            rows_read=len(keep),
            masked=masked,
            warnings=rows.notes,
            ignored=rows.ignored,
        )


def _keyword(raw: pd.DataFrame, col: str, rows: BadRows) -> np.ndarray:
    text = raw[col].str.strip()
    values = pd.to_numeric(text.replace({"": "nan", "NaN": "nan", "MISSING": "nan"}), errors="coerce")
    junk = values.isna().to_numpy() & ~text.str.lower().isin(["", "nan", "missing"]).to_numpy()
    for i in np.flatnonzero(junk):
        rows.bad(int(raw.index[i]), f"{col} = {text.iloc[i]!r} is not a number (JSOC keywords are numeric)")
    return values.to_numpy(dtype=np.float64)


def _noaa_ars(column: pd.Series, rows: BadRows) -> np.ndarray:
    # JSOC writes "11442,11443"; some exports use spaces or write 0 for "no NOAA region".
    out = []
    for line, text in zip(column.index, column.tolist(), strict=True):
        nums = [n for n in re.split(r"[,\s;]+", str(text).strip()) if n]
        if any(not n.isdigit() for n in nums):
            rows.bad(int(line), f"NOAA_ARS {text!r}: expected positive region numbers (0 or blank: none)")
        out.append(",".join(str(int(n)) for n in nums if n.isdigit() and int(n) > 0))
    return np.array(out, dtype=object)
