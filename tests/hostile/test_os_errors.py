"""Class 6 of issue 21: a fault of the machine (a read-only file system, a full disk, no permission, an I/O error,
every other errno) gives one line on stderr and a non-zero exit in every command, never a traceback, and the
file that was being written keeps its previous bytes.

The faults are raised where the operating system raises them when a command commits what it wrote: the rename of
the finished temporary file over its target (rename(2) fails with EROFS, ENOSPC, EDQUOT, EACCES, EIO, ...), for
renames into the folder under test only. ``tests/hostile/test_whole_or_absent.py`` fills a real disk and
remounts it read-only.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.cli._util import user_errors
from flarecast.config import builtin_config
from flarecast.errors import MACHINE_FAULT_EXIT
from tests.conftest import TINY

runner = CliRunner()


def refuse_renames_into(monkeypatch, folder: Path, err: int) -> list[str]:
    """Make every rename into ``folder`` fail with ``err`` (as rename(2) reports it); returns the refused
    targets, so a test can tell the fault was met."""
    real, refused = os.replace, []
    inside = str(folder.resolve()) + os.sep

    def replace(src, dst, *args, **kwargs):
        if str(Path(dst).resolve()).startswith(inside):
            refused.append(str(dst))
            raise OSError(err, os.strerror(err), str(src), None, str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    return refused


def digests(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``, by relative path."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def one_line(result, code: int, *fragments: str) -> str:
    """Assert the command failed with exit ``code`` and one line on stderr holding ``fragments``; return it."""
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert result.exit_code == code, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def store_copy(sim_store, tmp_path) -> Path:
    """A copy of the simulated store whose folder is under test (the session's store stays as it is)."""
    out = tmp_path / "data" / "store.zarr"
    shutil.copytree(sim_store, out)
    return out


def _forecast(model, store, out, *extra):
    return ["forecast", str(model), "--store", str(store), "--latest", "--out", str(out), *extra]


# (command, errno, file the command rewrites, how to run it): the six errnos named in issue 21 and rename(2)'s
# others, spread over the commands that write files.
CASES = {
    "forecast-csv": (errno.ENOSPC, "fc.csv", lambda m, s, d: _forecast(m, s, d / "fc.csv")),
    "forecast-json": (errno.EROFS, "fc.json", lambda m, s, d: _forecast(m, s, d / "fc.json")),
    "forecast-ccmc": (errno.EIO, "sb.json", lambda m, s, d: _forecast(m, s, d / "sb.json", "--format", "ccmc")),
    "dashboard": (errno.EDQUOT, "forecast.json",
                  lambda m, s, d: ["dashboard", str(m), "--store", str(s), "--latest", "--out", str(d)]),
    "samples": (errno.EACCES, "index.parquet",
                lambda m, s, d: ["samples", str(builtin_config("demo")), "--store", str(s), *TINY,
                                 "--out", str(d / "index.parquet")]),
    "simulate": (errno.EROFS, "simulation.json",
                 lambda m, s, d: ["simulate", str(d), "--days", "2", "--seed", "1"]),
    "train": (errno.EXDEV, "card.json",
              lambda m, s, d: ["train", str(builtin_config("demo")), "--store", str(s), "--out", str(d), *TINY,
                               "train.epochs=1", "samples.stride=6h"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_fault_while_a_command_commits_its_file_is_one_line_and_the_old_file_stays(
        case, tiny_model, sim_store, tmp_path, monkeypatch):
    err, name, args = CASES[case]
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_bytes(b"the previous run's file\n")
    before = digests(out)
    refused = refuse_renames_into(monkeypatch, out, err)
    result = runner.invoke(app, args(tiny_model, sim_store, out))
    assert refused, "the command never wrote into the folder under test"
    code = 2 if err == errno.EACCES else MACHINE_FAULT_EXIT
    one_line(result, code, f"{out / name}: " if case not in ("simulate", "train") else str(out),
             f"({errno.errorcode[err]})")
    assert digests(out) == before  # the old file byte for byte, and no temporary file left beside it


def test_an_ingest_into_a_read_only_store_is_one_line_and_the_store_stays(store_copy, tmp_path, monkeypatch):
    from flarecast.simulate.generate import simulate

    simulate(tmp_path / "new", days=2, seed=9, start="2018-03-01", activity=4.0)  # events the store lacks
    before = digests(store_copy.parent)
    refuse_renames_into(monkeypatch, store_copy.parent, errno.EROFS)
    result = runner.invoke(app, ["ingest", "events", str(tmp_path / "new" / "events"), "--store", str(store_copy)])
    one_line(result, MACHINE_FAULT_EXIT, str(store_copy), "read-only file system (EROFS)")
    assert digests(store_copy.parent) == before
    assert sorted(p.name for p in store_copy.parent.iterdir()) == ["store.zarr"]  # no version or lock left


def test_a_batch_step_that_meets_a_full_disk_is_one_line_naming_the_step(tiny_model, sim_store, tmp_path,
                                                                         monkeypatch):
    root = tmp_path / "job"
    (root / "runs").mkdir(parents=True)
    job = root / "job.yaml"
    job.write_text(f"store: {sim_store}\nlog: logs/job.json\nsteps:\n"
                   f"  fc: {{run: forecast, model: {tiny_model}, latest: true, out: runs/fc.json}}\n")
    refuse_renames_into(monkeypatch, root / "runs", errno.ENOSPC)
    result = runner.invoke(app, ["batch", str(job), "--root", str(root)])
    line = one_line(result, MACHINE_FAULT_EXIT, "step 'fc'", str(root / "runs" / "fc.json"),
                    "no space left on device (ENOSPC)")
    assert "free space" in line
    assert list((root / "runs").iterdir()) == []
    import json

    log = json.loads((root / "logs" / "job.json").read_text())
    assert log["status"] == "failed" and log["failed_step"] == "fc" and "ENOSPC" in log["steps"][0]["error"]


@pytest.mark.parametrize("code", sorted(errno.errorcode))
def test_every_errno_is_one_line_naming_the_path_and_a_non_zero_exit(code, capsys):
    def fails():
        raise OSError(code, os.strerror(code), "runs/fc.csv")

    with pytest.raises(typer.Exit) as stop:
        user_errors(fails)()
    err = capsys.readouterr().err
    assert stop.value.exit_code in (2, MACHINE_FAULT_EXIT)
    assert err.count("\n") == 1 and err.startswith("error: runs/fc.csv: ") and errno.errorcode[code] in err


@pytest.mark.parametrize("exc", [OSError("a library's own words"), OSError(), TimeoutError("timed out"),
                                 ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
                                 OSError(errno.EXDEV, "Invalid cross-device link", "a", None, "b")])
def test_an_os_error_without_a_path_or_errno_is_still_one_line(exc, capsys):
    def fails():
        raise exc

    with pytest.raises(typer.Exit) as stop:
        user_errors(fails)()
    err = capsys.readouterr().err
    assert stop.value.exit_code == MACHINE_FAULT_EXIT and err.count("\n") == 1 and err.startswith("error: ")


def test_every_command_turns_os_errors_into_one_line():
    """Each command of the app and of its groups (fetch) is registered through ``user_errors``."""
    def commands(group):
        yield from (c.callback for c in group.registered_commands)
        for sub in group.registered_groups:
            yield from commands(sub.typer_instance)

    callbacks = list(commands(app))
    wrapper = user_errors(lambda: None).__code__
    assert len(callbacks) >= 15 and "batch_cli" in [c.__name__ for c in callbacks]
    assert [c.__name__ for c in callbacks if c.__code__ is not wrapper] == []
