"""Forecast days (issue 23): labels per UT day and per 24 h window computed by hand, ordinal heads coherent by
construction before and after calibration, the ordinal loss by hand, isotonic steps of a minimum count."""

import json

import numpy as np
import pytest
import torch
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from flarecast import classes
from flarecast.config import ModelConfig, from_dict
from flarecast.errors import ConfigError, FlareClassError
from flarecast.model.ensemble import calibrate
from flarecast.model.network import TemporalCNN
from flarecast.samples.labels import Catalogue, day_fluxes, day_windows
from flarecast.train.calibration import choose_chain_calibration, isotonic_steps
from flarecast.train.losses import ordinal_focal_loss

TARGETS9 = tuple(classes.day_target(t, d) for d in (1, 2, 3) for t in (">=C", ">=M", "X"))


def catalogue(rows):
    """rows: (ISO peak time, class string)."""
    ev = xr.Dataset({"peak": ("event", np.array([r[0] for r in rows], "datetime64[ns]")),
                     "peak_flux": ("event", np.array([classes.parse_class(r[1]) for r in rows])),
                     "noaa_ar": ("event", np.zeros(len(rows), np.int32))})
    return Catalogue.from_events(ev)


CAT = catalogue([
    ("2024-12-21T23:30", "X1.0"),  # after a 22:00 issue but before day 1: no day's
    ("2024-12-22T00:00", "C3.0"),  # ends the 21st: windows are (start, end], so no day's either
    ("2024-12-22T00:01", "C4.0"),
    ("2024-12-22T13:00", "M2.0"),
    ("2024-12-23T23:59", "B5.0"),
    ("2024-12-24T05:00", "X2.0"),
    ("2024-12-25T00:00", "M1.0"),  # day 4 of a 21st issue
])


def test_ut_days_are_the_three_ut_days_after_the_day_of_issue():
    issue = np.array(["2024-12-21T22:00", "2024-12-22T00:00"], "datetime64[ns]")
    got = classes.ordinal(day_fluxes(CAT, issue, 3, "ut"), "true")
    # Issued the 21st at 22:00: the 22nd (C4, M2 -> M), the 23rd (B5 -> quiet), the 24th (X2); the X1 at 23:30
    # on the 21st and the C3 at 00:00 on the 22nd fall on no day, the M1 at 00:00 on the 25th ends the 24th.
    # Issued the 22nd at 00:00: the 23rd (quiet), the 24th (X2, M1), the 25th (nothing after 00:00).
    assert got.tolist() == [[2, 0, 3], [0, 3, 0]]


def test_issue_windows_are_consecutive_24_hours_after_issue():
    issue = np.array(["2024-12-21T22:00"], "datetime64[ns]")
    lo, hi = day_windows(issue, 3, "issue")
    assert (hi - lo == np.timedelta64(24, "h")).all() and lo[0, 0] == issue[0]
    # (21st 22:00, 22nd 22:00]: X1 at 23:30 -> X; (22nd 22:00, 23rd 22:00]: none; (23rd 22:00, 24th 22:00]: X2.
    assert classes.ordinal(day_fluxes(CAT, issue, 3, "issue"), "true").tolist() == [[3, 0, 3]]


def test_the_sample_config_names_one_target_per_class_and_day_and_looks_far_enough():
    cfg = from_dict({"samples": {"days": 3, "targets": [">=C", ">=M", "X"]}}).samples
    assert cfg.target_names == TARGETS9
    # An issue at 00:00 UT forecasts through the end of the 4th UT day after it.
    assert cfg.horizon_length == np.timedelta64(96, "h")
    assert from_dict({"samples": {"days": 3, "day_windows": "issue"}}).samples.horizon_length == np.timedelta64(72, "h")
    assert classes.split_target("X@d2") == ("X", 2) and classes.target_rank(">=M@d3") == 2
    with pytest.raises(FlareClassError, match="X@d0"):
        classes.split_target("X@d0")
    with pytest.raises(ConfigError, match="model.head"):
        from_dict({"train": {"loss": {"name": "ordinal"}}})


@pytest.mark.parametrize("head", ["cumulative", "chain"])
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.1, 30.0))
def test_ordinal_heads_are_coherent_before_and_after_calibration(head, seed, scale):
    torch.manual_seed(seed)
    net = TemporalCNN(2, 9, 16, ModelConfig(hidden=4, head=head), targets=TARGETS9).eval()
    for p in net.parameters():
        p.data.mul_(scale)  # large weights push the logits to the extremes, where rounding would show
    with torch.no_grad():
        prob = torch.sigmoid(net(torch.randn(64, 2, 16) * scale)).numpy().astype(np.float64)
    chains = classes.nested(TARGETS9)
    rng = np.random.default_rng(seed)
    maps = [{"method": "isotonic", "x": np.sort(rng.uniform(0, 1, 4)).tolist(),
             "y": np.sort(rng.uniform(0, 1, 4)).tolist()} if j % 2 else
            {"method": "platt", "a": float(rng.normal(1, 2)), "b": float(rng.normal(0, 3))} for j in range(9)]
    for probs in (prob, calibrate(prob, maps, chains)):
        for chain in chains:
            assert (np.diff(probs[:, chain], axis=1) <= 1e-12).all()
        assert ((probs >= 0) & (probs <= 1)).all()


