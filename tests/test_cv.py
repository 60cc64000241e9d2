"""Time-series CV folds: no held-out window shares a minute of input or label with a window its models trained or
stopped on; rolling folds train on the past only; SHARP regions stay on one side; calibration and thresholds."""

import warnings

import numpy as np
import pandas as pd
import pytest

from flarecast.config import CVConfig, SampleConfig, SplitConfig
from flarecast.errors import ConfigError, SampleError
from flarecast.metrics.thresholds import POOLED_OOF, STEP_GRID, VALIDATION, ThresholdRule
from flarecast.model.ensemble import apply_calibration
from flarecast.samples.build import Samples
from flarecast.train.calibration import choose_calibration, cross_fit, fit_calibration
from flarecast.train.cv import make_folds

SPAN = np.timedelta64(48, "h")  # window 24 h + horizon 24 h


def fake_samples(start="2011-01-01T00", end="2013-12-31T00", *, source="goes", regions=None, stride="1h"):
    """Samples with hourly issue times and no series: folds depend on issue times, regions and splits only."""
    cfg = SampleConfig(source=source, channels=("missing",), cadence=stride, stride=stride, max_missing=0.0,
                       targets=(">=M",), split=SplitConfig())
    t = np.arange(np.datetime64(start, "ns"), np.datetime64(end, "ns"), np.timedelta64(pd.Timedelta(stride)))
    n = t.size
    region = np.full(n, -1, np.int32) if regions is None else regions(t).astype(np.int32)
    rng = np.random.default_rng(0)
    y = (rng.random((n, 1)) < 0.1).astype(np.float32)
    return Samples(cfg, cfg.channels, cfg.targets, np.zeros((1, n + 24), np.float32), t, np.arange(n) + 23, t,
                   y[:, 0].astype(np.int8) * 2, y, np.full(n, "train", dtype="<U5"), region, np.full(n, np.nan),
                   np.zeros(1, np.float32), np.ones(1, np.float32), "fake")


def assert_no_overlap(issue, held, seen, span=SPAN):
    """Every held-out window is at least window + horizon away from every window a fold's models saw."""
    a, b = np.sort(issue[held]), np.sort(issue[seen])
    k = np.searchsorted(b, a)
    before = b[np.clip(k - 1, 0, b.size - 1)]
    after = b[np.clip(k, 0, b.size - 1)]
    assert np.all(np.minimum(np.abs(a - before), np.abs(after - a)) >= span)


@pytest.mark.parametrize("cv", [CVConfig(scheme="blocked", k=5, pool=("train",)),
                                CVConfig(scheme="blocked", by="year", pool=("train",)),
                                CVConfig(scheme="rolling", k=4, pool=("train",), val_fraction=0.3)])
def test_held_out_windows_never_touch_training_or_validation_windows(cv):
    s = fake_samples()
    folds = make_folds(s, cv)
    covered = np.zeros(s.issue_time.size, int)
    for f in folds:
        test, train, val = f.indices("test"), f.indices("train"), f.indices("val")
        assert_no_overlap(s.issue_time, test, np.concatenate([train, val]))
        assert_no_overlap(s.issue_time, val, train)  # early stopping on windows the weights never fitted
        covered[test] += 1
        if cv.scheme == "rolling":
            assert s.issue_time[np.concatenate([train, val])].max() < s.issue_time[test].min()
            assert s.issue_time[val].min() > s.issue_time[train].max()  # val: the end of the training time
    assert covered.max() == 1  # no window is held out twice
    if cv.scheme == "blocked":
        # every window is held out once, but those within window + horizon of a block edge (dropped for the gap)
        assert 0.95 < (covered == 1).mean() < 1
    if cv.by == "year":
        assert [f.name for f in folds] == ["2011", "2012", "2013"]
        assert all(f.held_out[0].startswith(f.name) for f in folds[1:])


def test_rolling_folds_never_hold_out_the_first_block():
    s = fake_samples()
    folds = make_folds(s, CVConfig(scheme="rolling", k=3))
    assert [f.name for f in folds] == ["block1", "block2"]


def test_pool_keeps_other_splits_unseen():
    s = fake_samples()
    s.split[s.issue_time >= np.datetime64("2013-06-01")] = "test"
    for f in make_folds(s, CVConfig(scheme="blocked", k=3, pool=("train",))):
        assert not np.isin(f.split[s.split == "test"], ["train", "val", "test"]).any()


