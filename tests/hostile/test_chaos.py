"""Chaos: a real batch job (fetch from a local archive, ingest, train, forecast, dashboard), run as
``python -m flarecast batch`` and SIGKILLed at random points of its work, then run again, over and over.

Each round starts from an empty root at the same path. A run is killed after a random delay, counted from the
moment its own log appears, drawn from the work left to it: as long as an uninterrupted run took for the steps
the log does not hold as done (and the fetch steps, which run every time). It is rerun, killed again, and so on
(:data:`KILLS_PER_ROUND` kills), and the round's last run goes to the end. What the test holds:

* the round's last run ends ``ok`` with every file under the root byte-identical to an uninterrupted run's (the
  job log aside, which holds times and pids; hidden temporaries aside, listed); its log says nothing is left
  ``writing`` and names the interrupted run it took over;
* no run ever refuses to go on after a kill (no ``--force``);
* after every kill every final-named file under the root is whole (JSON and JSON lines parse, CSV rows are
  complete, the page ends with ``</html>``, downloads are the served bytes, weights hold the tensors their header
  describes), and a watcher thread checks the same of every file it sees change while the runs go on.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import resource
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.archive import NCEI_ROOT, Archive
from tests.conftest import TINY

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DAYS, FIRST, LAST = 10, "2018-01-01", "2018-01-10"
GOES_DIR = f"{NCEI_ROOT}/goes16/l2/data/xrsf-l2-avg1m_science/2018/01"
KILLS, KILLS_PER_ROUND, SEED = 20, 7, 21


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> dict[str, bytes]:
    """Ten simulated days of GOES-16 1-minute files and SWPC event reports, by file name."""
    from flarecast.simulate.generate import simulate

    raw = tmp_path_factory.mktemp("chaos-raw")
    simulate(raw, days=DAYS, seed=3, activity=4.0)
    return {p.name: p.read_bytes() for kind in ("goes", "events") for p in sorted((raw / kind).iterdir())}


def _job(path: Path, archive: Archive) -> Path:
    train = ", ".join([*TINY, "train.epochs=1"])
    path.write_text(f"""
store: data/store.zarr
log: runs/batch/chaos.json
urls: {{ncei: "{archive.url(NCEI_ROOT)}", swpc_events: "{archive.url('/events')}"}}
steps:
  fetch-goes: {{run: fetch, source: goes, from: {FIRST}, to: {LAST}, satellite: 16, out: data/raw/goes, retries: 0}}
  fetch-events: {{run: fetch, source: events, events_source: swpc, from: {FIRST}, to: {LAST}, out: data/raw/events,
                 retries: 0}}
  ingest-goes: {{run: ingest, kind: goes, paths: [data/raw/goes]}}
  ingest-events: {{run: ingest, kind: events, paths: [data/raw/events]}}
  train: {{run: train, config: demo, overrides: [{train}], out: models/m}}
  forecast: {{run: forecast, model: models/m, latest: true, out: "runs/forecasts/{{issue}}.json"}}
  dashboard: {{run: dashboard, models: [models/m], out: runs/dashboard}}
""")
    return path


ZARR_META = {".zattrs", ".zarray", ".zgroup", ".zmetadata"}


def _hidden(rel: Path) -> bool:
    """Temporaries and locks: a component starting with a dot (a Zarr store's metadata files aside), or a
    download still in progress."""
    return (any(part.startswith(".") and part not in ZARR_META for part in rel.parts)
            or rel.name.endswith(".part"))


def _files(root: Path) -> dict[str, bytes]:
    """Every final-named file under ``root`` but the job log, with its bytes."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and not _hidden(rel) and rel != Path("runs/batch/chaos.json"):
            out[str(rel)] = p.read_bytes()
    return out


def _whole(name: str, data: bytes, served: dict[str, bytes]) -> str | None:
    """Why a final-named file is not whole, or None. Files it cannot judge (store chunks) pass."""
    try:
        if name in served:
            return None if data == served[name] else f"{len(data)} of the {len(served[name])} bytes served"
        if name.endswith((".json", ".zattrs", ".zarray", ".zgroup", ".zmetadata")):
            json.loads(data)
        elif name.endswith(".jsonl"):
            if not data.endswith(b"\n"):
                return "no line break after the last line"
            [json.loads(line) for line in data.splitlines()]
        elif name.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(data.decode())))
            if not data.endswith(b"\n") or len({len(r) for r in rows}) > 1:
                return "a row cut short"
        elif name.endswith(".html"):
            if not data.rstrip().endswith(b"</html>"):
                return "no </html> at the end"
        elif name.endswith(".safetensors"):
            (n,) = struct.unpack("<Q", data[:8])
            header = json.loads(data[8:8 + n])
            end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
            if len(data) != 8 + n + end:
                return f"{len(data)} bytes, its header describes {8 + n + end}"
    except (ValueError, UnicodeDecodeError, struct.error, KeyError, TypeError) as exc:
        return f"does not parse: {exc!r}"[:200]
    return None


def _broken(root: Path, served: dict[str, bytes]) -> list[str]:
    """Final-named files under ``root`` that are not whole, as ``path: why``."""
    out = []
    for p in root.rglob("*"):
        rel = p.relative_to(root)
        try:
            if p.is_file() and not _hidden(rel) and (why := _whole(p.name, p.read_bytes(), served)):
                out.append(f"{rel}: {why}")
        except FileNotFoundError:  # replaced or removed while listed
            pass
    return out


