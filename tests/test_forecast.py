import json

import jsonschema
import numpy as np
import pytest
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.config import builtin_config, load_config
from flarecast.errors import ConfigError, InputFileError, ModelError, StoreError
from flarecast.evaluate.scoring import evaluate_model
from flarecast.forecast.files import backtest, read_forecasts, schema, validate, write_forecasts
from flarecast.forecast.issue import ForecastRefusal, data_span, forecast
from flarecast.forecast.request import ForecastRequest, Inputs, IssueTimes
from flarecast.ingest import store as st
from flarecast.model.modeldir import model_id, read_card
from flarecast.samples import windows_at
from flarecast.samples.build import samples_from_store
from flarecast.train.loop import train
from tests.conftest import TINY

runner = CliRunner()
G16 = [f"goes/sci_xrsf-l2-avg1m_g16_d2017090{d}_v2-2-0.nc" for d in range(4, 9)]


@pytest.fixture(scope="module")
def model(sim_store, tmp_path_factory):
    """A CE model trained one epoch on the simulated GOES-16-format store (30-minute steps, 24 h window)."""
    cfg = load_config(builtin_config("demo"), TINY + ["train.epochs=1"])
    out = tmp_path_factory.mktemp("model") / "m"
    train(samples_from_store(sim_store, cfg.samples), cfg, out)
    return out


def _store_with(tmp_path, sim_store, goes):
    path = tmp_path / "store.zarr"
    st.write_groups(path, {"goes": goes, "events": st.read_events(sim_store).load()})
    return path


def _served(store, cfg, times, norm, *, catalogue=True):
    """The windows a forecast builds at ``times`` from ``store`` (the config's source over its data span, the flare
    catalogue unless ``catalogue`` is False), normalised with the training statistics ``norm``."""
    from flarecast.samples.labels import Catalogue

    series = {"goes": st.read_goes, "sharp": st.read_sharp}[cfg.source](store)
    first, last = data_span(series, cfg)
    cat = Catalogue.from_events(st.read_events(store)) if catalogue else None
    return windows_at(series, cat, cfg, times, norm=norm, data_start=first, data_end=last)


def test_windows_are_the_training_windows(sim_store, model):
    # Training/serving skew would show here: the forecast's inputs at an issue time must be bit-identical to the
    # window the samples module builds for it from the whole store, with the card's normalisation.
    card = read_card(model)
    cfg = card.run_config().samples
    norm = card.norm()
    samples = samples_from_store(sim_store, cfg, norm=norm)
    idx = np.flatnonzero(samples.split == "test")[::7]
    win = _served(sim_store, cfg, samples.issue_time[idx], norm, catalogue=False)
    assert win.refused == []
    np.testing.assert_array_equal(win.issue_time, samples.issue_time[idx])
    np.testing.assert_array_equal(win.gather(np.arange(idx.size)), samples.gather(idx))


def test_evaluate_and_forecast_feed_the_model_identical_arrays_and_get_identical_probabilities(
        sim_store, model, monkeypatch):
    # One feature pipeline and one inference path: the arrays reaching the network and the probabilities coming
    # out must be the same bits whether a window is scored by `evaluate` or issued by `forecast`.
    from flarecast.evaluate.scoring import model_forecasts
    from flarecast.model.network import TemporalCNN

    seen: list[np.ndarray] = []
    forward = TemporalCNN.forward
    monkeypatch.setattr(TemporalCNN, "forward", lambda self, x: seen.append(x.numpy().copy()) or forward(self, x))
    card = read_card(model)
    samples = samples_from_store(sim_store, card.run_config().samples, norm=card.norm())
    idx = np.flatnonzero(samples.split == "test")[::3]
    scored = model_forecasts(model, samples, idx).probs["model"]
    evaluated_inputs = np.concatenate(seen)
    seen.clear()
    doc = forecast(model, Inputs(store=sim_store), IssueTimes(at=[str(t) for t in samples.issue_time[idx]]))
    np.testing.assert_array_equal(np.concatenate(seen), evaluated_inputs)
    issued = np.array([r["probability"] for r in doc["forecasts"]]).reshape(idx.size, len(card.targets))
    assert idx.size > 20 and np.isfinite(issued).all()
    np.testing.assert_array_equal(issued, scored)


