"""Skill scores against hand-computed tables, scikit-learn and their textbook alternative forms;
group bootstrap against simulations with a known true rate."""

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)

from flarecast import metrics as fm
from flarecast.evaluate.bootstrap import (
    _auc_tables,
    _weighted_aucs,
    bootstrap_ci,
    bootstrap_replicates,
    replicate_interval,
    score_with_ci,
    score_with_replicates,
)
from flarecast.jsonio import dumps
from flarecast.metrics import Contingency, UndefinedScoreWarning

ROOT = Path(__file__).resolve().parents[1]


def _arrays_for(tp, fp, fn, tn):
    y_true = np.repeat([1, 0, 1, 0], [tp, fp, fn, tn])
    y_pred = np.repeat([1, 1, 0, 0], [tp, fp, fn, tn])
    return y_true, y_pred


# --- contingency scores -------------------------------------------------------------------------------

HAND = Contingency(tp=20, fp=10, fn=5, tn=65)


def test_contingency_counts_each_cell():
    y_true, y_pred = _arrays_for(20, 10, 5, 65)
    assert fm.contingency(y_true, y_pred) == HAND
    # a class absent from both arrays still gives a 2x2 table
    assert fm.contingency([0, 0], [0, 0]) == Contingency(tp=0, fp=0, fn=0, tn=2)


def test_scores_of_hand_computed_table():
    c = HAND
    # recall    = TP/(TP+FN) = 20/25                       = 4/5
    assert fm.recall(c) == pytest.approx(4 / 5)
    # precision = TP/(TP+FP) = 20/30                       = 2/3
    assert fm.precision(c) == pytest.approx(2 / 3)
    # FAR       = FP/(TP+FP) = 10/30                       = 1/3   (a ratio over forecasts, not over non-events)
    assert fm.far(c) == pytest.approx(1 / 3)
    # POFD      = FP/(FP+TN) = 10/75                       = 2/15
    assert fm.pofd(c) == pytest.approx(2 / 15)
    # TSS       = 4/5 - 2/15 = 12/15 - 2/15                = 2/3
    assert fm.tss(c) == pytest.approx(2 / 3)
    # HSS       = 2(20*65 - 5*10) / [(20+5)(5+65) + (20+10)(10+65)]
    #           = 2(1300 - 50) / [25*70 + 30*75] = 2500 / (1750 + 2250) = 2500/4000 = 5/8
    assert fm.hss(c) == pytest.approx(5 / 8)
    # accuracy  = (20+65)/100                              = 17/20
    assert fm.accuracy(c) == pytest.approx(17 / 20)


def _hss_expected_correct(tp, fp, fn, tn):
    """HSS in its textbook form (correct - expected by chance) / (n - expected by chance)."""
    n = tp + fp + fn + tn
    expected = ((tp + fn) * (tp + fp) + (tn + fn) * (tn + fp)) / n
    return (tp + tn - expected) / (n - expected)


cells = st.integers(min_value=0, max_value=10_000)


@given(cells, cells, cells, cells)
def test_hss_equals_its_expected_correct_form(tp, fp, fn, tn):
    n = tp + fp + fn + tn
    expected = ((tp + fn) * (tp + fp) + (tn + fn) * (tn + fp)) / n if n else 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedScoreWarning)
        value = fm.hss(Contingency(tp=tp, fp=fp, fn=fn, tn=tn))
    if n == 0 or math.isclose(n, expected):  # the textbook form is 0/0 exactly where ours is
        assert math.isnan(value)
    else:
        assert value == pytest.approx(_hss_expected_correct(tp, fp, fn, tn), rel=1e-9, abs=1e-12)


@given(cells, cells, cells, cells)
def test_tss_equals_its_determinant_form(tp, fp, fn, tn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedScoreWarning)
        value = fm.tss(Contingency(tp=tp, fp=fp, fn=fn, tn=tn))
    if tp + fn == 0 or fp + tn == 0:
        assert math.isnan(value)
    else:
        assert value == pytest.approx((tp * tn - fp * fn) / ((tp + fn) * (fp + tn)), rel=1e-9, abs=1e-12)


