from pathlib import Path

import pytest

from flarecast.config import RunConfig, builtin_config, from_dict, load_config
from flarecast.errors import ConfigError

CONFIGS = sorted(Path(__file__).parents[1].joinpath("configs").glob("*.yaml")) + sorted(
    Path(__file__).parents[1].joinpath("flarecast", "configs").glob("*.yaml")
)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_loads(path):
    if path.stem.startswith("batch"):  # a batch job file: its steps must check out, and it is no run config
        from flarecast.jobs.batch import load_job

        assert load_job(path).steps
        with pytest.raises(ConfigError, match="unknown key"):
            load_config(path)
        return
    assert load_config(path).samples.window_steps >= 8


def test_demo_config_values():
    cfg = load_config(builtin_config("demo"))
    assert cfg.samples.horizon == "24h" and cfg.samples.targets == (">=C", ">=M", "X")
    assert cfg.train.loss.gamma == 0 and cfg.train.loss.alpha is None


def test_overrides_are_parsed_as_yaml(tmp_path):
    cfg = load_config(builtin_config("demo"), ["train.lr=3e-4", "train.loss.alpha=null", "samples.targets=[X]"])
    assert cfg.train.lr == 3e-4 and cfg.train.loss.alpha is None and cfg.samples.targets == ("X",)


def test_unknown_key_names_file_and_key(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("train:\n  lerning_rate: 0.1\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: unknown key 'train\.lerning_rate'"):
        load_config(p)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"train": {"loss": {"alpha": 1.5}}}, "alpha = 1.5"),
        ({"train": {"loss": {"gamma": -1}}}, "gamma = -1"),
        ({"samples": {"cadence": "soon"}}, "cadence = 'soon'"),
        ({"samples": {"targets": ["Z"]}}, "targets = 'Z'"),
        ({"train": {"epochs": "many"}}, "epochs = 'many'"),
        ({"samples": {"window": "1h", "cadence": "15min"}}, "at least 8"),
        ({"model": {"kernel_size": 4}}, r"kernel_size = 4.*odd number"),
    ],
)
def test_invalid_values_name_the_value(data, match):
    with pytest.raises(ConfigError, match=match):
        from_dict(data)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    p = tmp_path / "broken.yaml"
    p.write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(p)


def test_every_config_key_is_described_in_docs_config_md():
    """`train --help` points to docs/config.md, which did not exist; now it lists every key a config can hold."""
    from tests.conftest import flatten

    page = (Path(__file__).resolve().parents[1] / "docs" / "config.md").read_text()
    keys = [k for k, _ in flatten(RunConfig().to_dict())]
    assert len(keys) > 40
    assert [k for k in keys if f"| `{k}`" not in page and f", `{k}`" not in page] == []
