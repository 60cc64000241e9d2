"""The model directory: ``weights.safetensors`` + ``card.json`` (+ ``train_log.jsonl``), written atomically.

An ensemble directory holds no weights of its own: its ``card.json`` (format ``flarecast-ensemble/1``) lists
member model directories below it (``members/<fold>-s<seed>/``), each with its weights' sha256, and the
calibration and thresholds that turn their mean probability into a forecast. :func:`read_card` and
:func:`load_model` read either kind, so every caller handles both alike.

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
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from flarecast.config import ModelConfig, RunConfig, from_dict
from flarecast.errors import ModelError
from flarecast.jsonio import dumps
from flarecast.model.ensemble import ENSEMBLE_FORMAT, Ensemble
from flarecast.model.network import TemporalCNN
from flarecast.util import atomic_write_bytes, sha256_file

WEIGHTS = "weights.safetensors"
CARD = "card.json"
CARD_FORMAT = "flarecast-model/1"



def save_model(model_dir: str | Path, model: torch.nn.Module, card: dict[str, Any]) -> None:
    """Write the weights with the card embedded in their header, then ``card.json`` beside them.

    The safetensors file is the commit point: it is replaced in one rename and carries its own card, so a
    process killed between the two writes still leaves a loadable model (``read_card`` then reads the card
    from the weights' header).
    """
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in unwrap(model).state_dict().items()}
    card = {**card, "format": CARD_FORMAT}
    fd, tmp = tempfile.mkstemp(dir=model_dir, prefix=".weights.", suffix=".tmp")
    os.close(fd)
    try:
        # One metadata key: safetensors keeps metadata in a hash map, so several keys come out in any order
        # and same-seed runs would not be byte-identical.
        save_file(state, tmp, metadata={"card": dumps(card, indent=None)})
        digest = sha256_file(Path(tmp))
        os.replace(tmp, model_dir / WEIGHTS)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    atomic_write_bytes(model_dir / CARD, dumps({**card, "weights_sha256": digest}).encode())


def read_card(model_dir: str | Path) -> dict[str, Any]:
    """The model card; from the weights' header when ``card.json`` is missing or belongs to other weights."""
    model_dir = Path(model_dir)
    wpath, cpath = model_dir / WEIGHTS, model_dir / CARD
    if not wpath.is_file() and cpath.is_file():
        return _ensemble_card(model_dir)
    if not wpath.is_file():
        raise ModelError(f"{model_dir}: no {WEIGHTS}; expected a model directory written by `flarecast train`")
    digest = sha256_file(wpath)
    card = None
    if cpath.is_file():
        try:
            card = json.loads(cpath.read_text())
        except json.JSONDecodeError:
            card = None
    if card is None or card.get("weights_sha256") != digest:
        card = {**_embedded_card(wpath), "weights_sha256": digest}
    if card.get("format") != CARD_FORMAT:
        raise ModelError(f"{cpath}: format {card.get('format')!r}, expected {CARD_FORMAT!r}")
    return card


def _embedded_card(wpath: Path) -> dict[str, Any]:
    try:
        with safe_open(str(wpath), framework="pt") as fh:
            meta = fh.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types for truncated or foreign files
        raise ModelError(f"{wpath}: not a readable safetensors file ({exc})") from None
    if "card" not in meta:
        raise ModelError(f"{wpath}: no model card in the file's header; it was not written by flarecast")
    return json.loads(meta["card"])



def save_ensemble_card(model_dir: str | Path, card: dict[str, Any]) -> dict[str, Any]:
    """Write an ensemble's ``card.json`` (the commit point, after every member is in place); returns the card.

    ``card["members"]`` lists ``{"dir": relative path, ...}``; each member's weights sha256 is recorded, and the
    ensemble's ``weights_sha256`` is the sha256 of those digests in order.
    """
    model_dir = Path(model_dir)
    members = [{**m, "weights_sha256": sha256_file(model_dir / m["dir"] / WEIGHTS)} for m in card["members"]]
    digest = hashlib.sha256("".join(m["weights_sha256"] for m in members).encode()).hexdigest()
    card = {**card, "members": members, "format": ENSEMBLE_FORMAT, "weights_sha256": digest}
    atomic_write_bytes(model_dir / CARD, dumps(card).encode())
    return card


def _ensemble_card(model_dir: Path) -> dict[str, Any]:
    cpath = model_dir / CARD
    try:
        card = json.loads(cpath.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{cpath}: not valid JSON ({exc}); retrain the model") from None
    if card.get("format") != ENSEMBLE_FORMAT:
        raise ModelError(f"{model_dir}: no {WEIGHTS} and {CARD} has format {card.get('format')!r}; expected a model "
                         f"directory written by `flarecast train` (a model, or an ensemble of {ENSEMBLE_FORMAT!r})")
    for m in card["members"]:
        wpath = model_dir / m["dir"] / WEIGHTS
        if not wpath.is_file() or sha256_file(wpath) != m["weights_sha256"]:
            raise ModelError(f"{model_dir}: member {m['dir']} is missing or its weights differ from those the card "
                             "lists; the ensemble directory is incomplete: retrain it")
    return card


def load_model(model_dir: str | Path, *, device: str = "cpu") -> tuple[TemporalCNN | Ensemble, dict[str, Any]]:
    """Rebuild the network (or the ensemble of networks) from the card alone and load its weights (safetensors,
    no pickle)."""
    card = read_card(model_dir)
    if card["format"] == ENSEMBLE_FORMAT:
        members = [load_model(Path(model_dir) / m["dir"], device=device)[0] for m in card["members"]]
        return Ensemble(members, card["targets"], card["calibration"]).to(device).eval(), card
    wpath = Path(model_dir) / WEIGHTS
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


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    inner = getattr(model, "module", model)  # DistributedDataParallel
    return getattr(inner, "_orig_mod", inner)  # torch.compile
