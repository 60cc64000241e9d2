"""``train.cv.blend: logistic``: logistic members on window statistics blended with the networks of an ensemble."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.config import builtin_config, load_config
from flarecast.errors import ModelError
from flarecast.evaluate import baselines
from flarecast.metrics.thresholds import POOLED_OOF, ThresholdRule
from flarecast.model.ensemble import apply_calibration
from flarecast.model.inference import predict
from flarecast.model.linear import BLEND_GRID, fit_window_logistic, gathered_stats, window_stats
from flarecast.model.modeldir import load_model, read_card
from flarecast.model.numpy_net import load_numpy_model, predict_numpy
from flarecast.samples.build import samples_from_store
from flarecast.train.calibration import choose_blend
from flarecast.train.ensemble import BLENDED, train_ensemble, transferred
from tests.conftest import TINY
from tests.test_ensemble import CV, Windows

TSS = ThresholdRule.parse("tss", chosen_on=POOLED_OOF)


def _windows(n=600, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3, 12)).astype(np.float32)
    y = np.stack([(x[:, 0, -1] + rng.normal(0, 0.5, n) > 0.5), np.zeros(n, bool)], axis=1).astype(np.int8)
    return Windows(x), y


def test_a_logistic_member_gives_the_logistic_baselines_probabilities():
    x, y = _windows()
    idx = np.arange(len(y))
    member = fit_window_logistic(gathered_stats(x, idx, chunk=100), y)
    feats = window_stats(x.x)
    # The baseline of `evaluate` and `compare`, fitted on the same statistics of the same windows.
    sk = baselines.estimator("logistic").fit(feats, y[:, 0])
    got = predict(member, x, idx, batch_size=128)
    np.testing.assert_allclose(got[:, 0], sk.predict_proba(feats)[:, 1], atol=1e-6)
    # The second target has no event in training: the forecast is its training rate, clipped away from 0.
    np.testing.assert_allclose(got[:, 1], 1e-6, rtol=1e-3)
    # Statistics by hand for one window: last, mean and largest value per channel, channel by channel.
    w = x.x[7].astype(np.float64)
    np.testing.assert_allclose(feats[7], [v for c in w for v in (c[-1], c.mean(), c.max())])


def test_the_blend_weight_and_its_transfer_use_other_folds_only():
    rng = np.random.default_rng(1)
    n = 900
    y = (rng.random(n) < 0.3).astype(float)
    p_net = np.clip(0.3 + 0.4 * (y - 0.3) + rng.normal(0, 0.2, n), 0.01, 0.99)
    p_lin = np.clip(0.3 + 0.2 * (y - 0.3) + rng.normal(0, 0.1, n), 0.01, 0.99)
    fold = np.repeat([0, 1, 2], n // 3)
    assert choose_blend(y, p_net, p_lin) in BLEND_GRID
    p_x, thr = transferred(y, p_net, fold, "none", TSS, parts=(p_net, p_lin))
    # Fold 0's weight and threshold come from folds 1 and 2: relabelling fold 0 changes neither.
    y2 = y.copy()
    y2[fold == 0] = 1 - y2[fold == 0]
    p_x2, thr2 = transferred(y2, p_net, fold, "none", TSS, parts=(p_net, p_lin))
    np.testing.assert_array_equal(p_x[fold == 0], p_x2[fold == 0])
    np.testing.assert_array_equal(thr[fold == 0], thr2[fold == 0])
    w = choose_blend(y[fold != 0], p_net[fold != 0], p_lin[fold != 0])
    np.testing.assert_allclose(p_x[fold == 0], (w * p_net + (1 - w) * p_lin)[fold == 0])


@pytest.fixture(scope="module")
def blended(sim_store, tmp_path_factory):
    cfg = load_config(builtin_config("demo"), TINY + CV + ["train.cv.blend=logistic"])
    samples = samples_from_store(sim_store, cfg.samples)
    out = tmp_path_factory.mktemp("blend") / "e"
    return train_ensemble(samples, cfg, out), samples


def test_a_blended_ensemble_forecasts_what_its_card_and_oof_file_say(blended, tmp_path):
    result, samples = blended
    model = result.model_dir
    card = read_card(model)
    assert card.combine == BLENDED and card.blend.method == "logistic" and card.blend.file.startswith("linear-")
    assert set(card.blend.weights) == set(card.targets) and set(card.blend.weights.values()) <= set(BLEND_GRID)
    frame = pd.read_parquet(model / card.cv.oof_file)
    ens, _ = load_model(model)
    for t in card.targets:
        y, net, lin = frame[f"y[{t}]"].to_numpy(float), frame[f"p_net[{t}]"], frame[f"p_linear[{t}]"]
        # The card's weight is the pooled OOF choice, and p_raw is the blend it makes.
        assert card.blend.weights[t] == choose_blend(y, net.to_numpy(), lin.to_numpy())
        w = card.blend.weights[t]
        np.testing.assert_allclose(frame[f"p_raw[{t}]"], w * net + (1 - w) * lin)
    # Each fold's OOF logistic probabilities are its logistic member's, as the loaded ensemble computes them.
    times = frame["issue_time"].dt.tz_localize(None).to_numpy("datetime64[ns]")
    for i, name in enumerate(card.blend.folds):
        rows = (frame["fold"] == name).to_numpy()
        idx = np.searchsorted(samples.issue_time, times[rows])
        np.testing.assert_allclose(frame.loc[rows, [f"p_linear[{t}]" for t in card.targets]],
                                   predict(ens.linear[i], samples, idx), atol=1e-6)
    # A forecast is calibrate(w x mean of the networks + (1 - w) x mean of the logistic members).
    idx = samples.indices("test")[:50]
    nets = np.mean([predict(m, samples, idx) for m in ens.members], axis=0)
    lin = np.mean([predict(m, samples, idx) for m in ens.linear], axis=0)
    want = np.stack([apply_calibration(card.blend.weights[t] * nets[:, j] + (1 - card.blend.weights[t]) * lin[:, j],
                                       card.calibration[t]) for j, t in enumerate(card.targets)], axis=1)
    np.testing.assert_allclose(predict(ens, samples, idx), want, atol=1e-5)
    shown = CliRunner().invoke(app, ["card", str(model)])
    assert shown.exit_code == 0 and "networks' weight" in shown.output
    scored = CliRunner().invoke(app, ["cv", str(model), "--rule", "hss", "--json", "--n-boot", "20"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.output)["threshold_rule"] == "hss"



def test_the_numpy_path_forecasts_the_blended_ensembles_probabilities(blended):
    """Networks, logistic members, blend weights and calibration, without torch: torch's probabilities."""
    result, samples = blended
    idx = np.arange(samples.issue_time.size)
    ens, card = load_model(result.model_dir)
    mine, card_np = load_numpy_model(result.model_dir)
    assert card_np == card and len(mine.linear) == len(ens.linear) == len(card.blend.folds)
    x = samples.gather(idx)
    for theirs, ours in zip(ens.linear, mine.linear, strict=True):  # the logistic members: float64 both
        np.testing.assert_allclose(ours.logits(x), theirs(torch.from_numpy(x)).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(predict_numpy(mine, samples, idx), predict(ens, samples, idx), rtol=0, atol=1e-6)

def test_a_blended_ensemble_with_a_changed_logistic_file_is_refused(blended, tmp_path):
    import shutil

    result, _ = blended
    copy = tmp_path / "e"
    shutil.copytree(result.model_dir, copy)
    linear = copy / read_card(copy).blend.file
    data = bytearray(linear.read_bytes())
    data[-1] ^= 0x01
    linear.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=linear.name):
        load_model(copy)
