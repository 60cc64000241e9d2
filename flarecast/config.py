"""Run settings: YAML files in ``configs/`` plus dotted command-line overrides (``train.lr=3e-4``).

Each stage has a frozen dataclass; :func:`load_config` checks every key and type once, at load, and a
:class:`~flarecast.errors.ConfigError` names the file, the key, the value and what was expected.
The resolved config is saved with every model (``card.json``), so a run can be rebuilt from it alone.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from flarecast.classes import CONVENTIONS, TARGET_THRESHOLDS
from flarecast.errors import ConfigError

GOES_CHANNELS = ("log_xrsb", "log_xrsa", "log_ratio", "dlog_xrsb", "dlog_xrsa")
"""GOES channels: log10 XRS-B and XRS-A, log10(XRS-A / XRS-B), and the first difference of log10 XRS-B or
XRS-A from one step to the next."""

HISTORY_CHANNELS = ("history_class", "history_ge_c", "history_ge_m", "history_x")
"""Flare-history channels from the catalogue, for both sources: at each step end s, the ordinal class (0-3) of
the largest flare peaking in (s - history, s], and the number of flares of class >= C, >= M and X there
(full-disk: all flares; SHARP: the region's own)."""

COMMON_CHANNELS = ("missing", *HISTORY_CHANNELS)
"""``missing`` is the fraction of a step's records that were masked or absent (the mask as an input)."""

SOURCES = ("goes", "sharp")
RESAMPLE = {"goes": ("max", "mean"), "sharp": ("last", "max", "mean")}

_KEYWORD = re.compile(r"^(log_)?[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class SplitConfig:
    """The split plan: train, val and test fractions of the data's time span, as contiguous time blocks.

    ``block: ""`` cuts the span once, in order (train, then val, then test). ``block: "90D"`` cuts it into
    90-day blocks and deals them out in a fixed interleaved order (train, val, train, test, train, ...) that
    keeps every split spread over the solar cycle. A window belongs to a split only when its whole span
    [t - window, t + horizon] lies inside one run of same-split blocks, shrunk by ``extra_gap / 2`` at each
    inner edge; windows crossing an edge are dropped and counted.
    """

    train: float = 0.6
    val: float = 0.2
    test: float = 0.2
    block: str = ""
    extra_gap: str = "0h"


@dataclass(frozen=True)
class SampleConfig:
    """What a sample is: source, input channels, window, labels and split plan (see README, "Samples")."""

    source: str = "goes"
    channels: tuple[str, ...] = ("log_xrsb", "log_xrsa", "log_ratio", "dlog_xrsb", "missing")
    resample: str = "max"
    cadence: str = "10min"
    window: str = "24h"
    horizon: str = "24h"
    stride: str = "1h"
    history: str = "24h"
    targets: tuple[str, ...] = (">=C", ">=M", "X")
    convention: str = "true"
    max_missing: float = 0.2
    harp_map: str = ""
    split: SplitConfig = field(default_factory=SplitConfig)

    def __post_init__(self):
        _choice("samples.source", self.source, SOURCES)
        _choice("samples.resample", self.resample, RESAMPLE[self.source])
        _choice("samples.convention", self.convention, CONVENTIONS)
        if not self.channels or not self.targets:
            raise ConfigError("samples.channels and samples.targets must each name at least one entry")
        for c in self.channels:
            if self.source == "goes":
                _choice("samples.channels", c, GOES_CHANNELS + COMMON_CHANNELS)
            elif c not in COMMON_CHANNELS and not _KEYWORD.match(c):
                raise ConfigError(
                    f"samples.channels: {c!r} is not a SHARP channel: expected a JSOC keyword such as 'USFLUX', "
                    f"'log_' and a keyword ('log_USFLUX', log10 of a positive keyword), or one of {list(COMMON_CHANNELS)}"
                )
        dup = sorted({c for c in self.channels if self.channels.count(c) > 1})
        if dup:
            raise ConfigError(f"samples.channels names {dup} more than once: list each channel once")
        for t in self.targets:
            _choice("samples.targets", t, tuple(TARGET_THRESHOLDS))
        for key in ("cadence", "window", "horizon", "stride", "history"):
            if _td(f"samples.{key}", getattr(self, key)) <= pd.Timedelta(0):
                raise ConfigError(f"samples.{key} = {getattr(self, key)!r}: expected a positive duration")
        if self.window_steps < 8:
            raise ConfigError(
                f"samples.window / samples.cadence = {self.window_steps} steps: expected at least 8; "
                "use a longer window or a shorter cadence"
            )
        step = pd.Timedelta(self.cadence)
        for key in ("window", "stride"):
            if pd.Timedelta(getattr(self, key)) % step != pd.Timedelta(0):
                raise ConfigError(
                    f"samples.{key} = {getattr(self, key)!r} is not a whole number of samples.cadence = "
                    f"{self.cadence!r} steps: make it a multiple of the cadence"
                )
        if not 0 <= self.max_missing < 1:
            raise ConfigError(f"samples.max_missing = {self.max_missing}: expected a fraction in [0, 1)")
        if self.max_missing > 0 and "missing" not in self.channels:
            # Masked steps are filled with the training mean; only the mask channel tells the model so.
            raise ConfigError(
                f"samples.max_missing = {self.max_missing} lets windows hold masked steps, but samples.channels "
                "lacks 'missing', so the model could not tell a filled step from a measured one: add 'missing' "
                "to samples.channels or set samples.max_missing: 0"
            )
        if self.harp_map and self.source != "sharp":
            raise ConfigError(f"samples.harp_map = {self.harp_map!r} applies to source 'sharp' only: remove it")
        fr = (self.split.train, self.split.val, self.split.test)
        if min(fr) <= 0 or abs(sum(fr) - 1) > 1e-6:
            raise ConfigError(f"samples.split fractions {fr}: expected three positive fractions summing to 1")
        if self.split.block and _td("samples.split.block", self.split.block) <= pd.Timedelta(0):
            raise ConfigError(f"samples.split.block = {self.split.block!r}: expected a positive duration or ''")
        if _td("samples.split.extra_gap", self.split.extra_gap) < pd.Timedelta(0):
            raise ConfigError(f"samples.split.extra_gap = {self.split.extra_gap!r}: expected a duration >= 0")

    @property
    def window_steps(self) -> int:
        """Steps in one window: ``window / cadence``."""
        return int(pd.Timedelta(self.window) / pd.Timedelta(self.cadence))


@dataclass(frozen=True)
class ModelConfig:
    """Residual dilated temporal CNN; ``levels: 0`` picks the fewest levels whose receptive field covers the window."""

    hidden: int = 32
    kernel_size: int = 3
    levels: int = 0
    dropout: float = 0.1

    def __post_init__(self):
        if self.hidden < 1 or self.kernel_size < 2 or self.levels < 0:
            raise ConfigError(
                f"model.hidden={self.hidden}, model.kernel_size={self.kernel_size}, model.levels={self.levels}: "
                "expected hidden >= 1, kernel_size >= 2, levels >= 0 (0 = automatic)"
            )
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"model.dropout = {self.dropout}: expected a fraction in [0, 1)")


@dataclass(frozen=True)
class LossConfig:
    """Binary focal loss per head. ``gamma: 0`` with ``alpha: null`` is plain binary cross-entropy.

    ``pos_weight`` multiplies every positive's term (``BCEWithLogitsLoss``'s ``pos_weight``): one number for
    every head, or one per target (``{">=M": 38, "X": 570}``, every target named); null: none.
    """

    name: str = "focal"
    alpha: float | None = None
    gamma: float = 0.0
    pos_weight: float | dict[str, float] | None = None

    def __post_init__(self):
        _choice("train.loss.name", self.name, ("focal",))
        if self.alpha is not None and not 0 <= self.alpha <= 1:
            raise ConfigError(f"train.loss.alpha = {self.alpha}: expected a number in [0, 1] or null (no weighting)")
        if not self.gamma >= 0:
            raise ConfigError(f"train.loss.gamma = {self.gamma}: expected a number >= 0")
        weights = self.pos_weight.values() if isinstance(self.pos_weight, dict) else [self.pos_weight]
        if self.pos_weight is not None and not all(w > 0 for w in weights):
            raise ConfigError(f"train.loss.pos_weight = {self.pos_weight}: expected a number > 0, one per target "
                              "such as {'>=M': 38, 'X': 570}, or null (none)")

    @property
    def label(self) -> str:
        weight = "" if self.pos_weight is None else f", pos_weight={format_pos_weight(self.pos_weight)}"
        if self.gamma == 0 and self.alpha is None:
            return "CE" if self.pos_weight is None else f"CE(pos_weight={format_pos_weight(self.pos_weight)})"
        return f"focal(alpha={self.alpha}, gamma={self.gamma:g}{weight})"

    def pos_weights(self, targets) -> list[float] | None:
        """``pos_weight`` as one number per target, in ``targets`` order; None when there is none."""
        if self.pos_weight is None:
            return None
        if not isinstance(self.pos_weight, dict):
            return [float(self.pos_weight)] * len(targets)
        missing = [t for t in targets if t not in self.pos_weight]
        extra = [t for t in self.pos_weight if t not in targets]
        if missing or extra:
            raise ConfigError(f"train.loss.pos_weight names {sorted(self.pos_weight)}: expected exactly the "
                              f"targets {list(targets)} (missing {missing}, unknown {extra})")
        return [float(self.pos_weight[t]) for t in targets]


def format_pos_weight(pos_weight: float | dict[str, float]) -> str:
    """``9`` or ``>=M:38.2 X:573``."""
    if isinstance(pos_weight, dict):
        return " ".join(f"{t}:{w:g}" for t, w in pos_weight.items())
    return f"{pos_weight:g}"


CV_SCHEMES = ("none", "blocked", "rolling")
CALIBRATIONS = ("auto", "isotonic", "platt", "none")
_THRESHOLD_RULE = re.compile(r"^(tss|hss|cost:\d+(\.\d+)?|climatology:\d+(\.\d+)?)$")


@dataclass(frozen=True)
class CVConfig:
    """Time-series cross-validation and the ensemble of its fold models (see docs/cv.md).

    ``scheme``: ``none`` trains one model on the config's split; ``blocked`` holds out each of ``k`` contiguous
    time blocks in turn (``by: year``: one block per calendar year, ``by: regions`` with ``region_files``: one
    fold per file of SHARP regions); ``rolling`` trains on the past only (blocks 0..i-1, holds out block i).
    ``pool``: the config's splits whose windows the folds are made of (the others stay unseen, for ``evaluate``).
    ``val_fraction``: the last part of each fold's training time that stops training early. ``threshold``:
    ``tss``, ``hss``, ``cost:R`` (a missed flare costs R false alarms) or ``climatology:M`` (M x the base rate).
    ``cluster``: a dask.distributed scheduler address, or ``local`` for a LocalCluster of ``workers`` processes.
    """

    scheme: str = "none"
    k: int = 5
    by: str = ""
    region_files: tuple[str, ...] = ()
    pool: tuple[str, ...] = ("train", "val")
    val_fraction: float = 0.2
    seeds: tuple[int, ...] = (0,)
    calibration: str = "auto"
    threshold: str = "tss"
    workers: int = 1
    cluster: str = ""

    def __post_init__(self):
        _choice("train.cv.scheme", self.scheme, CV_SCHEMES)
        _choice("train.cv.by", self.by, ("", "year", "regions"))
        _choice("train.cv.calibration", self.calibration, CALIBRATIONS)
        if not _THRESHOLD_RULE.match(self.threshold):
            raise ConfigError(f"train.cv.threshold = {self.threshold!r}: expected 'tss', 'hss', 'cost:R' (a miss "
                              "costs R false alarms, e.g. 'cost:10') or 'climatology:M' (e.g. 'climatology:2')")
        if self.k < 2 or self.workers < 1 or not self.seeds:
            raise ConfigError(f"train.cv.k={self.k}, workers={self.workers}, seeds={list(self.seeds)}: expected "
                              "k >= 2, workers >= 1 and at least one seed")
        if not 0 < self.val_fraction < 1:
            raise ConfigError(f"train.cv.val_fraction = {self.val_fraction}: expected a fraction in (0, 1)")
        if (self.by == "regions") != bool(self.region_files):
            raise ConfigError(f"train.cv.by = {self.by!r} with region_files = {list(self.region_files)}: "
                              "'by: regions' needs region_files (SHARP CSVs, one fold each), and only it takes them")
        for s in self.pool:
            _choice("train.cv.pool", s, ("train", "val", "test"))
        if self.scheme == "rolling" and self.by == "regions":
            raise ConfigError("train.cv.scheme = 'rolling' orders folds in time: use by: '' or 'year', not 'regions'")


@dataclass(frozen=True)
class TrainConfig:
    loss: LossConfig = field(default_factory=LossConfig)
    lr: float = 2e-3
    weight_decay: float = 1e-2
    batch_size: int = 128
    epochs: int = 12
    patience: int = 4
    seed: int = 0
    device: str = "auto"
    threshold_score: str = "hss"
    compile: bool = False
    precision: str = "bf16"  # autocast dtype on CUDA; the CPU always runs float32
    sampling: str = "shuffle"  # "balanced": draw windows with weights 1 / (count of their class), with replacement
    cv: CVConfig = field(default_factory=CVConfig)

    def __post_init__(self):
        _choice("train.device", self.device, ("auto", "cpu", "cuda"))
        _choice("train.threshold_score", self.threshold_score, ("hss", "tss"))
        _choice("train.precision", self.precision, ("bf16", "fp32"))
        _choice("train.sampling", self.sampling, ("shuffle", "balanced"))
        if self.lr <= 0 or self.batch_size < 1 or self.epochs < 1 or self.patience < 1:
            raise ConfigError(
                f"train.lr={self.lr}, batch_size={self.batch_size}, epochs={self.epochs}, patience={self.patience}: "
                "expected lr > 0 and batch_size, epochs, patience >= 1"
            )


@dataclass(frozen=True)
class SimulateConfig:
    days: int = 730
    seed: int = 0
    start: str = "2018-01-01"
    activity: float = 1.0


@dataclass(frozen=True)
class RunConfig:
    """Everything one training run needs; the demo adds a ``simulate`` section."""

    samples: SampleConfig = field(default_factory=SampleConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    simulate: SimulateConfig = field(default_factory=SimulateConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **overrides: Any) -> RunConfig:
        """Return a copy with dotted overrides applied: ``cfg.replace(**{"train.loss.gamma": 2})``."""
        d = self.to_dict()
        for key, value in overrides.items():
            _set_dotted(d, key, value, origin="override")
        return from_dict(d)


def from_dict(data: dict[str, Any], *, origin: str = "config") -> RunConfig:
    """Build a validated :class:`RunConfig` from plain data (as read from YAML)."""
    return _build(RunConfig, data or {}, prefix="", origin=origin)


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read a YAML config and apply ``key=value`` overrides (values parsed as YAML)."""
    data = read_yaml(path, what="config file", example="configs/demo.yaml",
                     expected="a mapping of sections (samples, model, train)")
    apply_overrides(data, overrides, example="train.lr=3e-4")
    return from_dict(data, origin=str(path))


def read_yaml(path: str | Path, *, what: str, example: str, expected: str) -> dict[str, Any]:
    """A YAML file holding a mapping, or a :class:`ConfigError` naming the file and what was wrong."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} {str(path)!r} does not exist: pass a YAML file such as {example}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected {expected}, got {type(data).__name__}")
    return data


def apply_overrides(data: dict[str, Any], overrides: list[str] | None, *, example: str) -> dict[str, Any]:
    """Apply ``dotted.key=value`` overrides in place; values are parsed as YAML (``[a, b]``, ``null``, ``3``)."""
    for item in overrides or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ConfigError(f"override {item!r}: expected KEY=VALUE, such as {example}")
        _set_dotted(data, key.strip().lstrip("-"), yaml.safe_load(raw), origin=f"override {item!r}")
    return data


def builtin_config(name: str) -> Path:
    """Path of a config shipped inside the package (``demo``, ``tiny``)."""
    path = Path(__file__).parent / "configs" / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise ConfigError(f"no built-in config {name!r}: expected one of {known}")
    return path


def _set_dotted(d: dict, key: str, value: Any, *, origin: str) -> None:
    parts = key.split(".")
    for p in parts[:-1]:
        nxt = d.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"{origin}: {key!r} goes through {p!r}, which is not a section")
        d = nxt
    d[parts[-1]] = value


