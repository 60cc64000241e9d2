"""Score a trained model on a split beside the baselines, with bootstrap intervals over whole UTC days.

Methods scored on the same windows: ``model`` (threshold chosen on validation, from the card), ``model@0.5``,
``climatology`` (the training base rate as a constant probability) and ``persistence`` (yes if a flare of the
target class peaked in the previous horizon). The result has the shape of ``metrics.json``:
``{"targets": {T: {method: {"threshold", "n", "positives", "tp", ..., "recall": {"value", "ci"}, ...}}}}``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from flarecast import classes
from flarecast.bootstrap import score_with_ci
from flarecast.errors import ModelError
from flarecast.metrics import UndefinedScoreWarning
from flarecast.modeldir import load_model
from flarecast.samples import Samples
from flarecast.train import predict, resolve_device


def check_compatible(card: dict[str, Any], samples: Samples) -> None:
    """Refuse samples whose channels, targets or window differ from what the model was trained on."""
    for key, have in (("channels", list(samples.channels)), ("targets", list(samples.targets)),
                      ("window_steps", samples.window_steps)):
        if card[key] != have:
            raise ModelError(f"model expects {key} = {card[key]}, the samples have {have}: build samples with the "
                             "model's own config (its card.json)")


def evaluate_model(model_dir: str | Path, samples: Samples, *, split: str = "test", device: str = "cpu",
                   n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Scores for every target and method on one split of ``samples`` (see the module docstring)."""
    model, card = load_model(model_dir, device=str(resolve_device(device)))
    check_compatible(card, samples)
    idx = samples.indices(split)
    if idx.size == 0:
        raise ModelError(f"split {split!r} holds no windows: nothing to evaluate")
    probs = predict(model, samples, idx, device=next(model.parameters()).device)
    days = samples.issue_time[idx].astype("datetime64[D]").astype(np.int64)
    prev_rank = classes.ordinal(samples.prev_flux[idx], samples.config.convention)
    out: dict[str, Any] = {"split": split, "n_windows": int(idx.size), "convention": samples.config.convention,
                           "loss": card.get("loss"), "bootstrap": {"unit": "UTC day", "n_boot": n_boot}, "targets": {}}
    with warnings.catch_warnings():  # undefined scores (no forecast events, say) are reported as null, not warned
        warnings.simplefilter("ignore", UndefinedScoreWarning)
        for j, target in enumerate(samples.targets):
            out["targets"][target] = _score_target(samples, idx, j, probs[:, j], days, prev_rank, card, n_boot, seed)
    return out


def _score_target(samples, idx, j, prob, days, prev_rank, card, n_boot, seed) -> dict[str, Any]:
    target = samples.targets[j]
    y = samples.y[idx, j].astype(int)
    clim = float(card["climatology"][target])
    persist = (prev_rank >= classes.TARGET_RANK[target]).astype(float)
    forecasts = {
        "model": (prob, float(card["thresholds"][target])),
        "model@0.5": (prob, 0.5),
        "climatology": (np.full(y.shape, clim), 0.5),
        "persistence": (persist, 0.5),
    }
    return {
        name: score_with_ci(y, p, days, threshold=thr, climatology=clim, n_boot=n_boot, seed=seed)
        for name, (p, thr) in forecasts.items()
    }
