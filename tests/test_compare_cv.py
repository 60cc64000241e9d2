"""``flarecast compare --cv``: paired intervals on shared resamples, the pre-declared verdict, tabular baselines fitted
out of fold, reuse of finished ensembles, the command's JSON and a batch step."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.config import builtin_config, load_config
from flarecast.errors import ConfigError
from flarecast.evaluate import baselines
from flarecast.evaluate.bootstrap import replicate_interval
from flarecast.evaluate.paired import Scored, outcome, paired, score_decisions, verdict
from flarecast.jobs.batch import load_job, run_job
from flarecast.jsonio import dumps
from flarecast.report.formats import md_text
from flarecast.samples.build import samples_from_store
from flarecast.studies import compare_cv as ccv
from flarecast.train.cv import make_folds
from tests.conftest import TINY

runner = CliRunner()
# Tiny cases: many resamples hold no event, or no warning (their intervals are NaN, as the JSON reports them).
pytestmark = pytest.mark.filterwarnings("ignore:.*bootstrap replicates are undefined")
SMALL = TINY + ["train.epochs=1", "samples.stride=2h", "train.cv.scheme=blocked", "train.cv.k=3"]


# --- paired differences: the same resamples for both forecasts ---------------------------------------------------

def _two_days():
    """Two UTC days, each one event window and three quiet ones. A warns of day 0's event only, B of day 1's."""
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0])
    day = np.repeat([0, 1], 4)
    a = np.array([0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    b = np.array([0.1, 0.1, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1])
    return y, day, a, b


def test_the_paired_difference_is_taken_resample_by_resample():
    y, day, a, b = _two_days()
    kw = {"climatology": 0.25, "n_boot": 400}
    sa, sb = score_decisions(y, a, 0.5, day, **kw), score_decisions(y, b, 0.5, day, **kw)
    assert sa.entry["recall"]["value"] == sb.entry["recall"]["value"] == 0.5
    assert (sa.entry["tp"], sa.entry["fn"], sa.entry["fp"]) == (1, 1, 0)
    # A resample draws two days: recall(A) = share of day-0 draws, recall(B) = share of day-1 draws = 1 - recall(A),
    # so on the same resample A - B is -1, 0 or +1; never +-0.5, which independent resamples would give.
    diff = sa.reps["recall"] - sb.reps["recall"]
    np.testing.assert_array_equal(sa.reps["recall"] + sb.reps["recall"], 1.0)
    assert set(np.unique(diff)) == {-1.0, 0.0, 1.0}
    d = paired(sa, sb)["recall"]
    assert d["value"] == 0.0 and d["ci"] == [-1.0, 1.0] == list(replicate_interval("recall", diff))
    unpaired = score_decisions(y, b, 0.5, day, seed=1, **kw).reps["recall"]
    assert {-0.5, 0.5} <= set(np.unique(sa.reps["recall"] - unpaired))


def test_identical_forecasts_differ_by_exactly_zero_in_every_resample():
    rng = np.random.default_rng(4)
    y = (rng.random(600) < 0.2).astype(int)
    p = np.clip(0.2 + 0.4 * (y - 0.2) + rng.normal(0, 0.2, 600), 0, 1)
    day = np.repeat(np.arange(60), 10)
    s1 = score_decisions(y, p, 0.3, day, climatology=0.2, n_boot=200)
    s2 = score_decisions(y, p.copy(), 0.3, day, climatology=0.2, n_boot=200)
    lo, hi = s1.entry["hss"]["ci"]
    assert hi - lo > 0.1  # each forecast's own interval is wide ...
    assert all(v == {"value": 0.0, "ci": [0.0, 0.0]} for v in paired(s1, s2).values())  # ... their difference is not


def test_a_threshold_per_window_decides_each_window_by_its_own():
    s = score_decisions([1, 1, 0, 0], [0.3, 0.3, 0.3, 0.1], [0.2, 0.4, 0.2, 0.2], [0, 0, 1, 1], climatology=0.5,
                        n_boot=10)
    assert (s.entry["tp"], s.entry["fn"], s.entry["fp"], s.entry["tn"]) == (1, 1, 1, 1)
    assert s.entry["threshold"] is None and s.entry["recall"]["value"] == 0.5


# --- the verdict, on constructed replicates ------------------------------------------------------------------------

def _scored(values: dict[str, float], reps: dict[str, np.ndarray]) -> Scored:
    return Scored({k: {"value": v, "ci": list(replicate_interval(k, reps[k]))} for k, v in values.items()}, reps)


def _comparison(focal: dict[str, Scored], ce: Scored, target="X"):
    """The methods of a comparison and ``target``'s block: what :func:`verdict` reads before ``target``."""
    names = {"focal a=0.25 g=2": (0.25, 2.0), "focal a=none g=1": (None, 1.0)}
    return ({"CE": {"kind": "ce"}, **{n: {"kind": "focal", "alpha": names[n][0], "gamma": names[n][1]} for n in focal}},
            {"scores": {n: {"pooled": s.entry} for n, s in {"CE": ce, **focal}.items()},
             "paired": {n: {"pooled": paired(s, ce, ("recall", "hss"))} for n, s in focal.items()}})


