"""The split plan: block dealing, run edges, coverage of the training steps, train-only statistics."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flarecast.config import SplitConfig
from flarecast.samples.splits import assign, covered_steps, deal, norm_stats, plan, regions_on_one_side

D = np.timedelta64(1, "D")


def test_deal_interleaves_to_the_fractions():
    assert deal(5, SplitConfig()) == ["train", "val", "train", "test", "train"]
    dealt = deal(100, SplitConfig(train=0.7, val=0.1, test=0.2))
    assert [dealt.count(s) for s in ("train", "val", "test")] == [70, 10, 20]
    assert np.ptp(np.diff([i for i, s in enumerate(dealt) if s == "val"])) <= 2  # evenly spread, not bunched


def test_plan_merges_same_split_blocks_and_starts_at_midnight():
    start, end = np.datetime64("2011-01-01T05:00", "ns"), np.datetime64("2011-01-31T00:00", "ns")
    runs = plan(start, end, SplitConfig(block="4D"))
    assert runs[0].start == np.datetime64("2011-01-01T00:00") and runs[-1].end == end
    # 8 blocks dealt T V T S T T V T: blocks 5 and 6 merge into one run.
    assert [r.split for r in runs] == ["train", "val", "train", "test", "train", "val", "train"]
    assert runs[4].end - runs[4].start == 8 * D
    assert all(a.end == b.start and a.split != b.split for a, b in zip(runs, runs[1:], strict=False))
    chrono = plan(start, end, SplitConfig())
    assert [(r.split, str(r.start)[:10]) for r in chrono] == [("train", "2011-01-01"), ("val", "2011-01-19"),
                                                             ("test", "2011-01-25")]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 60 * 24), min_size=1, max_size=80), st.integers(1, 48), st.integers(1, 48),
       st.sampled_from(["", "3D", "7D"]), st.integers(0, 12))
def test_assigned_windows_of_different_splits_are_window_plus_horizon_apart(hours, w, h, block, gap):
    start = np.datetime64("2020-01-01T00:00", "ns")
    runs = plan(start, start + 60 * D, SplitConfig(block=block))
    issue = start + np.array(sorted(set(hours)), dtype="timedelta64[h]").astype("timedelta64[ns]")
    W, Hh, G = (np.timedelta64(x, "h") for x in (w, h, gap))
    split = assign(issue, W, Hh, runs, G)
    for a in ("train", "val", "test"):
        for b in ("train", "val", "test"):
            if a < b and (split == a).any() and (split == b).any():
                d = np.abs(issue[split == a][:, None] - issue[split == b][None, :]).min()
                assert d >= W + Hh + G


def test_regions_go_to_their_majority_split():
    region = np.array([1, 1, 1, 2, 2, 3])
    split = np.array(["train", "test", "train", "val", "", "test"])
    out, home = regions_on_one_side(region, split)
    assert out.tolist() == ["train", "", "train", "val", "", "test"] and home == {1: "train", 2: "val", 3: "test"}


def test_covered_steps_and_norm_stats_against_numpy():
    rng = np.random.default_rng(1)
    ends = np.array([9, 12, 40])
    cov = covered_steps(ends, 5, 50)
    want = np.zeros(50, bool)
    for e in ends:
        want[e - 4 : e + 1] = True
    np.testing.assert_array_equal(cov, want)
    x = rng.normal(3, 2, (2, 50)).astype(np.float32)
    x[0, 10] = np.nan
    mean, std = norm_stats(x, cov, ["a", "missing"])
    assert mean[0] == pytest.approx(np.nanmean(x[0, cov]), rel=1e-5)
    assert std[0] == pytest.approx(np.nanstd(x[0, cov]), rel=1e-4)
    assert (mean[1], std[1]) == (0, 1)
