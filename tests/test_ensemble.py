"""CV ensembles: one directory that loads and predicts like a single model; OOF predictions from the right members;
the dask path writes the same bytes as local processes; evaluate, forecast, card and cv accept an ensemble."""

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from flarecast import metrics as fm
from flarecast.cli import app
from flarecast.config import ModelConfig, builtin_config, load_config
from flarecast.errors import ModelError
from flarecast.evaluate import baselines
from flarecast.forecast.issue import forecast
from flarecast.forecast.request import Inputs, IssueTimes
from flarecast.jsonio import dumps
from flarecast.model.card import EnsembleCard
from flarecast.model.ensemble import COMBINE, Ensemble
from flarecast.model.inference import predict
from flarecast.model.modeldir import WEIGHTS, load_model, model_id, read_card, save_ensemble_card, save_model
from flarecast.model.network import TemporalCNN
from flarecast.model.numpy_net import NumpyEnsemble, load_numpy_model, predict_numpy
from flarecast.samples.build import samples_from_store
from flarecast.studies.evaluation import evaluate
from flarecast.train.cv import make_folds
from flarecast.train.ensemble import train_ensemble
from flarecast.util import sha256_file
from tests.conftest import TINY

runner = CliRunner()


class Windows:
    def __init__(self, x):
        self.x = x

    def gather(self, idx):
        return self.x[idx]


def write_ensemble(root, net, n_members, calibration):
    cfg = load_config(builtin_config("demo"), ["model.hidden=8", "samples.cadence=1h", "samples.window=16h",
                                                 "samples.convention=swpc"])
    card = {"channels": ["a", "b"], "targets": [">=M", "X"], "normalisation": {"mean": [0.0, 0.0], "std": [1.0, 1.0]},
            "thresholds": {">=M": 0.5, "X": 0.5}, "climatology": {">=M": 0.1, "X": 0.01}, "config": cfg.to_dict()}
    for k in range(n_members):
        save_model(root / "members" / f"m{k}", net, card)
    return save_ensemble_card(root, {
        **card, "kind": "ensemble", "combine": COMBINE, "calibration": calibration, "threshold_rule": "tss",
        "members": [{"dir": f"members/m{k}", "fold": f"block{k}", "seed": 0} for k in range(n_members)],
        "cv": {"scheme": "blocked", "folds": [], "oof_file": "oof.parquet", "oof_scores": {}}})


def test_an_ensemble_of_identical_members_equals_the_member(tmp_path):
    torch.manual_seed(0)
    net = TemporalCNN(2, 2, 16, ModelConfig(hidden=8)).eval()
    x = Windows(np.random.default_rng(0).normal(size=(300, 2, 16)).astype(np.float32))
    none = {"method": "none"}
    write_ensemble(tmp_path / "e", net, 3, {">=M": none, "X": none})
    ens, card = load_model(tmp_path / "e")
    assert isinstance(ens, Ensemble) and len(ens.members) == 3 and card.format == "flarecast-ensemble/1"
    single = predict(net, x, np.arange(300), batch_size=128)
    np.testing.assert_allclose(predict(ens, x, np.arange(300), batch_size=128), single, rtol=0, atol=1e-7)
    # A calibration map is applied after averaging: Platt with a = 1, b = 0 is the identity.
    identity = {"method": "platt", "a": 1.0, "b": 0.0}
    write_ensemble(tmp_path / "p", net, 2, {">=M": identity, "X": {"method": "isotonic", "x": [0, 1], "y": [0, 0.5]}})
    got = predict(load_model(tmp_path / "p")[0], x, np.arange(300))
    np.testing.assert_allclose(got[:, 0], single[:, 0], atol=1e-6)
    np.testing.assert_allclose(got[:, 1], single[:, 1] / 2, atol=1e-6)



def test_the_numpy_ensemble_calibrates_as_the_torch_ensemble_does(tmp_path):
    """Platt and isotonic maps applied after averaging, by the CPU forecast's numpy path (no torch) and by torch."""
    torch.manual_seed(1)
    net = TemporalCNN(2, 2, 16, ModelConfig(hidden=8)).eval()
    x = Windows(np.random.default_rng(4).normal(size=(300, 2, 16)).astype(np.float32))
    cal = {">=M": {"method": "platt", "a": 1.7, "b": -0.4}, "X": {"method": "isotonic", "x": [0, 0.3, 0.6, 1],
                                                                   "y": [0.01, 0.05, 0.5, 0.9]}}
    write_ensemble(tmp_path / "e", net, 2, cal)
    mine, card = load_numpy_model(tmp_path / "e")
    assert isinstance(mine, NumpyEnsemble) and len(mine.members) == 2 and card == read_card(tmp_path / "e")
    want = predict(load_model(tmp_path / "e")[0], x, np.arange(300))
    got = predict_numpy(mine, x, np.arange(300), batch_size=128)
    raw = predict(net, x, np.arange(300))
    assert np.abs(want - raw).max() > 0.05  # the maps change the probabilities
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)