def test_hss_bottoms_out_at_minus_one_as_docs_scores_says():
    # Every forecast wrong with as many misses as false alarms: 2(0*0 - 5*5) / [(0+5)(5+0) + (0+5)(5+0)] = -50/50.
    assert fm.hss(Contingency(tp=0, fp=5, fn=5, tn=0)) == -1.0
    # Unequal misses and false alarms stay above -1: 2(0 - 4*1) / [(0+4)(4+0) + (0+1)(1+0)] = -8/17.
    assert fm.hss(Contingency(tp=0, fp=1, fn=4, tn=0)) == pytest.approx(-8 / 17)
    # The docs once said "-inf" (the range of another HSS form): the table must give this form's range.
    row = next(line for line in (ROOT / "docs" / "scores.md").read_text().splitlines() if line.startswith("| HSS"))
    assert "| −1–1, 1 |" in row


@given(cells, cells, cells, cells)
def test_hss_never_falls_below_minus_one(tp, fp, fn, tn):
    # den + 2(TP.TN - FN.FP) = TP(FN+FP) + 4 TP.TN + TN(FN+FP) + (FP - FN)^2 >= 0, so HSS >= -1.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedScoreWarning)
        value = fm.hss(Contingency(tp=tp, fp=fp, fn=fn, tn=tn))
    assert math.isnan(value) or -1.0 - 1e-12 <= value <= 1.0 + 1e-12


@pytest.mark.parametrize("seed", range(5))
def test_scores_agree_with_sklearn(seed):
    rng = np.random.default_rng(seed)
    y_true = (rng.random(500) < 0.2).astype(int)
    y_prob = np.clip(0.2 + 0.4 * (y_true - 0.2) + rng.normal(0, 0.2, 500), 0, 1)
    y_pred = (y_prob >= 0.4).astype(int)
    c = fm.contingency(y_true, y_pred)
    assert fm.recall(c) == pytest.approx(recall_score(y_true, y_pred))
    assert fm.precision(c) == pytest.approx(precision_score(y_true, y_pred))
    assert fm.brier_score(y_true, y_prob) == pytest.approx(brier_score_loss(y_true, y_prob))
    assert fm.roc_auc(y_true, y_prob) == pytest.approx(roc_auc_score(y_true, y_prob))
    assert fm.pr_auc(y_true, y_prob) == pytest.approx(average_precision_score(y_true, y_prob))


def test_perfect_forecast_scores_one():
    c = Contingency(tp=7, fp=0, fn=0, tn=93)
    assert fm.tss(c) == 1.0
    assert fm.hss(c) == 1.0


@pytest.mark.parametrize("forecast", [0, 1])
def test_constant_forecast_has_no_skill(forecast):
    y_true = np.array([1] * 7 + [0] * 93)
    c = fm.contingency(y_true, np.full(100, forecast))
    assert fm.hss(c) == 0.0
    assert fm.tss(c) == 0.0


@pytest.mark.parametrize(
    ("name", "table", "cause"),
    [
        ("recall", Contingency(tp=0, fp=3, fn=0, tn=9), "no observed events"),
        ("precision", Contingency(tp=0, fp=0, fn=2, tn=9), "no forecast events"),
        ("far", Contingency(tp=0, fp=0, fn=2, tn=9), "no forecast events"),
        ("pofd", Contingency(tp=4, fp=0, fn=2, tn=0), "no observed non-events"),
        ("tss", Contingency(tp=0, fp=3, fn=0, tn=9), "single class"),
        ("hss", Contingency(tp=0, fp=0, fn=0, tn=9), "one cell"),
        ("accuracy", Contingency(tp=0, fp=0, fn=0, tn=0), "empty"),
    ],
)
def test_undefined_score_is_nan_and_warns_with_cause(name, table, cause):
    with pytest.warns(UndefinedScoreWarning, match=cause):
        assert math.isnan(getattr(fm, name)(table))


def test_scores_need_a_contingency():
    with pytest.raises(TypeError, match="dict"):
        fm.recall({"tp": 1, "fp": 0, "fn": 0, "tn": 0})
    with pytest.raises(ValueError, match="fp=-1"):
        Contingency(tp=1, fp=-1, fn=0, tn=0)


# --- probabilistic scores -----------------------------------------------------------------------------


def test_bss_by_hand_and_of_climatology_itself():
    y_true = [1, 0, 0, 0]
    # BS      = (0.1^2 + 0.1^2 + 0.2^2 + 0.1^2)/4 = 0.07/4    = 0.0175
    # BS_clim = (0.75^2 + 3 * 0.25^2)/4           = 0.75/4    = 0.1875
    # BSS     = 1 - 0.0175/0.1875                 = 1 - 7/75  = 68/75
    assert fm.bss(y_true, [0.9, 0.1, 0.2, 0.1], climatology=0.25) == pytest.approx(68 / 75)
    rng = np.random.default_rng(3)
    y = (rng.random(1000) < 0.1).astype(int)
    assert fm.bss(y, np.full(1000, 0.137), climatology=0.137) == 0.0
    assert fm.bss(y, y.astype(float), climatology=0.137) == 1.0
    # a climatology from a different (training) rate than the test rate is still the reference
    assert fm.bss(y, np.full(1000, 0.5), climatology=0.137) < 0


