"""Flare catalogue readers for tables: SWPC flare-list CSV, HEK export, GOES-R flare summary (netCDF and CSV),
and plain CSV (``class,start,peak,end,noaa_ar`` or SolarFlareNet's ``Flare Class,Start Time,...``).

Basis: rows naming a GOES-R satellite, and the GOES-R flare summary, are true irradiance; rows naming GOES
8-15 are SWPC-scaled; catalogues that name no satellite follow :func:`basis_by_date` (a plain CSV may
instead be given ``basis``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from flarecast.classes import parse_class, to_true
from flarecast.errors import FlareClassError, InputFileError
from flarecast.ingest.readers.base import ReaderResult
from flarecast.ingest.readers.events import EVENT_COLUMNS, SWPC_TRUE_BASIS_FROM, basis_by_date, full_ar
from flarecast.ingest.readers.goes import decode_seconds
from flarecast.ingest.readers.goes_text import parse_utc
from flarecast.ingest.readers.reader import Reader, first_line
from flarecast.ingest.readers.rows import BadRows, read_text, region_numbers, text_table

_ZERO_CLASS = re.compile(r"^[ABCMX](0+\.?0*|\.0+)$")


def table_events(
    path: Path,
    columns: dict[str, np.ndarray],
    reader: str,
    rows: BadRows,
    lines: np.ndarray,
    *,
    masked: dict[str, int] | None = None,
    warnings: list[str] | None = None,
) -> ReaderResult:
    """Events from column arrays: ``start``, ``peak``, ``end`` (datetime64), ``goes_class`` (str), ``noaa_ar``
    (int, short numbers allowed), ``class_basis`` (str per row). Row ``i`` is line ``lines[i]``.

    Rows ``rows`` refused earlier are left out here (with ``skip_bad``). A class without a magnitude (SWPC's
    lists and SolarFlareNet's write ``C`` alone on a few rows) is kept as written with no peak flux, so labels
    ignore it, and counted as ``class_uncertain``: read as C1.0 (or X1.0) it would be a false event.
    """
    lines = np.asarray(lines, dtype=np.int64)
    peak = np.asarray(columns["peak"], dtype="datetime64[ns]")
    for i in np.flatnonzero(np.isnat(peak)):
        rows.bad(int(lines[i]), "no peak time: every flare needs one")
    # "C6,2" (a decimal comma) is C6.2; HEK writes "A0.0" where GOES gave no class: both seen in real lists.
    classes = np.array(
        [str(c).strip().upper().replace(",", ".") for c in columns["goes_class"]], dtype=object
    )
    classes[np.array([bool(_ZERO_CLASS.match(c)) for c in classes], dtype=bool)] = ""
    bare = np.array([len(c) == 1 and c in "ABCMX" for c in classes], dtype=bool)
    flux = np.full(len(peak), np.nan)
    for text in pd.unique(classes[~bare]):
        same = (classes == text) & ~bare
        if text == "":
            continue
        try:
            flux[same] = parse_class(text)
        except FlareClassError as exc:
            for i in np.flatnonzero(same):
                rows.bad(int(lines[i]), f"{exc}")
    basis = np.asarray(columns["class_basis"], dtype=object)
    swpc = basis == "swpc"
    flux[swpc] = to_true(flux[swpc], "xrsb", "swpc")
    keep = ~np.isin(lines, rows.lines)
    masked = dict(masked or {})
    for key, hit in (("no_class", classes == ""), ("class_uncertain", bare)):
        if (hit & keep).any():
            masked[key] = int((hit & keep).sum())
    frame = pd.DataFrame(
        {
            "start": np.asarray(columns["start"], dtype="datetime64[ns]"),
            "peak": peak,
            "end": np.asarray(columns["end"], dtype="datetime64[ns]"),
            "goes_class": classes.astype(str),
            "peak_flux": flux,
            "noaa_ar": full_ar(columns["noaa_ar"], peak).astype(np.int32),
            "class_basis": basis.astype(str),
        }
    )[keep].reset_index(drop=True)
    return ReaderResult(
        data=frame[list(EVENT_COLUMNS)],
        reader=reader,
        rows_read=len(peak),
        masked=masked,
        warnings=rows.notes + list(warnings or []),
        ignored=rows.ignored,
    )


def catalogue_key(column: str) -> str:
    """A column name as catalogues are matched: lower case, no spaces or underscores (``Flare Class`` and
    ``goes_class`` are ``flareclass`` and ``goesclass``)."""
    return re.sub(r"[\s_]", "", column).lower()


def catalogue_times(
    table: pd.DataFrame, names: dict[str, str | int | None], rows: BadRows
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Start/peak/end columns; a cell that is not a time (30 February, minute 91) is a bad row.

    ``names`` maps start/peak/end to a column (None: absent). End or peak earlier than start is taken to
    have crossed midnight (several catalogues keep the start's date). A missing peak gets mid-event.
    """
    n = len(table)
    out, masked = {}, {}
    for field in ("start", "peak", "end"):
        col = names.get(field)
        if col is None:
            out[field] = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
            continue
        out[field] = parse_utc(table[col], str(col), rows)
    start = out["start"]
    for field in ("peak", "end"):
        out[field] = np.where(out[field] < start, out[field] + np.timedelta64(1, "D"), out[field])
    gap = np.isnat(out["peak"]) & ~np.isnat(start) & ~np.isnat(out["end"])
    if gap.any():
        out["peak"][gap] = start[gap] + (out["end"][gap] - start[gap]) // 2
        masked["peak_estimated"] = int(gap.sum())
    return out, masked


def _region(table: pd.DataFrame, col, rows: BadRows) -> np.ndarray:
    return region_numbers(table[col], f"{col} (NOAA AR)", rows)


class CatalogueCsv(Reader):
    """What the CSV flare lists share (a base, not a reader: it has no name): header names compared loosely
    (:func:`catalogue_key`), and the table read and checked by :func:`~flarecast.ingest.readers.rows.text_table`
    (a row cut short is a bad row) before the subclass's :meth:`from_table` turns it into events."""

    header_key = staticmethod(catalogue_key)
    csv_options: ClassVar[dict] = {}
    """Keywords for ``text_table``: HEK's export is ``;``-separated with no header."""

    @classmethod
    def read(cls, path: str | Path, *, basis: str | None = None, skip_bad: bool = False, **_options) -> ReaderResult:
        """The file's flares; ``basis`` only where the reader's own is None (plain CSV)."""
        path = Path(path)
        rows = BadRows(path, skip_bad=skip_bad)
        return cls.from_table(path, text_table(path, read_text(path), rows, **cls.csv_options), rows, basis)

    @classmethod
    def from_table(cls, path: Path, table: pd.DataFrame, rows: BadRows, basis: str | None) -> ReaderResult:
        """Events from the checked table, whose index is each row's line."""
        raise NotImplementedError


class SwpcFlareListCsv(CatalogueCsv, name="swpc-flarelist-csv", kind="events", basis="per-row",
                       description="SWPC flare list CSV (start/max/end, goes_sat, goes_class, noaa_ar); basis from "
                       "goes_sat or date"):
    """SWPC flare lists as CSV (``date,event_no,start_time,max_time,...,goes_sat,goes_class,noaa_ar`` or
    ``event_starttime,event_peaktime,event_endtime,goes_class,noaa_ar``)."""

    header_columns = ("goesclass", ("maxtime", "eventpeaktime"))

    @classmethod
    def from_table(cls, path: Path, table: pd.DataFrame, rows: BadRows, basis: str | None) -> ReaderResult:
        """Times given as ``HHMM`` take the row's ``date`` and roll past midnight when they precede the start."""
        table.columns = [c.strip() for c in table.columns]
        if "max_time" in table.columns:
            for col in ("start_time", "max_time", "end_time"):
                # HHMM cells take the row's date; catalogue_times then rolls those before the start past midnight.
                hhmm = table[col].str.strip().str.fullmatch(r"\d{4}")
                day = table["date"].str.strip()
                iso = (
                    day.str[:4]
                    + "-"
                    + day.str[4:6]
                    + "-"
                    + day.str[6:8]
                    + " "
                    + table[col].str[:2]
                    + ":"
                    + table[col].str[2:4]
                )
                table[col] = table[col].where(~hhmm, iso)
            names = {"start": "start_time", "peak": "max_time", "end": "end_time"}
        else:
            names = {"start": "event_starttime", "peak": "event_peaktime", "end": "event_endtime"}
        times, masked = catalogue_times(table, names, rows)
        peak = times["peak"]
        if "goes_sat" in table.columns:
            sat = table["goes_sat"].str.extract(r"^GO?(\d+)$", expand=False).astype(float).to_numpy()
            basis = np.where(np.isnan(sat), basis_by_date(peak), np.where(sat >= 16, "true", "swpc"))
        else:
            basis = basis_by_date(peak)
        cols = {
            **times,
            "goes_class": table["goes_class"].to_numpy(),
            "noaa_ar": _region(table, "noaa_ar", rows),
            "class_basis": basis,
        }
        return table_events(path, cols, cls.name, rows, table.index, masked=masked)


class HekCsv(CatalogueCsv, name="hek-csv", kind="events", basis="date",
             description="HEK GOES flare export (';', no header: date;start;peak;end;class;(x, y);AR;...)"):
    """HEK GOES flare list exported with sunpy: ``;``-separated, no header: date; start; peak; end; class; (x, y); AR."""

    csv_options = {"sep": ";", "header": False}
    _FIRST = re.compile(r"^\d{4}-\d{2}-\d{2};\d{4}-\d{2}-\d{2}[ T][\d:]+;[^;]+;[^;]+;\s*[ABCMX][\d.]*;")

    @classmethod
    def can_read(cls, path: str | Path) -> bool:
        """True when the first line is ``date;start;peak;end;class;...``."""
        return bool(cls._FIRST.match(first_line(path)))

    @classmethod
    def from_table(cls, path: Path, table: pd.DataFrame, rows: BadRows, basis: str | None) -> ReaderResult:
        """Basis by date (HEK copies SWPC's classes); AR 0 means none."""
        if table.shape[1] < 7:
            raise InputFileError(
                path,
                f"{table.shape[1]} fields per line: expected at least 7 (date;start;peak;end;class;pos;AR)",
            )
        times, masked = catalogue_times(table, {"start": 1, "peak": 2, "end": 3}, rows)
        cols = {
            **times,
            "goes_class": table[4].to_numpy(),
            "noaa_ar": _region(table, 6, rows),
            "class_basis": basis_by_date(times["peak"]),
        }
        return table_events(path, cols, cls.name, rows, table.index, masked=masked)


def summary_events(
    path: Path,
    times: np.ndarray,
    status: np.ndarray,
    classes: np.ndarray,
    ids: np.ndarray,
    reader: str,
    rows: BadRows,
    lines: np.ndarray,
) -> ReaderResult:
    """One event per ``flare_id`` with an ``EVENT_PEAK`` row; ids without one are counted as ``no_peak``."""
    frame = pd.DataFrame(
        {"time": times, "status": status, "cls": classes, "id": ids, "line": np.asarray(lines)}
    )
    firsts = {
        s: frame[frame["status"] == s].drop_duplicates("id").set_index("id")
        for s in ("EVENT_START", "EVENT_PEAK", "EVENT_END")
    }
    peaks = firsts["EVENT_PEAK"]
    n_no_peak = int(frame["id"].nunique() - len(peaks))
    cols = {
        "start": firsts["EVENT_START"]["time"].reindex(peaks.index).to_numpy("datetime64[ns]"),
        "peak": peaks["time"].to_numpy("datetime64[ns]"),
        "end": firsts["EVENT_END"]["time"].reindex(peaks.index).to_numpy("datetime64[ns]"),
        "goes_class": peaks["cls"].to_numpy(),
        "noaa_ar": np.zeros(len(peaks), dtype=np.int64),
        "class_basis": np.full(len(peaks), "true", dtype=object),
    }
    masked = {"no_peak": n_no_peak} if n_no_peak else {}
    return table_events(path, cols, reader, rows, peaks["line"].to_numpy(), masked=masked)


class Goes16FlareSummaryCsv(CatalogueCsv, name="goes-flsum-csv", kind="events", basis="true",
                            description="GOES-R flare summary CSV (time, status, flare_class, flare_id), true "
                            "irradiance, no AR"):
    """GOES-R XRS flare summary exported as CSV (``time,xrsb_flux,status,...,flare_class,...,flare_id``)."""

    header_columns = ("time", "status", "flareclass", "flareid")

    @classmethod
    def from_table(cls, path: Path, table: pd.DataFrame, rows: BadRows, basis: str | None) -> ReaderResult:
        """Group rows by ``flare_id``: start, peak (with the class) and end rows make one event."""
        times = parse_utc(table["time"], "time", rows)
        keep = ~np.isin(table.index.to_numpy(), rows.lines)
        table = table[keep]
        return summary_events(
            path,
            times[keep],
            table["status"].to_numpy(),
            table["flare_class"].to_numpy(),
            table["flare_id"].to_numpy(),
            cls.name,
            rows,
            table.index.to_numpy(),
        )


class Goes16FlareSummaryNetcdf(Reader, name="goes-flsum-nc", kind="events", basis="true",
                               description="GOES-R XRS L2 flare summary netCDF-4 (sci_xrsf-l2-flsum), true "
                               "irradiance, no AR"):
    """GOES-R XRS L2 flare summary netCDF-4 (``sci_xrsf-l2-flsum_gNN_*.nc``), true irradiance."""

    hdf5_vars = ("status", "flare_class", "flare_id", "time")

    @classmethod
    def read(cls, path: str | Path, **_options) -> ReaderResult:
        """Read with h5py (netCDF4's string reader crashed on corrupt files), group by ``flare_id``."""
        import h5py

        path = Path(path)
        try:
            with h5py.File(path, "r") as h:
                units = h["time"].attrs.get("units", b"")
                t, status, classes, ids = (h[v][()] for v in ("time", "status", "flare_class", "flare_id"))
        except (OSError, KeyError, ValueError, RuntimeError) as exc:
            raise InputFileError(path, f"not a readable flare summary ({exc})") from exc
        text = np.vectorize(
            lambda b: b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b), otypes=[object]
        )
        units = units.decode() if isinstance(units, bytes) else str(units)
        times = decode_seconds(path, t, units)
        # Records, not lines: a netCDF row number is what a user can look up (ncdump), counted from 1.
        return summary_events(
            path, times, text(status), text(classes), np.asarray(ids), cls.name,
            BadRows(path), np.arange(1, len(ids) + 1),
        )


