"""GOES XRS readers for netCDF files: GOES-R L2 (avg1m, flx1s), reprocessed GOES 1-15 science, NGDC operational.

| reader | files | basis | flags used |
|---|---|---|---|
| ``goes-r-l2`` | ``sci_xrsf-l2-avg1m_gNN_*.nc``, ``sci_xrsf-l2-flx1s_gNN_*.nc`` (netCDF-4) | true | ``xrsa_flag(s)``, ``xrsb_flag(s)`` |
| ``goes-sci-irrad`` | ``sci_gxrs-l2-irrad_gNN_*.nc`` (netCDF-4, 2-3 s) | true | ``a_flags``, ``b_flags`` |
| ``goes-ngdc-nc`` | ``gNN_xrs_1m_*.nc`` (netCDF-3, GOES 8-15 operational) | swpc | ``A_QUAL_FLAG``, ``B_QUAL_FLAG`` |

NOAA's GOES-R files store one value per HDF5 chunk, which makes any library spend ~4 ms per variable on a
daily file. The readers use h5py directly, read only the variables the store keeps with only the attributes
they need, and inflate tiny gzip chunks themselves (:func:`_values`): ~20 ms per file instead of ~35 ms,
so 730 daily files ingest in seconds (in parallel processes, see :mod:`flarecast.ingest`).
"""

from __future__ import annotations

import mmap
import re
import zlib
from pathlib import Path
from typing import ClassVar

import h5py
import numpy as np

from flarecast.errors import InputFileError
from flarecast.ingest.readers.base import (
    FILL_VALUES,
    ReaderResult,
    flag_bad,
    flux_scale,
    goes_frame,
    satellite_from_name,
)
from flarecast.ingest.readers.reader import Reader, magic

NETCDF3_MAGIC = b"CDF"

BAD_FLAG_MEANINGS = frozenset(
    "eclipse eclipsed_by_earth eclipsed_by_moon eclipsed_by_unknown bad_data unknown_bad_data particle_spike "
    "spike calibration off_point off_pointed temperature_error temperature_recovery data_quality_error "
    "pointing_error invalid_mode missing_data L0_error gain_state_change".split()
)
"""Flag meanings that make a flux value unusable. Electron-contamination notes and ``saturated`` are kept:
the corrected flux is still the best value, and a saturated peak is a lower bound that still marks an X flare."""


def _text(value) -> str:
    if isinstance(value, bytes | np.bytes_):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        return _text(value.tolist()[0]) if value.size else ""
    return str(value)


def decode_seconds(path: Path, values: np.ndarray, units: str, what: str = "time") -> np.ndarray:
    """Turn CF ``"<unit> since <epoch>"`` numbers into datetime64[ns], leap seconds not counted (as NOAA writes).

    Fill values (-9999) and NaN become NaT, which :func:`check_times` then refuses with the row number.
    """
    m = re.match(r"\s*(milliseconds|seconds|ms|s)\s+since\s+(\d{4}-\d{2}-\d{2})[ T]?([\d:]*)", units)
    if m is None:
        raise InputFileError(
            path, f"{what} has units {units!r}: expected 'seconds since YYYY-MM-DD hh:mm:ss' or milliseconds"
        )
    unit, day, clock = m.groups()
    epoch = np.datetime64(f"{day}T{clock or '00:00:00'}", "ns")
    scale = 1e6 if unit.startswith("s") else 1e3  # to microseconds: float noise below 1 us is rounded off
    v = np.asarray(values, dtype=np.float64)
    bad = (
        ~np.isfinite(v) | (v == -9999.0) | (np.abs(v) > 1e11 * (1e6 / scale))
    )  # beyond +-3000 years: garbage
    us = np.round(np.where(bad, 0.0, v) * scale).astype(np.int64)
    out = epoch + (us * 1000).astype("timedelta64[ns]")
    out[bad] = np.datetime64("NaT")
    return out


def _h5_read(path: Path, h: h5py.File, name: str, attrs: tuple[str, ...] = ()) -> tuple[np.ndarray, dict]:
    # Only the named attributes are read: fetching all of them costs more than the data in these files.
    try:
        if name not in h:
            raise InputFileError(path, f"variable {name!r} is missing: expected it in this product")
        var = h[name]
        return _values(var), {a: var.attrs[a] for a in attrs if a in var.attrs}
    except (OSError, ValueError, RuntimeError, zlib.error) as exc:  # corrupt bytes surface here, not at open
        raise InputFileError(
            path, f"variable {name!r} cannot be read ({exc}); the file is corrupt or truncated"
        ) from exc


_FLAG_ATTRS = ("flag_masks", "flag_values", "flag_meanings")