def test_an_ensemble_with_a_changed_member_is_refused(tmp_path):
    net = TemporalCNN(2, 2, 16, ModelConfig(hidden=8))
    write_ensemble(tmp_path / "e", net, 2, {">=M": {"method": "none"}, "X": {"method": "none"}})
    torch.manual_seed(5)
    save_model(tmp_path / "e" / "members" / "m1", TemporalCNN(2, 2, 16, ModelConfig(hidden=8)),
               read_card(tmp_path / "e" / "members" / "m1"))
    with pytest.raises(ModelError, match="members/m1"):
        read_card(tmp_path / "e")


CV = ["train.epochs=1", "train.cv.scheme=blocked", "train.cv.k=3", "train.cv.calibration=auto"]


@pytest.fixture(scope="module")
def ensemble(sim_store, tmp_path_factory):
    cfg = load_config(builtin_config("demo"), TINY + CV)
    samples = samples_from_store(sim_store, cfg.samples)
    out = tmp_path_factory.mktemp("ens") / "e"
    return train_ensemble(samples, cfg, out), samples, cfg


def test_oof_predictions_come_from_the_fold_that_held_the_window_out(ensemble):
    result, samples, cfg = ensemble
    folds = make_folds(samples, cfg.train.cv)
    card = read_card(result.model_dir)
    frame = pd.read_parquet(result.model_dir / card.cv.oof_file)
    held = np.concatenate([f.indices("test") for f in folds])
    assert len(frame) == held.size == np.unique(held).size
    assert [m.fold for m in card.members] == [f.name for f in folds]
    for fold, member in zip(folds, card.members, strict=True):
        rows = frame["fold"] == fold.name
        idx = fold.indices("test")
        np.testing.assert_array_equal(frame.loc[rows, "issue_time"].dt.tz_localize(None).to_numpy(),
                                      samples.issue_time[idx])
        net, _ = load_model(result.model_dir / member.dir)
        np.testing.assert_allclose(frame.loc[rows, "p_raw[>=M]"], predict(net, samples, idx)[:, 1], atol=1e-6)
        # The member's training windows are the fold's: its card's climatology is their base rate.
        member_card = read_card(result.model_dir / member.dir)
        assert member_card.base_rate(">=M") == pytest.approx(samples.y[fold.indices("train"), 1].mean())
    assert card.threshold_rule == "tss" and set(card.calibration) == {">=C", ">=M", "X"}
    assert not (result.model_dir / card.members[0].dir / "checkpoint.safetensors").exists()



def test_the_numpy_path_forecasts_the_cv_ensembles_probabilities(ensemble):
    """Three fold members, averaged and calibrated (calibration auto): numpy and torch agree on every window."""
    result, samples, _ = ensemble
    idx = np.arange(samples.issue_time.size)
    want = predict(load_model(result.model_dir)[0], samples, idx)
    got = predict_numpy(load_numpy_model(result.model_dir)[0], samples, idx)
    assert got.dtype == np.float32 and got.shape == want.shape and idx.size > 500
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)

def test_the_ensemble_card_reads_back_as_written(ensemble):
    result, _, _ = ensemble
    text = (result.model_dir / "card.json").read_text()
    card = read_card(result.model_dir)
    assert isinstance(card, EnsembleCard) and dumps(card.to_dict()) == text
    assert card.cv.oof_file == f"oof-{sha256_file(result.model_dir / card.cv.oof_file)[:12]}.parquet"
    assert [f.name for f in card.cv.folds] == ["block0", "block1", "block2"]
    assert [m.dir for m in card.members] == [f"members/block{k}-s0-{m.weights_sha256[:12]}"
                                             for k, m in enumerate(card.members)]
    assert all(m.weights_sha256 == sha256_file(result.model_dir / m.dir / WEIGHTS) for m in card.members)
    assert card.calibration["X"].method == json.loads(text)["calibration"]["X"]["method"]


