"""``flarecast train``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flarecast.cli._util import (
    DEFAULT_STORE,
    JsonOpt,
    StoreOpt,
    app,
    out,
    print_json,
    progress_bar,
    user_errors,
)
from flarecast.errors import FlarecastError


@app.command("train")
@user_errors
def train_cli(
    config: Annotated[Path, typer.Argument(help="YAML config (samples, model, train sections).")],
    overrides: Annotated[list[str] | None, typer.Argument(help="Dotted overrides: train.loss.gamma=2")] = None,
    store: StoreOpt = DEFAULT_STORE,
    out_dir: Annotated[Path, typer.Option("--out", help="Model directory to write.")] = Path("models/latest"),
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda (overrides train.device).")] = None,
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
    from flarecast.config import load_config
    from flarecast.samples.build import samples_from_store
    from flarecast.train.loop import train

    ov = list(overrides or []) + ([f"train.device={device}"] if device else [])
    cfg = load_config(config, ov)
    samples = samples_from_store(store, cfg.samples)
    if cfg.train.cv.scheme != "none":
        if resume:
            raise FlarecastError("--resume continues one model's training; a CV ensemble is retrained whole: "
                                 "drop --resume or set train.cv.scheme=none")
        _train_ensemble(samples, cfg, out_dir, as_json)
        return
    n = samples.indices("train").size
    with progress_bar(not as_json) as p:
        advance = p.task(f"Training {cfg.train.loss.label}", cfg.train.epochs * n)

        def show_epoch(entry: dict) -> None:  # loss and validation scores beside the bar, one line per epoch
            pr = ", ".join(f"{t} {v:.3f}" for t, v in entry["val_pr_auc"].items() if v == v)
            advance(0, info=f"epoch {entry['epoch']}: loss {entry['train_loss']:.4f}, val PR AUC {pr}")

        result = train(samples, cfg, out_dir, resume=resume, on_batch=advance, on_epoch=show_epoch)
    summary = {"model_dir": str(result.model_dir), "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
               "val_score": result.val_score, "thresholds": result.thresholds, "seconds": round(result.seconds, 2)}
    if as_json:
        print_json(summary)
    else:
        out.print(f"model written to {result.model_dir} (best epoch {result.best_epoch} of {result.epochs_run}, "
                  f"validation mean PR AUC {result.val_score:.3f}, thresholds {result.thresholds})")


def _train_ensemble(samples, cfg, out_dir: Path, as_json: bool) -> None:
    from flarecast.train.cv import make_folds
    from flarecast.train.ensemble import train_ensemble

    cv = cfg.train.cv
    n_members = len(make_folds(samples, cv)) * len(cv.seeds)
    with progress_bar(not as_json) as p:
        advance = p.task(f"CV ensemble ({cv.scheme}, {cfg.train.loss.label})", n_members)

        def show(m) -> None:
            advance(1, info=f"member fold {m.fold} seed {m.seed}: best epoch {m.best_epoch} of {m.epochs_run}, "
                            f"{m.seconds:.0f} s")

        result = train_ensemble(samples, cfg, out_dir, on_member=show)
    summary = {"model_dir": str(result.model_dir), "members": len(result.members),
               "folds": [f["name"] for f in result.folds], "thresholds": result.thresholds,
               "threshold_rule": cv.threshold, "calibration": result.calibration,
               "seconds": round(result.seconds, 2)}
    if as_json:
        print_json(summary)
    else:
        out.print(f"ensemble of {summary['members']} members written to {result.model_dir} in "
                  f"{result.seconds:.0f} s (folds {summary['folds']}; calibration {result.calibration}; "
                  f"thresholds {result.thresholds} by rule {cv.threshold}); see `flarecast cv {result.model_dir}`")
