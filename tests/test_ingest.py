"""ingest(): real files into a store, idempotency, satellite priority, catalogue matching, bad files."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import flarecast.ingest.pipeline as ingest_mod
import flarecast.ingest.store as store_mod
from flarecast.errors import ConfigError, InputFileError
from flarecast.ingest.pipeline import IngestWarning, ingest
from flarecast.ingest.store import read_events, read_goes, read_sharp

REAL = Path(
    os.environ.get("FLARECAST_REAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "real")
)
G16 = [f"goes/sci_xrsf-l2-avg1m_g16_d201709{d:02d}_v2-2-0.nc" for d in (4, 5, 6, 7, 8)]


@pytest.fixture
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real data folder {REAL} is absent (set FLARECAST_REAL_DATA); see PROVENANCE.md")
    return REAL


def tree_digest(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in path.rglob("*")
        if p.is_file()
    }


def test_goes16_days_into_store(real, tmp_path):
    store = tmp_path / "s.zarr"
    calls = []
    report = ingest("goes", [real / f for f in G16[:3]], store=store, progress=calls.append)
    assert calls == [1, 1, 1]
    assert report.rows_added == 3 * 1440
    ds = read_goes(store)
    t = ds["time"].values
    assert t.dtype == np.dtype("datetime64[ns]") and np.all(np.diff(t) > np.timedelta64(0))
    assert float(ds["xrsb"].max()) == pytest.approx(1.47e-3, rel=0.01)
    assert ds.attrs["flux_basis"] == "true" and ds.attrs["units"] == "W m-2"
    prov = json.loads(ds.attrs["provenance"])
    assert [p["file"] for p in prov] == [Path(f).name for f in G16[:3]]
    assert {"sha256", "reader", "flarecast_version", "rows"} <= set(prov[0])
    for bit, reason in ((1, "missing"), (2, "quality")):
        reported = sum(f.masked.get(f"xrsb:{reason}", 0) for f in report.files)
        assert reported > 0 and int(((ds["xrsb_mask"].values & bit) > 0).sum()) == reported
    json.dumps(report.to_dict())  # --json must serialise


def test_same_files_twice_change_nothing(real, tmp_path):
    store = tmp_path / "s.zarr"
    ingest("goes", [real / G16[0]], store=store)
    before = tree_digest(store)
    again = ingest("goes", [real / G16[0]], store=store)
    assert again.rows_added == 0 and again.files[0].note.startswith("already in store")
    assert tree_digest(store) == before


def test_overlapping_copy_adds_no_rows(real, tmp_path):
    store = tmp_path / "s.zarr"
    ingest("goes", [real / G16[0]], store=store)
    copy = tmp_path / "renamed_g16.nc"  # same bytes, other name: caught by sha256
    shutil.copyfile(real / G16[0], copy)
    assert ingest("goes", [copy], store=store).rows_added == 0


def test_satellite_priority_and_gap_filling(real, tmp_path):
    store = tmp_path / "s.zarr"
    report = ingest(
        "goes",
        [real / "goes/g13_xrs_1m_20170701_20170731.nc", real / "goes/g15_xrs_1m_20170701_20170731.nc"],
        store=store,
    )
    ds = read_goes(store)
    sat = ds["satellite"].values
    assert ds.sizes["time"] == 31 * 1440
    g13, g15 = report.files
    assert g15.rows_added + g13.rows_added == 31 * 1440
    assert g15.rows_added > 0.99 * 31 * 1440  # GOES-15 wins wherever its XRS-B is usable
    assert (sat == 13).sum() == g13.rows_added  # GOES-13 only fills GOES-15's masked minutes
    assert np.all(ds["xrsb_mask"].values[sat == 13] == 0)


def test_skip_bad_records_and_continues(real, tmp_path):
    bad = tmp_path / "sci_xrsf-l2-avg1m_g16_d20170909_v2-2-0.nc"
    bad.write_bytes((real / G16[0]).read_bytes()[:50_000])
    store = tmp_path / "s.zarr"
    report = ingest("goes", [real / G16[0], bad], store=store, skip_bad=True)
    assert report.rows_added == 1440
    assert [p for p, _ in report.skipped] == [str(bad)] and bad.name in report.skipped[0][1]


def test_bad_file_writes_nothing(real, tmp_path):
    store = tmp_path / "s.zarr"
    ingest("goes", [real / G16[0]], store=store)
    before = tree_digest(store)
    empty = tmp_path / "empty.nc"
    empty.touch()
    with pytest.raises(InputFileError, match="empty.nc"):
        ingest("goes", [real / G16[1], empty], store=store)
    assert tree_digest(store) == before


def test_missing_path_and_bad_kind(tmp_path):
    with pytest.raises(InputFileError, match="nothing_here"):
        ingest("goes", [tmp_path / "nothing_here*.nc"], store=tmp_path / "s.zarr")
    with pytest.raises(ConfigError, match=r"kind 'flares' is not one of \['goes', 'events', 'sharp', 'regions'\]"):
        ingest("flares", [], store=tmp_path / "s.zarr")


def test_write_failure_leaves_store_unchanged(real, tmp_path, monkeypatch):
    store = tmp_path / "s.zarr"
    ingest("goes", [real / G16[0]], store=store)
    before = tree_digest(store)

    def boom(*args, **kwargs):
        raise RuntimeError("injected")

    monkeypatch.setattr(store_mod, "_swap", boom)
    with pytest.raises(RuntimeError, match="injected"):
        ingest("goes", [real / G16[1]], store=store)
    assert tree_digest(store) == before


def test_leap_second_warns_through_ingest(tmp_path):
    from sunpy.data.test import get_test_filepath

    with pytest.warns(
        IngestWarning, match=r"goes_13_leap_second.nc: spans the leap second 2015-06-30 23:59:60"
    ):
        report = ingest("goes", [get_test_filepath("goes_13_leap_second.nc")], store=tmp_path / "s.zarr")
    assert report.rows_added == 100 and len(report.warnings) == 1


def test_parallel_reading_matches_serial(real, tmp_path, monkeypatch):
    files = [real / f for f in G16]
    serial = ingest("goes", files, store=tmp_path / "a.zarr")
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(ingest_mod, "PARALLEL_MIN_BYTES", 0)
    parallel = ingest("goes", files, store=tmp_path / "b.zarr")
    assert parallel.rows_added == serial.rows_added == 5 * 1440
    assert read_goes(tmp_path / "a.zarr").equals(read_goes(tmp_path / "b.zarr"))


def test_catalogues_merge_into_one_event_per_flare(real, tmp_path):
    store = tmp_path / "s.zarr"
    swpc = ingest("events", [real / "events/swpc_edited/2011/20110215events.txt"], store=store)
    ngdc = ingest("events", [real / "events/ngdc/goes-xrs-report_2011.txt"], store=store)
    ev = read_events(store)
    assert ngdc.files[0].duplicates_skipped == swpc.rows_added == 8
    assert ev.sizes["event"] == ngdc.files[0].rows_read  # NGDC 2011 holds every SWPC flare of 02-15
    peak = ev["peak"].values
    assert np.all(np.diff(peak) >= np.timedelta64(0))
    x = ev.where(ev["goes_class"] == "X2.2", drop=True)
    assert str(x["source"].values[0]) == (
        "swpc-edited-events:20110215events.txt;ngdc-xrs-report:goes-xrs-report_2011.txt"
    )
    assert int(x["noaa_ar"].values[0]) == 11158


def test_sharp_ingest_sorted_and_idempotent(real, tmp_path):
    store = tmp_path / "s.zarr"
    first = ingest("sharp", [real / "sharp/sharp_keywords_fold0.csv"], store=store)
    ds = read_sharp(store)
    assert first.rows_added == ds.sizes["record"] == 21701
    key = ds["harpnum"].values.astype(np.int64) * 10**12 + ds["time"].values.astype(np.int64) // 10**9
    assert np.all(np.diff(key) > 0)
    assert ds["USFLUX"].attrs["units"] == "Mx"
    assert ingest("sharp", [real / "sharp/sharp_keywords_fold0.csv"], store=store).rows_added == 0


def test_goes16_preferred_over_goes15_where_usable(real, tmp_path):
    store = tmp_path / "s.zarr"
    ingest("goes", [real / "goes/g15_xrs_1m_20170901_20170930.csv.bz2"], store=store)
    report = ingest("goes", [real / G16[2]], store=store)
    ds = read_goes(store).sel(time=slice("2017-09-06", "2017-09-06T23:59"))
    assert read_goes(store).sizes["time"] == 30 * 1440  # same minute grid: no row added beside GOES-15's
    sat, mask = ds["satellite"].values, ds["xrsb_mask"].values
    assert report.files[0].rows_added == int((sat == 16).sum()) > 1300
    assert report.files[0].rows_replaced == report.files[0].rows_added  # each took a GOES-15 row's place
    assert np.all(mask[sat == 15] == 0)  # GOES-15 kept only where it is usable...
    assert float(ds["xrsb"].max()) == pytest.approx(1.47e-3, rel=0.01)  # ...and the X9.3 peak is GOES-16's


def test_events_skip_bad_file(real, tmp_path):
    bad = tmp_path / "20110216events.txt"
    text = (real / "events/swpc_edited/2011/20110215events.txt").read_text().replace("X2.2", "Z2.2")
    bad.write_text(text)
    report = ingest(
        "events",
        [real / "events/swpc_edited/2011/20110215events.txt", bad],
        store=tmp_path / "s.zarr",
        skip_bad=True,
    )
    # The bad row is left out and named; the rest of the file is read (its other rows equal the first file's).
    assert not report.skipped and any("line 25" in w and "Z2.2" in w for w in report.warnings)
    assert report.files[1].ignored == {"other_event_rows": 75, "bad_rows": 1}
    assert report.rows_added == 8


# --- the command line: one line naming the file, non-zero exit, store unchanged; --skip-bad; --json ---


def test_cli_bad_file_one_line_nonzero_exit_store_unchanged(real, tmp_path):
    from typer.testing import CliRunner

    from flarecast.cli import app

    store = tmp_path / "s.zarr"
    ingest("goes", [real / G16[0]], store=store)
    before = tree_digest(store)
    bad = tmp_path / "sci_xrsf-l2-avg1m_g16_d20170909_v2-2-0.nc"
    bad.write_bytes((real / G16[1]).read_bytes()[:200_000])
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", "goes", str(real / G16[1]), str(bad), "--store", str(store)])
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and bad.name in lines[0], result.output
    assert "Traceback" not in result.output and tree_digest(store) == before
    result = runner.invoke(
        app, ["ingest", "goes", str(real / G16[1]), str(bad), "--store", str(store), "--skip-bad", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [Path(p).name for p, _ in out["skipped"]] == [bad.name] and out["rows_added"] == 1440
    f = out["files"][0]
    assert f["rows_read"] == 1440 and f["rows_added"] == 1440 and f["duplicates_skipped"] == 0
    assert f["masked"] == {"xrsa:missing": 40, "xrsa:quality": 59, "xrsb:missing": 40, "xrsb:quality": 59}
    assert f["time_range"] == ["2017-09-05 00:00:00", "2017-09-05 23:59:00"]


def test_reading_workers_and_a_local_ingest_import_only_what_they_use(tmp_path):
    """A spawned reading worker imports ``flarecast.ingest.readers`` (what ``read_or_error`` needs): none of dask,
    zarr, xarray, astropy, scipy (~0.8 s CPU a worker). An ingest that runs no dask tasks (SHARP here; GOES files
    appended in order) never imports distributed just to ask for a cluster (~0.5 s)."""
    import subprocess
    import sys

    sharp = tmp_path / "sharp.csv"
    sharp.write_text("T_REC,HARPNUM,NOAA_ARS,USFLUX\n2013.11.01_00:00:00_TAI,3330,11887,3.4e21\n")
    code = (
        "import sys\n"
        "from flarecast.ingest.readers import read_or_error\n"
        "heavy = ('dask', 'zarr', 'xarray', 'astropy.units', 'astropy.time', 'scipy.io', 'distributed')\n"
        "print([m for m in heavy if m in sys.modules])\n"
        "from flarecast.ingest import ingest\n"
        f"assert ingest('sharp', [{str(sharp)!r}], store={str(tmp_path / 's.zarr')!r}).rows_added == 1\n"
        "print('distributed' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert out.stdout.split("\n")[:2] == ["[]", "False"]