def test_evaluate_forecast_card_and_cv_accept_an_ensemble_dir(ensemble, sim_store, tmp_path):
    result, samples, _ = ensemble
    model = result.model_dir
    card = read_card(model)
    metrics = evaluate(model, sim_store, split="test", plots=False, n_boot=50)
    assert metrics.thresholds["model"] == card.thresholds and metrics.model_id == model_id(model)
    # An ensemble's thresholds come from its rule on the pooled OOF predictions, not from a validation split.
    assert metrics.threshold_rule == {"rule": "tss", "chosen_on": "pooled out-of-fold predictions"}
    # The test split is outside the CV pool: no member saw it.
    assert metrics.n_windows == samples.indices("test").size
    i = samples.indices("test")[5]
    doc = forecast(model, Inputs(store=sim_store), IssueTimes(at=[str(samples.issue_time[i])]))
    ens, _ = load_model(model)
    assert doc["model_id"] == model_id(model) and doc["thresholds"] == card.thresholds
    # The forecast is the ensemble's calibrated probability for that window, as evaluate scored it.
    np.testing.assert_allclose([r["probability"] for r in doc["forecasts"]], predict(ens, samples, [i])[0], atol=1e-6)
    assert all(r["decision"] == (r["probability"] >= card.threshold(r["target"])) for r in doc["forecasts"])
    shown = runner.invoke(app, ["card", str(model)])
    assert shown.exit_code == 0 and "pooled out-of-fold predictions by maximising TSS" in shown.output
    scored = runner.invoke(app, ["cv", str(model), "--json", "--n-boot", "50", "--out", str(tmp_path / "cv.json")])
    assert scored.exit_code == 0, scored.output
    assert json.loads((tmp_path / "cv.json").read_text()) == json.loads(scored.output)  # NaN is written as null
    rows = json.loads(scored.output)["targets"][">=M"]
    assert [r["period"] for r in rows] == ["block0", "block1", "block2", "pooled"]
    assert sum(r["n"] for r in rows[:-1]) == rows[-1]["n"]
    frame = pd.read_parquet(model / card.cv.oof_file)
    for r in rows:  # the hindsight range: every listed threshold beats persistence on the period, the flag agrees
        e, pers, b = r["ensemble"], r["persistence"], r["beats_persistence"]
        assert b["at_threshold"] == all(None not in (e[s]["value"], pers[s]["value"])  # NaN is null here
                                        and e[s]["value"] > pers[s]["value"] for s in ("tss", "hss"))
        sel = (frame["fold"] == r["period"]).to_numpy() if r["period"] != "pooled" else np.ones(len(frame), bool)
        y = frame.loc[sel, "y[>=M]"].to_numpy()
        base = fm.contingency(y, baselines.persistence(frame.loc[sel, "prev_flux"].to_numpy(), ">=M", card.convention))
        for lo, hi in b["thresholds"]:
            for t in (lo, hi):
                c = fm.contingency(y, frame.loc[sel, "p_xfit[>=M]"].to_numpy() >= t)
                assert fm.tss(c) > fm.tss(base) and fm.hss(c) > fm.hss(base)
    assert any(r["beats_persistence"]["thresholds"] for r in rows)  # the loop above checked something
    bad = runner.invoke(app, ["cv", str(model), "--rule", "f1"])
    assert bad.exit_code == 2 and "threshold" in bad.output


