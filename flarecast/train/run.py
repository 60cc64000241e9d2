"""``flarecast train`` as one library call: a config file (+ overrides) and a store in, a model directory out.

With ``train.cv.scheme`` ``none`` one network is trained (:func:`flarecast.train.loop.train`); otherwise the
cross-validated ensemble (:func:`flarecast.train.ensemble.train_ensemble`). Either way the result is a typed
summary (:class:`SingleFit` or :class:`EnsembleFit`, told apart by ``kind``), the same the command prints as a line
or as ``--json`` (:meth:`~Fit.to_dict`, keys in the order of the fields).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from flarecast.config import load_config
from flarecast.errors import ConfigError
from flarecast.progress import NullProgress, Progress
from flarecast.samples import samples_from_store
from flarecast.train.cv import make_folds
from flarecast.train.ensemble import train_ensemble
from flarecast.train.loop import train


class Fit(BaseModel):
    """What every training run reports: where the model went, the thresholds chosen, the time taken and the
    warnings about targets without a positive window (:func:`no_events`)."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")
    kind: str  # each kind's own Literal, first in the JSON
    model_dir: str

    def to_dict(self) -> dict[str, Any]:
        """The summary as ``--json`` prints it: the fields in their order."""
        return self.model_dump(mode="python")


class SingleFit(Fit):
    """One network (``train.cv.scheme: none``)."""

    kind: Literal["single"] = "single"
    best_epoch: int
    epochs_run: int
    val_score: float
    thresholds: dict[str, float]
    seconds: float
    warnings: list[str] = []


class EnsembleFit(Fit):
    """A cross-validated ensemble: its members, folds (with the periods they held out), thresholds, the rule that
    chose them, and the calibration per target."""

    kind: Literal["ensemble"] = "ensemble"
    members: int
    folds: list[str]
    fold_periods: list[dict[str, Any]]
    thresholds: dict[str, float]
    threshold_rule: str
    calibration: dict[str, str]
    seconds: float
    warnings: list[str] = []


def fit(config: str | Path, overrides: list[str] | None = None, *, store: str | Path, out_dir: str | Path,
        device: str | None = None, resume: bool = False, progress: Progress | None = None) -> SingleFit | EnsembleFit:
    """Train what ``config`` describes on ``store`` into ``out_dir``; return the summary of the run.

    ``device`` overrides ``train.device``; ``resume`` continues a single model from its checkpoint (an ensemble
    is retrained whole, so it is refused there).
    """
    progress = progress or NullProgress()
    cfg = load_config(config, list(overrides or []) + ([f"train.device={device}"] if device else []))
    samples = samples_from_store(store, cfg.samples)
    cv = cfg.train.cv
    if cv.scheme != "none":
        if resume:
            raise ConfigError("--resume continues one model's training; a CV ensemble is retrained whole: drop "
                              "--resume or set train.cv.scheme=none")
        folds = make_folds(samples, cv)
        advance = progress.task(f"CV ensemble ({cv.scheme}, {cfg.train.loss.label})", len(folds) * len(cv.seeds))

        def show(m) -> None:
            advance(1, info=f"member fold {m.fold} seed {m.seed}: best epoch {m.best_epoch} of {m.epochs_run}, "
                            f"{m.seconds:.0f} s")

        warned = no_events(samples, {f"fold {f.name}'s training part": f.indices("train") for f in folds})
        result = train_ensemble(samples, cfg, out_dir, on_member=show)
        return EnsembleFit(model_dir=str(result.model_dir), members=len(result.members),
                           folds=[f["name"] for f in result.folds],
                           fold_periods=[{"period": f["name"], "held_out": f["held_out"]} for f in result.folds],
                           thresholds=result.thresholds, threshold_rule=str(cv.threshold),
                           calibration=result.calibration, seconds=round(result.seconds, 2), warnings=warned)
    warned = no_events(samples, {"the training split": samples.indices("train"),
                                 "the validation split": samples.indices("val")})
    advance = progress.task(f"Training {cfg.train.loss.label}", cfg.train.epochs * samples.indices("train").size)

    def show_epoch(entry: dict) -> None:  # loss and validation scores beside the bar, one line per epoch
        pr = ", ".join(f"{t} {v:.3f}" for t, v in entry["val_pr_auc"].items() if v == v)
        advance(0, info=f"epoch {entry['epoch']}: loss {entry['train_loss']:.4f}, val PR AUC {pr}")

    result = train(samples, cfg, out_dir, resume=resume, on_batch=advance, on_epoch=show_epoch)
    return SingleFit(model_dir=str(result.model_dir), best_epoch=result.best_epoch, epochs_run=result.epochs_run,
                     val_score=result.val_score, thresholds=result.thresholds, seconds=round(result.seconds, 2),
                     warnings=warned)


def no_events(samples, parts: dict[str, Any]) -> list[str]:
    """One line per target and part (``{name: window indices}``) that holds no positive window: such a head can
    only learn to say no, and no threshold can be chosen from one class (0.5 is used).

    Training goes on: the other targets may be fine; the lines say which head to distrust and why.
    """
    out = []
    for j, t in enumerate(samples.targets):
        for name, idx in parts.items():
            if idx.size and not samples.y[idx, j].any():
                out.append(f"{t}: no positive window in {name} ({idx.size} windows): its forecasts and threshold "
                           "carry no information from there; use a longer period or leave the target out "
                           "(samples.targets)")
    return out
