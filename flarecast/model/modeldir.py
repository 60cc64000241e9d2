"""The model directory: ``weights.safetensors`` + ``card.json`` (+ ``train_log.jsonl``), written atomically.

Each file is written under a temporary name in the same directory and renamed over the old one, so a
process killed at any moment leaves either the previous complete model or the new one, never half of each.
Weights are safetensors: loading them never unpickles anything.

An ensemble directory holds no weights of its own: its ``card.json`` (format ``flarecast-ensemble/1``) lists
member model directories below it (``members/<fold>-s<seed>-<sha>/``), each with its weights' sha256, and the
calibration and thresholds that turn their mean probability into a forecast. :func:`read_card` and
:func:`load_model` read either kind, each member verified like a single model, so every caller handles both alike.

Reading and verifying a model needs no torch (the tensors are read as numpy arrays and the expected shapes come
from :mod:`flarecast.model.layers`): :mod:`flarecast.model.numpy_net` forecasts from the same verified card and
tensors; :func:`load_model` and :func:`save_model` import torch when called.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

from flarecast.classes import nested
from flarecast.config import ModelConfig
from flarecast.errors import ModelError, ParseError
from flarecast.jsonio import dumps, jsonable
from flarecast.model.card import (
    CARD_FORMAT,
    ENSEMBLE_FORMAT,
    LEGACY_DECISION,
    LEGACY_WINDOW,
    EnsembleCard,
    ModelCard,
    leaves,
)
from flarecast.model.layers import Architecture, architecture
from flarecast.safeio import load_json, loads_json
from flarecast.util import atomic_path, atomic_write_bytes, sha256_file

if TYPE_CHECKING:
    import torch

    from flarecast.model.ensemble import Ensemble
    from flarecast.model.network import TemporalCNN

WEIGHTS = "weights.safetensors"
CARD = "card.json"
CARD_BYTES = 16 << 20
"""The largest ``card.json`` read (16 MiB): a card is a few kB, an ensemble's a few hundred."""
_EDITED = "the card was edited or belongs to another model; restore it, or delete it to use the weights' own card"
_RETRAIN = "the ensemble's card was edited or damaged: restore it or retrain"
_FREE = frozenset({"weights_sha256", "weights_modified"})
"""What ``card.json`` may say that its weights' header does not: the digest of the file the header is in."""
_MEMBERS_AGREE = ("channels", "targets", "window_steps", "cadence", "horizon", "convention", "normalisation")
"""What every member's own card (bound to its weights) must say as the ensemble's card does."""


def save_model(model_dir: str | Path, model: torch.nn.Module, card: ModelCard | Mapping[str, Any]) -> ModelCard:
    """Write the weights with the card embedded in their header, then ``card.json`` beside them; returns the card.

    The safetensors file is the commit point: it is replaced in one rename and carries its own card (with
    ``tensors_sha256``, the digest of its tensors), so a process killed between the two writes still leaves a
    loadable, verifiable model (``read_card`` then reads the card from the weights' header). The card is checked
    before anything is written: a model is never saved with a card that cannot be read back.
    """
    from safetensors.torch import save_file

    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in unwrap(model).state_dict().items()}
    doc = card.to_dict() if isinstance(card, ModelCard) else jsonable(card)
    doc.pop("weights_sha256", None)  # the digest of the file the header is in: added to card.json only
    card = ModelCard.parse({**doc, "format": CARD_FORMAT, "tensors_sha256": tensors_sha256({k: v.numpy() for k, v in state.items()})},
                           str(model_dir / CARD), "the training run built an incomplete card").sealed()
    with atomic_path(model_dir / WEIGHTS) as tmp:
        # One metadata key: safetensors keeps metadata in a hash map, so several keys come out in any order
        # and same-seed runs would not be byte-identical.
        save_file(state, str(tmp), metadata={"card": dumps(card.to_dict(), indent=None)})
        digest = sha256_file(tmp)
    card = card.model_copy(update={"weights_sha256": digest})
    atomic_write_bytes(model_dir / CARD, dumps(card.to_dict()).encode())
    return card


def read_card(model_dir: str | Path, *, trust_modified: bool = False) -> ModelCard:
    """The model card (an :class:`~flarecast.model.card.EnsembleCard` for an ensemble), verified against the
    weights (see :func:`verified_card`)."""
    return verified_card(Path(model_dir), trust_modified=trust_modified)[0]


