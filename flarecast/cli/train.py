"""``flarecast train``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flarecast.cli._util import command, emit, progress_bar
from flarecast.cli.options import DEFAULT_STORE, ConfigArg, JsonOpt, OverridesArg, StoreOpt, TrainDeviceOpt


@command("train")
def train_cli(
    config: ConfigArg,
    overrides: OverridesArg = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Model directory to write.")] = Path("models/latest"),
    store: StoreOpt = DEFAULT_STORE,
    device: TrainDeviceOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT/checkpoint.safetensors.")] = False,
    as_json: JsonOpt = False,
):
    """Train the temporal CNN with the config's loss; write weights, card.json and the training log.

    With train.cv.scheme blocked or rolling (the real configs' default) it trains the cross-validated ensemble
    instead: one model per fold and seed, calibration and thresholds from the pooled out-of-fold predictions,
    all in one model directory that evaluate, forecast and batch use like a single model (see docs/cv.md).

    The model directory is rewritten atomically after every epoch; an interrupted run keeps the last good
    model and continues with --resume. Under torchrun it trains with DistributedDataParallel.

    [bold]Examples[/]:
      flarecast train configs/real-goes-hourly.yaml --out models/goes-focal train.loss.alpha=0.25 train.loss.gamma=2
      flarecast train configs/real-goes-hourly.yaml --device cuda train.epochs=30
      flarecast train configs/real-goes-hourly.yaml --out models/goes-single train.cv.scheme=none
      flarecast train configs/real-goes-hourly.yaml --out models/goes-loyo train.cv.by=year train.cv.workers=2
      flarecast train configs/real-goes-hourly.yaml --out models/goes-focal train.cv.scheme=none --resume
      torchrun --nproc_per_node=2 -m flarecast train configs/real-goes-hourly.yaml --out models/ddp
    """
    from flarecast.report.tables import train_summary
    from flarecast.train.run import fit

    with progress_bar(not as_json) as p:
        summary = fit(config, overrides, store=store, out_dir=out_dir, device=device, resume=resume, progress=p)
    emit(summary, as_json, train_summary)
