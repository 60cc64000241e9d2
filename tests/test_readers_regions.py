"""NOAA region reports: a real SRS file from sunpy, the real SRS archive table and SWPC's solar_regions.json
round-trip through ingest with the values the files state; bad rows are refused; re-ingest adds nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sunpy.data.test

from flarecast.errors import InputFileError, UnknownFormatError
from flarecast.ingest.pipeline import ingest
from flarecast.ingest.readers import find_reader, read_file
from flarecast.ingest.store import read_regions

SRS_DIR = Path(sunpy.data.test.rootdir) / "SRS"
SRS_2015 = SRS_DIR / "20150101SRS.txt"
ARCHIVE = Path(__file__).parents[1] / "../shared/data/real/events/swpc_flarelists/SRS_data_new_19960101_20181231.csv"
ARCHIVE_SEED = Path(__file__).parent / "hostile/corpus/seeds/regions/srs-archive-csv/SRS_data_new_head.csv"

# One record of SWPC's solar_regions.json as served (AR 3664 at the west limb on 2024-05-13).
AR3664 = {"observed_date": "2024-05-13", "region": 3664, "latitude": -19, "longitude": 87, "location": "S19W87",
          "carrington_longitude": 348, "old_carrington_longitude": 349, "area": 1170, "spot_class": "Fkc",
          "extent": 24, "number_spots": 15, "mag_class": "BGD", "mag_string": None, "status": "f",
          "c_xray_events": 0, "m_xray_events": 5, "x_xray_events": 0, "proton_events": None, "s_flares": 6,
          "c_flare_probability": 99, "m_flare_probability": 75, "x_flare_probability": 40,
          "proton_probability": 99, "first_date": "2024-05-01T16:42:56"}


def row(ds, region: int, time: str) -> dict:
    hit = np.flatnonzero((ds["region"].values == region) & (ds["time"].values == np.datetime64(time)))
    assert hit.size == 1, (region, time, hit)
    return {k: ds[k].values[hit[0]].item() for k in ds.variables}


def test_sunpy_srs_file_round_trips_through_ingest_with_the_values_it_states(tmp_path):
    store = tmp_path / "s.zarr"
    report = ingest("regions", [SRS_2015], store=store)
    assert report.files[0].reader == "swpc-srs-text" and report.rows_added == 6
    ds = read_regions(store)
    assert ds.sizes["report"] == 6  # part I only: 2 plages (IA) and 1 returning region (II) are not rows
    # "2253 S06E48   004  0270 Eac  11   14 Beta-Gamma", issued "2015 Jan 01 0030 UTC"
    r = row(ds, 12253, "2015-01-01T00:30")
    assert (r["latitude"], r["longitude"], r["location"]) == (-6.0, -48.0, "S06E48")
    assert (r["carrington_longitude"], r["area"], r["mcintosh"]) == (4.0, 270.0, "Eac")
    assert (r["extent"], r["spots"], r["hale"]) == (11.0, 14.0, "Beta-Gamma")
    assert np.isnan([r["p_c"], r["p_m"], r["p_x"]]).all()  # an SRS gives no probabilities
    # "2246 N19W56   108  0070 Hsx  01   01 Alpha"
    r = row(ds, 12246, "2015-01-01T00:30")
    assert (r["location"], r["area"], r["mcintosh"], r["spots"], r["hale"]) == ("N19W56", 70.0, "Hsx", 1.0, "Alpha")
    res = read_file(SRS_2015, "regions")
    assert res.ignored == {"plages_without_spots": 2, "due_to_return": 1}
    assert np.isnan(read_regions(store)["m_events"].values).all()  # an SRS counts no flares
    again = ingest("regions", [SRS_2015], store=store)
    assert again.rows_added == 0 and read_regions(store).sizes["report"] == 6


def test_every_sunpy_srs_file_is_read():
    for path in sorted(SRS_DIR.glob("*SRS.txt")):
        res = read_file(path, "regions")
        assert res.reader == "swpc-srs-text"
        assert (res.data["time"].dt.strftime("%Y%m%d") == path.name[:8]).all()


def test_archive_table_is_read_as_it_is_one_header_column_short():
    res = read_file(ARCHIVE_SEED, "regions")
    assert res.reader == "srs-archive-csv" and len(res.data) == 9
    d = res.data.set_index(["region", "time"])
    # "47,7948,N10W54,235,0040,DRO,07,005,BETA,1996-02-27 00:30,,,": the leading 47 is the unnamed counter
    r = d.loc[(7948, np.datetime64("1996-02-27T00:30"))]
    assert (r["location"], r["carrington_longitude"], r["area"], r["mcintosh"]) == ("N10W54", 235.0, 40.0, "Dro")
    assert (r["extent"], r["spots"], r["hale"], r["latitude"], r["longitude"]) == (7.0, 5.0, "Beta", 10.0, 54.0)
    # "48,7948,N10W67,235,0010,BXO,07,,BETA,1996-02-28 00:30,003,,": no No_sunspots, the count under NM
    assert d.loc[(7948, np.datetime64("1996-02-28T00:30")), "spots"] == 3.0


@pytest.mark.skipif(not ARCHIVE.exists(), reason="the shared SRS archive table is not here")
def test_real_archive_table_agrees_with_sunpy_srs_file():
    table = read_file(ARCHIVE, "regions").data
    assert len(table) == 33692  # every data row of the file
    day = table[table["time"] == np.datetime64("2015-01-01T00:30")].set_index("region")
    srs = read_file(SRS_2015, "regions").data.set_index("region")
    assert sorted(day.index) == sorted(srs.index)
    for col in ("location", "mcintosh", "area", "extent", "spots", "hale", "carrington_longitude"):
        assert (day.loc[srs.index, col] == srs[col]).all(), col


def test_solar_regions_json_keeps_swpc_probabilities_and_dates_the_report_by_its_issue(tmp_path):
    path = tmp_path / "solar_regions.json"
    path.write_text(json.dumps([AR3664, {**AR3664, "observed_date": "2024-05-12", "c_flare_probability": None,
                                         "m_flare_probability": None, "x_flare_probability": None}]))
    res = read_file(path, "regions")
    assert res.reader == "swpc-regions-json"
    d = res.data.set_index("time")
    r = d.loc[np.datetime64("2024-05-14T00:30")]  # observed 13 May: the SRS of those locations is issued 14 May
    assert (r["region"], r["location"], r["mcintosh"], r["hale"]) == (13664, "S19W87", "Fkc", "Beta-Gamma-Delta")
    assert (r["p_c"], r["p_m"], r["p_x"], r["area"], r["spots"]) == (0.99, 0.75, 0.40, 1170.0, 15.0)
    assert (r["c_events"], r["m_events"], r["x_events"]) == (0.0, 5.0, 0.0)  # the region's flares of the 13th
    assert np.isnan(d.loc[np.datetime64("2024-05-13T00:30"), ["p_c", "p_m", "p_x"]].astype(float)).all()


def test_srs_and_json_of_one_report_merge_into_one_row_whatever_the_order(tmp_path):
    srs = tmp_path / "srs.txt"
    srs.write_text(SRS_2015.read_text())
    js = tmp_path / "solar_regions.json"
    js.write_text(json.dumps([{**AR3664, "observed_date": "2014-12-31", "region": 2253, "location": "S06E48",
                               "spot_class": "Eac", "mag_class": "BG", "area": 270, "number_spots": 14}]))
    a, b = tmp_path / "a.zarr", tmp_path / "b.zarr"
    ingest("regions", [srs, js], store=a)
    ingest("regions", [js], store=b)
    ingest("regions", [srs], store=b)
    for store in (a, b):
        ds = read_regions(store)
        assert ds.sizes["report"] == 6
        r = row(ds, 12253, "2015-01-01T00:30")
        assert (r["p_m"], r["mcintosh"], r["extent"]) == (0.75, "Eac", 11.0)  # SWPC's probability and SRS's extent


def test_a_flare_count_that_is_not_one_is_refused_naming_the_record(tmp_path):
    path = tmp_path / "solar_regions.json"
    path.write_text(json.dumps([AR3664, {**AR3664, "observed_date": "2024-05-12", "m_xray_events": -1}]))
    with pytest.raises(InputFileError, match="m_events = -1 is not a flare count"):
        read_file(path, "regions")
    assert len(read_file(path, "regions", skip_bad=True).data) == 1


@pytest.mark.parametrize(("edit", "message"), [
    (("Eac", "Qac"), "McIntosh class 'Qac' is not one"),
    (("0270", "-270"), "area -270 is not 0..10000"),
    (("Beta-Gamma", "Beta-Omega"), "'Beta-Omega' is not a Hale class"),
])
def test_bad_region_rows_are_refused_naming_the_row_or_left_out(tmp_path, edit, message):
    path = tmp_path / "20150101SRS.txt"
    path.write_text(SRS_2015.read_text().replace(*edit))
    with pytest.raises(InputFileError, match=message):
        read_file(path, "regions")
    res = read_file(path, "regions", skip_bad=True)
    assert len(res.data) == 5 and 12253 not in res.data["region"].tolist() and res.ignored["bad_rows"] == 1


def test_a_cut_srs_file_is_refused_and_a_flare_list_is_pointed_to_its_kind(tmp_path):
    cut = tmp_path / "cut.txt"
    cut.write_text(SRS_2015.read_text()[:-20])
    with pytest.raises(InputFileError, match="ends mid-line"):
        read_file(cut, "regions")
    regions = tmp_path / "solar_regions.json"
    regions.write_text(json.dumps([AR3664]))
    with pytest.raises(UnknownFormatError, match="ingest regions"):
        find_reader(regions, "events")


SRS_ROOT = "/stp/space-weather/swpc-products/daily_reports/solar_region_summaries"


def test_fetch_srs_from_a_local_archive_ingests_and_a_missing_day_is_one_line(httpserver, tmp_path):
    from typer.testing import CliRunner

    from flarecast.cli import app
    from tests.archive import Archive

    archive = Archive(httpserver)
    archive.add(f"{SRS_ROOT}/2015/01/20150101SRS.txt", SRS_2015)
    store = tmp_path / "s.zarr"
    result = CliRunner().invoke(app, ["fetch", "srs", "--from", "2015-01-01", "--to", "2015-01-02", "--retries", "0",
                                      "--out", str(tmp_path / "raw"), "--ingest", "--store", str(store), "--json"],
                                env={"FLARECAST_SRS_URL": archive.url(SRS_ROOT)})
    assert result.exit_code == 1  # one day of two failed
    assert (tmp_path / "raw" / "20150101SRS.txt").read_bytes() == SRS_2015.read_bytes()
    doc = json.loads(result.stdout)
    assert "20150102SRS.txt" in json.dumps(doc["failed"]) and "404" in json.dumps(doc["failed"])
    assert doc["ingested"]["regions"]["rows_added"] == 6
    assert read_regions(store).sizes["report"] == 6
