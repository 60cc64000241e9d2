"""A forecast for every issue time: the fallback order, its reasons, coverage, and scores with and without."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.config import builtin_config, load_config
from flarecast.forecast.fallback import forecast_every
from flarecast.forecast.files import backtest, read_forecasts, validate, write_forecasts
from flarecast.forecast.issue import ForecastRefusal, forecast
from flarecast.forecast.providers import score_forecast_files
from flarecast.forecast.request import Inputs, IssueTimes
from flarecast.ingest import store as st
from flarecast.jsonio import dumps
from flarecast.samples.build import samples_from_store
from flarecast.samples.labels import Catalogue
from flarecast.train.loop import train
from tests.conftest import HOURLY

runner = CliRunner()
FIRST, LAST = "2018-01-02T00:00", "2019-12-31T00:00"


def _missing_fraction(flux: pd.DataFrame, t: pd.Timestamp) -> float:
    """Fraction of the hours (t - 24 h, t] without XRS-B: hourly records stamp their hour's start."""
    return float(flux["xrsb"].loc[t - pd.Timedelta("24h"): t - pd.Timedelta("1h")].isna().mean())


@pytest.fixture(scope="module")
def daily(two_years, hourly_model):
    return forecast_every([hourly_model], Inputs(store=two_years[0]), IssueTimes(start=FIRST, end=LAST, every="1D"))


def test_every_day_of_two_years_gets_a_forecast_and_the_gap_days_say_why(two_years, daily):
    store, flux = two_years
    days = pd.date_range(FIRST, LAST, freq="1D")
    validate(daily)
    assert daily["refused"] == [] and daily["issue_times"] == days.size == 729
    times = {r["issue_time"] for r in daily["forecasts"]}
    assert times == {t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in days}
    assert len(daily["forecasts"]) == 3 * days.size
    # Degraded exactly where more than the card's 20% of the window's hours are missing, computed from the file.
    expected = {t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in days if _missing_fraction(flux, t) > 0.2 + 1e-5}
    degraded = {r["issue_time"] for r in daily["forecasts"] if r["degraded"]}
    assert degraded == expected and 10 <= len(expected) <= 30
    for r in daily["forecasts"]:
        assert r["method"] == ("catalogue_poisson" if r["degraded"] else "model")
        assert ("of the window's input is missing" in r["reason"]) if r["degraded"] else r["reason"] is None
    assert daily["coverage_report"] == {"issue_times": 729, "by_method": {
        "model": 729 - len(expected), "fallback_model": 0, "catalogue_poisson": len(expected), "climatology": 0},
        "degraded": len(expected), "undegraded_fraction": round((729 - len(expected)) / 729, 4)}


def test_the_catalogue_rule_is_the_poisson_rate_of_the_last_27_days(two_years, daily):
    cat = Catalogue.from_events(st.read_events(two_years[0])).one_per_peak()
    for r in [r for r in daily["forecasts"] if r["degraded"]][:6]:
        t = np.datetime64(r["issue_time"].rstrip("Z"), "ns")
        since = t - np.timedelta64(27, "D")
        level = {">=C": 1e-6, ">=M": 1e-5, "X": 1e-4}[r["target"]]
        n = int(((cat.peak > since) & (cat.peak <= t) & (cat.flux >= level)).sum())
        assert r["probability"] == pytest.approx(1 - np.exp(-(n + 0.5) / 27), rel=1e-12)
        assert r["decision"] == (r["probability"] >= r["threshold"])


