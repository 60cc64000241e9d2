"""Per-region SHARP samples on a small synthetic store group: labels from the region's own flares, regions kept
whole, windows inside one region, missing records."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from flarecast.config import SampleConfig, SplitConfig
from flarecast.errors import SampleError
from flarecast.samples.build import build_samples, build_sharp_samples

TAI = pd.Timedelta("35s")  # JSOC T_REC on the hour is 35 s earlier in UTC (2012): records sit just before the grid
REGIONS = {10: ("2012-01-01", "2012-01-20", "11000"), 20: ("2012-01-05", "2012-01-25", "11001"),
           30: ("2012-01-10", "2012-01-30", "11002,11003"), 40: ("2012-01-03", "2012-01-15", "")}


def sharp_ds(drop=(), zero_flux=()):
    rows = []
    for harp, (a, b, ars) in REGIONS.items():
        for t in pd.date_range(a, b, freq="1h", inclusive="left"):
            if (harp, t) not in drop:
                rows.append((harp, t - TAI, ars, 0.0 if (harp, t) in zero_flux else 1e21 * (1 + harp / 100)))
    df = pd.DataFrame(rows, columns=["harpnum", "time", "noaa_ars", "USFLUX"])
    return xr.Dataset(
        {"USFLUX": ("record", df["USFLUX"].to_numpy()), "R_VALUE": ("record", np.full(len(df), 3.0))},
        coords={"harpnum": ("record", df["harpnum"].to_numpy(np.int32)),
                "time": ("record", df["time"].to_numpy().astype("datetime64[ns]")),
                "noaa_ars": ("record", df["noaa_ars"].to_numpy(dtype=str))},
    )


def events_ds(rows):
    rows = [("2011-06-01", 1e-7, 0), *rows, ("2012-06-01", 1e-7, 0)]
    return xr.Dataset({
        "peak": ("event", np.array([pd.Timestamp(r[0]) for r in rows], dtype="datetime64[ns]")),
        "peak_flux": ("event", np.array([r[1] for r in rows], float)),
        "noaa_ar": ("event", np.array([r[2] for r in rows], np.int32)),
    })


EVENTS = events_ds([
    ("2012-01-06 12:00", 2e-6, 11000),  # C2 of HARP 10
    ("2012-01-07 06:00", 5e-5, 0),  # M5 without a region: full-disk only
    ("2012-01-08 12:00", 3e-4, 11001),  # X3 of HARP 20
    ("2012-01-12 06:00", 4e-5, 11003),  # M4 of HARP 30's second AR
])
CFG = SampleConfig(source="sharp", channels=("log_USFLUX", "R_VALUE", "missing"), resample="last", cadence="1h",
                   window="12h", horizon="24h", stride="1h", max_missing=0.2, convention="true")


def label(s, harp, when):
    i = np.flatnonzero((s.region == harp) & (s.issue_time == np.datetime64(pd.Timestamp(when))))
    assert i.size == 1, f"no window of HARP {harp} issued at {when}"
    return int(s.label[i[0]])


def test_labels_count_only_the_regions_own_flares():
    s = build_sharp_samples(sharp_ds(), EVENTS, CFG)
    assert label(s, 10, "2012-01-06 00:00") == 1  # its own C2 twelve hours ahead
    assert label(s, 10, "2012-01-07 12:00") == 0  # HARP 20's X3 and the region-less M5 are not its flares
    assert label(s, 20, "2012-01-07 12:00") == 3
    assert label(s, 20, "2012-01-08 12:00") == 0  # the X3 peaks at t: excluded
    assert label(s, 30, "2012-01-11 06:00") == 2  # AR 11003, the second of "11002,11003"
    # Issued at the C2's peak: the C2 is excluded and the region-less M5 (07 06:00) belongs to no region.
    assert label(s, 10, "2012-01-06 12:00") == 0
    assert label(s, 10, "2012-01-06 11:00") == 1


def test_a_region_without_noaa_ar_is_dropped_unless_the_map_names_one(tmp_path):
    s = build_sharp_samples(sharp_ds(), EVENTS, CFG)
    assert 40 not in s.region and s.dropped["region_without_noaa_ar"] > 0
    m = tmp_path / "harp_to_noaa.txt"
    m.write_text("# HARPNUM NOAA_AR\n40 11001\n10 11000\n")
    s = build_sharp_samples(sharp_ds(), EVENTS, SampleConfig(**{**CFG.__dict__, "harp_map": str(m)}))
    assert label(s, 40, "2012-01-08 00:00") == 3  # the map gives HARP 40 AR 11001 and its X3
    m.write_text("40 eleven\n")
    with pytest.raises(SampleError, match="line 1 '40 eleven'"):
        build_sharp_samples(sharp_ds(), EVENTS, SampleConfig(**{**CFG.__dict__, "harp_map": str(m)}))
    with pytest.raises(SampleError, match="does not exist"):
        build_sharp_samples(sharp_ds(), EVENTS, SampleConfig(**{**CFG.__dict__, "harp_map": str(tmp_path / "no")}))


def test_windows_stay_inside_one_region_and_end_at_the_record_step():
    s = build_sharp_samples(sharp_ds(), EVENTS, CFG)
    L, hour = s.window_steps, np.timedelta64(1, "h")
    for i in range(s.issue_time.size):
        ends = s.step_end[s.end_index[i] - L + 1 : s.end_index[i] + 1]
        assert (np.diff(ends) == hour).all() and ends[-1] == s.issue_time[i]
        first = np.datetime64(pd.Timestamp(REGIONS[int(s.region[i])][0]))
        assert ends[0] >= first  # a region's first window starts at its first record, never before
    # A record at 00:59:25 UTC (T_REC 01:00:00 TAI) is in the step ending 01:00, the first issue on the hour.
    assert s.issue_time[s.region == 10].min() == np.datetime64("2012-01-01T11:00")
    assert (s.issue_time.astype("datetime64[m]").astype(np.int64) % 60 == 0).all()


def test_no_region_in_two_splits_and_spans_never_overlap():
    cfg = SampleConfig(**{**CFG.__dict__, "split": SplitConfig(block="4D")})
    s = build_sharp_samples(sharp_ds(), EVENTS, cfg)
    homes = {r: set(s.split[s.region == r]) for r in np.unique(s.region)}
    assert all(len(v) == 1 for v in homes.values())
    assert s.dropped["region_in_other_split"] > 0 or s.dropped["straddles_split_edge"] > 0
    lo, hi = s.issue_time - np.timedelta64(12, "h"), s.issue_time + np.timedelta64(24, "h")
    tr, te = s.indices("train"), s.indices("test")
    if tr.size and te.size:
        assert not ((lo[tr][:, None] < hi[te][None, :]) & (lo[te][None, :] < hi[tr][:, None])).any()


def test_missing_records_and_unusable_keywords_are_flagged_or_dropped():
    day = pd.Timestamp("2012-01-15")
    drop = {(20, day + pd.Timedelta(hours=h)) for h in range(6)}  # 6 of 12 steps: over the 0.2 tolerance
    zero = {(30, day)}  # log of USFLUX = 0 is undefined: that step is missing, not -inf
    s = build_sharp_samples(sharp_ds(drop=drop, zero_flux=zero), EVENTS, CFG)
    assert s.dropped["too_much_missing"] > 0
    # Steps ending 00:00-05:00 are empty. Windows issued 02:00-14:00 hold 3 or more of them (> 0.2 x 12): dropped;
    # those issued at 01:00 and 15:00 hold 2 and are kept.
    issued = pd.DatetimeIndex(s.issue_time[s.region == 20])
    assert not ((issued >= day + pd.Timedelta(hours=2)) & (issued <= day + pd.Timedelta(hours=14))).any()
    assert {day + pd.Timedelta(hours=1), day + pd.Timedelta(hours=15)} <= set(issued)
    i = np.flatnonzero((s.region == 30) & (s.issue_time == np.datetime64(day + pd.Timedelta(hours=3))))[0]
    w = s.gather(np.array([i]))[0]
    miss, flux = s.channels.index("missing"), s.channels.index("log_USFLUX")
    np.testing.assert_array_equal(w[miss], [0] * 8 + [1, 0, 0, 0])
    assert w[flux, 8] == 0.0 and np.isfinite(w).all()


def test_resample_last_keeps_the_latest_record_of_a_step():
    ds = sharp_ds()
    ds["R_VALUE"] = ("record", np.arange(ds.sizes["record"], dtype=float))
    cfg = SampleConfig(**{**CFG.__dict__, "cadence": "2h", "window": "24h", "stride": "2h", "max_missing": 0.0,
                          "channels": ("R_VALUE",)})
    s = build_sharp_samples(ds, EVENTS, cfg)
    raw = s.series[0] * s.norm_std[0] + s.norm_mean[0]
    # HARP 10's record 0 (23:59:25 UTC) is alone in the step ending 00:00; records 1 (00:59:25) and 2 (01:59:25)
    # share the step ending 02:00, and "last" keeps record 2.
    assert s.step_end[1] == np.datetime64("2012-01-01T02:00")
    assert raw[:2] == pytest.approx([0.0, 2.0], abs=1e-3)


def test_unknown_keyword_and_wrong_builder_fail_clearly():
    cfg = SampleConfig(**{**CFG.__dict__, "channels": ("log_TOTUSJH", "missing")})
    with pytest.raises(SampleError, match=r"no keyword 'TOTUSJH'.*\['R_VALUE', 'USFLUX'\]"):
        build_sharp_samples(sharp_ds(), EVENTS, cfg)
    with pytest.raises(SampleError, match="use samples_from_store"):
        build_samples(sharp_ds(), EVENTS, CFG)


def test_history_channels_are_per_region():
    cfg = SampleConfig(**{**CFG.__dict__, "channels": ("R_VALUE", "missing", "history_class", "history_x")})
    s = build_sharp_samples(sharp_ds(), EVENTS, cfg)
    hc, hx = cfg.channels.index("history_class"), cfg.channels.index("history_x")
    raw = s.series * s.norm_std[:, None] + s.norm_mean[:, None]
    for harp, want in ((20, 3), (10, 0)):
        i = np.flatnonzero((s.region == harp) & (s.issue_time == np.datetime64("2012-01-08T18:00")))[0]
        e = s.end_index[i]
        assert raw[hc, e] == pytest.approx(want, abs=1e-5) and raw[hx, e] == pytest.approx(float(want == 3), abs=1e-5)
