"""GOES XRS readers for text and FITS files: NGDC CSV, SDAC FITS (through sunpy), plain ``time,xrsa,xrsb`` CSV.

| reader | files | basis |
|---|---|---|
| ``goes-ngdc-csv`` | ``gNN_xrs_1m_*.csv`` (+ ``.gz``/``.bz2``): metadata header, data after ``data:`` | swpc |
| ``goes-fits`` | ``goNNYYYYMMDD.fits[.gz]`` SDAC daily FITS, via ``sunpy.timeseries`` | swpc (operational GOES <= 15) |
| ``goes-plain-csv`` | CSV with ``time`` and ``xrsa`` and/or ``xrsb`` | given by the ``basis`` option |
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from flarecast.errors import InputFileError
from flarecast.ingest.readers.base import ReaderResult, goes_frame, open_text, satellite_from_name
from flarecast.ingest.readers.reader import Reader
from flarecast.ingest.readers.rows import BadRows, read_text, text_table

TIME_RANGE = (pd.Timestamp("1950-01-01", tz="UTC"), pd.Timestamp("2200-01-01", tz="UTC"))
"""Times a row may hold: X-ray monitoring began in the 1960s (GOES in 1975); anything outside is a fill value."""


def _head_lines(path: Path, n: int) -> list[str]:
    try:
        with open_text(path) as fh:
            return [fh.readline() for _ in range(n)]
    except (OSError, EOFError):
        return []


def missing_mark(text: pd.Series) -> np.ndarray:
    """True for empty cells and NOAA's "not observed" marks (``////``, ``//://``)."""
    return ((text == "") | text.str.contains("//", regex=False)).to_numpy()


def parse_utc(column: pd.Series, what: str, rows: BadRows) -> np.ndarray:
    """ISO-like timestamps (``Z`` or offsets allowed) to naive UTC datetime64[ns].

    Empty cells and NOAA's missing-value marks (``////``) become NaT. Anything else that is not a time (an
    impossible date such as 30 February, a minute 91) is a bad row: ``rows`` refuses it, naming its line
    (the column's index), or records it to be left out.
    """
    text = column.astype(str).str.strip()
    missing = missing_mark(text)
    t = pd.to_datetime(text.mask(missing, ""), utc=True, errors="coerce", format="mixed")
    # pandas reads a fill value such as -9999 as the year -9999: no instrument flew outside these years.
    t = t.where((t >= TIME_RANGE[0]) & (t < TIME_RANGE[1]))
    for i in np.flatnonzero(t.isna().to_numpy() & ~missing):
        rows.bad(int(column.index[i]), f"{what} {text.iloc[i]!r} is not a date and time in {TIME_RANGE[0].year}-"
                                       f"{TIME_RANGE[1].year - 1}")
    return t.dt.tz_localize(None).to_numpy("datetime64[ns]")


def numbers(frame: pd.DataFrame, col: str, rows: BadRows) -> np.ndarray:
    """A numeric column; empty cells are NaN, any other non-number is a bad row."""
    text = frame[col].astype(str).str.strip()
    values = pd.to_numeric(text.replace({"": "nan"}), errors="coerce")
    for i in np.flatnonzero(values.isna().to_numpy() & ~text.str.lower().isin(["", "nan"]).to_numpy()):
        rows.bad(int(frame.index[i]), f"{col} = {text.iloc[i]!r} is not a number")
    return values.to_numpy(np.float64)


def _kept(frame: pd.DataFrame, rows: BadRows) -> np.ndarray:
    return ~np.isin(frame.index.to_numpy(), rows.lines)


def _result(path, frame, rows, times, fluxes, bad, **kwargs) -> ReaderResult:
    keep = _kept(frame, rows)
    res = goes_frame(
        path,
        times[keep],
        {ch: None if v is None else v[keep] for ch, v in fluxes.items()},
        {ch: v[keep] for ch, v in bad.items()},
        **kwargs,
    )
    res.warnings[:0] = rows.notes
    res.ignored.update(rows.ignored)
    return res


