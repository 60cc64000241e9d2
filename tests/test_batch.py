import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.errors import ConfigError
from flarecast.jobs.batch import BatchStepError, load_job, run_job
from flarecast.model.documents import Metrics
from tests.conftest import TINY

JOB = Path(__file__).resolve().parents[1] / "configs" / "batch.yaml"
SMALL = [f"steps.train.overrides=[{', '.join(TINY + ['train.epochs=1', 'samples.stride=2h'])}]", "steps.evaluate.plots=false"]
runner = CliRunner()


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under root (the log aside) with its size and modification time in ns."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "daily.json"}


@pytest.fixture(scope="module")
def finished(sim_store, tmp_path_factory):
    """configs/batch.yaml run once on the simulated raw files, under a fresh root."""
    root = tmp_path_factory.mktemp("job")
    (root / "data").mkdir()
    (root / "data" / "raw").symlink_to(sim_store.parent / "raw", target_is_directory=True)
    result = runner.invoke(app, ["batch", str(JOB), "--root", str(root), *SMALL])
    assert result.exit_code == 0, result.output
    log = json.loads((root / "runs" / "batch" / "daily.json").read_text())
    # A line on stderr as each step ends; the job's line on stdout.
    assert [line.split()[:2] for line in result.stderr.splitlines()] == [[s["name"], s["status"]] for s in log["steps"]]
    assert result.stdout.startswith(f"job ok in {log['seconds']:.1f} s; log written to ")
    return root, log


def test_the_example_job_runs_end_to_end(finished):
    root, log = finished
    assert log["status"] == "ok" and [s["status"] for s in log["steps"]] == ["done"] * 5
    assert [s["name"] for s in log["steps"]] == ["ingest-goes", "ingest-events", "train", "evaluate", "forecast"]
    (forecast_file,) = (root / "runs" / "forecasts").glob("*.json")
    # The simulated 40 days end 2018-02-09T23:59: the latest issue time is midnight, and names the file.
    assert forecast_file.name == "20180210T0000Z.json"
    assert json.loads(forecast_file.read_text())["forecasts"][0]["issue_time"] == "2018-02-10T00:00:00Z"
    assert (root / "runs" / "batch" / "eval" / "metrics.json").is_file()
    assert log["steps"][0]["inputs"]["files"]["count"] == 40


def test_a_second_run_skips_every_step_and_changes_nothing(finished):
    root, first = finished
    before = _tree(root)
    log = run_job(JOB, root=root, overrides=SMALL)
    assert [s["status"] for s in log["steps"]] == ["skipped"] * 5
    assert [s["key"] for s in log["steps"]] == [s["key"] for s in first["steps"]]
    assert _tree(root) == before


def test_changing_one_step_reruns_that_step_only(finished):
    root, _ = finished
    log = run_job(JOB, root=root, overrides=[*SMALL, "steps.evaluate.split=val"])
    assert [s["status"] for s in log["steps"]] == ["skipped"] * 3 + ["done", "skipped"]
    assert Metrics.read(root / "runs" / "batch" / "eval" / "metrics.json").split == "val"
    # A deleted output is not "done": the step runs again although its inputs are the same.
    (root / "runs" / "batch" / "eval" / "metrics.json").unlink()
    log = run_job(JOB, root=root, overrides=[*SMALL, "steps.evaluate.split=val"])
    assert [s["status"] for s in log["steps"]] == ["skipped"] * 3 + ["done", "skipped"]


def test_a_failed_step_is_named_logged_and_exits_nonzero(finished):
    root, _ = finished
    bad = [*SMALL, "steps.forecast.latest=false", "steps.forecast.at=[2019-06-01T00:00]"]
    with pytest.raises(BatchStepError, match=r"step 'forecast' \(forecast\) failed: issue time 2019-06-01"):
        run_job(JOB, root=root, overrides=bad)
    log = json.loads((root / "runs" / "batch" / "daily.json").read_text())
    assert log["status"] == "failed" and log["failed_step"] == "forecast"
    assert "outside the data" in log["steps"][-1]["error"]
    result = runner.invoke(app, ["batch", str(JOB), "--root", str(root), *bad])
    assert result.exit_code == 2 and "step 'forecast'" in result.output
    # The failure does not poison the log: the next good run finds every step done, the forecast included (its
    # inputs and file are those of the first run).
    assert [s["status"] for s in run_job(JOB, root=root, overrides=SMALL)["steps"]] == ["skipped"] * 5