def test_sharp_regions_stay_on_one_side():
    # A region lives 10 days; regions overlap in time, so some straddle every block edge.
    s = fake_samples("2012-01-01", "2012-12-31", source="sharp", stride="96min",
                     regions=lambda t: ((t - t[0]) // np.timedelta64(4, "D")).astype(int) // 2 * 2
                     + (((t - t[0]) // np.timedelta64(96, "m")) % 2))
    for f in make_folds(s, CVConfig(scheme="blocked", k=4)):
        for part in ("train", "val", "test"):
            others = [p for p in ("train", "val", "test") if p != part]
            assert not np.isin(np.unique(s.region[f.split == part]), s.region[np.isin(f.split, others)]).any()


def test_region_folds_hold_out_each_file_s_regions(tmp_path):
    s = fake_samples("2012-01-01", "2012-06-30", source="sharp", stride="96min",
                     regions=lambda t: (t - t[0]) // np.timedelta64(7, "D") + 100)  # a new region each week
    files = []
    for k, harps in enumerate([range(100 + k, 126, 3) for k in range(3)]):
        path = tmp_path / f"sharp_keywords_fold{k}.csv"
        pd.DataFrame({"T_REC": "2012.01.01_00:00:00_TAI", "HARPNUM": list(harps)}).to_csv(path, index=False)
        files.append(str(path))
    folds = make_folds(s, CVConfig(scheme="blocked", by="regions", region_files=tuple(files)))
    assert [f.name for f in folds] == ["sharp_keywords_fold0", "sharp_keywords_fold1", "sharp_keywords_fold2"]
    assert set(s.region[folds[1].split == "test"]) == set(range(101, 126, 3))
    assert not (set(range(101, 126, 3)) & set(s.region[np.isin(folds[1].split, ["train", "val"])]))
    with pytest.raises(ConfigError, match="share HARPs"):
        make_folds(s, CVConfig(scheme="blocked", by="regions", region_files=(files[0], files[0])))


def test_val_split_stops_on_the_config_s_val_blocks_inside_the_training_part():
    s = fake_samples()
    s.split[(s.issue_time.astype("datetime64[M]").astype(int) % 5) == 1] = "val"  # every 5th month
    for f in make_folds(s, CVConfig(scheme="blocked", k=3, val="split", pool=("train", "val"))):
        assert (s.split[f.split == "val"] == "val").all() and (s.split[f.split == "train"] == "train").all()
        assert_no_overlap(s.issue_time, f.indices("test"), np.flatnonzero(np.isin(f.split, ["train", "val"])))
    quiet = fake_samples()
    quiet.y[quiet.issue_time >= np.datetime64("2013-06-01")] = 0  # the end of the training time holds no event
    with pytest.raises(SampleError, match="validation part holds no event"):
        make_folds(quiet, CVConfig(scheme="blocked", k=3, pool=("train",)))


def test_bad_cv_settings_are_refused():
    with pytest.raises(ConfigError, match="threshold"):
        CVConfig(scheme="blocked", threshold="f1")
    with pytest.raises(ConfigError, match="region_files"):
        CVConfig(scheme="blocked", by="regions")
    with pytest.raises(SampleError, match="too short"):
        make_folds(fake_samples("2012-01-01", "2012-01-05"), CVConfig(scheme="blocked", k=5, pool=("train",)))


def miscalibrated(n=20000, seed=0):
    """True probabilities q; the forecast p = q ** 0.4 is overconfident in flares (too high everywhere)."""
    rng = np.random.default_rng(seed)
    q = rng.beta(0.5, 4, n)
    y = (rng.random(n) < q).astype(float)
    return y, q ** 0.4, q, np.repeat(np.arange(5), n // 5)


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibration_is_monotone_and_improves_oof_brier(method):
    y, p, q, fold = miscalibrated()
    crossed = cross_fit(y, p, fold, method)
    raw, fixed, ideal = (float(np.mean((v - y) ** 2)) for v in (p, crossed, q))
    assert fixed < raw - 0.01 and fixed < ideal + 0.002  # near the true probabilities' own Brier score
    grid = np.linspace(0, 1, 501)
    mapped = apply_calibration(grid, fit_calibration(y, p, method))
    assert np.all(np.diff(mapped) >= 0) and mapped.min() >= 0 and mapped.max() <= 1


def test_auto_calibration_picks_by_cross_fitted_brier_and_keeps_a_calibrated_forecast():
    y, p, q, fold = miscalibrated()
    cal, brier, _ = choose_calibration(y, p, fold, "auto")
    assert cal["method"] != "none" and brier[cal["method"]] == min(brier.values())
    _, brier_q, _ = choose_calibration(y, q, fold, "auto")
    # Already calibrated: no map beats leaving it alone by more than noise.
    assert brier_q["none"] <= min(brier_q.values()) + 2e-4


def choose_threshold(y, p, rule, *, base_rate):
    return ThresholdRule.parse(rule, chosen_on=POOLED_OOF).choose(y, p, base_rate=base_rate)


def test_threshold_rules():
    y = np.array([0, 0, 0, 0, 1, 1])
    p = np.array([0.05, 0.1, 0.3, 0.5, 0.2, 0.6])
    assert choose_threshold(y, p, "tss", base_rate=1 / 3) == 0.11  # POD 1, POFD 0.5 -> TSS 0.5 (ties: smallest)
    # cost:10: t <= 0.2 -> 0 misses and 2 false alarms (cost 2); above 0.2 one miss costs 10.
    assert choose_threshold(y, p, "cost:10", base_rate=1 / 3) == 0.11
    # cost:0.5: t in (0.5, 0.6] -> 1 miss, 0 false alarms (cost 0.5), the cheapest.
    assert choose_threshold(y, p, "cost:0.5", base_rate=1 / 3) == 0.51
    assert choose_threshold(y, p, "climatology:1.5", base_rate=0.2) == 0.3
    assert choose_threshold(np.zeros(4), p[:4], "hss", base_rate=0.0) == 0.5


def test_each_kind_of_data_keeps_the_grid_its_thresholds_were_chosen_on():
    """A rare target whose events all lie below 0.01: the pooled OOF rule (floor 0.0001) separates them, a single
    model's validation rule keeps its 0.01 floor (the grid the shipped single models were chosen on)."""
    y = np.array([0] * 8 + [1, 1])
    p = np.array([0.001] * 8 + [0.005, 0.006])
    pooled = ThresholdRule.parse("tss", chosen_on=POOLED_OOF).choose(y, p)
    assert 0.001 < pooled <= 0.005
    assert ThresholdRule.parse("tss", chosen_on=VALIDATION).choose(y, p) == STEP_GRID[0] == 0.01
    assert ThresholdRule.parse("tss", chosen_on=VALIDATION, grid="rare").choose(y, p) == pooled


def test_a_bad_rule_is_refused_naming_what_is_expected():
    with pytest.raises(ConfigError, match="'cost:R'"):
        ThresholdRule.parse("f1")


@pytest.fixture(scope="module")
def goes_hourly(real_data, tmp_path_factory):
    from flarecast.ingest.pipeline import ingest

    path = tmp_path_factory.mktemp("real") / "goes-hourly.zarr"
    with warnings.catch_warnings():  # the file spans the 2012 leap second; test_ingest_real checks that warning
        warnings.simplefilter("ignore")
        ingest("goes", [real_data / "goes" / "goes15_xrsb_hourly_max.csv"], store=path, basis="swpc", satellite=15)
    ingest("events", sorted((real_data / "events" / "ngdc").glob("goes-xrs-report_201[0-4].txt")), store=path)
    return path


def test_shipped_real_config_leaves_one_year_out_on_goes15_hourly(goes_hourly):
    from pathlib import Path

    from flarecast.config import load_config
    from flarecast.samples.build import samples_from_store

    path = Path(__file__).parents[1] / "configs" / "real-goes-hourly.yaml"
    assert load_config(path).train.cv.scheme == "blocked"  # `flarecast train` gives the ensemble
    cfg = load_config(path, ["train.cv.by=year", "train.cv.pool=[train, val, test]"])
    s = samples_from_store(goes_hourly, cfg.samples)
    folds = make_folds(s, cfg.train.cv)
    assert [f.name for f in folds] == ["2011", "2012", "2013"]
    # >=M windows held out per year, counted from the NGDC reports (SWPC-scaled classes).
    assert [int(s.y[f.indices("test"), 0].sum()) for f in folds] == [1527, 1693, 1626]
    for f in folds:
        assert_no_overlap(s.issue_time, f.indices("test"), np.flatnonzero(np.isin(f.split, ["train", "val"])))
        held = s.issue_time[f.indices("test")].astype("datetime64[Y]")
        assert (held == np.datetime64(f.name, "Y")).all()
