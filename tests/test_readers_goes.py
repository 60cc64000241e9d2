"""GOES XRS readers on real files: values, masks, satellite, basis, and refusals of bad input."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import h5py
import netCDF4
import numpy as np
import pytest
from sunpy.data.test import get_test_filepath

from flarecast.errors import InputFileError, UnknownFormatError
from flarecast.ingest.readers import find_reader, read_file
from flarecast.ingest.readers.base import MASK_MISSING, MASK_QUALITY, satellite_from_name
from flarecast.ingest.readers.goes import GoesRL2, _values

REAL = Path(
    os.environ.get("FLARECAST_REAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "real")
)
G16_0906 = "goes/sci_xrsf-l2-avg1m_g16_d20170906_v2-2-0.nc"


@pytest.fixture
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real data folder {REAL} is absent (set FLARECAST_REAL_DATA); see PROVENANCE.md")
    return REAL


def test_goes16_x93_peak_and_fill_counts(real):
    path = real / G16_0906
    res = read_file(path, "goes")
    assert res.reader == "goes-r-l2"
    data = res.data
    peak = data["xrsb"].max()
    assert peak == pytest.approx(1.47e-3, rel=0.01)
    assert str(data["time"][data["xrsb"].idxmax()])[:13] == "2017-09-06 12"
    with netCDF4.Dataset(path) as d:
        d.set_auto_mask(False)
        n_fill = int(np.sum(d["xrsb_flux"][:] == -9999))
    assert n_fill > 0 and res.masked["xrsb:missing"] == n_fill
    assert ((data["xrsb_mask"] & MASK_MISSING) > 0).sum() == n_fill
    assert data.loc[data["xrsb_mask"] != 0, "xrsb"].isna().all()
    assert data.loc[data["xrsb_mask"] == 0, "xrsb"].notna().all()
    assert res.rows_read == len(data) == 1440
    assert (data["satellite"] == 16).all()


def test_goes16_eclipse_flag_is_quality_mask(real):
    res = read_file(real / G16_0906, "goes")
    with netCDF4.Dataset(real / G16_0906) as d:
        d.set_auto_mask(False)
        flags = d["xrsb_flag"][:]
    eclipse = (flags & 1) == 1  # flag_meanings: bit 1 eclipse, bit 2 bad_data
    assert eclipse.any()
    assert (res.data["xrsb_mask"].to_numpy()[eclipse] & MASK_QUALITY).all()


@pytest.mark.parametrize(
    ("name", "reader", "satellite", "rows"),
    [
        ("sci_xrsf-l2-avg1m_g16_d20210101_truncated.nc", "goes-r-l2", 16, 100),
        ("sci_xrsf-l2-avg1m_g15_d20190102_truncated.nc", "goes-r-l2", 15, 51),
        ("sci_xrsf-l2-flx1s_g17_d20201016_truncated.nc", "goes-r-l2", 17, 51),
        ("sci_gxrs-l2-irrad_g15_d20131028_truncated.nc", "goes-sci-irrad", 15, 601),
        ("sci_gxrs-l2-irrad_g13_d20170901_truncated.nc", "goes-sci-irrad", 13, 601),
    ],
)
def test_sunpy_files(name, reader, satellite, rows):
    res = read_file(get_test_filepath(name), "goes")
    assert (res.reader, res.rows_read) == (reader, rows)
    assert (res.data["satellite"] == satellite).all()
    assert res.attrs["basis"] == "true"
    assert res.data["time"].is_monotonic_increasing


def test_flx1s_keeps_subsecond_times():
    res = read_file(get_test_filepath("sci_xrsf-l2-flx1s_g17_d20201016_truncated.nc"), "goes")
    step = np.diff(res.data["time"].to_numpy()).astype("timedelta64[ms]").astype(int)
    assert np.all(np.abs(step - 1000) < 5)


def test_leap_second_file_warns_naming_file_and_second():
    res = read_file(get_test_filepath("goes_13_leap_second.nc"), "goes")
    assert len(res.warnings) == 1
    assert "goes_13_leap_second.nc" in res.warnings[0] and "2015-06-30 23:59:60" in res.warnings[0]
    assert str(res.data["time"].iloc[-1]) == "2015-06-30 23:59:59.965000"  # as written, POSIX seconds
    assert (res.data["satellite"] == 13).all()  # no platform attribute: from the file name


def test_ngdc_netcdf_is_converted_from_swpc_scale(real):
    res = read_file(real / "goes/g15_xrs_1m_20170701_20170731.nc", "goes")
    assert res.reader == "goes-ngdc-nc"
    with netCDF4.Dataset(real / "goes/g15_xrs_1m_20170701_20170731.nc") as d:
        d.set_auto_mask(False)
        b = d["B_AVG"][:].astype(float)
        ok = (d["B_QUAL_FLAG"][:] == 0) & (b > 0)
    assert res.data["xrsb"].max() == pytest.approx(b[ok].max() / 0.7, rel=1e-6)
    assert b[ok].max() == pytest.approx(2.4e-5, rel=0.05)  # the M2.4 of 2017-07-14, on its own scale


@pytest.mark.parametrize(
    "name",
    [
        "sci_xrsf-l2-avg1m_g16_d20210101_truncated.nc",
        "sci_xrsf-l2-avg1m_g15_d20190102_truncated.nc",
        "sci_xrsf-l2-flx1s_g17_d20201016_truncated.nc",
    ],
)
def test_direct_chunk_inflate_matches_hdf5(name):
    with h5py.File(get_test_filepath(name)) as h:
        for var in ("time", "xrsa_flux", "xrsb_flux"):
            np.testing.assert_array_equal(_values(h[var]), h[var][()])


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("sci_xrsf-l2-avg1m_g16_d20170906_v2-2-0.nc", 16),
        ("g15_xrs_1m_20170701_20170731.nc", 15),
        ("go1520110607.fits", 15),
        ("goes_13_leap_second.nc", 13),
        ("xrs.csv", 0),
    ],
)
def test_satellite_from_name(name, number):
    assert satellite_from_name(name) == number


# --- bad input: one InputFileError naming the file -------------------------------------------------


def _copy(real: Path, tmp_path: Path, name: str = "sci_xrsf-l2-avg1m_g16_d20170906_v2-2-0.nc") -> Path:
    dst = tmp_path / name
    shutil.copyfile(real / G16_0906, dst)
    return dst


def test_truncated_file(real, tmp_path):
    path = tmp_path / "sci_xrsf-l2-avg1m_g16_d20170906_v2-2-0.nc"
    path.write_bytes((real / G16_0906).read_bytes()[:200_000])
    with pytest.raises(InputFileError, match=str(path.name)):
        read_file(path, "goes")


def test_empty_file(tmp_path):
    path = tmp_path / "sci_xrsf-l2-avg1m_g16_d20170906_v2-2-0.nc"
    path.touch()
    with pytest.raises(InputFileError, match="empty"):
        read_file(path, "goes")


def test_wrong_product_names_the_kind_that_reads_it_or_lists_known_products(real, tmp_path):
    # A GOES-R flare summary given as GOES flux: another kind's reader knows it, and the message says which.
    with pytest.raises(UnknownFormatError, match=r"it reads as goes-flsum-nc \(events data\); ingest it with "
                                                 r"`flarecast ingest events`") as err:
        find_reader(real / "events/sci_xrsf-l2-flsum_g16_d20170906_v2-2-0.nc", "goes")
    assert "sci_xrsf-l2-flsum" in str(err.value)
    # A netCDF file no reader knows: the GOES products are listed.
    unknown = tmp_path / "other.nc"
    with h5py.File(unknown, "w") as h:
        h["temperature"] = np.arange(3.0)
    with pytest.raises(UnknownFormatError, match="not a known goes product. Known goes products: goes-r-l2"):
        find_reader(unknown, "goes")


def test_wrong_units_refused(real, tmp_path):
    path = _copy(real, tmp_path)
    with h5py.File(path, "r+") as h:
        h["xrsb_flux"][...] = np.where(
            h["xrsb_flux"][()] > 0, h["xrsb_flux"][()] * 1e7, -9999
        )  # erg cm-2 s-1
    with pytest.raises(InputFileError, match=r"xrsb.*wrong units"):
        GoesRL2.read(path)


@pytest.mark.parametrize(("change", "word"), [(0.0, "duplicated"), (-120.0, "out of order")])
def test_times_duplicated_or_out_of_order(real, tmp_path, change, word):
    path = _copy(real, tmp_path)
    with h5py.File(path, "r+") as h:
        t = h["time"][()]
        t[5] = t[4] + change
        h["time"][...] = t
    with pytest.raises(InputFileError, match=f"{word} at row 5") as err:
        read_file(path, "goes")
    assert path.name in str(err.value)


def test_known_basis_refuses_other_basis(real):
    with pytest.raises(InputFileError, match="basis 'swpc'"):
        read_file(real / G16_0906, "goes", basis="swpc")


# --- text and FITS products ------------------------------------------------------------------------


def test_ngdc_csv_x93_converted_to_true(real):
    res = read_file(real / "goes/g15_xrs_1m_20170901_20170930.csv.bz2", "goes")
    assert res.reader == "goes-ngdc-csv"
    assert res.rows_read == 30 * 1440
    assert (res.data["satellite"] == 15).all()
    peak = res.data.loc[res.data["xrsb"].idxmax()]
    assert str(peak["time"]) == "2017-09-06 12:02:00"
    assert float(peak["xrsb"]) == pytest.approx(9.3293e-4 / 0.7, rel=1e-6)
    assert res.masked["xrsb:missing"] > 0  # -99999 rows


def test_ngdc_csv_gzip_and_plain_give_the_same_rows(real, tmp_path):
    import bz2
    import gzip

    raw = bz2.decompress((real / "goes/g15_xrs_1m_20170901_20170930.csv.bz2").read_bytes())
    (tmp_path / "g15_xrs_1m_20170901_20170930.csv").write_bytes(raw)
    (tmp_path / "g15_xrs_1m_20170901_20170930.csv.gz").write_bytes(gzip.compress(raw))
    a = read_file(tmp_path / "g15_xrs_1m_20170901_20170930.csv", "goes").data
    b = read_file(tmp_path / "g15_xrs_1m_20170901_20170930.csv.gz", "goes").data
    assert a.equals(b) and len(a) == 30 * 1440


def test_fits_m25_flare():
    res = read_file(get_test_filepath("go1520110607.fits"), "goes")
    assert res.reader == "goes-fits" and res.attrs == {"satellite": 15, "basis": "swpc"}
    assert res.data["xrsb"].max() * 0.7 == pytest.approx(2.5554e-5, rel=1e-4)  # M2.5 on the scaled basis


def test_plain_csv_needs_basis_and_fills_missing(real):
    path = real / "goes/goes15_xrsb_hourly_max.csv"
    with pytest.raises(InputFileError, match="basis='swpc'"):
        read_file(path, "goes")
    res = read_file(path, "goes", basis="swpc")
    assert res.reader == "goes-plain-csv" and (res.data["satellite"] == 15).all()
    assert res.masked["xrsa:missing"] == res.rows_read  # no xrsa column
    empty = sum(1 for line in path.read_text().splitlines()[1:] if line.endswith(","))
    assert res.masked["xrsb:missing"] == empty > 0


def test_plain_csv_options(tmp_path):
    path = tmp_path / "xrs.csv"
    path.write_text("time,xrsa,xrsb\n2020-01-01T00:00:00Z,1e-8,7e-6\n2020-01-01T00:01:00Z,,-1e-7\n")
    res = read_file(path, "goes", basis="swpc", satellite=14)
    assert res.data["xrsb"].iloc[0] == pytest.approx(1e-5, rel=1e-6)
    assert res.data["xrsa"].iloc[0] == pytest.approx(1e-8 / 0.85, rel=1e-6)
    assert list(res.data["xrsb_mask"]) == [0, 4] and list(res.data["xrsa_mask"]) == [0, 1]
    assert (res.data["satellite"] == 14).all()


def test_duplicate_stamp_at_a_leap_second_is_explained(tmp_path):
    path = tmp_path / "xrs.csv"
    path.write_text(
        "time,xrsb\n2016-12-31T23:59:59Z,1e-6\n2017-01-01T00:00:00Z,1e-6\n2017-01-01T00:00:00Z,1e-6\n"
    )
    with pytest.raises(
        InputFileError, match=r"duplicated at row 2: .*leap second before 2017-01-01T00:00:00"
    ):
        read_file(path, "goes", basis="true")


@pytest.mark.parametrize(
    "name", ["sci_xrsf-l2-avg1m_g16_d20210101_truncated.nc", "sci_gxrs-l2-irrad_g15_d20131028_truncated.nc"]
)
def test_corrupt_bytes_give_input_file_error_or_clean_read(tmp_path, name):
    src = Path(get_test_filepath(name)).read_bytes()
    rng = np.random.default_rng(7)
    for k in range(12):
        data = bytearray(src)
        at = int(rng.integers(0, len(data) - 256))
        data[at : at + 256] = rng.integers(0, 256, 256, dtype=np.uint8).tobytes()
        path = tmp_path / f"{k}_{name}"
        path.write_bytes(bytes(data))
        try:
            read_file(path, "goes")
        except InputFileError as err:
            assert path.name in str(err)


# --- masks against the raw values, on every real and sunpy GOES file ---------------------------------

RAW_VARIABLES = {"goes-r-l2": ("xrsa_flux", "xrsb_flux"), "goes-sci-irrad": ("a_flux", "b_flux")}
RAW_VARIABLES["goes-ngdc-nc"] = ("A_AVG", "B_AVG")


def _netcdf_files():
    real = (
        [REAL / "goes" / n for n in sorted(os.listdir(REAL / "goes")) if n.endswith(".nc")]
        if REAL.is_dir()
        else []
    )
    sunpy = [
        Path(get_test_filepath(n))
        for n in (
            "goes_13_leap_second.nc",
            "sci_gxrs-l2-irrad_g13_d20170901_truncated.nc",
            "sci_gxrs-l2-irrad_g15_d20131028_truncated.nc",
            "sci_xrsf-l2-avg1m_g15_d20190102_truncated.nc",
            "sci_xrsf-l2-avg1m_g16_d20210101_truncated.nc",
            "sci_xrsf-l2-flx1s_g17_d20201016_truncated.nc",
        )
    ]
    return real + sunpy


@pytest.mark.parametrize("path", _netcdf_files(), ids=lambda p: p.name)
def test_missing_and_range_masks_count_the_fill_and_nonpositive_values(path):
    res = read_file(path, "goes")
    with netCDF4.Dataset(path) as d:
        d.set_auto_maskandscale(False)
        for ch, var in zip(("xrsa", "xrsb"), RAW_VARIABLES[res.reader], strict=True):
            raw = d[var][:].astype(np.float64)
            bad = ~np.isfinite(raw) | np.isin(raw, (-9999.0, -99999.0)) | (raw <= 0)
            flagged = (res.data[f"{ch}_mask"].to_numpy() & (MASK_MISSING | 4)) > 0
            assert flagged.sum() == bad.sum()
            assert res.masked.get(f"{ch}:missing", 0) + res.masked.get(f"{ch}:range", 0) == bad.sum()
            assert np.isnan(res.data[ch].to_numpy()[bad]).all()


def test_ngdc_csv_masks_count_the_fill_and_nonpositive_values(real):
    import bz2
    import io

    import pandas as pd

    raw = bz2.decompress((real / "goes/g15_xrs_1m_20170901_20170930.csv.bz2").read_bytes())
    table = pd.read_csv(io.BytesIO(raw), skiprows=166)  # 165 header lines, then "data: "
    res = read_file(real / "goes/g15_xrs_1m_20170901_20170930.csv.bz2", "goes")
    for ch, col in (("xrsa", "A_AVG"), ("xrsb", "B_AVG")):
        bad = (table[col] == -99999) | (table[col] <= 0)
        assert bad.sum() == 1964 and ((res.data[f"{ch}_mask"] & (MASK_MISSING | 4)) > 0).sum() == bad.sum()


def test_fits_gz_is_read_through_sunpy():
    res = read_file(get_test_filepath("go1520120601.fits.gz"), "goes")
    assert (res.reader, res.rows_read, res.attrs) == ("goes-fits", 42161, {"satellite": 15, "basis": "swpc"})
    t = res.data["time"]
    assert t.is_monotonic_increasing and str(t.iloc[0])[:19] == "2012-05-31 23:59:59"  # as sunpy gives it
    assert str(t.iloc[-1])[:10] == "2012-06-01"


def test_plain_csv_in_wrong_units_is_refused(tmp_path):
    path = tmp_path / "xrs.csv"
    path.write_text("time,xrsb\n2020-01-01T00:00:00Z,7000\n2020-01-01T00:01:00Z,7100\n")  # counts, not W m-2
    with pytest.raises(InputFileError, match=r"xrs.csv: xrsb reaches 7100, expected W m\^-2.*wrong units"):
        read_file(path, "goes", basis="true")
