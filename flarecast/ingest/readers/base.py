"""What every reader returns, and the checks every GOES reader shares (fill values, quality, units, time order).

A reader turns one file into rows in the store's conventions. GOES readers give a DataFrame with columns
``time`` (datetime64[ns] UTC), ``xrsa``, ``xrsb`` (float32, W m^-2, true irradiance, NaN where unusable),
``xrsa_mask``, ``xrsb_mask`` (uint8 reason bits, see :data:`MASK_BITS`) and ``satellite`` (int16). Nothing is
dropped: an unusable value stays as a row with NaN flux and a non-zero mask, and the count by reason is
returned beside the rows.
"""

from __future__ import annotations

import bz2
import gzip
import io
import re
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import erfa
import numpy as np
import pandas as pd

from flarecast.classes import to_true
from flarecast.errors import InputFileError

MASK_MISSING = 1
MASK_QUALITY = 2
MASK_RANGE = 4
MASK_ELECTRON = 8
MASK_BITS = {
    MASK_MISSING: "missing",  # fill value (-9999, -99999), NaN or an empty cell in the source
    MASK_QUALITY: "quality",  # the source's own quality flag marks the value bad (eclipse, bad data, ...)
    MASK_RANGE: "range",  # flux <= 0 or above MAX_PLAUSIBLE_FLUX: not a physical 1-8 / 0.5-4 A flux
    # SWPC's real-time flag (``electron_contaminaton``): energetic electrons make up much of the signal, so
    # the electron-corrected flux is SWPC's estimate, not a measurement it vouches for.
    MASK_ELECTRON: "electron",
}
"""Mask bit -> reason. Bits combine (a value can be both flagged and out of range); 0 means good."""

MAX_PLAUSIBLE_FLUX = 1e-2
"""W m^-2, true basis. The largest flare on record (2003-11-04) is ~X40 true (4e-3); above 1e-2 is an artefact."""

WRONG_UNITS_FLUX = 1.0
"""W m^-2. A column that reaches this is not in W m^-2 (counts, or erg cm^-2 s^-1): the file is refused."""

FILL_VALUES = (-9999.0, -99999.0)

CHANNELS = ("xrsa", "xrsb")

GOES_COLUMNS = ("time", "xrsa", "xrsb", "xrsa_mask", "xrsb_mask", "satellite")

_COMPRESSED = {b"BZh": bz2.open, b"\x1f\x8b": gzip.open}


def open_text(path: str | Path, encoding: str = "utf-8"):
    """Open plain, gzip or bzip2 text by its first bytes (names lie more often than magic numbers).

    Every text reader opens its files through this, so a catalogue or CSV can be ingested compressed as it is
    (the package's own sample data is gzip).
    """
    with open(path, "rb") as fh:
        head = fh.read(3)
    for magic, opener in _COMPRESSED.items():
        if head.startswith(magic):
            return io.TextIOWrapper(opener(path, "rb"), encoding=encoding, errors="replace")
    return open(path, encoding=encoding, errors="replace")


@dataclass
class ReaderResult:
    """One file's rows in the store's conventions.

    Attributes
    ----------
    data : pandas.DataFrame
        GOES: :data:`GOES_COLUMNS`; events: start, peak, end, goes_class, peak_flux, noaa_ar, class_basis;
        SHARP: harpnum, time, noaa_ars and keyword columns.
    reader : str
        Name of the reader (product) that read the file.
    rows_read : int
        Data rows found in the file, kept or masked.
    masked : dict of str to int
        Count of masked values by ``"channel:reason"`` (GOES) or reason (events, SHARP): rows kept, with
        a value marked unusable or estimated.
    warnings : list of str
        Things the caller should tell the user (a leap second, an estimated peak time); ``ingest`` warns.
    attrs : dict
        Per-file facts worth keeping (satellite, basis of the source).
    ignored : dict of str to int
        Lines of the file that are not data rows and were passed over, by reason (blank lines, a
        catalogue's rows of other event types), so that every line is accounted for.
    """

    data: pd.DataFrame
    reader: str
    rows_read: int
    masked: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    attrs: dict = field(default_factory=dict)
    ignored: dict[str, int] = field(default_factory=dict)


W_M2 = frozenset({"W/m2", "W/m^2", "W m-2", "W m^-2", "W m**-2", "W/m**2"})
"""Spellings of W m^-2 itself (NOAA writes ``W/m2``): scale 1 without asking astropy (tested against it)."""


