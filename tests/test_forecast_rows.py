"""The forecast row (one type, one builder) and the request objects of a forecast."""

import csv
import dataclasses
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from flarecast.forecast.files import _typed_row
from flarecast.forecast.request import ForecastRequest, Inputs, IssueTimes
from flarecast.forecast.rows import DEGRADED_FIELDS, ROW_FIELDS, ForecastRow, degrade, make_row

unit = st.floats(0.0, 1.0, allow_nan=False)


def _row(p=0.3, thr=0.2, **kw):
    return make_row("2017-09-06T12:00:00Z", "24h", "X", p, threshold=thr, base_rate=0.01, coverage=0.95,
                    model_id="abc", convention="swpc", **kw)


def test_row_window_and_decision_by_hand():
    r = _row(p=0.2, thr=0.2)
    assert (r["issue_time"], r["valid_to"]) == ("2017-09-06T12:00:00Z", "2017-09-07T12:00:00Z")
    assert r["decision"] is True and _row(p=0.19, thr=0.2)["decision"] is False  # probability >= threshold
    assert tuple(r) == ROW_FIELDS  # the model's own row: no degraded columns, in the schema's order


def test_degraded_rows_carry_their_method_and_reason():
    r = _row(method="catalogue_poisson", reason="window 40% missing")
    assert tuple(r) == ROW_FIELDS + DEGRADED_FIELDS and r["degraded"] is True
    assert _row(method="combination")["degraded"] is False
    own = degrade(_row(), "model", None)
    assert (own["degraded"], own["method"], own["reason"]) == (False, "model", None)


def test_a_row_with_an_unknown_column_is_refused():
    with pytest.raises(ValidationError, match="probabilty"):
        ForecastRow.read({**_row(), "probabilty": 0.5})


@given(p=unit, thr=unit, region=st.one_of(st.none(), st.integers(1, 99999)),
       ars=st.lists(st.integers(1, 99999), max_size=3), degraded=st.booleans())
def test_csv_record_reads_back_as_the_row(p, thr, region, ars, degraded):
    row = _row(p, thr, region=region, noaa_ars=ars if region else (),
               **({"method": "climatology", "reason": "gap"} if degraded else {}))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=ROW_FIELDS + DEGRADED_FIELDS)
    w.writeheader()
    w.writerow(ForecastRow.read(row).csv_record(degraded=True))
    back = _typed_row(next(csv.DictReader(io.StringIO(buf.getvalue()))), Path("f.csv"), 2)
    own = {"degraded": False, "method": "model", "reason": None}
    assert ForecastRow.read(back).to_dict() == ({**row, **own} if not degraded else row)


def test_requests_are_frozen_and_take_any_sequence():
    req = ForecastRequest(["m"], Inputs(goes=["a.nc"]), IssueTimes(at=["2017-09-06T12:00"]))
    assert req.models == ("m",) and req.inputs.goes == ("a.nc",) and req.times.at == ("2017-09-06T12:00",)
    assert Inputs(goes=None).files == {"goes": (), "events": (), "sharp": (), "regions": ()} and not Inputs().has_files
    assert hash(req) == hash(ForecastRequest(("m",), Inputs(goes=("a.nc",)), IssueTimes(at=("2017-09-06T12:00",))))
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.times.latest = True
