"""Every shared real file and every sunpy GOES test file into one store, twice; the values issue 3 names."""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from sunpy.data.test import get_test_filepath

from flarecast.ingest.pipeline import ingest
from flarecast.ingest.store import read_events, read_goes, read_sharp

REAL = Path(
    os.environ.get("FLARECAST_REAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "real")
)
SUNPY_GOES = (
    "go1520110607.fits",
    "go1520120601.fits.gz",
    "goes_13_leap_second.nc",
    "sci_gxrs-l2-irrad_g13_d20170901_truncated.nc",
    "sci_gxrs-l2-irrad_g15_d20131028_truncated.nc",
    "sci_xrsf-l2-avg1m_g15_d20190102_truncated.nc",
    "sci_xrsf-l2-avg1m_g16_d20210101_truncated.nc",
    "sci_xrsf-l2-flx1s_g17_d20201016_truncated.nc",
)
HOURLY = "goes/goes15_xrsb_hourly_max.csv"
SHARP = [f"sharp/sharp_keywords_fold{k}.csv" for k in (0, 1, 3)]


def ingest_everything(real: Path, store: Path) -> dict:
    """Every GOES, catalogue and SHARP file there is; the reports by name."""
    goes = [p for p in sorted((real / "goes").iterdir()) if p.name != Path(HOURLY).name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # leap seconds, estimated peaks: asserted elsewhere
        return {
            "goes": ingest("goes", goes + [Path(get_test_filepath(n)) for n in SUNPY_GOES], store=store),
            "hourly": ingest("goes", [real / HOURLY], store=store, basis="swpc", satellite=15),
            "events": ingest("events", [real / "events"], store=store, skip_bad=True),
            "sharp": ingest("sharp", [real / f for f in SHARP], store=store),
        }


def tree_digest(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def everything(tmp_path_factory):
    if not REAL.is_dir():
        pytest.skip(f"real data folder {REAL} is absent (set FLARECAST_REAL_DATA); see PROVENANCE.md")
    store = tmp_path_factory.mktemp("everything") / "store.zarr"
    return store, ingest_everything(REAL, store)


def test_every_goes_file_ingests(everything):
    store, reports = everything
    goes = reports["goes"]
    assert goes.skipped == [] and len(goes.files) == 8 + len(SUNPY_GOES)
    assert all(f.rows_read > 0 for f in goes.files)
    ds = read_goes(store)
    assert np.all(np.diff(ds["time"].values) > np.timedelta64(0))
    assert set(np.unique(ds["satellite"].values)) == {13, 15, 16, 17}
    assert reports["hourly"].files[0].rows_read == 26304


def test_goes16_x93_peak_is_1_47e3_true(everything):
    ds = read_goes(everything[0]).sel(time=slice("2017-09-06T11:00", "2017-09-06T13:00"))
    i = int(np.nanargmax(ds["xrsb"].values))
    assert float(ds["xrsb"][i]) == pytest.approx(1.47e-3, rel=0.01)
    assert int(ds["satellite"][i]) == 16 and str(ds["time"].values[i])[:16] == "2017-09-06T12:02"


def test_goes15_x93_is_stored_as_1_333e3_on_the_true_basis(real_data, tmp_path):
    store = tmp_path / "s.zarr"
    ingest("goes", [real_data / "goes/g15_xrs_1m_20170901_20170930.csv.bz2"], store=store)
    ds = read_goes(store)
    i = int(np.nanargmax(ds["xrsb"].values))
    assert str(ds["time"].values[i])[:16] == "2017-09-06T12:02"
    assert float(ds["xrsb"][i]) == pytest.approx(9.3293e-4 / 0.7, rel=1e-6)  # the file's 9.33e-4, scaled
    assert float(ds["xrsb"][i]) == pytest.approx(1.333e-3, rel=1e-3)


def test_every_catalogue_ingests_but_the_sunspot_table(everything):
    store, reports = everything
    events = reports["events"]
    assert [Path(p).name for p, _ in events.skipped] == ["SRS_data_new_19960101_20181231.csv"]
    # The SRS archive table is region data now: the events ingest names the reader and the command that takes it.
    assert "reads as srs-archive-csv (regions data)" in events.skipped[0][1]
    assert "flarecast ingest regions" in events.skipped[0][1]
    readers = {f.reader for f in events.files}
    assert readers == {
        "ngdc-xrs-report",
        "swpc-edited-events",
        "swpc-flarelist-csv",
        "hek-csv",
        "plain-events-csv",
        "goes-flsum-csv",
        "goes-flsum-nc",
    }
    ds = read_events(store)
    assert np.all(np.diff(ds["peak"].values) >= np.timedelta64(0))
    x22 = (ds["goes_class"].values == "X2.2") & (ds["peak"].values == np.datetime64("2011-02-15T01:56"))
    assert ds["noaa_ar"].values[x22].tolist() == [11158]  # written "1158" by SWPC


def test_sharp_folds_keep_every_row_with_utc_times(everything, real_data):
    store, reports = everything
    lines = sum(len((real_data / f).read_text().splitlines()) - 1 for f in SHARP)
    assert sum(f.rows_read for f in reports["sharp"].files) == reports["sharp"].rows_added == lines == 67782
    ds = read_sharp(store)
    assert ds.sizes["record"] == lines
    # fold0 row 1: HARP 3330 at 2013.11.01_00:00:00_TAI; TAI - UTC was 35 s in 2013
    at = (ds["harpnum"].values == 3330) & (ds["time"].values == np.datetime64("2013-10-31T23:59:25"))
    assert at.sum() == 1


@pytest.mark.slow
def test_ingesting_everything_twice_leaves_the_store_identical(everything, tmp_path):
    store, _ = everything
    copy = tmp_path / "store.zarr"
    shutil.copytree(store, copy)
    before = tree_digest(copy)
    again = ingest_everything(REAL, copy)
    assert tree_digest(copy) == before
    for report in again.values():
        assert report.rows_added == 0
        assert all(f.note.startswith("already in store") for f in report.files)


@pytest.mark.parametrize(("given", "rel", "reader", "right"), [
    ("goes", "events/goes16_flare_summary_2017_2024.csv", "(events data)", "events"),
    ("events", "goes/goes15_xrsb_hourly_max.csv", "goes-plain-csv (goes data)", "goes"),
    ("sharp", "goes/g15_xrs_1m_20170701_20170731.nc", "(goes data)", "goes"),
])
def test_a_real_file_given_to_the_wrong_kind_names_the_right_command(real_data, tmp_path, given, rel, reader, right):
    from flarecast.errors import UnknownFormatError

    with pytest.raises(UnknownFormatError, match=r"it reads as .*" + reader.replace("(", r"\(").replace(")", r"\)")
                       + rf".*ingest it with `flarecast ingest {right}`"):
        ingest(given, [real_data / rel], store=tmp_path / "s.zarr")
    assert not (tmp_path / "s.zarr").exists()  # nothing was written
