"""Streaming GOES merge: staged batches, bounded units, shared chunks, replacement counts, a dask cluster."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import flarecast.ingest.merge_goes as mg
from flarecast.ingest.pipeline import ingest
from flarecast.ingest.store import read_goes

REAL = Path(
    os.environ.get("FLARECAST_REAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "real")
)
G16 = [f"goes/sci_xrsf-l2-avg1m_g16_d201709{d:02d}_v2-2-0.nc" for d in (4, 5, 6, 7, 8)]
G15_SEP = "goes/g15_xrs_1m_20170901_20170930.csv.bz2"
JULY = ["goes/g13_xrs_1m_20170701_20170731.nc", "goes/g15_xrs_1m_20170701_20170731.nc"]


@pytest.fixture
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real data folder {REAL} is absent (set FLARECAST_REAL_DATA); see PROVENANCE.md")
    return REAL


@pytest.fixture
def tiny(monkeypatch):
    """Batches, units and chunks of a few thousand rows, so a few real files exercise every path."""
    monkeypatch.setattr(mg, "STAGE_ROWS", 3000)
    monkeypatch.setattr(mg, "UNIT_ROWS", 5000)
    monkeypatch.setattr(mg, "TIME_CHUNK", 4096)
    monkeypatch.setattr(mg, "WAVE", 3)


def assert_same_goes(a: Path, b: Path) -> None:
    x, y = read_goes(a).load(), read_goes(b).load()
    assert sorted(x.variables) == sorted(y.variables)
    for name in x.variables:
        np.testing.assert_array_equal(x[name].values, y[name].values, err_msg=name)


def test_streamed_in_pieces_equals_one_in_memory_merge(real, tmp_path, tiny, monkeypatch):
    files = [real / f for f in (G16[0], G15_SEP, *G16[1:])]
    with monkeypatch.context() as m:  # the reference: everything at once, in memory, default sizes
        m.setattr(mg, "STAGE_ROWS", 10**9)
        m.setattr(mg, "UNIT_ROWS", 10**9)
        m.setattr(mg, "TIME_CHUNK", 2**16)
        one = ingest("goes", files, store=tmp_path / "one.zarr")
    # Out of time order, so later ingests insert before, between and after stored rows.
    for part in ([files[4]], [files[5], files[2]], [files[3], files[1], files[0]]):
        ingest("goes", part, store=tmp_path / "pieces.zarr")
    assert_same_goes(tmp_path / "one.zarr", tmp_path / "pieces.zarr")
    assert read_goes(tmp_path / "one.zarr").sizes["time"] == 30 * 1440
    g16_added = sum(f.rows_added for f in one.files if "_g16_" in f.path)
    assert g16_added == int((read_goes(tmp_path / "one.zarr")["satellite"] == 16).sum()) > 5 * 1300
    chunks = [p for p in (tmp_path / "pieces.zarr" / "goes" / "xrsb").iterdir() if p.name.isdigit()]
    assert len(chunks) == -(-30 * 1440 // 4096)  # written at the configured chunking


def test_batch_spills_to_staging_zarr(real, tmp_path, tiny):
    from flarecast.ingest.readers import read_file

    stager = mg.Stager(tmp_path)
    for f in G16:
        stager.add(read_file(real / f, "goes").data)
    assert stager.spilled == 3 * 1440  # spilled on passing 3000 rows; the last two files are still in memory
    assert [f.rows.path is None for f in stager.files] == [False] * 3 + [True] * 2
    parts = [f.between(int(f.days[0]), int(f.days[-1])) for f in stager.files]
    loaded = mg.load(parts)
    assert [x["time"].size for x in loaded] == [1440] * 5
    day = np.array([x["time"][0] for x in loaded]).view("datetime64[ns]")
    assert str(day[0])[:10] == "2017-09-04" and np.all(np.diff(day) == np.timedelta64(1, "D"))


def test_units_are_bounded_and_cover_each_row_once(real, tmp_path, tiny):
    from flarecast.ingest.readers import read_file

    stager = mg.Stager(tmp_path)
    for f in (G15_SEP, *G16):
        stager.add(read_file(real / f, "goes").data)
    units = mg.plan(None, stager.files, unit_rows=5000)
    sizes = [sum(p.stop - p.start for p in u) for u in units]
    assert sum(sizes) == 30 * 1440 + 5 * 1440
    # A unit is one or more whole days; it passes the bound only when a single day does (here: 2 x 1440).
    assert max(sizes) <= 5000
    per_origin = {}
    for u in units:
        for p in u:
            per_origin[p.origin] = per_origin.get(p.origin, 0) + p.stop - p.start
    assert per_origin == {1: 30 * 1440, **dict.fromkeys(range(2, 7), 1440)}


def test_chunks_before_the_new_rows_are_shared_not_rewritten(real, tmp_path, monkeypatch):
    monkeypatch.setattr(mg, "TIME_CHUNK", 4096)
    store = tmp_path / "s.zarr"
    ingest("goes", [real / JULY[1]], store=store)  # 44640 rows: chunks 0..9 full, 10 partial
    before = {p.name: p.stat().st_ino for p in (store / "goes" / "xrsb").iterdir() if p.name.isdigit()}
    ingest("goes", [real / G15_SEP], store=store)  # September: appended after July
    after = {p.name: p.stat().st_ino for p in (store / "goes" / "xrsb").iterdir() if p.name.isdigit()}
    assert sorted((k for k in before if before[k] == after[k]), key=int) == [str(i) for i in range(10)]
    assert before["10"] != after["10"]  # the partial chunk grows, so it is written anew
    ds = read_goes(store)
    assert ds.sizes["time"] == 31 * 1440 + 30 * 1440
    assert np.all(np.diff(ds["time"].values) > np.timedelta64(0))


def test_merge_rule_usable_then_priority_then_stored_then_first_file():
    def rows(origin, sat, mask, t=(0, 60)):
        n = len(t)
        arrays = {
            "time": np.array(t, dtype=np.int64) * 10**9,
            "xrsa": np.full(n, 1e-7, np.float32),
            "xrsb": np.full(n, float(origin), np.float32),
            "xrsa_mask": np.zeros(n, np.uint8),
            "xrsb_mask": np.array(mask, np.uint8),
            "satellite": np.full(n, sat, np.int16),
        }
        return mg.Rows(origin, 0, n, arrays=arrays)

    # At t=0: the store's masked GOES-16 loses to file 2's usable GOES-13; file 1's GOES-15 beats both.
    # At t=60: all usable: GOES-16 (the store) wins over GOES-15 and GOES-13.
    cols, kept, replaced = mg.merge_rows([rows(0, 16, [1, 0]), rows(2, 13, [0, 0]), rows(1, 15, [0, 0])])
    assert list(cols["xrsb"]) == [1.0, 0.0] and kept == {0: 1, 1: 1} and replaced == {1: 1}
    # Same satellite everywhere: the stored row wins, then the file listed first.
    cols, _, _ = mg.merge_rows([rows(2, 15, [0, 0]), rows(1, 15, [0, 0], t=(0, 120))])
    assert list(cols["xrsb"]) == [1.0, 2.0, 1.0]


def test_merges_on_a_dask_distributed_cluster(real, tmp_path, tiny):
    distributed = pytest.importorskip("distributed")
    import dask

    files = [real / f for f in (*G16, G15_SEP)]
    ingest("goes", files, store=tmp_path / "local.zarr")
    with distributed.LocalCluster(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0"
    ) as cluster:
        # The address as DASK_SCHEDULER_ADDRESS would give it: ingest connects, runs, disconnects.
        with dask.config.set({"scheduler-address": cluster.scheduler_address}):
            ingest("goes", files, store=tmp_path / "cluster.zarr")
        ran = set(cluster.scheduler.task_prefixes)
    assert {"read_or_error", "merge_rows"} <= ran  # reading and merging ran as tasks of the cluster
    assert_same_goes(tmp_path / "local.zarr", tmp_path / "cluster.zarr")


def test_scheduler_without_distributed_installed_says_how_to_fix(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name.startswith("distributed"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    from flarecast.errors import ConfigError

    with pytest.raises(ConfigError, match="pip install distributed"):
        ingest("goes", [tmp_path], store=tmp_path / "s.zarr", scheduler="tcp://127.0.0.1:1", skip_bad=True)


def test_empty_frame_stages_and_writes_an_empty_group(tmp_path):
    frame = pd.DataFrame({c: np.zeros(0, mg.DTYPES[c]) for c in mg.COLUMNS})
    frame["time"] = np.zeros(0, "datetime64[ns]")
    stager = mg.Stager(tmp_path / "stage")
    stager.add(frame)
    root = tmp_path / "root"
    kept, _ = mg.stream_merge(None, stager, root, {"provenance": "[]"})
    ds = read_goes(root)
    assert ds.sizes["time"] == 0 and kept == {0: 0} and ds.attrs["flux_basis"] == "true"


def test_failure_midway_through_the_stream_leaves_the_store_as_it_was(real, tmp_path, tiny, monkeypatch):
    from tests.test_store import tree_digest

    store = tmp_path / "s.zarr"
    ingest("goes", [real / G15_SEP], store=store)
    before = tree_digest(store)
    calls = []
    real_merge = mg.merge_rows

    def fail_third(parts):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return real_merge(parts)

    monkeypatch.setattr(mg, "merge_rows", fail_third)
    with pytest.raises(OSError, match="disk full"):
        ingest("goes", [real / f for f in G16], store=store)
    assert len(calls) >= 3 and tree_digest(store) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.zarr"]  # no staging or half-built version left


def test_leftovers_of_a_crashed_ingest_are_cleared(tmp_path):
    from flarecast.ingest.store import locked

    for name in (".s.zarr.tmp-0badc0de", ".s.zarr.stage-0badc0de"):
        (tmp_path / name / "goes").mkdir(parents=True)
    with locked(tmp_path / "s.zarr"):
        pass
    assert list(tmp_path.iterdir()) == []


def _frame(n: int, start_s: int, rng) -> pd.DataFrame:
    """``n`` one-second rows from ``start_s``; the first 5000 XRS-A values and the masks' first 5000 rows are
    fill values (NaN, 0), so the staging has chunks that zarr leaves unwritten."""
    frame = pd.DataFrame({
        "time": (np.arange(start_s, start_s + n) * 10**9).view("datetime64[ns]"),
        "xrsa": rng.random(n, dtype=np.float32),
        "xrsb": rng.random(n, dtype=np.float32),
        "xrsa_mask": rng.integers(0, 3, n).astype(np.uint8),
        "xrsb_mask": rng.integers(0, 3, n).astype(np.uint8),
        "satellite": np.full(n, 16, np.int16),
    })
    frame.loc[: 4999, "xrsa"] = np.nan
    frame.loc[: 4999, ["xrsa_mask", "xrsb_mask"]] = 0
    return frame


def test_staged_chunk_files_are_byte_for_byte_what_zarr_writes(tmp_path, monkeypatch):
    """The stager writes its chunk files itself (``write_chunks``): every file equals zarr's own append of the
    same rows at once, whole, partial and all-fill chunks alike, wherever a spill ends inside a chunk."""
    from flarecast.ingest.goes_writer import append_columns
    from tests.test_store import tree_digest

    monkeypatch.setattr(mg, "TIME_CHUNK", 4096)
    rng = np.random.default_rng(7)
    frames = [_frame(n, 10**9 + 7 * k * 10**4, rng) for k, n in enumerate((3000, 1, 9000, 4096, 2500))]
    stager = mg.Stager(tmp_path / "stage", budget=5000)  # spills after files 2 and 3 and at the end
    for f in frames:
        stager.add(f)
    stager.spill()
    assert stager.spilled == 18597 and stager.path.is_dir()
    rows = pd.concat(frames, ignore_index=True)
    cols = {c: rows[c].to_numpy() for c in mg.COLUMNS}
    cols["time"] = cols["time"].view(np.int64)
    append_columns(tmp_path / "zarr.zarr", cols, 4096, create=True)
    ours, zarrs = tree_digest(stager.path), tree_digest(tmp_path / "zarr.zarr")
    assert ours == zarrs
    assert "xrsa/1" in ours and "xrsa/0" not in ours and "xrsb_mask/0" not in ours  # all-fill: not written
    assert sum(k.startswith("time/") and k[5:].isdigit() for k in ours) == 5  # 18597 rows: 4 chunks + a part


def test_a_store_written_with_another_codec_is_merged_into_not_linked(tmp_path, monkeypatch):
    """Appending links staged chunks into the stored arrays only when both store them alike: a store whose
    arrays another zarr default compressed (zstd here) is merged with the new rows and written anew: linked, the
    staged blosc chunks would sit under a zstd header and read as garbage."""
    import json

    import zarr
    from numcodecs import Zstd

    monkeypatch.setattr(mg, "TIME_CHUNK", 4096)
    monkeypatch.setattr(mg, "STAGE_ROWS", 3000)
    rng = np.random.default_rng(3)
    first, later = _frame(8192, 10**9, rng), _frame(6000, 10**9 + 9000, rng)
    store = tmp_path / "s.zarr"
    mg.stream_merge(None, _staged(tmp_path / "st1", first), store, {"provenance": "[]"})
    group = zarr.open_group(str(store / "goes"), mode="r+", zarr_format=2, use_consolidated=False)
    for c in mg.COLUMNS:  # the store as another zarr default would have written it
        values, attrs = group[c][:], dict(group[c].attrs)
        del group[c]
        array = group.create_array(c, shape=values.shape, chunks=(4096,), dtype=values.dtype, compressor=Zstd(level=1),
                                   fill_value=np.nan if values.dtype.kind == "f" else None, attributes=attrs)
        array[:] = values
    staged = _staged(tmp_path / "st2", later)
    assert not mg.appends(mg.Stored(store / "goes"), staged)
    root = tmp_path / "new"
    mg.stream_merge(store / "goes", staged, root, {"provenance": "[]"})
    ds = read_goes(root).load()
    assert json.loads((root / "goes" / "xrsb" / ".zarray").read_text())["compressor"]["id"] == "blosc"  # rewritten
    both = pd.concat([first, later], ignore_index=True)
    np.testing.assert_array_equal(ds["xrsb"].values, both["xrsb"].to_numpy())
    np.testing.assert_array_equal(ds["time"].values, both["time"].to_numpy())


def _staged(directory, frame) -> mg.Stager:
    stager = mg.Stager(directory)
    stager.add(frame)
    return stager
