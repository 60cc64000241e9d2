"""GOES XRS readers for text and FITS files: NGDC CSV, SDAC FITS (through sunpy), plain ``time,xrsa,xrsb`` CSV.

| reader | files | basis |
|---|---|---|
| ``goes-ngdc-csv`` | ``gNN_xrs_1m_*.csv`` (+ ``.gz``/``.bz2``): metadata header, data after ``data:`` | swpc |
| ``goes-fits`` | ``goNNYYYYMMDD.fits[.gz]`` SDAC daily FITS, via ``sunpy.timeseries`` | swpc (operational GOES <= 15) |
| ``goes-plain-csv`` | CSV with ``time`` and ``xrsa`` and/or ``xrsb`` | given by the ``basis`` option |
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from flarecast.errors import InputFileError
from flarecast.ingest.readers.base import ReaderResult, goes_frame, open_text, satellite_from_name


def _head_lines(path: Path, n: int) -> list[str]:
    try:
        with open_text(path) as fh:
            return [fh.readline() for _ in range(n)]
    except (OSError, EOFError):
        return []


def missing_mark(text: pd.Series) -> np.ndarray:
    """True for empty cells and NOAA's "not observed" marks (``////``, ``//://``)."""
    return ((text == "") | text.str.contains("//", regex=False)).to_numpy()


def parse_utc(
    path: Path, column: pd.Series, what: str, first_line: int = 2, *, strict: bool = True
) -> np.ndarray:
    """ISO-like timestamps (``Z`` or offsets allowed) to naive UTC datetime64[ns].

    Empty cells and NOAA's missing-value marks (``////``) become NaT. Anything else that is not a time
    raises InputFileError naming its line, unless ``strict`` is False: then it becomes NaT too and the
    caller counts it (catalogue readers do, so one mistyped minute does not cost a 40,000-row catalogue).
    """
    text = column.astype(str).str.strip()
    missing = missing_mark(text)
    t = pd.to_datetime(text.mask(missing, ""), utc=True, errors="coerce", format="mixed")
    bad = np.flatnonzero(t.isna().to_numpy() & ~missing)
    if bad.size and strict:
        raise InputFileError(
            path, f"line {bad[0] + first_line}: {what} {text.iloc[bad[0]]!r} is not a date and time"
        )
    return t.dt.tz_localize(None).to_numpy("datetime64[ns]")


def _numbers(path: Path, frame: pd.DataFrame, col: str, first_line: int) -> np.ndarray:
    text = frame[col].astype(str).str.strip()
    values = pd.to_numeric(text.replace({"": "nan"}), errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & ~text.str.lower().isin(["", "nan"]).to_numpy())
    if bad.size:
        raise InputFileError(
            path, f"line {bad[0] + first_line}: {col} = {text.iloc[bad[0]]!r} is not a number"
        )
    return values.to_numpy(np.float64)


class NgdcCsv:
    """NGDC GOES 8-15 operational averages as CSV: a metadata header, then ``data:`` and the table."""

    name = "goes-ngdc-csv"
    basis = "swpc"
    kind = "goes"
    description = (
        "NGDC GOES 8-15 operational XRS CSV with metadata header (gNN_xrs_1m_*.csv[.gz|.bz2]), SWPC-scaled"
    )

    @staticmethod
    def can_read(path: str | Path) -> bool:
        """True when the header mentions the XRS sensor or ``File name: gNN_xrs`` and a ``data:`` line follows."""
        lines = _head_lines(Path(path), 400)
        has_data = any(s.strip() == "data:" for s in lines)
        return has_data and any("xrs" in s.lower() or "X-ray Sensor" in s for s in lines[:200])

    @staticmethod
    def read(path: str | Path, *, basis: str | None = None, satellite: int | None = None) -> ReaderResult:
        """Read ``A_AVG``/``B_AVG`` (or ``*_FLUX``) and their quality flags; a non-zero flag is bad."""
        path = Path(path)
        if basis not in (None, "swpc"):
            raise InputFileError(
                path, f"basis {basis!r} given, but NGDC operational files are SWPC-scaled; drop it"
            )
        with open_text(path) as fh:
            text = fh.read()
        head, sep, body = text.partition("\ndata:")
        if not sep:
            raise InputFileError(
                path, "no 'data:' line: expected the NGDC metadata header followed by the table"
            )
        body = body.split("\n", 1)[1] if "\n" in body else ""
        try:
            table = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False, skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputFileError(path, f"table after 'data:' cannot be parsed ({exc})") from exc
        first = head.count("\n") + 3  # header lines, the data: line, the column names
        var = "AVG" if "B_AVG" in table.columns else "FLUX"
        if "time_tag" not in table.columns or f"B_{var}" not in table.columns:
            raise InputFileError(
                path, f"columns {list(table.columns)}: expected time_tag, A_AVG, B_AVG, *_QUAL_FLAG"
            )
        times = parse_utc(path, table["time_tag"], "time_tag", first)
        fluxes = {ch: _numbers(path, table, f"{s}_{var}", first) for ch, s in (("xrsa", "A"), ("xrsb", "B"))}
        bad = {
            ch: _numbers(path, table, f"{s}_QUAL_FLAG", first) != 0
            for ch, s in (("xrsa", "A"), ("xrsb", "B"))
            if f"{s}_QUAL_FLAG" in table.columns
        }
        m = re.search(r'satellite_id\s*=\s*"GOES-?(\d+)"', head)
        sat = int(m.group(1)) if m else satellite_from_name(path.name) or (satellite or 0)
        return goes_frame(path, times, fluxes, bad, basis="swpc", satellite=sat, reader=NgdcCsv.name)


