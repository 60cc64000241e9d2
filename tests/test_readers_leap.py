"""The leap-second warning skips its cadence (a median over every row) far from a leap second; near one it warns
exactly as the full rule does: a leap second in (first, last + cadence]."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from flarecast.ingest.readers.base import _leap_instants, leap_second_warning

LEAP = np.datetime64("2016-12-31T23:59:59", "ns") + np.timedelta64(1, "s")  # 2017-01-01T00:00:00


def full_rule(t: np.ndarray) -> int:
    cadence = np.median(np.diff(t)) if t.size > 1 else np.timedelta64(0, "ns")
    return sum(bool(t[0] < leap <= t[-1] + cadence) for leap in _leap_instants())


@settings(max_examples=200, deadline=None)
@given(cadence_s=st.sampled_from([1, 2, 3, 60, 300, 3600]), rows=st.integers(1, 3000),
       end_offset_steps=st.integers(-5, 5))
def test_prefilter_warns_exactly_when_the_full_rule_does(cadence_s, rows, end_offset_steps):
    step = np.timedelta64(cadence_s, "s").astype("timedelta64[ns]")
    last = LEAP + end_offset_steps * step - step  # the last record lands a few steps before or after the leap
    t = last - step * np.arange(rows)[::-1]
    assert len(leap_second_warning("f.nc", t)) == full_rule(t)


def test_a_day_of_1s_rows_ending_the_second_before_a_leap_second_warns():
    t = LEAP - np.timedelta64(1, "s") - np.arange(86_400)[::-1].astype("timedelta64[s]").astype("timedelta64[ns]")
    (message,) = leap_second_warning("sci_xrsf-l2-flx1s_g16_d20161231_v2-2-0.nc", t)
    assert "2016-12-31 23:59:60" in message
    assert leap_second_warning("x.nc", t - np.timedelta64(2, "D")) == []
