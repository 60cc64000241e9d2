"""File writers for :mod:`flarecast.simulate`: GOES-R XRS L2 avg1m netCDF, SWPC edited events, JSOC SHARP CSV.

Each writer reproduces the layout of a real file in ``shared/data/real`` so that simulated data go
through the same readers as real data:

- ``sci_xrsf-l2-avg1m_g16_dYYYYMMDD_v2-2-0.nc``: the variables, dtypes, units, fill values, flag
  attributes and time encoding of NOAA's GOES-16 L2 1-minute average (checked against
  ``sci_xrsf-l2-avg1m_g16_d20170906_v2-2-0.nc``). Only the primary-channel variables are written (not
  the per-detector ``xrsa1_*``... or electron-correction ones), and the time dimension is chunked by day
  rather than NOAA's 1-record chunks: ~15x faster to write, ~9x smaller, no value a reader sees changes.
- ``YYYYMMDDevents.txt``: SWPC's daily Edited Events report with ``XRA`` rows only; same 12 header
  lines (two of them say the file is simulated), blank line before each event, 80-column rows.
- ``sharp_keywords.csv``: the JSOC keyword export layout (CRLF lines, ``T_REC`` TAI strings, quoted
  comma-separated ``NOAA_ARS`` when a HARP holds several active regions).
- ``sci_xrsf-l2-flx1s_g16_dYYYYMMDD_v2-2-0.nc`` (1-second files, ``simulate(..., one_second=True)``): see
  :mod:`flarecast.simulate.flx1s`.

Nothing here reads the clock: every date in a file derives from the data date, so the same
simulation writes byte-identical files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd

from flarecast.errors import ConfigError
from flarecast.util import atomic_path, atomic_write_bytes, atomic_write_text

GOES_EPOCH = np.datetime64("2000-01-01T12:00:00", "s")
"""GOES-R time origin: ``time`` counts seconds since it, neglecting leap seconds."""

MINUTES_PER_DAY = 1440
FLUX_FILL = np.float32(-9999.0)
FLAG_FILL = np.uint8(255)
FLAG_GOOD, FLAG_BAD, FLAG_E_INTERP = np.uint8(0), np.uint8(2), np.uint8(16)
"""Flag values used (NOAA flag_meanings): good_data, bad_data, e_correction_interp (informational)."""

_FLAG_ATTRS = {
    "flag_masks": np.array([3, 1, 2, 4, 8, 8, 48, 48], dtype=np.uint8),
    "flag_values": np.array([0, 1, 2, 4, 0, 8, 16, 32], dtype=np.uint8),
    "comments": (
        "e_contam_significant is set when the electron contamination is greater than 50% of observed "
        "signal. good_data is independent of electron contamination flags. electron_correction_interp is "
        "set when the electron contamination is interpolated because a short period of SEISS MPSHI is "
        "missing. electron_correction_decay is set when the correction is smoothly turned off with a decay "
        "over a ~2 hour period because SEISS MPSHI data is missing, and no future value is known. "
        "electron_correction_invalid is set after 1 hour of decay."
    ),
    "flag_meanings": (
        "good_data eclipse bad_data e_contam_significant e_correction_valid e_correction_invalid "
        "e_correction_interp e_correction_decay"
    ),
}
_VALID_MAX = {"xrsa": np.float32(0.003), "xrsb": np.float32(0.2)}
_COMPRESSION = {"zlib": True, "complevel": 4, "shuffle": False}


def goes_filename(day: date) -> str:
    return f"sci_xrsf-l2-avg1m_g16_d{day:%Y%m%d}_v2-2-0.nc"


def events_filename(day: date) -> str:
    return f"{day:%Y%m%d}events.txt"


def _iso_z(day: date) -> str:
    return f"{day:%Y-%m-%d}T00:00:00.000Z"


def _global_attrs(day: date, provenance: str) -> dict:
    """NOAA's descriptive attributes; provenance ones say the file is simulated."""
    return {
        "Conventions": "ACDD-1.3, Spase v2.2.6",
        "title": "L2 XRS 1 minute average",
        "summary": (
            "The EXIS X-Ray Sensor (XRS) measures in a short wavelength channel (XRS-A) between 0.05 and "
            "0.4 nm and in a longer wavelength channel (XRS-B) between 0.1 and 0.8 nm. The X-ray flux "
            "average product consists of 1 minute averages of the 1-s X-ray solar measurements. "
            "SIMULATED by flarecast: not a NOAA product."
        ),
        "keywords": "NumericalData.MeasurementType.Irradiance",
        "naming_authority": "gov.nesdis.noaa",
        "history": f"Simulated. {provenance}",
        "source": provenance,
        "comment": (
            "SIMULATED DATA, not a NOAA measurement. Written by flarecast in the layout of the GOES-R "
            "EXIS/XRS L2 avg1m product; fluxes are true irradiance (no SWPC scaling)."
        ),
        "processing_level": "Level 2",
        "processing_level_description": "Derived products",
        "references": "GOES-R XRS.04 Algorithm Theoretical Basis Document",
        "instrument": "GOES R Series Extreme Ultraviolet Sensor and X-ray Irradiance Sensors (EXIS)",
        "program": "Geostationary Operational Environmental Satellite, R-Series (GOES-R)",
        "time_coverage_resolution": "PT1M",
        "id": goes_filename(day),
        "date_created": _iso_z(day + timedelta(days=1)),
        "instrument_id": "FM1",
        "platform": "g16",
        "time_coverage_start": _iso_z(day),
        "time_coverage_end": _iso_z(day + timedelta(days=1)),
        "algorithm": "cli-xrs04_avg",
        "algorithm_version": np.array([2, 2], dtype=np.int64),
    }


