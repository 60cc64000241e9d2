"""Simulated GOES-16 XRS L2 1-second files (``sci_xrsf-l2-flx1s_g16_dYYYYMMDD_v2-2-0.nc``).

The layout is NOAA's ``xrsf-l2-flx1s`` science product as the real file
``sci_xrsf-l2-flx1s_g17_d20201016_truncated.nc`` (shipped with sunpy; cut by ``ncks`` from NOAA's
``v2-1-0`` file) shows it: ``time`` float64 "seconds since 2000-01-01 12:00:00" (record start, leap
seconds neglected, fill -9999), ``xrsa_flux`` / ``xrsb_flux`` float32 W/m2 (fill -9999, ``ancillary_variables``
naming the flags), ``xrsa_flags`` / ``xrsb_flags`` uint16 (plural, unlike avg1m's uint8 ``*_flag``; fill 65535;
``flag_masks`` 65535 1 2 4 ... 512 for ``good_data eclipse particle_spike ... missing_data L0_error``),
``xrsa_primary_chan`` / ``xrsb_primary_chan`` uint8, and gzip chunks of 60 records along an unlimited ``time``
dimension, as in that file. Per-detector variables (``xrsa1_flux``...), quad-diode currents, ``au_factor``,
``roll_angle`` and ``yaw_flip_flag`` are not written: no reader uses them.

The values come from a 1-minute simulation (:func:`flarecast.simulate.generate.generate`): each minute's
flux is held for its 60 seconds with 1 % multiplicative noise, so a minute's 1-s mean is its 1-minute value
within noise. A minute written as a gap (``bad_data`` in avg1m) is 60 seconds of -9999 flagged
``missing_data``; of a minute that averaged ``num`` < 60 seconds, ``60 - num`` seconds are flagged
``particle_spike`` (their flux stays written: the flag, not a fill, marks them, as NOAA does).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import netCDF4
import numpy as np

from flarecast.simulate.formats import FLAG_BAD, FLUX_FILL, GOES_EPOCH, MINUTES_PER_DAY, _global_attrs
from flarecast.util import atomic_path

SECONDS_PER_DAY = 86_400
CHUNK = 60
"""Records per HDF5 chunk, as in NOAA's flx1s files."""
NOISE_1S = 0.01
FLAGS_FILL = np.uint16(65535)
FLAGS_GOOD, FLAGS_SPIKE, FLAGS_MISSING = np.uint16(0), np.uint16(2), np.uint16(256)
"""Flag values used (NOAA flx1s flag_meanings): good_data, particle_spike, missing_data."""

_FLAGS_ATTRS = {
    "valid_min": np.uint16(0),
    "valid_max": np.uint16(2047),
    "flag_masks": np.array([65535, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512], dtype=np.uint16),
    "flag_values": np.array([0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512], dtype=np.uint16),
    "flag_meanings": (
        "good_data eclipse particle_spike calibration off_point temperature_error data_quality_error "
        "pointing_error invalid_mode missing_data L0_error"
    ),
}
_PRIMARY_ATTRS = {
    "valid_min": np.uint8(1),
    "valid_max": np.uint8(2),
    "flag_masks": np.array([3, 3, 255], dtype=np.uint8),
    "flag_values": np.array([1, 2, 255], dtype=np.uint8),
}
_COMPRESSION = {"zlib": True, "complevel": 4, "shuffle": False}


def flx1s_filename(day: date) -> str:
    return f"sci_xrsf-l2-flx1s_g16_d{day:%Y%m%d}_v2-2-0.nc"


def one_second_day(
    rng: np.random.Generator, flux: dict[str, np.ndarray], flag: np.ndarray, num: np.ndarray
) -> dict[str, dict[str, np.ndarray]]:
    """86,400 1-s records per channel from one day's 1440 minutes (``flux`` per channel, avg1m ``flag``/``num``).

    Returns ``{"xrsa"|"xrsb": {"flux": float32, "flags": uint16}}``.
    """
    gap = np.repeat(flag == FLAG_BAD, 60)
    # seconds a minute left out of its average: the first 60 - num of a random rotation of the minute
    left_out = (60 - num.astype(np.int64)).clip(0, 60)
    offset = rng.integers(0, 60, MINUTES_PER_DAY)
    second = np.arange(60)
    spike = (((second[None, :] - offset[:, None]) % 60) < left_out[:, None]).ravel() & ~gap
    flags = np.where(gap, FLAGS_MISSING, np.where(spike, FLAGS_SPIKE, FLAGS_GOOD)).astype(np.uint16)
    out = {}
    for ch in ("xrsa", "xrsb"):
        held = np.repeat(flux[ch].astype(np.float64), 60)
        noisy = (held * (1 + NOISE_1S * rng.standard_normal(SECONDS_PER_DAY))).astype(np.float32)
        out[ch] = {"flux": np.where(gap, FLUX_FILL, noisy).astype(np.float32), "flags": flags}
    return out


