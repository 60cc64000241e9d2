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

A ``fetch`` step runs ``flarecast fetch`` (keys ``source`` goes|swpc|events|sharp|srs, ``from``/``to`` or ``days``
(the last N UTC days up to today), ``satellite``, ``resolution``, ``products``, ``events_source``, ``harp``,
``nrt``, ``out``, ``retries``, ``timeout``, ``deadline``, ``file_deadline``, ``urls``); the job's ``urls``
mapping (``ncei``, ``swpc``, ...) sets the archives' base URLs for every fetch step (see :mod:`flarecast.ingest.fetch.settings`). A fetch step
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

Killed and run again: before a step runs, the log records the outputs it is about to write and when it began
(``writing``); after a kill (SIGKILL, a reboot) the files at those paths modified since are the job's own, and the
next run reruns the step over them without ``--force``, naming the run it took over (``interrupted``) and each
step it resumed (``resumed``). One run of a job at a time, and a log never left ``running`` by a dead run
(:mod:`flarecast.jobs.joblog`: a lock beside the log, the pid in the log).

Skipping: each step's key is the sha256 of its resolved settings and of what it reads: the sha256 of every
input file (ingest), the resolved run config (train, compare), the model id (evaluate, forecast), and a
fingerprint of the store groups it reads (the sha256s of the files ingested into them). A step is skipped when the log's
``done`` map (every step completed by any earlier run) holds the same key for it and its outputs (a store
group, model weights, a file) still have the fingerprints recorded then. Re-running a finished job therefore
reads and hashes, and writes only the log.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flarecast.errors import ConfigError, FlarecastError, MachineError, ParseError
from flarecast.jobs.confine import Owned, inside, known_outputs
from flarecast.jobs.jobfile import Job, load_job
from flarecast.jobs.joblog import LOG_FORMAT, JobRunningError, interrupted_step, job_lock, read_log
from flarecast.jobs.steps import digest, plan

__all__ = ["LOG_FORMAT", "BatchStepError", "Job", "JobRunningError", "load_job", "read_log", "run_job"]


class BatchStepError(FlarecastError):
    """A step of a batch job failed; the message names the step, its exit code is the step's error's."""

    def __init__(self, name: str, run: str, exc: FlarecastError):
        self.exit_code = exc.exit_code
        super().__init__(f"step {name!r} ({run}) failed: {exc}")


@dataclass
class Previous:
    """What the job's last log holds: steps done (any run), steps begun and never finished, and the run that
    left the log ``running`` (its start, pid, host and step) if one did."""

    done: dict[str, dict]
    writing: dict[str, dict]
    interrupted: dict[str, Any] | None = None


def run_job(path: str | Path, *, overrides: list[str] | None = None, root: str | Path | None = None,
            force: bool = False, on_step: Callable[[dict], None] | None = None) -> dict[str, Any]:
    """Run a job's steps in order, skipping those already done; return the job log (also written to ``log``).

    Raises
    ------
    BatchStepError
        For the first step that fails with a flarecast error or an OS error (a full disk, a read-only file system:
        :class:`~flarecast.errors.MachineError`); the log records it and the steps before it.
    JobRunningError
        When another run of the job holds its lock.
    """
    t0 = time.perf_counter()
    job = load_job(path, overrides)
    base = Path(root if root is not None else job.root)
    log_path = inside(base, job.log, "log")
    _confine(job, base)
    # Refusals first, before the lock file exists: a refused job writes nothing.
    _check_outputs(job, base, _previous(log_path, Path(path), force), force)
    with job_lock(log_path, Path(path).name) as me:
        previous = _previous(log_path, Path(path), force)  # again under the lock: a run that just ended wrote it
        _check_outputs(job, base, previous, force)
        return _run(job, path, base, log_path, previous, me, force, on_step, t0)


def _confine(job: Job, base: Path) -> None:
    """Every path the job writes must resolve inside its root; checked for every step before any runs."""
    for name, step in job.steps.items():
        for key in ("store", "out") if step.run == "ingest" else ("out",):  # other steps only read the store
            if getattr(step, key, None):
                inside(base, getattr(step, key).replace("{issue}", "20000101T0000Z"), f"step {name!r} {key}")
        if step.run == "evaluate" and not step.out:
            inside(base, step.model, f"step {name!r} out (the model directory)")


def _check_outputs(job: Job, base: Path, previous: Previous, force: bool) -> None:
    """Refuse the job when an output file whose path is known now exists and is not the job's own."""
    for name, step in job.steps.items():
        owned = Owned(name, (previous.done.get(name) or {}).get("outputs") or {}, force,
                      previous.writing.get(name) or {})
        for out, key, fingerprint in known_outputs(step, base):
            owned.claim(out, owned.outputs.get(key), fingerprint)


