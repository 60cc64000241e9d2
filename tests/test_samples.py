"""Full-disk GOES samples on small synthetic series: labels, leakage, missing data, views, index files."""

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from flarecast.config import SampleConfig, SplitConfig
from flarecast.errors import ConfigError, SampleError
from flarecast.samples.build import WindowDataset, build_samples, samples_from_store, write_index


def goes_ds(days=20, start="2020-01-01", gap=None, xrsa=True):
    t = pd.date_range(start, periods=days * 1440, freq="1min", unit="ns")
    rng = np.random.default_rng(0)
    xrsb = (1e-7 * np.exp(rng.normal(0, 0.05, t.size))).astype("float32")
    if gap is not None:
        xrsb[(t >= pd.Timestamp(gap[0])) & (t < pd.Timestamp(gap[1]))] = np.nan
    a = (xrsb * 0.05).astype("float32") if xrsa else np.full(t.size, np.nan, "float32")
    return xr.Dataset({"xrsa": ("time", a), "xrsb": ("time", xrsb)}, coords={"time": t.values})


def events_ds(rows, span=("2019-06-01", "2021-06-01")):
    """Events (peak, true flux[, noaa_ar]); two B-class bookends make the catalogue cover ``span``."""
    rows = [(span[0], 1e-7), *rows, (span[1], 1e-7)]
    peaks = np.array([pd.Timestamp(r[0]) for r in rows], dtype="datetime64[ns]")
    return xr.Dataset({"peak": ("event", peaks), "peak_flux": ("event", np.array([r[1] for r in rows], float)),
                       "noaa_ar": ("event", np.array([r[2] if len(r) > 2 else 0 for r in rows], np.int32))})


CFG = SampleConfig(cadence="1h", window="24h", horizon="24h", stride="1h", max_missing=0.2)
QUIET = events_ds([("2020-01-09", 1e-6)])


def at(s, when):
    return int(np.flatnonzero(s.issue_time == np.datetime64(pd.Timestamp(when)))[0])


def test_label_is_largest_class_peaking_in_the_next_horizon():
    ev = events_ds([("2020-01-05 12:00", 2e-6), ("2020-01-05 18:30", 3e-5), ("2020-01-08 00:00", 2e-4)])
    s = build_samples(goes_ds(), ev, CFG)
    lab = pd.Series(s.label, index=pd.DatetimeIndex(s.issue_time))
    # Issued 2020-01-04 13:00: (t, t+24h] holds only the C2 at 01-05 12:00.
    assert lab[pd.Timestamp("2020-01-04 13:00")] == 1
    # Issued 2020-01-05 12:00: the C flare peaks exactly at t (excluded); the M3 at 18:30 is inside.
    assert lab[pd.Timestamp("2020-01-05 12:00")] == 2
    # Issued 2020-01-05 18:00: M3 at 18:30 is inside -> M.  Issued 19:00: it is gone, nothing until 01-08.
    assert lab[pd.Timestamp("2020-01-05 18:00")] == 2
    assert lab[pd.Timestamp("2020-01-05 19:00")] == 0
    # Issued 2020-01-07 00:00: the X2 peaks at exactly t + 24h (included).
    assert lab[pd.Timestamp("2020-01-07 00:00")] == 3
    assert lab[pd.Timestamp("2020-01-08 00:00")] == 0
    x, m = s.targets.index("X"), s.targets.index(">=M")
    assert s.y[:, x].sum() == (s.label == 3).sum() and s.y[:, m].sum() == (s.label >= 2).sum()
    # Persistence looks back: issued 01-06 00:00, the M3 peaked 5.5 h earlier.
    assert s.prev_flux[at(s, "2020-01-06 00:00")] == 3e-5
    assert (s.region == -1).all()


def test_swpc_convention_moves_a_true_basis_m1_below_m():
    # 1.2e-5 true = 8.4e-6 on the SWPC-scaled basis: M1.2 under "true", C8.4 under "swpc".
    ev = events_ds([("2020-01-05 12:00", 1.2e-5)])
    for conv, want in (("true", 2), ("swpc", 1)):
        s = build_samples(goes_ds(), ev, SampleConfig(**{**CFG.__dict__, "convention": conv}))
        assert s.label[at(s, "2020-01-05 00:00")] == want


