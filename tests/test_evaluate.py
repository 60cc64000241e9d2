import json

import numpy as np
import pytest
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.config import builtin_config, load_config
from flarecast.errors import ModelError
from flarecast.evaluate.baselines import persistence
from flarecast.evaluate.scoring import METHODS, evaluate_model
from flarecast.metrics import TABLE_SCORES
from flarecast.model.documents import Metrics
from flarecast.samples.build import samples_from_store
from flarecast.studies.evaluation import evaluate
from flarecast.train.loop import train
from tests.conftest import TINY

ENTRY_KEYS = {"threshold", "n", "positives", "tp", "fp", "fn", "tn", *TABLE_SCORES}


@pytest.fixture(scope="module")
def trained(sim_store, tmp_path_factory):
    cfg = load_config(builtin_config("demo"), TINY + ["train.epochs=1", 'samples.targets=[">=M", "X"]'])
    samples = samples_from_store(sim_store, cfg.samples)
    model_dir = tmp_path_factory.mktemp("eval") / "model"
    train(samples, cfg, model_dir)
    return model_dir, samples, cfg


@pytest.fixture(scope="module")
def unseen_store(tmp_path_factory):
    """12 days after the training store's 40, from another simulator seed: data the model never saw."""
    from flarecast.ingest.pipeline import ingest
    from flarecast.simulate.generate import simulate

    root = tmp_path_factory.mktemp("unseen")
    simulate(root / "raw", days=12, seed=11, activity=4.0, start="2018-03-01")
    store = root / "store.zarr"
    ingest("goes", [root / "raw" / "goes"], store=store)
    ingest("events", [root / "raw" / "events"], store=store)
    return store


def test_test_split_scores_every_method_on_the_same_windows(trained):
    model_dir, samples, _ = trained
    result = evaluate_model(model_dir, samples, split="test", n_boot=50)
    test = samples.indices("test")
    card = json.loads((model_dir / "card.json").read_text())
    assert result.n_windows == test.size and result.notes == []
    for j, target in enumerate(samples.targets):
        methods = result.targets[target]
        assert list(methods) == list(METHODS)
        for m, entry in methods.items():
            assert set(entry) == ENTRY_KEYS, m
            assert entry["tp"] + entry["fp"] + entry["fn"] + entry["tn"] == test.size
            assert entry["positives"] == int(samples.y[test, j].sum())
        assert methods["model"]["threshold"] == card["decision"]["thresholds"][target]
        assert methods["model@0.5"]["threshold"] == 0.5
        # Climatology is the card's training rate: BSS exactly 0, no discrimination, one decision for all.
        assert methods["climatology"]["bss"]["value"] == 0.0
        if 0 < methods["model"]["positives"] < test.size:  # both classes present (X has none in this test split)
            assert methods["climatology"]["roc_auc"]["value"] == 0.5
        else:
            assert np.isnan(methods["model"]["roc_auc"]["value"])
        forecast_events = methods["climatology"]["tp"] + methods["climatology"]["fp"]
        assert forecast_events == (test.size if card["climatology"][target] >= 0.5 else 0)
        hand = persistence(samples.prev_flux[test], target, samples.config.convention).astype(bool)
        truth = samples.y[test, j].astype(bool)
        assert methods["persistence"]["tp"] == int((hand & truth).sum())
        assert methods["persistence"]["fp"] == int((hand & ~truth).sum())
    assert result.baselines["logistic"]["train_windows"] == samples.indices("train").size


def test_all_windows_of_an_unseen_store_with_and_without_the_training_store(trained, unseen_store, sim_store,
                                                                            tmp_path):
    model_dir, *_ = trained
    alone = evaluate(model_dir, unseen_store, split=None, n_boot=50, out_dir=tmp_path / "alone", plots=False)
    assert not {"logistic", "trees"} & set(alone.targets["X"])
    assert alone.baselines == {"logistic": None, "trees": None}
    assert any("logistic and trees baselines omitted" in n for n in alone.notes)
    written = Metrics.read(tmp_path / "alone" / "metrics.json")  # strict JSON: NaN became null
    assert written.n_windows == alone.n_windows

    both = evaluate(model_dir, unseen_store, split=None, train_store=sim_store, n_boot=50)
    assert set(both.targets["X"]) == set(METHODS)
    assert both.overlap_with_training["windows"] == 0 and both.notes == []
    # Every window is scored: none is lost at split edges, unlike the split plan of the same store.
    cfg = load_config(builtin_config("demo"), TINY + ['samples.targets=[">=M", "X"]'])
    with_splits = samples_from_store(unseen_store, cfg.samples)
    assert both.n_windows > with_splits.issue_time.size
    assert both.n_windows == with_splits.issue_time.size + with_splits.dropped["straddles_split_edge"]


