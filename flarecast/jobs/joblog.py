"""A batch job's log and lock: one run of a job at a time, and a log that never says ``running`` for a dead run.

A run holds an advisory lock (``flock``) on an empty hidden file beside its log, ``.<log name>.lock``, for as long
as it lives, and its log (written as it starts) records its pid, host and start time. The kernel releases the
lock when the process ends, SIGKILL included, so there is no stale lock to clean up, and a log whose status is
``running`` while nobody holds the lock was left by a run that is gone: :func:`read_log` reads it as
``interrupted``, and the next run of the job says so in its own log (``interrupted``: that run's start, pid, host
and the step it was in). A second run started while one holds the lock is refused at once (no wait), naming the
holder; the lock file is never deleted (deleting it would let a third run lock a new file beside a live holder).
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flarecast.errors import FlarecastError, ParseError
from flarecast.safeio import load_json

LOG_FORMAT = "flarecast-batch-log/1"


class JobRunningError(FlarecastError):
    """Another run of the same batch job holds its lock."""


def lock_path(log_path: Path) -> Path:
    """The lock file of the job whose log is ``log_path``: hidden, beside the log."""
    return log_path.parent / f".{log_path.name}.lock"


def this_run() -> dict[str, Any]:
    """Who is running: pid, host and start time, as the log records them."""
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


@contextmanager
def job_lock(log_path: Path, job: str) -> Iterator[dict[str, Any]]:
    """Hold the lock of the job logging to ``log_path`` while the block runs; yields :func:`this_run`.

    Raises
    ------
    JobRunningError
        At once, when another live process holds the lock: two runs of one job would overwrite each other's
        outputs and log.
    """
    path = lock_path(log_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobRunningError(f"job {job} is running already ({_holder(log_path)}; lock {path}); nothing "
                                  "was changed: wait for that run to end, or give this one another log path") from None
        yield this_run()
    finally:
        os.close(fd)  # releases the lock


def _holder(log_path: Path) -> str:
    """The lock holder in words, from its log (it may not have written it yet)."""
    try:
        log = load_json(log_path)
        if log["status"] == "running":  # else the log is still the last run's
            return f"pid {int(log['pid'])} on {log['host']} since {log['started']}"
    except (OSError, ParseError, KeyError, TypeError, ValueError):
        pass
    return "its log names no pid yet"


def held(log_path: Path) -> bool:
    """Whether a live process holds the lock of the job logging to ``log_path``."""
    try:
        fd = os.open(lock_path(log_path), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def read_log(log_path: str | Path) -> dict[str, Any]:
    """A job log as JSON; one left ``running`` by a run that is gone (nobody holds the job's lock) reads as
    ``interrupted``, and so does the step it was in.

    Raises OSError or :class:`~flarecast.errors.ParseError` for a log that cannot be read or is not JSON.
    """
    log_path = Path(log_path)
    log = load_json(log_path)
    if isinstance(log, dict) and log.get("status") == "running" and not held(log_path):
        steps = [{**s, "status": "interrupted"} if isinstance(s, dict) and s.get("status") == "running" else s
                 for s in log.get("steps") or []]
        log = {**log, "status": "interrupted", "steps": steps}
    return log


def interrupted_step(log: dict[str, Any]) -> str | None:
    """The step an interrupted run was in (its log's last step marked running or interrupted), if any."""
    for s in reversed(log.get("steps") or []):
        if isinstance(s, dict) and s.get("status") in ("running", "interrupted"):
            return s.get("name")
    return None