def _build(cls, data: Any, *, prefix: str, origin: str):
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: {prefix.rstrip('.') or 'config'} must be a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{origin}: unknown key '{prefix}{unknown[0]}'; expected one of {sorted(names)}")
    kwargs = {k: _coerce(hints[k], v, key=f"{prefix}{k}", origin=origin) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from None


def _coerce(tp, value: Any, *, key: str, origin: str):
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, prefix=f"{key}.", origin=origin)
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        # A mapping goes to the union's dict member (``float | dict[str, float]``), anything else to the first.
        tp = next((a for a in options if typing.get_origin(a) is dict and isinstance(value, dict)), options[0])
    if typing.get_origin(tp) is dict:
        if not isinstance(value, dict) or not value:
            raise ConfigError(f"{origin}: {key} = {value!r}: expected a non-empty mapping")
        return {str(k): _coerce(typing.get_args(tp)[1], v, key=f"{key}.{k}", origin=origin) for k, v in value.items()}
    if typing.get_origin(tp) is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{origin}: {key} = {value!r}: expected a list")
        return tuple(_coerce(args[0], v, key=key, origin=origin) for v in value)
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str):  # YAML 1.1 reads "3e-4" (no dot) as a string
        try:
            return float(value)
        except ValueError:
            pass
    if tp is str and isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if tp is bool and isinstance(value, bool):
        return value
    raise ConfigError(f"{origin}: {key} = {value!r}: expected {getattr(tp, '__name__', tp)}")


def _td(key: str, value: str) -> pd.Timedelta:
    try:
        return pd.Timedelta(value)
    except (ValueError, TypeError):
        raise ConfigError(f"{key} = {value!r}: expected a duration such as '10min', '24h' or '2D'") from None


def _choice(key: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"{key} = {value!r}: expected one of {list(allowed)}")