def test_a_tolerant_model_comes_before_the_catalogue_and_climatology_comes_last(two_years, hourly_model, tmp_path):
    store, flux = two_years
    cfg = load_config(builtin_config("demo"), [*HOURLY, "samples.max_missing=0.9"])
    tolerant = tmp_path / "tolerant"
    train(samples_from_store(store, cfg.samples), cfg, tolerant)
    # Day 160 lost its first 9 hours (37% of the next day's window), day 230 all of it: the tolerant model
    # takes the first only.
    partial, whole = "2018-06-11T00:00", "2018-08-20T00:00"
    assert 0.2 < _missing_fraction(flux, pd.Timestamp(partial)) < 0.9 and _missing_fraction(flux, pd.Timestamp(whole)) == 1
    doc = forecast_every([hourly_model, tolerant], Inputs(store=store), IssueTimes(at=[partial, whole]))
    by = {(r["issue_time"][:16], r["target"]): r for r in doc["forecasts"]}
    alone = forecast(tolerant, Inputs(store=store), IssueTimes(at=[partial]))["forecasts"]
    assert [by[(partial, r["target"])]["probability"] for r in alone] == [r["probability"] for r in alone]
    assert {by[(partial, t)]["method"] for t in (">=C", ">=M", "X")} == {"fallback_model"}
    assert by[(partial, "X")]["model_id"] == alone[0]["model_id"] != doc["model_id"]
    assert {by[(whole, t)]["method"] for t in (">=C", ">=M", "X")} == {"catalogue_poisson"}
    # A look-back reaching before the catalogue leaves climatology, the card's base rate.
    gap = forecast_every([hourly_model], Inputs(store=store), IssueTimes(at=[whole]), lookback="400D")
    assert [(r["method"], r["probability"]) for r in gap["forecasts"]] == [
        ("climatology", gap["climatology"][t]) for t in gap["targets"]]


def test_strict_keeps_the_refusal_and_the_default_falls_back(two_years, hourly_model, tmp_path):
    store = str(two_years[0])
    strict = runner.invoke(app, ["forecast", str(hourly_model), "--store", store, "--at", "2018-08-20T00:00",
                                 "--strict"])
    assert strict.exit_code == 2 and "of the window's input is missing" in strict.output
    with pytest.raises(ForecastRefusal):
        forecast(hourly_model, Inputs(store=store), IssueTimes(at=["2018-08-20T00:00"]))
    ok = runner.invoke(app, ["forecast", str(hourly_model), "--store", store, "--at", "2018-08-20T00:00", "--json"])
    assert ok.exit_code == 0, ok.output
    rows = json.loads(ok.stdout)["forecasts"]
    assert [r["degraded"] for r in rows] == [True] * 3 and rows[0]["method"] == "catalogue_poisson"
    # The table's summary says why, not only how many: the first degraded issue time and its reason.
    shown = runner.invoke(app, ["forecast", str(hourly_model), "--store", store, "--at", "2018-08-20T00:00"])
    assert shown.exit_code == 0 and "1 of 1 issue times degraded: catalogue_poisson 1; first, " \
        "2018-08-20T00:00:00Z:" in " ".join(shown.output.split())
    assert "of the window's input is missing" in " ".join(shown.output.split())


def test_evaluate_scores_with_and_without_the_degraded_rows(two_years, daily, tmp_path):
    path = write_forecasts(daily, tmp_path / "daily.csv")
    assert read_forecasts(path) == json.loads(json.dumps(daily["forecasts"]))
    result = backtest(path, store=two_years[0], n_boot=200)
    n_deg = daily["coverage_report"]["degraded"]
    assert result.degraded == {"windows": n_deg, "by_method": {"catalogue_poisson": n_deg}}
    every, own = result.targets[">=M"]["model"], result.targets_undegraded[">=M"]["model"]
    assert every["n"] == result.n_windows and own["n"] == result.n_windows - n_deg
    assert every["tp"] + every["fp"] + every["fn"] + every["tn"] == own["n"] + n_deg
    assert dumps(score_forecast_files([path], store=two_years[0], n_boot=200, out=tmp_path / "bt")) == dumps(result)
    assert (tmp_path / "bt" / "metrics.json").read_text().strip() == dumps(result)
    cli = runner.invoke(app, ["evaluate", "--forecasts", str(path), "--store", str(two_years[0])])
    assert cli.exit_code == 0, cli.output
    assert f"{n_deg} degraded" in cli.output and "without degraded rows" in cli.output
