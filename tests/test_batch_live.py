"""configs/batch-live.yaml end to end against a local NCEI and SWPC: fetch, ingest, forecast; a second run
fetches nothing new and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.errors import ConfigError
from flarecast.jobs.batch import load_job
from tests.archive import GOES16_AVG1M, NCEI_ROOT, SHARED_DAYS, Archive, avg1m_name
from tests.swpc_fixture import flare_records, write_json, xray_records

JOB = Path(__file__).resolve().parents[1] / "configs" / "batch-live.yaml"
FLSUM = f"{NCEI_ROOT}/goes16/l2/data/xrsf-l2-flsum_science/2017/09"
runner = CliRunner()


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "live.json"}


@pytest.fixture
def archives(httpserver, real_data, tmp_path):
    archive = Archive(httpserver)
    for day in SHARED_DAYS:
        archive.add(f"{GOES16_AVG1M}/{avg1m_name(day)}", real_data / "goes" / avg1m_name(day))
    archive.add(f"{FLSUM}/sci_xrsf-l2-flsum_g16_d20170906_v2-2-0.nc",
                real_data / "events" / "sci_xrsf-l2-flsum_g16_d20170906_v2-2-0.nc")
    last = xray_records(real_data / "goes" / avg1m_name(SHARED_DAYS[-1]))
    archive.add("/json/goes/primary/xrays-7-day.json", write_json(tmp_path / "7.json", last))
    archive.add("/json/goes/primary/xrays-1-day.json", write_json(tmp_path / "1.json", last[-240:]))
    archive.add("/json/goes/primary/xray-flares-7-day.json", write_json(tmp_path / "f.json", flare_records(
        real_data / "events" / "goes16_flare_summary_2017_2024.csv", "2017-09-08", "2017-09-08")))
    archive.add("/json/solar_regions.json", b"[]")
    archive.add("/json/solar_probabilities.json", b"[]")
    return archive


def overrides(archive, model) -> list[str]:
    days = [f"steps.{s}.{k}" for s in ("fetch-goes", "fetch-events") for k in ("days=null", "from=2017-09-04",
                                                                                  "to=2017-09-08", "satellite=16")]
    return [f"urls.ncei={archive.url(NCEI_ROOT)}", f"urls.swpc={archive.url()}", *days,
            "steps.fetch-goes.retries=0", "steps.fetch-events.retries=0", f"steps.forecast.model={model}"]


def test_the_live_job_fetches_ingests_forecasts_and_a_second_run_changes_nothing(archives, tiny_model, tmp_path):
    root = tmp_path / "job"
    result = runner.invoke(app, ["batch", str(JOB), "--root", str(root), *overrides(archives, tiny_model)])
    assert result.exit_code == 0, result.output
    log = json.loads((root / "runs" / "batch" / "live.json").read_text())
    steps = {s["name"]: s for s in log["steps"]}
    # The flare-summary fetch got 1 of 5 days: "partial", and so is the job; it went on and forecast (exit 0).
    assert [s["status"] for s in log["steps"]] == ["done", "done", "partial"] + ["done"] * 3
    assert steps["fetch-events"]["failures"] == 4 and "failures" not in steps["fetch-goes"]
    assert log["status"] == "partial" and "went on without what these steps could not get: fetch-events (4 failed)" \
        in " ".join(result.output.split())
    assert steps["fetch-goes"]["note"].startswith("goes: fetched 5, skipped 0, failed 0")
    # One flare-summary day is served; the four others are not in the listing, noted, and the job goes on.
    note = steps["fetch-events"]["note"]
    assert note.startswith("events-flsum: fetched 1, skipped 0, failed 4") and "; first failure: " in note
    assert steps["fetch-swpc"]["note"].startswith("swpc: fetched 5")
    assert steps["ingest-goes"]["inputs"]["files"]["count"] == 7
    (forecast,) = (root / "runs" / "forecasts").glob("*.json")
    assert forecast.name == "20170909T0000Z.json"
    assert json.loads(forecast.read_text())["forecasts"][0]["issue_time"] == "2017-09-09T00:00:00Z"
    before, gets = _tree(root), dict(archives.gets)

    again = runner.invoke(app, ["batch", str(JOB), "--root", str(root), *overrides(archives, tiny_model), "--json"])
    assert again.exit_code == 0, again.output
    second = json.loads(again.output)
    assert [s["status"] for s in second["steps"]] == ["done", "done", "partial"] + ["skipped"] * 3
    assert second["steps"][0]["note"].startswith("goes: fetched 0, skipped 5, failed 0")
    assert _tree(root) == before
    nc_downloads = {p: n - gets.get(p, 0) for p, n in archives.gets.items() if p.endswith(".nc")}
    assert set(nc_downloads.values()) == {0}


def test_fetch_steps_are_checked_at_load(tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text("urls: [x]\nsteps:\n  f: {run: fetch, source: goes, days: 2}\n")
    with pytest.raises(ConfigError, match=r"job\.yaml: urls = \['x'\]: expected a mapping of archives to base URLs"):
        load_job(job)
    job.write_text("urls: {swpc: 'http://a'}\nsteps:\n  f: {run: fetch, source: swpc, urls: {ncei: 'http://b'}}\n")
    assert load_job(job).steps["f"].urls == {"swpc": "http://a", "ncei": "http://b"}
    job.write_text("steps:\n  f: {run: fetch, source: goes, day: 2}\n")
    with pytest.raises(ConfigError, match=r"job\.yaml: step 'f' \(fetch\): unknown key 'day'; expected one of "
                                          r"\['days', 'deadline', 'events_source', "):
        load_job(job)
