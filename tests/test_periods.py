"""Skill per calendar year: each year's counts and intervals come from that year's windows alone."""

import numpy as np
import pandas as pd
import pytest

from flarecast.errors import ConfigError
from flarecast.evaluate.periods import by_period, check_by, period_of
from flarecast.evaluate.scoring import Forecasts


def forecasts() -> Forecasts:
    """Two windows a day (00:00 an event, 12:00 none) from 2011-12-28 to 2012-01-04, and two on 2013-06-01.

    2011: every event forecast at 0.9, every non-event at 0.1. 2012: events at 0.9, 0.2, 0.9, 0.2 and
    non-events at 0.6, 0.1, 0.1, 0.1, so at threshold 0.5: TP 2, FN 2, FP 1, TN 3.
    """
    days = list(pd.date_range("2011-12-28", "2012-01-04", freq="D")) + [pd.Timestamp("2013-06-01")]
    issue = np.array([d + pd.Timedelta(h, "h") for d in days for h in (0, 12)], dtype="datetime64[ns]")
    y = np.tile([1, 0], len(days))
    p_event = [0.9] * 4 + [0.9, 0.2, 0.9, 0.2] + [0.9]
    p_none = [0.1] * 4 + [0.6, 0.1, 0.1, 0.1] + [0.1]
    p = np.ravel(np.column_stack([p_event, p_none]))
    persist = np.roll(y, 1).astype(float)  # forecasts each 12:00 window an event: every event missed
    return Forecasts(targets=(">=M",), issue_time=issue, region=np.full(y.size, -1, np.int32),
                     group=issue.astype("datetime64[D]").astype(np.int64), group_unit="UTC day",
                     y=y[:, None].astype(np.int8), probs={"model": p[:, None], "persistence": persist[:, None]},
                     thresholds={"model": {">=M": 0.5}, "persistence": {">=M": 0.5}}, climatology={">=M": 0.5})


def test_each_year_is_scored_on_its_own_windows():
    out = by_period(forecasts(), "year", n_boot=300)
    assert list(out) == ["2011", "2012", "2013"]
    y11, y12 = out["2011"], out["2012"]
    assert (y11["n_windows"], y11["groups"], y12["n_windows"], y12["groups"]) == (8, 4, 8, 4)
    assert y11["from"] == "2011-12-28 00:00:00" and y11["to"] == "2011-12-31 12:00:00"
    m11, m12 = y11["targets"][">=M"]["model"], y12["targets"][">=M"]["model"]
    assert [m11[k] for k in ("tp", "fn", "fp", "tn")] == [4, 0, 0, 4]
    assert [m12[k] for k in ("tp", "fn", "fp", "tn")] == [2, 2, 1, 3]
    assert m12["tss"]["value"] == pytest.approx(2 / 4 - 1 / 4)
    assert m12["hss"]["value"] == pytest.approx(2 * (2 * 3 - 2 * 1) / (4 * 5 + 3 * 4))  # 0.25
    # 2011 is perfect on every one of its days: resampling its days alone cannot give anything but 1. Pooled
    # with 2012, resamples would mix in 2012's misses.
    assert m11["tss"]["value"] == 1.0 and m11["tss"]["ci"] == [1.0, 1.0]
    assert m12["tss"]["ci"][0] < m12["tss"]["value"] < m12["tss"]["ci"][1]
    p12 = y12["targets"][">=M"]["persistence"]
    assert [p12[k] for k in ("tp", "fn", "fp", "tn")] == [0, 4, 4, 0]


def test_a_year_of_one_day_is_listed_with_a_note_not_scored():
    out = by_period(forecasts(), "year", n_boot=100)["2013"]
    assert out["targets"] == {} and out["groups"] == 1 and "at least 2" in out["note"]


def test_period_labels_are_utc_calendar_years():
    t = np.array(["2012-12-31T23:59", "2013-01-01T00:00"], dtype="datetime64[ns]")
    assert period_of(t).tolist() == ["2012", "2013"]


def test_unknown_or_unavailable_period_is_refused_with_the_fix():
    with pytest.raises(ConfigError, match="flarecast cv.*--by year"):
        check_by("fold")
    with pytest.raises(ConfigError, match=r"--by 'month': expected one of \['year'\]"):
        check_by("month")


def test_period_table_shows_an_undefined_interval():
    from rich.console import Console

    from flarecast.model.documents import Metrics
    from flarecast.report.text import PERIOD_COLUMNS, period_table

    cell = {"value": 0.0, "ci": [float("nan"), float("nan")]}  # a year without X events: no interval
    result = Metrics.build(
        loss="CE", split="test", period={"from": "2012-01-01", "to": "2012-01-02"}, n_windows=48, source="goes",
        convention="swpc", climatology={"X": 0.01},
        bootstrap={"unit": "UTC day", "groups": 2, "n_boot": 10, "level": 0.95, "seed": 0},
        thresholds={"model": {"X": 0.5}}, notes=[], targets={},
        by_year={"2012": {"n_windows": 48, "targets": {"X": {"model": {
            "positives": 0, **dict.fromkeys(PERIOD_COLUMNS, cell)}}}}})
    console = Console(width=200, record=True)
    console.print(period_table(result))
    assert console.export_text().count("0.00 [n/a, n/a]") == len(PERIOD_COLUMNS)
