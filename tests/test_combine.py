"""Full disk from regions, combinations of models fitted on labelled days, and the CCMC scoreboard's regions."""

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.config import builtin_config, load_config
from flarecast.errors import ModelError
from flarecast.forecast.ccmc import read_ccmc, to_ccmc, validate_ccmc
from flarecast.forecast.combine import (
    fit_combination,
    forecast_combined,
    read_combination,
    regions_to_full_disk,
)
from flarecast.forecast.files import validate
from flarecast.forecast.issue import forecast
from flarecast.forecast.request import Inputs, IssueTimes
from flarecast.ingest.pipeline import ingest
from flarecast.jsonio import dumps
from flarecast.model.card import CombinationCard
from flarecast.samples.build import samples_from_store
from flarecast.train.loop import train
from tests.conftest import TINY

runner = CliRunner()
SHARP = ["samples.source=sharp", "samples.resample=last", "samples.cadence=96min", "samples.stride=96min",
         "samples.channels=[log_USFLUX, MEANGBZ, missing]", "model.hidden=8", "train.batch_size=64",
         "train.device=cpu", "train.epochs=1"]
EVERY_8H = [f"2018-01-{d:02d}T{h:02d}:00" for d in range(20, 23) for h in (0, 8, 16)]


@pytest.fixture(scope="module")
def members(sim_store, tmp_path_factory):
    """The simulated store with its SHARP regions, a GOES model (30 min steps) and a SHARP model (96 min)."""
    root = tmp_path_factory.mktemp("combine")
    store = root / "store.zarr"
    shutil.copytree(sim_store, store)
    ingest("sharp", [sim_store.parent / "raw" / "sharp"], store=store)
    out = {}
    for name, overrides in (("goes", TINY + ["train.epochs=1"]), ("sharp", SHARP)):
        cfg = load_config(builtin_config("demo"), overrides)
        train(samples_from_store(store, cfg.samples), cfg, root / name)
        out[name] = root / name
    return store, out["goes"], out["sharp"]


def test_the_disk_flares_if_any_region_does(members):
    store, _, sharp = members
    doc = forecast(sharp, Inputs(store=store), IssueTimes(at=EVERY_8H), skip_refused=True)
    full = regions_to_full_disk(doc, [t + ":00Z" for t in EVERY_8H])
    t = "2018-01-21T08:00:00Z"
    own = [r["probability"] for r in doc["forecasts"] if r["issue_time"] == t and r["target"] == ">=M"]
    assert len(own) >= 2
    assert full[(t, ">=M")] == pytest.approx(1 - np.prod([1 - p for p in own]))
    board = to_ccmc(doc)
    validate_ccmc(board)
    sub = next(s["forecast_submission"] for s in board if s["forecast_submission"]["issue_time"] == t)
    (f,) = sub["forecasts"]
    assert f["full_disk"]["probabilities"]["MPlus"] == pytest.approx(full[(t, ">=M")])
    assert f["full_disk"]["probabilities"]["M"] == pytest.approx(max(full[(t, ">=M")] - full[(t, "X")], 0))
    assert sorted(r["harp"] for r in f["regions"]) == sorted(
        r["region"] for r in doc["forecasts"] if r["issue_time"] == t and r["target"] == ">=M")
    assert all(r["noaa_ar"] == (r["noaa_ars"] or [None])[0] for r in f["regions"])


