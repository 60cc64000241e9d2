"""NOAA SWPC's solar_probabilities.json read as provider rows: hand-computed rows from two overlapping fetches,
malformed files refused in one line, and the reader's invariants under hypothesis."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flarecast.errors import InputFileError
from flarecast.forecast.providers import forecasters, read_provider
from flarecast.forecast.swpc import COLUMNS, is_swpc_probabilities, read_swpc, write_provider_csv
from flarecast.ingest.fetch.swpc import fetched_at, stamped_name


def record(date: str, c, m, x) -> dict:
    """One record in SWPC's layout and key order (the 2- and 3-day, proton and PCA fields as SWPC writes them)."""
    return {"date": f"{date}T00:00:00", "c_class_1_day": c, "c_class_2_day": c, "c_class_3_day": c,
            "m_class_1_day": m, "m_class_2_day": m, "m_class_3_day": m, "x_class_1_day": x, "x_class_2_day": x,
            "x_class_3_day": x, "10mev_protons_1_day": 1, "10mev_protons_2_day": 1, "10mev_protons_3_day": 1,
            "polar_cap_absorption": "green"}


def write_fetch(folder: Path, when: str, records: list[dict]) -> Path:
    """A copy as `flarecast fetch swpc` names it, records newest first as SWPC serves them (compact JSON)."""
    path = folder / stamped_name("solar_probabilities", datetime.fromisoformat(when).replace(tzinfo=UTC))
    path.write_text(json.dumps(sorted(records, key=lambda r: r["date"], reverse=True), separators=(",", ":")))
    return path


def two_fetches(folder: Path) -> tuple[Path, Path]:
    """Fetched at 23:00 UT on June 3 and June 5, 2019; they overlap on the forecasts issued June 2 and 3, and
    SWPC's copy of June 3 differs in the second (M 20 instead of 10): the first-issued value is the one kept."""
    first = write_fetch(folder, "2019-06-03T23:00:00", [
        record("2019-05-31", 40, 5, 1), record("2019-06-01", 90, 40, 5), record("2019-06-02", 75, 10, 1),
        record("2019-06-03", 75, 10, 1)])
    second = write_fetch(folder, "2019-06-05T23:00:00", [
        record("2019-06-02", 75, 10, 1), record("2019-06-03", 80, 20, 1), record("2019-06-04", 95, 30, 5),
        record("2019-06-05", 50, 5, 1)])
    return first, second


def test_two_overlapping_fetches_give_one_row_per_day_and_target_from_the_earliest(tmp_path):
    first, second = two_fetches(tmp_path)
    frame = read_swpc([second, first])  # the order given does not matter: fetch times do
    assert list(frame.columns) == list(COLUMNS) and len(frame) == 6 * 9  # C, M and X on 3 days of 6 issues
    m = frame[frame["target"] == ">=M"]
    # Issued at 22:00 UT on May 31 .. June 5: day 1 is June 1 .. June 6, 00-24 UT.
    assert m["issue_time"].tolist() == [f"2019-06-0{d}T00:00:00Z" for d in range(1, 7)]
    assert m["valid_to"].tolist() == [f"2019-06-0{d}T00:00:00Z" for d in range(2, 8)]
    assert m["issued"].tolist() == ["2019-05-31T22:00:00Z"] + [f"2019-06-0{d}T22:00:00Z" for d in range(1, 6)]
    assert m["probability"].tolist() == pytest.approx([0.05, 0.40, 0.10, 0.10, 0.30, 0.05])  # June 4: 10, not 20
    assert m["fetched"].tolist() == ["2019-06-03T23:00:00Z"] * 4 + ["2019-06-05T23:00:00Z"] * 2
    june4 = frame[(frame["issue_time"] == "2019-06-04T00:00:00Z") & (frame["issued"] == "2019-06-03T22:00:00Z")]
    assert june4.set_index("target")["probability"].to_dict() == pytest.approx({">=C": 0.75, ">=M": 0.10, "X": 0.01})
    # June 4 is also day 2 of June 2's forecast and day 3 of June 1's.
    assert frame[frame["issue_time"] == "2019-06-04T00:00:00Z"].set_index("target")["probability"].to_dict() == \
        pytest.approx({">=C": 0.75, ">=M": 0.10, "X": 0.01, ">=C@d2": 0.75, ">=M@d2": 0.10, "X@d2": 0.01,
                       ">=C@d3": 0.90, ">=M@d3": 0.40, "X@d3": 0.05})


