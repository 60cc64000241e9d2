"""Class 2 of issue 21 (files and the store): every file a command writes is whole or absent under its name.

- A process SIGKILLed while it writes a file, or after writing it and before renaming it, leaves the previous
  file byte for byte (the kill comes from the writing process itself, at the byte or the call that matters, so
  every run hits the window; a kill at a random time would mostly miss it).
- A full disk or a read-only file system (a real tmpfs, where this test may mount one) leaves the previous file and
  prints one line.
- Files get the mode a plain ``open`` gives them (``0o666 & ~umask``), or keep the one they had.
- A store swap leaves no copy that a later read could resurrect; a symlinked store stays a link.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.errors import MACHINE_FAULT_EXIT, MissingDataError
from flarecast.ingest.store import read_events
from tests.hostile.test_os_errors import digests, one_line

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
OLD = b"the previous run's file, whole\n"

DYING_OPEN = r'''
import builtins, io, os, signal

class Wrapped:
    """An open file whose write() a fault replaces; everything else is the file's own."""

    def __init__(self, fh):
        self._fh, self._n = fh, 0

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._fh.__exit__(*exc)

def dying_open(target, after):
    """Make open() return, for ``target`` or a hidden temporary file of it, a file that SIGKILLs the process once
    ``after`` bytes (or characters) are written, with those bytes flushed to the file."""
    real_open = io.open

    class Dying(Wrapped):
        def write(self, data):
            if self._n + len(data) > after:
                self._fh.write(data[:max(0, after - self._n)])
                self._fh.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            self._n += len(data)
            return self._fh.write(data)

    def opener(file, mode="r", *args, **kwargs):
        fh = real_open(file, mode, *args, **kwargs)
        name = os.path.basename(os.fspath(file)) if isinstance(file, (str, os.PathLike)) else ""
        if set(mode) & set("wax") and (name == target or name.startswith("." + target + ".")):
            return Dying(fh)
        return fh

    builtins.open = io.open = opener