def test_all_windows_of_the_training_store_are_flagged_as_not_out_of_sample(trained, sim_store):
    model_dir, samples, _ = trained
    result = evaluate(model_dir, sim_store, split=None, train_store=sim_store, n_boot=20)
    n_train_val = samples.indices("train").size + samples.indices("val").size
    assert result.overlap_with_training["windows"] >= n_train_val
    assert any("not out-of-sample" in n for n in result.notes)


def test_period_keeps_windows_issued_from_inclusive_to_exclusive(trained, sim_store):
    model_dir, *_ = trained
    result = evaluate(model_dir, sim_store, split=None, period=("2018-01-20", "2018-01-25T06:00"), n_boot=20)
    assert result.period.start == "2018-01-20 00:00:00"
    assert result.period.end == "2018-01-25 05:00:00"  # hourly windows; 06:00 itself is excluded
    assert result.n_windows == 5 * 24 + 6
    with pytest.raises(ModelError, match="holds no windows"):
        evaluate(model_dir, sim_store, split=None, period=("2030-01-01", None), n_boot=20)
    with pytest.raises(ModelError, match="not before"):
        evaluate(model_dir, sim_store, split=None, period=("2018-01-25", "2018-01-20"), n_boot=20)
    with pytest.raises(ModelError, match=r"^--to '2018-02-30': expected a UTC date"):  # names the option at fault
        evaluate(model_dir, sim_store, split=None, period=("2018-01-20", "2018-02-30"), n_boot=20)


def test_a_single_day_cannot_give_day_bootstrap_intervals(trained, sim_store):
    model_dir, *_ = trained
    with pytest.raises(ModelError, match="at least 2"):
        evaluate(model_dir, sim_store, split=None, period=("2018-01-20", "2018-01-20T12:00"), n_boot=20)


def test_samples_of_another_config_are_refused(trained, sim_store):
    model_dir, *_ = trained
    other = samples_from_store(sim_store, load_config(builtin_config("demo"), TINY + ["samples.window=12h", 'samples.targets=[">=M", "X"]']).samples)
    with pytest.raises(ModelError, match="window_steps"):
        evaluate_model(model_dir, other, n_boot=20)


def test_cli_writes_metrics_plots_and_report(trained, sim_store, tmp_path):
    model_dir, *_ = trained
    out = tmp_path / "ev"
    res = CliRunner().invoke(app, ["evaluate", str(model_dir), "--store", str(sim_store), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    metrics = Metrics.read(out / "metrics.json")
    assert metrics.split == "test" and metrics.bootstrap.unit == "UTC day"
    for target, files in metrics.plots.items():
        assert sorted(files) == sorted(f"{k}_{target.replace('>=', 'ge_')}.png" for k in
                                       ("roc", "pr", "reliability", "threshold", "timeline"))
        assert all((out / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in files)
    report = (out / "report.md").read_text()
    assert "| model |" in report
    # DESIGN: the threshold rule is stated in every report (HSS depends on the base rate, TSS does not).
    assert metrics.threshold_rule == {"rule": "hss", "chosen_on": "validation split"}
    assert "thresholds, chosen on the validation split by maximising HSS;" in report
    # report.html beside it: the same report as one page, every figure embedded (none linked to a file)
    html = (out / "report.html").read_text()
    assert "<table>" in html and html.count('src="data:image/png;base64,') == sum(map(len, metrics.plots.values()))
    assert 'src="data:' in html and 'src="' not in html.replace('src="data:', "")


def test_cli_split_and_all_are_exclusive(trained, sim_store):
    model_dir, *_ = trained
    res = CliRunner().invoke(app, ["evaluate", str(model_dir), "--store", str(sim_store), "--split", "val", "--all"])
    assert res.exit_code == 2 and "cannot be combined" in res.output and "Traceback" not in res.output


def test_cli_by_year_table_metrics_and_report(trained, sim_store, tmp_path):
    model_dir, samples, _ = trained
    runner = CliRunner()
    res = runner.invoke(app, ["evaluate", str(model_dir), "--store", str(sim_store), "--by", "year", "--out",
                              str(tmp_path / "ev"), "--no-plots"])
    assert res.exit_code == 0, res.output
    assert "Year by year" in res.output and "trees" in res.output
    result = Metrics.read(tmp_path / "ev" / "metrics.json")
    # The simulated test split lies in one year: that year's counts are the pooled counts, method by method.
    assert list(result.by_year) == ["2018"]
    year = result.by_year["2018"]
    assert year["n_windows"] == result.n_windows == samples.indices("test").size
    for target, methods in result.targets.items():
        for m, entry in methods.items():
            assert [year["targets"][target][m][k] for k in ("tp", "fp", "fn", "tn")] == \
                   [entry[k] for k in ("tp", "fp", "fn", "tn")], (target, m)
    assert "## By year" in (tmp_path / "ev" / "report.md").read_text()
    bad = runner.invoke(app, ["evaluate", str(model_dir), "--store", str(sim_store), "--by", "fold"])
    assert bad.exit_code == 2 and "flarecast cv" in bad.output and "Traceback" not in bad.output