def test_the_ordinal_loss_is_the_peak_class_probability_by_hand():
    # P(>=C) = 0.8, P(>=M) = 0.3, P(X) = 0.1: P(quiet) 0.2, P(C) 0.5, P(M) 0.2, P(X) 0.1.
    z = torch.logit(torch.tensor([[0.8, 0.3, 0.1]] * 4, dtype=torch.float64))
    y = torch.tensor([[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=torch.float64)
    got = ordinal_focal_loss(z, y, [[0, 1, 2]], reduction="none")[:, 0]
    assert np.allclose(got.numpy(), -np.log([0.2, 0.5, 0.2, 0.1]))
    focal = ordinal_focal_loss(z, y, [[0, 1, 2]], alpha=0.25, gamma=2.0, reduction="none")[:, 0]
    assert np.allclose(focal.numpy(), -np.log([0.2, 0.5, 0.2, 0.1]) * np.array([0.8, 0.5, 0.8, 0.9]) ** 2
                       * np.array([0.75, 0.25, 0.25, 0.25]))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 300), m=st.integers(2, 40), seed=st.integers(0, 1000))
def test_isotonic_steps_are_monotone_and_hold_at_least_min_step_windows(n, m, seed):
    rng = np.random.default_rng(seed)
    p = np.round(rng.uniform(0, 1, n), 2)  # ties: equal probabilities must share a step
    y = (rng.uniform(0, 1, n) < p).astype(float)
    x, v = isotonic_steps(p, y, m)
    assert (np.diff(x) >= 0).all() and (np.diff(v) >= -1e-12).all()
    steps = np.unique(v)
    mapped = np.interp(p, x, v)
    for s in steps:
        on = np.isclose(mapped, s)
        assert on.sum() >= min(m, n)  # every step rests on min_step windows (all of them when fewer)
        assert np.isclose(y[on].mean(), s)  # and its value is their event rate


def test_chain_calibration_keeps_the_top_where_the_conditional_evidence_is():
    # 2000 windows; X happens on 40% of the windows with the highest raw X among those with an M flare.
    rng = np.random.default_rng(0)
    n = 2000
    p_c = rng.uniform(0.5, 1, n)
    p_m = p_c * rng.uniform(0, 1, n)
    p_x = p_m * rng.uniform(0, 0.2, n)
    y_c = rng.uniform(0, 1, n) < p_c
    y_m = y_c & (rng.uniform(0, 1, n) < p_m / p_c)
    y_x = y_m & (rng.uniform(0, 1, n) < 2 * p_x / p_m)
    y = np.stack([y_c, y_m, y_x], axis=1).astype(float)
    p = np.stack([p_c, p_m, p_x], axis=1)
    fold = np.arange(n) % 3
    maps, _, crossed = choose_chain_calibration(y, p, fold, [[0, 1, 2]], "isotonic", min_step=20)
    calibrated = calibrate(p, maps, [[0, 1, 2]])
    assert (np.diff(calibrated, axis=1) <= 1e-12).all() and (np.diff(crossed, axis=1) <= 1e-12).all()
    # P(X | >=M) is twice the raw ratio: the conditional map doubles it instead of flattening it.
    ratio = p_x / p_m
    top = ratio > 0.15
    top &= calibrated[:, 1] > 0
    assert np.isclose(calibrated[top, 2] / calibrated[top, 1], 2 * ratio[top], atol=0.12).mean() > 0.8