'''
exec(DYING_OPEN)  # the same code in this process (forked children) and in the CLI subprocess


def killed_in_child(write) -> int | None:
    """Run ``write()`` in a forked child; the signal that ended it (None: it returned)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            write()
        except BaseException:
            os._exit(3)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else None


def dying_replace(target: Path):
    """``os.replace`` that SIGKILLs the process instead of renaming anything onto ``target``: a kill after the
    new file is written in full and before it takes the name."""
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if Path(dst) == target:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst, *args, **kwargs)

    os.replace = replace


@pytest.fixture(scope="module")
def doc(tiny_model, sim_store):
    """A real forecast document: a week of issue times, every hour (504 rows, about 120 kB as CSV)."""
    from flarecast.forecast.ops import issue_forecast
    from flarecast.forecast.request import ForecastRequest, Inputs, IssueTimes

    return issue_forecast(ForecastRequest([tiny_model], Inputs(store=sim_store),
                                          IssueTimes(start="2018-02-01", end="2018-02-08", every="1h")))


def test_a_sigkill_while_forecast_rewrites_its_csv_leaves_the_previous_file(tiny_model, sim_store, tmp_path):
    """issue 21's example: `flarecast forecast --out fc.csv` killed mid-file left fc.csv at 0 bytes."""
    out = tmp_path / "fc.csv"
    out.write_bytes(OLD)
    code = DYING_OPEN + ("dying_open('fc.csv', 5000)\nimport sys\nfrom flarecast.cli import app\n"
                         "sys.argv[0] = 'flarecast'\napp()\n")
    run = subprocess.run([sys.executable, "-c", code, "forecast", str(tiny_model), "--store", str(sim_store),
                          "--from", "2018-02-01", "--to", "2018-02-08", "--every", "1h", "--out", str(out)],
                         cwd=REPO, capture_output=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == -signal.SIGKILL, run.stderr.decode()[-2000:]  # killed with 5000 bytes written
    assert out.read_bytes() == OLD
    assert [p.name for p in tmp_path.iterdir() if p.name != "fc.csv"] == [
        p.name for p in tmp_path.glob(".fc.csv.*.tmp.csv")]  # only the hidden half-file, never read


def _writers(doc):
    """Writers of four kinds of file, each given a path: forecasts as CSV, JSON and CCMC JSON, a metrics-like
    JSON (the writer of metrics.json, OOF scores and comparisons), a plot."""
    from flarecast.forecast.ccmc import write_ccmc
    from flarecast.forecast.files import write_forecasts
    from flarecast.jsonio import write_json
    from flarecast.report.plots import draw

    grid = [i / 20 for i in range(21)]
    curve = {"threshold": grid, "recall": grid, "far": grid, "tss": grid, "hss": grid, "chosen": 0.3, "rule": None}
    return {
        "forecast.csv": lambda p: write_forecasts(doc, p),
        "forecast.json": lambda p: write_forecasts(doc, p),
        "scoreboard.json": lambda p: write_ccmc(doc, p),
        "metrics.json": lambda p: write_json(p, {"forecasts": doc["forecasts"] * 4}),
        "threshold.png": lambda p: draw("threshold", curve, ">=M", p),
    }


@pytest.mark.parametrize("name", ["forecast.csv", "forecast.json", "scoreboard.json", "metrics.json",
                                  "threshold.png"])
def test_a_sigkill_mid_write_leaves_the_previous_file(name, doc, tmp_path):
    target = tmp_path / name
    target.write_bytes(OLD)
    write = _writers(doc)[name]

    def child():
        dying_open(name, 3000)  # noqa: F821 - defined by exec(DYING_OPEN)
        write(target)

    assert killed_in_child(child) == signal.SIGKILL
    assert target.read_bytes() == OLD


@pytest.mark.parametrize("name", ["forecast.csv", "scoreboard.json", "metrics.json", "threshold.png",
                                  "index.parquet", "index.nc", "weights.safetensors"])
def test_a_sigkill_between_writing_and_renaming_leaves_the_previous_file(name, doc, tiny_model, sim_store,
                                                                         tmp_path):
    target = tmp_path / name
    target.write_bytes(OLD)
    writers = _writers(doc)
    if name.startswith("index."):
        from flarecast.config import builtin_config, load_config
        from flarecast.samples.build import samples_from_store, write_index
        from tests.conftest import TINY

        samples = samples_from_store(sim_store, load_config(builtin_config("demo"), TINY).samples)
        writers[name] = lambda p: write_index(samples, p)
    if name == "weights.safetensors":
        from flarecast.model.modeldir import load_model, save_model

        model, card = load_model(tiny_model)
        writers[name] = lambda p: save_model(p.parent, model, card)

    def child():
        dying_replace(target)
        writers[name](target)

    assert killed_in_child(child) == signal.SIGKILL
    assert target.read_bytes() == OLD
    writers[name](target)  # and without the kill, the new file takes the name
    assert target.read_bytes() != OLD


def test_a_full_write_without_a_fault_leaves_no_temporary_file(doc, tmp_path):
    for name, write in _writers(doc).items():
        write(tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(_writers(doc))
    back = list(__import__("csv").DictReader((tmp_path / "forecast.csv").open()))
    assert len(back) == len(doc["forecasts"]) == 3 * 169
    assert json.loads((tmp_path / "forecast.json").read_text()) == json.loads(json.dumps(doc))


def test_a_disk_full_mid_write_is_one_line_and_leaves_the_previous_file(tiny_model, sim_store, tmp_path,
                                                                          monkeypatch):
    """ENOSPC from write() itself, after part of the file went out (the CLI in this process)."""
    import builtins
    import io

    real_open = io.open

    class Full(Wrapped):  # noqa: F821 - defined by exec(DYING_OPEN)
        def write(self, data):
            self._fh.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def opener(file, mode="r", *args, **kwargs):
        fh = real_open(file, mode, *args, **kwargs)
        return Full(fh) if "w" in mode and Path(os.fspath(file)).parent == tmp_path else fh

    for name in ("fc.csv", "fc.json"):
        (tmp_path / name).write_bytes(OLD)
    monkeypatch.setattr(builtins, "open", opener)
    monkeypatch.setattr(io, "open", opener)
    for name in ("fc.csv", "fc.json"):
        result = runner.invoke(app, ["forecast", str(tiny_model), "--store", str(sim_store), "--latest", "--out",
                                     str(tmp_path / name)])
        one_line(result, MACHINE_FAULT_EXIT, f"{tmp_path / name}: no space left on device (ENOSPC)", "free space")
        assert (tmp_path / name).read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fc.csv", "fc.json"]


# --- a real small disk, filled, then mounted read-only (where this process may mount a tmpfs) ---

@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path) -> None:
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def test_a_full_disk_and_a_read_only_one_leave_every_file_and_the_store(tiny_model, sim_store, small_disk,
                                                                          tmp_path):
    store = small_disk / "store.zarr"
    events = sim_store.parent / "raw" / "events"
    assert runner.invoke(app, ["ingest", "events", *map(str, sorted(events.glob("*.txt"))[:20]),
                               "--store", str(store)]).exit_code == 0
    (small_disk / "fc.csv").write_bytes(OLD)
    _fill(small_disk)
    before = digests(small_disk)
    week = ["--from", "2018-02-01", "--to", "2018-02-08", "--every", "1h"]
    result = runner.invoke(app, ["forecast", str(tiny_model), "--store", str(sim_store), *week, "--out",
                                 str(small_disk / "fc.csv")])
    one_line(result, MACHINE_FAULT_EXIT, f"error: {small_disk / 'fc.csv'}: no space left on device (ENOSPC)")
    result = runner.invoke(app, ["ingest", "events", str(events), "--store", str(store)])
    one_line(result, MACHINE_FAULT_EXIT, f"error: {store}: no space left on device (ENOSPC)")
    assert digests(small_disk) == before  # no temporary file, no half-built version, no lock
    assert read_events(store).sizes["event"] > 0

    ro = tmp_path / "read-only"  # the same disk, mounted read-only a second time
    ro.mkdir()
    subprocess.run(["mount", "--bind", str(small_disk), str(ro)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], check=True)
        for args, named in (
                (["forecast", str(tiny_model), "--store", str(sim_store), "--latest", "--out", str(ro / "fc.csv")],
                 "fc.csv"),
                (["dashboard", str(tiny_model), "--store", str(sim_store), "--latest", "--out", str(ro / "dash")],
                 "dash"),
                (["ingest", "events", str(events), "--store", str(ro / "store.zarr")], "store.zarr"),
                (["simulate", str(ro / "sim"), "--days", "1"], "sim")):
            one_line(runner.invoke(app, args), MACHINE_FAULT_EXIT, f"error: {ro / named}: read-only file system (EROFS)")
    finally:
        subprocess.run(["umount", "-l", str(ro)], check=False)
    assert digests(small_disk) == before


# --- modes ---

@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_written_files_get_the_mode_open_would_give_them(mask, doc, tmp_path):
    from flarecast.forecast.ccmc import write_ccmc
    from flarecast.util import atomic_write_text

    old = os.umask(mask)
    try:
        write_ccmc(doc, tmp_path / "sb.json")
        atomic_write_text(tmp_path / "page.html", "<p>")
        with open(tmp_path / "plain", "w"):
            pass
    finally:
        os.umask(old)
    want = 0o666 & ~mask
    assert stat.S_IMODE((tmp_path / "plain").stat().st_mode) == want
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()} == dict.fromkeys(
        ["sb.json", "page.html", "plain"], want)


def test_a_rewrite_keeps_the_files_mode_and_writes_through_a_symbolic_link(doc, tmp_path):
    from flarecast.forecast.files import write_forecasts

    real = tmp_path / "published" / "fc.csv"
    real.parent.mkdir()
    real.write_bytes(OLD)
    real.chmod(0o640)
    link = tmp_path / "fc.csv"
    link.symlink_to(real)
    write_forecasts(doc, link)
    assert link.is_symlink() and link.resolve() == real
    assert stat.S_IMODE(real.stat().st_mode) == 0o640 and real.read_bytes().startswith(b"issue_time,")


def test_the_dashboard_page_is_readable_by_others_under_umask_022(tiny_model, sim_store, tmp_path):
    old = os.umask(0o022)
    try:
        result = runner.invoke(app, ["dashboard", str(tiny_model), "--store", str(sim_store), "--latest",
                                     "--out", str(tmp_path)])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in tmp_path.iterdir()} == {
        "index.html": "0o644", "forecast.json": "0o644"}


# --- the store ---

KILL_IN_SWAP = r'''
import os, shutil, signal, sys
where = sys.argv.pop(1)
real_replace, real_rmtree = os.replace, shutil.rmtree