def test_input_window_ends_at_issue_time_without_leaking_the_next_minute():
    g = goes_ds()
    spike = pd.Timestamp("2020-01-06 00:00")  # record *starting* at the issue time: after the issue
    g["xrsb"].loc[{"time": spike}] = 1e-3
    s = build_samples(g, QUIET, CFG)
    i = at(s, spike)
    ch = s.channels.index("log_xrsb")
    w, w_next = s.gather(np.array([i]))[0, ch], s.gather(np.array([i + 1]))[0, ch]
    assert w.max() < w_next.max()  # the spike appears first in the window issued an hour later
    assert w_next[-1] == w_next.max()


def test_resampling_max_and_mean_of_the_usable_minutes():
    g = goes_ds(days=12)
    g["xrsb"][:60] = np.arange(1, 61, dtype="float32") * 1e-7  # first hour: 1e-7 .. 6e-6
    g["xrsb"][30] = np.nan
    for how, want in (("max", 6e-6), ("mean", (np.arange(1, 61).sum() - 31) * 1e-7 / 59)):
        cfg = SampleConfig(**{**CFG.__dict__, "resample": how})
        s = build_samples(g, QUIET, cfg)
        ch = s.channels.index("log_xrsb")
        raw = s.series[ch, 0] * s.norm_std[ch] + s.norm_mean[ch]
        assert raw == pytest.approx(np.log10(want), abs=1e-5)
        assert s.series[s.channels.index("missing"), 0] == pytest.approx(1 / 60, abs=1e-6)


def test_splits_never_share_input_or_label_time():
    s = build_samples(goes_ds(days=40), QUIET, CFG)
    W = np.timedelta64(24, "h")
    spans = {k: (s.issue_time[s.indices(k)] - W, s.issue_time[s.indices(k)] + W) for k in ("train", "val", "test")}
    assert spans["train"][1].max() <= spans["val"][0].min()
    assert spans["val"][1].max() <= spans["test"][0].min()
    assert s.dropped["straddles_split_edge"] > 0
    assert (np.diff(s.issue_time.astype(np.int64)) > 0).all()
    assert [r["split"] for r in s.runs] == ["train", "val", "test"]
    assert all(r["from"].endswith("00:00:00") for r in s.runs)  # block edges at 00:00 UTC


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days=st.integers(12, 60), block=st.sampled_from(["", "3D", "5D", "9D"]), gap=st.sampled_from(["0h", "6h"]),
       horizon=st.sampled_from(["6h", "24h"]))
def test_no_test_span_overlaps_a_train_span(days, block, gap, horizon):
    g = goes_ds(days=days)
    cfg = SampleConfig(cadence="1h", window="12h", horizon=horizon, stride="1h",
                       split=SplitConfig(block=block, extra_gap=gap))
    try:
        s = build_samples(g, QUIET, cfg)
    except SampleError:
        return  # too short for this plan; the error is the documented outcome
    lo = s.issue_time - np.timedelta64(12, "h")
    hi = s.issue_time + pd.Timedelta(horizon).to_timedelta64()
    for a, b in (("train", "test"), ("train", "val"), ("val", "test")):
        ia, ib = s.indices(a), s.indices(b)
        if ia.size and ib.size:
            overlap = (lo[ia][:, None] < hi[ib][None, :]) & (lo[ib][None, :] < hi[ia][:, None])
            assert not overlap.any()
            apart = np.abs(s.issue_time[ia][:, None] - s.issue_time[ib][None, :]).min()
            assert apart >= np.timedelta64(12, "h") + pd.Timedelta(horizon).to_timedelta64() + pd.Timedelta(gap)


def test_normalisation_uses_the_training_block_only():
    g = goes_ds(days=40)
    late = g["time"] > np.datetime64("2020-01-30")
    g["xrsb"] = g["xrsb"].where(~late, g["xrsb"] * 1000)  # a huge change after the training block
    s = build_samples(g, QUIET, CFG)
    ch = s.channels.index("log_xrsb")
    assert s.norm_mean[ch] == pytest.approx(-7.0, abs=0.1)  # log10(1e-7): untouched by the test period
    assert s.norm_mean[s.channels.index("missing")] == 0 and s.norm_std[s.channels.index("missing")] == 1
    # Given statistics (a model's card) are used as they are.
    t = build_samples(g, QUIET, CFG, norm=(s.norm_mean + 1, s.norm_std))
    np.testing.assert_allclose(t.series[ch] + 1 / s.norm_std[ch], s.series[ch], atol=1e-5)


