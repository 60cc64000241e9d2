"""``fetch goes`` against a local NCEI: real GOES-16 files, newest version, skip, .part, retries, failures."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.errors import ConfigError
from flarecast.ingest.fetch import base_urls, fetch_goes, primary_satellite
from flarecast.ingest.fetch.download import index_names
from flarecast.ingest.fetch.goes import newest_version
from tests.archive import (
    GOES16_AVG1M,
    NCEI_ROOT,
    SHARED_DAYS,
    Archive,
    apache_index,
    avg1m_name,
    dropped,
    slow,
    status,
)

runner = CliRunner()
FAST = {"retries": 0, "timeout": 5.0, "backoff": 0.01}


@pytest.fixture
def ncei(httpserver, real_data):
    """The five shared GOES-16 avg1m days under NCEI's layout, beside an older version of each day's file."""
    archive = Archive(httpserver)
    for day in SHARED_DAYS:
        archive.add(f"{GOES16_AVG1M}/{avg1m_name(day)}", real_data / "goes" / avg1m_name(day))
        archive.add(f"{GOES16_AVG1M}/{avg1m_name(day, '1-0-3')}", b"an older version: must not be chosen")
    return archive


def urls(archive):
    return {"ncei": archive.url(NCEI_ROOT)}


def test_five_days_arrive_byte_identical_and_a_second_run_downloads_nothing(ncei, real_data, tmp_path):
    report = fetch_goes("2017-09-04", "2017-09-08", satellite=16, out=tmp_path, urls=urls(ncei), **FAST)
    assert (len(report.fetched), len(report.skipped), report.failed) == (5, 0, [])
    assert sorted(p.name for p in tmp_path.iterdir()) == [avg1m_name(d) for d in SHARED_DAYS]
    for day in SHARED_DAYS:
        assert (tmp_path / avg1m_name(day)).read_bytes() == (real_data / "goes" / avg1m_name(day)).read_bytes()
    gets = dict(ncei.gets)
    again = fetch_goes("2017-09-04", "2017-09-08", satellite=16, out=tmp_path, urls=urls(ncei), **FAST)
    assert (len(again.fetched), len(again.skipped), again.failed) == (0, 5, [])
    downloads = {p: n - gets.get(p, 0) for p, n in ncei.gets.items() if p.endswith(".nc")}
    assert set(downloads.values()) == {0}, "a second run must not download a file again"


def test_a_present_file_of_the_wrong_size_is_fetched_again(ncei, real_data, tmp_path):
    name = avg1m_name("20170906")
    (tmp_path / name).write_bytes(b"truncated by a copy that died")
    report = fetch_goes("2017-09-06", "2017-09-06", satellite=16, out=tmp_path, urls=urls(ncei), **FAST)
    assert report.fetched == [str(tmp_path / name)]
    assert (tmp_path / name).read_bytes() == (real_data / "goes" / name).read_bytes()


def test_a_dropped_connection_leaves_no_file_under_its_name_and_the_rerun_completes_it(ncei, real_data, tmp_path):
    name = avg1m_name("20170906")
    ncei.behave[f"{GOES16_AVG1M}/{name}"] = dropped()
    report = fetch_goes("2017-09-04", "2017-09-08", satellite=16, out=tmp_path, urls=urls(ncei), **FAST)
    assert len(report.fetched) == 4
    (failure,) = report.failure_lines
    assert failure.startswith(f"{ncei.url(GOES16_AVG1M)}/{name}: connection dropped")
    assert not (tmp_path / name).exists() and not list(tmp_path.glob("*.part"))
    del ncei.behave[f"{GOES16_AVG1M}/{name}"]
    rerun = fetch_goes("2017-09-04", "2017-09-08", satellite=16, out=tmp_path, urls=urls(ncei), **FAST)
    assert (rerun.fetched, len(rerun.skipped), rerun.failed) == ([str(tmp_path / name)], 4, [])
    assert (tmp_path / name).read_bytes() == (real_data / "goes" / name).read_bytes()


def test_a_part_file_left_by_a_killed_fetch_is_replaced(ncei, real_data, tmp_path):
    name = avg1m_name("20170907")
    (tmp_path / f"{name}.part").write_bytes(b"half a file")
    report = fetch_goes("2017-09-07", "2017-09-07", satellite=16, out=tmp_path, urls=urls(ncei), **FAST)
    assert report.fetched == [str(tmp_path / name)] and not (tmp_path / f"{name}.part").exists()
    assert (tmp_path / name).read_bytes() == (real_data / "goes" / name).read_bytes()


def test_a_404_day_is_one_line_and_the_other_days_arrive(ncei, tmp_path):
    name = avg1m_name("20170905")
    ncei.behave[f"{GOES16_AVG1M}/{name}"] = status(404)
    result = runner.invoke(app, ["fetch", "goes", "--from", "2017-09-04", "--to", "2017-09-08", "--satellite", "16",
                                 "--out", str(tmp_path), "--retries", "2"],
                           env={"FLARECAST_NCEI_URL": ncei.url(NCEI_ROOT)})
    assert result.exit_code == 1
    failures = [line for line in result.output.splitlines() if line.startswith("failed:")]
    assert failures == [f"failed: {ncei.url(GOES16_AVG1M)}/{name}: HTTP 404"]
    assert "goes: fetched 4, skipped 0, failed 1" in result.output
    assert ncei.gets[f"{GOES16_AVG1M}/{name}"] == 1, "a 404 is final: no retries"
    assert len(list(tmp_path.glob("*.nc"))) == 4


def test_a_server_error_is_retried_with_backoff_and_then_reported(ncei, tmp_path):
    flaky, broken = (f"{GOES16_AVG1M}/{avg1m_name(d)}" for d in ("20170904", "20170908"))
    ncei.behave[flaky] = status(500, times=1)
    ncei.behave[broken] = status(503)
    report = fetch_goes("2017-09-04", "2017-09-08", satellite=16, out=tmp_path, urls=urls(ncei),
                        retries=2, timeout=5.0, backoff=0.01)
    assert len(report.fetched) == 4 and report.failure_lines == [f"{ncei.url(broken)}: HTTP 503"]
    assert ncei.gets[flaky] == 2 and ncei.gets[broken] >= 3


def test_a_slow_answer_times_out_in_one_line_and_a_retry_gets_it(ncei, real_data, tmp_path):
    # The local server answers one request at a time, so the two cases run one after the other.
    late, stuck = (f"{GOES16_AVG1M}/{avg1m_name(d)}" for d in ("20170905", "20170906"))
    ncei.behave[stuck] = slow(1.5)
    report = fetch_goes("2017-09-06", "2017-09-06", satellite=16, out=tmp_path, urls=urls(ncei),
                        retries=0, timeout=0.5, backoff=0.01)
    assert report.failure_lines == [f"{ncei.url(stuck)}: timeout after 0.5 s"] and not list(tmp_path.iterdir())
    ncei.behave[late] = slow(1.5, times=1)
    # The retry comes after the server has woken up (1.5 s) from the first, timed-out request.
    report = fetch_goes("2017-09-05", "2017-09-05", satellite=16, out=tmp_path, urls=urls(ncei),
                        retries=1, timeout=0.5, backoff=1.2)
    assert (report.fetched, report.failed) == ([str(tmp_path / avg1m_name("20170905"))], [])
    assert ncei.gets[late] == 2


def test_dry_run_lists_the_newest_versions_and_downloads_nothing(ncei, tmp_path):
    result = runner.invoke(app, ["fetch", "goes", "--from", "2017-09-04", "--to", "2017-09-08", "--satellite", "16",
                                 "--out", str(tmp_path), "--dry-run", "--json"],
                           env={"FLARECAST_NCEI_URL": ncei.url(NCEI_ROOT)})
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["planned"] == [f"{ncei.url(GOES16_AVG1M)}/{avg1m_name(d)}" for d in SHARED_DAYS]
    assert doc["fetched"] == [] and not any(p.endswith(".nc") for p in ncei.gets) and not list(tmp_path.iterdir())


def test_a_month_without_a_listing_is_one_line(ncei, tmp_path):
    report = fetch_goes("2017-10-01", "2017-10-03", satellite=16, out=tmp_path, urls=urls(ncei), **FAST)
    (line,) = report.failure_lines
    assert line.startswith(f"{ncei.url(NCEI_ROOT)}/goes16/l2/data/xrsf-l2-avg1m_science/2017/10/: HTTP 404")
    assert "2017-10-01..2017-10-03" in line


def test_a_day_missing_from_the_listing_is_one_line(ncei, tmp_path):
    report = fetch_goes("2017-09-08", "2017-09-09", satellite=16, out=tmp_path, urls=urls(ncei), **FAST)
    assert len(report.fetched) == 1
    (line,) = report.failure_lines
    assert "sci_xrsf-l2-avg1m_g16_d20170909_v*.nc: not in the directory listing" in line


@pytest.mark.parametrize("names, expected", [
    (["x_v2-9-0.nc", "x_v2-10-0.nc", "x_v1-99-99.nc"], "x_v2-10-0.nc"),  # versions compare as numbers
    (["x_v2-2-0.nc", "x_v2-2-0.nc.md5", "y_v9-0-0.nc"], "x_v2-2-0.nc"),
    (["x_v2-2.nc", "other.nc"], None),
])
def test_newest_version_compares_numbers_not_strings(names, expected):
    assert newest_version(names, "x_v") == expected


@pytest.mark.parametrize("day, sat", [("2011-02-15", 15), ("2012-11-01", 14), ("2016-05-05", 13),
                                      ("2017-08-10", 13), ("2017-09-06", 15), ("2019-12-09", 15),
                                      ("2019-12-10", 16), ("2003-04-08", 8), ("2008-01-01", 11)])
def test_primary_satellite_follows_noaa_designations(day, sat):
    assert primary_satellite(day) == sat


def test_goes_8_15_days_come_from_the_science_archive_layout(httpserver, tmp_path):
    archive = Archive(httpserver)
    folder = "/science/xrs/goes15/xrsf-l2-avg1m_science/2011/02"
    archive.add(f"{folder}/sci_xrsf-l2-avg1m_g15_d20110215_v1-0-0.nc", b"x")
    archive.add(f"{folder}/sci_xrsf-l2-avg1m_g15_d20110215_v1-0-1.nc", b"y")
    report = fetch_goes("2011-02-15", "2011-02-15", out=tmp_path, dry_run=True,
                        urls={"ncei_science": archive.url("/science/xrs")}, **FAST)
    assert report.planned == [f"{archive.url(folder)}/sci_xrsf-l2-avg1m_g15_d20110215_v1-0-1.nc"]
    flx = fetch_goes("2011-02-15", "2011-02-15", resolution="flx1s", out=tmp_path, dry_run=True,
                     urls={"ncei_science": archive.url("/science/xrs")}, **FAST)
    assert flx.failure_lines[0].startswith(archive.url("/science/xrs/goes15/gxrs-l2-irrad_science/2011/02/"))


def test_bad_requests_are_config_errors():
    with pytest.raises(ConfigError, match="GOES-R L2 data start 2017-02-07"):
        fetch_goes("2016-01-01", "2016-01-02", satellite=16, dry_run=True)
    with pytest.raises(ConfigError, match="before --from"):
        fetch_goes("2017-09-08", "2017-09-04", satellite=16)
    with pytest.raises(ConfigError, match="resolution 'avg5m'"):
        fetch_goes("2017-09-04", "2017-09-04", resolution="avg5m")


def test_base_urls_come_from_job_then_environment_then_default(monkeypatch):
    monkeypatch.setenv("FLARECAST_SWPC_URL", "http://mirror.example/swpc/")
    urls = base_urls({"ncei": "http://job.example/ncei"})
    assert urls["swpc"] == "http://mirror.example/swpc" and urls["ncei"] == "http://job.example/ncei"
    assert urls["jsoc"] == "http://jsoc.stanford.edu"
    with pytest.raises(ConfigError, match="FLARECAST_SWPC_URL = 'ftp://x'"):
        monkeypatch.setenv("FLARECAST_SWPC_URL", "ftp://x")
        base_urls()
    with pytest.raises(ConfigError, match="unknown archive 'nasa'"):
        base_urls({"nasa": "http://x"})


@given(st.lists(st.from_regex(r"[A-Za-z0-9_.\-]{1,40}", fullmatch=True).filter(lambda n: n not in (".", "..")),
                unique=True, max_size=20))
def test_index_pages_give_back_exactly_the_files_they_list(names):
    folder = "http://archive.example/goes16/l2/data/xrsf-l2-avg1m_science/2017/09/"
    html = apache_index("/goes16/l2/data/xrsf-l2-avg1m_science/2017/09/", names)
    assert index_names(html, folder) == names


@pytest.mark.parametrize("args, message", [
    (["goes", "--from", "2017-13-01", "--to", "2017-09-08"],
     "dates '2017-13-01'..'2017-09-08': expected calendar dates YYYY-MM-DD"),
    (["swpc", "--product", "xrays-3-hour"], "SWPC product 'xrays-3-hour': expected one of"),
    (["events", "--from", "2017-09-01", "--to", "2017-09-02", "--source", "noaa"], "events source 'noaa'"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, message):
    result = runner.invoke(app, ["fetch", *args, "--out", str(tmp_path / "raw")])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and message in result.output
    assert not (tmp_path / "raw").exists()
