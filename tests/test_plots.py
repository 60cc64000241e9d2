from pathlib import Path

import numpy as np
import pytest

from flarecast.evaluate.scoring import Forecasts
from flarecast.metrics import score_table
from flarecast.report import plots


def forecasts(n=400, seed=0, regions=1) -> Forecasts:
    """``n`` hourly issue times, ``regions`` windows at each; model probabilities that track the labels."""
    rng = np.random.default_rng(seed)
    times = np.datetime64("2020-01-01", "ns") + np.arange(n) * np.timedelta64(1, "h")
    issue = np.repeat(times, regions)
    region = np.tile(np.arange(regions), n)
    y = (rng.random((issue.size, 2)) < [0.3, 0.05]).astype(np.int8)
    y[:, 1] &= y[:, 0]  # X implies >=M
    model = np.clip(0.2 + 0.4 * y + rng.normal(0, 0.15, y.shape), 0, 1)
    prev = (rng.random(y.shape) < 0.3).astype(float)
    clim = {">=M": 0.3, "X": 0.05}
    return Forecasts(
        targets=(">=M", "X"), issue_time=issue, region=region, group=issue.astype("datetime64[D]").astype(np.int64),
        group_unit="UTC day", y=y,
        probs={"model": model, "climatology": np.tile([0.3, 0.05], (y.shape[0], 1)), "persistence": prev,
               "logistic": np.clip(model + rng.normal(0, 0.1, y.shape), 0, 1)},
        thresholds={"model": {">=M": 0.42, "X": 0.37}, "model@0.5": {">=M": 0.5, "X": 0.5},
                    "climatology": {">=M": 0.5, "X": 0.5}, "persistence": {">=M": 0.5, "X": 0.5},
                    "logistic": {">=M": 0.4, "X": 0.4}},
        climatology=clim)


@pytest.mark.parametrize("target", [">=M", "X"])
def test_score_against_threshold_curve_agrees_with_the_2x2_table(target):
    fc = forecasts()
    data = plots.threshold_data(fc, target)
    j = fc.targets.index(target)
    for t in (0.1, 0.37, 0.42, 0.8):
        k = int(np.argmin(np.abs(data["threshold"] - t)))
        table = score_table(fc.y[:, j], fc.prob("model", target), threshold=data["threshold"][k],
                            climatology=fc.climatology[target])
        for score in ("recall", "far", "tss", "hss"):
            assert data[score][k] == pytest.approx(table[score], nan_ok=True), (t, score)
    assert data["chosen"] == fc.thresholds["model"][target]


def test_persistence_is_one_roc_point_at_its_pofd_and_recall():
    fc = forecasts()
    table = score_table(fc.y[:, 0], fc.prob("persistence", ">=M"), threshold=0.5, climatology=0.3)
    roc = plots.roc_data(fc, ">=M")
    assert roc["points"]["persistence"] == pytest.approx((table["pofd"], table["recall"]))
    assert set(roc["curves"]) == {"model", "logistic"}  # climatology is the diagonal, not a curve
    pr = plots.pr_data(fc, ">=M")
    assert pr["points"]["persistence"] == pytest.approx((table["recall"], table["precision"]))
    assert pr["event_rate"] == pytest.approx(fc.y[:, 0].mean())


def test_one_class_gives_no_curves():
    fc = forecasts()
    fc.y[:, 1] = 0
    assert plots.roc_data(fc, "X")["curves"] == {}
    assert plots.pr_data(fc, "X")["curves"] == {}


def test_timeline_takes_the_largest_regional_probability_and_marks_only_big_enough_flares():
    fc = forecasts(n=48, regions=3)
    data = plots.timeline_data(fc, ">=M", flares=(
        np.array(["2019-12-31T12:00", "2020-01-01T05:00", "2020-01-01T06:00", "2020-01-05"], dtype="datetime64[ns]"),
        np.array([3, 1, 2, 3])))  # before the span, a C flare, an M flare, after the span
    assert data["time"].size == 48
    per_time = fc.prob("model", ">=M").reshape(48, 3)
    np.testing.assert_array_equal(data["prob"], per_time.max(axis=1))
    np.testing.assert_array_equal(data["observed"], fc.y[:, 0].reshape(48, 3).any(axis=1))
    np.testing.assert_array_equal(data["flare_peaks"], np.array(["2020-01-01T06:00"], dtype="datetime64[ns]"))


def test_timeline_breaks_at_gaps_between_split_blocks_and_leaves_their_flares_out():
    fc = forecasts(n=96)
    keep = np.r_[0:24, 72:96]  # two days of windows, two days apart (a block of another split between)
    fc = Forecasts(fc.targets, fc.issue_time[keep], fc.region[keep], fc.group[keep], fc.group_unit, fc.y[keep],
                   {k: v[keep] for k, v in fc.probs.items()}, fc.thresholds, fc.climatology)
    peaks = np.array(["2020-01-01T10:00", "2020-01-02T12:00", "2020-01-03T12:00", "2020-01-04T03:00"],
                     dtype="datetime64[ns]")
    data = plots.timeline_data(fc, "X", flares=(peaks, np.full(4, 3)))
    # Windows issued up to 2020-01-01T23:00 look 24 h ahead, so the flare at 01-02T12:00 is scored; the one
    # at 01-03T12:00 is only seen by windows that are not evaluated (issued 01-02T12:00 to 01-03T11:00).
    np.testing.assert_array_equal(data["flare_peaks"], peaks[[0, 1, 3]])
    assert np.flatnonzero(data["gap"]).tolist() == [23]


