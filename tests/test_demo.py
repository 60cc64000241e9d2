import json

import pytest
from typer.testing import CliRunner

from flarecast.cli import app
from flarecast.config import builtin_config, load_config
from flarecast.jobs.demo import demo_configs
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
def test_tiny_demo_end_to_end_on_cpu(tmp_path):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "simulate.days=45", "train.epochs=1", "model.hidden=8", "train.device=cpu"]
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
    assert "| CE |" in (out / "report.md").read_text()
