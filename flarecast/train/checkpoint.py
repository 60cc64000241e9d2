"""Resumable training state in one safetensors file, replaced atomically at the end of every epoch.

The file holds the model's and the optimiser's tensors, the random-number states (global torch and the
shuffling generator) and, in its JSON header, the epoch counters, the training log, the scheduler state and
the run config. Nothing is pickled, so loading a checkpoint cannot execute code. Restoring it and training on
gives the same weights as a run that was never interrupted (on the CPU).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from flarecast.errors import ModelError
from flarecast.jsonio import dumps
from flarecast.util import atomic_path

CHECKPOINT = "checkpoint.safetensors"


@dataclass
class Progress:
    """Counters of the early-stopping loop; what a resumed run needs besides tensors."""

    epoch: int = 0
    best: float = float("-inf")
    best_epoch: int = 0
    bad_epochs: int = 0
    seen: int = 0
    log: list[dict] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)


def save_checkpoint(model_dir: Path, model, opt, sched, gen: torch.Generator, progress: Progress,
                    config: dict[str, Any]) -> None:
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    opt_state = opt.state_dict()
    for idx, st in opt_state["state"].items():
        for name, value in st.items():
            tensors[f"optim.{idx}.{name}"] = torch.as_tensor(value).detach().cpu().contiguous()
    tensors["rng.torch"] = torch.get_rng_state()
    tensors["rng.loader"] = gen.get_state()
    meta = {"state": dumps({"progress": progress.__dict__, "param_groups": opt_state["param_groups"],
                            "scheduler": sched.state_dict(), "config": config}, indent=None)}
    with atomic_path(model_dir / CHECKPOINT) as tmp:
        save_file(tensors, str(tmp), metadata=meta)


def load_checkpoint(model_dir: Path, model, opt, sched, gen: torch.Generator, config: dict[str, Any]) -> Progress:
    """Restore everything :func:`save_checkpoint` wrote; refuse a checkpoint of a different run config."""
    path = model_dir / CHECKPOINT
    if not path.is_file():
        raise ModelError(f"{model_dir}: no {CHECKPOINT} to resume from; start without --resume")
    meta, tensors = read_checkpoint(path)
    saved = meta["config"]
    if _comparable(saved) != _comparable(json.loads(dumps(config, indent=None))):
        raise ModelError(f"{path}: the checkpoint was written with another config; resume with the same config "
                         "(only train.patience and train.device may change) or train into a new --out")
    try:
        model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
        state: dict[int, dict[str, torch.Tensor]] = {}
        for k, v in tensors.items():
            if k.startswith("optim."):
                _, idx, name = k.split(".", 2)
                state.setdefault(int(idx), {})[name] = v
        opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
        sched.load_state_dict(meta["scheduler"])
        torch.set_rng_state(tensors["rng.torch"])
        gen.set_state(tensors["rng.loader"])
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{path}: its tensors do not fit this run's network ({first}); remove it and train without "
                         "--resume") from None
    return Progress(**meta["progress"])


def read_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The JSON state and the tensors of a checkpoint; anything that is not one (a pickle, a cut file) refused.

    safetensors never unpickles, so a ``torch.save`` file given this name cannot run code; it is only refused.
    """
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = json.loads((fh.metadata() or {})["state"])
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open has no __iter__
    except Exception as exc:  # safetensors' own error types, a missing "state" key, a damaged JSON header
        raise ModelError(
            f"{path}: not a flarecast checkpoint (a safetensors file with a 'state' header): "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}; remove it and train without --resume"
        ) from None
    missing = {"progress", "param_groups", "scheduler", "config"} - set(meta) if isinstance(meta, dict) else {"state"}
    if missing:
        raise ModelError(f"{path}: checkpoint state lacks {sorted(missing)}; remove it and train without --resume")
    return meta, tensors


def _comparable(config: dict[str, Any]) -> dict[str, Any]:
    # The learning-rate schedule spans train.epochs, so the epoch count must stay; patience and device may change.
    train = {k: v for k, v in config.get("train", {}).items() if k not in ("patience", "device")}
    return {**config, "train": train}