_PLAIN = {
    "goes_class": ("class", "goesclass", "flareclass"),
    "start": ("start", "starttime", "begin", "begintime"),
    "peak": ("peak", "peaktime", "max", "maxtime"),
    "end": ("end", "endtime"),
    "noaa_ar": ("noaaar", "ar", "activeregion", "activeregionnumber", "region", "noaa"),
}


class PlainEventsCsv(CatalogueCsv, name="plain-events-csv", kind="events", basis=None,
                     description="plain CSV with class and peak columns (+ start, end, noaa_ar); basis option or "
                     "by date"):
    """A plain CSV of flares: a class and a peak column, optional start, end and NOAA AR (names are loose:
    ``class,start,peak,end,noaa_ar`` or ``Flare Class,Start Time,Peak Time,End Time,Active Region Number``)."""

    header_columns = (_PLAIN["goes_class"], _PLAIN["peak"])

    @classmethod
    def from_table(cls, path: Path, table: pd.DataFrame, rows: BadRows, basis: str | None) -> ReaderResult:
        """Without ``basis`` the classes follow NOAA's convention of their date (and a warning says so)."""
        keys = [catalogue_key(c) for c in table.columns]
        pick = {
            field: next((c for c, k in zip(table.columns, keys, strict=True) if k in names), None)
            for field, names in _PLAIN.items()
        }
        n = len(table)
        times, masked = catalogue_times(table, pick, rows)
        warnings = []
        if basis is None:
            warnings.append(
                f"{path.name}: no basis given; classes peaking before {str(SWPC_TRUE_BASIS_FROM)[:10]} "
                "are taken as SWPC-scaled, later ones as true (pass basis to override)"
            )
        cols = {
            **times,
            "goes_class": table[pick["goes_class"]].to_numpy(),
            "noaa_ar": _region(table, pick["noaa_ar"], rows) if pick["noaa_ar"] else np.zeros(n, dtype=np.int64),
            "class_basis": basis_by_date(times["peak"]) if basis is None else np.full(n, basis, dtype=object),
        }
        return table_events(
            path, cols, cls.name, rows, table.index, masked=masked, warnings=warnings
        )
