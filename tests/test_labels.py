"""Labels from the catalogue: range maxima, region selection, HARP maps, history counts (against brute force)."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from flarecast import classes
from flarecast.errors import SampleError
from flarecast.samples.labels import Catalogue, history, label_fluxes, range_max, read_harp_map, region_ars

H = np.timedelta64(24, "h")


def cat_of(rows):
    """rows: (minutes after 2020-01-01, true flux, AR)."""
    t0 = np.datetime64("2020-01-01T00:00", "ns")
    ev = xr.Dataset({
        "peak": ("event", t0 + np.array([r[0] for r in rows], dtype="timedelta64[m]").astype("timedelta64[ns]")),
        "peak_flux": ("event", np.array([r[1] for r in rows], float)),
        "noaa_ar": ("event", np.array([r[2] for r in rows], np.int32)),
    })
    return Catalogue.from_events(ev), t0


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


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5000), st.sampled_from([2e-6, 2e-5, 2e-4]), st.sampled_from([0, 1, 2, 3])),
             min_size=1, max_size=40),
    st.lists(st.tuples(st.integers(0, 5000), st.sampled_from([-1, 7, 8])), min_size=1, max_size=30),
)
def test_region_labels_match_brute_force(events, windows):
    cat, t0 = cat_of(events)
    ars = {7: [1], 8: [2, 3]}
    issue = t0 + np.array([w[0] for w in windows], dtype="timedelta64[m]").astype("timedelta64[ns]")
    region = np.array([w[1] for w in windows], dtype=np.int32)
    nxt, prev = label_fluxes(cat, issue, H, region, ars)
    for k, (minute, r) in enumerate(windows):
        own = [e for e in events if r == -1 or e[2] in ars[r]]
        after = [f for m, f, _ in own if minute < m <= minute + 1440]
        before = [f for m, f, _ in own if minute - 1440 < m <= minute]
        assert (nxt[k] == max(after)) if after else np.isnan(nxt[k])
        assert (prev[k] == max(before)) if before else np.isnan(prev[k])


def test_one_per_peak_keeps_the_largest_and_history_counts_it_once():
    # Two catalogues gave one M5.6 to ARs 11514 and 11515 (2012-07-02): one flare, counted once.
    cat, t0 = cat_of([(60, 5.6e-5 / 0.7, 11514), (60, 5.6e-5 / 0.7, 11515), (60, 2e-6, 0), (90, 2e-6, 0)])
    one = cat.one_per_peak()
    assert one.peak.size == 2 and one.flux[0] == pytest.approx(8e-5)
    steps = t0 + np.array([59, 60, 120], dtype="timedelta64[m]").astype("timedelta64[ns]")
    out = history(["history_class", "history_ge_c", "history_ge_m", "history_x"], cat, steps,
                  np.timedelta64(1, "h"), "swpc")
    np.testing.assert_array_equal(out[:, 0], [0, 0, 0, 0])  # (-1 min, 59 min]: nothing yet
    np.testing.assert_array_equal(out[:, 1], [2, 1, 1, 0])  # the M5.6 peaks at the step end: known by then
    np.testing.assert_array_equal(out[:, 2], [1, 1, 0, 0])  # (60, 120]: only the C at 90 min


def test_of_regions_selects_every_listed_ar_in_peak_order():
    cat, _ = cat_of([(10, 1e-6, 5), (20, 2e-6, 6), (30, 3e-6, 5), (40, 4e-6, 7)])
    sub = cat.of_regions([5, 7])
    assert sub.flux.tolist() == [1e-6, 3e-6, 4e-6] and (np.diff(sub.peak) > np.timedelta64(0)).all()
    assert cat.of_regions([]).peak.size == 0


def test_region_ars_parses_noaa_ars_strings_and_adds_the_map():
    harp = np.array([3, 3, 3, 9, 12])
    text = np.array(["11158", "11158,11161", "", "0", "11200 11201"])
    assert region_ars(harp, text) == {3: [11158, 11161], 9: [], 12: [11200, 11201]}
    assert region_ars(harp, text, {9: {11170}})[9] == [11170]


def test_read_harp_map_real_layout(tmp_path):
    p = tmp_path / "harp_to_noaa.txt"
    p.write_text("1 11067\n45 11073,11077\n\n# comment\n45 11080\n")
    assert read_harp_map(p) == {1: {11067}, 45: {11073, 11077, 11080}}
    p.write_text("45\n")
    with pytest.raises(SampleError, match="line 1"):
        read_harp_map(p)


def test_events_without_peak_or_flux_cannot_label():
    ev = xr.Dataset({"peak": ("event", np.array(["NaT"], "datetime64[ns]")), "peak_flux": ("event", [1e-5])})
    with pytest.raises(SampleError, match="no flare with a peak time and flux"):
        Catalogue.from_events(ev)
    with pytest.raises(SampleError, match="no 'peak_flux'"):
        Catalogue.from_events(ev.drop_vars("peak_flux"))


def test_thresholds_at_class_edges_on_both_bases():
    # An M1.0 as NOAA reported it for GOES-15 (1e-5 scaled = 1.4286e-5 true) is M under swpc, M1.4 under true;
    # a true C1.0 is a scaled B7.0: quiet under swpc.
    true = np.array([1e-5 / 0.7, 0.99e-5 / 0.7, 1e-4 / 0.7, 1e-6])
    assert classes.ordinal(true, "swpc").tolist() == [2, 1, 3, 0]
    assert classes.ordinal(true, "true").tolist() == [2, 2, 3, 1]