def test_swpc_nine_numbers_are_read_per_class_and_day(tmp_path):
    from flarecast.forecast.swpc import read_swpc

    # SWPC's layout and key order (solar_probabilities.json), one forecast issued 2024-12-21 at 22:00 UT.
    path = tmp_path / "solar_probabilities.json"
    path.write_text('[{"date":"2024-12-21T00:00:00","c_class_1_day":99,"c_class_2_day":95,"c_class_3_day":90,'
                    '"m_class_1_day":60,"m_class_2_day":55,"m_class_3_day":50,"x_class_1_day":10,"x_class_2_day":15,'
                    '"x_class_3_day":5,"10mev_protons_1_day":1,"10mev_protons_2_day":1,"10mev_protons_3_day":1,'
                    '"polar_cap_absorption":"green"}]')
    frame = read_swpc([path]).set_index("target")
    assert frame["probability"].to_dict() == pytest.approx({
        ">=C": 0.99, ">=M": 0.60, "X": 0.10, ">=C@d2": 0.95, ">=M@d2": 0.55, "X@d2": 0.15,
        ">=C@d3": 0.90, ">=M@d3": 0.50, "X@d3": 0.05})
    # Day d is the d-th UT day after the day of issue (the RSGA of 21 Dec 2024 covers 22-24 Dec).
    assert frame.loc["X@d3", "issue_time"] == "2024-12-24T00:00:00Z" and frame.loc["X@d3", "valid_to"] == \
        "2024-12-25T00:00:00Z" and frame.loc["X", "issue_time"] == "2024-12-22T00:00:00Z"
    bad = tmp_path / "bad.json"  # X above M on day 2: refused, whatever day 1 says
    bad.write_text(path.read_text().replace('"x_class_2_day":15', '"x_class_2_day":70'))
    with pytest.raises(Exception, match="class|order|above"):
        read_swpc([bad])


@settings(max_examples=5, deadline=None)
@given(hours=st.lists(st.integers(0, 23), min_size=1, max_size=3, unique=True))
def test_every_format_is_coherent_and_each_day_lies_where_the_card_says(day_model, sim_store, hours,
                                                                       tmp_path_factory):
    from flarecast.forecast.ccmc import read_ccmc, write_ccmc
    from flarecast.forecast.files import read_forecasts, write_forecasts
    from flarecast.forecast.issue import forecast
    from flarecast.forecast.request import Inputs, IssueTimes
    from flarecast.report.days import day_table

    model, cfg = day_model
    at = [f"2018-01-20T{h:02d}:00:00Z" for h in hours]
    doc = forecast(model, Inputs(store=sim_store), IssueTimes(at=at))
    out = tmp_path_factory.mktemp("formats")
    read_back = {"json": read_forecasts(write_forecasts(doc, out / "f.json")),
                 "csv": read_forecasts(write_forecasts(doc, out / "f.csv"))}
    written = write_ccmc(doc, out / "f-ccmc.json", mode="historical")
    ccmc = read_ccmc(written)  # read back: every window's bins in order (the reader refuses any that are not)
    assert len(ccmc) == len(at) * 9
    for name, rows in read_back.items():
        assert len(rows) == len(at) * 9, name
        by = {(r["issue_time"], r["target"]): r for r in rows}
        for t in at:
            issue = np.datetime64(t.rstrip("Z"), "ns")
            day0 = issue.astype("datetime64[D]")
            for d in (1, 2, 3):
                # The card's config says UT days: day d is (00:00, 24:00] of the d-th day after the day of issue.
                p = [by[(t, classes.day_target(c, d))] for c in (">=C", ">=M", "X")]
                assert p[0]["probability"] >= p[1]["probability"] >= p[2]["probability"], (name, t, d)
                for r in p:
                    assert r["valid_from"] == f"{day0 + np.timedelta64(d, 'D')}T00:00:00Z", (name, r)
                    assert r["valid_to"] == f"{day0 + np.timedelta64(d + 1, 'D')}T00:00:00Z", (name, r)
    assert cfg.samples.day_windows == "ut"
    # The scoreboard: one prediction window per day, each with its day's rows' numbers.
    subs = json.loads(written.read_text())
    for sub in subs if isinstance(subs, list) else [subs]:
        s = sub["forecast_submission"]
        assert [f["prediction_window"]["start"][:10] for f in s["forecasts"]] == [
            str(np.datetime64(s["issue_time"][:10]) + np.timedelta64(d, "D")) for d in (1, 2, 3)]
        for d, f in enumerate(s["forecasts"], start=1):
            mine = {classes.split_target(r["target"])[0]: r for r in doc["forecasts"]
                    if r["issue_time"] == s["issue_time"] and classes.split_target(r["target"])[1] == d}
            bins = f["full_disk"]["probabilities"]
            assert f["prediction_window"] == {"start": mine["X"]["valid_from"], "end": mine["X"]["valid_to"]}
            assert (bins["CPlus"], bins["MPlus"], bins["X"]) == pytest.approx(
                (mine[">=C"]["probability"], mine[">=M"]["probability"], mine["X"]["probability"]))
            assert bins["CPlus"] >= bins["MPlus"] >= bins["X"]
    table = day_table(doc, at[0])
    assert [d["from"][:10] for d in table["days"]] == [
        str(np.datetime64(at[0][:10]) + np.timedelta64(d, "D")) for d in (1, 2, 3)]
    assert [row["class"] for row in table["rows"]] == ["C", "M", "X"]


