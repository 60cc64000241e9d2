"""``fetch events`` (GOES-R flare summary, SWPC daily reports, HEK) and ``fetch sharp`` (JSOC through drms)
against local servers that answer as the archives do, with real files and rows from the shared data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner
from werkzeug import Response

from flarecast.cli import app
from flarecast.errors import ConfigError
from flarecast.ingest.fetch import fetch_events, fetch_sharp
from flarecast.ingest.fetch.sharp import record_set
from flarecast.ingest.readers import read_file
from flarecast.ingest.store import read_events, read_sharp
from tests.archive import NCEI_ROOT, Archive

runner = CliRunner()
FLSUM = f"{NCEI_ROOT}/goes16/l2/data/xrsf-l2-flsum_science/2017/09"
FLSUM_NAME = "sci_xrsf-l2-flsum_g16_d20170906_v2-2-0.nc"


def test_flare_summary_days_arrive_and_ingest(httpserver, real_data, tmp_path):
    archive = Archive(httpserver)
    archive.add(f"{FLSUM}/{FLSUM_NAME}", real_data / "events" / FLSUM_NAME)
    store = tmp_path / "store.zarr"
    result = runner.invoke(app, ["fetch", "events", "--from", "2017-09-06", "--to", "2017-09-06", "--satellite", "16",
                                 "--out", str(tmp_path / "raw"), "--ingest", "--store", str(store), "--json"],
                           env={"FLARECAST_NCEI_URL": archive.url(NCEI_ROOT)})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "raw" / FLSUM_NAME).read_bytes() == (real_data / "events" / FLSUM_NAME).read_bytes()
    events = read_events(store)
    top = int(np.argmax(events["peak_flux"].values))
    assert str(events["peak"].values[top])[:16] == "2017-09-06T12:02"
    assert json.loads(result.output)["ingested"]["events"]["rows_added"] == events.sizes["event"]


def test_flare_summary_before_goes_r_is_refused():
    with pytest.raises(ConfigError, match="flare summary starts 2017-02-07; use --source swpc or hek"):
        fetch_events("2015-01-01", "2015-01-02", source="flsum")


def test_swpc_daily_reports_arrive_and_a_missing_day_is_one_line(httpserver, real_data, tmp_path):
    archive = Archive(httpserver)
    folder = real_data / "events" / "swpc_edited" / "2011"
    for day in ("20110214", "20110215"):
        archive.add(f"/pub/indices/events/{day}events.txt", folder / f"{day}events.txt")
    report = fetch_events("2011-02-14", "2011-02-16", source="swpc", out=tmp_path, retries=0,
                          urls={"swpc_events": archive.url("/pub/indices/events")})
    assert len(report.fetched) == 2
    assert report.failure_lines == [f"{archive.url('/pub/indices/events')}/20110216events.txt: HTTP 404"]
    flares = read_file(tmp_path / "20110215events.txt", "events").data
    assert "X2.2" in set(flares["goes_class"]) and 11158 in set(flares["noaa_ar"])


def _hek_row(line: str) -> dict:
    # The HEK fields of one line of the shared sunpy export: date;start;peak;end;class;(x, y);AR;...
    f = line.split(";")
    x, y = (float(v) for v in f[5].strip("()").split(","))
    iso = [pd.Timestamp(t).strftime("%Y-%m-%dT%H:%M:%S") for t in f[1:4]]
    return {"event_type": "FL", "obs_observatory": "GOES", "frm_name": "SWPC", "event_starttime": iso[0],
            "event_peaktime": iso[1], "event_endtime": iso[2], "fl_goescls": f[4], "ar_noaanum": int(f[6]),
            "hpc_x": x, "hpc_y": y, "event_coordsys": "UTC-HPC-TOPO", "event_coord1": x, "event_coord2": y,
            "event_coord3": None, "event_coordunit": "arcseconds"}


def test_hek_flares_are_written_as_the_export_the_hek_reader_reads(httpserver, real_data, tmp_path):
    shared = [s for s in (real_data / "events" / "hek_goes_2010_2019.csv").read_text().splitlines()
              if s.startswith(("2011-02-14", "2011-02-15"))]
    asked = []

    def hek(request):
        asked.append(dict(request.args))
        page = int(request.args["page"])
        rows = [_hek_row(s) for s in shared]
        half = len(rows) // 2  # two pages, as HEK splits long answers ("overmax")
        body = {"result": rows[:half] if page == 1 else rows[half:], "overmax": page == 1}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/hek/her").respond_with_handler(hek)
    report = fetch_events("2011-02-14", "2011-02-15", source="hek", out=tmp_path,
                          urls={"hek": httpserver.url_for("/hek/her")})
    assert report.failed == [] and len(report.fetched) == 1
    written = (tmp_path / "hek_goes_20110214_20110215.csv").read_text().splitlines()
    assert written == sorted(";".join(s.split(";")[:7]) for s in shared)
    assert asked[0]["event_type"] == "FL" and asked[0]["event_starttime"].startswith("2011-02-14T00:00:00")
    assert read_file(tmp_path / "hek_goes_20110214_20110215.csv", "events").reader == "hek-csv"
    again = fetch_events("2011-02-14", "2011-02-15", source="hek", out=tmp_path,
                         urls={"hek": httpserver.url_for("/hek/her")})
    assert again.skipped == [str(tmp_path / "hek_goes_20110214_20110215.csv")] and len(asked) == 2


@pytest.fixture
def jsoc(httpserver, real_data):
    """A JSOC answering drms's ``jsoc_info?op=rs_list`` with the shared SHARP rows of HARP 3330, 2013-11-01..02."""
    table = pd.read_csv(real_data / "sharp" / "sharp_keywords_fold0.csv", dtype=str)
    rows = table[(table["HARPNUM"] == "3330") & table["T_REC"].str.startswith(("2013.11.01", "2013.11.02"))]
    queries = []

    def rs_list(request):
        queries.append(dict(request.args))
        keys = request.args["key"].split(",")
        body = {"keywords": [{"name": k, "values": rows[k].tolist()} for k in keys], "segments": [],
                "count": len(rows), "runtime": 0.1, "status": 0}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/cgi-bin/ajax/jsoc_info").respond_with_handler(rs_list)
    return {"rows": rows, "queries": queries, "url": httpserver.url_for("/").rstrip("/")}