def write_flx1s_day(path: Path, day: date, channels: dict[str, dict[str, np.ndarray]], provenance: str) -> None:
    """Write one UTC day of 1-s XRS records (from :func:`one_second_day`) as a GOES-16 L2 flx1s netCDF-4 file."""
    day_start = np.datetime64(day, "s")
    time = (day_start - GOES_EPOCH).astype(np.float64) + np.arange(SECONDS_PER_DAY, dtype=np.float64)
    attrs = _global_attrs(day, provenance) | {
        "title": "L2 XRS 1-s fluxes",
        "summary": (
            "The X-Ray 1s flux product consists of high resolution solar X ray flux measurements from the EXIS "
            "X-Ray Sensor (XRS). SIMULATED by flarecast: not a NOAA product."
        ),
        "comment": (
            "SIMULATED DATA, not a NOAA measurement. Written by flarecast in the layout of the GOES-R "
            "EXIS/XRS L2 flx1s product; fluxes are true irradiance (no SWPC scaling)."
        ),
        "references": "GOES-R XRS.05 Algorithm Theoretical Basis Document",
        "source": "GOES-R EXIS/XRS L1b",
        "time_coverage_resolution": "PT1S",
        "id": flx1s_filename(day),
        "algorithm": "cli-xrs05_1s",
        "algorithm_version": np.array([1, 1], dtype=np.int64),
        "orbital_slot": "GOES-East",
    }
    with atomic_path(path) as tmp, netCDF4.Dataset(tmp, "w", format="NETCDF4") as nc:
        nc.setncatts(attrs)
        nc.createDimension("time", None)  # unlimited, as in NOAA's files
        kw = {"dimensions": ("time",), "chunksizes": (CHUNK,), **_COMPRESSION}
        v = nc.createVariable("time", "f8", fill_value=np.float64(-9999.0), **kw)
        v.setncatts({"long_name": "Record start time, neglecting leap seconds.",
                     "units": "seconds since 2000-01-01 12:00:00"})
        v[:] = time
        for ch, letter in (("xrsa", "A"), ("xrsb", "B")):
            v = nc.createVariable(f"{ch}_flags", "u2", fill_value=FLAGS_FILL, **kw)
            v.setncatts({"long_name": f"Flags for {ch}_flux.", **_FLAGS_ATTRS})
            v[:] = channels[ch]["flags"]
            v = nc.createVariable(f"{ch}_flux", "f4", fill_value=FLUX_FILL, **kw)
            v.setncatts({"long_name": f"Primary XRS-{letter} channel flux.", "units": "W/m2",
                         "valid_min": np.float32(-5e-7), "valid_max": np.float32(0.2),
                         "ancillary_variables": f"{ch}_flags"})
            v[:] = channels[ch]["flux"]
            v = nc.createVariable(f"{ch}_primary_chan", "u1", fill_value=np.uint8(255), **kw)
            v.setncatts({"long_name": f"Primary XRS-{letter} channel.",
                         "comments": f"Flag indicates whether XRS-{letter}1 or XRS-{letter}2 is the primary "
                         f"XRS-{letter} channel.",
                         "flag_meanings": f"XRS-{letter}1_is_primary XRS-{letter}2_is_primary unknown",
                         **_PRIMARY_ATTRS})
            # the solar-maximum diode (2) takes over above ~M1 in XRS-B, as NOAA switches it
            v[:] = np.where(channels[ch]["flux"] > (1e-5 if ch == "xrsb" else 1e-6), 2, 1).astype(np.uint8)


def write_flx1s_days(outdir: Path, start: date, seed: int, sim_minutes: dict[str, np.ndarray],
                     flag: np.ndarray, num: np.ndarray, provenance: str, progress=None) -> int:
    """Write ``outdir/sci_xrsf-l2-flx1s_*`` for every day of a 1-minute simulation; the number written.

    Each day draws its 1-s noise from its own stream (``SeedSequence([seed, 1_000_000 + day])``), so the
    files are byte-identical from run to run and independent of the 1-minute files' streams.
    """
    days = flag.size // MINUTES_PER_DAY
    for d in range(days):
        sl = slice(d * MINUTES_PER_DAY, (d + 1) * MINUTES_PER_DAY)
        rng = np.random.default_rng(np.random.SeedSequence([seed, 1_000_000 + d]))
        channels = one_second_day(rng, {ch: x[sl] for ch, x in sim_minutes.items()}, flag[sl], num[sl])
        day = start + timedelta(days=d)
        write_flx1s_day(outdir / flx1s_filename(day), day, channels, provenance)
        if progress is not None:
            progress(1)
    return days
