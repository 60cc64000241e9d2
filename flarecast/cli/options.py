"""The options and arguments several commands take, defined once: ``store: StoreOpt = DEFAULT_STORE``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flarecast import defaults

DEFAULT_STORE = Path(defaults.DEFAULT_STORE)

StoreOpt = Annotated[Path, typer.Option("--store", "-s", help="Zarr store to read and write.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout instead of tables.")]
TrustOpt = Annotated[bool, typer.Option(
    "--trust-modified", help="Use a model whose weights differ from the sha256 in its card (refused otherwise); "
                             "the outputs then say weights_modified: true.")]
ConfigArg = Annotated[Path, typer.Argument(help="YAML run config: samples, model and train sections (docs/config.md).")]
OverridesArg = Annotated[list[str] | None, typer.Argument(
    help="Dotted overrides of the run config: train.epochs=5 train.loss.gamma=2 samples.window=12h")]
TrainDeviceOpt = Annotated[str | None, typer.Option(help="auto, cpu or cuda (overrides train.device).")]
DeviceOpt = Annotated[str, typer.Option(help="cpu (bit-reproducible; a forecast runs numpy, no torch), cuda or auto.")]
