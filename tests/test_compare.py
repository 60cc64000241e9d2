import json

import numpy as np
import pytest
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.config import builtin_config, load_config
from flarecast.errors import ConfigError
from flarecast.jsonio import dumps
from flarecast.report.compare import heatmap, verdict
from flarecast.report.formats import md_text
from flarecast.samples.build import samples_from_store
from flarecast.studies import comparison as cmp
from tests.conftest import TINY, flatten


def test_default_grid_is_the_issue_grid_plus_three_baselines():
    methods = cmp.loss_grid(pos_weight=30.0)
    assert len(methods) == 3 + 4 * 5
    assert [m.name for m in methods[:3]] == ["CE", "alpha-CE 0.75", "BCE pos_weight=30"]
    focal = {(m.alpha, m.gamma) for m in methods if m.kind == "focal"}
    assert focal == {(a, g) for a in (None, 0.25, 0.5, 0.75) for g in (0.5, 1.0, 2.0, 3.0, 5.0)}


def test_a_zero_gamma_in_the_grid_does_not_train_ce_twice():
    names = [m.name for m in cmp.loss_grid([None, 0.75], [0.0, 2.0], pos_weight=9.0)]
    assert names == ["CE", "alpha-CE 0.75", "BCE pos_weight=9", "focal a=none g=2", "focal a=0.75 g=2"]


def test_runs_differ_from_ce_only_in_the_loss():
    base = load_config(builtin_config("demo"))
    ce = dict(flatten(base.replace(**cmp.loss_grid(pos_weight=9.0)[0].overrides).to_dict()))
    assert (ce["train.loss.alpha"], ce["train.loss.gamma"], ce["train.loss.pos_weight"]) == (None, 0.0, None)
    for m in cmp.loss_grid([0.25], [2.0], pos_weight=9.0)[1:]:
        run = dict(flatten(cmp._run_config(base, m, 0, "cpu").to_dict()))
        assert {k for k in run if run[k] != ce[k]} <= {"train.loss.alpha", "train.loss.gamma",
                                                       "train.loss.pos_weight", "train.device"}


def test_grid_parsing():
    assert cmp.parse_alphas("none, 0.25,0.5") == (None, 0.25, 0.5)
    assert cmp.parse_gammas("0.5,1,2") == (0.5, 1.0, 2.0)
    with pytest.raises(ConfigError, match="'two'"):
        cmp.parse_gammas("1,two")


def test_default_pos_weight_is_each_targets_training_odds(sim_store):
    samples = samples_from_store(sim_store, load_config(builtin_config("demo"), TINY).samples)
    rates = samples.y[samples.indices("train")].mean(axis=0)
    pw = cmp.default_pos_weight(samples)
    assert list(pw) == list(samples.targets)
    for t, r in zip(samples.targets, rates, strict=True):
        assert pw[t] == pytest.approx((1 - r) / r, abs=0.005)
    assert pw["X"] > pw[">=M"]  # rarer target, larger weight
    assert cmp.loss_grid([None], [2.0], pos_weight=pw)[2].name == "BCE pos_weight=odds"


def test_pos_weight_option_parsing():
    assert cmp.parse_pos_weight("odds") is None and cmp.parse_pos_weight(None) is None
    assert cmp.parse_pos_weight("9") == 9.0
    for bad in ("0", "-3", "heavy"):
        with pytest.raises(ConfigError, match="--pos-weight"):
            cmp.parse_pos_weight(bad)


def _method(kind, alpha, gamma, test_hss, val_hss, recall=(0.5, 0.5)):
    def stats(values):
        v = np.asarray(values, float)
        return {"mean": v.mean(), "std": v.std(ddof=1) if v.size > 1 else float("nan"), "values": list(v)}

    return {"kind": kind, "alpha": alpha, "gamma": gamma, "targets": {"X": {
        "hss": stats(test_hss), "recall": stats(recall), "val": {"hss": stats(val_hss)}}}}


def _methods(**focal):
    """The ``methods`` of a comparison: CE and the ``focal`` settings."""
    return {"CE": _method("ce", None, 0.0, [0.30, 0.34], [0.3, 0.3]), **focal}