def test_bss_undefined_when_climatology_is_perfect():
    with pytest.warns(UndefinedScoreWarning, match="climatology=0.0"):
        assert math.isnan(fm.bss([0, 0, 0], [0.1, 0.2, 0.0], climatology=0.0))


@pytest.mark.parametrize("fn", [fm.roc_auc, fm.pr_auc])
@pytest.mark.parametrize(("label", "present"), [(0, "only non-events"), (1, "only events")])
def test_auc_undefined_with_one_class(fn, label, present):
    with pytest.warns(UndefinedScoreWarning, match=present):
        assert math.isnan(fn([label] * 3, [0.1, 0.5, 0.9]))


def test_reliability_bins_by_hand():
    # n_bins=10: 0.1 sits on an edge and belongs to the lower bin (0, 0.1], as in sklearn
    r = fm.reliability([0, 1, 1, 0, 1], [0.1, 0.1, 0.35, 0.92, 0.97], n_bins=10)
    assert r["prob_pred"] == pytest.approx([0.1, 0.35, 0.945])
    assert r["prob_true"] == pytest.approx([0.5, 1.0, 0.5])
    assert r["count"].tolist() == [2, 1, 2]


def test_reliability_counts_weight_back_to_totals():
    rng = np.random.default_rng(4)
    y_prob = np.round(rng.random(2000), 2)  # many probabilities exactly on bin edges
    y_true = (rng.random(2000) < y_prob).astype(int)
    r = fm.reliability(y_true, y_prob, n_bins=7)
    assert r["count"].sum() == 2000
    assert (r["count"] * r["prob_pred"]).sum() == pytest.approx(y_prob.sum())
    assert (r["count"] * r["prob_true"]).sum() == pytest.approx(y_true.sum())


def test_score_table_by_hand():
    y_true = [1, 1, 0, 0, 0]
    y_prob = [0.9, 0.3, 0.5, 0.2, 0.1]
    t = fm.score_table(y_true, y_prob, threshold=0.5, climatology=0.4)
    # 0.5 >= threshold: the non-event at 0.5 is a false alarm
    assert (t["tp"], t["fp"], t["fn"], t["tn"]) == (1, 1, 1, 2)
    assert (t["n"], t["positives"], t["threshold"]) == (5, 2, 0.5)
    assert list(t) == ["threshold", "n", "positives", "tp", "fp", "fn", "tn", *fm.TABLE_SCORES]
    # HSS = 2(1*2 - 1*1) / [(2)(3) + (2)(3)] = 2/12 = 1/6 ; pairs ranked right: 5 of 6 -> ROC AUC 5/6
    assert t["hss"] == pytest.approx(1 / 6)
    assert t["roc_auc"] == pytest.approx(5 / 6)


# --- threshold choice ---------------------------------------------------------------------------------


def test_best_threshold_takes_the_smallest_of_equal_scores():
    # every threshold in (0.3, 0.6] separates the classes perfectly; 0.31 is the smallest on the grid
    assert fm.best_threshold([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8]) == 0.31
    assert fm.best_threshold([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8], grid=[0.9, 0.5, 0.4, 0.2]) == 0.4


def test_best_threshold_forecasts_an_event_at_exactly_the_threshold():
    # As in score_table, y_prob >= t is an event forecast. At t=0.4: TP=1, FP=1, FN=0, TN=1,
    # HSS = 2(1*1 - 0*1) / [(1)(1) + (2)(2)] = 2/5; at t=0.5 the forecast is perfect, HSS = 1.
    # Counting y_prob > t instead would make t=0.4 perfect and choose it.
    assert fm.best_threshold([0, 0, 1], [0.2, 0.4, 0.5], grid=[0.4, 0.5]) == 0.5


