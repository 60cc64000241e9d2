"""SHARP keyword CSV reader: TAI to UTC through astropy, region lists, refusals."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from flarecast.errors import InputFileError
from flarecast.ingest.readers import read_file

REAL = Path(
    os.environ.get("FLARECAST_REAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "real")
)
HEADER = "T_REC,HARPNUM,NOAA_ARS,USFLUX,AREA,MEANGBZ,R_VALUE\n"


@pytest.fixture
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real data folder {REAL} is absent (set FLARECAST_REAL_DATA); see PROVENANCE.md")
    return REAL


def test_real_fold0(real):
    res = read_file(real / "sharp/sharp_keywords_fold0.csv", "sharp")
    data = res.data
    assert res.reader == "jsoc-sharp-csv"
    assert res.rows_read == len(data) == 21701
    first = data.iloc[0]
    assert first["harpnum"] == 3330 and first["noaa_ars"] == "11887"
    assert first["time"] == np.datetime64("2013-10-31T23:59:25")  # 2013.11.01_00:00:00_TAI, TAI-UTC = 35 s
    assert first["USFLUX"] == pytest.approx(3.485787e21)
    assert (data["noaa_ars"] == "11442,11443,11444").any()
    assert data["harpnum"].dtype == np.int32


@pytest.mark.parametrize(
    ("t_rec", "utc"),
    [
        ("2010.12.31_00:00:00_TAI", "2010-12-30T23:59:26"),  # 34 s
        ("2016.12.31_23:59:59_TAI", "2016-12-31T23:59:23"),  # 36 s before the leap second
        ("2018.06.01_12:00:00_TAI", "2018-06-01T11:59:23"),  # 37 s
    ],
)
def test_tai_offset_follows_leap_seconds(tmp_path, t_rec, utc):
    path = tmp_path / "sharp.csv"
    path.write_text(HEADER + f"{t_rec},7000,12000,1e21,100,20,3\n")
    assert read_file(path, "sharp").data["time"].iloc[0] == np.datetime64(utc)


def test_missing_keyword_counted(tmp_path):
    path = tmp_path / "sharp.csv"
    path.write_text(
        HEADER + "2018.06.01_12:00:00_TAI,7000,,1e21,,20,3\n2018.06.01_13:36:00_TAI,7000,,1e21,5,20,3\n"
    )
    res = read_file(path, "sharp")
    assert res.masked == {"AREA:missing": 1}
    assert list(res.data["noaa_ars"]) == ["", ""]


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ("2018-06-01 12:00:00,7000,12000,1e21,100,20,3", r"line 2: T_REC '2018-06-01 12:00:00'"),
        ("2018.06.01_12:00:00_TAI,seven,12000,1e21,100,20,3", "line 2: HARPNUM 'seven'"),
        ("2018.06.01_12:00:00_TAI,7000,12000,1e21,big,20,3", "line 2: AREA = 'big'"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, row, match):
    path = tmp_path / "sharp.csv"
    path.write_text(HEADER + row + "\n")
    with pytest.raises(InputFileError, match=match) as err:
        read_file(path, "sharp")
    assert "sharp.csv" in str(err.value)


def test_duplicate_record_refused(tmp_path):
    path = tmp_path / "sharp.csv"
    row = "2018.06.01_12:00:00_TAI,7000,12000,1e21,100,20,3\n"
    path.write_text(HEADER + row + row)
    with pytest.raises(InputFileError, match="line 3: HARP 7000 .* duplicated"):
        read_file(path, "sharp")