def test_a_null_is_no_forecast_and_a_later_fetch_fills_it(tmp_path):
    first = write_fetch(tmp_path, "2019-06-03T23:00:00", [record("2019-06-03", 75, None, 1)])
    second = write_fetch(tmp_path, "2019-06-04T23:00:00", [record("2019-06-03", 80, 20, 5)])
    alone = read_swpc([first])
    assert sorted(alone["target"]) == [">=C", ">=C@d2", ">=C@d3", "X", "X@d2", "X@d3"]  # no M row: unknown, not 0
    both = read_swpc([first, second]).set_index("target")["probability"]
    assert {t: both[t] for t in (">=C", ">=M", "X")} == pytest.approx({">=C": 0.75, ">=M": 0.20, "X": 0.01})


def test_the_fetch_time_is_read_back_from_the_name():
    when = datetime(2026, 1, 30, 6, 15, tzinfo=UTC)
    assert fetched_at(stamped_name("solar_probabilities", when)) == when
    assert fetched_at("solar_probabilities.json") is None and fetched_at("solar_probabilities_latest.json") is None


def test_a_forecast_issued_after_its_file_was_fetched_is_refused(tmp_path):
    # Fetched at 21:00 UT on June 3, the file cannot hold the forecast SWPC issues at 22:00 UT that day, unless
    # `date` meant the first forecast day: the reader says which reading it assumes.
    path = write_fetch(tmp_path, "2019-06-03T21:00:00", [record("2019-06-03", 75, 10, 1)])
    with pytest.raises(InputFileError, match=r"date 2019-06-03: a forecast issued at 2019-06-03T22:00:00Z cannot "
                                             r"be in a file fetched at 2019-06-03T21:00:00Z.*day of issue"):
        read_swpc([path])


@pytest.mark.parametrize("body, message", [
    ("{not json", "not a readable JSON file"),
    ('{"date": "2019-06-03", "m_class_1_day": 10}', "expected a JSON array of records.*got dict"),
    ("[1, 2]", "holding non-records"),
    ('[{"date": "2019-06-03", "flux": 1}]', "no record has any of"),
    ('[{"date": "2019-06-03T12:00:00", "m_class_1_day": 10}]', "record 0: date '2019-06-03T12:00:00'; expected a UT"),
    ('[{"date": 20190603, "m_class_1_day": 10}]', "record 0: date 20190603"),
    ('[{"m_class_1_day": 10}]', "record 0: date None"),
    ('[{"date": "2019-06-03", "m_class_1_day": 150}]', "m_class_1_day 150; expected a percentage from 0 to 100"),
    ('[{"date": "2019-06-03", "x_class_1_day": "5"}]', "x_class_1_day '5'; expected a percentage"),
    ('[{"date": "2019-06-03", "x_class_1_day": true}]', "x_class_1_day True"),
    ('[{"date": "2019-06-03", "m_class_1_day": 10}, {"date": "2019-06-03T00:00:00", "m_class_1_day": 15}]',
     "date 2019-06-03 appears twice with different m_class_1_day"),
])
def test_malformed_files_are_refused_in_one_line(tmp_path, body, message):
    path = tmp_path / "solar_probabilities.json"
    path.write_text(body)
    with pytest.raises(InputFileError, match=message) as info:
        read_swpc([path])
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_an_empty_fetch_and_an_identical_repeat_add_nothing(tmp_path):
    empty = tmp_path / "solar_probabilities_20190602T230000Z.json"
    empty.write_text("[]")
    same = tmp_path / "solar_probabilities.json"  # unstamped: read after every stamped file
    same.write_text(json.dumps([record("2019-06-03", 75, 10, 1), record("2019-06-03", 75, 10, 1)]))
    assert read_swpc([empty]).empty
    assert len(read_swpc([empty, same])) == 9  # C, M, X on each of 3 days, once


def test_the_files_are_sniffed_by_their_keys_and_grouped_as_one_forecaster(tmp_path):
    first, second = two_fetches(tmp_path)
    other = tmp_path / "a.csv"
    other.write_text("issue_time,target,probability\n2019-06-02T00:00:00Z,>=M,0.5\n")
    assert is_swpc_probabilities(first) and not is_swpc_probabilities(other)
    assert forecasters([other, first, second]) == [[other], [first, second]]
    assert forecasters([first, other, second]) == [[first, second], [other]]


