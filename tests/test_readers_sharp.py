"""SHARP keyword CSV reader: TAI to UTC through astropy, region lists, refusals."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

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


def per_row_utc(texts: list[str]) -> tuple[np.ndarray, list[str | None]]:
    """The parser before it was vectorised, kept as the reference: each string checked and converted alone."""
    from astropy.time import Time

    from flarecast.ingest.readers.sharp import _TREC, trec_problem

    problems = [trec_problem(t) for t in texts]
    iso = []
    for text, problem in zip(texts, problems, strict=True):
        if problem is None:
            y, mo, d, hh, mm, ss = _TREC.match(text.strip()).groups()
            iso.append(f"{y}-{mo}-{d}T{hh}:{mm}:{ss}")
    utc = Time(iso, format="isot", scale="tai").utc.to_value("datetime64").astype("datetime64[ns]") if iso else []
    return np.asarray(utc, dtype="datetime64[ns]"), problems


# Around every leap second JSOC's records have met (2010 on), and the days of 1972's first ones.
LEAP_DAYS = ["2012-06-30", "2012-07-01", "2015-06-30", "2015-07-01", "2016-12-31", "2017-01-01", "1972-06-30"]


@st.composite
def trec_strings(draw) -> str:
    """Valid JSOC T_REC strings, most on or next to a leap-second day; some with fractional seconds or spaces."""
    if draw(st.booleans()):
        day = np.datetime64(draw(st.sampled_from(LEAP_DAYS)))
    else:
        day = np.datetime64("1972-01-01") + np.timedelta64(draw(st.integers(0, 365 * 53)), "D")  # to 2024
    y, mo, d = str(day).split("-")
    clock = [draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 60))]
    if draw(st.integers(0, 3)) == 0:  # the last minute of the day, where a leap second falls
        clock[:2] = [23, 59]
    ss = f"{clock[2]:02d}" + draw(st.sampled_from(["", "", "", ".5", ".25", "."]))
    pad = draw(st.sampled_from(["", "", "", " ", "\t"]))
    return f"{pad}{y}.{mo}.{d}_{clock[0]:02d}:{clock[1]:02d}:{ss}_TAI{pad}"


@pytest.mark.filterwarnings("ignore:ERFA function")  # second 60 of a day without a leap second: both parsers alike
@settings(max_examples=60, deadline=None)
@given(st.lists(trec_strings(), min_size=1, max_size=40))
def test_vectorised_trec_parsing_equals_the_per_row_parser_on_valid_strings(texts):
    from flarecast.ingest.readers.sharp import tai_to_utc

    expected, problems = per_row_utc(texts)
    assert problems == [None] * len(texts)
    np.testing.assert_array_equal(tai_to_utc("s.csv", np.array(texts)), expected)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(
    trec_strings(),
    st.from_regex(r"\A[0-9]{4}\.[0-9]{2}\.[0-9]{2}_[0-9]{2}:[0-9]{2}:[0-9]{2}_TAI\Z"),  # any digits: 30 Feb, hour 25
    st.from_regex(r"\A\d{4}\.\d{2}\.\d{2}_\d{2}:\d{2}:\d{2}(\.\d*)?_TA[IX]\s?\Z"),  # Unicode digits too
    st.text(max_size=25),
), min_size=1, max_size=30))
@example(["2013.11.01_00:00:00_TAI\x00", "2013.11.01_00:00:0\x00_TAI", "2013.11.01_00:00:00_TAI", "２013.11.01_00:00:00_TAI"])
def test_vectorised_trec_check_refuses_exactly_what_the_per_row_check_refuses(texts):
    from flarecast.ingest.readers.sharp import trec_iso, trec_problem

    _, ok, inverse = trec_iso(np.array(texts, dtype=object))
    assert ok[inverse].tolist() == [trec_problem(t) is None for t in texts]


def test_vectorised_trec_parsing_equals_the_per_row_parser_on_the_real_files(real):
    from flarecast.ingest.readers.rows import BadRows, read_text, text_table
    from flarecast.ingest.readers.sharp import tai_to_utc

    files = sorted((real / "sharp").glob("sharp_keywords_*.csv"))  # the JSOC exports (T_REC in TAI)
    assert files
    for path in files:
        t_rec = text_table(path, read_text(path), BadRows(path))["T_REC"].tolist()
        expected, problems = per_row_utc(t_rec)
        assert problems == [None] * len(t_rec) and len(t_rec) > 1000
        np.testing.assert_array_equal(tai_to_utc(path, np.array(t_rec)), expected, err_msg=path.name)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="0123456789 ,;\tx\x00１", max_size=14), min_size=1, max_size=30))
def test_noaa_ars_parsed_once_per_text_equals_the_per_row_parser(texts):
    """NOAA_ARS is parsed once per distinct text; the regions and the refused lines are the per-row parser's."""
    import re

    import pandas as pd

    from flarecast.ingest.readers.rows import BadRows
    from flarecast.ingest.readers.sharp import _noaa_ars

    column = pd.Series(texts, index=range(2, len(texts) + 2))
    expected, expected_bad = [], []
    for line, text in zip(column.index, texts, strict=True):  # the parser before, row by row
        nums = [n for n in re.split(r"[,\s;]+", str(text).strip()) if n]
        if any(not n.isdigit() for n in nums):
            expected_bad.append(line)
        expected.append(",".join(str(int(n)) for n in nums if n.isdigit() and int(n) > 0))
    rows = BadRows(Path("s.csv"), skip_bad=True)
    assert _noaa_ars(column, rows).tolist() == expected and rows.lines == expected_bad