def write_goes_day(path: Path, day: date, channels: dict[str, dict[str, np.ndarray]], provenance: str) -> None:
    """Write one UTC day of 1-minute XRS data as a GOES-16 L2 avg1m netCDF-4 file.

    ``channels`` maps ``"xrsa"``/``"xrsb"`` to ``{"flux": float32, "flag": uint8, "num": uint8}`` arrays
    of 1440 records, fills already in place.
    """
    day_start = np.datetime64(day, "s")
    time = (day_start - GOES_EPOCH).astype(np.float64) + 60.0 * np.arange(MINUTES_PER_DAY)
    with atomic_path(path) as tmp, netCDF4.Dataset(tmp, "w", format="NETCDF4") as nc:
        nc.setncatts(_global_attrs(day, provenance))
        nc.createDimension("time", None)  # unlimited, as in NOAA's files
        kw = {"dimensions": ("time",), "chunksizes": (MINUTES_PER_DAY,), **_COMPRESSION}
        for ch, letter in (("xrsa", "A"), ("xrsb", "B")):
            v = nc.createVariable(f"{ch}_flux", "f4", fill_value=FLUX_FILL, **kw)
            v.setncatts({
                "long_name": f"XRS-{letter} primary average flux.",
                "comments": f"Electron contamination has been removed. {ch}_flux =  {ch}_flux_observed - "
                f"{ch}_flux_electrons",
                "units": "W/m2",
                "valid_min": np.float32(1e-9),
                "valid_max": _VALID_MAX[ch],
                "ancillary_variables": f"{ch}_flag {ch}_num",
            })
            v[:] = channels[ch]["flux"]
        for ch in ("xrsa", "xrsb"):
            v = nc.createVariable(f"{ch}_flag", "u1", fill_value=FLAG_FILL, **kw)
            v.setncatts({"long_name": f"Flags for {ch}_flux.", **_FLAG_ATTRS})
            v[:] = channels[ch]["flag"]
        for ch in ("xrsa", "xrsb"):
            v = nc.createVariable(f"{ch}_num", "u1", fill_value=FLAG_FILL, **kw)
            v.setncatts({"long_name": f"Number of averaged measurements in {ch}_flux."})
            v[:] = channels[ch]["num"]
        v = nc.createVariable("time", "f8", fill_value=np.float64(-9999.0), **kw)
        v.setncatts({"long_name": "Record start time, neglecting leap seconds.",
                     "units": "seconds since 2000-01-01 12:00:00"})
        v[:] = time


@dataclass(frozen=True)
class EventRow:
    """One ``XRA`` row: times are ``HHMM`` strings (max/end may fall on the next day, as SWPC writes)."""

    number: int
    begin: str
    peak: str
    end: str
    flare_class: str
    integrated_flux: float  # J m^-2, begin to end
    region: int  # 5-digit NOAA AR, 0 when not attributed


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _swpc_date(day: date) -> str:
    """``2016 Jan 04``; spelled out because ``%b`` follows the process locale."""
    return f"{day.year} {_MONTHS[day.month - 1]} {day.day:02d}"


