"""Simulated 1-second GOES-R files (``flarecast simulate --one-second``): NOAA's flx1s layout, checked against
the real flx1s file sunpy ships, and a round trip through ``flarecast ingest`` with values checked by hand.
"""

from datetime import date

import h5py
import netCDF4
import numpy as np
import pytest
from sunpy.data.test import get_test_filepath

from flarecast.ingest.pipeline import ingest
from flarecast.ingest.readers import read_file
from flarecast.ingest.store import read_goes
from flarecast.simulate.flx1s import FLAGS_MISSING, FLAGS_SPIKE, flx1s_filename
from flarecast.simulate.generate import generate, simulate

REAL_FLX1S = "sci_xrsf-l2-flx1s_g17_d20201016_truncated.nc"
SHARED = ("time", "xrsa_flux", "xrsb_flux", "xrsa_flags", "xrsb_flags", "xrsa_primary_chan", "xrsb_primary_chan")
ATTRS = ("units", "_FillValue", "flag_masks", "flag_values", "flag_meanings", "ancillary_variables")


@pytest.fixture(scope="module")
def sim1s(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim1s")
    summary = simulate(out, days=2, seed=3, start="2018-06-30", activity=3.0, one_second=True)
    return out, summary


def _attrs(var) -> dict:
    out = {}
    for a in ATTRS:
        if a in var.attrs:
            v = var.attrs[a]
            out[a] = v.decode() if isinstance(v, bytes | np.bytes_) else np.asarray(v).tolist()
    return out


def test_variables_dtypes_attributes_and_chunks_match_the_real_flx1s_file(sim1s):
    out, _ = sim1s
    ours = out / "goes-1s" / flx1s_filename(date(2018, 6, 30))
    with h5py.File(get_test_filepath(REAL_FLX1S)) as real, h5py.File(ours) as mine:
        for name in SHARED:
            r, m = real[name], mine[name]
            assert (m.dtype, m.chunks, m.compression) == (r.dtype, r.chunks, r.compression), name
            assert _attrs(m) == _attrs(r), name
        for a, want in (("time_coverage_resolution", "PT1S"), ("platform", "g16")):
            assert bytes(mine.attrs[a]).decode() == want
        assert bytes(real.attrs["time_coverage_resolution"]).decode() == "PT1S"


def test_one_file_a_day_of_86400_records_starting_at_midnight(sim1s):
    out, summary = sim1s
    files = sorted((out / "goes-1s").iterdir())
    assert [f.name for f in files] == [flx1s_filename(date(2018, 6, 30)), flx1s_filename(date(2018, 7, 1))]
    assert summary.files["goes_1s"] == 2
    with netCDF4.Dataset(files[1]) as nc:
        t = nc["time"][:]
    # 2018-07-01T00:00 is 6755.5 days after 2000-01-01T12:00 (no leap seconds counted)
    assert t[0] == 6755.5 * 86400 and t.size == 86400 and np.all(np.diff(t) == 1.0)


def test_seconds_hold_the_minute_values_and_the_flags_follow_the_minute_quality(sim1s):
    out, _ = sim1s
    sim = generate(days=2, seed=3, start="2018-06-30", activity=3.0)
    flux, flags = [], []
    for f in sorted((out / "goes-1s").iterdir()):
        with netCDF4.Dataset(f) as nc:
            nc.set_auto_mask(False)
            flux.append(nc["xrsb_flux"][:].reshape(1440, 60))
            flags.append(nc["xrsb_flags"][:].reshape(1440, 60))
    flux, flags = np.concatenate(flux), np.concatenate(flags)
    minute, num, flag = sim.xrsb, sim.num, sim.flag
    gap = flag == 2  # seed 3 has five gap minutes on the second day
    assert gap.any() and np.all(flux[gap] == -9999.0) and np.all(flags[gap] == FLAGS_MISSING)
    ok = ~gap
    # the 1-s mean of a minute is its 1-minute value within the 1 % noise (60 draws: ~0.13 % rms)
    rel = flux[ok].mean(axis=1) / minute[ok] - 1
    assert np.abs(rel).max() < 0.01 and 0.0005 < rel.std() < 0.003
    # of a minute that averaged num < 60 seconds, exactly 60 - num seconds are flagged particle_spike
    np.testing.assert_array_equal((flags[ok] == FLAGS_SPIKE).sum(axis=1), 60 - num[ok].astype(int))


def test_ingest_round_trip_keeps_every_second_and_masks_the_flagged_ones(sim1s, tmp_path):
    out, _ = sim1s
    report = ingest("goes", [out / "goes-1s"], store=tmp_path / "store.zarr")
    assert report.rows_added == 2 * 86400 and {f.reader for f in report.files} == {"goes-r-l2"}
    goes = read_goes(tmp_path / "store.zarr")
    t = goes["time"].values
    assert t[0] == np.datetime64("2018-06-30T00:00:00") and t[-1] == np.datetime64("2018-07-01T23:59:59")
    assert np.all(np.diff(t) == np.timedelta64(1, "s"))
    for day, f in enumerate(sorted((out / "goes-1s").iterdir())):
        with netCDF4.Dataset(f) as nc:
            nc.set_auto_mask(False)
            raw, flags = nc["xrsb_flux"][:], nc["xrsb_flags"][:]
        stored = goes["xrsb"].values[day * 86400 : (day + 1) * 86400]
        bad = flags != 0  # missing_data and particle_spike are both unusable
        np.testing.assert_array_equal(stored[~bad], raw[~bad])
        assert np.isnan(stored[bad]).all() and np.isnan(stored).sum() == bad.sum() > 0
        assert (goes["xrsb_mask"].values[day * 86400 : (day + 1) * 86400] != 0).sum() == bad.sum()
    assert set(np.unique(goes["satellite"].values)) == {16}


def test_the_reader_reads_our_file_as_it_reads_noaas(sim1s):
    """Same reader, same column layout and flag handling for the real and the simulated flx1s file."""
    out, _ = sim1s
    real = read_file(get_test_filepath(REAL_FLX1S), "goes")
    ours = read_file(out / "goes-1s" / flx1s_filename(date(2018, 6, 30)), "goes")
    assert real.reader == ours.reader == "goes-r-l2"
    assert list(real.data.columns) == list(ours.data.columns)
    assert dict(real.data.dtypes) == dict(ours.data.dtypes)


def test_without_one_second_no_goes_1s_folder(tmp_path):
    summary = simulate(tmp_path, days=1, seed=0)
    assert not (tmp_path / "goes-1s").exists() and "goes_1s" not in summary.files


def test_staged_and_adopted_store_is_byte_identical_to_zarrs_own_write(sim1s, tmp_path, monkeypatch):
    """Ingest of the 1-second files through the staging path (chunk files written by flarecast, hard-linked into
    the store) gives the same store, file for file and byte for byte, as zarr's own writer (everything in
    memory: no staging), spills ending inside chunks included."""
    import flarecast.ingest.merge_goes as mg
    from flarecast.ingest.goes_writer import write_chunks
    from tests.test_store import tree_digest

    out, _ = sim1s
    monkeypatch.setattr(mg, "TIME_CHUNK", 2**14)
    with monkeypatch.context() as m:
        m.setattr(mg, "STAGE_ROWS", 10**9)
        ingest("goes", [out / "goes-1s"], store=tmp_path / "zarr.zarr")
    monkeypatch.setattr(mg, "STAGE_ROWS", 50_000)  # a spill after each file, 86,400 rows: inside a chunk
    spills = []
    monkeypatch.setattr(mg, "write_chunks", lambda *a: spills.append(a[2]) or write_chunks(*a))
    ingest("goes", [out / "goes-1s"], store=tmp_path / "staged.zarr")
    assert spills == [0, 5 * 2**14]  # the second spill starts at the first one's partial chunk
    ours, zarrs = tree_digest(tmp_path / "staged.zarr" / "goes"), tree_digest(tmp_path / "zarr.zarr" / "goes")
    assert ours == zarrs and sum(k.startswith("xrsb/") for k in ours) == 2 + 11  # .zarray, .zattrs, 11 chunks