def test_verdict_picks_the_focal_setting_on_validation_not_on_test():
    c = _methods(**{"focal a=0.25 g=2": _method("focal", 0.25, 2.0, [0.60, 0.62], [0.10, 0.12]),
                       "focal a=none g=1": _method("focal", None, 1.0, [0.31, 0.35], [0.40, 0.42])})
    v = verdict(c, "X")
    assert v["focal"] == "focal a=none g=1"  # the best test HSS (0.61) was not chosen: validation decides
    assert v["beats"] is False and "within the seed-to-seed spread" in v["sentence"]
    assert v["difference"] == pytest.approx(0.01)


@pytest.mark.parametrize(("focal_hss", "beats", "words"), [
    ([0.50, 0.54], True, "focal loss beats CE"),
    ([0.10, 0.14], True, "CE beats focal loss"),
])
def test_verdict_beyond_the_spread_names_the_winner(focal_hss, beats, words):
    c = _methods(f=_method("focal", 0.25, 2.0, focal_hss, [0.5, 0.5]))
    v = verdict(c, "X")
    assert v["beats"] is (np.mean(focal_hss) > 0.32) and words in v["sentence"]
    assert v["spread"] == pytest.approx(np.std([0.30, 0.34], ddof=1))


def test_verdict_with_one_seed_claims_nothing():
    c = {"CE": _method("ce", None, 0.0, [0.3], [0.3]), "f": _method("focal", 0.25, 2.0, [0.9], [0.5])}
    v = verdict(c, "X")
    assert v["beats"] is None and "one seed" in v["sentence"]


def test_heatmap_puts_alpha_in_rows_and_gamma_in_columns():
    c = _methods(**{"a": _method("focal", None, 1.0, [0.1, 0.1], [0, 0]),
                       "b": _method("focal", 0.25, 1.0, [0.2, 0.2], [0, 0]),
                       "c": _method("focal", 0.25, 3.0, [0.4, 0.4], [0, 0])})
    h = heatmap(c, "X", [None, 0.25], [1.0, 3.0])
    assert h["mean"][0][0] == pytest.approx(0.1) and np.isnan(h["mean"][0][1])
    assert h["mean"][1] == pytest.approx([0.2, 0.4])
    assert h["ce"] == pytest.approx(0.32)


@pytest.fixture(scope="module")
def tiny_compare(sim_store, tmp_path_factory):
    # TSS, not the demo's HSS: the report must name the rule the runs used, not a fixed one.
    cfg = load_config(builtin_config("demo"), TINY + ["train.epochs=1", "train.threshold_score=tss"])
    samples = samples_from_store(sim_store, cfg.samples)
    out = tmp_path_factory.mktemp("cmp")
    kw = {"alphas": (0.25,), "gammas": (2.0,), "n_boot": 100}
    return cfg, samples, out, cmp.compare(cfg, samples, out / "serial", seeds=2, workers=1, **kw), kw


def test_compare_writes_reports_with_every_method_seed_and_verdict(tiny_compare):
    cfg, samples, out, result, _ = tiny_compare
    c = json.loads((out / "serial" / "comparison.json").read_text())
    assert list(c["methods"]) == ["CE", "alpha-CE 0.75", "BCE pos_weight=odds",
                                  "focal a=0.25 g=2"]
    assert set(c["baselines"]) == {"climatology", "persistence", "logistic", "trees"}
    assert "| trees |" in result.report_md.read_text()
    for m in c["methods"].values():
        assert [r["seed"] for r in m["runs"]] == [0, 1]
        hss = m["targets"][">=M"]["hss"]
        assert hss["mean"] == pytest.approx(np.mean(hss["values"]))
        assert hss["std"] == pytest.approx(np.std(hss["values"], ddof=1))
    assert set(c["verdicts"]) == set(samples.targets)
    md = result.report_md.read_text()
    assert "## Samples" in md and f"| test | {c['test']['windows']} |" in md
    assert c["warnings"] == cmp.split_warnings(c["samples"], samples.targets)
    assert "| CE | CE |" in md and all(md_text(v["sentence"]) in md for v in c["verdicts"].values())
    # HSS depends on the base rate and TSS does not: the report says which one chose every threshold.
    assert c["threshold_rule"] == {"rule": "tss", "chosen_on": "validation split"}
    assert "threshold was chosen on the validation split by maximising TSS;" in md and "HSS)" not in md
    html = result.report_html.read_text()
    assert "<table>" in html and "data:image/png;base64," in html and 'src="heatmap_' not in html