def test_regime_windows_are_the_training_windows_and_need_their_lookback(sim_store):
    # The background reads 7 days of XRS-B before the window and the history channels 3 days of catalogue:
    # the forecast must read that far back to give the training windows bit for bit.
    cfg = load_config(builtin_config("demo"), TINY + ["samples.channels=[log_xrsb, dlog_xrsb, missing, "
                                                      "history_ge_m_3d, history_class_3d, log_xrsb_median_7d]"]).samples
    samples = samples_from_store(sim_store, cfg)
    norm = (samples.norm_mean, samples.norm_std)
    idx = np.flatnonzero(samples.split == "test")[::7]
    win = _served(sim_store, cfg, samples.issue_time[idx], norm)
    assert win.refused == []
    np.testing.assert_array_equal(win.gather(np.arange(idx.size)), samples.gather(idx))
    # The first window training kept is the first a forecast accepts: 30 min earlier the background's span
    # starts before the data.
    t0 = samples.issue_time.min()
    early = _served(sim_store, cfg, np.array([t0 - np.timedelta64(30, "m"), t0]), norm)
    assert [r["reason"] for r in early.refused] == ["outside_data"]
    assert "background span" in early.refused[0]["detail"]
    np.testing.assert_array_equal(early.gather(np.arange(1)), samples.gather(np.array([0])))


def test_sharp_windows_with_history_are_the_training_windows(sim_store, tmp_path):
    # Per-region windows: each region's own grid, the flare-history channels from its own ARs' flares.
    import shutil

    from flarecast.ingest.pipeline import ingest

    store = tmp_path / "sharp.zarr"
    shutil.copytree(sim_store, store)
    ingest("sharp", [sim_store.parent / "raw" / "sharp"], store=store)
    cfg = load_config(builtin_config("demo"), [
        "samples.source=sharp", "samples.resample=last", "samples.cadence=96min", "samples.stride=96min",
        "samples.channels=[log_USFLUX, MEANGBZ, missing, history_class, history_ge_c]"]).samples
    samples = samples_from_store(store, cfg)
    norm = (samples.norm_mean, samples.norm_std)
    idx = np.flatnonzero(samples.split == "val")[::5]
    win = _served(store, cfg, np.unique(samples.issue_time[idx]), norm)
    where = {(t, r): i for i, (t, r) in enumerate(zip(win.issue_time.tolist(), win.region.tolist(), strict=True))}
    mine = [where[(t, r)] for t, r in zip(samples.issue_time[idx].tolist(), samples.region[idx].tolist(),
                                          strict=True)]
    assert len(set(win.region.tolist())) > 1
    np.testing.assert_array_equal(win.gather(np.array(mine)), samples.gather(idx))


def test_backtest_of_forecasts_at_test_times_equals_model_evaluation(sim_store, model, tmp_path):
    card = read_card(model)
    samples = samples_from_store(sim_store, card.run_config().samples, norm=card.norm())
    test_times = samples.issue_time[samples.split == "test"]
    doc = forecast(model, Inputs(store=sim_store), IssueTimes(at=[str(t) for t in test_times]))
    assert len(doc["forecasts"]) == test_times.size * 3
    evaluated = evaluate_model(model, samples, split="test", n_boot=200)
    for suffix in (".json", ".csv"):
        path = write_forecasts(doc, tmp_path / f"f{suffix}")
        assert read_forecasts(path) == doc["forecasts"]
        scored = backtest(path, store=sim_store, n_boot=200)
        assert scored.n_windows == evaluated.n_windows and scored.dropped == {"beyond_catalogue": 0}
        for target in card.targets:
            for method in ("model", "model@0.5", "climatology", "persistence"):
                a, b = scored.targets[target][method], evaluated.targets[target][method]
                assert [a[k] for k in ("positives", "tp", "fp", "fn", "tn")] == \
                       [b[k] for k in ("positives", "tp", "fp", "fn", "tn")], (target, method)
                assert a["bss"]["value"] == pytest.approx(b["bss"]["value"], abs=1e-6)


