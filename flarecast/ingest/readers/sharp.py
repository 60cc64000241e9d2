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


_FIXED = np.frombuffer(b"0000.00.00_00:00:00_TAI", dtype=np.uint8)
"""The layout JSOC writes (whole seconds): every distinct T_REC of that layout is checked at once."""
_DIGIT = _FIXED == ord("0")


def trec_iso(texts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct strings of ``texts`` as ISO-8601 TAI times (``YYYY-MM-DDThh:mm:ss[.f]``, "" where a
    string is not a JSOC TAI time), whether each is one, and each string's index in them (found by hashing:
    no fixed-width copy of every row's string).

    The rule of :func:`trec_problem`, vectorised: strings of JSOC's fixed 23-character ASCII layout are
    checked as a byte table, digits and separators by column and dates against numpy's calendar; any other
    string (fractional seconds, spaces around it, Unicode digits, a wrong layout) and any string refused
    there goes through :func:`trec_problem` itself, so the answers are the per-string rule's (tested).
    JSOC's 12-minute series has ~44,000 distinct T_REC strings a year, each shared by every region on the disc.
    """
    inverse, found = pd.factorize(np.asarray(texts, dtype=object).ravel(), use_na_sentinel=False)
    uniq = [str(v) for v in found]  # Python strings: numpy's fixed-width ones would drop a trailing NUL
    iso = np.full(len(uniq), "", dtype=object)
    ok = np.zeros(len(uniq), dtype=bool)
    fixed = np.flatnonzero(np.fromiter(map(len, uniq), dtype=np.int64, count=len(uniq)) == _FIXED.size)
    try:  # with spaces around, or another length: the slow way
        table = "".join([uniq[k] for k in fixed]).encode("ascii")
    except UnicodeEncodeError:  # a non-ASCII string among them: all go the slow way
        fixed, table = fixed[:0], b""
    b = np.frombuffer(table, dtype=np.uint8).reshape(-1, _FIXED.size)
    d = b.astype(np.int64) - ord("0")
    shape_ok = np.all(np.where(_DIGIT, (d >= 0) & (d <= 9), b == _FIXED), axis=1)

    def num(a: int, z: int) -> np.ndarray:
        return (d[:, a:z] * 10 ** np.arange(z - a - 1, -1, -1)).sum(axis=1)

    y, mo, day, hh, mm, ss = num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)
    month = ((y - 1970) * 12 + np.clip(mo, 1, 12) - 1).astype("datetime64[M]")
    month_days = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(np.int64)
    good = shape_ok & (mo >= 1) & (mo <= 12) & (day >= 1) & (day <= month_days) & (hh <= 23) & (mm <= 59) & (ss < 61)
    iso_bytes = b[good, :19].copy()
    iso_bytes[:, [4, 7]], iso_bytes[:, 10] = ord("-"), ord("T")
    iso[fixed[good]] = iso_bytes.view("S19").ravel().astype(str)
    ok[fixed[good]] = True
    for k in np.flatnonzero(~ok):  # every other layout, and the strings refused above: one by one
        if trec_problem(uniq[k]) is None:
            y4, mo2, d2, h2, m2, s2 = _TREC.match(uniq[k].strip()).groups()
            iso[k], ok[k] = f"{y4}-{mo2}-{d2}T{h2}:{m2}:{s2}", True
    return iso, ok, inverse


def tai_to_utc(path: str | Path, t_rec: np.ndarray, lines: np.ndarray | None = None) -> np.ndarray:
    """JSOC ``YYYY.MM.DD_hh:mm:ss_TAI`` strings to UTC datetime64[ns] (astropy time scales).

    Raises
    ------
    InputFileError
        Naming the first string that is not a JSOC TAI time and its line (``lines``: the line of each
        string; default: a CSV with one header line).
    """
    t_rec = np.asarray(t_rec, dtype=object).ravel()
    lines = np.arange(2, t_rec.size + 2) if lines is None else np.asarray(lines)
    iso, ok, inverse = trec_iso(t_rec)
    if not ok.all():
        i = int(np.flatnonzero(~ok[inverse])[0])
        raise InputFileError(path, f"line {lines[i]}: {trec_problem(str(t_rec[i]))}")
    if not iso.size:
        return np.array([], dtype="datetime64[ns]")
    from astropy.time import Time  # here: the GOES reading workers import this module but never convert TAI

    utc = Time(iso.tolist(), format="isot", scale="tai").utc
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
        _, trec_ok, inverse = trec_iso(raw["T_REC"].to_numpy())
        for i in np.flatnonzero(~trec_ok[inverse]):
            rows.bad(int(raw.index[i]), trec_problem(raw["T_REC"].iloc[i]))
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
    # JSOC writes "11442,11443"; some exports use spaces or write 0 for "no NOAA region". Each distinct
    # text is parsed once: a region's records repeat the same few.
    inverse, found = pd.factorize(np.asarray(column.tolist(), dtype=object), use_na_sentinel=False)
    parsed, bad = [], []
    for text in (str(v) for v in found):
        nums = [n for n in re.split(r"[,\s;]+", text.strip()) if n]
        bad.append(any(not n.isdigit() for n in nums))
        parsed.append(",".join(str(int(n)) for n in nums if n.isdigit() and int(n) > 0))
    for i in np.flatnonzero(np.asarray(bad, dtype=bool)[inverse]):
        rows.bad(int(column.index[i]), f"NOAA_ARS {column.iloc[i]!r}: expected positive region numbers (0 or blank: none)")
    return np.array(parsed, dtype=object)[inverse] if parsed else np.zeros(0, dtype=object)
