"""The cards: what a model forecasts, from which inputs, how it was trained and chosen, as typed, frozen documents.

:class:`ModelCard` is a single model's ``card.json`` (format ``flarecast-model/1``), :class:`EnsembleCard` a CV
ensemble's (``flarecast-ensemble/1``: its members, how they combine, the calibration per target and the
cross-validation record) and :class:`CombinationCard` a combination's ``combination.json``
(``flarecast-combination/1``). A model's thresholds, their rule and the data it was applied to are one
:class:`Decision` block (``decision``; a card from before the block is migrated on read, see
:meth:`ModelCard._migrate`). Stages read ``card.thresholds``, ``card.threshold("X")`` or ``card.rule()``, not
``card["thresholds"]``: a misspelt attribute fails at once, and a card whose values have the wrong type is refused
when it is read, in one line, rather than wherever a value is first used.

A card is the JSON document it was read from: keys this version does not know (written by a newer flarecast, or
added by hand) are kept, and :meth:`~_Doc.to_dict` gives back exactly the keys and values read, in their order, so
a card written back, hashed (:func:`~flarecast.model.modeldir.model_id`) or printed (``flarecast card --json``) is
the one on disk. Values are checked strictly (``"48"`` is not a window length); numbers are read as numbers: an
integer in a float field (``"threshold": 1``, edited by hand) is the float ``1.0`` to every stage, and is written
back and printed as ``1``. A card's id hashes :meth:`~_Doc.typed_dict`, so ``1`` and ``1.0`` there give one id.

The window (``window_steps``, ``cadence``, ``horizon``, ``convention``) is stored once, in the run config
(``config["samples"]``), and read from it (:meth:`ModelCard.run_config`); a card written when the card also
held copies of it at the top level is checked against its config and migrated on read (:meth:`ModelCard._migrate`).

>>> card = ModelCard.model_validate({"format": CARD_FORMAT, "loss": "CE", "channels": ["log_xrsb"],
...     "config": {"samples": {"cadence": "1h", "window": "24h", "convention": "swpc"}}, "targets": ["X"],
...     "normalisation": {"mean": [-6.0], "std": [0.5]}, "thresholds": {"X": 0.2}, "climatology": {"X": 0.01},
...     "written_by": "a newer flarecast"})
>>> card.threshold("X"), card.base_rate("X"), card.norm(), card.window_steps, card.horizon
(0.2, 0.01, ([-6.0], [0.5]), 24, '24h')
>>> list(card.to_dict())[-2:], card.written_by
(['climatology', 'written_by'], 'a newer flarecast')
>>> card.treshold
Traceback (most recent call last):
...
AttributeError: 'ModelCard' object has no attribute 'treshold'
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from itertools import pairwise
from typing import Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from flarecast.config import RunConfig, from_dict
from flarecast.errors import ConfigError, ModelError
from flarecast.metrics.thresholds import POOLED_OOF, VALIDATION, ThresholdRule

CARD_FORMAT = "flarecast-model/1"
ENSEMBLE_FORMAT = "flarecast-ensemble/1"
COMBINATION_FORMAT = "flarecast-combination/1"


class _Doc(BaseModel):
    """A JSON object as a frozen, strictly typed model that keeps unknown keys and the order of the keys it read."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True, populate_by_name=True)
    _keys: tuple[str, ...] = PrivateAttr(default=())
    _read: Mapping[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_keys(cls, data: Any, handler):
        doc = handler(cls._migrate(data) if isinstance(data, Mapping) else data)
        if isinstance(data, Mapping):
            doc._keys, doc._read = tuple(data), data
        return doc

    @classmethod
    def _migrate(cls, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """``data`` in this version's layout (a document written before a layout change, brought up to date)."""
        return data

    def _as_stored(self, out: dict[str, Any]) -> dict[str, Any]:
        """``out`` (this document's fields) in the layout it was read in (see :meth:`_migrate`)."""
        return out

    @model_serializer(mode="wrap")
    def _in_read_order(self, handler, info) -> dict[str, Any]:
        out = self._as_stored(handler(self))
        if not (info.context or {}).get("typed"):
            out = {k: _as_read(v, self._read[k]) if k in self._read else v for k, v in out.items()}
        return {**{k: out[k] for k in self._keys if k in out}, **out}

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: the keys read (or given) and no others, in their order, with their values as read (an
        integer in a float field stays an integer); keys added by ``model_copy(update=...)`` follow."""
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)

    def typed_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` with the values as typed: an integer in a float field is a float (``1`` is ``1.0``)."""
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True, context={"typed": True})

    @classmethod
    def parse(cls, doc: Any, origin: str, fix: str) -> Self:
        """``doc`` as this kind of document, or one :class:`ModelError` line: ``origin``, what is wrong, ``fix``.

        A card of another format (a newer flarecast's, another kind of card) is refused by its format first.
        """
        if not isinstance(doc, Mapping):
            raise ModelError(f"{origin}: expected a JSON object, got {type(doc).__name__}; {fix}")
        fmt = cls.model_fields.get("format")
        if fmt is not None and doc.get("format") != fmt.default:
            raise ModelError(f"{origin}: format {doc.get('format')!r}, expected {fmt.default!r}")
        try:
            return cls.model_validate(doc)
        except ValidationError as exc:
            raise ModelError(f"{origin}: {_problem(exc)}; {fix}") from None


def _as_read(value: Any, read: Any) -> Any:
    """``value`` (a validated value in JSON form) with the numbers it was read as: ``1`` where ``1.0`` was
    validated from it, at any depth; every other value as validated."""
    if isinstance(value, float) and isinstance(read, int) and not isinstance(read, bool) and value == read:
        return read
    if isinstance(value, dict) and isinstance(read, Mapping):
        return {k: _as_read(v, read[k]) if k in read else v for k, v in value.items()}
    if isinstance(value, list) and isinstance(read, list | tuple) and len(value) == len(read):
        return [_as_read(v, r) for v, r in zip(value, read, strict=True)]
    return value


def _problem(exc: ValidationError) -> str:
    """The first problem of a validation error, in one line: where, what, and the value found."""
    errors = exc.errors()
    e = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if not e["loc"]:  # a check of the whole document (a migration's): its message names the field
        return f"{str(e['msg']).removeprefix('Value error, ')}{more}"
    where = ".".join(str(p) for p in e["loc"])
    if e["type"] == "missing":
        return f"{where} is missing{more}"
    return f"{where} = {str(repr(e.get('input')))[:80]}: {str(e['msg']).removeprefix('Value error, ')}{more}"


class Decision(_Doc):
    """The decision block of a model's card: the threshold per target, the rule that chose them and the data it
    was applied to (the validation split; a CV ensemble's pooled out-of-fold predictions). Read it as
    :meth:`ModelCard.rule` (a :class:`~flarecast.metrics.thresholds.ThresholdRule`, whose sentence every report
    uses) and :meth:`~_Decides.threshold`."""

    rule: str | None = None
    chosen_on: Literal["validation split", "pooled out-of-fold predictions"]
    thresholds: dict[str, float]

    @field_validator("thresholds")
    @classmethod
    def _probabilities(cls, value: dict[str, float]) -> dict[str, float]:
        for target, p in value.items():
            check_unit(p, f"thresholds[{target!r}]")
        return value

    @classmethod
    def of(cls, rule: ThresholdRule, thresholds: Mapping[str, float]) -> Decision:
        """The block of ``thresholds`` chosen by ``rule``."""
        return cls.model_validate({"rule": rule.rule, "chosen_on": rule.chosen_on, "thresholds": dict(thresholds)})


class _Decides(_Doc):
    """What turns a probability into a decision, and what it is compared with: per target."""

    climatology: dict[str, float]
    fields_sha256: dict[str, str] | None = None
    UNBOUND: ClassVar[frozenset[str]] = frozenset({"fields_sha256", "weights_sha256", "weights_modified"})

    @field_validator("climatology")
    @classmethod
    def _probabilities(cls, value: dict[str, float], info) -> dict[str, float]:
        for target, p in value.items():
            check_unit(p, f"{info.field_name}[{target!r}]")
        return value

    def bound_fields(self) -> dict[str, str]:
        """``{field: digest}`` of every field that changes what a forecast means (see :func:`field_digests`), in
        the layout the card was written in: a card from before the decision block is checked against the keys it
        was sealed with (``thresholds``, ``threshold_score``, ``threshold_rule``; ``window_steps``, ``cadence``,
        ``horizon``, ``convention``)."""
        doc = self.typed_dict()
        fields = {*type(self).model_fields, *LEGACY_DECISION, *LEGACY_WINDOW}
        return field_digests({k: v for k, v in doc.items() if k in fields and k not in self.UNBOUND})

    def sealed(self) -> Self:
        """This card with ``fields_sha256``: what training writes, and every load checks (:meth:`check_sealed`)."""
        return self.model_copy(update={"fields_sha256": self.bound_fields()})

    def check_sealed(self, origin: str, *, required: bool, fix: str = "restore it or retrain") -> None:
        """Refuse a card whose fields differ from the digests written when it was trained, naming the first field.

        A card without ``fields_sha256`` (written before the digests) passes unless ``required``.
        """
        if self.fields_sha256 is None:
            if required:
                raise ModelError(f"{origin}: no fields_sha256 (the card was written before flarecast bound cards "
                                 f"to what was trained, or the digest was removed): {fix}")
            return
        stored, now = self.fields_sha256, self.bound_fields()
        for field in [*now, *(f for f in stored if f not in now)]:
            if stored.get(field) != now.get(field):
                how = ("was added" if field not in stored else "was removed" if field not in now
                       else f"differs from what was trained (digest {stored[field][:12]}, now {now[field][:12]})")
                raise ModelError(f"{origin}: field {field!r} {how}: the card was edited; {fix}")

    @property
    def thresholds(self) -> dict[str, float]:
        raise NotImplementedError

    def threshold(self, target: str) -> float:
        """The decision threshold: warn when the probability is at least this."""
        return float(self.thresholds[target])

    def base_rate(self, target: str) -> float:
        """The base rate of the training period (the climatology forecast)."""
        return float(self.climatology[target])


class Normalisation(_Doc):
    mean: list[float]
    std: list[float]

    @model_validator(mode="after")
    def _finite(self) -> Self:
        if len(self.mean) != len(self.std):
            raise ValueError(f"mean has {len(self.mean)} values and std {len(self.std)}: expected one each per channel")
        bad = [v for v in self.mean if not math.isfinite(v)] + [v for v in self.std if not (math.isfinite(v) and v > 0)]
        if bad:
            raise ValueError(f"{bad[0]!r}: expected finite means and finite, positive standard deviations")
        return self


class ModelCard(_Decides):
    """``card.json`` of a model directory (see the module docstring)."""

    format: str = CARD_FORMAT
    code_version: str | None = None
    config: dict[str, Any]
    loss: str | None = None
    channels: list[str]
    targets: list[str]
    normalisation: Normalisation
    decision: Decision
    data_fingerprint: str | None = None
    best_epoch: int | None = None
    val: dict[str, Any] | None = None
    device: str | None = None
    model: dict[str, Any] = Field(default_factory=dict)
    tensors_sha256: str | None = None
    weights_sha256: str | None = None
    weights_modified: bool = False
    _run: tuple[dict[str, Any], RunConfig] | None = PrivateAttr(default=None)

    def run_config(self, origin: str = "card.json") -> RunConfig:
        """The resolved run config the model was trained with (validated like a config file, once per card: the
        window's properties below read it on every forecast)."""
        if self._run is None or self._run[0] is not self.config:  # a model_copy(update={"config": ...}) revalidates
            self._run = (self.config, from_dict(self.config, origin=origin))
        return self._run[1]

    @property
    def window_steps(self) -> int:
        """Steps per window (``samples.window`` / ``samples.cadence`` of the run config): the network's input length."""
        return self.run_config().samples.window_steps

    @property
    def cadence(self) -> str:
        """The step of the model's windows (``samples.cadence`` of the run config)."""
        return self.run_config().samples.cadence

    @property
    def horizon(self) -> str:
        """How far ahead the model forecasts (``samples.horizon`` of the run config)."""
        return self.run_config().samples.horizon

    @property
    def convention(self) -> str:
        """The flare-class convention of the model's labels (``samples.convention`` of the run config)."""
        return self.run_config().samples.convention

    def input_mismatch(self, **have: Any) -> tuple[str, Any, Any] | None:
        """The first of the given inputs (``channels``, ``targets``, ``window_steps``, ``cadence``: lists, an int,
        a duration string) that differs from this card's, as ``(key, card's, given)``; None when all agree. The
        one check of windows against a card: evaluation's samples and forecast windows both go through it.

        >>> card = ModelCard.model_construct(channels=["xrsb"], config={"samples": {"cadence": "1h", "window": "24h"}})
        >>> card.input_mismatch(channels=["xrsb"], window_steps=12), card.input_mismatch(cadence="1h")
        (('window_steps', 24, 12), None)
        """
        for key, value in have.items():
            if getattr(self, key) != value:
                return key, getattr(self, key), value
        return None

    def norm(self) -> tuple[list[float], list[float]]:
        """(mean, std) per channel: the training windows' statistics, applied to every later input."""
        return self.normalisation.mean, self.normalisation.std

    CHOSEN_ON: ClassVar[str] = VALIDATION
    LEGACY_RULE: ClassVar[str] = "threshold_score"

    @property
    def thresholds(self) -> dict[str, float]:
        """The decision threshold per target (the decision block's)."""
        return self.decision.thresholds

    def rule(self) -> ThresholdRule:
        """How the thresholds were chosen: the rule (``hss``, ``tss``; an ensemble's ``tss``, ``cost:R``, ...;
        None on a card older than the rule key) and the data it was applied to: the one object read from the
        decision block, whose :meth:`~flarecast.metrics.thresholds.ThresholdRule.sentence` every report uses."""
        return ThresholdRule(self.decision.rule, self.decision.chosen_on)

    @property
    def threshold_score(self) -> str | None:
        """The score a threshold-maximising baseline uses beside this model (the rule's own, else TSS); None on
        a card older than the rule key."""
        return None if self.decision.rule is None else self.rule().score

    def threshold_choice(self) -> dict[str, str | None]:
        """:meth:`rule` as the ``{"rule", "chosen_on"}`` block every report states."""
        return self.rule().choice()

    @classmethod
    def _migrate(cls, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """A card written before the decision block (``thresholds`` and ``threshold_score``; an ensemble's
        ``threshold_rule``) read with the block in their place, and one written when the window was also stored
        at the top level (``window_steps``, ``cadence``, ``horizon``, ``convention``) read without those copies,
        once each is found equal to its config's (a copy that differs is an edited card: refused, naming it).
        The seal is checked against the keys as written (:meth:`bound_fields`) and :meth:`to_dict` gives them
        back, so the card's id and digests do not change."""
        data = _without_window_copies(data)
        if "decision" in data or "thresholds" not in data:
            return data
        rest = {k: v for k, v in data.items() if k not in LEGACY_DECISION}
        return {**rest, "decision": {"rule": data.get(cls.LEGACY_RULE), "chosen_on": cls.CHOSEN_ON,
                                     "thresholds": data["thresholds"]}}

    def _as_stored(self, out: dict[str, Any]) -> dict[str, Any]:
        out = {**out, **{k: self._read[k] for k in LEGACY_WINDOW if k in self._read}}
        if "decision" in self._read or "thresholds" not in self._read or "decision" not in out:
            return out
        block = out.pop("decision")
        legacy = {k: self._read[k] for k in LEGACY_DECISION if k in self._read}
        return {**out, **legacy, "thresholds": block["thresholds"]}


class Calibration(_Doc):
    """One target's calibration map (see :mod:`flarecast.model.ensemble`): ``none``, ``isotonic`` through the
    knots ``x``, ``y``, or ``platt`` with slope ``a`` and intercept ``b`` on the logit."""

    method: Literal["none", "isotonic", "platt"]
    x: list[float] | None = None
    y: list[float] | None = None
    a: float | None = None
    b: float | None = None

    @model_validator(mode="after")
    def _has_its_numbers(self) -> Self:
        need = {"isotonic": ("x", "y"), "platt": ("a", "b")}.get(self.method, ())
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.method} map needs {missing}")
        if self.method == "isotonic":
            x, y = self.x, self.y
            if not x or len(x) != len(y):
                raise ValueError(f"an isotonic map needs as many y as x knots, at least one: got {len(x)} and {len(y)}")
            for name, values in (("x", x), ("y", y)):
                if not all(math.isfinite(v) for v in values) or any(b < a for a, b in pairwise(values)):
                    raise ValueError(f"isotonic {name} {_short(values)}: expected finite, non-decreasing numbers")
            for v in y:
                check_unit(v, "isotonic y")
        if self.method == "platt" and not (math.isfinite(self.a) and math.isfinite(self.b)):
            raise ValueError(f"platt a = {self.a!r}, b = {self.b!r}: expected finite numbers")
        return self


class Member(_Doc):
    """One member of an ensemble: its directory (relative to the ensemble's), fold, seed and weights' sha256."""

    dir: str
    fold: str
    seed: int
    best_epoch: int | None = None
    epochs_run: int | None = None
    weights_sha256: str | None = None


class Blend(_Doc):
    """``train.cv.blend``: logistic members on window statistics (one per fold, in ``file``) and the networks'
    weight per target, chosen on out-of-fold Brier score (:mod:`flarecast.model.linear`)."""

    method: Literal["logistic"]
    weights: dict[str, float]
    folds: list[str]
    file: str
    sha256: str

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        for target, w in value.items():
            check_unit(w, f"blend weight [{target!r}]")
        return value


class FoldRecord(_Doc):
    """One CV fold: its held-out period, windows and positives per part, and its training base rate."""

    name: str
    held_out: dict[str, str]
    climatology: dict[str, float]


class OOFScores(_Doc):
    """One target's pooled out-of-fold scores: ``raw`` (members' mean), ``calibrated``, ``transferred``."""

    method: str
    raw: dict[str, float | None]
    calibrated: dict[str, float | None]
    transferred: dict[str, float | None]


class CVRecord(_Doc):
    """How the ensemble was cross-validated: the scheme, the folds, the OOF file and the pooled OOF scores."""

    scheme: str
    by: str = ""
    folds: list[FoldRecord]
    oof_file: str
    oof_scores: dict[str, OOFScores]


class EnsembleCard(ModelCard):
    """``card.json`` of a CV ensemble directory (docs/cv.md, "The ensemble directory"): a single model's card, less
    the training run's own entries, plus the members, how they combine, calibration, threshold rule and CV record."""

    format: str = ENSEMBLE_FORMAT
    kind: Literal["ensemble"] = "ensemble"
    # An ensemble's weights_sha256 is the digest of its members' digests: part of what was trained.
    UNBOUND: ClassVar[frozenset[str]] = frozenset({"fields_sha256", "weights_modified"})
    members: list[Member]
    combine: str
    calibration: dict[str, Calibration]
    cv: CVRecord
    blend: Blend | None = None
    # The ensemble's rule (``tss``, ``hss``, ``cost:R``, ``climatology:M``), applied to the pooled OOF predictions.
    CHOSEN_ON: ClassVar[str] = POOLED_OOF
    LEGACY_RULE: ClassVar[str] = "threshold_rule"

    @property
    def threshold_rule(self) -> str:
        return self.decision.rule or ""


class CombinationMember(_Doc):
    path: str
    model_id: str
    source: str


class CombinationWeights(_Doc):
    """``P = sigmoid(intercept + sum_k coef[k] logit p_k)``, one coefficient per member."""

    intercept: float
    coef: list[float]

    @model_validator(mode="after")
    def _finite(self) -> Self:
        if not all(math.isfinite(v) for v in (self.intercept, *self.coef)):
            raise ValueError(f"intercept {self.intercept!r}, coef {_short(self.coef)}: expected finite numbers")
        return self


class FitRecord(_Doc):
    """The issue times a combination was fitted on."""

    start: str = Field(alias="from")
    end: str = Field(alias="to")
    every: str
    issue_times: int
    store: str


class CombinationCard(_Decides):
    """``combination.json`` of a combination directory (:mod:`flarecast.forecast.combine`)."""

    format: str = COMBINATION_FORMAT
    members: list[CombinationMember]
    targets: list[str]
    notes: list[str] = Field(default_factory=list)
    horizon: str
    convention: str
    weights: dict[str, CombinationWeights]
    fit: FitRecord
    code_version: str | None = None
    thresholds_: dict[str, float] = Field(alias="thresholds")

    @field_validator("thresholds_")
    @classmethod
    def _thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        for target, p in value.items():
            check_unit(p, f"thresholds[{target!r}]")
        return value

    @property
    def thresholds(self) -> dict[str, float]:
        return self.thresholds_


LEGACY_DECISION = ("thresholds", "threshold_score", "threshold_rule")
"""The keys of a card's decision before the decision block."""

LEGACY_WINDOW = ("window_steps", "cadence", "horizon", "convention")
"""The window's top-level copies in a card written before the window was stored once (in ``config.samples``)."""


def _without_window_copies(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """``data`` less the window's top-level copies (:data:`LEGACY_WINDOW`), each checked to be exactly its
    config's value (``48``, not ``"48"`` or ``48.0``); a ValueError naming the first that is not."""
    copies = {k: data[k] for k in LEGACY_WINDOW if k in data}
    if not copies or not isinstance(data.get("config"), Mapping):
        return data  # nothing to migrate, or no config to check the copies against (refused as such)
    try:
        samples = from_dict(dict(data["config"]), origin="config").samples
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    for key, value in copies.items():
        want = getattr(samples, key)
        if type(value) is not type(want) or value != want:
            raise ValueError(f"{key} = {str(repr(value))[:80]} but its config gives {want!r} "
                             f"({_WINDOW_SOURCE[key]})")
    return {k: v for k, v in data.items() if k not in LEGACY_WINDOW}


_WINDOW_SOURCE = {"window_steps": "samples.window / samples.cadence", "cadence": "samples.cadence",
                  "horizon": "samples.horizon", "convention": "samples.convention"}


def check_unit(p: Any, what: str) -> float:
    """``p`` if it is a finite number in [0, 1] (a probability, threshold, rate or weight), else a ValueError
    naming ``what``."""
    if isinstance(p, bool) or not isinstance(p, int | float) or not (math.isfinite(p) and 0.0 <= p <= 1.0):
        raise ValueError(f"{what} = {p!r}: expected a finite number in [0, 1]")
    return float(p)


def field_digests(doc: Mapping[str, Any]) -> dict[str, str]:
    """``{field: first 16 hex digits of the sha256 of its value as sorted JSON}`` for every leaf of ``doc``:
    nested objects and lists of objects are entered (``normalisation.mean``, ``members[1].dir``), other values
    (numbers, strings, lists of numbers) are leaves, so an edit is named by the field it changed."""
    return {path: hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]
            for path, value in leaves(doc, "")}


def leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """``(field, value)`` of every leaf below ``value`` (see :func:`field_digests`)."""
    if isinstance(value, Mapping) and value:
        for k, v in value.items():
            yield from leaves(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        for i, v in enumerate(value):
            yield from leaves(v, f"{path}[{i}]")
    else:
        yield path, value


def _short(values: list[float]) -> str:
    text = repr(values)
    return text if len(text) <= 60 else text[:57] + "..."