@pytest.mark.parametrize("score", ["hss", "tss"])
def test_best_threshold_maximises_the_score_over_the_grid(score):
    rng = np.random.default_rng(5)
    y_true = (rng.random(3000) < 0.05).astype(int)
    y_prob = np.clip(0.05 + 0.3 * y_true + rng.normal(0, 0.15, 3000), 0, 1)
    best = fm.best_threshold(y_true, y_prob, score=score)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedScoreWarning)
        brute = {
            t: getattr(fm, score)(fm.contingency(y_true, (y_prob >= t).astype(int))) for t in fm.DEFAULT_GRID
        }
    top = max(v for v in brute.values() if not math.isnan(v))
    assert best == min(t for t, v in brute.items() if v == top)


def test_hss_and_tss_choose_differently_on_rare_events():
    # TSS ignores the base rate and accepts many false alarms for a few more hits; HSS does not.
    rng = np.random.default_rng(6)
    y_true = (rng.random(5000) < 0.03).astype(int)
    y_prob = np.clip(0.05 + 0.3 * y_true + rng.normal(0, 0.12, 5000), 0, 1)
    assert fm.best_threshold(y_true, y_prob, score="tss") < fm.best_threshold(y_true, y_prob, score="hss")


def test_thresholds_beating_a_reference_by_hand():
    # Reference: TP 1, FP 0, FN 1, TN 4 -> TSS 0.5, HSS 8/14. At 0.3: TP 2, FP 1, TN 3 -> TSS 0.75, HSS 12/18;
    # at 0.55 a perfect table; at 0.7 the reference's own table (equal is not better).
    y, p = [1, 1, 0, 0, 0, 0], [0.9, 0.6, 0.5, 0.2, 0.1, 0.1]
    ref = [1, 0, 0, 0, 0, 0]
    np.testing.assert_array_equal(fm.thresholds_beating(y, p, ref, grid=[0.7, 0.3, 0.55]), [0.3, 0.55])
    # On "far" (lower is better) no threshold beats the reference's 0: 0.55 and 0.7 only equal it.
    np.testing.assert_array_equal(fm.thresholds_beating(y, p, ref, scores=("far",), grid=[0.3, 0.55, 0.7]), [])
    with pytest.raises(ValueError, match=r"scores=\['bss'\]"):
        fm.thresholds_beating(y, p, ref, scores=("bss",))


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 100), st.booleans()), min_size=2, max_size=60))
def test_thresholds_beating_agrees_with_scoring_each_threshold(rows):
    y = np.array([r[0] for r in rows], np.int8)
    p = np.array([r[1] for r in rows]) / 100
    ref = np.array([r[2] for r in rows], np.int8)
    grid = np.round(np.arange(0, 101, 5) / 100, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedScoreWarning)
        base = fm.contingency(y, ref)
        want = [t for t in grid if all(getattr(fm, s)(fm.contingency(y, p >= t)) > getattr(fm, s)(base)
                                       for s in ("tss", "hss"))]
    np.testing.assert_array_equal(fm.thresholds_beating(y, p, ref, grid=grid), want)


# --- group bootstrap ----------------------------------------------------------------------------------


def _forecast(seed, n=2000, n_groups=100, rate=0.1):
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, n)
    y_true = (rng.random(n) < rate).astype(int)
    y_prob = np.round(np.clip(rate + 0.4 * (y_true - rate) + rng.normal(0, 0.15, n), 0, 1), 2)
    return y_true, y_prob, groups


def test_replicate_aucs_equal_sklearn_with_window_weights():
    y_true, y_prob, groups = _forecast(7, n=400, n_groups=30)  # rounded probabilities: many ties
    times_drawn = np.random.default_rng(8).integers(0, 3, size=(6, 30)).astype(float)
    roc, ap = _weighted_aucs(_auc_tables(y_true, y_prob, groups, 30), times_drawn)
    for r in range(6):
        w = times_drawn[r][groups]
        assert roc[r] == pytest.approx(roc_auc_score(y_true, y_prob, sample_weight=w), abs=1e-12)
        assert ap[r] == pytest.approx(average_precision_score(y_true, y_prob, sample_weight=w), abs=1e-12)


def test_bootstrap_is_reproducible_and_shares_resamples_across_metrics():
    y_true, y_prob, groups = _forecast(9)
    kw = {"threshold": 0.3, "climatology": 0.1, "n_boot": 300}
    a = bootstrap_ci(y_true, y_prob, groups, **kw, seed=1, metrics=("hss", "tss"))
    b = bootstrap_ci(y_true, y_prob, groups, **kw, seed=1, metrics=("roc_auc", "hss", "pr_auc", "tss"))
    c = bootstrap_ci(y_true, y_prob, groups, **kw, seed=2, metrics=("hss", "tss"))
    assert a["hss"] == b["hss"] and a["tss"] == b["tss"]
    assert a["hss"] != c["hss"]
    point = fm.score_table(y_true, y_prob, threshold=0.3, climatology=0.1)
    for m, (lo, hi) in b.items():
        assert lo < point[m] < hi, m