@pytest.mark.parametrize("damage", ["missing", "garbage", "cut", "other columns"])
def test_cv_on_a_missing_or_damaged_oof_file_is_one_line_naming_it(damage, ensemble, tmp_path):
    """issue 21, class 6: a missing or garbage OOF file gave a traceback in `flarecast cv`."""
    result, _, _ = ensemble
    model = tmp_path / "e"
    shutil.copytree(result.model_dir, model)
    oof = model / read_card(model).cv.oof_file
    if damage == "missing":
        oof.unlink()
    elif damage == "garbage":
        oof.write_bytes(b"\x00\xff not parquet " * 50)
    elif damage == "cut":
        oof.write_bytes(oof.read_bytes()[: oof.stat().st_size // 2])
    else:
        pd.DataFrame({"issue_time": [0], "fold": ["a"]}).to_parquet(oof)
    out = runner.invoke(app, ["cv", str(model), "--n-boot", "10"])
    lines = out.stderr.strip().splitlines()
    assert out.exit_code == 2 and len(lines) == 1 and "Traceback" not in out.output, out.output
    assert lines[0].startswith(f"error: {oof}: ") and "train the ensemble again" in lines[0]
    assert ("missing" if damage == "missing" else "column" if damage == "other columns" else "Parquet") in lines[0]


def test_dashboard_threshold_plot_and_card_describe_an_ensembles_thresholds_with_one_sentence(ensemble):
    """Issue 22: the dashboard once said "(validation, tss)" and the threshold plot "chosen on validation" for an
    ensemble whose thresholds come from its pooled out-of-fold predictions, as `flarecast card` said."""
    from flarecast.evaluate.scoring import model_forecasts
    from flarecast.jobs.dashboard import _card_rows
    from flarecast.report.plots import threshold_data, threshold_label

    result, samples, _ = ensemble
    model = result.model_dir
    dashboard = dict(_card_rows(model))["thresholds"]
    plot = threshold_label(threshold_data(model_forecasts(model, samples, samples.indices("test")), ">=M"))
    card = " ".join(runner.invoke(app, ["card", str(model)], env={"COLUMNS": "1000"}).output.split())
    said = [re.search(r"chosen on the [^()]*? by [^()]*[^() ]", text) for text in (dashboard, plot, card)]
    assert [m and m.group(0) for m in said] == [read_card(model).rule().sentence()] * 3
    assert said[0].group(0) == "chosen on the pooled out-of-fold predictions by maximising TSS"


def test_a_single_model_dir_is_refused_by_cv_and_not_overwritten(ensemble, tmp_path):
    result, samples, cfg = ensemble
    single = tmp_path / "single"
    single.mkdir()
    shutil.copy(result.model_dir / result.members[0].dir / WEIGHTS, single / WEIGHTS)
    before = (single / WEIGHTS).read_bytes()
    with pytest.raises(ModelError, match="single model"):
        train_ensemble(samples, cfg, single)
    assert (single / WEIGHTS).read_bytes() == before


def test_training_again_keeps_the_last_ensemble_whole_until_the_new_card_is_written(ensemble, tmp_path, monkeypatch):
    """Interrupted after every new member and the new OOF file are written, just before the new card (the commit
    point): the directory still holds the last ensemble, byte for byte, and it loads; trained again to the end, the
    new card names only new files and nothing of the old ensemble is left."""
    import flarecast.train.ensemble as ens_module

    result, samples, cfg = ensemble
    model = tmp_path / "e"
    shutil.copytree(result.model_dir, model)
    before = {p.relative_to(model): p.read_bytes() for p in model.rglob("*") if p.is_file()}
    old_id, old = model_id(model), read_card(model)
    other = cfg.replace(**{"train.cv.seeds": [1]})  # other members, another OOF file

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ens_module, "save_ensemble_card", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_ensemble(samples, other, model)
    assert {p: model.joinpath(p).read_bytes() for p in before} == before
    assert model_id(model) == old_id and load_model(model)[1] == old
    monkeypatch.undo()
    new = read_card(train_ensemble(samples, other, model).model_dir)
    assert {m.seed for m in new.members} == {1} and model_id(model) != old_id
    files = sorted(str(p.relative_to(model)) for p in model.rglob("*") if p.is_file())
    assert files == sorted(["card.json", new.cv.oof_file, *(f"{m.dir}/{f}" for m in new.members
                                                             for f in ("card.json", WEIGHTS, "train_log.jsonl"))])

@pytest.mark.slow
def test_dask_cluster_writes_the_same_weights_as_local_processes(sim_store, tmp_path):
    pytest.importorskip("distributed", reason="dask.distributed is the 'cluster' extra: pip install flarecast[cluster]")
    cfg = load_config(builtin_config("demo"), TINY + CV + ["train.cv.k=2", "train.cv.seeds=[0, 1]"])
    samples = samples_from_store(sim_store, cfg.samples)
    local = train_ensemble(samples, cfg, tmp_path / "local")
    dask = train_ensemble(samples, cfg.replace(**{"train.cv.cluster": "local"}), tmp_path / "dask")
    a, b = read_card(local.model_dir), read_card(dask.model_dir)
    assert len(a.members) == 4
    assert [m.weights_sha256 for m in a.members] == [m.weights_sha256 for m in b.members]
    assert a.cv.oof_file == b.cv.oof_file  # named by its sha256: the same bytes


def test_flarecast_train_gives_the_ensemble_when_the_config_asks_for_it(sim_store, tmp_path):
    args = ["train", str(builtin_config("demo")), *TINY, *CV, "--store", str(sim_store), "--out", str(tmp_path / "e")]
    refused = runner.invoke(app, [*args, "--resume"])
    assert refused.exit_code == 2 and "retrained whole" in refused.output
    done = runner.invoke(app, [*args, "--json"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    assert summary["members"] == 3 and summary["folds"] == ["block0", "block1", "block2"]
    assert summary["thresholds"] == read_card(tmp_path / "e").thresholds
