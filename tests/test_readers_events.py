"""Flare catalogue readers: SWPC edited events and NGDC reports on real files, and their row parsers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flarecast.errors import InputFileError
from flarecast.ingest.readers import find_reader, read_file
from flarecast.ingest.readers.events import NgdcXrsReport, SwpcEditedEvents, full_ar

REAL = Path(
    os.environ.get("FLARECAST_REAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "real")
)

SWPC_HEADER = """:Product: 20110215events.txt
:Created: 2011 Feb 18 0332 UT
:Date: 2011 02 15
# Prepared by the U.S. Dept. of Commerce, NOAA, Space Weather Prediction Center
#
#Event    Begin    Max       End  Obs  Q  Type  Loc/Frq   Particulars       Reg#
#-------------------------------------------------------------------------------
"""


@pytest.fixture
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real data folder {REAL} is absent (set FLARECAST_REAL_DATA); see PROVENANCE.md")
    return REAL


def test_swpc_edited_x22_region_and_basis(real):
    res = read_file(real / "events/swpc_edited/2011/20110215events.txt", "events")
    assert res.reader == "swpc-edited-events"
    x = res.data[res.data["goes_class"] == "X2.2"].iloc[0]
    assert x["noaa_ar"] == 11158  # written "1158"
    assert str(x["peak"]) == "2011-02-15 01:56:00"
    assert x["class_basis"] == "swpc"
    assert x["peak_flux"] == pytest.approx(2.2e-4 / 0.7)
    assert res.rows_read == 8  # the file's eight XRA rows, nothing else


def test_swpc_missing_max_and_midnight_rollover(real):
    res = read_file(real / "events/swpc_edited/2011/20110411events.txt", "events")
    last = res.data.iloc[-1]  # 2340 //// 0003: ends after midnight, max not timed
    assert str(last["end"]) == "2011-04-12 00:03:00"
    assert str(last["peak"]) == "2011-04-11 23:51:30"
    assert res.masked == {"peak_estimated": 1}


def test_swpc_qualified_times(real):
    res = read_file(real / "events/swpc_edited/2011/20110220events.txt", "events")
    first = res.data.sort_values("start").iloc[0]  # A0046 U0123 A0145
    assert (str(first["start"]), str(first["peak"]), str(first["end"])) == (
        "2011-02-20 00:46:00",
        "2011-02-20 01:23:00",
        "2011-02-20 01:45:00",
    )


def test_ngdc_x280_is_x28_scaled(real):
    res = read_file(real / "events/ngdc/goes-xrs-report_2003.txt", "events")
    assert res.reader == "ngdc-xrs-report"
    x = res.data[res.data["goes_class"] == "X28.0"].iloc[0]
    assert str(x["peak"]) == "2003-11-04 19:50:00"
    assert x["peak_flux"] == pytest.approx(2.8e-3 / 0.7)
    assert x["noaa_ar"] == 10486


def test_ngdc_rows_without_class_are_kept_and_counted(real):
    res = read_file(real / "events/ngdc/goes-xrs-report_1993.txt", "events")
    lines = [
        s
        for s in (real / "events/ngdc/goes-xrs-report_1993.txt").read_text().splitlines()
        if s.strip(" \x1a")
    ]
    assert res.rows_read == len(lines)
    assert res.masked["no_class"] == int((res.data["goes_class"] == "").sum()) > 0
    assert res.data.loc[res.data["goes_class"] == "", "peak_flux"].isna().all()


def test_ngdc_hour_past_24_rolls_over(real):
    res = read_file(real / "events/ngdc/goes-xrs-report_1990.txt", "events")
    row = res.data[(res.data["start"] == np.datetime64("1990-07-25T22:23"))].iloc[0]  # 2223E2529D2324
    assert str(row["end"]) == "1990-07-26 01:29:00"


def test_unknown_class_names_file_and_line(tmp_path):
    path = tmp_path / "20110215events.txt"
    row = "6860       0031   0038      0048  G15  5   XRA  1-8A      Q2.7    1.7E-03       "
    path.write_text(SWPC_HEADER + "\n" + row + "\n")
    with pytest.raises(InputFileError, match=r"20110215events.txt: line 9: flare class 'Q2.7'"):
        read_file(path, "events")


def test_empty_events_file_is_refused(tmp_path):
    path = tmp_path / "20110215events.txt"
    path.write_text("")
    with pytest.raises(InputFileError, match="empty"):
        find_reader(path, "events")


@pytest.mark.parametrize(
    ("number", "day", "full"),
    [
        (1158, "2011-02-15", 11158),
        (2192, "2014-10-24", 12192),
        (9393, "2001-03-29", 9393),
        (11158, "2011-02-15", 11158),
        (9997, "2002-06-23", 9997),
        (1, "2002-06-14", 10001),
        (19393, "2001-04-02", 9393),
    ],
)
def test_full_ar(number, day, full):
    assert full_ar(number, np.datetime64(day, "ns")) == full


_hhmm = st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda t: f"{t[0]:02d}{t[1]:02d}")
_class = st.tuples(st.sampled_from("ABCMX"), st.integers(1, 99)).map(lambda t: (t[0], t[1]))


@settings(max_examples=60, deadline=None)
@given(
    begin=_hhmm,
    dur=st.integers(0, 600),
    rise=st.integers(0, 600),
    cls=_class,
    region=st.integers(0, 8999),
    sat=st.sampled_from(["G13", "G15", "G16", "G18"]),
)
def test_swpc_row_round_trip(tmp_path_factory, begin, dur, rise, cls, region, sat):
    rise = min(rise, dur)
    day = np.datetime64("2015-03-01T00:00", "m")
    t0 = day + np.timedelta64(int(begin[:2]) * 60 + int(begin[2:]), "m")
    tp, t1 = t0 + np.timedelta64(rise, "m"), t0 + np.timedelta64(dur, "m")
    fmt = lambda t: str(t)[11:16].replace(":", "")  # noqa: E731
    text = f"{cls[0]}{cls[1] // 10}.{cls[1] % 10}" if cls[1] >= 10 else f"{cls[0]}0.{cls[1]}"
    reg = f"{region:4d}" if region else "    "
    row = (
        f"1234 +     {fmt(t0)}   {fmt(tp)}      {fmt(t1)}  {sat}  5   XRA  1-8A      {text:<8}1.7E-03   {reg}"
    )
    path = tmp_path_factory.mktemp("swpc") / "20150301events.txt"
    path.write_text(SWPC_HEADER.replace("2011 02 15", "2015 03 01") + row + "\n")
    out = SwpcEditedEvents.read(path).data.iloc[0]
    assert (out["start"], out["peak"], out["end"]) == (t0, tp, t1)
    basis_scale = 1.0 if sat in ("G16", "G18") else 0.7
    letter_flux = {"A": 1e-8, "B": 1e-7, "C": 1e-6, "M": 1e-5, "X": 1e-4}[cls[0]]
    assert out["peak_flux"] == pytest.approx(cls[1] / 10 * letter_flux / basis_scale, rel=1e-6)
    assert out["noaa_ar"] == (region + 10000 if region else 0)


@settings(max_examples=60, deadline=None)
@given(begin=_hhmm, dur=st.integers(0, 300), cls=_class, region=st.integers(0, 9999))
def test_ngdc_row_round_trip(tmp_path_factory, begin, dur, cls, region):
    t0 = np.datetime64("1999-12-31T00:00", "m") + np.timedelta64(int(begin[:2]) * 60 + int(begin[2:]), "m")
    t1 = t0 + np.timedelta64(dur, "m")
    tp = t0 + np.timedelta64(dur // 3, "m")
    fmt = lambda t: str(t)[11:16].replace(":", "")  # noqa: E731
    row = f"31777991231  {fmt(t0)} {fmt(t1)} {fmt(tp)}".ljust(59) + f"{cls[0]}{cls[1]:3d}    GOES".ljust(21)
    row += f"{region:5d}" if region else ""
    path = tmp_path_factory.mktemp("ngdc") / "goes-xrs-report_1999.txt"
    path.write_text(row + "\n")
    assert NgdcXrsReport.can_read(path)
    out = NgdcXrsReport.read(path).data.iloc[0]
    assert (out["start"], out["peak"], out["end"]) == (t0, tp, t1)
    letter_flux = {"A": 1e-8, "B": 1e-7, "C": 1e-6, "M": 1e-5, "X": 1e-4}[cls[0]]
    assert out["peak_flux"] == pytest.approx(cls[1] / 10 * letter_flux / 0.7, rel=1e-6)
    assert out["goes_class"] == f"{cls[0]}{cls[1] / 10:.1f}"
    assert out["noaa_ar"] == region  # 1999: four digits are the whole number


# --- tables ----------------------------------------------------------------------------------------


def test_swpc_flarelist_old_layout(real):
    res = read_file(real / "events/swpc_flarelists/swpc_flarelist_19960731_20181231.csv", "events")
    data = res.data
    assert res.reader == "swpc-flarelist-csv"
    assert res.masked["peak_estimated"] == 14  # '////' max times
    assert (data["class_basis"] == "swpc").all()
    comma = data[(data["peak"] > "1999-05-27 15:00") & (data["peak"] < "1999-05-27 16:00")]
    assert list(comma["goes_class"]) == ["C6.2"]  # written "C6,2"
    x20 = data.loc[data["peak_flux"].idxmax()]
    assert (str(x20["peak"]), x20["noaa_ar"]) == ("2001-04-02 21:51:00", 9393)


def test_swpc_flarelist_new_layout_basis_by_satellite(real):
    data = read_file(real / "events/swpc_flarelists/swpc_flarelist_20100101-20210810.csv", "events").data
    g16 = data[data["peak"] >= "2020-05-01"]
    assert len(g16) > 0 and (g16["class_basis"] == "true").all()
    m11 = g16[g16["goes_class"] == "M1.1"].iloc[0]
    assert m11["peak_flux"] == pytest.approx(1.1e-5)  # true basis: no division
    x93 = data[data["goes_class"] == "X9.3"].iloc[0]
    assert (str(x93["peak"]), x93["noaa_ar"], x93["class_basis"]) == ("2017-09-06 12:02:00", 12673, "swpc")


def test_hek_zero_class_is_no_class(real):
    res = read_file(real / "events/hek_goes_2010_2019.csv", "events")
    assert res.reader == "hek-csv" and res.masked == {"no_class": 1}
    x = res.data[res.data["goes_class"] == "X9.3"].iloc[0]
    assert x["peak_flux"] == pytest.approx(9.3e-4 / 0.7) and x["noaa_ar"] == 12673


def test_solarflarenet_csv_impossible_times_refused_or_skipped(real):
    path = real / "events/solar_events_1996_2022.csv"
    with pytest.raises(InputFileError, match=r"line 38086: Start Time '2020-04-09T00:91Z' is not a date"):
        read_file(path, "events")
    res = read_file(path, "events", skip_bad=True)
    assert res.reader == "plain-events-csv"
    assert res.ignored == {"bad_rows": 3} and len(res.data) == 43084 - 3
    assert [w.split(":")[1].strip() for w in res.warnings[:3]] == ["line 38086", "line 38094", "line 38102"]
    assert res.masked["class_uncertain"] == 3  # bare "C" rows kept without a flux
    assert res.rows_read == 43084
    x20 = res.data[res.data["peak"] == np.datetime64("2001-04-02T21:51")].iloc[0]
    assert x20["noaa_ar"] == 9393  # the file says 19393 in 2001


@pytest.mark.parametrize(
    ("name", "reader", "rows"),
    [
        ("sci_xrsf-l2-flsum_g16_d20170906_v2-2-0.nc", "goes-flsum-nc", 11),
        ("goes16_flare_summary_2017_2024.csv", "goes-flsum-csv", 9940),
    ],
)
def test_goes16_flare_summary_x93_is_x146_true(real, name, reader, rows):
    res = read_file(real / "events" / name, "events")
    assert (res.reader, res.rows_read) == (reader, rows)
    big = res.data[res.data["peak"] == np.datetime64("2017-09-06T12:02")].iloc[0]
    assert (big["goes_class"], big["class_basis"], big["noaa_ar"]) == ("X14.6", "true", 0)
    assert big["peak_flux"] == pytest.approx(1.46e-3)
    assert str(big["start"]) == "2017-09-06 11:52:00" and str(big["end"]) == "2017-09-06 12:11:00"


def test_plain_events_csv_with_basis(tmp_path):
    path = tmp_path / "flares.csv"
    path.write_text(
        "class,start,peak,end,noaa_ar\nM1.0,2011-02-15 01:44,2011-02-15 01:56,2011-02-15 02:06,1158\n"
        "C2.0,2021-01-01 23:50,2021-01-01 23:58,2021-01-01 00:10,\n"
    )
    res = read_file(path, "events", basis="true")
    assert list(res.data["peak_flux"]) == pytest.approx([1e-5, 2e-6])
    assert list(res.data["noaa_ar"]) == [11158, 0]
    assert str(res.data["end"].iloc[1]) == "2021-01-02 00:10:00"  # end before start: crossed midnight
    by_date = read_file(path, "events")
    assert list(by_date.data["class_basis"]) == ["swpc", "true"] and by_date.warnings


# --- every line of the real catalogues accounted for -------------------------------------------------


def test_ngdc_reports_1990_2017_every_line_accounted_for(real):
    # for f in goes-xrs-report_*.txt; do grep -c '' $f; grep -cE '^[0-9]{11}  ' $f; done | paste - - | awk
    #   '{t+=$1; r+=$2} END {print t, r}'  ->  51009 lines, 51002 records; the other 7 lines are six DOS
    # end-of-file marks (Ctrl-Z) ending 2003, 2005, 2007-2010 and one blank line (2006, line 689).
    results = [
        read_file(p, "events") for p in sorted((real / "events" / "ngdc").glob("goes-xrs-report_*.txt"))
    ]
    assert len(results) == 28 and {r.reader for r in results} == {"ngdc-xrs-report"}
    assert sum(r.rows_read for r in results) == 51002
    assert sum(r.ignored.get("blank_lines", 0) for r in results) == 7
    assert all(set(r.ignored) <= {"blank_lines"} for r in results)


# Counted by hand: awk 'substr($0,60,1)=="X"' goes-xrs-report_YYYY.txt | wc -l  (class letter at column 60)
NGDC_X_PER_YEAR = {1991: 54, 2001: 21, 2003: 20, 2005: 18, 2011: 8, 2012: 7, 2014: 16}


@pytest.mark.parametrize(("year", "n_x"), NGDC_X_PER_YEAR.items())
def test_ngdc_x_class_counts_match_hand_counts(real, year, n_x):
    data = read_file(real / f"events/ngdc/goes-xrs-report_{year}.txt", "events").data
    x = data[data["goes_class"].str.startswith("X")]
    assert len(x) == n_x
    assert (x["peak_flux"] >= 1e-4 / 0.7).all()  # SWPC-scaled X1.0 and above, on the true basis


def test_swpc_edited_events_every_data_row_accounted_for(real):
    res = read_file(real / "events/swpc_edited/2011/20110215events.txt", "events")
    # grep -cvE '^(:|#|\s*$)' 20110215events.txt -> 83 event rows; grep -c ' XRA ' -> 8 flares
    assert res.rows_read == 8 and res.ignored == {"other_event_rows": 75}