def test_windows_are_views_and_gather_matches_slices():
    s = build_samples(goes_ds(), QUIET, CFG)
    assert np.shares_memory(s.windows(), s.series)
    idx = np.array([0, 5, 17])
    L = s.window_steps
    got = s.gather(idx)
    assert got.flags.c_contiguous
    for k, i in enumerate(idx):
        e = s.end_index[i]
        np.testing.assert_array_equal(got[k], s.series[:, e - L + 1 : e + 1])
    x, y = WindowDataset(s, "train").__getitems__([0, 1])
    assert tuple(x.shape) == (2, len(s.channels), L) and tuple(y.shape) == (2, len(s.targets))


def test_missing_steps_are_flagged_never_interpolated_and_over_tolerance_dropped():
    g = goes_ds(gap=("2020-01-10 00:00", "2020-01-11 00:00"))
    s = build_samples(g, QUIET, CFG)
    assert s.dropped["too_much_missing"] > 0
    miss, ch = s.channels.index("missing"), s.channels.index("log_xrsb")
    kept = s.gather(np.arange(len(s.issue_time)))[:, miss].mean(axis=1)
    assert kept.max() <= 0.2 + 1e-6
    # 2020-01-10 03:00 is issued with hours 00-03 missing (4/24 < 0.2): those steps read exactly the training
    # mean (0 after normalisation) and carry missing = 1; nothing was drawn from the neighbouring hours.
    w = s.gather(np.array([at(s, "2020-01-10 03:00")]))[0]
    np.testing.assert_array_equal(w[miss, -3:], 1.0)
    np.testing.assert_array_equal(w[ch, -3:], 0.0)
    assert (w[miss, :-3] == 0).all()
    assert s.gaps["missing_steps"] == 24 and s.gaps["longest"][0]["from"] == "2020-01-10 00:00:00"


def test_catalogue_span_limits_the_windows():
    ev = events_ds([], span=("2020-01-05", "2020-01-15"))
    s = build_samples(goes_ds(), ev, CFG)
    assert s.dropped["beyond_catalogue"] > 0
    assert s.issue_time.min() >= np.datetime64("2020-01-05")
    assert (s.issue_time + np.timedelta64(24, "h")).max() <= np.datetime64("2020-01-15")


def test_issue_times_fall_on_stride_boundaries_whatever_the_data_start():
    cfg = SampleConfig(cadence="10min", window="6h", horizon="6h", stride="3h", max_missing=0.2)
    s = build_samples(goes_ds(start="2020-01-01 00:17"), QUIET, cfg)
    assert (s.issue_time.astype("datetime64[m]").astype(np.int64) % 180 == 0).all()


def test_history_channels_count_the_flares_peaking_in_the_lookback():
    ev = events_ds([("2020-01-05 09:30", 2e-6), ("2020-01-05 11:00", 3e-5), ("2020-01-05 11:00", 3e-5)])
    cfg = SampleConfig(cadence="1h", window="24h", horizon="24h", stride="1h", history="6h", max_missing=0,
                       channels=("log_xrsb", "history_class", "history_ge_c", "history_ge_m", "history_x"))
    s = build_samples(goes_ds(), ev, cfg)
    raw = s.gather(np.array([at(s, "2020-01-05 17:00")]))[0] * s.norm_std[:, None] + s.norm_mean[:, None]
    # Last step ends 17:00: (11:00, 17:00] excludes both flares. The step ending 16:00 looks back over
    # (10:00, 16:00]: the M3 only, counted once (two catalogue rows with one peak time are one flare).
    np.testing.assert_allclose(raw[1:, -1], [0, 0, 0, 0], atol=1e-5)
    np.testing.assert_allclose(raw[1:, -2], [2, 1, 1, 0], atol=1e-5)
    np.testing.assert_allclose(raw[1:, -7], [2, 2, 1, 0], atol=1e-5)  # step ending 11:00: both inside


def test_xrsb_only_series_works_and_xrsa_channels_fail_clearly():
    g = goes_ds(xrsa=False)
    s = build_samples(g, QUIET, SampleConfig(**{**CFG.__dict__, "channels": ("log_xrsb", "dlog_xrsb", "missing")}))
    assert s.series.shape[0] == 3
    with pytest.raises(SampleError, match=r"\['log_xrsa', 'log_ratio'\] need XRS-A.*masked.*remove"):
        build_samples(g, QUIET, CFG)