@pytest.mark.parametrize("override, message", [
    ("steps.train.epochs=3", "step 'train' (train): unknown key 'epochs'; expected one of "
                             "['config', 'out', 'overrides', 'run', 'store']"),
    ("steps.train.run=fit", "step 'train': run = 'fit': expected one of "
                            "['fetch', 'ingest', 'train', 'evaluate', 'compare', 'forecast', 'dashboard']"),
    ("schedule=daily", "unknown key 'schedule'; expected one of ['log', 'root', 'steps', 'store', 'urls']"),
])
def test_job_errors_name_the_file_step_key_and_what_is_allowed(override, message):
    with pytest.raises(ConfigError, match=re.escape(f"{JOB}: {message}")):
        load_job(JOB, [override])


def test_a_compare_step_writes_the_report_and_is_skipped_when_nothing_changed(sim_store, tmp_path):
    job = tmp_path / "study.yaml"
    job.write_text(f"""
store: {sim_store}
steps:
  compare:
    run: compare
    config: demo
    overrides: [{', '.join(TINY + ['train.epochs=1', 'samples.stride=2h'])}]
    out: runs/study
    seeds: 1
    alphas: "0.25"
    gammas: "2"
    workers: 1
""")
    first = run_job(job, root=tmp_path)
    step = first["steps"][0]
    assert step["status"] == "done" and "4 settings x 1 seeds" in step["note"] and "focal beats CE for" in step["note"]
    comparison = json.loads((tmp_path / "runs" / "study" / "comparison.json").read_text())
    assert list(comparison["methods"]) == ["CE", "alpha-CE 0.75", "BCE pos_weight=odds", "focal a=0.25 g=2"]
    assert step["outputs"]["comparison.json"] is not None
    second = run_job(job, root=tmp_path)
    assert second["steps"][0]["status"] == "skipped"
    # A bad grid is refused when the job is read, before any step runs.
    with pytest.raises(ConfigError, match=r"study\.yaml: step 'compare' \(compare\): gammas = 'two': expected "
                                          r"comma-separated numbers such as 0\.25,0\.5$"):
        run_job(job, root=tmp_path, overrides=["steps.compare.gammas=two"])


def test_forecast_with_fallbacks_in_the_scoreboard_format_and_a_dashboard_as_steps(finished, tmp_path):
    from flarecast.forecast.ccmc import read_ccmc

    root, _ = finished
    job = tmp_path / "ops.yaml"
    job.write_text("store: data/store.zarr\nlog: runs/batch/ops.json\nsteps:\n"
                   "  scoreboard: {run: forecast, model: models/daily, latest: true, strict: false, format: ccmc, "
                   "out: 'runs/ccmc/{issue}.json'}\n"
                   "  dashboard: {run: dashboard, models: [models/daily], out: runs/dashboard}\n")
    log = run_job(job, root=root)
    assert [s["status"] for s in log["steps"]] == ["done", "done"]
    board = read_ccmc(root / "runs" / "ccmc" / "20180210T0000Z.json")
    assert sorted(board["target"]) == [">=C", ">=M", "X"] and board["region"].isna().all()
    doc = json.loads((root / "runs" / "dashboard" / "forecast.json").read_text())
    assert sorted(board["probability"]) == sorted(r["probability"] for r in doc["forecasts"])
    assert (root / "runs" / "dashboard" / "index.html").stat().st_size > 10_000
    assert [s["status"] for s in run_job(job, root=root)["steps"]] == ["skipped", "skipped"]
