"""SHARP active-region keyword series exported from JSOC as CSV (``T_REC``, ``HARPNUM``, ``NOAA_ARS``, keywords).

``T_REC`` is a JSOC TAI string (``2013.11.01_00:00:00_TAI``); it becomes UTC through astropy, which knows
the leap-second table (TAI - UTC = 35 s in 2013, 37 s since 2017), not by subtracting a constant.
Keyword columns keep their JSOC names and get JSOC units in the store; an empty cell is NaN and is counted.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.time import Time

from flarecast.errors import InputFileError
from flarecast.ingest.readers.base import ReaderResult, open_text

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


def tai_to_utc(path: str | Path, t_rec: np.ndarray) -> np.ndarray:
    """JSOC ``YYYY.MM.DD_hh:mm:ss_TAI`` strings to UTC datetime64[ns] (astropy time scales).

    Raises
    ------
    InputFileError
        Naming the first string that is not a JSOC TAI time and its data row.
    """
    uniq, inverse = np.unique(np.asarray(t_rec, dtype=str), return_inverse=True)
    iso = []
    for text in uniq.tolist():
        m = _TREC.match(text.strip())
        if m is None:
            row = int(np.flatnonzero(uniq[inverse] == text)[0]) + 2  # +1 header, +1 for 1-based lines
            raise InputFileError(
                path, f"line {row}: T_REC {text!r} is not a JSOC TAI time: expected 'YYYY.MM.DD_hh:mm:ss_TAI'"
            )
        y, mo, d, hh, mm, ss = m.groups()
        iso.append(f"{y}-{mo}-{d}T{hh}:{mm}:{ss}")
    if not iso:
        return np.array([], dtype="datetime64[ns]")
    utc = Time(iso, format="isot", scale="tai").utc
    return utc.to_value("datetime64").astype("datetime64[ns]")[inverse]


class JsocSharpCsv:
    """JSOC SHARP keyword export as CSV (one row per record: T_REC, HARPNUM, NOAA_ARS, keywords)."""

    name = "jsoc-sharp-csv"
    basis = "none"
    kind = "sharp"
    description = "JSOC SHARP keyword CSV (T_REC TAI, HARPNUM, NOAA_ARS, keyword columns)"

    @staticmethod
    def can_read(path: str | Path) -> bool:
        """True when the header line holds ``T_REC`` and ``HARPNUM``."""
        try:
            with open_text(path) as fh:
                header = fh.readline().upper()
        except (OSError, EOFError):
            return False
        names = [c.strip() for c in header.split(",")]
        return "T_REC" in names and "HARPNUM" in names

    @staticmethod
    def read(path: str | Path, **_options) -> ReaderResult:
        """Read the table, convert T_REC to UTC and check that (HARPNUM, time) is unique."""
        path = Path(path)
        try:
            with open_text(path) as fh:
                raw = pd.read_csv(fh, dtype=str, keep_default_na=False, skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputFileError(path, f"not a readable CSV ({exc})") from exc
        raw.columns = [str(c).strip().upper() for c in raw.columns]
        missing = [c for c in ("T_REC", "HARPNUM") if c not in raw.columns]
        if missing:
            raise InputFileError(
                path, f"columns {missing} are missing: expected a JSOC export with {list(ID_COLUMNS)}"
            )
        harp = pd.to_numeric(raw["HARPNUM"], errors="coerce")
        bad = np.flatnonzero(harp.isna().to_numpy() | (harp.to_numpy() % 1 != 0))
        if bad.size:
            raise InputFileError(
                path, f"line {bad[0] + 2}: HARPNUM {raw['HARPNUM'].iloc[bad[0]]!r} is not an integer"
            )
        data = {
            "harpnum": harp.to_numpy().astype(np.int32),
            "time": tai_to_utc(path, raw["T_REC"].to_numpy()),
            "noaa_ars": _noaa_ars(raw["NOAA_ARS"])
            if "NOAA_ARS" in raw.columns
            else np.full(len(raw), "", dtype=object),
        }
        masked = {}
        for col in raw.columns:
            if col in ID_COLUMNS:
                continue
            text = raw[col].str.strip()
            values = pd.to_numeric(text.replace({"": "nan", "NaN": "nan", "MISSING": "nan"}), errors="coerce")
            junk = np.flatnonzero(
                values.isna().to_numpy() & ~text.str.lower().isin(["", "nan", "missing"]).to_numpy()
            )
            if junk.size:
                raise InputFileError(
                    path,
                    f"line {junk[0] + 2}: {col} = {text.iloc[junk[0]]!r} is not a number (JSOC keywords are numeric)",
                )
            data[col] = values.to_numpy(dtype=np.float64)
            n_nan = int(np.isnan(data[col]).sum())
            if n_nan:
                masked[f"{col}:missing"] = n_nan
        frame = pd.DataFrame(data)
        dup = frame.duplicated(["harpnum", "time"]).to_numpy()
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            raise InputFileError(
                path,
                f"line {i + 2}: HARP {frame['harpnum'].iloc[i]} at {frame['time'].iloc[i]} is duplicated; "
                "expected one record per HARP and T_REC",
            )
        return ReaderResult(data=frame, reader=JsocSharpCsv.name, rows_read=len(frame), masked=masked)


def _noaa_ars(column: pd.Series) -> np.ndarray:
    # JSOC writes "11442,11443"; some exports use spaces or write 0 for "no NOAA region".
    def norm(text: str) -> str:
        nums = [n for n in re.split(r"[,\s;]+", text.strip()) if n.isdigit() and int(n) > 0]
        return ",".join(str(int(n)) for n in nums)

    return np.array([norm(t) for t in column.to_numpy(dtype=object)], dtype=object)
