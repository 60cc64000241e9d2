import numpy as np
import pytest

from flarecast.config import SampleConfig
from flarecast.errors import SampleError
from flarecast.evaluate import baselines
from flarecast.metrics import bss, roc_auc
from flarecast.samples.build import Samples


def synthetic_samples(n=600, seed=0, signal=2.0, targets=(">=M",)) -> Samples:
    """Hourly steps, 8-step windows, one per hour; the label follows the window's last log_xrsb value."""
    rng = np.random.default_rng(seed)
    cfg = SampleConfig(channels=("log_xrsb", "missing"), cadence="1h", window="8h", stride="1h", targets=targets)
    steps = n + 7
    series = np.zeros((2, steps), dtype=np.float32)
    series[0] = rng.normal(size=steps)
    end_index = np.arange(7, steps)
    logit = signal * series[0, end_index] - 1.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.float32)[:, None].repeat(len(targets), axis=1)
    step_end = np.datetime64("2020-01-01T01:00", "ns") + np.arange(steps) * np.timedelta64(1, "h")
    split = np.array(["train"] * (n // 2) + ["val"] * (n // 4) + ["test"] * (n - n // 2 - n // 4))
    return Samples(config=cfg, channels=cfg.channels, targets=targets, series=series, step_end=step_end,
                   end_index=end_index, issue_time=step_end[end_index], label=(2 * y[:, 0]).astype(np.int8), y=y,
                   split=split, region=np.full(n, -1, np.int32), prev_flux=np.full(n, np.nan),
                   norm_mean=np.zeros(2, np.float32), norm_std=np.ones(2, np.float32), fingerprint="synthetic")


def test_persistence_by_hand_and_the_class_convention_matters():
    # Largest flare of the previous horizon: none, C5, M1.2 (true basis), X2.
    prev = [np.nan, 5e-6, 1.2e-5, 2e-4]
    assert baselines.persistence(prev, ">=C", "true").tolist() == [0, 1, 1, 1]
    assert baselines.persistence(prev, ">=M", "true").tolist() == [0, 0, 1, 1]
    assert baselines.persistence(prev, "X", "true").tolist() == [0, 0, 0, 1]
    # On the SWPC-scaled basis a true M1.2 is 0.7 x 1.2e-5 = C8.4: no >=M persistence forecast.
    assert baselines.persistence(prev, ">=M", "swpc").tolist() == [0, 0, 0, 1]


def test_persistence_rejects_unknown_target():
    with pytest.raises(ValueError, match=">=X"):
        baselines.persistence([1e-5], ">=X", "true")


def test_window_features_are_last_mean_max_of_each_channel():
    s = synthetic_samples(n=50)
    idx = np.array([0, 17, 49])
    f = baselines.window_features(s, idx)
    assert baselines.feature_names(s.channels)[:3] == ["log_xrsb:last", "log_xrsb:mean", "log_xrsb:max"]
    for row, i in zip(f, idx, strict=True):
        w = s.series[0, s.end_index[i] - 7 : s.end_index[i] + 1]  # the 8 steps ending at the issue time
        assert row[:3] == pytest.approx([w[-1], w.mean(), w.max()], rel=1e-6)


def test_logistic_beats_climatology_on_a_learnable_signal():
    s = synthetic_samples(n=1200)
    fit = baselines.fit_tabular(s, methods=["logistic"])["logistic"]
    test = s.indices("test")
    y = s.y[test, 0]
    p = fit.predict(s, test)[:, 0]
    clim = fit.rates[">=M"]
    assert clim == pytest.approx(s.y[s.indices("train"), 0].mean())
    assert bss(y, p, climatology=clim) > 0.15  # climatology's own BSS is 0 by definition
    assert roc_auc(y, p) > 0.75


@pytest.mark.parametrize("method", baselines.TABULAR)
def test_threshold_is_chosen_without_looking_at_test(method):
    s = synthetic_samples(n=800)
    before = baselines.fit_tabular(s, methods=[method])[method].thresholds
    test = s.indices("test")
    s.y[test] = 1 - s.y[test]  # scramble the test answers
    s.series[0, s.end_index[test]] *= -1
    assert baselines.fit_tabular(s, methods=[method])[method].thresholds == before


def test_single_class_training_target_forecasts_its_rate():
    s = synthetic_samples(n=200, targets=(">=M", "X"))
    s.y[:, 1] = 0.0  # no X in any split
    fit = baselines.fit_tabular(s, methods=["logistic"])["logistic"]
    assert fit.describe()["constant"] == ["X"]
    assert np.all(fit.predict(s, s.indices("test"))[:, 1] == 0.0)


def test_logistic_refuses_samples_with_other_channels():
    s = synthetic_samples(n=100)
    fit = baselines.fit_tabular(s, methods=["logistic"])["logistic"]
    other = synthetic_samples(n=100)
    object.__setattr__(other, "channels", ("log_xrsa", "missing"))
    with pytest.raises(SampleError, match="logistic baseline was fitted on channels.*log_xrsa"):
        fit.predict(other, other.indices("test"))


def test_logistic_needs_training_windows():
    s = synthetic_samples(n=100)
    s.split[:] = "test"
    with pytest.raises(SampleError, match="no training windows"):
        baselines.fit_tabular(s, methods=["logistic"])["logistic"]


def xor_samples(n=2000, seed=0) -> Samples:
    """Two channels; a window is an event when the last values of the two have opposite signs (XOR), with 5%
    of labels flipped. No single feature, and no linear combination, separates the classes."""
    s = synthetic_samples(n=n, seed=seed)
    rng = np.random.default_rng(seed + 1)
    s.series[1] = rng.normal(size=s.series.shape[1])  # the second channel ("missing") now carries b
    a, b = s.series[0, s.end_index], s.series[1, s.end_index]
    y = ((a > 0) != (b > 0)) ^ (rng.random(n) < 0.05)
    s.y[:, 0] = y
    s.label[:] = 2 * y
    return s


def test_trees_find_an_xor_signal_that_logistic_cannot():
    s = xor_samples()
    fits = baselines.fit_tabular(s)
    test = s.indices("test")
    y = s.y[test, 0]
    auc = {m: roc_auc(y, fit.predict(s, test)[:, 0]) for m, fit in fits.items()}
    # Both XOR halves are equally likely, so a linear score ranks no better than chance; trees split a, then b.
    assert auc["logistic"] < 0.6
    assert auc["trees"] > 0.85
    assert bss(y, fits["trees"].predict(s, test)[:, 0], climatology=fits["trees"].rates[">=M"]) > 0.3


def test_trees_fit_is_deterministic():
    s = xor_samples(n=800)
    test = s.indices("test")
    first, second = (baselines.fit_tabular(s, methods=["trees"])["trees"] for _ in range(2))
    np.testing.assert_array_equal(first.predict(s, test), second.predict(s, test))
    assert first.thresholds == second.thresholds
    assert "random_state=0" in first.describe()["estimator"]


def test_unknown_tabular_method_is_refused():
    with pytest.raises(ValueError, match=r"forest.*\['logistic', 'trees'\]"):
        baselines.fit_tabular(synthetic_samples(n=100), methods=["forest"])