def test_the_provider_csv_reads_back_as_the_json_files_do(tmp_path):
    first, second = two_fetches(tmp_path)
    out = write_provider_csv([first, second], tmp_path / "out" / "swpc.csv")
    assert out.read_text().splitlines()[0] == ",".join(COLUMNS)
    from_csv, thr_csv, _ = read_provider(out)
    from_json, thr_json, _ = read_provider([first, second])
    cols = ["t", "day", "valid_to", "target", "probability"]
    pd.testing.assert_frame_equal(from_csv[cols].reset_index(drop=True), from_json[cols].reset_index(drop=True))
    assert thr_csv == thr_json == {}


def test_only_swpc_files_are_read_together(tmp_path):
    first, _ = two_fetches(tmp_path)
    other = tmp_path / "a.csv"
    other.write_text("issue_time,target,probability\n2019-06-02T00:00:00Z,>=M,0.5\n")
    with pytest.raises(InputFileError, match="only SWPC's solar_probabilities files"):
        read_provider([other, first])


# A forecast: (day offset from 2019-06-01, target field, percent or None); a fetch: its hour after the last
# day it holds, and its forecasts.
# C, M and X of one day in order (x <= m <= c: nested classes), each of them possibly null.
CLASSES = st.tuples(st.lists(st.integers(0, 100), min_size=3, max_size=3).map(lambda v: sorted(v, reverse=True)),
                    st.lists(st.booleans(), min_size=3, max_size=3)).map(
    lambda vn: tuple(None if null else v for v, null in zip(*vn, strict=True)))
FETCH = st.tuples(st.integers(0, 30), st.dictionaries(st.integers(0, 30), CLASSES, max_size=8))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fetches=st.lists(FETCH, min_size=1, max_size=4, unique_by=lambda f: f[0]), reverse=st.booleans())
def test_rows_are_the_earliest_fetchs_value_whatever_the_order_given(fetches, reverse, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fetches")
    start = pd.Timestamp("2019-06-01")
    paths, expected = [], {}
    # Each fetch is made on its own day (offset 31 + k), after every forecast it holds was issued.
    for fetch_day, days in sorted(fetches):
        when = (start + pd.Timedelta(days=31 + fetch_day, hours=23)).isoformat()
        records = [record(f"{start + pd.Timedelta(days=d):%Y-%m-%d}", *ps) for d, ps in days.items()]
        paths.append(write_fetch(folder, when, records))
        for d, ps in days.items():
            for ahead in (1, 2, 3):  # record() gives the three days the same numbers
                for target, p in zip((">=C", ">=M", "X"), ps, strict=True):
                    if p is not None:
                        name = target if ahead == 1 else f"{target}@d{ahead}"
                        expected.setdefault((start + pd.Timedelta(days=d + ahead), name), p / 100)
    frame = read_swpc(paths[::-1] if reverse else paths)
    issue = pd.to_datetime(frame["issue_time"]).dt.tz_localize(None)
    got = {(t, g): p for t, g, p in zip(issue, frame["target"], frame["probability"], strict=True)}
    assert got == expected  # one row per (day, target) with a value, from the earliest fetch holding it
    assert not frame.duplicated(["issue_time", "target"]).any()
    assert ((pd.to_datetime(frame["valid_to"]) - pd.to_datetime(frame["issue_time"])) == pd.Timedelta(days=1)).all()
    ahead = frame["target"].str.extract(r"@d(\d)")[0].fillna("1").astype(int)
    lead = pd.to_datetime(frame["issue_time"]) - pd.to_datetime(frame["issued"])
    assert (lead == pd.Timedelta(hours=2) + pd.to_timedelta(ahead - 1, unit="D")).all()
    assert (issue == issue.dt.normalize()).all() and frame["probability"].between(0, 1).all()
    assert list(frame["issued"]) == sorted(frame["issued"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.floats(0, 1, exclude_max=True), truncated=st.booleans(), bit=st.integers(0, 7))
def test_a_mutated_file_is_refused_in_one_line_or_read_within_range(where, truncated, bit, tmp_path_factory):
    from tests.hostile.mutants import flip, truncate

    intact, _ = two_fetches(tmp_path_factory.mktemp("intact"))
    data = intact.read_bytes()
    at = int(where * len(data))
    mutant = tmp_path_factory.mktemp("mutant") / intact.name
    mutant.write_bytes(truncate(data, at) if truncated else flip(data, at, bit))
    try:
        frame = read_swpc([mutant])
    except InputFileError as exc:
        assert "\n" not in str(exc)
        return
    assert frame["probability"].between(0, 1).all() and not frame.duplicated(["issue_time", "target"]).any()
