"""A saved region model (``flarecast train-regions``): its card ``region_model.json`` and, for boosted trees, the
trees' node arrays in ``trees.npz``; predicted with numpy alone (no scikit-learn, no pickle: a daily job reads
these files, and unpickling would run whatever code a changed file holds).

Per target the card holds the method chosen on out-of-fold Brier (:mod:`flarecast.train.regions`) and its
parameters: ``logistic``: the scaler's ``mean`` and ``scale`` and the regression's ``coef`` and ``intercept``,
``P = sigmoid(intercept + coef . (x - mean) / scale)``; ``trees``: the boosted trees' ``baseline`` and the arrays
``{key}_feature``, ``_threshold``, ``_left``, ``_right``, ``_leaf``, ``_missing_left``, ``_value`` and ``_roots``
in ``trees.npz`` (a report goes left where its feature is at most the threshold, or missing and
``missing_left``; ``P = sigmoid(baseline + sum of its leaves' values)``, summed tree by tree as scikit-learn
does); ``rate``: the training rate (the training period held one class). The card is sealed like the other cards
(``fields_sha256``, plus ``trees_sha256`` of the npz): an edited card or npz is refused in one line.

>>> model = read_region_model("models/regions")  # doctest: +SKIP
>>> model.predict(x, ">=M")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from flarecast.errors import ModelError, ParseError
from flarecast.safeio import load_json

CARD = "region_model.json"
TREES = "trees.npz"
FORMAT = "flarecast-region-model/1"
TREE_ARRAYS = ("feature", "threshold", "left", "right", "leaf", "missing_left", "value", "roots")
FIX = "retrain it with `flarecast train-regions`"


def is_region_model(path: str | Path) -> bool:
    return (Path(path) / CARD).is_file()


def card_digests(card: dict[str, Any]) -> dict[str, str]:
    """The seal of a region card: every field's digest (:func:`flarecast.model.card.field_digests`) but the seal's."""
    from flarecast.model.card import field_digests

    return field_digests({k: v for k, v in card.items() if k != "fields_sha256"})


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def region_model_id(card: dict[str, Any]) -> str:
    """A short id of what the card says (its seal's digests): names the region model in forecasts and combinations."""
    return hashlib.sha256(str(sorted(card["fields_sha256"].items())).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class SavedRegionModel:
    """A region model read back: the card and, per target, a numpy predictor."""

    path: Path
    card: dict[str, Any]
    trees: dict[str, np.ndarray]

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(self.card["features"])

    @property
    def targets(self) -> list[str]:
        return list(self.card["targets"])

    @property
    def model_id(self) -> str:
        return region_model_id(self.card)

    def predict(self, x: np.ndarray, target: str) -> np.ndarray:
        """Probability per report that the region's largest flare in the next day reaches ``target``."""
        if target not in self.card["params"]:
            raise ModelError(f"target {target!r}: the region model {self.path} was fitted for {self.targets}")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.features):
            raise ModelError(f"features of shape {x.shape}: expected [n, {len(self.features)}] "
                             f"({', '.join(self.features)})")
        p = self.card["params"][target]
        if p["kind"] == "rate":
            return np.full(x.shape[0], float(self.card["rates"][target]))
        if p["kind"] == "logistic":
            z = (x - np.asarray(p["mean"])) / np.asarray(p["scale"]) @ np.asarray(p["coef"]) + p["intercept"]
        else:
            z = tree_scores(x, {k: self.trees[f"{p['key']}_{k}"] for k in TREE_ARRAYS}, p["baseline"])
        return 1.0 / (1.0 + np.exp(-z))


def tree_scores(x: np.ndarray, t: dict[str, np.ndarray], baseline: float) -> np.ndarray:
    """The boosted trees' raw score per row of ``x`` (module docstring): all trees walked at once, one level a
    step, then the leaves' values added tree by tree."""
    rows = np.arange(x.shape[0])[:, None]
    node = np.broadcast_to(t["roots"], (x.shape[0], t["roots"].size)).copy()
    for _ in range(t["feature"].size):
        leaf = t["leaf"][node]
        if leaf.all():
            break
        v = x[rows, t["feature"][node]]
        left = np.where(np.isnan(v), t["missing_left"][node], v <= t["threshold"][node])
        node = np.where(leaf, node, np.where(left, t["left"][node], t["right"][node]))
    raw = np.full(x.shape[0], float(baseline))
    for j in range(node.shape[1]):
        raw += t["value"][node[:, j]]
    return raw


def read_region_model(path: str | Path) -> SavedRegionModel:
    """The region model of directory ``path``, its card's seal (and the trees' digest) checked.

    Raises
    ------
    ModelError
        No card, a card that is not JSON or not a region card, or an edited card or trees file (naming the field).
    """
    path = Path(path)
    file = path / CARD
    if not file.is_file():
        raise ModelError(f"{path}: no {CARD}; expected a directory written by `flarecast train-regions`")
    try:
        card = load_json(file)
    except ParseError as exc:
        raise ModelError(f"{file}: not JSON ({exc.reason}); {FIX}") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise ModelError(f"{file}: format {card.get('format') if isinstance(card, dict) else None!r}, expected "
                         f"{FORMAT!r}; {FIX}")
    stored = card.get("fields_sha256")
    if not isinstance(stored, dict):
        raise ModelError(f"{file}: no fields_sha256 (the seal was removed): {FIX}")
    now = card_digests(card)
    for field in [*now, *(f for f in stored if f not in now)]:
        if stored.get(field) != now.get(field):
            how = ("was added" if field not in stored else "was removed" if field not in now
                   else "differs from what was trained")
            raise ModelError(f"{file}: field {field!r} {how}: the card was edited; {FIX}")
    trees: dict[str, np.ndarray] = {}
    if card.get("trees_sha256"):
        npz = path / TREES
        if not npz.is_file() or file_sha256(npz) != card["trees_sha256"]:
            raise ModelError(f"{npz}: {'missing' if not npz.is_file() else 'differs from what was trained'} "
                             f"(trees_sha256 of the card); {FIX}")
        with np.load(npz, allow_pickle=False) as z:
            trees = {k: z[k] for k in z.files}
    _check_params(card, trees, file)
    return SavedRegionModel(path, card, trees)


def _check_params(card: dict[str, Any], trees: dict[str, np.ndarray], file: Path) -> None:
    """Refuse parameters that cannot give a probability in [0, 1] or that send a tree walk outside its arrays:
    the seal catches an edit, not digests recomputed after one (it is no signature)."""
    n = len(card.get("features") or [])

    def bad(what: str) -> ModelError:
        return ModelError(f"{file}: {what}; the region model is damaged or was edited: {FIX}")

    for target, p in (card.get("params") or {}).items():
        kind = p.get("kind") if isinstance(p, dict) else None
        if kind == "rate":
            r = (card.get("rates") or {}).get(target)
            if not isinstance(r, int | float) or not 0 <= r <= 1:
                raise bad(f"rates[{target!r}] = {r!r} is not a probability")
        elif kind == "logistic":
            arrays = {k: np.asarray(p.get(k), dtype=np.float64) for k in ("mean", "scale", "coef")}
            if any(a.shape != (n,) or not np.isfinite(a).all() for a in arrays.values()) or not (
                    arrays["scale"] > 0).all() or not np.isfinite(float(p.get("intercept", np.nan))):
                raise bad(f"params[{target!r}]: mean, scale and coef must be {n} finite numbers each (scale > 0) "
                          "and the intercept finite")
        elif kind == "trees":
            _check_trees(target, {k: trees.get(f"{p.get('key')}_{k}") for k in TREE_ARRAYS}, n, bad)
        else:
            raise bad(f"params[{target!r}] has kind {kind!r}, expected rate, logistic or trees")


def _check_trees(target: str, t: dict[str, np.ndarray | None], n_features: int, bad) -> None:
    missing = [k for k, a in t.items() if a is None or a.ndim != 1]
    if missing:
        raise bad(f"trees of {target!r}: arrays {missing} missing or not one-dimensional")
    size = t["feature"].size
    if any(t[k].size != size for k in TREE_ARRAYS if k != "roots") or size == 0:
        raise bad(f"trees of {target!r}: node arrays of different lengths")
    ints = [t[k] for k in ("feature", "left", "right", "roots")]
    if any(a.dtype.kind not in "iu" for a in ints):
        raise bad(f"trees of {target!r}: node indices that are not integers")
    # every node's indices, leaves' too: the walk indexes them all, one level a step (a leaf holds zeros)
    if any(((a < 0) | (a >= size)).any() for a in (t["roots"], t["left"], t["right"])) or (
            (t["feature"] < 0) | (t["feature"] >= n_features)).any():
        raise bad(f"trees of {target!r}: a node points outside the {size} nodes or the {n_features} features")
    if not np.isfinite(t["value"].astype(np.float64)).all():
        raise bad(f"trees of {target!r}: a leaf value that is not finite")