class NgdcCsv(Reader, name="goes-ngdc-csv", kind="goes", basis="swpc",
              description="NGDC GOES 8-15 operational XRS CSV with metadata header (gNN_xrs_1m_*.csv[.gz|.bz2]), "
              "SWPC-scaled"):
    """NGDC GOES 8-15 operational averages as CSV: a metadata header, then ``data:`` and the table."""

    @classmethod
    def can_read(cls, path: str | Path) -> bool:
        """True when the header mentions the XRS sensor or ``File name: gNN_xrs`` and a ``data:`` line follows."""
        lines = _head_lines(Path(path), 400)
        has_data = any(s.strip() == "data:" for s in lines)
        return has_data and any("xrs" in s.lower() or "X-ray Sensor" in s for s in lines[:200])

    @classmethod
    def read(
        cls, path: str | Path, *, basis: str | None = None, satellite: int | None = None, skip_bad: bool = False
    ) -> ReaderResult:
        """Read ``A_AVG``/``B_AVG`` (or ``*_FLUX``) and their quality flags; a non-zero flag is bad."""
        path = Path(path)
        rows = BadRows(path, skip_bad=skip_bad)
        if basis not in (None, "swpc"):
            raise InputFileError(
                path, f"basis {basis!r} given, but NGDC operational files are SWPC-scaled; drop it"
            )
        text = read_text(path)
        head, sep, body = text.partition("\ndata:")
        if not sep:
            raise InputFileError(
                path, "no 'data:' line: expected the NGDC metadata header followed by the table"
            )
        body = body.split("\n", 1)[1] if "\n" in body else ""
        # Lines before the table: the header, the data: line; NGDC's files end without a final line break.
        table = text_table(path, body, rows, first_line=head.count("\n") + 3, fixed_width=True)
        var = "AVG" if "B_AVG" in table.columns else "FLUX"
        if "time_tag" not in table.columns or f"B_{var}" not in table.columns:
            raise InputFileError(
                path, f"columns {list(table.columns)}: expected time_tag, A_AVG, B_AVG, *_QUAL_FLAG"
            )
        times = parse_utc(table["time_tag"], "time_tag", rows)
        fluxes = {ch: numbers(table, f"{s}_{var}", rows) for ch, s in (("xrsa", "A"), ("xrsb", "B"))}
        bad = {
            ch: numbers(table, f"{s}_QUAL_FLAG", rows) != 0
            for ch, s in (("xrsa", "A"), ("xrsb", "B"))
            if f"{s}_QUAL_FLAG" in table.columns
        }
        m = re.search(r'satellite_id\s*=\s*"GOES-?(\d+)"', head)
        sat = int(m.group(1)) if m else satellite_from_name(path.name) or (satellite or 0)
        return _result(path, table, rows, times, fluxes, bad, basis="swpc", satellite=sat, reader=cls.name)


class GoesFits(Reader, name="goes-fits", kind="goes", basis="swpc",
               description="GOES XRS daily FITS (goNNYYYYMMDD.fits[.gz]) via sunpy.timeseries, SWPC-scaled"):
    """SDAC daily GOES XRS FITS (``goNNYYYYMMDD.fits``), read with ``sunpy.timeseries``; GOES <= 15 operational."""

    @classmethod
    def can_read(cls, path: str | Path) -> bool:
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

    @classmethod
    def read(cls, path: str | Path, *, basis: str | None = None, satellite: int | None = None, **_options) -> ReaderResult:
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
            reader=cls.name,
        )


class PlainGoesCsv(Reader, name="goes-plain-csv", kind="goes", basis=None,
                   description="plain CSV with columns time, xrsa and/or xrsb in W m-2 (needs basis='true' or 'swpc')"):
    """A plain CSV: ``time`` plus ``xrsa`` and/or ``xrsb`` in W m^-2; the basis must be given."""

    header_columns = ("time", ("xrsa", "xrsb"))

    @classmethod
    def read(
        cls, path: str | Path, *, basis: str | None = None, satellite: int | None = None, skip_bad: bool = False
    ) -> ReaderResult:
        """Read the table; empty cells are masked as missing, a missing channel column is all missing."""
        path = Path(path)
        if basis is None:
            raise InputFileError(
                path,
                "a plain CSV does not say its flux basis: pass basis='swpc' (GOES 8-15 operational, "
                "NOAA catalogues) or basis='true' (GOES-R, reprocessed science data)",
            )
        rows = BadRows(path, skip_bad=skip_bad)
        table = text_table(path, read_text(path), rows)
        table.columns = [c.strip().lower() for c in table.columns]
        times = parse_utc(table["time"], "time", rows)
        fluxes = {ch: numbers(table, ch, rows) if ch in table.columns else None for ch in ("xrsa", "xrsb")}
        sat = satellite if satellite is not None else satellite_from_name(path.name)
        return _result(path, table, rows, times, fluxes, {}, basis=basis, satellite=sat, reader=cls.name)