def verified_card(model_dir: Path, *, trust_modified: bool = False) -> tuple[ModelCard, dict[str, np.ndarray]]:
    """The card of one model directory and its weights, after every integrity check; for ensembles, per member.

    ``card.json`` is the card when its ``weights_sha256`` is the weights' sha256. When it names other weights
    and the weights' tensors match the digest in their own header, the process writing the model was killed
    between the two files: the header's card is the card. Otherwise the weights were modified after
    training: refused, unless ``trust_modified`` (the card then says ``weights_modified: true``, and every
    output that names the model records it). The card and the header must agree on channels, targets and
    window, and the tensors (numpy arrays) must have the shapes the card's network has.

    Raises
    ------
    ModelError
        One line naming the file(s) and the fix.
    """
    wpath, cpath = model_dir / WEIGHTS, model_dir / CARD
    if not wpath.is_file() and cpath.is_file():
        return _ensemble_card(model_dir, trust_modified=trust_modified), {}
    if not model_dir.exists():
        raise ModelError(f"{model_dir}: no such model directory; pass the --out folder of `flarecast train` "
                         "(models/latest by default)")
    if not model_dir.is_dir():
        raise ModelError(f"{model_dir}: a file, not a model directory; pass the --out folder of `flarecast train`")
    if not wpath.is_file():
        raise ModelError(f"{model_dir}: no {WEIGHTS}; expected a model directory written by `flarecast train`")
    header = embedded_card(wpath)
    tensors = read_tensors(wpath)
    digest = sha256_file(wpath)
    doc = _card_json(cpath)
    if doc is not None and doc.get("weights_sha256") == digest:
        card = ModelCard.parse(doc, str(cpath), _EDITED)
    elif header.tensors_sha256 == tensors_sha256(tensors):
        card = header.model_copy(update={"weights_sha256": digest})  # killed between the two writes
    elif not trust_modified:
        named = f"differs from {cpath} and " if doc is not None else ""
        raise ModelError(
            f"{wpath}: sha256 {digest[:12]}… {named}its tensors do not match the digest in its own header: the "
            "weights were modified after training; restore them or retrain (--trust-modified uses them anyway "
            "and records it in the outputs)"
        )
    else:
        card = ModelCard.parse(doc, str(cpath), _EDITED) if doc is not None else header
        card = card.model_copy(update={"weights_sha256": digest, "weights_modified": True})
    header.check_sealed(f"{wpath} (the card in its header)", required=False, fix="the file is damaged; retrain")
    check_agreement(cpath, card, wpath, header)
    check_shapes(cpath, card, wpath, tensors)
    return card, tensors


def check_agreement(cpath: Path, card: ModelCard, wpath: Path, header: ModelCard) -> None:
    """Refuse a card that says anything other than the card the weights were saved with (all but the weights'
    own digest), naming the first field that differs: channels and their order, normalisation, cadence, window,
    horizon, convention, thresholds, climatology, the config."""
    keys = [k for k in (*ModelCard.model_fields, *LEGACY_DECISION, *LEGACY_WINDOW) if k not in _FREE]  # old cards
    mine = dict(leaves({k: v for k, v in card.typed_dict().items() if k in keys}, ""))
    saved = dict(leaves({k: v for k, v in header.typed_dict().items() if k in keys}, ""))
    for field in [*(f for f in ("channels", "targets", "window_steps") if f in mine), *mine, *saved]:
        if mine.get(field) != saved.get(field):
            raise ModelError(f"{cpath} says {field} {_text(mine.get(field))} but {wpath} was saved with "
                             f"{_text(saved.get(field))}: {_EDITED}")


def _text(value: Any) -> str:
    text = "nothing" if value is None else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_shapes(cpath: Path, card: ModelCard, wpath: Path, tensors: dict[str, np.ndarray]) -> None:
    """Refuse weights whose tensor names or shapes are not those of the network the card describes."""
    try:
        want = card_architecture(card, cpath).shapes()
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{cpath}: the card does not describe a network ({type(exc).__name__}: {exc})") from None
    have = {k: tuple(v.shape) for k, v in tensors.items()}
    if want != have:
        diff = sorted(set(want) ^ set(have)) or [k for k in sorted(want) if want[k] != have[k]]
        k = diff[0]
        raise ModelError(
            f"{cpath} describes a network whose {k} has shape {want.get(k, 'none')}, but {wpath} holds "
            f"{have.get(k, 'none')}: card and weights belong to different models; restore the model directory"
        )


def card_architecture(card: ModelCard, cpath: str | Path) -> Architecture:
    """The layers of the network a (single model's) card describes."""
    return architecture(len(card.channels), len(card.targets), card.window_steps, card.run_config(str(cpath)).model)


