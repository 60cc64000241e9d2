"""SWPC real-time JSON: the readers (two records per minute, electron flag, basis by satellite), ``fetch swpc``
against a local SWPC, ingest, and a forecast on what came in. The JSON is built from the shared GOES-16 files."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.errors import InputFileError
from flarecast.ingest.fetch import fetch_swpc
from flarecast.ingest.pipeline import ingest
from flarecast.ingest.readers import read_file
from flarecast.ingest.readers.base import MASK_ELECTRON
from flarecast.ingest.store import read_goes
from tests.archive import SHARED_DAYS, Archive, avg1m_name
from tests.swpc_fixture import flare_records, write_json, xray_records

runner = CliRunner()
PRIMARY = "/json/goes/primary"


@pytest.fixture(scope="module")
def swpc_json(real_data, tmp_path_factory):
    """xrays-7-day (the five shared days), xrays-1-day (the last) and xray-flares-7-day, as SWPC lays them out."""
    root = tmp_path_factory.mktemp("swpc")
    days = [xray_records(real_data / "goes" / avg1m_name(d)) for d in SHARED_DAYS]
    summary = real_data / "events" / "goes16_flare_summary_2017_2024.csv"
    flares = flare_records(summary, "2017-09-04", "2017-09-08")
    flares[-1]["end_time"] = None  # the last flare still in progress when the product was written
    return {"xrays-7-day": write_json(root / "xrays-7-day.json", [r for d in days for r in d]),
            "xrays-1-day": write_json(root / "xrays-1-day.json", days[-1]),
            "xray-flares-7-day": write_json(root / "xray-flares-7-day.json", flares)}


@pytest.fixture
def swpc(httpserver, swpc_json):
    archive = Archive(httpserver)
    for name, path in swpc_json.items():
        archive.add(f"{PRIMARY}/{name}.json", path)
    archive.add("/json/solar_regions.json", b'[{"observed_date": "2017-09-08", "region": 2673}]')
    archive.add("/json/solar_probabilities.json", b'[{"date": "2017-09-08", "c_class_1_day": 99}]')
    return archive


def test_the_xray_reader_gives_the_netcdf_fluxes_minute_by_minute(swpc_json, real_data, tmp_path):
    day = "20170906"
    path = write_json(tmp_path / "xrays-1-day.json", xray_records(real_data / "goes" / avg1m_name(day)))
    swpc, nc = read_file(path, "goes"), read_file(real_data / "goes" / avg1m_name(day), "goes")
    assert swpc.reader == "swpc-xrays-json" and swpc.rows_read == len(nc.data) == 1440
    assert (swpc.data["time"].to_numpy() == nc.data["time"].to_numpy()).all()
    for ch in ("xrsa", "xrsb"):
        both = (swpc.data[f"{ch}_mask"] == 0).to_numpy() & (nc.data[f"{ch}_mask"] == 0).to_numpy()
        assert both.sum() > 1200
        assert (swpc.data[ch].to_numpy()[both] == nc.data[ch].to_numpy()[both]).all()
    # The X9.3 peak minute: 1.47e-3 W m-2 true irradiance, satellite 16.
    i = int(np.argmax(swpc.data["xrsb"].fillna(0).to_numpy()))
    assert str(swpc.data["time"].iloc[i])[:16] == "2017-09-06 12:02"
    assert swpc.data["xrsb"].iloc[i] == pytest.approx(1.47e-3, rel=0.01) and swpc.data["satellite"].iloc[i] == 16


def test_the_electron_flag_becomes_a_mask_reason(real_data, tmp_path):
    records = xray_records(real_data / "goes" / avg1m_name("20170906"))
    flagged = sum(r["electron_contaminaton"] for r in records if r["energy"] == "0.1-0.8nm")
    assert flagged == 5  # the day's xrsb_flag values with the e_contam_significant bit (value 5 = 4 | eclipse)
    result = read_file(write_json(tmp_path / "x.json", records), "goes")
    electron = (result.data["xrsb_mask"].to_numpy() & MASK_ELECTRON) != 0
    assert electron.sum() == flagged == result.masked["xrsb:electron"]
    assert np.isnan(result.data["xrsb"].to_numpy()[electron]).all()


def test_records_from_goes_15_are_converted_to_true_irradiance(tmp_path):
    records = [{"time_tag": f"2019-06-01T00:0{m}:00Z", "satellite": sat, "flux": flux, "energy": energy,
                "electron_contaminaton": False}
               for m, sat in ((0, 15), (1, 15), (2, 16))
               for energy, flux in (("0.1-0.8nm", 7e-6), ("0.05-0.4nm", 8.5e-7))]
    result = read_file(write_json(tmp_path / "x.json", records), "goes")
    # SWPC-scaled GOES-15: true = 7e-6 / 0.7 = 1e-5 (XRS-B), 8.5e-7 / 0.85 = 1e-6 (XRS-A); GOES-16 as given.
    assert result.data["xrsb"].tolist() == pytest.approx([1e-5, 1e-5, 7e-6], rel=1e-6)
    assert result.data["xrsa"].tolist() == pytest.approx([1e-6, 1e-6, 8.5e-7], rel=1e-6)
    assert result.data["satellite"].tolist() == [15, 15, 16]


@pytest.mark.parametrize("change, message", [
    ({"energy": "1-8A"}, "energy '1-8A': expected one of"),
    ({"time_tag": "yesterday"}, "time_tag 'yesterday' is not a date"),
    ({"satellite": "primary"}, "satellite 'primary' is not a GOES number"),
])
def test_bad_records_are_refused_by_name(tmp_path, change, message):
    records = [{"time_tag": "2024-05-10T17:00:00Z", "satellite": 16, "flux": 1e-6, "energy": "0.1-0.8nm"} | change]
    with pytest.raises(InputFileError, match=message):
        read_file(write_json(tmp_path / "x.json", records), "goes")
    twice = [records[0] | {"energy": "0.1-0.8nm", "time_tag": "2024-05-10T17:00:00Z", "satellite": 16}] * 2
    with pytest.raises(InputFileError, match="a second 0.1-0.8nm value at 2024-05-10T17:00:00Z"):
        read_file(write_json(tmp_path / "y.json", twice), "goes")


def test_the_flare_reader_keeps_finished_flares_on_their_satellites_basis(swpc_json):
    result = read_file(swpc_json["xray-flares-7-day"], "events")
    data = result.data
    assert result.reader == "swpc-flares-json" and result.ignored == {"ongoing": 1}
    # The GOES-16 summary classes the 2017-09-06 flare on the true scale: X14.6 (SWPC's scaled X9.3).
    top = data.iloc[int(np.argmax(data["peak_flux"].to_numpy()))]
    assert (top["goes_class"], str(top["peak"])[:16], top["class_basis"]) == ("X14.6", "2017-09-06 12:02", "true")
    assert top["peak_flux"] == pytest.approx(1.46e-3)
    assert len(data) == json.loads(swpc_json["xray-flares-7-day"].read_text()).__len__() - 1


def test_fetch_swpc_then_ingest_matches_the_netcdf_and_forecasts(swpc, real_data, tiny_model, tmp_path):
    raw, store = tmp_path / "raw", tmp_path / "store.zarr"
    result = runner.invoke(app, ["fetch", "swpc", "--out", str(raw), "--ingest", "--store", str(store)],
                           env={"FLARECAST_SWPC_URL": swpc.url()})
    assert result.exit_code == 0, result.output
    assert "swpc: fetched 5, skipped 0, failed 0" in result.output
    assert sorted(p.name.rsplit("_", 1)[0] for p in raw.iterdir()) == sorted(
        ["xrays-7-day", "xrays-1-day", "xray-flares-7-day", "solar_regions", "solar_probabilities"])
    live = read_goes(store)
    nc_store = tmp_path / "nc.zarr"
    ingest("goes", [real_data / "goes" / avg1m_name(d) for d in SHARED_DAYS], store=nc_store)
    ref = read_goes(nc_store)
    assert live.sizes["time"] == ref.sizes["time"] == 5 * 1440
    for ch in ("xrsa", "xrsb"):
        good = (live[f"{ch}_mask"].values == 0) & (ref[f"{ch}_mask"].values == 0)
        assert good.sum() > 6500 and (live[ch].values[good] == ref[ch].values[good]).all()
    forecast = runner.invoke(app, ["forecast", str(tiny_model), "--store", str(store), "--latest", "--json"])
    assert forecast.exit_code == 0, forecast.output
    assert json.loads(forecast.output)["forecasts"][0]["issue_time"] == "2017-09-09T00:00:00Z"


def test_a_second_fetch_of_unchanged_products_adds_no_file(swpc, tmp_path):
    first = fetch_swpc(out=tmp_path, urls={"swpc": swpc.url()}, retries=0)
    assert len(first.fetched) == 5
    before = sorted(tmp_path.iterdir())
    again = fetch_swpc(out=tmp_path, urls={"swpc": swpc.url()}, retries=0,
                       now=datetime(2030, 1, 1, tzinfo=UTC))
    assert (again.fetched, len(again.skipped)) == ([], 5) and sorted(tmp_path.iterdir()) == before
    swpc.add(f"{PRIMARY}/xrays-1-day.json", b"[]")
    changed = fetch_swpc(["xrays-1-day"], out=tmp_path, urls={"swpc": swpc.url()}, retries=0)
    assert [p.rsplit("/", 1)[-1].split("_")[0] for p in changed.fetched] == ["xrays-1-day"]


FLUX = st.one_of(st.none(), st.floats(-1e-5, 5e-3, allow_nan=False), st.sampled_from([0.0, -99999.0]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(FLUX, FLUX, st.booleans(), st.booleans()), min_size=1, max_size=30),
       st.sampled_from([15, 16, 18]))
def test_every_minute_is_one_row_and_every_unusable_value_is_masked_with_its_reason(tmp_path_factory, minutes, sat):
    records = []
    for m, (b, a, eb, ea) in enumerate(minutes):
        t = f"2024-05-10T{m // 60:02d}:{m % 60:02d}:00Z"
        records += [{"time_tag": t, "satellite": sat, "flux": b, "energy": "0.1-0.8nm", "electron_contaminaton": eb},
                    {"time_tag": t, "satellite": sat, "flux": a, "energy": "0.05-0.4nm", "electron_contaminaton": ea}]
    path = write_json(tmp_path_factory.mktemp("h") / "x.json", records)
    data = read_file(path, "goes").data
    assert len(data) == len(minutes) and (data["satellite"] == sat).all()
    scale = {"xrsb": 0.7, "xrsa": 0.85} if sat < 16 else {"xrsb": 1.0, "xrsa": 1.0}
    for i, (b, a, eb, ea) in enumerate(minutes):
        for ch, flux, electron in (("xrsb", b, eb), ("xrsa", a, ea)):
            mask, value = int(data[f"{ch}_mask"].iloc[i]), data[ch].iloc[i]
            unusable = flux is None or flux in (-99999.0,) or flux <= 0 or flux / scale[ch] > 1e-2 or electron
            assert (mask != 0) == unusable
            assert bool(mask & MASK_ELECTRON) == electron
            if unusable:
                assert np.isnan(value)
            else:
                assert value == pytest.approx(flux / scale[ch], rel=1e-6)