def test_focal_beats_ce_only_where_the_paired_interval_lies_above_zero():
    rng = np.random.default_rng(0)
    base = rng.normal(0.5, 0.1, 1000)  # the day-to-day luck both forecasts share
    ce = _scored({"recall": 0.50, "hss": 0.45}, {"recall": base, "hss": base - 0.05})
    focal = _scored({"recall": 0.55, "hss": 0.46}, {"recall": base + 0.05 + rng.normal(0, 0.01, 1000),
                                                    "hss": base - 0.04 + rng.normal(0, 0.05, 1000)})
    # Each method's own recall interval holds the other's value: unpaired, nothing would be claimed.
    assert focal.entry["recall"]["ci"][0] < 0.50 < focal.entry["recall"]["ci"][1]
    v = verdict(*_comparison({"focal a=0.25 g=2": focal}, ce), "X")
    assert v["focal"] == "focal a=0.25 g=2" and v["beats"] == {"recall": True, "hss": False}
    assert v["scores"]["recall"]["difference"] == pytest.approx(0.05)
    assert "recall 0.55 vs 0.50" in v["sentence"] and "focal beats CE" in v["sentence"]
    assert "HSS 0.46 vs 0.45" in v["sentence"] and "not shown to beat CE" in v["sentence"]
    assert "case study claimed recall 0.50 -> 0.68, HSS 0.45 -> 0.60" in v["sentence"]


def test_the_verdict_quotes_the_declared_setting_and_lists_the_others():
    rng = np.random.default_rng(1)
    base = rng.normal(0.3, 0.1, 500)
    ce = _scored({"recall": 0.3, "hss": 0.3}, {"recall": base, "hss": base})
    worse = _scored({"recall": 0.2, "hss": 0.2}, {"recall": base - 0.1, "hss": base - 0.1})
    better = _scored({"recall": 0.4, "hss": 0.3}, {"recall": base + 0.1, "hss": base})
    v = verdict(*_comparison({"focal a=0.25 g=2": worse, "focal a=none g=1": better}, ce, ">=M"), ">=M")
    assert v["focal"] == "focal a=0.25 g=2" and v["beats"] == {"recall": False, "hss": False}
    assert v["sentence"].count("CE beats focal") == 2  # both intervals lie below 0
    assert v["others_beating"] == ["focal a=none g=1"] and v["others"]["focal a=none g=1"]["recall"]["beats"]
    assert v["others"]["focal a=none g=1"]["hss"]["beats"] is False  # [0, 0] does not lie above 0
    assert "case study" not in v["sentence"]  # its claims are X's
    missing = verdict(*_comparison({"focal a=none g=1": better}, ce), "X")
    assert missing["focal"] is None and missing["beats"] is None and "not in the grid" in missing["sentence"]
    assert outcome([float("nan"), 0.1]) is None and outcome([0.01, 0.2]) is True and outcome([0.0, 0.2]) is False


# --- end to end on simulated data ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def study(sim_store, tmp_path_factory):
    """`flarecast compare --cv --json` on the simulated store: CE, alpha-CE, BCE pos_weight and focal a=0.25 g=2,
    each a 3-fold ensemble trained one epoch."""
    out = tmp_path_factory.mktemp("cmpcv") / "study"
    res = runner.invoke(app, ["compare", str(builtin_config("demo")), *SMALL, "--cv", "--store", str(sim_store),
                              "--out", str(out), "--alphas", "0.25", "--gammas", "2", "--json"])
    assert res.exit_code == 0, res.output
    return out, json.loads(res.stdout)


