"""Batch jobs: named steps (fetch, ingest, train, evaluate, compare, forecast) run in order, each skipped when done.

A job is a YAML file (``configs/batch.yaml`` is a daily-forecast example)::

    store: data/store.zarr          # default store of every step
    log: runs/batch/daily.json      # the JSON job log
    steps:
      ingest-goes: {run: ingest, kind: goes, paths: ["data/raw/goes/*.nc"]}
      train: {run: train, config: demo, overrides: [train.epochs=3], out: models/daily}
      evaluate: {run: evaluate, model: models/daily, split: test, out: runs/batch/eval}
      forecast: {run: forecast, model: models/daily, latest: true, out: "runs/forecasts/{issue}.json"}

A forecast step refuses issue times whose input is missing unless ``strict: false``: then the ``fallbacks``
(model directories) and the catalogue and climatology rules of :mod:`flarecast.forecast.fallback` forecast them,
flagged degraded; ``format: ccmc`` writes the CCMC scoreboard's JSON. A ``dashboard`` step writes
``out/index.html`` for ``models`` at ``at`` or the latest time (:mod:`flarecast.jobs.dashboard`).

A ``compare`` step runs ``flarecast compare`` (keys ``config``, ``overrides``, ``out``, ``seeds``, ``alphas``,
``gammas``, ``balanced_alpha``, ``pos_weight``, ``workers``, ``cv``, ``rule``, as the command's options; with
``cv: true`` the gammas and seeds left out take ``compare --cv``'s);
``configs/batch-real-goes.yaml`` runs the focal-vs-CE study on the shared real GOES data as one job.

A ``fetch`` step runs ``flarecast fetch`` (keys ``source`` goes|swpc|events|sharp, ``from``/``to`` or ``days``
(the last N UTC days up to today), ``satellite``, ``resolution``, ``products``, ``events_source``, ``harp``,
``nrt``, ``out``, ``retries``, ``timeout``, ``urls``); the job's ``urls`` mapping (``ncei``, ``swpc``, ...)
sets the archives' base URLs for every fetch step (see :mod:`flarecast.ingest.fetch.settings`). A fetch step
runs every time (only the archive knows whether there is something new) and never fails for a file that did
not arrive: its note counts the failures and names the first, its status is ``partial`` (and the job's, exit 0),
and the job goes on with what is there.
``configs/batch-live.yaml`` is the daily loop: fetch, ingest, forecast.

The file is checked when it is read, before any step runs (:mod:`flarecast.jobs.jobfile`: each step kind's
keys, types, ranges and defaults are the fields of its model there): an unknown key, a wrong type or an
out-of-range value is refused in one line naming the file, the step, the key and what is allowed. What each
kind of step does is in :mod:`flarecast.jobs.steps`.

Relative paths start at the job's ``root`` (``--root`` overrides it; default: the current folder). Every path a
job writes (an ingest step's store, the log, fetch/train/evaluate/compare/forecast ``out``) must resolve inside
the root, ``..`` and symbolic links followed: a job is refused before its first step otherwise. An output file that exists and was not written
by an earlier run of the same job (its sha256 is not the one the log recorded) is not overwritten without
``--force``; nor is a log file that is not this job's log. A train
``config`` without a ``/`` or suffix names a built-in config. A forecast ``out`` may hold ``{issue}``, replaced
by the last issue time (``20170906T1200Z``), so a daily job keeps one file per day.

Skipping: each step's key is the sha256 of its resolved settings and of what it reads: the sha256 of every
input file (ingest), the resolved run config (train, compare), the model id (evaluate, forecast), and a
fingerprint of the store groups it reads (the sha256s of the files ingested into them). A step is skipped when the log's
``done`` map (every step completed by any earlier run) holds the same key for it and its outputs (a store
group, model weights, a file) still have the fingerprints recorded then. Re-running a finished job therefore
reads and hashes, and writes only the log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flarecast.errors import ConfigError, FlarecastError, MachineError
from flarecast.jobs.confine import Owned, inside, known_outputs
from flarecast.jobs.jobfile import Job, load_job
from flarecast.jobs.steps import digest, plan

__all__ = ["LOG_FORMAT", "BatchStepError", "Job", "load_job", "run_job"]

LOG_FORMAT = "flarecast-batch-log/1"


class BatchStepError(FlarecastError):
    """A step of a batch job failed; the message names the step, its exit code is the step's error's."""

    def __init__(self, name: str, run: str, exc: FlarecastError):
        self.exit_code = exc.exit_code
        super().__init__(f"step {name!r} ({run}) failed: {exc}")


def run_job(path: str | Path, *, overrides: list[str] | None = None, root: str | Path | None = None,
            force: bool = False, on_step: Callable[[dict], None] | None = None) -> dict[str, Any]:
    """Run a job's steps in order, skipping those already done; return the job log (also written to ``log``).

    Raises
    ------
    BatchStepError
        For the first step that fails with a flarecast error or an OS error (a full disk, a read-only file system:
        :class:`~flarecast.errors.MachineError`); the log records it and the steps before it.
    """
    from flarecast.util import atomic_write_bytes

    t0 = time.perf_counter()
    job = load_job(path, overrides)
    base = Path(root if root is not None else job.root)
    log_path = inside(base, job.log, "log")
    done = _done_steps(log_path, Path(path), force)
    for name, step in job.steps.items():  # every write path and known output, before any step runs
        for key in ("store", "out") if step.run == "ingest" else ("out",):  # other steps only read the store
            if getattr(step, key, None):
                inside(base, getattr(step, key).replace("{issue}", "20000101T0000Z"), f"step {name!r} {key}")
        if step.run == "evaluate" and not step.out:
            inside(base, step.model, f"step {name!r} out (the model directory)")
        owned = Owned(name, (done.get(name) or {}).get("outputs") or {}, force)
        for out, key, fingerprint in known_outputs(step, base):
            owned.claim(out, owned.outputs.get(key), fingerprint)
    log = {"format": LOG_FORMAT, "job": str(path), "root": str(base), "log": str(log_path),
           "started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "status": "running", "failed_step": None,
           "seconds": 0.0, "steps": [], "done": done}

    def save() -> None:
        log["seconds"] = round(time.perf_counter() - t0, 3)
        atomic_write_bytes(log_path, (json.dumps(log, indent=2) + "\n").encode())

    for name, step in job.steps.items():
        s0 = time.perf_counter()
        record: dict[str, Any] = {"name": name, "run": step.run, "status": "failed", "key": None, "inputs": {},
                                  "outputs": {}, "note": "", "error": None}
        log["steps"].append(record)
        try:
            prev = done.get(name, {})
            todo = plan(step, base, Owned(name, prev.get("outputs") or {}, force))
            record["key"] = digest({"settings": step.settings, "inputs": todo.inputs})
            record["inputs"] = _summary(todo.inputs)
            if (not force and not todo.always and prev.get("key") == record["key"]
                    and prev.get("outputs") == todo.outputs(prev.get("outputs") or {})):
                record.update(status="skipped", outputs=prev["outputs"], note="same inputs, outputs unchanged")
            else:
                record["note"] = todo.run()
                failures = todo.failures()
                record.update(status="partial" if failures else "done", outputs=todo.outputs({}))
                if failures:  # the job goes on (forecasts fall back); the log and the last line say so
                    record["failures"] = failures
                done[name] = {"key": record["key"], "outputs": record["outputs"]}
        except (FlarecastError, OSError) as exc:
            if isinstance(exc, OSError):  # a fault of the machine (a full disk): one line, like a refusal
                exc = MachineError(exc)
            record.update(error=str(exc), seconds=round(time.perf_counter() - s0, 3))
            log.update(status="failed", failed_step=name)
            save()
            raise BatchStepError(name, step.run, exc) from exc
        except BaseException as exc:  # a bug or an interrupt: record it, keep the traceback
            record.update(error=repr(exc), seconds=round(time.perf_counter() - s0, 3))
            log.update(status="failed", failed_step=name)
            save()
            raise
        record["seconds"] = round(time.perf_counter() - s0, 3)
        save()
        if on_step:
            on_step(record)
    log["status"] = "partial" if any(r["status"] == "partial" for r in log["steps"]) else "ok"
    save()
    return log


def _done_steps(log_path: Path, job: Path, force: bool) -> dict[str, dict]:
    """The last log's ``done`` map: for each step ever completed, its key and output fingerprints then.

    Kept across runs (not only the last run's steps), so that after a failed run the steps past the failure,
    which did not run, are still known to be done. A file at ``log_path`` that is not a log of this job (by
    format and job file name) is refused unless ``force``: the job would overwrite it.
    """
    if not log_path.exists():
        return {}
    try:
        log = json.loads(log_path.read_text())
        ours = log.get("format") == LOG_FORMAT and Path(str(log.get("job"))).name == job.name
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        log, ours = {}, False
    if not ours:
        if not force:
            raise ConfigError(f"log {log_path} exists and is not a log of job {job.name}; nothing was changed: pass "
                              "--force to overwrite it, or set another log path")
        return {}
    done = log.get("done", {})
    return done if isinstance(done, dict) else {}


def _summary(inputs: dict[str, Any]) -> dict[str, Any]:
    """The log's view of a step's inputs: file lists shrink to a count and one digest."""
    return {k: ({"count": len(v), "sha256": digest(v)} if k == "files" else v) for k, v in inputs.items()
            if k != "config"} | ({"config_sha256": digest(inputs["config"])} if "config" in inputs else {})
