import pytest
from typer.testing import CliRunner

from flarecast.cli import app

runner = CliRunner()
COMMANDS = ["simulate", "ingest", "samples", "train", "evaluate", "compare", "forecast", "card", "batch", "demo",
            "combine", "dashboard"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output and f"flarecast {command}" in result.output


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("flarecast ")


def test_bad_config_is_one_line_error_and_nonzero_exit(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("train:\n  loss: {alpha: 3}\n")
    result = runner.invoke(app, ["train", str(cfg), "--store", str(tmp_path / "s.zarr")])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "alpha = 3" in lines[0] and "Traceback" not in result.output


def test_unknown_ingest_kind(tmp_path):
    result = runner.invoke(app, ["ingest", "flux", str(tmp_path)])
    assert result.exit_code == 2 and "expected one of ['goes', 'sharp', 'events']" in result.output


def test_missing_store_is_a_clear_error(tmp_path):
    from flarecast.config import builtin_config

    result = runner.invoke(app, ["samples", str(builtin_config("demo")), "--store", str(tmp_path / "none.zarr")])
    assert result.exit_code != 0 and "flarecast ingest goes" in result.output