def test_goes16_september_2017_forecast_validates_and_repeats(real_data, model, tmp_path):
    files = [str(real_data / f) for f in G16]
    args = ["forecast", str(model), *sum((["--goes", f] for f in files), []), "--from", "2017-09-05T00:00",
            "--to", "2017-09-09T00:00", "--every", "3h", "--out"]
    first = runner.invoke(app, [*args, str(tmp_path / "a.json"), "--json"])
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    jsonschema.validate(doc, schema())
    assert doc["issue_times"] == 33 and len(doc["forecasts"]) == 33 * 3 and doc["refused"] == []
    assert doc["inputs"]["goes"]["files"] == 5 and doc["model_id"] == model_id(model)
    probs = [r["probability"] for r in doc["forecasts"]]
    assert all(0 <= p <= 1 for p in probs) and len(set(probs)) > 3
    # GOES-16 L2 masks ~2% of the minutes (eclipse season, flagged data): coverage below 1, above the tolerance.
    assert 0.8 <= min(r["coverage"] for r in doc["forecasts"]) < 1
    second = runner.invoke(app, [*args, str(tmp_path / "b.json")])
    assert second.exit_code == 0, second.output
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_a_gap_gives_the_refusal_not_a_number(real_data, model):
    files = [str(real_data / f) for f in G16 if "0906" not in f]  # the X9.3 day left out
    result = runner.invoke(app, ["forecast", str(model), *sum((["--goes", f] for f in files), []),
                                 "--at", "2017-09-07T06:00", "--strict"])
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    # 18 of the window's 24 hours fall on the missing day; masked minutes elsewhere add to it.
    assert "2017-09-07T06:00:00Z" in lines[0] and "of the window's input is missing" in lines[0]
    doc = forecast(model, Inputs(goes=files),
                   IssueTimes(at=["2017-09-07T06:00", "2017-09-05T06:00"]), skip_refused=True)
    assert [r["issue_time"] for r in doc["forecasts"]] == ["2017-09-05T06:00:00Z"] * 3
    (refusal,) = doc["refused"]
    assert refusal["reason"] == "too_much_missing" and 0.15 < refusal["coverage"] < 0.25


def test_issue_times_off_the_grid_or_outside_the_data_are_refused(sim_store, model):
    with pytest.raises(ConfigError, match="2018-01-20T12:00:00Z or 2018-01-20T12:30:00Z"):
        forecast(model, Inputs(store=sim_store), IssueTimes(at=["2018-01-20T12:10"]))
    with pytest.raises(ForecastRefusal, match="outside the data"):
        forecast(model, Inputs(store=sim_store),
                 IssueTimes(at=["2018-01-01T12:00"]))  # the window would start before the data
    with pytest.raises(ForecastRefusal, match="outside the data"):
        forecast(model, Inputs(store=sim_store),
                 IssueTimes(at=["2018-02-10T00:30"]))  # the last record starts 2018-02-09T23:59


def test_files_lacking_a_kind_the_model_needs_name_the_option_to_add(sim_store, model):
    """Forecasting from files, the missing kind is named by its option, not as the temporary store's group."""
    from flarecast.forecast.issue import open_inputs

    raw = sim_store.parent / "raw"
    with pytest.raises(ConfigError, match=r"needs flare catalogue data and no --events files were given: add "
                                          r"--events FILES, or forecast from a store with --store"):
        with open_inputs(Inputs(goes=[raw / "goes"])) as path:
            st.read_events(path)  # what a model with flare-history channels, or the fallbacks, read
    with pytest.raises(StoreError, match="no flare event data in store"), open_inputs(Inputs(store=sim_store)) as path:
        st.read_group(path.parent / "none.zarr", "events")  # a store of the user's own keeps the store's message
    result = runner.invoke(app, ["forecast", str(model), "--events", str(raw / "events"), "--at", "2018-01-20T12:00"])
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and "--goes FILES" in lines[0], result.output
    assert "flarecast-forecast-" not in result.output


