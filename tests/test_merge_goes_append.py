"""The append path of the streaming GOES merge: staged chunks adopted by hard link give the very store (values,
chunk files, metadata) the merge path writes, and it is taken only when the rows simply follow each other.
Also: files read in overlapping waves of worker processes come back in order."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import flarecast.ingest.merge_goes as mg
import flarecast.ingest.pipeline as pipeline
from flarecast.ingest.pipeline import ingest
from flarecast.simulate.generate import simulate
from tests.test_merge_goes import assert_same_goes


@pytest.fixture(scope="module")
def days8(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("sim8")
    simulate(out, days=8, seed=2, start="2019-03-01")
    return sorted((out / "goes").iterdir())


@pytest.fixture
def tiny(monkeypatch):
    """Stage past 3000 rows (two 1440-row days) and chunk by 4096, so eight daily files spill and adopt."""
    monkeypatch.setattr(mg, "STAGE_ROWS", 3000)
    monkeypatch.setattr(mg, "UNIT_ROWS", 5000)
    monkeypatch.setattr(mg, "TIME_CHUNK", 4096)


@pytest.fixture
def adopted(monkeypatch) -> list[int]:
    """Counts the ingests that took the append path."""
    calls: list[int] = []
    real = mg._adopt_staged

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(mg, "_adopt_staged", spy)
    return calls


def _files(store: Path) -> dict[str, bytes]:
    root = store / "goes"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != ".zattrs"}  # .zattrs differ only in provenance (other store, other run)


def _ingest_merged(files, store: Path, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(mg, "appends", lambda stored, staged: False)
        return ingest("goes", files, store=store)


def test_adopted_chunks_are_byte_for_byte_the_merged_ones(days8, tmp_path, tiny, adopted, monkeypatch):
    a = ingest("goes", days8, store=tmp_path / "a.zarr")
    assert adopted == [1]
    b = _ingest_merged(days8, tmp_path / "b.zarr", monkeypatch)
    assert adopted == [1]
    assert [f.rows_added for f in a.files] == [f.rows_added for f in b.files] == [1440] * 8
    assert_same_goes(tmp_path / "a.zarr", tmp_path / "b.zarr")
    files = _files(tmp_path / "a.zarr")
    assert files == _files(tmp_path / "b.zarr")
    assert sum(name.startswith("xrsb/") and name[5:].isdigit() for name in files) == -(-8 * 1440 // 4096)


def test_files_out_of_time_order_are_merged_and_give_the_same_store(days8, tmp_path, tiny, adopted):
    ingest("goes", days8, store=tmp_path / "sorted.zarr")
    ingest("goes", days8[::-1], store=tmp_path / "reversed.zarr")
    assert adopted == [1]  # the reversed list is not in order: merged, not adopted
    assert_same_goes(tmp_path / "sorted.zarr", tmp_path / "reversed.zarr")


def test_append_after_a_whole_chunk_shares_the_store_and_adopts_the_rest(days8, tmp_path, monkeypatch, adopted):
    monkeypatch.setattr(mg, "STAGE_ROWS", 3000)
    monkeypatch.setattr(mg, "TIME_CHUNK", 1440)  # a day a chunk: three stored days end on a chunk boundary
    store = tmp_path / "s.zarr"
    ingest("goes", days8[:3], store=store)
    first_chunk = (store / "goes" / "xrsb" / "0").stat().st_ino
    report = ingest("goes", days8[3:], store=store)
    assert adopted == [1, 1] and report.rows_added == 5 * 1440
    assert (store / "goes" / "xrsb" / "0").stat().st_ino == first_chunk  # shared, not rewritten
    ingest("goes", days8, store=tmp_path / "one.zarr")
    assert_same_goes(store, tmp_path / "one.zarr")


def test_append_after_a_partial_chunk_or_into_stored_days_takes_the_merge_path(days8, tmp_path, tiny, adopted):
    store = tmp_path / "s.zarr"
    ingest("goes", days8[:3], store=store)  # 4320 rows: one whole 4096-row chunk and a partial one
    assert adopted == [1]
    ingest("goes", days8[3:], store=store)
    ingest("goes", days8[1:5], store=store)  # already stored: skipped by checksum, nothing to stage
    assert adopted == [1]
    ingest("goes", days8, store=tmp_path / "one.zarr")
    assert_same_goes(store, tmp_path / "one.zarr")


def test_worker_waves_in_flight_keep_file_order(days8, tmp_path, tiny, monkeypatch):
    serial = ingest("goes", days8, store=tmp_path / "serial.zarr")
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(pipeline, "READ_WAVE", 1)  # waves of one file per worker: eight files, several waves
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    ticks: list[int] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", pipeline.IngestWarning)  # a failed pool would fall back with a warning
        parallel = ingest("goes", days8, store=tmp_path / "parallel.zarr", progress=ticks.append)
    assert [f.path for f in parallel.files] == [f.path for f in serial.files] == [str(p) for p in days8]
    assert [f.time_range for f in parallel.files] == [f.time_range for f in serial.files]
    assert len(ticks) == 8
    assert_same_goes(tmp_path / "serial.zarr", tmp_path / "parallel.zarr")