def test_sharp_keywords_arrive_as_the_csv_the_sharp_reader_reads(jsoc, real_data, tmp_path):
    store = tmp_path / "store.zarr"
    result = runner.invoke(app, ["fetch", "sharp", "--from", "2013-11-01", "--to", "2013-11-02", "--harp", "3330",
                                 *[f"--keyword={k}" for k in ("USFLUX", "AREA", "MEANGBZ", "R_VALUE")],
                                 "--out", str(tmp_path / "raw"), "--ingest", "--store", str(store)],
                           env={"FLARECAST_JSOC_URL": jsoc["url"]})
    assert result.exit_code == 0, result.output
    (query,) = jsoc["queries"]
    assert query["op"] == "rs_list"
    assert query["ds"] == "hmi.sharp_cea_720s[3330][2013.11.01_00:00:00_TAI-2013.11.02_23:59:59_TAI@96m]"
    assert query["key"] == "T_REC,HARPNUM,NOAA_ARS,USFLUX,AREA,MEANGBZ,R_VALUE"
    sharp = read_sharp(store)
    assert len(sharp["time"]) == len(jsoc["rows"]) == 30
    assert float(sharp["USFLUX"].values[0]) == float(jsoc["rows"]["USFLUX"].iloc[0])
    assert (tmp_path / "raw" / "harp_to_noaa.txt").read_text() == "3330 11887\n"


def test_sharp_values_are_written_as_jsoc_sent_them(jsoc, tmp_path):
    report = fetch_sharp("2013-11-01", "2013-11-02", harp=3330, keywords=("USFLUX", "AREA", "MEANGBZ", "R_VALUE"),
                         out=tmp_path, urls={"jsoc": jsoc["url"]})
    written = pd.read_csv(report.fetched[0], dtype=str)
    assert written.equals(jsoc["rows"].reset_index(drop=True))
    again = fetch_sharp("2013-11-01", "2013-11-02", harp=3330, out=tmp_path, urls={"jsoc": jsoc["url"]})
    assert again.skipped == report.fetched and len(jsoc["queries"]) == 1


def test_the_record_set_names_series_harp_and_days():
    assert record_set("2026-01-29", "2026-01-30", nrt=True, cadence="12m") == (
        "hmi.sharp_cea_720s_nrt[][2026.01.29_00:00:00_TAI-2026.01.30_23:59:59_TAI@12m]")
    with pytest.raises(ConfigError, match="cadence '96 minutes'"):
        record_set("2026-01-29", "2026-01-30", cadence="96 minutes")