class GoesFits:
    """SDAC daily GOES XRS FITS (``goNNYYYYMMDD.fits``), read with ``sunpy.timeseries``; GOES <= 15 operational."""

    name = "goes-fits"
    basis = "swpc"
    kind = "goes"
    description = "GOES XRS daily FITS (goNNYYYYMMDD.fits[.gz]) via sunpy.timeseries, SWPC-scaled"

    @staticmethod
    def can_read(path: str | Path) -> bool:
        """True for a FITS file (plain or gzip) whose primary header names a GOES telescope."""
        try:
            with open_text(path, encoding="latin-1") as fh:
                if not fh.read(9) == "SIMPLE  =":  # every FITS file starts so; astropy would warn on a CSV
                    return False
            from astropy.io import fits

            with fits.open(path) as hdus:
                return str(hdus[0].header.get("TELESCOP", "")).upper().startswith("GOES")
        except (OSError, ValueError, EOFError):
            return False

    @staticmethod
    def read(path: str | Path, *, basis: str | None = None, satellite: int | None = None) -> ReaderResult:
        """Fluxes from sunpy (which turns -99999 into NaN); FITS carry no quality flags."""
        import sunpy.timeseries

        path = Path(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sunpy's notes on FITS header cards are not the user's business
            series = sunpy.timeseries.TimeSeries(str(path))
        frame = series.to_dataframe()
        meta = series.meta.metas[0] if series.meta.metas else {}
        m = re.search(r"(\d+)", str(meta.get("TELESCOP", "")))
        sat = int(m.group(1)) if m else satellite_from_name(path.name) or (satellite or 0)
        if sat >= 16:
            raise InputFileError(path, f"GOES-{sat} FITS: expected GOES 1-15 (GOES-R data come as L2 netCDF)")
        fluxes = {ch: frame[ch].to_numpy(np.float64) if ch in frame else None for ch in ("xrsa", "xrsb")}
        return goes_frame(
            path,
            frame.index.to_numpy("datetime64[ns]"),
            fluxes,
            {},
            basis="swpc",
            satellite=sat,
            reader=GoesFits.name,
        )


class PlainGoesCsv:
    """A plain CSV: ``time`` plus ``xrsa`` and/or ``xrsb`` in W m^-2; the basis must be given."""

    name = "goes-plain-csv"
    basis = None
    kind = "goes"
    description = "plain CSV with columns time, xrsa and/or xrsb in W m-2 (needs basis='true' or 'swpc')"

    @staticmethod
    def can_read(path: str | Path) -> bool:
        """True when the first line is a header holding ``time`` and ``xrsa`` or ``xrsb``."""
        lines = _head_lines(Path(path), 1)
        names = [c.strip().lower() for c in lines[0].split(",")] if lines else []
        return "time" in names and ("xrsa" in names or "xrsb" in names)

    @staticmethod
    def read(path: str | Path, *, basis: str | None = None, satellite: int | None = None) -> ReaderResult:
        """Read the table; empty cells are masked as missing, a missing channel column is all missing."""
        path = Path(path)
        if basis is None:
            raise InputFileError(
                path,
                "a plain CSV does not say its flux basis: pass basis='swpc' (GOES 8-15 operational, "
                "NOAA catalogues) or basis='true' (GOES-R, reprocessed science data)",
            )
        try:
            with open_text(path) as fh:
                table = pd.read_csv(fh, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputFileError(path, f"not a readable CSV ({exc})") from exc
        table.columns = [c.strip().lower() for c in table.columns]
        times = parse_utc(path, table["time"], "time")
        fluxes = {
            ch: _numbers(path, table, ch, 2) if ch in table.columns else None for ch in ("xrsa", "xrsb")
        }
        sat = satellite if satellite is not None else satellite_from_name(path.name)
        return goes_frame(path, times, fluxes, {}, basis=basis, satellite=sat, reader=PlainGoesCsv.name)