def flux_scale(path: str | Path, what: str, units) -> float:
    """Factor that turns a flux variable's values into W m^-2, read from its ``units`` attribute.

    ``W/m^2``, ``W/m2`` and ``W m-2`` give 1; ``erg/cm2/s`` and ``mW/m2`` give 1e-3 (astropy converts any
    irradiance unit). A variable without the attribute is taken as W m^-2 (the product's definition; the
    range checks still apply). A unit astropy does not know, or one that is not an irradiance (``counts``),
    is refused: read as W m^-2 it would turn a quiet day x 1000 into M-class flux.
    """
    if isinstance(units, bytes | np.bytes_):
        units = units.decode("utf-8", "replace")
    text = str(units).strip() if units is not None else ""
    if not text or text in W_M2:
        return 1.0
    scale = _irradiance_scale(text)
    if scale is None:
        raise InputFileError(
            path,
            f"{what} has units {text!r}: expected an irradiance such as 'W m-2', 'W/m^2', 'erg/cm2/s' or "
            "'mW/m2'; fix the units attribute",
        )
    return scale


@cache
def _irradiance_scale(text: str) -> float | None:
    """W m^-2 per ``text`` unit, None when astropy does not read it as an irradiance. Kept per text (a file
    or two a day write the same one), and astropy.units is imported on first use (~0.45 s), so that reading
    workers that never meet a unit pay for neither."""
    import astropy.units as u

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", u.UnitsWarning)  # "erg/cm2/s" has two slashes: valid, but noted
            unit = u.Unit(text.replace("^", ""), parse_strict="raise")
        return float(unit.to(u.W / u.m**2))
    except (ValueError, u.UnitsError, TypeError):
        return None