def test_timeline_of_a_forecast_day_marks_the_flares_of_that_days_window_only():
    """Issue 23: the timeline marked flares by the 24 h after issue whatever the target, so a day-2 target showed
    day 1's flares and none of its own. Each target now uses its windows' own (valid_from, valid_to]."""
    from flarecast.samples.labels import target_windows

    targets = ("X@d1", "X@d2")
    issue = np.arange("2020-01-01T20", "2020-01-02T00", dtype="datetime64[h]").astype("datetime64[ns]")
    y = np.zeros((issue.size, 2), np.int8)
    fc = Forecasts(targets, issue, np.full(issue.size, -1), issue.astype("datetime64[D]").astype(np.int64),
                   "UTC day", y, {"model": np.full(y.shape, 0.1)}, {"model": dict.fromkeys(targets, 0.2)},
                   dict.fromkeys(targets, 0.05), windows=target_windows(issue, targets, np.timedelta64(24, "h")))
    peaks = np.array(["2020-01-01T23:30",  # within 24 h of every issue but on the day of issue: no day's
                      "2020-01-02T10:00", "2020-01-03T00:00",  # day 1 (a peak at 00:00 ends the day before)
                      "2020-01-03T12:00", "2020-01-04T00:00",  # day 2
                      "2020-01-04T00:01"], dtype="datetime64[ns]")  # day 3: neither
    flares = (peaks, np.full(peaks.size, 3))
    np.testing.assert_array_equal(plots.timeline_data(fc, "X@d1", flares)["flare_peaks"], peaks[[1, 2]])
    np.testing.assert_array_equal(plots.timeline_data(fc, "X@d2", flares)["flare_peaks"], peaks[[3, 4]])


def test_write_plots_writes_each_kind_for_each_target(tmp_path):
    written = plots.write_plots(forecasts(n=60), tmp_path, dpi=30)
    assert {t: sorted(p.name for p in paths) for t, paths in written.items()} == {
        t: sorted(f"{k}_{plots.slug(t)}.png" for k in plots.KINDS) for t in (">=M", "X")}
    assert all(p.read_bytes()[:4] == b"\x89PNG" for paths in written.values() for p in paths)


def test_heatmap_draws_a_grid_with_an_undefined_cell(tmp_path):
    data = {"score": "hss", "alphas": [None, 0.25], "gammas": [1.0, 2.0, 5.0], "ce": 0.3,
            "mean": [[0.1, 0.2, 0.3], [0.4, float("nan"), 0.6]], "std": [[0.01] * 3, [0.02] * 3]}
    path = plots.draw_heatmap(data, tmp_path / "h.png", dpi=40)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_every_figure_has_a_title_and_labelled_axes(tmp_path, monkeypatch):
    """Every figure a report embeds names what it shows: a title and both axis labels (the forecast timeline had
    no x label); a second y axis (the reliability diagram's counts) says what it counts."""
    from matplotlib.figure import Figure

    drawn = []
    monkeypatch.setattr(Figure, "savefig", lambda fig, path, *a, **k: (drawn.append(fig), Path(path).touch()))
    plots.write_plots(forecasts(n=60), tmp_path, dpi=30)
    t = np.datetime64("2013-10-24", "ns") + np.arange(48) * np.timedelta64(1, "h")
    data = plots.episode_data(t, np.arange(48) > 30, {"CE": np.linspace(0, 0.3, 48), "focal": np.full(48, 0.1)},
                              {"CE": 0.1, "focal": 0.2}, [(t[40], "X1.7 10-25 08:01")])
    plots.draw("episode", data, "X", tmp_path / "e.png", dpi=30)
    assert len(drawn) == 2 * len(plots.KINDS) + 1
    for fig in drawn:
        main, *twins = fig.axes
        assert main.get_title() and main.get_xlabel() and main.get_ylabel(), main.get_title()
        assert all(a.get_ylabel() for a in twins), main.get_title()


def test_reliability_legend_sits_below_the_axes_and_counts_stand_on_their_bars(tmp_path, monkeypatch):
    """The legend covered the tallest count bars and the bin counts, written by each point, overlapped near the
    origin: the legend is now below the axes, and each count stands upright on its own bar."""
    from matplotlib.figure import Figure

    drawn = []
    monkeypatch.setattr(Figure, "savefig", lambda fig, path, *a, **k: (drawn.append(fig), Path(path).touch()))
    fc = forecasts(n=200)
    plots.draw("reliability", plots.reliability_data(fc, ">=M"), ">=M", tmp_path / "r.png", dpi=30)
    ax, counts = drawn[0].axes
    anchor = ax.get_legend().get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    assert anchor.y1 < 0  # below the axes
    labels = [a for a in counts.texts if a.get_rotation() == 90]
    bars = [p for p in counts.patches]
    assert len(labels) == len(bars) > 0
    assert {(round(a.xy[0], 6), a.get_text()) for a in labels} == {
        (round(b.get_x() + b.get_width() / 2, 6), str(int(b.get_height()))) for b in bars}