@pytest.mark.slow  # two spawned workers import torch afresh: ~15 s of start-up on two busy cores
def test_parallel_workers_give_the_serial_numbers_and_a_rerun_trains_nothing(tiny_compare, monkeypatch):
    cfg, samples, out, serial, kw = tiny_compare
    pooled = cmp.compare(cfg, samples, out / "pool", seeds=[1], workers=2, **kw)
    assert pooled.comparison.parallel["workers"] == 2
    for name, m in pooled.comparison.methods.items():
        for t in samples.targets:  # one thread per run, so the worker count cannot change a result
            assert m["targets"][t]["hss"]["values"] == \
                pytest.approx(serial.comparison.methods[name]["targets"][t]["hss"]["values"][1:], nan_ok=True)

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(cmp, "_train_one", no_training)
    again = cmp.compare(cfg, samples, out / "serial", seeds=2, workers=1, **kw)
    assert dumps(again.comparison.methods) == dumps(serial.comparison.methods)


def test_run_compare_from_the_config_file_reuses_the_runs_of_the_same_resolved_config(tiny_compare, sim_store,
                                                                                    monkeypatch):
    """`flarecast compare`'s one library call: the config file, its overrides, --device and the grids as typed
    resolve to exactly the runs compare() trained (any other config would train them again)."""
    from flarecast.studies.run import run_compare

    cfg, samples, out, serial, kw = tiny_compare

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again: the resolved config differs")

    monkeypatch.setattr(cmp, "_train_one", no_training)
    overrides = [o for o in TINY if not o.startswith("train.device=")] + ["train.epochs=1", "train.threshold_score=tss"]
    again = run_compare(builtin_config("demo"), overrides, store=sim_store, out=out / "serial", device="cpu", seeds=2,
                        alphas="0.25", gammas="2", workers=1, n_boot=100)
    assert again.comparison.parallel["reused_runs"] == len(serial.comparison.methods) * 2
    assert dumps(again.comparison.methods) == dumps(serial.comparison.methods)
    assert again.comparison.store == str(sim_store) and again.report_md == out / "serial" / "report.md"
    with pytest.raises(ConfigError, match="gamma"):
        run_compare(builtin_config("demo"), overrides, store=sim_store, out=out / "bad", gammas="two")


def test_cli_help_has_examples():
    res = CliRunner().invoke(app, ["compare", "--help"])
    assert res.exit_code == 0 and "flarecast compare" in res.output and "--alphas" in res.output


def _counts(val_pos, val_n, test_pos, test_n):
    return {"splits": {"train": {"windows": 100, "positives": {"X": 5}},
                       "val": {"windows": val_n, "positives": {"X": val_pos}},
                       "test": {"windows": test_n, "positives": {"X": test_pos}}}}


def test_split_warnings_name_too_few_validation_events_and_rates_far_apart():
    assert cmp.split_warnings(_counts(30, 1000, 30, 1000), ["X"]) == []
    assert cmp.split_warnings(_counts(30, 1000, 16, 1000), ["X"]) == []  # 3.0% vs 1.6%: within a factor 2
    few = cmp.split_warnings(_counts(4, 1000, 15, 1000), ["X"])
    assert len(few) == 1 and "validation holds 4 positive windows" in few[0]
    apart = cmp.split_warnings(_counts(30, 1000, 10, 1000), ["X"])
    assert len(apart) == 1 and "3.0% of validation windows" in apart[0] and "1.0% of test" in apart[0]
