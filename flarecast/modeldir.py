"""The model directory: ``weights.safetensors`` + ``card.json`` (+ ``train_log.jsonl``), written atomically.

Each file is written under a temporary name in the same directory and renamed over the old one, so a
process killed at any moment leaves either the previous complete model or the new one, never half of each.
Weights are safetensors: loading them never unpickles anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from flarecast.config import ModelConfig, RunConfig, from_dict
from flarecast.errors import ModelError
from flarecast.jsonio import dumps
from flarecast.model import TemporalCNN

WEIGHTS = "weights.safetensors"
CARD = "card.json"
CARD_FORMAT = "flarecast-model/1"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_model(model_dir: str | Path, model: torch.nn.Module, card: dict[str, Any]) -> None:
    """Write weights then card; the card names the weights' sha256, so a mismatched pair is detected on load."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in _unwrap(model).state_dict().items()}
    fd, tmp = tempfile.mkstemp(dir=model_dir, prefix=".weights.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(state, tmp, metadata={"format": CARD_FORMAT})
        digest = hashlib.sha256(Path(tmp).read_bytes()).hexdigest()
        os.replace(tmp, model_dir / WEIGHTS)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    card = {**card, "format": CARD_FORMAT, "weights_sha256": digest}
    atomic_write_bytes(model_dir / CARD, dumps(card).encode())


def read_card(model_dir: str | Path) -> dict[str, Any]:
    path = Path(model_dir) / CARD
    if not path.is_file():
        raise ModelError(f"{model_dir}: no {CARD}; expected a model directory written by `flarecast train`")
    try:
        card = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if card.get("format") != CARD_FORMAT:
        raise ModelError(f"{path}: format {card.get('format')!r}, expected {CARD_FORMAT!r}")
    return card


def load_model(model_dir: str | Path, *, device: str = "cpu") -> tuple[TemporalCNN, dict[str, Any]]:
    """Rebuild the network from the card alone and load its weights (safetensors, no pickle)."""
    card = read_card(model_dir)
    wpath = Path(model_dir) / WEIGHTS
    if not wpath.is_file():
        raise ModelError(f"{model_dir}: card present but {WEIGHTS} missing; retrain or copy the whole directory")
    digest = hashlib.sha256(wpath.read_bytes()).hexdigest()
    if digest != card.get("weights_sha256"):
        raise ModelError(f"{wpath}: sha256 {digest[:12]} does not match the card's {str(card.get('weights_sha256'))[:12]}")
    cfg: RunConfig = from_dict(card["config"], origin=str(Path(model_dir) / CARD))
    model = build_model(card, cfg.model)
    model.load_state_dict(load_file(str(wpath), device="cpu"))
    return model.to(device).eval(), card


def build_model(card: dict[str, Any], cfg: ModelConfig) -> TemporalCNN:
    return TemporalCNN(len(card["channels"]), len(card["targets"]), int(card["window_steps"]), cfg)


def model_id(model_dir: str | Path) -> str:
    """Short hash of the weights and the card: names a model in forecasts and reports."""
    card = read_card(model_dir)
    return hashlib.sha256(json.dumps(card, sort_keys=True).encode()).hexdigest()[:12]


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    inner = getattr(model, "module", model)  # DistributedDataParallel
    return getattr(inner, "_orig_mod", inner)  # torch.compile