def test_a_combination_is_the_logistic_of_its_members_logits(members, tmp_path):
    store, goes, sharp = members
    out = tmp_path / "combined"
    result = runner.invoke(app, ["combine", str(goes), str(sharp), "--store", str(store), "--from",
                                 "2018-01-03T00:00", "--to", "2018-01-31T16:00", "--every", "8h", "--out", str(out)])
    assert result.exit_code == 0, result.output
    card = json.loads((out / "combination.json").read_text())
    # The typed card is the file: read back and written out, it gives the same bytes.
    assert dumps(read_combination(out).to_dict()) + "\n" == (out / "combination.json").read_text()
    assert [m["source"] for m in card["members"]] == ["goes", "sharp"] and card["fit"]["issue_times"] >= 60
    doc = forecast_combined(out, store, IssueTimes(at=EVERY_8H))
    validate(doc)
    assert doc["source"] == "combined" and len(doc["forecasts"]) == len(EVERY_8H) * len(card["targets"])
    p_goes = {(r["issue_time"], r["target"]): r["probability"]
              for r in forecast(goes, Inputs(store=store), IssueTimes(at=EVERY_8H))["forecasts"]}
    p_fd = regions_to_full_disk(forecast(sharp, Inputs(store=store),
                                         IssueTimes(at=EVERY_8H), skip_refused=True), list(
        {r["issue_time"] for r in doc["forecasts"]}))
    logit = lambda p: np.log(np.clip(p, 1e-4, 1 - 1e-4) / (1 - np.clip(p, 1e-4, 1 - 1e-4)))  # noqa: E731
    for r in doc["forecasts"]:
        w = card["weights"][r["target"]]
        key = (r["issue_time"], r["target"])
        z = w["intercept"] + w["coef"][0] * logit(p_goes[key]) + w["coef"][1] * logit(p_fd[key])
        assert r["probability"] == pytest.approx(1 / (1 + np.exp(-z)), rel=1e-9)
        assert r["decision"] == (r["probability"] >= card["thresholds"][r["target"]])
    cli = runner.invoke(app, ["forecast", str(out), "--store", str(store), "--at", EVERY_8H[0], "--format", "ccmc",
                              "--out", str(tmp_path / "board.json")])
    assert cli.exit_code == 0, cli.output
    assert read_ccmc(tmp_path / "board.json")["probability"].tolist() == pytest.approx(
        [r["probability"] for r in doc["forecasts"][: len(card["targets"])]])
    # An edited card is refused naming the field; the CLI says so in one line.
    edited = json.loads(json.dumps(card))
    edited["weights"][">=M"]["coef"][0] += 1.0
    (out / "combination.json").write_text(json.dumps(edited))
    with pytest.raises(ModelError, match=r"field 'weights.>=M.coef' differs from what was trained.*refit it with"):
        forecast_combined(out, store, IssueTimes(at=EVERY_8H[:1]))
    cli = runner.invoke(app, ["forecast", str(out), "--store", str(store), "--at", EVERY_8H[0]])
    assert cli.exit_code == 2 and len(cli.stderr.strip().splitlines()) == 1 and "'weights.>=M.coef'" in cli.stderr
    # A member retrained in place (its id changes) is refused even where the card is whole: the card here is
    # resealed after the edit, as a refit that kept an old member id would write it.
    card["members"][1]["model_id"] = "0" * 12
    card["fields_sha256"] = CombinationCard.parse(card, "card", "").sealed().fields_sha256
    (out / "combination.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="changed since the combination was fitted"):
        forecast_combined(out, store, IssueTimes(at=EVERY_8H[:1]))


def test_one_member_alone_is_recalibrated_and_keeps_its_order(members, tmp_path):
    store, _, sharp = members
    card = fit_combination([sharp], store=store, start="2018-01-03T00:00", end="2018-01-31T16:00", every="8h",
                           out=tmp_path / "sharp-fd")
    assert len(card.weights[">=C"].coef) == 1
    doc = forecast_combined(tmp_path / "sharp-fd", store, IssueTimes(at=EVERY_8H))
    raw = regions_to_full_disk(forecast(sharp, Inputs(store=store), IssueTimes(at=EVERY_8H), skip_refused=True),
                               [r["issue_time"] for r in doc["forecasts"]])
    rows = [r for r in doc["forecasts"] if r["target"] == ">=C"]
    order_raw = np.argsort([raw[(r["issue_time"], ">=C")] for r in rows], kind="stable")
    calibrated = np.array([r["probability"] for r in rows])[order_raw]
    # Platt scaling with a positive slope keeps the regions' order: recalibration changes levels, not ranking.
    assert card.weights[">=C"].coef[0] > 0 and np.all(np.diff(calibrated) >= -1e-12)
    assert len(set(calibrated.round(6))) > 3


@pytest.fixture(scope="module")
def issue_day_model(sim_store, tmp_path_factory):
    """A model of the 24/48/72 h windows, otherwise :func:`tests.conftest.day_model`'s."""
    cfg = load_config(builtin_config("demo"), TINY + [
        "train.epochs=1", "samples.days=3", "model.head=cumulative", "train.loss.name=ordinal",
        "samples.day_windows=issue"])
    out = tmp_path_factory.mktemp("combine-days") / "issue"
    train(samples_from_store(sim_store, cfg.samples), cfg, out)
    return out


def test_a_combination_of_day_models_is_fitted_per_class_and_day_and_stays_coherent(sim_store, day_model,
                                                                                   issue_day_model, tmp_path):
    """Issue 23: members forecasting >=C@d1 ... X@d3 combine per target, each labelled on its own UT day (the
    fit's base rate of X@d2 is the share of its issue times followed by an X flare on the second UT day after,
    counted here from the catalogue); the separate regressions are made coherent again on every day, and each
    row carries its day's window. Members whose days are other windows are refused."""
    from flarecast.classes import day_target, ordinal
    from flarecast.ingest.store import read_events

    out = tmp_path / "combined"
    model, _ = day_model  # one member: a Platt map per class and day, each fitted apart
    card = fit_combination([model], store=sim_store, start="2018-01-03T00:00",
                           end="2018-01-31T16:00", every="8h", out=out)
    assert set(card.weights) <= {day_target(c, d) for c in (">=C", ">=M", "X") for d in (1, 2, 3)}
    assert {">=C@d1", ">=C@d2", ">=C@d3"} <= set(card.weights)

    ev = read_events(sim_store)
    peak, rank = ev["peak"].values.astype("datetime64[ns]"), ordinal(ev["peak_flux"].values, "true")
    fit = np.arange(np.datetime64("2018-01-03T00:00", "ns"), np.datetime64(card.fit.end.rstrip("Z"), "ns") + 1,
                    np.timedelta64(8, "h"))
    assert fit.size == card.fit.issue_times
    for target in card.weights:
        cls, d = target.split("@d")
        need = {">=C": 1, ">=M": 2, "X": 3}[cls]
        lo = fit.astype("datetime64[D]").astype("datetime64[ns]") + np.timedelta64(int(d), "D")
        hit = [bool(((peak > a) & (peak <= a + np.timedelta64(1, "D")) & (rank >= need)).any()) for a in lo]
        assert card.climatology[target] == pytest.approx(np.mean(hit)), target

    doc = forecast_combined(out, sim_store, IssueTimes(at=EVERY_8H))
    validate(doc)
    by = {(r["issue_time"], r["target"]): r for r in doc["forecasts"]}
    for t in {r["issue_time"] for r in doc["forecasts"]}:
        day0 = np.datetime64(t[:10])
        for d in (1, 2, 3):
            p = [by[(t, day_target(c, d))]["probability"] for c in (">=C", ">=M", "X") if (t, day_target(c, d)) in by]
            assert p == sorted(p, reverse=True), (t, d, p)
            for c in (">=C", ">=M", "X"):
                if (t, day_target(c, d)) in by:
                    r = by[(t, day_target(c, d))]
                    assert (r["valid_from"], r["valid_to"]) == (f"{day0 + np.timedelta64(d, 'D')}T00:00:00Z",
                                                                f"{day0 + np.timedelta64(d + 1, 'D')}T00:00:00Z")
    with pytest.raises(Exception, match="day_windows"):
        fit_combination([model, issue_day_model], store=sim_store, start="2018-01-03T00:00",
                        end="2018-01-31T16:00", every="8h", out=tmp_path / "mixed")