def test_cli_json_holds_every_method_period_and_verdict(study, sim_store):
    out, c = study
    assert {"methods", "targets", "verdicts", "folds", "rule", "bootstrap", "quoted", "cv", "config"} <= set(c)
    assert list(c["methods"]) == ["CE", "alpha-CE 0.75", "BCE pos_weight=odds", "focal a=0.25 g=2", "persistence",
                                  "logistic", "trees"]
    assert c["rule"] == "tss" and c["bootstrap"]["unit"] == "UTC day" and len(c["folds"]) == 3
    folds = [f["name"] for f in c["folds"]]
    cfg = load_config(builtin_config("demo"), SMALL)
    samples = samples_from_store(sim_store, cfg.samples)
    for t, block in c["targets"].items():
        assert block["periods"] == [*folds, "pooled"] and block["windows"] == sum(f["test"]["windows"] for f in c["folds"])
        for name in c["methods"]:
            pooled = block["scores"][name]["pooled"]
            assert set(pooled) >= {"recall", "hss", "tss", "far", "bss", "threshold", "tp"}
            assert pooled["n"] == block["windows"] and set(block["scores"][name]) == set(block["periods"])
        assert set(block["paired"]) == set(c["methods"]) - {"CE"}
        # The pooled windows are every fold's held-out windows, and the positives theirs.
        held = np.concatenate([f.indices("test") for f in make_folds(samples, cfg.train.cv)])
        assert block["positives"] == int(samples.y[held, list(samples.targets).index(t)].sum())
    assert c["verdicts"]["X"]["focal"] == "focal a=0.25 g=2" and set(c["verdicts"]["X"]["beats"]) == {"recall", "hss"}
    assert c["methods"]["CE"]["calibration"].keys() == c["targets"].keys()
    assert all(not m["reused"] for m in c["methods"].values() if m["kind"] != "baseline")
    md = (out / "report-cv.md").read_text()
    assert all(md_text(v["sentence"]) in md for v in c["verdicts"].values()) and "| trees |" in md
    assert "<table>" in (out / "report-cv.html").read_text()
    assert json.loads((out / "comparison-cv.json").read_text())["targets"] == c["targets"]


def test_a_rerun_into_the_same_folder_trains_nothing(study, sim_store, monkeypatch):
    out, first = study

    def no_training(*args, **kwargs):
        raise AssertionError("a finished ensemble was trained again")

    monkeypatch.setattr(ccv, "train_ensemble", no_training)
    cfg = load_config(builtin_config("demo"), SMALL)
    samples = samples_from_store(sim_store, cfg.samples)
    again = ccv.compare_cv(cfg, samples, out, alphas=(0.25,), gammas=(2.0,), workers=2).comparison
    assert dumps(again.targets) == dumps(first["targets"])  # another worker count changes nothing either
    assert all(m["reused"] for m in again.methods.values() if m["kind"] != "baseline")
    hss = ccv.compare_cv(cfg, samples, out, alphas=(0.25,), gammas=(2.0,), rule="hss").comparison
    assert hss.rule == "hss" and hss.targets != first["targets"]


def test_tabular_baselines_forecast_each_fold_from_its_training_part_only(sim_store, monkeypatch):
    cfg = load_config(builtin_config("demo"), SMALL)
    samples = samples_from_store(sim_store, cfg.samples)
    folds = make_folds(samples, cfg.train.cv)
    oof = np.sort(np.concatenate([f.indices("test") for f in folds]))
    fitted_on, fit = [], baselines.fit_tabular

    def spy(s, **kw):
        fitted_on.append(s.indices("train"))
        return fit(s, **kw)

    monkeypatch.setattr(baselines, "fit_tabular", spy)
    probs = ccv.tabular_oof(samples, folds, oof)
    assert len(fitted_on) == len(folds)
    for fold, seen in zip(folds, fitted_on, strict=True):
        np.testing.assert_array_equal(seen, np.flatnonzero(np.isin(fold.split, ("train", "val"))))
        assert not np.isin(fold.indices("test"), seen).any()
    # Fold 0's held-out windows: the same numbers as a logistic regression fitted by hand on fold 0's training
    # part; and flipping those windows' labels changes nothing in their forecasts.
    fold, held = folds[0], folds[0].indices("test")
    rows = np.searchsorted(oof, held)
    x = baselines.window_features(samples, fitted_on[0])
    hand = baselines.estimator("logistic").fit(x, samples.y[fitted_on[0], 1].astype(int))
    np.testing.assert_allclose(probs["logistic"][rows, 1],
                               hand.predict_proba(baselines.window_features(samples, held))[:, 1], rtol=1e-9)
    flipped = samples.y.copy()
    flipped[held] = 1 - flipped[held]
    from dataclasses import replace

    again = ccv.tabular_oof(replace(samples, y=flipped), folds[:1], held)
    for name in baselines.TABULAR:
        np.testing.assert_array_equal(again[name], probs[name][rows])