def _values(var: h5py.Dataset) -> np.ndarray:
    """A 1-D dataset's values, inflating its gzip chunks directly when they are tiny.

    NOAA writes GOES-R L2 files with one value per chunk; HDF5 then spends ~2.5 us of bookkeeping per
    value, which makes a 730-file ingest CPU bound. Inflating the chunks with zlib from the byte offsets
    that ``chunk_iter`` lists is about twice as fast and gives identical values (see the tests).
    """
    simple = (
        var.ndim == 1
        and var.chunks is not None
        and var.chunks[0] <= 64
        and var.compression == "gzip"
        and not var.shuffle
        and not var.fletcher32
        and var.scaleoffset is None
        and var.dtype.kind in "uif"
        and hasattr(var.id, "chunk_iter")
        and var.id.get_create_plist().get_nfilters() == 1
    )
    if not simple:
        return var[()]
    chunks: list[tuple[int, int, int, int]] = []
    var.id.chunk_iter(lambda c: chunks.append((c.chunk_offset[0], c.byte_offset, c.size, c.filter_mask)))
    chunks.sort()
    n, step = var.shape[0], var.chunks[0]
    if [c[0] for c in chunks] != list(range(0, n, step)) or any(c[3] for c in chunks):
        return var[()]  # unwritten or unfiltered chunks: HDF5 knows how to fill them in
    with open(var.file.filename, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as raw:
        inflate, view = zlib.decompress, memoryview(raw)  # slices of a view are not copied
        try:
            data = b"".join([inflate(view[offset : offset + size]) for _, offset, size, _ in chunks])
        finally:
            view.release()  # the mmap cannot close while a view exports it
    return np.frombuffer(data, dtype=var.dtype)[:n].copy()


def _flux(path: Path, h: h5py.File, name: str) -> np.ndarray:
    """A flux variable in W m^-2 (its ``units`` attribute converted); fill values stay as written."""
    values, attrs = _h5_read(path, h, name, ("units", "_FillValue"))
    scale = flux_scale(path, name, attrs.get("units"))
    if scale == 1.0:
        return values
    fill = np.isin(values, np.atleast_1d(attrs.get("_FillValue", FILL_VALUES)))
    return np.where(fill, values, values * scale)


def _netcdf3_complete(path: Path) -> None:
    """Refuse a netCDF-3 file shorter than its header says: netCDF4 reads the missing tail as zeros
    (times at 1970-01-01), which would be refused for the wrong reason, or stored."""
    import scipy.io  # here, not at the top: GOES-R reading workers need no scipy (~0.2 s to import)

    try:
        with scipy.io.netcdf_file(path, "r", mmap=False):
            pass
    except (ValueError, TypeError, OSError) as exc:
        size = path.stat().st_size
        raise InputFileError(
            path,
            f"the netCDF-3 data cannot be read in full ({size} bytes; {exc}): the file is truncated or "
            "corrupt; re-download it",
        ) from None


def _open_h5(path: Path) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise InputFileError(path, f"not a readable netCDF-4/HDF5 file ({exc}); re-download it") from exc


def _platform(path: Path, attrs: dict) -> int:
    m = re.search(r"(\d+)", _text(attrs.get("platform", "")))
    return int(m.group(1)) if m else satellite_from_name(path.name)


class GoesNetcdf4(Reader):
    """What the netCDF-4 readers share (a base, not a reader: it has no name): time, fluxes and flags read
    with h5py; satellite from the ``platform`` attribute, else the file name, else the ``satellite`` option.
    A subclass names its flux variables (``flux_vars``) and its flag variables (``flag_var``)."""

    flux_vars: ClassVar[dict[str, str]]
    """Channel -> flux variable."""

    @staticmethod
    def flag_var(h: h5py.File, channel: str) -> str | None:
        """The channel's flag variable, None when the file has none (then no value is flagged)."""
        raise NotImplementedError

    @classmethod
    def read(cls, path: str | Path, *, basis: str | None = None, satellite: int | None = None, **_options) -> ReaderResult:
        """Read fluxes, flags and time; a flag meaning in :data:`BAD_FLAG_MEANINGS` masks the value."""
        path = Path(path)
        with _open_h5(path) as h:
            t, t_attrs = _h5_read(path, h, "time", ("units",))
            fluxes, bad = {}, {}
            for ch, var in cls.flux_vars.items():
                fluxes[ch] = _flux(path, h, var)
                flag_name = cls.flag_var(h, ch)
                if flag_name is not None:
                    flags, f_attrs = _h5_read(path, h, flag_name, _FLAG_ATTRS)
                    bad[ch] = flag_bad(flags, f_attrs, BAD_FLAG_MEANINGS)
            sat = _platform(path, h.attrs) or (satellite or 0)
        times = decode_seconds(path, t, _text(t_attrs.get("units", "")))
        return goes_frame(path, times, fluxes, bad, basis=cls.basis, satellite=sat, reader=cls.name)


class GoesRL2(GoesNetcdf4, name="goes-r-l2", kind="goes", basis="true",
              description="GOES-R XRS L2 netCDF-4 (sci_xrsf-l2-avg1m / -flx1s), true irradiance"):
    """GOES-R (16+) and GOES-15-reprocessed XRS L2 netCDF-4: ``sci_xrsf-l2-avg1m`` and ``sci_xrsf-l2-flx1s``."""

    hdf5_vars = ("xrsa_flux", "xrsb_flux", "time")
    name_parts = ("xrsf-l2-avg1m", "xrsf-l2-flx1s")
    flux_vars = {"xrsa": "xrsa_flux", "xrsb": "xrsb_flux"}

    @staticmethod
    def flag_var(h: h5py.File, channel: str) -> str:
        """``xrsa_flag`` (avg1m) or ``xrsa_flags`` (flx1s): one of them must be there."""
        return f"{channel}_flag" if f"{channel}_flag" in h else f"{channel}_flags"


class GoesScienceIrradiance(GoesNetcdf4, name="goes-sci-irrad", kind="goes", basis="true",
                            description="reprocessed GOES 1-15 XRS science netCDF-4 (sci_gxrs-l2-irrad), true irradiance"):
    """Reprocessed GOES 1-15 science irradiance (``sci_gxrs-l2-irrad``), true irradiance at 2-3 s cadence."""

    hdf5_vars = ("a_flux", "b_flux", "time")
    name_parts = ("gxrs-l2-irrad",)
    flux_vars = {"xrsa": "a_flux", "xrsb": "b_flux"}

    @staticmethod
    def flag_var(h: h5py.File, channel: str) -> str | None:
        """``a_flags`` / ``b_flags`` where the file holds them."""
        name = {"xrsa": "a_flags", "xrsb": "b_flags"}[channel]
        return name if name in h else None


class NgdcNetcdf(Reader, name="goes-ngdc-nc", kind="goes", basis="swpc",
                 description="NGDC GOES 8-15 operational XRS netCDF-3 (gNN_xrs_1m/2s/5m_*.nc), SWPC-scaled"):
    """NGDC GOES 8-15 operational 1-minute averages, netCDF-3 (``gNN_xrs_1m_*.nc``), SWPC-scaled."""

    @classmethod
    def can_read(cls, path: str | Path) -> bool:
        """True for a netCDF-3 file holding ``B_AVG`` (or ``B_FLUX``) and ``time_tag``."""
        path = Path(path)
        if magic(path, 3) != NETCDF3_MAGIC:
            return False
        try:
            import netCDF4

            with netCDF4.Dataset(path) as d:
                return "time_tag" in d.variables and ("B_AVG" in d.variables or "B_FLUX" in d.variables)
        except OSError:
            return False

    @classmethod
    def read(cls, path: str | Path, *, basis: str | None = None, satellite: int | None = None, **_options) -> ReaderResult:
        """Read ``A_AVG``/``B_AVG`` (or ``*_FLUX``) with ``*_QUAL_FLAG``; any non-zero flag is bad."""
        import netCDF4

        path = Path(path)
        _netcdf3_complete(path)
        try:
            d = netCDF4.Dataset(path)
        except OSError as exc:
            raise InputFileError(path, f"not a readable netCDF-3 file ({exc}); re-download it") from exc
        with d:
            d.set_auto_maskandscale(False)
            var = "AVG" if "B_AVG" in d.variables else "FLUX"
            fluxes, bad = {}, {}
            try:
                t = d["time_tag"][:]
                t_units = d["time_tag"].getncattr("units")
                for ch, short in (("xrsa", "A"), ("xrsb", "B")):
                    v = d[f"{short}_{var}"]
                    raw = v[:]
                    scale = flux_scale(path, f"{short}_{var}", getattr(v, "units", None))
                    fluxes[ch] = raw if scale == 1.0 else np.where(np.isin(raw, FILL_VALUES), raw, raw * scale)
                    if f"{short}_QUAL_FLAG" in d.variables:
                        bad[ch] = d[f"{short}_QUAL_FLAG"][:] != 0
            except (KeyError, IndexError, AttributeError, RuntimeError) as exc:
                raise InputFileError(
                    path, f"missing or unreadable variable ({exc}) for an NGDC XRS file"
                ) from exc
            sat = satellite_from_name(path.name) or (satellite or 0)
        times = decode_seconds(path, t, t_units, "time_tag")
        return goes_frame(path, times, fluxes, bad, basis="swpc", satellite=sat, reader=cls.name)