def embedded_card(wpath: Path) -> ModelCard:
    """The card saved in a weights file's safetensors header."""
    try:
        with safe_open(str(wpath), framework="numpy") as fh:
            meta = fh.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types for truncated or foreign files
        raise ModelError(f"{wpath}: not a readable safetensors file ({exc})") from None
    if "card" not in meta:
        raise ModelError(f"{wpath}: no model card in the file's header; it was not written by flarecast")
    try:
        doc = loads_json(meta["card"], f"{wpath} (the card in its header)")
    except ParseError as exc:
        raise ModelError(f"{wpath}: the card in its header is not readable JSON ({exc.reason}); the file is "
                         "damaged") from None
    return ModelCard.parse(doc, f"{wpath} (the card in its header)", "the file is damaged; retrain the model")


def read_tensors(wpath: Path) -> dict[str, np.ndarray]:
    try:
        return load_file(str(wpath))
    except Exception as exc:  # safetensors' own error types: a damaged header or a file cut short
        raise ModelError(f"{wpath}: its tensors cannot be read ({exc}); the file is damaged") from None


def tensors_sha256(tensors: dict[str, np.ndarray]) -> str:
    """Digest of tensor names, dtypes (torch's names), shapes and bytes: independent of the header, so it can
    live in it."""
    h = hashlib.sha256()
    for k in sorted(tensors):
        t = np.ascontiguousarray(tensors[k])
        h.update(f"{k}|torch.{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.tobytes())
    return h.hexdigest()


def _card_json(cpath: Path) -> dict[str, Any] | None:
    """``card.json`` as JSON, or None when it is missing or not a JSON object (the weights' header then counts)."""
    if not cpath.is_file():
        return None
    try:
        doc = load_json(cpath, limit=CARD_BYTES)
    except ParseError:
        return None
    return doc if isinstance(doc, dict) else None


def save_ensemble_card(model_dir: str | Path, card: EnsembleCard | Mapping[str, Any]) -> EnsembleCard:
    """Write an ensemble's ``card.json`` (the commit point, after every member is in place); returns the card.

    ``card``'s members name their directories (relative to ``model_dir``); each member's weights sha256 is
    recorded, and the ensemble's ``weights_sha256`` is the sha256 of those digests in order; a blend's logistic
    members' file gets its sha256 in ``blend.sha256``.
    """
    model_dir = Path(model_dir)
    doc = card.to_dict() if isinstance(card, ModelCard) else jsonable(card)
    card = EnsembleCard.parse({**doc, "format": ENSEMBLE_FORMAT}, str(model_dir / CARD),
                              "the ensemble's training built an incomplete card")
    members = [m.model_copy(update={"weights_sha256": sha256_file(model_dir / m.dir / WEIGHTS)}) for m in card.members]
    card = card.model_copy(update={"members": members, "weights_sha256": members_sha256(members)})
    if card.blend is not None:  # the logistic members' file, as the card will verify it
        blend = card.blend.model_copy(update={"sha256": sha256_file(model_dir / card.blend.file)})
        card = card.model_copy(update={"blend": blend})
    card = card.sealed()
    _ensemble_card_checks(model_dir, card, model_dir / CARD)  # never write a card that would be refused on load
    atomic_write_bytes(model_dir / CARD, dumps(card.to_dict()).encode())
    return card


def members_sha256(members) -> str:
    """An ensemble's ``weights_sha256``: the sha256 of its members' weights' digests, in order."""
    return hashlib.sha256("".join(m.weights_sha256 or "" for m in members).encode()).hexdigest()


def _ensemble_card(model_dir: Path, *, trust_modified: bool) -> EnsembleCard:
    cpath = model_dir / CARD
    try:
        doc = load_json(cpath, limit=CARD_BYTES)
    except ParseError as exc:
        raise ModelError(f"{model_dir}: no {WEIGHTS}, and {CARD} is not readable JSON ({exc.reason}); expected a "
                         "model directory written by `flarecast train`") from None
    if not isinstance(doc, dict) or doc.get("format") != ENSEMBLE_FORMAT:
        found = f"format {doc.get('format')!r}" if isinstance(doc, dict) else "not a JSON object"
        raise ModelError(f"{model_dir}: no {WEIGHTS}, and {CARD} is not an ensemble's card ({found}, expected "
                         f"format {ENSEMBLE_FORMAT!r}); expected a model directory written by `flarecast train`")
    card = EnsembleCard.parse(doc, str(cpath), _RETRAIN)
    card.check_sealed(str(cpath), required=True, fix="restore it or retrain (`flarecast cv`)")
    _ensemble_card_checks(model_dir, card, cpath)
    for m in card.members:
        member = inside(model_dir, m.dir, "member dir")
        if not (member / WEIGHTS).is_file() or sha256_file(member / WEIGHTS) != m.weights_sha256:
            raise ModelError(f"{model_dir}: member {m.dir} is missing or its weights differ from those the card "
                             "lists; the ensemble directory is incomplete: retrain it")
        own = verified_card(member, trust_modified=trust_modified)[0]  # each member passes a single model's checks
        for key in _MEMBERS_AGREE:
            mine, theirs = _agreed(card, key), _agreed(own, key)
            if mine != theirs:
                raise ModelError(f"{cpath} says {key} {_text(mine)} but its member {m.dir} was trained with "
                                 f"{_text(theirs)}: {_RETRAIN}")
    if card.blend is not None:
        linear = inside(model_dir, card.blend.file, "blend.file")
        if not linear.is_file() or sha256_file(linear) != card.blend.sha256:
            raise ModelError(f"{model_dir}: {card.blend.file} is missing or differs from the file the card lists; "
                             "the ensemble directory is incomplete or was modified: retrain it")
    return card


def _agreed(card: ModelCard, key: str) -> Any:
    """``key`` of ``card`` as the members and their ensemble must agree on it: the window from each card's own
    config, anything else as the card holds it."""
    return getattr(card, key) if key in LEGACY_WINDOW else card.typed_dict().get(key)


def _ensemble_card_checks(model_dir: Path, card: EnsembleCard, cpath: Path) -> None:
    """What an ensemble card must hold before any member is read: members inside the directory, a digest of
    their digests that is theirs, the files it names inside the directory."""
    if not card.members:
        raise ModelError(f"{cpath}: members = []: an ensemble needs at least one member; {_RETRAIN}")
    for m in card.members:
        inside(model_dir, m.dir, "member dir")
    inside(model_dir, card.cv.oof_file, "cv.oof_file")
    if card.blend is not None:
        inside(model_dir, card.blend.file, "blend.file")
    if card.weights_sha256 != members_sha256(card.members):
        raise ModelError(f"{cpath}: weights_sha256 is not the digest of the members' weights_sha256 it lists; "
                         f"{_RETRAIN}")


def inside(model_dir: Path, rel: str, what: str) -> Path:
    """``model_dir / rel``, refused unless ``rel`` is a relative path that stays inside ``model_dir`` (no ``..``,
    no absolute path, no link out of it): a card names only files of its own directory."""
    path = Path(rel)
    target = model_dir / path
    escapes = path.is_absolute() or ".." in path.parts or not rel
    if not escapes:
        try:
            target.resolve().relative_to(model_dir.resolve())
        except ValueError:
            escapes = True
    if escapes:
        raise ModelError(f"{model_dir / CARD}: {what} {rel!r} is not a path inside the ensemble directory "
                         f"{model_dir}: {_RETRAIN}")
    return target


def load_model(
    model_dir: str | Path, *, device: str = "cpu", trust_modified: bool = False
) -> tuple[TemporalCNN | Ensemble, ModelCard]:
    """Rebuild the network (or the ensemble of networks) from the verified card alone and load its weights
    (safetensors, no pickle)."""
    import torch

    from flarecast.model.ensemble import Ensemble
    from flarecast.model.linear import load_linear

    card, tensors = verified_card(Path(model_dir), trust_modified=trust_modified)
    if isinstance(card, EnsembleCard):
        members = [load_model(inside(Path(model_dir), m.dir, "member dir"), device=device,
                              trust_modified=trust_modified)[0] for m in card.members]
        blend = card.blend
        linear = load_linear(inside(Path(model_dir), blend.file, "blend.file"), blend.folds) if blend is not None else []
        head = card.run_config(str(Path(model_dir) / CARD)).model.head
        ensemble = Ensemble(members, card.targets, card.calibration, linear=linear,
                            blend=blend.weights if blend is not None else None,
                            chains=nested(card.targets) if head != "independent" else ())
        return ensemble.to(device).eval(), card
    model = build_model(card, card.run_config(str(Path(model_dir) / CARD)).model)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    return model.to(device).eval(), card


def build_model(card: ModelCard, cfg: ModelConfig) -> TemporalCNN:
    from flarecast.model.network import TemporalCNN

    return TemporalCNN(len(card.channels), len(card.targets), card.window_steps, cfg, targets=card.targets)


def model_id(model_dir: str | Path, *, trust_modified: bool = False) -> str:
    """Short hash of the weights and the card: names a model in forecasts and reports.

    The first 12 hex digits of the sha256 of the card (whose ``weights_sha256`` names the weights) as sorted-key
    JSON, its values as typed (:meth:`~flarecast.model.card.ModelCard.typed_dict`): a card written by training
    hashes as the JSON on disk, and a card edited by hand to ``"threshold": 1`` has the id of ``1.0``.
    """
    card = read_card(model_dir, trust_modified=trust_modified)
    return hashlib.sha256(json.dumps(card.typed_dict(), sort_keys=True).encode()).hexdigest()[:12]


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    inner = getattr(model, "module", model)  # DistributedDataParallel
    return getattr(inner, "_orig_mod", inner)  # torch.compile