def test_forecast_latest_from_swpc_files_alone_prints_the_3_day_table(day_model, real_data, tmp_path):
    from typer.testing import CliRunner

    from flarecast.cli import app
    from tests.archive import SHARED_DAYS, avg1m_name
    from tests.swpc_fixture import flare_records, write_json, xray_records

    # What `flarecast fetch swpc` saves: the 7-day X-ray flux and flare list (SWPC's layout, from the shared
    # GOES-16 files of 2017-09-04..08).
    xrays = write_json(tmp_path / "xrays-7-day.json",
                       [r for d in SHARED_DAYS for r in xray_records(real_data / "goes" / avg1m_name(d))])
    flares = write_json(tmp_path / "xray-flares-7-day.json", flare_records(
        real_data / "events" / "goes16_flare_summary_2017_2024.csv", "2017-09-04", "2017-09-08"))
    model, _ = day_model
    result = CliRunner().invoke(app, ["forecast", str(model), "--goes", str(xrays), "--events", str(flares),
                                      "--latest"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    # Issued at the end of the data (00:00 on the 9th): the 10th, 11th and 12th, C above M above X on each.
    assert "3-day forecast issued 2017-09-09T00:00:00Z" in result.output
    for day in ("day 1: Sep 10", "day 2: Sep 11", "day 3: Sep 12"):
        assert day in result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines()
             if line.count("│") > 3 and "Class" in line}
    # whole per cent, "<1%" read as 0.5 (under 1% but not none)
    cells = {c: [float(v.strip().rstrip("%").replace("<1", "0.5").replace(">99", "99.5"))
                 for v in lines[f"Class {c}"].split("│")[2:5]] for c in "CMX"}
    assert all(cells["C"][d] >= cells["M"][d] >= cells["X"][d] for d in range(3))


def test_the_dashboard_shows_the_3_day_table_like_swpc():
    from flarecast.report.dashboard import render
    from flarecast.report.days import day_table, format_day_table

    rows = [{"issue_time": "2024-12-21T22:00:00Z", "valid_from": f"2024-12-{21 + d}T00:00:00Z",
             "valid_to": f"2024-12-{22 + d}T00:00:00Z", "target": classes.day_target(c, d), "region": None,
             "probability": p} for d, ps in ((1, (0.99, 0.60, 0.10)), (2, (0.95, 0.55, 0.15)), (3, (0.90, 0.50, 0.05)))
            for c, p in zip((">=C", ">=M", "X"), ps, strict=True)]
    table = day_table({"forecasts": rows})
    # The RSGA issued at 22:00 UT on 21 Dec 2024 lays out 22-24 Dec the same way: Class M 60/55/50.
    assert format_day_table(table).splitlines()[2].split() == ["Class", "M", "60%", "55%", "50%"]
    page = {"title": "t", "issue_time": "2024-12-21T22:00:00Z", "store": "s", "latest": [], "regions": [],
            "xrs": None, "history": [], "cards": {}, "notes": [], "days": table}
    html = render(page)
    assert "<th>day 1: Dec 22</th><th>day 2: Dec 23</th><th>day 3: Dec 24</th>" in html
    assert "<td class='l'>Class X</td><td>10%</td><td>15%</td><td>5%</td>" in html


def test_a_degraded_forecast_day_keeps_its_window(day_model, sim_store):
    from flarecast.forecast.fallback import forecast_every
    from flarecast.forecast.request import Inputs, IssueTimes

    model, _ = day_model
    # Past the end of the simulated data (40 days from 2018-01-01): every row comes from a fallback rule.
    doc = forecast_every([model], Inputs(store=sim_store), IssueTimes(at=["2018-03-01T10:00:00Z"]))
    rows = {r["target"]: r for r in doc["forecasts"]}
    assert len(rows) == 9 and all(r["degraded"] for r in rows.values())
    for d in (1, 2, 3):
        assert rows[f"X@d{d}"]["valid_from"] == f"2018-03-0{1 + d}T00:00:00Z"
        assert rows[f">=C@d{d}"]["probability"] >= rows[f">=M@d{d}"]["probability"] >= rows[f"X@d{d}"]["probability"]


def test_evaluate_scores_each_day_target_on_its_own_ut_day(day_model, sim_store):
    """The evaluation's windows (what its timeline marks flares by) are each target's own: day d's UT day."""
    from flarecast.evaluate.scoring import model_forecasts
    from flarecast.samples.build import samples_from_store

    model, cfg = day_model
    samples = samples_from_store(sim_store, cfg.samples)
    idx = samples.indices("test")
    fc = model_forecasts(model, samples, idx)
    day0 = samples.issue_time[idx].astype("datetime64[D]").astype("datetime64[ns]")
    for d in (1, 2, 3):
        lo, hi = fc.window(f"X@d{d}")
        np.testing.assert_array_equal(lo, day0 + np.timedelta64(d, "D"))
        np.testing.assert_array_equal(hi, day0 + np.timedelta64(d + 1, "D"))