def test_bootstrap_does_not_depend_on_memory_chunking(monkeypatch):
    y_true, y_prob, groups = _forecast(10, n_groups=50)
    kw = {"threshold": 0.3, "climatology": 0.1, "n_boot": 100, "metrics": ("hss", "bss", "roc_auc", "pr_auc")}
    whole = bootstrap_ci(y_true, y_prob, groups, **kw)
    # 7 replicates per chunk for the counts, fewer for the AUCs: offsets into the replicates must line up
    monkeypatch.setattr("flarecast.evaluate.bootstrap._CELLS_PER_CHUNK", 7 * 50)
    chunked = bootstrap_ci(y_true, y_prob, groups, **kw)
    for m in kw["metrics"]:
        assert chunked[m] == pytest.approx(whole[m], abs=1e-12), m


def _clustered_detections(seed, n_groups=60, true_recall=0.7):
    """Events only; each group (day) has its own detection rate, so hits within a day are correlated."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n_groups), 1 + rng.poisson(3, n_groups))
    # Beta(1.4, 0.6): mean 0.7 = the recall over many days, strong day-to-day spread
    day_rate = rng.beta(2 * true_recall, 2 * (1 - true_recall), n_groups)
    hit = (rng.random(groups.size) < day_rate[groups]).astype(float)
    return np.ones(groups.size, dtype=int), hit, groups


def test_group_bootstrap_covers_true_recall_95_percent_of_the_time():
    covered_by_group = covered_by_window = 0
    repeats = 200
    for seed in range(repeats):
        y_true, y_prob, groups = _clustered_detections(seed)
        kw = {"threshold": 0.5, "climatology": 0.5, "n_boot": 400, "seed": seed, "metrics": ("recall",)}
        lo, hi = bootstrap_ci(y_true, y_prob, groups, **kw)["recall"]
        covered_by_group += lo <= 0.7 <= hi
        lo, hi = bootstrap_ci(y_true, y_prob, np.arange(y_true.size), **kw)["recall"]
        covered_by_window += lo <= 0.7 <= hi
    assert 0.88 <= covered_by_group / repeats <= 0.99
    # resampling windows as if independent gives intervals that are too narrow on clustered data
    assert covered_by_window / repeats < 0.85


def test_group_interval_is_wider_than_window_interval_on_clustered_data():
    y_true, y_prob, groups = _clustered_detections(11, n_groups=100)
    kw = {"threshold": 0.5, "climatology": 0.5, "metrics": ("recall",)}
    lo_g, hi_g = bootstrap_ci(y_true, y_prob, groups, **kw)["recall"]
    lo_w, hi_w = bootstrap_ci(y_true, y_prob, np.arange(y_true.size), **kw)["recall"]
    assert hi_g - lo_g > 1.3 * (hi_w - lo_w)


def test_bootstrap_interval_is_nan_when_most_resamples_lack_events():
    y_true = np.zeros(300, dtype=int)
    y_true[5] = 1  # one event, in group 0 of 30: about 37% of resamples miss it
    y_prob = np.linspace(0, 1, 300)
    groups = np.arange(300) // 10
    with pytest.warns(UndefinedScoreWarning, match="recall: .* replicates are undefined"):
        ci = bootstrap_ci(y_true, y_prob, groups, threshold=0.5, climatology=0.1, metrics=("recall", "pofd"))
    assert all(math.isnan(v) for v in ci["recall"])
    assert not any(math.isnan(v) for v in ci["pofd"])


def test_score_with_ci_has_the_metrics_json_shape():
    y_true, y_prob, groups = _forecast(12)
    s = score_with_ci(y_true, y_prob, groups, threshold=0.3, climatology=0.1, n_boot=200)
    table = fm.score_table(y_true, y_prob, threshold=0.3, climatology=0.1)
    assert list(s) == ["threshold", "n", "positives", "tp", "fp", "fn", "tn", *fm.TABLE_SCORES]
    for key in ("threshold", "n", "positives", "tp", "fp", "fn", "tn"):
        assert s[key] == table[key]
    for m in fm.TABLE_SCORES:
        assert set(s[m]) == {"value", "ci"}
        assert s[m]["value"] == table[m]
        lo, hi = s[m]["ci"]
        assert isinstance(s[m]["ci"], list) and lo <= hi



def test_score_with_replicates_gives_the_entry_and_the_replicates_of_its_intervals():
    """One bootstrap for both: the entry is score_with_ci's, the replicates are bootstrap_replicates' for the same
    arguments (so paired differences against another forecast use the resamples its intervals used)."""
    y_true, y_prob, groups = _forecast(12)
    kw = {"threshold": 0.3, "climatology": 0.1, "n_boot": 200, "seed": 4}
    entry, reps = score_with_replicates(y_true, y_prob, groups, **kw)
    assert dumps(entry) == dumps(score_with_ci(y_true, y_prob, groups, **kw))
    alone = bootstrap_replicates(y_true, y_prob, groups, **kw, metrics=fm.TABLE_SCORES)
    assert list(reps) == list(fm.TABLE_SCORES)
    for m in fm.TABLE_SCORES:
        np.testing.assert_array_equal(reps[m], alone[m])
        assert dumps(entry[m]["ci"]) == dumps(list(replicate_interval(m, reps[m])))


def test_score_with_ci_checks_its_arguments_as_bootstrap_ci_does():
    groups = np.arange(10) // 2
    y, p = np.r_[np.zeros(5), np.ones(5)].astype(int), np.linspace(0, 1, 10)
    for kwargs, match in [({"threshold": 1.5}, "threshold=1.5"), ({"n_boot": 0}, "n_boot=0"),
                          ({"level": 1.0}, "level=1.0")]:
        with pytest.raises(ValueError, match=match):
            score_with_ci(y, p, groups, **{"threshold": 0.5, "climatology": 0.1, **kwargs})
    with pytest.raises(ValueError, match="1 distinct group"):
        score_with_ci(y, p, np.zeros(10), threshold=0.5, climatology=0.1)

# --- input validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: fm.brier_score([[0, 1]], [[0.2, 0.3]]), r"y_true has shape \(1, 2\)"),
        (lambda: fm.brier_score([0, 1, 1], [0.2, 0.3]), "y_true has 3 windows and y_prob has 2"),
        (lambda: fm.brier_score([0, 1], [0.2, 1.2]), r"outside \[0, 1\], e.g. \[1.2\]"),
        (lambda: fm.brier_score([0, 1], [0.2, np.nan]), r"e.g. \[nan\]"),
        (lambda: fm.roc_auc([0, 2], [0.2, 0.3]), r"labels \[2\]: expected only 0 and 1"),
        (lambda: fm.brier_score([], []), "y_true is empty"),
        (lambda: fm.contingency([0, 1], [0, -1]), r"y_pred holds labels \[-1\]"),
        (lambda: fm.reliability([0, 1], [0.2, 0.3], n_bins=0), "n_bins=0"),
        (lambda: fm.score_table([0, 1], [0.2, 0.3], threshold=1.5, climatology=0.1), "threshold=1.5"),
        (lambda: fm.bss([0, 1], [0.2, 0.3], climatology=-0.1), "climatology=-0.1"),
        (lambda: fm.best_threshold([0, 1], [0.2, 0.3], score="f1"), r"score='f1'.*\['hss', 'tss'\]"),
        (lambda: fm.best_threshold([0, 1], [0.2, 0.3], grid=[0.5, 2.0]), "grid="),
        (lambda: fm.best_threshold([1, 1], [0.2, 0.3]), "single class"),
    ],
)
def test_metrics_reject_bad_input_naming_the_value(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"groups": np.arange(5)}, r"groups has shape \(5,\)"),
        ({"groups": np.r_[np.arange(9.0), np.nan]}, "1 missing labels"),
        ({"groups": np.zeros(10)}, "1 distinct group"),
        ({"n_boot": 0}, "n_boot=0"),
        ({"level": 1.0}, "level=1.0"),
        ({"metrics": ("recall", "f1")}, r"metrics=\['recall', 'f1'\]: expected names from"),
    ],
)
def test_bootstrap_rejects_bad_input_naming_the_value(kwargs, match):
    args = {"groups": np.arange(10) // 2, "threshold": 0.5, "climatology": 0.1, **kwargs}
    groups = args.pop("groups")
    with pytest.raises(ValueError, match=match):
        bootstrap_ci(np.r_[np.zeros(5), np.ones(5)].astype(int), np.linspace(0, 1, 10), groups, **args)