def test_refusals_before_any_training(sim_store, tmp_path):
    cfg = load_config(builtin_config("demo"), TINY)
    samples = samples_from_store(sim_store, cfg.samples)
    with pytest.raises(ConfigError, match="train.cv.scheme = 'none'"):
        ccv.compare_cv(cfg, samples, tmp_path)
    cv = cfg.replace(**{"train.cv.scheme": "blocked", "train.cv.k": 3})
    with pytest.raises(ConfigError, match="threshold"):
        ccv.compare_cv(cv, samples, tmp_path, rule="best")
    with pytest.raises(ConfigError, match="'CE'"):
        ccv.compare_cv(cv, samples, tmp_path, methods=ccv.loss_grid([0.25], [2.0], pos_weight=9.0)[1:])
    res = runner.invoke(app, ["compare", str(builtin_config("demo")), "--rule", "hss", "--store", str(sim_store)])
    assert res.exit_code != 0 and "add --cv" in res.output
    assert not any(tmp_path.iterdir())


def test_help_shows_a_cv_example():
    res = runner.invoke(app, ["compare", "--help"])
    assert res.exit_code == 0 and "--cv" in res.output and "--rule" in res.output
    assert "compare configs/real-goes-hourly.yaml --cv" in res.output


def test_a_batch_compare_step_with_cv_reuses_the_study(study, sim_store, monkeypatch):
    out, first = study
    monkeypatch.setattr(ccv, "train_ensemble", lambda *a, **k: pytest.fail("trained again"))
    job = out.parent / "study.yaml"
    job.write_text(f"""
store: {sim_store}
steps:
  cmp:
    run: compare
    config: demo
    overrides: [{', '.join(SMALL)}]
    out: {out.name}
    cv: true
    alphas: "0.25"
    gammas: "2"
""")
    (out / "comparison-cv.json").unlink()  # a job overwrites no file it did not write; the ensembles stay
    assert load_job(job).steps["cmp"].settings["cv"] is True
    plain = out.parent / "plain.yaml"  # a compare step without cv: its skip key is what it was before cv existed
    plain.write_text(job.read_text().replace("    cv: true\n", ""))
    assert not {"cv", "rule"} & set(load_job(plain).steps["cmp"].settings)
    with pytest.raises(ConfigError, match="rule 'hss' sets the thresholds of cv: true"):
        load_job(job, ["steps.cmp.cv=false", "steps.cmp.rule=hss"])
    with pytest.raises(ConfigError, match="expected 'tss', 'hss'"):
        load_job(job, ["steps.cmp.rule=best"])
    log = run_job(job, root=out.parent)
    step = log["steps"][0]
    assert step["status"] == "done" and "7 methods out of fold" in step["note"]
    assert step["outputs"]["comparison-cv.json"] is not None
    c = json.loads((out / "comparison-cv.json").read_text())
    assert dumps(c["targets"]) == dumps(first["targets"])


def test_every_loss_setting_is_an_ensemble_of_networks_alone():
    """A config that blends in logistic members (the shipped real configs) is compared without them: the
    logistic regression is its own row of the study, not a part of every loss setting."""
    cfg = load_config(builtin_config("demo"), ["train.cv.scheme=blocked", "train.cv.blend=logistic"])
    assert ccv._cv_config(cfg, None, None).train.cv.blend == "none"
    assert ccv._cv_config(cfg, 2, None).train.cv.seeds == (cfg.train.seed, cfg.train.seed + 1)