def test_too_short_data_raises_sample_error():
    with pytest.raises(SampleError, match="no windows"):
        build_samples(goes_ds(days=2), QUIET, CFG)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"split": {"train": 0.5, "val": 0.5, "test": 0.5}}, "fractions"),
        ({"channels": ("log_xrsb",), "max_missing": 0.1}, "lacks 'missing'"),
        ({"window": "90min", "cadence": "2min", "stride": "7min", "channels": ("log_xrsb",), "max_missing": 0},
         "stride = '7min' is not a whole number"),
        ({"channels": ("USFLUX",)}, "samples.channels = 'USFLUX'"),
        ({"source": "sharp", "channels": ("usflux", "missing")}, "not a SHARP channel"),
        ({"source": "sharp", "resample": "median"}, "resample = 'median'"),
        ({"harp_map": "map.txt"}, "source 'sharp' only"),
        ({"split": {"block": "soon"}}, "split.block = 'soon'"),
        ({"channels": ("log_xrsb", "missing", "log_xrsb")}, "more than once"),
    ],
)
def test_sample_config_errors_name_value_and_fix(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        SampleConfig(**kwargs)


def test_index_files_parquet_and_netcdf(tmp_path):
    s = build_samples(goes_ds(), events_ds([("2020-01-05 12:00", 3e-5)]), CFG)
    df = pd.read_parquet(write_index(s, tmp_path / "s.parquet"))
    assert list(df.columns) == ["issue_time", "region", "label", ">=C", ">=M", "X", "split"]
    assert str(df["issue_time"].dt.tz) == "UTC" and df["region"].isna().all()
    assert df["label"].tolist() == s.label.tolist() and df[">=M"].sum() == (s.label >= 2).sum()
    ds = xr.open_dataset(write_index(s, tmp_path / "s.nc"))
    assert (ds["region"].values == -1).all() and ds["target_ge_M"].attrs["target"] == ">=M"
    assert (ds["target_ge_M"].values == (s.label >= 2)).all()
    with pytest.raises(SampleError, match=r"\.csv.*\['\.parquet', '\.nc'\]"):
        write_index(s, tmp_path / "s.csv")


def test_from_store_and_cli(tmp_path):
    from flarecast.cli import app
    from flarecast.ingest.store import write_groups

    store = tmp_path / "s.zarr"
    write_groups(store, {"goes": goes_ds(), "events": events_ds([("2020-01-05 12:00", 3e-5)])})
    s = samples_from_store(store, CFG)
    assert s.counts()["splits"]["train"]["positives"][">=M"] == (s.label[s.indices("train")] >= 2).sum()
    cfg = tmp_path / "c.yaml"
    cfg.write_text("samples: {cadence: 1h, window: 24h, horizon: 24h, stride: 1h}\n")
    out = tmp_path / "idx.parquet"
    res = CliRunner().invoke(app, ["samples", str(cfg), "--store", str(store), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    counts = json.loads(res.output)
    assert counts["splits"] == s.counts()["splits"] and len(pd.read_parquet(out)) == s.issue_time.size
    res = CliRunner().invoke(app, ["samples", str(cfg), "--store", str(store)])
    assert res.exit_code == 0 and "dropped" in res.output and "too_much_missing" in res.output


def test_regime_channels_count_flares_over_their_own_lookback():
    ev = events_ds([("2020-01-03 12:00", 2e-6), ("2020-01-10 12:00", 3e-5), ("2020-01-14 12:00", 2e-4)])
    cfg = SampleConfig(cadence="1h", window="24h", horizon="24h", stride="1h", history="6h", max_missing=0,
                       channels=("log_xrsb", "history_ge_c_3d", "history_ge_m_7d", "history_class_7d",
                                 "history_ge_c_27d", "history_ge_c"))
    s = build_samples(goes_ds(), ev, cfg)
    raw = s.gather(np.array([at(s, "2020-01-15 00:00")]))[0] * s.norm_std[:, None] + s.norm_mean[:, None]
    # Step ending 01-15 00:00: 3 days back holds the X2 only, 7 days the M3 and the X2, 27 days all three;
    # the 6 h of samples.history none.
    np.testing.assert_allclose(raw[1:, -1], [1, 2, 3, 3, 0], atol=1e-4)
    # Step ending 01-14 11:00 (14 steps earlier): the X2 has not peaked; 7 days back reach the M3 of 01-10.
    np.testing.assert_allclose(raw[1:, -14], [0, 1, 2, 2, 0], atol=1e-4)


def test_catalogue_must_cover_the_longest_lookback():
    ev = events_ds([("2020-01-10 12:00", 3e-5)], span=("2020-01-05", "2021-06-01"))
    one_block = {**CFG.__dict__, "split": SplitConfig(block="36500D")}  # no window lost at a split edge
    plain = build_samples(goes_ds(), ev, SampleConfig(**{**one_block, "channels": ("log_xrsb", "missing")}),
                          norm=(np.zeros(2), np.ones(2)))
    regime = build_samples(goes_ds(), ev, SampleConfig(**{**one_block, "channels": (
        "log_xrsb", "missing", "history_ge_m", "history_ge_m_7d")}), norm=(np.zeros(4), np.ones(4)))
    # No history: windows from the catalogue's first peak on. With a 7-day history channel the first step of a
    # window (t - 24 h) must look back 7 days inside the catalogue: t >= 01-05 + 24 h + 7 days.
    assert plain.issue_time.min() == np.datetime64("2020-01-05T00:00")
    assert regime.issue_time.min() == np.datetime64("2020-01-13T00:00")
    assert regime.dropped["beyond_catalogue"] - plain.dropped["beyond_catalogue"] == 8 * 24


def test_background_is_the_median_of_the_log_xrsb_steps_over_its_span():
    g = goes_ds(days=20)
    t = pd.DatetimeIndex(g["time"].values)
    g["xrsb"][:] = np.where(t < pd.Timestamp("2020-01-10"), 1e-7, 1e-6).astype("float32")
    cfg = SampleConfig(**{**CFG.__dict__, "channels": ("log_xrsb", "missing", "log_xrsb_median_7d"),
                          "max_missing": 0.2})
    s = build_samples(g, QUIET, cfg)
    # Windows need 7 days of data before their first step: issued from 01-01 + 7 days + 24 h on.
    assert s.issue_time.min() == np.datetime64("2020-01-09T00:00")
    assert s.dropped["background_before_data"] == 7 * 24  # issued 01-02 00:00 (the first whole window) to 01-08 23:00
    raw = s.gather(np.array([at(s, "2020-01-14 00:00")]))[0] * s.norm_std[:, None] + s.norm_mean[:, None]
    # Steps ending in (01-06 12:00, 01-13 12:00]: 84 end by 01-10 00:00 (1e-7), 84 after (1e-6): the median of
    # an even count is the mean of the middle two.
    assert raw[2, -13] == pytest.approx(-6.5, abs=1e-4)
    assert raw[2, -24] == pytest.approx(-7.0, abs=1e-4)  # step ending 01-13 01:00: 95 low, 73 high
    assert raw[2, -1] == pytest.approx(-6.0, abs=1e-4)  # step ending 01-14 00:00: 72 low, 96 high


def test_regime_channel_names_are_checked():
    with pytest.raises(ConfigError, match="history_ge_m_27d"):
        SampleConfig(source="sharp", channels=("USFLUX", "missing", "history_ge_m_0d"))
    with pytest.raises(ConfigError, match="log_xrsb_median_27d"):
        SampleConfig(channels=("log_xrsb", "missing", "log_xrsb_median_27h"))
    with pytest.raises(ConfigError, match="not a SHARP channel"):
        SampleConfig(source="sharp", resample="last", channels=("USFLUX", "missing", "log_xrsb_median_27d"))


def test_the_data_fingerprint_leaves_out_the_forecast_day_keys_at_their_defaults():
    # Models trained before samples.days and samples.day_windows existed carry a data fingerprint of a config without
    # them; at their defaults (0, "ut") the samples mean the same, so the fingerprint must not change (else evaluate
    # warns that the model's own samples are not its training samples). A forecast-day config is another sample set.
    from flarecast.config import builtin_config, load_config
    from flarecast.samples.build import _fingerprinted

    cfg = load_config(builtin_config("demo")).samples
    before = {k: v for k, v in cfg.model_dump().items() if k not in ("days", "day_windows")}
    assert _fingerprinted(cfg) == before
    days = cfg.model_copy(update={"days": 3})
    assert _fingerprinted(days)["days"] == 3 and "day_windows" not in _fingerprinted(days)
    assert _fingerprinted(cfg.model_copy(update={"days": 3, "day_windows": "issue"}))["day_windows"] == "issue"