class Watcher(threading.Thread):
    """Checks every final-named file under ``root`` whenever its (inode, size, mtime) changes, until stopped."""

    def __init__(self, root: Path, served: dict[str, bytes]):
        super().__init__(daemon=True)
        self.root, self.served, self.seen, self.checked = root, served, {}, 0
        self.found: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            for dirpath, dirnames, names in os.walk(self.root):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]  # temporaries: not final names
                for name in names:
                    path = Path(dirpath) / name
                    if _hidden(path.relative_to(self.root)):
                        continue
                    try:
                        st = path.stat()
                        key = (st.st_ino, st.st_size, st.st_mtime_ns)
                        if self.seen.get(path) == key:
                            continue
                        self.seen[path] = key
                        why = _whole(name, path.read_bytes(), self.served)
                    except OSError:
                        continue
                    self.checked += 1
                    if why:
                        self.found.append(f"{path.relative_to(self.root)}: {why}")


def _start(job: Path, root: Path, err: Path) -> subprocess.Popen:
    with open(err, "wb") as fh:
        return subprocess.Popen([sys.executable, "-m", "flarecast", "batch", str(job), "--root", str(root)],
                                env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL, stderr=fh)


def _log(root: Path) -> dict:
    try:
        return json.loads((root / "runs" / "batch" / "chaos.json").read_text())
    except (OSError, ValueError):
        return {}


def _working(proc: subprocess.Popen, root: Path, limit: float = 300) -> bool:
    """Wait until the run's own log appears (it holds the lock and starts its steps); False if it ended first."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if _log(root).get("pid") == proc.pid:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    raise AssertionError(f"run {proc.pid} wrote no log in {limit} s")


def test_a_batch_job_killed_at_random_points_always_ends_as_an_uninterrupted_run(httpserver, served, tmp_path):
    archive = Archive(httpserver)
    for name, data in served.items():
        archive.add(f"{GOES_DIR}/{name}" if name.endswith(".nc") else f"/events/{name}", data)
    job, root, err = _job(tmp_path / "chaos.yaml", archive), tmp_path / "root", tmp_path / "stderr.txt"

    t0 = time.monotonic()
    proc = _start(job, root, err)
    assert _working(proc, root)
    w0 = time.monotonic()
    assert proc.wait(timeout=600) == 0, err.read_text()
    work = time.monotonic() - w0  # the uninterrupted run's work, from its log's first write to its end
    log = _log(root)
    assert log["status"] == "ok" and [s["status"] for s in log["steps"]] == ["done"] * 7
    seconds = {s["name"]: s["seconds"] for s in log["steps"]}
    between = max(0.0, work - sum(seconds.values()))  # log writes, plans, hashing: outside the steps' own seconds
    reference = _files(root)
    assert {"models/m/weights.safetensors", "runs/dashboard/index.html", "data/store.zarr/goes/.zattrs"} <= set(
        reference)
    assert [n for n in reference if n.startswith("runs/forecasts/")] == ["runs/forecasts/20180111T0000Z.json"]

    rng, watcher = random.Random(SEED), Watcher(root, served)
    watcher.start()
    kills, rounds, where, leftovers = 0, 0, Counter(), set()
    try:
        while kills < KILLS:
            shutil.rmtree(root)
            rounds += 1
            for attempt in range(KILLS_PER_ROUND + 1):
                done = _log(root).get("done", {})
                left = between + sum(t for n, t in seconds.items() if n not in done or n.startswith("fetch"))
                proc = _start(job, root, err)
                working = _working(proc, root)
                if working and attempt < KILLS_PER_ROUND:
                    try:
                        proc.wait(timeout=rng.uniform(0, left))
                    except subprocess.TimeoutExpired:
                        proc.send_signal(signal.SIGKILL)
                        proc.wait()
                        kills += 1
                        running = [s["name"] for s in _log(root).get("steps", []) if s.get("status") == "running"]
                        where[running[-1] if running else "between steps"] += 1
                        assert not (broken := _broken(root, served)), f"after kill {kills}: {broken}"
                        continue
                assert proc.wait(timeout=600) == 0, f"round {rounds}, run {attempt + 1}: {err.read_text()[-3000:]}"
                break
            log = _log(root)
            assert log["status"] == "ok" and log["writing"] == {}, log
            assert {s["status"] for s in log["steps"]} <= {"done", "skipped"}
            files = _files(root)
            assert sorted(files) == sorted(reference), f"round {rounds}"
            assert [n for n in files if files[n] != reference[n]] == [], f"round {rounds}"
            leftovers |= {str(p.relative_to(root)) for p in root.rglob("*") if _hidden(p.relative_to(root))}
    finally:
        watcher.stop.set()
        watcher.join()
    assert watcher.found == [] and watcher.checked > 100
    # The kills landed all over the job, not only in its longest step.
    assert len(where) >= 3, where
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\nchaos: {kills} kills in {rounds} rounds, {time.monotonic() - t0:.0f} s, the runs' CPU "
          f"{cpu.ru_utime + cpu.ru_stime:.0f} s (work of one run "
          f"{work:.1f} s); killed in {dict(where)}; watcher checked {watcher.checked} file versions; "
          f"hidden leftovers: {sorted(leftovers)}")