def _header(day: date, seed: int) -> list[str]:
    created = day + timedelta(days=3)  # SWPC edits a day's report about three days later
    return [
        f":Product: {events_filename(day)}",
        f":Created: {_swpc_date(created)} 0357 UT",
        f":Date: {day:%Y %m %d}",
        f"# SIMULATED by flarecast (seed {seed}) in the layout of NOAA SWPC Edited Events",
        "# Not NOAA data: do not send comments about it to SWPC.",
        "#",
        "# Missing data: ////",
        "# Updated every 5 minutes.",
        f"#                            Edited Events for {_swpc_date(day)}",
        "#",
        "#Event    Begin    Max       End  Obs  Q  Type  Loc/Frq   Particulars       Reg#",
        "#" + "-" * 79,
    ]


def xra_line(row: EventRow) -> str:
    """80-column ``XRA`` row; the region is written with 4 digits as SWPC does (AR 12673 -> ``2673``)."""
    region = f"{row.region % 10000:04d}" if row.region else "    "
    return (
        f"{row.number % 10000:4d}       {row.begin}   {row.peak}      {row.end}  G16  5   XRA  1-8A      "
        f"{row.flare_class:<8s}{row.integrated_flux:.1E}   {region}"
    )


def write_events_day(path: Path, day: date, rows: list[EventRow], seed: int) -> None:
    body = "".join(f"\n{xra_line(r)}\n" for r in rows)
    atomic_write_bytes(path, ("\n".join(_header(day, seed)) + "\n" + body).encode("ascii"))


def write_sharp_csv(path: Path, table: pd.DataFrame) -> None:
    """Write SHARP keyword rows in the JSOC export layout of ``sharp_keywords_fold0.csv``.

    ``table`` has columns T_REC (str), HARPNUM (int), NOAA_ARS (str), USFLUX, AREA, MEANGBZ, R_VALUE.
    """
    out = table.copy()
    out["USFLUX"] = [f"{x:.6e}" for x in out["USFLUX"]]
    out["AREA"] = out["AREA"].astype(np.float32).astype(np.float64).round(6)
    out["MEANGBZ"] = out["MEANGBZ"].round(3)
    out["R_VALUE"] = out["R_VALUE"].round(3)
    atomic_write_text(path, out.to_csv(index=False, lineterminator="\r\n"))


_OUR_FILES = (("goes", re.compile(r"sci_xrsf-l2-avg1m_g16_d\d{8}_v2-2-0\.nc")),
              ("events", re.compile(r"\d{8}events\.txt")), ("sharp", re.compile(r"sharp_keywords\.csv")),
              ("goes-1s", re.compile(r"sci_xrsf-l2-flx1s_g16_d\d{8}_v2-2-0\.nc")))
_ALWAYS = ("goes", "events", "sharp")
"""Folders every simulation writes; ``goes-1s`` only with ``one_second``."""


def prepare_outdir(outdir: str | Path) -> Path:
    """Create ``outdir/{goes,events,sharp}``; remove the files of an earlier simulation written there.

    Only a directory holding ``simulation.json`` is treated as an earlier simulation, and only file names
    a simulation writes are removed, so readers never mix two runs and nothing else is touched.
    """
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"outdir {str(out)!r} is a file: expected a directory (it is created if missing)")
    if (out / "simulation.json").exists():
        for sub, pattern in _OUR_FILES:
            for p in (out / sub).glob("*"):
                if pattern.fullmatch(p.name):
                    p.unlink()
    for sub in _ALWAYS:
        (out / sub).mkdir(parents=True, exist_ok=True)
    return out


def _hhmm(minute: int) -> str:
    return f"{minute % MINUTES_PER_DAY // 60:02d}{minute % 60:02d}"


def event_rows(begin, peak, end, classes, integrated_flux, noaa) -> dict[int, list[EventRow]]:
    """Catalogue rows (minutes since the first day, sorted by begin) grouped by the day they begin on.

    SWPC files an event under the day it begins; its Max and End may fall on the next day. Event numbers
    run up in steps of 10 and wrap at 10000, like SWPC's.
    """
    rows: dict[int, list[EventRow]] = {}
    for k, cls in enumerate(classes):
        row = EventRow(number=10 * (k + 1), begin=_hhmm(begin[k]), peak=_hhmm(peak[k]), end=_hhmm(end[k]),
                       flare_class=cls, integrated_flux=float(integrated_flux[k]), region=int(noaa[k]))
        rows.setdefault(int(begin[k]) // MINUTES_PER_DAY, []).append(row)
    return rows