def test_latest_is_the_last_step_the_records_complete(sim_store, model, tmp_path):
    assert forecast(model, Inputs(store=sim_store),
                    IssueTimes(latest=True))["forecasts"][0]["issue_time"] == "2018-02-10T00:00:00Z"
    goes = st.read_goes(sim_store).load()
    cut = _store_with(tmp_path, sim_store, goes.sel(time=slice(None, "2018-02-05T12:07")))
    # Records until 12:07 (each covering a minute) complete the 11:30-12:00 step, not 12:00-12:30.
    assert forecast(model, Inputs(store=cut),
                    IssueTimes(latest=True))["forecasts"][0]["issue_time"] == "2018-02-05T12:00:00Z"


def test_issue_forecast_writes_what_it_returns_and_refuses_a_bad_format_before_forecasting(sim_store, model,
                                                                                           tmp_path):
    from flarecast.forecast.ops import issue_forecast

    times = IssueTimes(at=["2018-01-20T12:00", "2018-01-21T12:00"])
    doc = issue_forecast(ForecastRequest([model], Inputs(store=sim_store), times), out=tmp_path / "f.csv")
    assert read_forecasts(tmp_path / "f.csv") == doc["forecasts"] and len(doc["forecasts"]) == 2 * 3
    ccmc = issue_forecast(ForecastRequest([model], Inputs(store=sim_store),
                                          IssueTimes(at=["2018-01-20T12:00"])), out=tmp_path / "c.json", fmt="ccmc")
    sub = json.loads((tmp_path / "c.json").read_text())  # one issue time: one submission object
    assert sub["forecast_submission"]["issue_time"].startswith("2018-01-20T12:00") and ccmc["forecasts"]
    with pytest.raises(ConfigError, match="--format 'xml'"):  # not the missing store: nothing was forecast
        issue_forecast(ForecastRequest([model], Inputs(store=tmp_path / "none.zarr"),
                                       IssueTimes(latest=True)), out=tmp_path / "x.json", fmt="xml")
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize("change, message", [
    (lambda g: g.assign(xrsb=g["xrsb"].assign_attrs(units="erg cm-2 s-1")), "expects 'W m-2'"),
    (lambda g: g.isel(time=slice(None, None, 60)), "cadence 1h is coarser than the model's 30min"),
    (lambda g: g.assign(xrsa=g["xrsa"] * np.nan), "no usable XRS-A"),
    (lambda g: g.drop_vars("xrsa"), "need 'xrsa', which the inputs lack"),
])
def test_inputs_that_do_not_fit_the_card_are_refused(sim_store, model, tmp_path, change, message):
    path = _store_with(tmp_path, sim_store, change(st.read_goes(sim_store).load()))
    with pytest.raises(ModelError, match=message):
        forecast(model, Inputs(store=path), IssueTimes(at=["2018-01-20T12:00"]))


def test_schema_is_valid_and_not_vacuous(sim_store, model, tmp_path):
    jsonschema.Draft202012Validator.check_schema(schema())
    doc = forecast(model, Inputs(store=sim_store), IssueTimes(at=["2018-01-20T12:00"]))
    validate(doc)
    bad = json.loads(json.dumps(doc))
    bad["forecasts"][1]["probability"] = 1.5
    with pytest.raises(InputFileError, match="forecasts/1/probability"):
        validate(bad)
    path = tmp_path / "f.csv"
    write_forecasts(doc, path)
    path.write_text(path.read_text().replace(",>=M,", ",>=Q,"))
    with pytest.raises(InputFileError, match="f.csv"):
        read_forecasts(path)


def test_card_prints_the_model_readably_and_as_json(model):
    text = runner.invoke(app, ["card", str(model)])
    assert text.exit_code == 0, text.output
    card = read_card(model)
    assert model_id(model) in text.output and f"{card.threshold('>=M'):.3f}" in text.output
    as_json = json.loads(runner.invoke(app, ["card", str(model), "--json"]).stdout)
    assert as_json["model_id"] == model_id(model) and as_json["weights_sha256"] == card.weights_sha256
