"""Flare catalogue readers for NOAA's fixed-width text reports: SWPC "Edited Events" and NGDC GOES XRS reports.

Every events reader returns rows with columns :data:`EVENT_COLUMNS`: ``start``, ``peak``, ``end``
(datetime64[ns] UTC, start/end may be NaT), ``goes_class`` (the class as the catalogue gives it, with NGDC's
implied decimal written out: ``C 21`` -> ``C2.1``), ``peak_flux`` (float64 W m^-2 on the TRUE basis),
``noaa_ar`` (int32, 0 = none) and ``class_basis`` (``"swpc"`` or ``"true"``: the basis of ``goes_class``).

Basis. Catalogues made from GOES 8-15 (NGDC reports, SWPC lists before GOES-16) give SWPC-scaled classes:
true flux = scaled / 0.7. SWPC's edited events say per row which satellite measured the flare (``G13``..``G15``:
scaled; ``G16`` and later: true); other observatories (``SDO`` proxies filling GOES gaps) were put on the
operational GOES scale of the day, which was the scaled one.

Region numbers. NOAA writes active regions with four digits; the count passed 10000 on 2002-06-14, so after
that date ``1158`` is AR 11158 (and ``2192`` is AR 12192), see :func:`full_ar`.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd

from flarecast.classes import parse_class, to_true
from flarecast.errors import FlareClassError, InputFileError
from flarecast.ingest.readers.base import ReaderResult, open_text
from flarecast.ingest.readers.reader import Reader
from flarecast.ingest.readers.rows import TRUNCATED, BadRows

EVENT_COLUMNS = ("start", "peak", "end", "goes_class", "peak_flux", "noaa_ar", "class_basis")

AR_10000_DATE = np.datetime64("2002-06-14", "ns")
"""First day of NOAA AR 10000: short region numbers on or after it are offset by 10000."""

SWPC_TRUE_BASIS_FROM = np.datetime64("2020-01-01", "ns")
"""NOAA catalogues that do not name the satellite: classes before this date are on the SWPC scale (GOES 8-15),
after it on the true scale of GOES-R. SWPC's own lists name G15 until 2019-05 and G16 from 2020-05, and
GOES-15 was switched off in January 2020; few flares fall in the gap (solar minimum)."""


def full_ar(number, when):
    """NOAA AR number with its leading 1 restored: ``full_ar(1158, 2011-02-15)`` -> 11158.

    Regions 9xxx were still on the disk when AR 10000 was numbered (June 2002), so only numbers below 9000
    are offset. The reverse slip, a 1 added before 2002 (SolarFlareNet's list gives AR 19393 for 2001), is
    undone. Works on scalars and arrays.
    """
    number = np.asarray(number, dtype=np.int64)
    when = np.asarray(when, dtype="datetime64[ns]")
    known = ~np.isnat(when)
    short = (number > 0) & (number < 9000) & known & (when >= AR_10000_DATE)
    early = (number >= 10000) & (number < 20000) & known & (when < AR_10000_DATE)
    out = np.where(short, number + 10000, np.where(early, number - 10000, number))
    return int(out) if out.ndim == 0 else out


def basis_by_date(peak) -> np.ndarray:
    """``"swpc"`` or ``"true"`` for each peak time, by :data:`SWPC_TRUE_BASIS_FROM`."""
    return np.where(np.asarray(peak, dtype="datetime64[ns]") >= SWPC_TRUE_BASIS_FROM, "true", "swpc")


def class_flux(
    path: str | Path, text: str, basis: str, *, where: str, implied_decimal: bool = False
) -> float:
    """True-basis peak flux of a class string; an unknown string raises InputFileError naming ``where``.

    A bare letter (``X`` with no magnitude) is refused here: read as X1.0 it would put a false X event in
    the labels. Readers of catalogues that really write bare letters catch them before (``class_uncertain``).
    """
    if len(text.strip()) == 1:
        raise InputFileError(
            path, f"{where}: flare class {text.strip()!r} has no magnitude: expected e.g. '{text.strip()}1.5'"
        )
    try:
        return _class_flux(text, basis, implied_decimal)
    except FlareClassError as exc:
        raise InputFileError(path, f"{where}: {exc}") from exc


@functools.lru_cache(maxsize=8192)
def _class_flux(text: str, basis: str, implied_decimal: bool) -> float:
    # A catalogue repeats a few hundred class strings tens of thousands of times.
    return float(to_true(parse_class(text, implied_decimal=implied_decimal), "xrsb", basis))


def events_result(
    path: str | Path,
    rows: list[dict],
    reader: str,
    masked: dict[str, int] | None = None,
    warnings: list[str] | None = None,
    ignored: dict[str, int] | None = None,
) -> ReaderResult:
    """Assemble parsed rows into a ReaderResult with store dtypes.

    Rows are dicts with :data:`EVENT_COLUMNS`, times as seconds since 1970 (None: not given) and
    ``noaa_ar`` as written (short numbers are completed here, see :func:`full_ar`).
    """
    times = {c: _seconds_to_ns([r[c] for r in rows]) for c in ("start", "peak", "end")}
    frame = pd.DataFrame(
        {
            **times,
            "goes_class": np.array([r["goes_class"] for r in rows], dtype=object).astype(str),
            "peak_flux": np.array([r["peak_flux"] for r in rows], dtype=np.float64),
            "noaa_ar": full_ar(np.array([r["noaa_ar"] for r in rows], dtype=np.int64), times["peak"]).astype(
                np.int32
            ),
            "class_basis": np.array([r["class_basis"] for r in rows], dtype=object).astype(str),
        }
    )
    bad = np.flatnonzero(frame["peak"].isna().to_numpy())
    if bad.size:
        raise InputFileError(path, f"event {bad[0]} has no peak time and no start/end to estimate it from")
    return ReaderResult(
        data=frame,
        reader=reader,
        rows_read=len(rows),
        masked=masked or {},
        warnings=warnings or [],
        ignored={k: v for k, v in (ignored or {}).items() if v},
    )


def _head(path: Path, n: int = 4096) -> str:
    try:
        with open_text(path, encoding="latin-1") as fh:
            return fh.read(n)
    except (OSError, EOFError):  # a truncated gzip stream raises EOFError
        return ""


def _read_lines(path: Path) -> tuple[list[str], bool]:
    """The file's lines, and whether the last one ended with a line break (a cut download does not)."""
    try:
        with open_text(path, encoding="latin-1") as fh:
            text = fh.read()
    except (OSError, EOFError) as exc:
        raise InputFileError(path, f"cannot be read ({exc})") from exc
    return text.splitlines(), text.endswith(("\n", "\r"))


def _day(text: str) -> int:
    """Days since 1970 of a ``YYYY-MM-DD`` date (ValueError when it is not one)."""
    return int(np.datetime64(text, "D").astype(np.int64))


def _clock(day: int, hhmm: str, after: int | None = None) -> int | None:
    """Seconds since 1970 of time ``hhmm`` on ``day`` (days since 1970), None when not given; a time earlier
    than ``after`` rolls over to the next day.

    Plain integers, not numpy datetimes: a catalogue has ~10^5 of these, and numpy scalars cost 10x more.
    """
    hhmm = hhmm.strip().zfill(4)
    if not hhmm.isdigit() or len(hhmm) != 4:
        return None
    hh, mm = int(hhmm[:2]), int(hhmm[2:])
    if hh > 47 or mm > 59:  # NGDC writes 2409 or 2529 for times past midnight
        raise ValueError(f"time {hhmm!r} is not HHMM")
    t = day * 86400 + hh * 3600 + mm * 60
    if after is not None and t < after:
        t += 86400
    return t


def _seconds_to_ns(values: list[int | None]) -> np.ndarray:
    nat = np.iinfo(np.int64).min
    return np.array([nat if v is None else v * 10**9 for v in values], dtype=np.int64).view("datetime64[ns]")


def _mid_event(path: Path, lineno: int, start: int | None, stop: int | None) -> int:
    # A missing max (//// or blank) means the peak was not timed; mid-event is the least biased stand-in.
    if start is None or stop is None:
        raise InputFileError(path, f"line {lineno}: no max time and no begin/end to estimate it from")
    return start + (stop - start) // 2


class SwpcEditedEvents(Reader, name="swpc-edited-events", kind="events", basis="per-row",
                       description="SWPC Edited Events daily text (YYYYMMDDevents.txt), XRA rows; basis from the "
                       "observatory"):
    """SWPC daily "Edited Events" reports (``YYYYMMDDevents.txt``); flares are the ``XRA`` rows."""

    _ROW = re.compile(
        r"^\s*(\d+)\s*\+?\s+[A-Z]?(\d{4}|////)\s+[A-Z]?(\d{4}|////)\s+[A-Z]?(\d{4}|////)\s+(\S+)\s+(\S+)\s+XRA\s+"
        r"(\S+)\s+(?P<cls>\S+)(?P<rest>.*)$"
    )

    @classmethod
    def can_read(cls, path: str | Path) -> bool:
        """True when the header names the product (``:Product: ... events.txt``, ``Edited Events``)."""
        head = _head(Path(path), 2048)
        return ":Product:" in head and "events" in head.lower() and "#Event" in head

    @classmethod
    def read(cls, path: str | Path, *, skip_bad: bool = False, **_options) -> ReaderResult:
        """Parse every XRA row; a row without a max time gets the middle of begin and end (counted)."""
        path = Path(path)
        bad = BadRows(path, skip_bad=skip_bad)
        lines, complete = _read_lines(path)
        m = next(
            (re.match(r":Date:\s+(\d{4})\s+(\d{2})\s+(\d{2})", s) for s in lines if s.startswith(":Date:")),
            None,
        )
        if m is None:
            m = re.match(r"(\d{4})(\d{2})(\d{2})events", path.name)
        if m is None:
            raise InputFileError(
                path, "no ':Date: YYYY MM DD' line and no date in the file name: not an events file?"
            )
        day = _day("-".join(m.groups()))
        rows, estimated, other = [], 0, 0
        for lineno, line in enumerate(lines, start=1):
            if not line.strip() or line.startswith(("#", ":")):
                continue
            if lineno == len(lines) and not complete:
                bad.bad(lineno, TRUNCATED)
                continue
            if " XRA " not in line:
                other += 1  # radio bursts, optical flares, sweeps: events, but not X-ray flares
                continue
            try:
                row = cls._row(path, day, lineno, line)
            except InputFileError as exc:
                bad.bad(lineno, str(exc).split(f"line {lineno}: ", 1)[-1])
                continue
            estimated += row.pop("estimated")
            rows.append(row)
        masked = {"peak_estimated": estimated} if estimated else {}
        return events_result(
            path, rows, cls.name, masked, bad.notes, ignored={"other_event_rows": other, **bad.ignored}
        )

    @staticmethod
    def _row(path: Path, day: int, lineno: int, line: str) -> dict:
        r = SwpcEditedEvents._ROW.match(line)
        if r is None:
            raise InputFileError(path, f"line {lineno}: XRA row not in the Edited Events layout: {line.strip()!r}")
        _, begin, peak, end, obs, _, _, cls, rest = r.groups()
        try:
            start = _clock(day, begin)
            stop = _clock(day, end, start)
            top = _clock(day, peak, start)
        except ValueError as exc:
            raise InputFileError(path, f"line {lineno}: {exc}") from exc
        estimated = top is None
        if estimated:
            top = _mid_event(path, lineno, start, stop)
        sat = re.fullmatch(r"G(\d+)", obs)
        basis = "true" if sat and int(sat.group(1)) >= 16 else "swpc"
        return {
            "start": start,
            "peak": top,
            "end": stop,
            "goes_class": cls.upper(),
            "peak_flux": class_flux(path, cls, basis, where=f"line {lineno}"),
            "noaa_ar": next((int(tok) for tok in rest.split() if tok.isdigit()), 0),
            "class_basis": basis,
            "estimated": int(estimated),
        }


class NgdcXrsReport(Reader, name="ngdc-xrs-report", kind="events", basis="swpc",
                    description="NGDC GOES XRS flare report fixed-width text (goes-xrs-report_YYYY.txt), SWPC-scaled"):
    """NOAA/NGDC GOES XRS flare reports (``goes-xrs-report_YYYY.txt``), fixed width, SWPC-scaled classes.

    Columns (1-based): 1-5 data code and station (``31777``), 6-11 YYMMDD, 14-17 start, 19-22 end, 24-27 max (HHMM, a letter between them is a
    qualifier), 60 class letter, 61-63 multiplier with an implied decimal (``C 21`` = C2.1), 81-85 NOAA AR.
    """

    _ROW = re.compile(r"^\d{5}(\d{6})  ")

    @classmethod
    def can_read(cls, path: str | Path) -> bool:
        """True when the first lines are ``31777YYMMDD`` records with a class letter at column 60."""
        lines = _head(Path(path), 2048).splitlines()[:5]
        return bool(lines) and all(
            cls._ROW.match(s) and len(s) >= 63 and s[59] in "ABCMX" for s in lines if s.strip()
        )

    @classmethod
    def read(cls, path: str | Path, *, skip_bad: bool = False, **_options) -> ReaderResult:
        """Parse every record; a two-digit year below 70 is 20YY (the reports start in 1975).

        A record with a class letter and no magnitude (three in the 1999 report) is kept with no peak flux
        and counted as ``class_uncertain``: labels ignore it. The last record, when no line break follows
        it, must reach column 85 (the region field): shorter, it was cut.
        """
        path = Path(path)
        bad = BadRows(path, skip_bad=skip_bad)
        rows, blank = [], 0
        counts = {"peak_estimated": 0, "no_class": 0, "class_uncertain": 0}
        lines, complete = _read_lines(path)
        for lineno, line in enumerate(lines, start=1):
            if not line.strip(" \t\x1a"):  # blank lines and a DOS end-of-file mark (Ctrl-Z) end some years
                blank += 1
                continue
            if lineno == len(lines) and not complete and len(line.rstrip("\r")) < 85:
                bad.bad(lineno, f"the file ends mid-record at column {len(line.rstrip())} of 85 (no line break after "
                                "it): a truncated download? Re-download it")
                continue
            try:
                row, kind = cls._row(path, lineno, line)
            except InputFileError as exc:
                bad.bad(lineno, str(exc).split(f"line {lineno}: ", 1)[-1])
                continue
            if kind:
                counts[kind] += 1
            if row.pop("estimated"):
                counts["peak_estimated"] += 1
            rows.append(row)
        masked = {k: v for k, v in counts.items() if v}
        return events_result(path, rows, cls.name, masked, bad.notes, {"blank_lines": blank, **bad.ignored})

    @staticmethod
    def _row(path: Path, lineno: int, line: str) -> tuple[dict, str]:
        m = NgdcXrsReport._ROW.match(line)
        if m is None or len(line) < 63:
            raise InputFileError(path, f"line {lineno}: not an NGDC XRS record (31777YYMMDD ...): {line[:40]!r}")
        line = line.ljust(85)
        yy, mm, dd = int(line[5:7]), line[7:9], line[9:11]
        try:
            day = _day(f"{(2000 if yy < 70 else 1900) + yy}-{mm}-{dd}")
            start = _clock(day, line[13:17])
            stop = _clock(day, line[18:22], start)
            top = _clock(day, line[23:27], start)
        except ValueError as exc:
            raise InputFileError(path, f"line {lineno}: bad date or time ({exc})") from exc
        estimated = top is None
        if estimated:
            top = _mid_event(path, lineno, start, stop)
        letter, digits = line[59], line[60:63].strip()
        kind = ""
        if letter == " " and not digits:
            # Optical-only reports (an H-alpha flare GOES did not class) stay as rows without a class.
            kind, cls, flux = "no_class", "", np.nan
        elif letter in "ABCMX" and not digits:
            kind, cls, flux = "class_uncertain", letter, np.nan
        else:
            flux = class_flux(path, f"{letter}{digits}", "swpc", where=f"line {lineno}", implied_decimal=True)
            cls = f"{letter}{int(digits) / 10:.1f}" if digits.isdigit() else letter
        ar = line[80:85].strip()
        if ar and not ar.isdigit():
            raise InputFileError(path, f"line {lineno}: NOAA AR {ar!r} (columns 81-85) is not a positive number")
        row = {
            "start": start,
            "peak": top,
            "end": stop,
            "goes_class": cls,
            "peak_flux": flux,
            "noaa_ar": int(ar) if ar else 0,
            "class_basis": "swpc",
            "estimated": estimated,
        }
        return row, kind