def _run(job: Job, path: str | Path, base: Path, log_path: Path, previous: Previous, me: dict[str, Any],
         force: bool, on_step: Callable[[dict], None] | None, t0: float) -> dict[str, Any]:
    """The steps in order, the log rewritten before each step that runs (what it is about to write) and after."""
    from flarecast.util import atomic_write_bytes

    done, writing = previous.done, previous.writing
    log = {"format": LOG_FORMAT, "job": str(path), "root": str(base), "log": str(log_path), **me,
           "status": "running", "failed_step": None, "seconds": 0.0, "steps": [], "done": done, "writing": writing}

    def save() -> None:
        log["seconds"] = round(time.perf_counter() - t0, 3)
        atomic_write_bytes(log_path, (json.dumps(log, indent=2) + "\n").encode())

    def begin(name: str, paths: list[Path]) -> None:
        """Record, before the files exist, that step ``name`` is about to write ``paths``: after a kill they
        are the job's own (kept from an unfinished earlier run: its start, and its paths too)."""
        now = time.time_ns()
        entry = writing.setdefault(name, {"since": datetime.fromtimestamp(now / 1e9, UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"), "since_ns": now, "paths": []})
        entry["paths"] = sorted(set(entry["paths"]) | {os.path.abspath(p) for p in paths})
        save()

    if previous.interrupted:
        log["interrupted"] = previous.interrupted
    save()  # "running", with this run's pid: a run killed from here on reads as interrupted

    for name, step in job.steps.items():
        s0 = time.perf_counter()
        record: dict[str, Any] = {"name": name, "run": step.run, "status": "running", "key": None, "inputs": {},
                                  "outputs": {}, "note": "", "error": None}
        log["steps"].append(record)
        try:
            prev, unfinished = done.get(name, {}), writing.get(name)
            todo = plan(step, base, Owned(name, prev.get("outputs") or {}, force, unfinished or {},
                                          lambda p, n=name: begin(n, [p])))
            record["key"] = digest({"settings": step.settings, "inputs": todo.inputs})
            record["inputs"] = _summary(todo.inputs)
            if (not force and not todo.always and prev.get("key") == record["key"]
                    and prev.get("outputs") == todo.outputs(prev.get("outputs") or {})):
                record.update(status="skipped", outputs=prev["outputs"], note="same inputs, outputs unchanged")
            else:
                if unfinished:
                    record["resumed"] = (f"a run began this step at {unfinished['since']} and did not finish; "
                                         "what it wrote is rewritten")
                begin(name, [out for out, _, _ in known_outputs(step, base)])
                record["note"] = todo.run()
                failures = todo.failures()
                record.update(status="partial" if failures else "done", outputs=todo.outputs({}))
                if failures:  # the job goes on (forecasts fall back); the log and the last line say so
                    record["failures"] = failures
                done[name] = {"key": record["key"], "outputs": record["outputs"]}
            writing.pop(name, None)
        except (FlarecastError, OSError) as exc:
            if isinstance(exc, OSError):  # a fault of the machine (a full disk): one line, like a refusal
                exc = MachineError(exc)
            record.update(status="failed", error=str(exc), seconds=round(time.perf_counter() - s0, 3))
            log.update(status="failed", failed_step=name)
            save()
            raise BatchStepError(name, step.run, exc) from exc
        except BaseException as exc:  # a bug or an interrupt: record it, keep the traceback
            record.update(status="failed", error=repr(exc), seconds=round(time.perf_counter() - s0, 3))
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


def _previous(log_path: Path, job: Path, force: bool) -> Previous:
    """What the last log holds (:class:`Previous`).

    ``done`` is kept across runs (not only the last run's steps), so that after a failed run the steps past the
    failure, which did not run, are still known to be done. A file at ``log_path`` that is not a log of this job
    (by format and job file name) is refused unless ``force``: the job would overwrite it.
    """
    if not log_path.exists():
        return Previous({}, {})
    try:
        log = read_log(log_path)
        ours = log.get("format") == LOG_FORMAT and Path(str(log.get("job"))).name == job.name
    except (OSError, ParseError, AttributeError):
        log, ours = {}, False
    if not ours:
        if not force:
            raise ConfigError(f"log {log_path} exists and is not a log of job {job.name}; nothing was changed: pass "
                              "--force to overwrite it, or set another log path")
        return Previous({}, {})
    done = log.get("done")
    interrupted = None
    if log.get("status") in ("running", "interrupted"):  # read under the job's lock: that run is gone
        interrupted = {k: log.get(k) for k in ("started", "pid", "host")} | {"step": interrupted_step(log)}
    return Previous(done if isinstance(done, dict) else {}, _writing(log.get("writing")), interrupted)


def _writing(raw: Any) -> dict[str, dict]:
    """The log's ``writing`` map, keeping only well-formed entries (a start in ns, a list of paths)."""
    if not isinstance(raw, dict):
        return {}
    return {name: {"since": str(e.get("since")), "since_ns": e["since_ns"], "paths": [str(p) for p in e["paths"]]}
            for name, e in raw.items() if isinstance(e, dict) and isinstance(e.get("since_ns"), int)
            and isinstance(e.get("paths"), list)}


def _summary(inputs: dict[str, Any]) -> dict[str, Any]:
    """The log's view of a step's inputs: file lists shrink to a count and one digest."""
    return {k: ({"count": len(v), "sha256": digest(v)} if k == "files" else v) for k, v in inputs.items()
            if k != "config"} | ({"config_sha256": digest(inputs["config"])} if "config" in inputs else {})
