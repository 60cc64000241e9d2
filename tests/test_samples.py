import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from flarecast.config import SampleConfig, SplitConfig
from flarecast.errors import SampleError
from flarecast.samples import WindowDataset, build_samples, range_max


def goes_ds(days=20, start="2020-01-01", gap=None):
    t = pd.date_range(start, periods=days * 1440, freq="1min")
    rng = np.random.default_rng(0)
    xrsb = (1e-7 * np.exp(rng.normal(0, 0.05, t.size))).astype("float32")
    xrsa = (xrsb * 0.05).astype("float32")
    if gap is not None:
        sel = (t >= pd.Timestamp(gap[0])) & (t < pd.Timestamp(gap[1]))
        xrsb[sel] = np.nan
        xrsa[sel] = np.nan
    return xr.Dataset({"xrsa": ("time", xrsa), "xrsb": ("time", xrsb)}, coords={"time": t.values})


def events_ds(rows):
    peaks = pd.to_datetime([r[0] for r in rows]).values.astype("datetime64[ns]")
    return xr.Dataset({"peak": ("event", peaks), "peak_flux": ("event", np.array([r[1] for r in rows], float))})


CFG = SampleConfig(cadence="1h", window="24h", horizon="24h", stride="1h", max_missing=0.2)


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
    x = s.targets.index("X")
    assert s.y[:, x].sum() == (s.label == 3).sum()


def test_swpc_convention_moves_a_true_basis_m1_below_m():
    # 1.2e-5 true = 8.4e-6 on the SWPC-scaled basis: M1.2 under "true", C8.4 under "swpc".
    ev = events_ds([("2020-01-05 12:00", 1.2e-5)])
    t = pd.Timestamp("2020-01-05 00:00")
    for conv, want in (("true", 2), ("swpc", 1)):
        s = build_samples(goes_ds(), ev, SampleConfig(**{**CFG.__dict__, "convention": conv}))
        assert s.label[pd.DatetimeIndex(s.issue_time) == t][0] == want


def test_input_window_ends_at_issue_time_without_leaking_the_next_minute():
    g = goes_ds()
    spike = pd.Timestamp("2020-01-06 00:00")  # record *starting* at the issue time: after the issue
    g["xrsb"].loc[{"time": spike}] = 1e-3
    s = build_samples(g, events_ds([("2020-01-09", 1e-6)]), CFG)
    i = np.flatnonzero(pd.DatetimeIndex(s.issue_time) == spike)[0]
    ch = s.channels.index("log_xrsb")
    w = s.gather(np.array([i]))[0, ch]
    w_next = s.gather(np.array([i + 1]))[0, ch]
    assert w.max() < w_next.max()  # the spike appears first in the window issued an hour later
    assert w_next[-1] == w_next.max()


def test_splits_never_share_input_or_label_time():
    s = build_samples(goes_ds(days=40), events_ds([("2020-01-09", 1e-6)]), CFG)
    W = np.timedelta64(24, "h")
    spans = {k: (s.issue_time[s.indices(k)] - W, s.issue_time[s.indices(k)] + W) for k in ("train", "val", "test")}
    assert spans["train"][1].max() <= spans["val"][0].min()
    assert spans["val"][1].max() <= spans["test"][0].min()
    assert s.dropped["straddles_split_edge"] > 0
    assert (np.diff(s.issue_time.astype(np.int64)) > 0).all()


def test_normalisation_uses_the_training_block_only():
    g = goes_ds(days=40)
    late = g["time"] > np.datetime64("2020-01-30")
    g["xrsb"] = g["xrsb"].where(~late, g["xrsb"] * 1000)  # a huge change after the training block
    s = build_samples(g, events_ds([("2020-01-09", 1e-6)]), CFG)
    ch = s.channels.index("log_xrsb")
    assert s.norm_mean[ch] == pytest.approx(-7.0, abs=0.1)  # log10(1e-7): untouched by the test period


def test_windows_are_views_and_gather_matches_slices():
    s = build_samples(goes_ds(), events_ds([("2020-01-09", 1e-6)]), CFG)
    assert np.shares_memory(s.windows(), s.series)
    idx = np.array([0, 5, 17])
    L = s.window_steps
    for k, i in enumerate(idx):
        e = s.end_index[i]
        np.testing.assert_array_equal(s.gather(idx)[k], s.series[:, e - L + 1 : e + 1])
    x, y = WindowDataset(s, "train").__getitems__([0, 1])
    assert tuple(x.shape) == (2, len(s.channels), L) and tuple(y.shape) == (2, len(s.targets))


def test_windows_over_missing_tolerance_are_dropped_and_counted():
    g = goes_ds(gap=("2020-01-10 00:00", "2020-01-11 00:00"))
    s = build_samples(g, events_ds([("2020-01-09", 1e-6)]), CFG)
    assert s.dropped["too_much_missing"] > 0
    miss = s.channels.index("missing")
    kept = s.gather(np.arange(len(s.issue_time)))[:, miss].mean(axis=1)
    assert kept.max() <= 0.2 + 1e-6


def test_too_short_data_raises_sample_error():
    with pytest.raises(SampleError, match="no windows"):
        build_samples(goes_ds(days=2), events_ds([("2020-01-01 12:00", 1e-6)]), CFG)


def test_split_config_fractions_validated():
    from flarecast.errors import ConfigError

    with pytest.raises(ConfigError, match="fractions"):
        SampleConfig(split=SplitConfig(train=0.5, val=0.5, test=0.5))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1000), st.floats(1e-8, 1e-3)), min_size=0, max_size=60),
    st.lists(st.tuples(st.integers(-50, 1050), st.integers(0, 300)), min_size=1, max_size=40),
)
def test_range_max_matches_brute_force(events, queries):
    events = sorted(events)
    t = np.array([e[0] for e in events], dtype=np.int64)
    v = np.array([e[1] for e in events], dtype=float)
    lo = np.array([q[0] for q in queries], dtype=np.int64)
    hi = lo + np.array([q[1] for q in queries], dtype=np.int64)
    got = range_max(t, v, lo, hi)
    for k in range(lo.size):
        sel = (t > lo[k]) & (t <= hi[k])
        if sel.any():
            assert got[k] == v[sel].max()
        else:
            assert np.isnan(got[k])
