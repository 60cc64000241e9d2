"""A batch job killed in its train step resumes without --force, its log says what happened, and a file the job
did not write is still refused; a log left ``running`` by a dead process reads as interrupted; one run at a time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flarecast.errors import ConfigError
from flarecast.jobs.batch import BatchStepError, JobRunningError, read_log, run_job
from flarecast.jobs.joblog import job_lock
from flarecast.report.tables import batch_summary
from flarecast.util import sha256_file
from tests.conftest import TINY

REPO = Path(__file__).resolve().parents[2]
# Runs `flarecast batch` with the train loop's save_model wrapped: the process SIGKILLs itself right after the
# first weights are on disk, as a kill in the middle of the train step leaves them (and the card).
KILLED_AFTER_WEIGHTS = """
import os, signal, sys
import flarecast.train.loop as loop
real = loop.save_model
def save_then_die(*args, **kwargs):
    real(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
loop.save_model = save_then_die
from flarecast.cli import app
app(sys.argv[1:], prog_name="flarecast")
"""


@pytest.fixture
def job(sim_store, tmp_path) -> Path:
    path = tmp_path / "daily.yaml"
    path.write_text(f"store: {sim_store}\nlog: runs/batch/daily.json\nsteps:\n"
                    f"  train: {{run: train, config: demo, overrides: [{', '.join(TINY)}, train.epochs=1, "
                    "samples.stride=3h], out: models/m}\n"
                    "  forecast: {run: forecast, model: models/m, latest: true, out: 'runs/fc/{issue}.json'}\n")
    return path


def test_a_job_killed_in_its_train_step_resumes_and_foreign_files_are_still_refused(job, tmp_path):
    root = tmp_path / "root"
    proc = subprocess.run([sys.executable, "-c", KILLED_AFTER_WEIGHTS, "batch", str(job), "--root", str(root)],
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, timeout=600)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    weights, log_path = root / "models" / "m" / "weights.safetensors", root / "runs" / "batch" / "daily.json"
    assert weights.is_file()  # what made every rerun refuse before: a file no finished run had recorded
    on_disk = json.loads(log_path.read_text())
    assert on_disk["status"] == "running" and on_disk["writing"]["train"]["paths"] == [
        str(weights.parent.absolute() / "card.json"), str(weights.absolute())]
    # The process is gone: whoever reads the log sees an interrupted run, and the step it died in.
    seen = read_log(log_path)
    assert seen["status"] == "interrupted" and [s["status"] for s in seen["steps"]] == ["interrupted"]

    # Someone swaps in their own weights, an hour old (cp -p): older than the step's start, so not the job's.
    own, stat = weights.read_bytes(), weights.stat()
    weights.write_bytes(b"someone else's model")
    os.utime(weights, (time.time() - 3600, time.time() - 3600))
    with pytest.raises(ConfigError, match=rf"step 'train': {weights} exists and was not written by an earlier run "
                                          "of this job; nothing was changed: pass --force"):
        run_job(job, root=root)
    assert weights.read_bytes() == b"someone else's model"
    weights.write_bytes(own)
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    # A foreign file where the forecast step (which never began) will write: still refused, as it is written.
    foreign = root / "runs" / "fc" / "20180210T0000Z.json"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("{}")
    with pytest.raises(BatchStepError, match=rf"step 'forecast' \(forecast\) failed: step 'forecast': {foreign} "
                                             "exists and was not written by an earlier run of this job"):
        run_job(job, root=root)  # no --force: the train step resumes over its own partial outputs
    assert foreign.read_text() == "{}"
    log = json.loads(log_path.read_text())
    assert [s["status"] for s in log["steps"]] == ["done", "failed"]
    assert log["interrupted"] == {"started": on_disk["started"], "pid": on_disk["pid"], "host": on_disk["host"],
                                  "step": "train"}
    assert "did not finish; what it wrote is rewritten" in log["steps"][0]["resumed"]
    assert (f"took over from the run of {on_disk['started']} (pid {on_disk['pid']}), interrupted in step 'train'"
            in batch_summary(log))
    assert log["done"]["train"]["outputs"]["weights_sha256"] == sha256_file(weights)
    assert list(log["writing"]) == ["forecast"]

    foreign.unlink()
    log = run_job(job, root=root)
    assert [s["status"] for s in log["steps"]] == ["skipped", "done"] and log["status"] == "ok"
    assert log["writing"] == {} and "interrupted" not in log
    assert read_log(log_path) == json.loads(log_path.read_text())  # a finished log reads as written


def test_one_run_at_a_time_and_a_running_log_reads_as_interrupted_once_its_run_is_gone(job, tmp_path):
    root = tmp_path / "root"
    log_path = root / "runs" / "batch" / "daily.json"
    log_path.parent.mkdir(parents=True)
    log_path.write_text(json.dumps({"format": "flarecast-batch-log/1", "job": str(job), "status": "running",
                                    "pid": 12345, "host": "cron-host", "started": "2026-01-01T00:00:00Z",
                                    "steps": [{"name": "train", "status": "running"}]}))
    with job_lock(log_path, job.name):  # another run of the job, alive
        assert read_log(log_path)["status"] == "running"
        with pytest.raises(JobRunningError, match=r"job daily\.yaml is running already \(pid 12345 on cron-host "
                                                  r"since 2026-01-01T00:00:00Z; lock .*\.daily\.json\.lock\); "
                                                  "nothing was changed"):
            run_job(job, root=root)
        assert json.loads(log_path.read_text())["pid"] == 12345
    # That run is gone (its lock released with it): its log reads as interrupted, in the step it was in.
    seen = read_log(log_path)
    assert seen["status"] == "interrupted" and seen["steps"] == [{"name": "train", "status": "interrupted"}]