def check_times(path: str | Path, times: np.ndarray, what: str = "time") -> None:
    """Refuse times that are missing, out of order or duplicated: a merge by time would corrupt them.

    Raises
    ------
    InputFileError
        Naming the first offending row (0-based) and its timestamps.
    """
    times = np.asarray(times, dtype="datetime64[ns]")
    nat = np.flatnonzero(np.isnat(times))
    if nat.size:
        raise InputFileError(
            path, f"{what} is missing (NaT) at row {nat[0]}: expected a timestamp on every row"
        )
    if times.size < 2:
        return
    step = np.diff(times.view("int64"))
    bad = np.flatnonzero(step <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        kind = "duplicated" if step[bad[0]] == 0 else "out of order"
        leap = _leap_instants()
        near = np.abs((leap - times[i]).astype(np.int64)) <= 2 * 10**9
        why = (
            f" (the leap second before {str(leap[near][0])[:19]} UTC, which POSIX time stamps twice; drop one row)"
            if near.any()
            else " (fix or split the file)"
        )
        raise InputFileError(
            path,
            f"{what} {kind} at row {i}: {times[i]} follows {times[i - 1]}; expected strictly increasing times{why}",
        )


def leap_second_warning(path: str | Path, times: np.ndarray) -> list[str]:
    """Warn when a file's span reaches a UTC leap second.

    NOAA's GOES files count time "neglecting leap seconds" (POSIX seconds), so a measurement taken during
    23:59:60 carries the stamp of 00:00:00 or the one before it; flarecast keeps the stamps as written and
    says so, as sunpy does, naming the file and the leap second.
    """
    if times.size == 0:
        return []
    t = np.asarray(times, dtype="datetime64[ns]")
    # the cadence (a median: ~20 ms for a day of 1-s rows) is only needed near a leap second; it never
    # exceeds the file's span, so a leap second beyond last + span cannot be reached
    near = [leap for leap in _leap_instants() if t[0] < leap <= t[-1] + (t[-1] - t[0])]
    if not near:
        return []
    cadence = np.median(np.diff(t)) if t.size > 1 else np.timedelta64(0, "ns")
    out = []
    for leap in near:
        if t[0] < leap <= t[-1] + cadence:
            day = str(leap - np.timedelta64(1, "D"))[:10]
            out.append(
                f"{Path(path).name}: spans the leap second {day} 23:59:60 UTC (last record {str(t[-1])[:23]}); "
                "timestamps are kept as written (POSIX seconds, no leap second), so data within it may be "
                "stamped up to 1 s off"
            )
    return out


@cache
def _leap_instants() -> np.ndarray:
    # erfa's table lists (year, month, TAI-UTC) at each change; a leap second ends the day before that date.
    table = erfa.leap_seconds.get()
    dates = [np.datetime64(f"{int(y):04d}-{int(m):02d}-01", "ns") for y, m, _ in table if y >= 1972]
    return np.array(dates[1:], dtype="datetime64[ns]")


def goes_frame(
    path: str | Path,
    times: np.ndarray,
    fluxes: dict[str, np.ndarray | None],
    bad_quality: dict[str, np.ndarray | None],
    *,
    basis: str,
    satellite: int,
    reader: str,
    electron: dict[str, np.ndarray | None] | None = None,
) -> ReaderResult:
    """Build a GOES ReaderResult: mask fills, flags and out-of-range values, convert to true irradiance.

    Parameters
    ----------
    path : str or Path
        The file, for messages.
    times : numpy.ndarray
        datetime64 record times (UTC).
    fluxes : dict
        ``{"xrsa": array or None, "xrsb": array or None}`` in W m^-2 on ``basis``; None: channel absent.
    bad_quality : dict
        Per channel, a boolean array True where the source's quality flag marks the value bad, or None.
    electron : dict, optional, keyword-only
        Per channel, a boolean array True where the source flags electron contamination (SWPC real-time).
    basis : {"true", "swpc"}
        Basis of the fluxes in the file.
    satellite : int
        GOES satellite number (0 if unknown).
    reader : str
        Reader name, recorded in the result.
    """
    times = np.asarray(times).astype("datetime64[ns]")
    check_times(path, times)
    n = times.size
    cols: dict[str, np.ndarray] = {"time": times}
    masked: dict[str, int] = {}
    for ch in CHANNELS:
        raw = fluxes.get(ch)
        mask = np.zeros(n, dtype=np.uint8)
        if raw is None:
            mask[:] = MASK_MISSING
            flux = np.full(n, np.nan)
        else:
            flux = np.asarray(raw, dtype=np.float64)
            if flux.shape != (n,):
                raise InputFileError(path, f"{ch} has shape {flux.shape}, expected ({n},) like the time axis")
            missing = ~np.isfinite(flux) | np.isin(flux, FILL_VALUES)
            top = np.max(flux, where=~missing, initial=-np.inf)
            if top >= WRONG_UNITS_FLUX:
                raise InputFileError(
                    path,
                    f"{ch} reaches {top:.4g}, expected W m^-2 (a flare is 1e-8..1e-2): wrong units? "
                    "Convert the column to W m^-2",
                )
            mask[missing] |= MASK_MISSING
            flux = to_true(flux, ch, basis)
            mask[~missing & ((flux <= 0) | (flux > MAX_PLAUSIBLE_FLUX))] |= MASK_RANGE
        q = bad_quality.get(ch)
        if q is not None:
            mask[np.asarray(q, dtype=bool)] |= MASK_QUALITY
        e = (electron or {}).get(ch)
        if e is not None:
            mask[np.asarray(e, dtype=bool)] |= MASK_ELECTRON
        for bit, reason in MASK_BITS.items():
            count = int(np.count_nonzero(mask & bit))
            if count:
                masked[f"{ch}:{reason}"] = count
        cols[ch] = np.where(mask == 0, flux, np.nan).astype(np.float32)
        cols[f"{ch}_mask"] = mask
    cols["satellite"] = np.full(n, satellite, dtype=np.int16)
    data = pd.DataFrame({c: cols[c] for c in GOES_COLUMNS})
    return ReaderResult(
        data=data,
        reader=reader,
        rows_read=n,
        masked=masked,
        warnings=leap_second_warning(path, times),
        attrs={"satellite": satellite, "basis": basis},
    )


def flag_bad(flags: np.ndarray, attrs: dict, bad_meanings: frozenset[str]) -> np.ndarray:
    """True where a CF flag variable holds one of ``bad_meanings``, read from its own flag attributes.

    GOES products each define their flag bits (``flag_masks``, ``flag_values``, ``flag_meanings``), so the
    file, not a table copied here, says which bit is "eclipse" or "bad_data". Without those attributes any
    non-zero flag counts as bad.
    """
    flags = np.asarray(flags)
    meanings = attrs.get("flag_meanings")
    if meanings is None:
        return np.nan_to_num(flags.astype(np.float64), nan=1.0) != 0
    if isinstance(meanings, bytes | np.bytes_):
        meanings = meanings.decode()
    names = str(meanings).split()
    values = np.atleast_1d(attrs.get("flag_values", np.arange(len(names))))
    masks = np.atleast_1d(attrs.get("flag_masks", values))
    ints = flags.astype(np.int64)
    bad = np.zeros(flags.shape, dtype=bool)
    for name, m, v in zip(names, masks, values, strict=False):
        if name in bad_meanings:
            bad |= (ints & int(m)) == int(v)
    return bad


def satellite_from_name(name: str) -> int:
    """GOES number from a file name (``_g16_``, ``g15_xrs``, ``go15``), 0 when none is found."""
    m = re.search(r"(?:^|[_\-])g(?:oes_?|o)?(\d{2})(?=[_\-.]|\d{6})", name.lower())
    return int(m.group(1)) if m else 0
