"""The embedded real sample data: checksums, the shared originals, reading through the normal readers, packaging."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flarecast import sample_data
from flarecast.errors import InputFileError
from flarecast.ingest.pipeline import ingest
from flarecast.ingest.readers import read_file
from flarecast.ingest.store import read_events, read_goes

ROOT = Path(__file__).resolve().parents[1]
REAL = Path(
    os.environ.get("FLARECAST_REAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "real")
)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _real(rel: str) -> Path:
    path = REAL.parent.parent / rel if rel.startswith("shared/") else REAL / rel
    if not REAL.is_dir() or not path.is_file():
        pytest.skip(f"real data folder {REAL} is absent (set FLARECAST_REAL_DATA); see PROVENANCE.md")
    return path


def test_every_packaged_file_matches_its_provenance_and_decompresses_to_the_original_bytes():
    entries = sample_data.provenance()
    assert [e["file"] for e in entries] == [p.name for p in sample_data.files()]
    assert {p.name for p in sample_data.files()} >= {sample_data.goes_hourly().name, sample_data.sharp_fold().name,
                                                      *(p.name for p in sample_data.ngdc_reports())}
    for e, path in zip(entries, sample_data.files(), strict=True):
        packed = path.read_bytes()
        assert (len(packed), _sha(packed)) == (e["packaged"]["bytes"], e["packaged"]["sha256"]), e["file"]
        raw = gzip.decompress(packed)
        assert (len(raw), _sha(raw)) == (e["original"]["bytes"], e["original"]["sha256"]), e["file"]
        assert e["source"]["repository"] and len(e["source"]["commit"]) >= 7


def test_the_embedded_data_is_small():
    sizes = {p.name: p.stat().st_size for p in sample_data.files()}
    assert sum(sizes.values()) < 1_000_000  # the issue allows 2 MB for GOES + reports and ~1 MB for SHARP
    assert sizes[sample_data.sharp_fold().name] < 1_000_000


@pytest.mark.parametrize("entry", sample_data.provenance(), ids=lambda e: e["file"])
def test_the_original_is_the_shared_file(entry):
    shared = _real(entry["shared_copy"].removeprefix("shared/data/real/"))
    assert _sha(shared.read_bytes()) == entry["original"]["sha256"]


def test_the_hourly_series_reads_through_the_goes_reader_with_the_shared_values():
    result = read_file(sample_data.goes_hourly(), "goes", basis=sample_data.GOES_BASIS,
                       satellite=sample_data.GOES_SATELLITE)
    df = result.data
    assert result.reader == "goes-plain-csv"
    assert df["time"].iloc[0] == pd.Timestamp("2011-01-01T00:00") and df["time"].iloc[-1] == pd.Timestamp("2013-12-31T23:00")
    # 2011-08-09 08:00: the hour of the X6.9 flare (peak 08:05), SWPC-scaled 6.9e-4 in the file, true = / 0.7.
    row = df[df["time"] == pd.Timestamp("2011-08-09T08:00")]
    assert float(row["xrsb"].iloc[0]) == pytest.approx(6.9e-4 / 0.7, rel=0.03)
    assert (df["satellite"] == 15).all()
    original = pd.read_csv(_real("goes/goes15_xrsb_hourly_max.csv"))
    assert len(df) == len(original) == result.rows_read
    flux = pd.to_numeric(original["xrsb"]).to_numpy() / 0.7
    np.testing.assert_allclose(df["xrsb"].to_numpy(dtype=float), flux, rtol=1e-6, equal_nan=True)
    assert int(np.isnan(flux).sum()) == int((df["xrsb_mask"] != 0).sum())


def test_the_reports_read_through_the_ngdc_reader_as_the_shared_plain_files_do():
    for packed in sample_data.ngdc_reports():
        a = read_file(packed, "events")
        b = read_file(_real(f"events/ngdc/{packed.name.removesuffix('.gz')}"), "events")
        assert a.reader == b.reader == "ngdc-xrs-report"
        pd.testing.assert_frame_equal(a.data, b.data)
        assert a.rows_read == b.rows_read


@pytest.mark.filterwarnings("ignore:.*leap second")
def test_ingesting_the_sample_gives_the_x_flares_of_2011_to_2013(tmp_path):
    store = tmp_path / "store.zarr"
    ingest("goes", [sample_data.goes_hourly()], store=store, basis="swpc", satellite=15)
    ingest("events", sample_data.ngdc_reports(), store=store)
    ev = read_events(store)
    peak = pd.DatetimeIndex(ev["peak"].values)
    x = np.char.startswith(ev["goes_class"].values.astype(str), "X")
    assert peak.min().year == 2010 and peak.max().year == 2013
    # NOAA/NGDC list the X2.2 of 2011-02-15 (AR 11158) first among the cycle-24 X flares; the X6.9 of
    # 2011-08-09 is the largest of the three years.
    first_x = np.flatnonzero(x)[0]
    assert (str(ev["goes_class"].values[first_x]), peak[first_x].strftime("%Y-%m-%d %H:%M"),
            int(ev["noaa_ar"].values[first_x])) == ("X2.2", "2011-02-15 01:56", 11158)
    biggest = int(np.argmax(ev["peak_flux"].values))
    assert str(ev["goes_class"].values[biggest]) == "X6.9" and peak[biggest].strftime("%Y-%m-%d") == "2011-08-09"
    goes = read_goes(store)
    assert goes.sizes["time"] == 1096 * 24 and goes.attrs["flux_basis"] == "true"


def test_a_truncated_gzip_report_is_one_readable_error(tmp_path):
    bad = tmp_path / "goes-xrs-report_2011.txt.gz"
    bad.write_bytes(sample_data.ngdc_reports()[1].read_bytes()[:5000])
    with pytest.raises(InputFileError, match="goes-xrs-report_2011.txt.gz"):
        read_file(bad, "events")


def test_package_data_config_ships_every_sample_file():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["flarecast"]
    shipped = [p.relative_to(ROOT / "flarecast").as_posix() for p in
               [*sample_data.files(), sample_data.HERE / "provenance.json"]]
    for rel in shipped:
        assert any(fnmatch(rel, pattern) for pattern in config), f"{rel} is not matched by package-data {config}"


@pytest.mark.slow
def test_the_built_wheel_holds_the_sample_data(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "flarecast", src / "flarecast", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(src)], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("flarecast-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for e in sample_data.provenance():
        assert f"flarecast/sample_data/{e['file']}" in names
    assert "flarecast/sample_data/provenance.json" in names
