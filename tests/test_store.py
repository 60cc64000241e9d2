"""The Zarr store: layout, clear errors when a group is absent, atomic replacement."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import flarecast.ingest.store as store_mod
from flarecast.errors import StoreError
from flarecast.ingest.store import read_events, read_goes, read_sharp, write_groups


def _goes(n: int, start: str = "2017-09-06") -> xr.Dataset:
    t = np.datetime64(start, "ns") + np.arange(n) * np.timedelta64(60, "s")
    return xr.Dataset(
        {
            "xrsb": ("time", np.linspace(1e-7, 1e-5, n, dtype=np.float32)),
            "satellite": ("time", np.full(n, 16, np.int16)),
        },
        coords={"time": t},
        attrs={"units": "W m-2", "flux_basis": "true", "provenance": "[]"},
    )


def _events() -> xr.Dataset:
    return xr.Dataset(
        {
            "peak": ("event", np.array(["2017-09-06T12:02"], dtype="datetime64[ns]")),
            "start": ("event", np.array(["NaT"], dtype="datetime64[ns]")),
            "goes_class": ("event", np.array(["X9.3"], dtype=object)),
        }
    )


def tree_digest(path: Path) -> dict[str, str]:
    """sha256 of every file under a directory, by relative path: equal dicts mean byte-equal trees."""
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in path.rglob("*")
        if p.is_file()
    }


def test_missing_store_says_how_to_fill_it(tmp_path):
    for read in (read_goes, read_events, read_sharp):
        with pytest.raises(StoreError, match=r"there is no store yet.*`flarecast ingest goes PATH`"):
            read(tmp_path / "absent.zarr")
    path = tmp_path / "s.zarr"
    write_groups(path, {"events": _events()})
    with pytest.raises(
        StoreError, match=r"^no GOES data in store .*s.zarr; run `flarecast ingest goes PATH`$"
    ):
        read_goes(path)
    with pytest.raises(StoreError, match="run `flarecast ingest sharp PATH`"):
        read_sharp(path)


def test_round_trip_keeps_dtypes_nat_and_strings(tmp_path):
    path = tmp_path / "s.zarr"
    write_groups(path, {"goes": _goes(100), "events": _events()})
    goes, events = read_goes(path), read_events(path)
    assert goes["time"].dtype == np.dtype("datetime64[ns]") and goes["xrsb"].dtype == np.float32
    np.testing.assert_array_equal(goes["time"].values, _goes(100)["time"].values)
    assert goes.attrs["flux_basis"] == "true"
    assert np.isnat(events["start"].values[0]) and str(events["goes_class"].values[0]) == "X9.3"


def test_other_groups_carried_over_byte_equal(tmp_path):
    path = tmp_path / "s.zarr"
    write_groups(path, {"goes": _goes(100), "events": _events()})
    before = tree_digest(path / "events")
    write_groups(path, {"goes": _goes(200)})
    assert tree_digest(path / "events") == before
    assert read_goes(path).sizes["time"] == 200


def test_failure_mid_write_leaves_store_byte_equal(tmp_path, monkeypatch):
    path = tmp_path / "s.zarr"
    write_groups(path, {"goes": _goes(100), "events": _events()})
    before = tree_digest(path)
    real_write = store_mod._write_dataset

    def write_then_fail(root, group, ds):
        real_write(root, group, ds)  # the new goes group is fully on disk (in the temporary tree)...
        raise OSError("disk full")  # ...when the next step fails

    monkeypatch.setattr(store_mod, "_write_dataset", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_groups(path, {"goes": _goes(5000, "2020-01-01")})
    assert tree_digest(path) == before
    assert read_goes(path).sizes["time"] == 100
    assert [p.name for p in tmp_path.iterdir()] == ["s.zarr"]  # no temporary left behind


def test_failure_at_swap_restores_old_store(tmp_path, monkeypatch):
    path = tmp_path / "s.zarr"
    write_groups(path, {"goes": _goes(100)})
    before = tree_digest(path)
    real_replace = store_mod.os.replace
    calls = []

    def replace_fail_second(src, dst):
        calls.append(src)
        if len(calls) == 2:
            raise OSError("rename refused")
        real_replace(src, dst)

    monkeypatch.setattr(store_mod.os, "replace", replace_fail_second)
    with pytest.raises(OSError, match="rename refused"):
        write_groups(path, {"goes": _goes(7)})
    monkeypatch.undo()
    assert tree_digest(path) == before


def test_crash_between_renames_is_recovered_on_read(tmp_path):
    path = tmp_path / "s.zarr"
    write_groups(path, {"goes": _goes(100)})
    write_groups(tmp_path / ".s.zarr.tmp-deadbeef", {"goes": _goes(7)})  # the new version, built whole
    path.rename(tmp_path / ".s.zarr.old-deadbeef")  # what a crash right after the first rename leaves
    assert read_goes(path).sizes["time"] == 100


def test_unknown_group_refused(tmp_path):
    with pytest.raises(StoreError, match="not among"):
        write_groups(tmp_path / "s.zarr", {"flares": _events()})


def test_lock_refuses_a_second_writer_and_recovers_a_stale_one(tmp_path):
    path = tmp_path / "s.zarr"
    with store_mod.locked(path):
        with pytest.raises(StoreError, match="locked by another ingest"):
            with store_mod.locked(path):
                pass
    stale = tmp_path / ".s.zarr.lock"
    stale.write_text("999999999")  # no such process
    with store_mod.locked(path):
        assert stale.read_text() == str(os.getpid())
    assert not stale.exists()


def test_a_killed_ingests_lock_is_taken_over_even_where_its_pid_is_alive_again(tmp_path):
    """A container restarted gives the same small pids again: the lock of an ingest killed with its container
    names a pid that runs (here: this very process, and its parent). The lock is the kernel's flock, gone with
    its process, so it is taken over; the pid in the file alone decides nothing."""
    path = tmp_path / "s.zarr"
    stale = tmp_path / ".s.zarr.lock"
    for pid in (os.getpid(), os.getppid()):
        stale.write_text(str(pid))
        with store_mod.locked(path):
            pass
        assert not stale.exists()


def test_a_lock_held_by_another_running_process_refuses_in_one_line_naming_its_pid(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "s.zarr"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; import flarecast.ingest.store as s\n"
         "with s.locked(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)", str(path)],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreError, match=rf"locked by another ingest .*pid {holder.pid}\)"):
            with store_mod.locked(path):
                pass
        assert store_mod._locked_elsewhere(path)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    with store_mod.locked(path):  # the kernel released it with the process; its file is taken over
        assert not store_mod._locked_elsewhere(path)


def test_microsecond_times_are_stored_as_nanoseconds(tmp_path):
    import pandas as pd

    t = pd.date_range("2020-01-01", periods=5, freq="1min")  # pandas 3: datetime64[us]
    assert t.dtype == np.dtype("datetime64[us]")
    ds = xr.Dataset({"xrsb": ("time", np.ones(5, np.float32))}, coords={"time": t.values})
    ds["peak_seen"] = ("time", t.values)
    write_groups(tmp_path / "s.zarr", {"goes": ds})
    back = read_goes(tmp_path / "s.zarr")
    assert back["time"].dtype == np.dtype("datetime64[ns]")
    np.testing.assert_array_equal(back["time"].values, t.values.astype("datetime64[ns]"))
    np.testing.assert_array_equal(back["peak_seen"].values, t.values.astype("datetime64[ns]"))


def test_times_beyond_nanosecond_range_are_refused(tmp_path):
    t = np.array(["2020-01-01", "2300-01-01"], dtype="datetime64[us]")
    ds = xr.Dataset({"xrsb": ("time", np.ones(2, np.float32))}, coords={"time": t})
    with pytest.raises(
        StoreError, match=r"'time' holds 2020-01-01.*2300-01-01.*outside the datetime64\[ns\] range"
    ):
        write_groups(tmp_path / "s.zarr", {"goes": ds})
    assert not (tmp_path / "s.zarr").exists()


def test_carried_over_groups_are_linked_not_copied(tmp_path):
    path = tmp_path / "s.zarr"
    write_groups(path, {"goes": _goes(100), "events": _events()})
    chunk = path / "goes" / "xrsb" / "0"
    inode = chunk.stat().st_ino
    write_groups(path, {"events": _events()})
    assert chunk.stat().st_ino == inode  # the same file, not a copy: an events ingest does not copy GOES data
    assert (
        path / "goes" / ".zattrs"
    ).stat().st_nlink == 1  # metadata is copied: the new version may rewrite it


def test_plain_xarray_opens_every_group_without_a_consolidated_metadata_warning(tmp_path):
    """`xr.open_zarr` on a flarecast store warned that it had no consolidated metadata; each new version now
    writes it, and it describes the version written (goes grown from 100 to 200 rows, events carried over)."""
    import warnings

    path = tmp_path / "s.zarr"
    write_groups(path, {"goes": _goes(100), "events": _events()})
    write_groups(path, {"goes": _goes(200)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert xr.open_zarr(path, group="goes").sizes["time"] == 200
        assert xr.open_zarr(path, group="events").sizes["event"] == 1
        xr.open_zarr(path)



def test_remove_tree_outlasts_a_write_still_running_beside_it(tmp_path, monkeypatch):
    """A failed Zarr write leaves its sibling writes running in zarr's threads (CI once kept a
    `.store.zarr.tmp-*` that way: a write landed after rmtree had listed the folder); the removal runs
    again until the tree is gone."""
    import shutil

    tree = tmp_path / ".store.zarr.tmp-1"
    (tree / "goes").mkdir(parents=True)
    (tree / "goes" / "0.0").write_bytes(b"x")
    real, passes = shutil.rmtree, []

    def rmtree_then_a_late_write(path, ignore_errors=False):
        real(path, ignore_errors=ignore_errors)
        passes.append(path)
        if len(passes) == 1:  # the thread still writing beside the first pass
            (tree / "goes").mkdir(parents=True)
            (tree / "goes" / "1.0").write_bytes(b"y")

    monkeypatch.setattr(store_mod.shutil, "rmtree", rmtree_then_a_late_write)
    store_mod.remove_tree(tree, wait=2.0)
    assert not tree.exists() and len(passes) == 2