def replace(src, dst, *args, **kwargs):  # the swap's second rename: the new version over the store
    if where == "between" and ".store.zarr.tmp-" in str(src) and str(dst).endswith("store.zarr"):
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)

def rmtree(path, *args, **kwargs):  # the swap's last step: deleting the old version
    if where == "deleting" and ".store.zarr.old-" in str(path):
        for entry in sorted(os.listdir(path))[:1]:  # part of it deleted, then the kill
            real_rmtree(os.path.join(path, entry), ignore_errors=True)
        os.kill(os.getpid(), signal.SIGKILL)
    return real_rmtree(path, *args, **kwargs)

os.replace, shutil.rmtree = replace, rmtree
from flarecast.cli import app
from flarecast.forecast.request import ForecastRequest, Inputs, IssueTimes
sys.argv[0] = "flarecast"
app()
'''


def _kill_an_ingest(store: Path, where: str, events: list[Path]) -> None:
    run = subprocess.run([sys.executable, "-c", KILL_IN_SWAP, where, "ingest", "events", *map(str, events),
                          "--store", str(store)], cwd=REPO, capture_output=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == -signal.SIGKILL, run.stderr.decode()[-2000:]


@pytest.fixture
def events_store(sim_store, tmp_path):
    """A store of the first 20 days' events (ingested here), and the next 20 days' files."""
    files = sorted((sim_store.parent / "raw" / "events").glob("*.txt"))
    store = tmp_path / "store.zarr"
    assert runner.invoke(app, ["ingest", "events", *map(str, files[:20]), "--store", str(store)]).exit_code == 0
    return store, files[20:]


def test_an_ingest_killed_while_deleting_the_old_version_leaves_nothing_to_resurrect(events_store):
    store, more = events_store
    before = read_events(store).sizes["event"]
    _kill_an_ingest(store, "deleting", more)
    after = read_events(store).sizes["event"]  # the new store; the half-deleted old copy is cleaned on this read
    assert after > before
    # the killed ingest's lock stays until the next ingest takes it over (its process is gone)
    assert sorted(p.name for p in store.parent.iterdir()) == [".store.zarr.lock", "store.zarr"]
    shutil.rmtree(store)  # the operator removes the store: it stays removed
    with pytest.raises(MissingDataError, match="there is no store yet"):
        read_events(store)
    assert not store.exists()


def test_a_finished_swaps_leftover_is_deleted_by_the_next_read_or_ingest_not_restored(events_store):
    store, more = events_store
    for _ in range(2):  # what an older flarecast's kill left, then the operator removed the store
        shutil.copytree(store, store.parent / f".store.zarr.old-{uuid.uuid4().hex[:8]}")
    shutil.rmtree(store)
    with pytest.raises(MissingDataError, match="there is no store yet"):
        read_events(store)  # before: the newest copy was put back here
    assert list(store.parent.iterdir()) == []
    half_deleted = store.parent / f".store.zarr.old-{uuid.uuid4().hex[:8]}" / "events"
    half_deleted.mkdir(parents=True)
    (half_deleted / ".zattrs").write_text("{}")
    result = runner.invoke(app, ["ingest", "events", *map(str, more), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in store.parent.iterdir()) == ["store.zarr"]
    assert read_events(store).attrs["provenance"].count("sha256") == len(more)  # only the new files


def test_an_ingest_killed_between_the_two_renames_leaves_the_old_store(events_store):
    store, more = events_store
    before = digests(store)
    _kill_an_ingest(store, "between", more)
    assert not store.exists()
    assert digests(store) == {} and read_events(store).sizes["event"] > 0  # the read puts the old version back
    assert digests(store) == before
    result = runner.invoke(app, ["ingest", "events", *map(str, more), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in store.parent.iterdir()) == ["store.zarr"]


def test_an_ingest_into_a_symlinked_store_keeps_the_link(events_store, tmp_path):
    store, more = events_store
    disk = tmp_path / "big-disk"
    disk.mkdir()
    real = disk / "flares.zarr"
    store.rename(real)
    store.symlink_to(real, target_is_directory=True)
    before = read_events(store).sizes["event"]
    result = runner.invoke(app, ["ingest", "events", *map(str, more), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert store.is_symlink() and store.resolve() == real
    assert read_events(store).sizes["event"] > before
    assert sorted(p.name for p in disk.iterdir()) == ["flares.zarr"]
    assert sorted(p.name for p in store.parent.iterdir()) == sorted(["store.zarr", "big-disk"])



def test_a_write_removes_what_a_killed_writer_of_the_same_file_left_an_hour_ago(tmp_path):
    """A SIGKILL leaves the hidden temporary file (nothing in the process can remove it); a daily job killed
    now and then would pile them up. The next successful write of the same file removes those over an hour old,
    and never a fresh one (a writer that may still be running) nor another file's."""
    from flarecast.util import STALE_TMP_S, atomic_write_text

    target = tmp_path / "fc[1].csv"  # glob characters in the name are matched literally
    stale = tmp_path / ".fc[1].csv.0badc0de.tmp.csv"
    fresh = tmp_path / ".fc[1].csv.1badc0de.tmp.csv"
    other = tmp_path / ".other.csv.2badc0de.tmp.csv"
    for p in (stale, fresh, other):
        p.write_text("half")
    old = time.time() - STALE_TMP_S - 60
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    atomic_write_text(target, "whole\n")
    assert target.read_text() == "whole\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, fresh.name, other.name])
