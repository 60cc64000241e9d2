import json

import pytest
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.config import builtin_config, load_config
from flarecast.jobs.demo import CPU_KERNELS, demo_configs, training_pool
from tests.conftest import flatten


def test_demo_configurations_differ_only_in_the_loss():
    runs = demo_configs(load_config(builtin_config("demo")))
    ce, focal = (dict(flatten(runs[k].to_dict())) for k in ("CE", "focal"))
    differing = {k for k in ce if ce[k] != focal[k]}
    assert differing == {"train.loss.alpha", "train.loss.gamma"}
    assert (ce["train.loss.alpha"], ce["train.loss.gamma"]) == (None, 0.0)  # exactly BCE
    assert (focal["train.loss.alpha"], focal["train.loss.gamma"]) == (0.25, 2.0)
    assert runs["CE"].train.loss.label == "CE"


@pytest.mark.slow
def test_tiny_simulated_demo_end_to_end_on_cpu(tmp_path):
    out = tmp_path / "demo"
    # A 12 h horizon and TSS thresholds, not the demo's 24 h and HSS: the report must say what was run.
    args = ["demo", "--simulated", "--out", str(out), "simulate.days=45", "train.epochs=1", "model.hidden=8",
            "train.device=cpu", "samples.horizon=12h", "train.threshold_score=tss"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "focal" in result.output and "CE" in result.output
    comp = json.loads((out / "comparison.json").read_text())
    assert set(comp["methods"]) == {"CE", "focal"}
    for name in ("CE", "focal"):
        for target in ("X", ">=M"):
            row = comp["methods"][name][target]
            assert row["tp"] + row["fp"] + row["fn"] + row["tn"] == comp["test"]["windows"]
            assert row["positives"] == comp["test"]["positives"][target] == row["tp"] + row["fn"]
        card = json.loads((out / "models" / name / "card.json").read_text())
        assert card["loss"] == comp["losses"][name]
        assert (out / "models" / name / "weights.safetensors").stat().st_size > 0
    report = (out / "report.md").read_text()
    assert "| CE |" in report and "largest flare peaking in the next 12h" in report
    assert "Thresholds were chosen on the validation split by maximising TSS" in report and "HSS)" not in report


@pytest.fixture(scope="module")
def tiny_real_demo(tmp_path_factory):
    """``flarecast demo`` run once for this module: two seeds of one epoch on the package's real data."""
    out = tmp_path_factory.mktemp("real") / "demo"
    args = ["demo", "--out", str(out), "--seeds", "2", "train.epochs=1", "model.hidden=8", "train.device=cpu",
            "train.threshold_score=tss"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out, result


@pytest.mark.slow
def test_tiny_real_demo_on_the_embedded_data(tiny_real_demo):
    """Two seeds of one epoch on the package's real data: the table, the verdicts and a self-contained report."""
    out, result = tiny_real_demo
    assert "X recall" in result.output and "focal loss" in result.output
    comp = json.loads((out / "comparison.json").read_text())
    assert set(comp["methods"]) == {"CE", "focal"} and comp["seeds"] == [0, 1]
    assert set(comp["baselines"]) >= {"persistence", "climatology", "logistic"}
    # The test split of the 2011-2013 series: 2013-05-28 onwards, with the X flares of late 2013.
    assert comp["test"]["from"].startswith("2013-05-28") and comp["test"]["positives"]["X"] >= 20
    for name in ("CE", "focal"):
        x = comp["methods"][name]["targets"]["X"]
        assert len(x["recall"]["values"]) == 2 and x["positives"] == comp["test"]["positives"]["X"]
        for run in comp["methods"][name]["runs"]:
            card = json.loads((out / "models" / name / f"seed{run['seed']}" / "card.json").read_text())
            assert card["decision"]["thresholds"] == run["thresholds"]  # chosen on validation by training, not on test
    assert comp["losses"] == {"CE": "CE", "focal": "focal(alpha=0.25, gamma=2)"}
    html = (out / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == len(comp["figures"]) == 5
    assert 'src="' not in html.replace('src="data:', "")  # nothing links outside the page
    for name in comp["figures"].values():
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(comp["plain_verdicts"]) == {"X", ">=M"}
    report = (out / "report.md").read_text()
    assert "threshold is chosen on the validation split by maximising TSS before" in report
    assert "(maximising HSS)" not in report


@pytest.mark.slow
def test_the_real_demo_shows_swpcs_3_day_table_for_its_last_test_day(tiny_real_demo):
    """Issue 23: the demo keeps its loss comparison and adds SWPC's table (C, M, X on each of the three UT days
    after issue) from one day model, issued at 22:00 UT on the day model's last test day; its probabilities are
    what `flarecast forecast` gives for that model and time, nested on every day, and the observed row is the
    largest flare class the catalogue holds on each day (read here from the store, not from the labels)."""
    import numpy as np
    import pandas as pd

    from flarecast import classes
    from flarecast.ingest.store import read_events
    from flarecast.jobs.demo_days import day_config
    from flarecast.samples.build import samples_from_store

    out, result = tiny_real_demo
    comp = json.loads((out / "comparison.json").read_text())
    f = comp["day_forecast"]
    issue = pd.Timestamp(f["table"]["issue_time"])
    cfg = day_config(load_config(builtin_config("demo-real"), ["train.epochs=1", "model.hidden=8"]))
    samples = samples_from_store(out / "store.zarr", cfg.samples)
    test = pd.DatetimeIndex(samples.issue_time[samples.indices("test")], tz="UTC")
    assert issue == test[test.hour == 22].max() and test.max() - issue < pd.Timedelta("1D")

    days = f["table"]["days"]
    assert [d["day"] for d in days] == [1, 2, 3]
    for k, d in enumerate(days, start=1):  # the three UT days after the day of issue
        assert pd.Timestamp(d["from"]) == issue.normalize() + pd.Timedelta(days=k)
        assert pd.Timestamp(d["to"]) - pd.Timestamp(d["from"]) == pd.Timedelta("1D")
    rows = {r["class"]: r["probabilities"] for r in f["table"]["rows"]}
    assert list(rows) == ["C", "M", "X"]
    for c, m, x in zip(rows["C"], rows["M"], rows["X"], strict=True):
        assert 0 <= x <= m <= c <= 1

    ev = read_events(out / "store.zarr")
    peak = pd.DatetimeIndex(ev["peak"].values, tz="UTC")
    rank = classes.ordinal(ev["peak_flux"].values, comp["convention"])
    seen = [rank[(peak > pd.Timestamp(d["from"])) & (peak <= pd.Timestamp(d["to"]))].max(initial=0) for d in days]
    assert f["observed"] == [{0: "<C", 1: "C", 2: "M", 3: "X"}[int(r)] for r in seen]

    again = CliRunner().invoke(app, ["forecast", str(out / f["model"]), "--store", str(out / "store.zarr"),
                                     "--at", f["table"]["issue_time"], "--json"])
    assert again.exit_code == 0, again.output
    fresh = {r["target"]: r["probability"] for r in json.loads(again.output)["forecasts"]}
    for c, t in ((">=C", "C"), (">=M", "M"), ("X", "X")):
        assert np.allclose([fresh[f"{c}@d{k}"] for k in (1, 2, 3)], rows[t], atol=1e-9)

    printed = next(ln for ln in result.output.splitlines() if ln.strip().startswith("│ Class M")
                   or ln.strip().startswith("Class M"))
    assert [f"{round(100 * p)}%" for p in rows["M"]] == printed.replace("│", " ").split()[2:]
    assert "3-day forecast for the last test day" in result.output
    assert "## 3-day forecast" in (out / "report.md").read_text()


def _worker_setup():
    import os

    import torch

    return {k: os.environ.get(k) for k in CPU_KERNELS}, torch.get_num_threads(), torch.backends.cpu.get_cpu_capability()


def test_demo_trains_in_pinned_worker_processes_whatever_the_core_count(monkeypatch):
    """The demo's numbers varied from machine to machine (CE X recall 0.51, 0.50, 0.43 on three machines): torch
    and oneDNN picked AVX-512 or AVX2 kernels, MKL its per-vendor code, and a one-core machine trained in the main
    process. Now every CPU run trains in a fresh worker with the pins and one thread, even on one core; and the
    parent's environment is given back afterwards."""
    import os

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0}, raising=False)  # a one-core machine
    monkeypatch.setenv("MKL_CBWR", "AUTO")
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    cfg = load_config(builtin_config("demo-real"), ["train.device=cpu"])
    with training_pool(cfg, None, 3) as pool:
        assert pool is not None and pool._max_workers == 1
        env, threads, capability = pool.submit(_worker_setup).result(timeout=120)
    assert env == CPU_KERNELS and threads == 1
    assert capability in ("AVX2", "DEFAULT")  # never AVX512, whatever this CPU has
    assert os.environ["MKL_CBWR"] == "AUTO" and "ATEN_CPU_CAPABILITY" not in os.environ
