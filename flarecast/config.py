"""Run settings: YAML files in ``configs/`` plus dotted command-line overrides (``train.lr=3e-4``).

Each section is a pydantic model: unknown keys, wrong types and out-of-range values are refused once, at load,
with a :class:`~flarecast.errors.ConfigError` naming the file, the dotted key, the value and what was expected.
Every default is defined here, once. The resolved config is saved with every model (``card.json``), so a run
can be rebuilt from it alone.

>>> cfg = from_dict({"train": {"loss": {"alpha": 0.25, "gamma": 2}}})
>>> cfg.train.loss.label, cfg.samples.window_steps
('focal(alpha=0.25, gamma=2)', 144)
>>> from_dict({"train": {"epochs": "many"}})
Traceback (most recent call last):
...
flarecast.errors.ConfigError: config: train.epochs = 'many': expected an integer
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import (
    AfterValidator,
    Field,
    field_validator,
    model_validator,
)

from flarecast.channels import (  # noqa: F401  (re-exported: configs name channels)
    COMMON_CHANNELS,
    GOES_CHANNELS,
    HISTORY_CHANNELS,
    REGIME_CHANNELS,
    background_span,
    history_channel,
    is_common,
)
from flarecast.classes import CONVENTIONS, TARGET_THRESHOLDS, day_target, split_target
from flarecast.defaults import COMPARE_CV_GAMMAS, COMPARE_DEFAULTS, DEFAULT_STORE  # noqa: F401  (re-exported)
from flarecast.errors import ConfigError
from flarecast.metrics.thresholds import (
    DEFAULT_RULE,
    POOLED_OOF,
    RULE_EXPECTED,
    RULE_PATTERN,
    VALIDATION,
    ThresholdRule,
)
from flarecast.schema import (  # noqa: F401  (read_yaml, apply_overrides: re-exported for job files)
    Choice,
    Section,
    apply_overrides,
    one_of,
    positive_duration,
    read_yaml,
    set_dotted,
    validate,
)

SOURCES = ("goes", "sharp")
DAY_WINDOWS = ("ut", "issue")
HEADS = ("independent", "cumulative", "chain")
RESAMPLE = {"goes": ("max", "mean"), "sharp": ("last", "max", "mean")}
_KEYWORD = re.compile(r"^(log_)?[A-Z][A-Z0-9_]*$")


class SplitConfig(Section):
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

    @field_validator("block")
    @classmethod
    def _block(cls, v: str) -> str:
        return positive_duration(v) if v else v

    @field_validator("extra_gap")
    @classmethod
    def _gap(cls, v: str) -> str:
        try:
            ok = pd.Timedelta(v) >= pd.Timedelta(0)
        except (ValueError, TypeError):
            ok = False
        if not ok:
            raise ValueError("expected a duration >= 0 such as '0h' or '48h'")
        return v

    @model_validator(mode="after")
    def _fractions(self) -> SplitConfig:
        fr = (self.train, self.val, self.test)
        if min(fr) <= 0 or abs(sum(fr) - 1) > 1e-6:
            raise ValueError(f"samples.split fractions {fr}: expected three positive fractions summing to 1")
        return self

class SampleConfig(Section):
    """What a sample is: source, input channels, window, labels and split plan (see docs, "Samples").

    ``days: 0`` labels each window with the largest flare in the one ``horizon`` after issue. ``days: N`` labels
    it once per forecast day instead, each target per day (``X@d2``, see :func:`flarecast.classes.day_target`):
    ``day_windows: ut``, the N UT days after the day of issue (SWPC's days: an issue at 22:00 UT forecasts the
    next UT day 00-24 UT first); ``issue``, the consecutive 24 h windows after issue ((t, t + 24 h], (t + 24 h,
    t + 48 h], ...: the 24/48/72 h horizons). ``horizon`` then only names the persistence look-back (24 h).
    """

    source: Choice(SOURCES) = "goes"
    channels: tuple[str, ...] = ("log_xrsb", "log_xrsa", "log_ratio", "dlog_xrsb", "missing")
    resample: str = "max"
    cadence: str = "10min"
    window: str = "24h"
    horizon: str = "24h"
    stride: str = "1h"
    history: str = "24h"
    targets: tuple[Annotated[str, AfterValidator(lambda v: one_of(v, tuple(TARGET_THRESHOLDS)))], ...] = (
        ">=C", ">=M", "X")
    convention: Choice(CONVENTIONS) = "true"
    days: int = Field(0, ge=0, le=7)
    day_windows: Choice(DAY_WINDOWS) = "ut"
    max_missing: float = Field(0.2, ge=0, lt=1)
    harp_map: str = ""
    split: SplitConfig = Field(default_factory=SplitConfig)

    @field_validator("channels", "targets", mode="before")
    @classmethod
    def _listify(cls, v):
        return [v] if isinstance(v, str) else v

    @field_validator("cadence", "window", "horizon", "stride", "history")
    @classmethod
    def _durations(cls, v: str) -> str:
        return positive_duration(v)

    @model_validator(mode="after")
    def _consistent(self) -> SampleConfig:
        if self.resample not in RESAMPLE[self.source]:
            raise ValueError(f"samples.resample = {self.resample!r}: expected one of {list(RESAMPLE[self.source])} "
                             f"for source {self.source!r}")
        if not self.channels or not self.targets:
            raise ValueError("samples.channels and samples.targets must each name at least one entry")
        for c in self.channels:
            if self.source == "goes" and c not in GOES_CHANNELS and not is_common(c) and not background_span(c):
                raise ValueError(f"samples.channels = {c!r}: expected one of "
                                 f"{list(GOES_CHANNELS + COMMON_CHANNELS + REGIME_CHANNELS)}")
            if self.source == "sharp" and not is_common(c) and not _KEYWORD.match(c):
                raise ValueError(
                    f"samples.channels: {c!r} is not a SHARP channel: expected a JSOC keyword such as 'USFLUX', "
                    f"'log_' and a keyword ('log_USFLUX', log10 of a positive keyword), one of "
                    f"{list(COMMON_CHANNELS)}, or a history channel with a look-back such as 'history_ge_m_27d'"
                )
        dup = sorted({c for c in self.channels if self.channels.count(c) > 1})
        if dup:
            raise ValueError(f"samples.channels names {dup} more than once: list each channel once")
        if self.window_steps < 8:
            raise ValueError(f"samples.window / samples.cadence = {self.window_steps} steps: expected at least 8; "
                             "use a longer window or a shorter cadence")
        step = pd.Timedelta(self.cadence)
        for key in ("window", "stride"):
            if pd.Timedelta(getattr(self, key)) % step != pd.Timedelta(0):
                raise ValueError(f"samples.{key} = {getattr(self, key)!r} is not a whole number of samples.cadence = "
                                 f"{self.cadence!r} steps: make it a multiple of the cadence")
        if self.max_missing > 0 and "missing" not in self.channels:
            # Masked steps are filled with the training mean; only the mask channel tells the model so.
            raise ValueError(
                f"samples.max_missing = {self.max_missing} lets windows hold masked steps, but samples.channels "
                "lacks 'missing', so the model could not tell a filled step from a measured one: add 'missing' "
                "to samples.channels or set samples.max_missing: 0")
        if self.harp_map and self.source != "sharp":
            raise ValueError(f"samples.harp_map = {self.harp_map!r} applies to source 'sharp' only: remove it")
        return self

    @property
    def window_length(self):
        """The window's duration (``window``, a ``numpy.timedelta64[ns]``): every stage reads it from here."""
        return pd.Timedelta(self.window).to_timedelta64()

    @property
    def horizon_length(self):
        """How far after issue a label looks (a ``numpy.timedelta64[ns]``): ``horizon``; with forecast days, the
        end of the last day at the latest (``days + 1`` days after issue for UT days: an issue at 00:00 UT)."""
        if self.days:
            return np.timedelta64(self.days + (self.day_windows == "ut"), "D").astype("timedelta64[ns]")
        return pd.Timedelta(self.horizon).to_timedelta64()

    @property
    def target_names(self) -> tuple[str, ...]:
        """The model's targets: ``targets``, or each of them on each forecast day (``>=M@d1``, ..., ``X@d3``)."""
        if not self.days:
            return tuple(self.targets)
        return tuple(day_target(t, d) for d in range(1, self.days + 1) for t in self.targets)

    @property
    def window_steps(self) -> int:
        """Steps in one window: ``window / cadence``."""
        return int(pd.Timedelta(self.window_length) / pd.Timedelta(self.cadence))

class ModelConfig(Section):
    """Residual dilated temporal CNN; ``levels: 0`` picks the fewest levels whose receptive field covers the window.

    ``head``: ``independent``, one sigmoid per target; ``cumulative`` or ``chain``, one ordinal head per forecast
    day over its nested classes, so ``P(X) <= P(>=M) <= P(>=C)`` holds by construction
    (:mod:`flarecast.model.network`).
    """

    hidden: int = Field(32, ge=1)
    kernel_size: int = Field(3, ge=2)
    levels: int = Field(0, ge=0)
    dropout: float = Field(0.1, ge=0, lt=1)
    head: Choice(HEADS) = "independent"

    @field_validator("kernel_size")
    @classmethod
    def _odd(cls, v: int) -> int:
        if v % 2 == 0:
            raise ValueError("expected an odd number such as 3, 5 or 7: the network pads each side by "
                             "half the kernel's reach, which keeps a window's length only for an odd kernel")
        return v

class LossConfig(Section):
    """Binary focal loss per head. ``gamma: 0`` with ``alpha: null`` is plain binary cross-entropy.

    ``name: ordinal`` scores instead the probability of each window's peak class per forecast day (quiet, C, M,
    X: differences of the nested probabilities), focal or CE by the same ``alpha``/``gamma``; it needs an
    ordinal head (``model.head: cumulative`` or ``chain``) and takes no ``pos_weight``
    (:func:`flarecast.train.losses.ordinal_focal_loss`).

    ``pos_weight`` multiplies every positive's term (``BCEWithLogitsLoss``'s ``pos_weight``): one number for
    every head, or one per target (``{">=M": 38, "X": 570}``, every target named); null: none.
    """

    name: Choice(("focal", "ordinal")) = "focal"
    alpha: float | None = Field(None, ge=0, le=1)
    gamma: float = Field(0.0, ge=0)
    pos_weight: float | dict[str, float] | None = None

    @field_validator("pos_weight")
    @classmethod
    def _weights(cls, v):
        weights = v.values() if isinstance(v, dict) else [v]
        if v is not None and (v == {} or not all(w > 0 for w in weights)):
            raise ValueError("expected a number > 0, one per target such as {'>=M': 38, 'X': 570}, or null (none)")
        return v

    @model_validator(mode="after")
    def _ordinal(self) -> LossConfig:
        if self.name == "ordinal" and self.pos_weight is not None:
            raise ValueError("train.loss.name = 'ordinal' scores one peak class per window and day: pos_weight "
                             "weighs one binary target, so remove it (or use name: focal)")
        return self

    @property
    def label(self) -> str:
        weight = "" if self.pos_weight is None else f", pos_weight={format_pos_weight(self.pos_weight)}"
        kind = "ordinal " if self.name == "ordinal" else ""
        if self.gamma == 0 and self.alpha is None:
            return kind + ("CE" if self.pos_weight is None else f"CE(pos_weight={format_pos_weight(self.pos_weight)})")
        return f"{kind}focal(alpha={self.alpha}, gamma={self.gamma:g}{weight})"

    def pos_weights(self, targets) -> list[float] | None:
        """``pos_weight`` as one number per target, in ``targets`` order; None when there is none."""
        if self.pos_weight is None:
            return None
        if not isinstance(self.pos_weight, dict):
            return [float(self.pos_weight)] * len(targets)
        # A class's weight applies on every forecast day (">=M" weighs ">=M@d1", ">=M@d2", ...).
        known = {t: self.pos_weight.get(t, self.pos_weight.get(split_target(t)[0])) for t in targets}
        missing = [t for t, w in known.items() if w is None]
        extra = [t for t in self.pos_weight if t not in targets and t not in {split_target(n)[0] for n in targets}]
        if missing or extra:
            raise ConfigError(f"train.loss.pos_weight names {sorted(self.pos_weight)}: expected exactly the "
                              f"targets {list(targets)} (missing {missing}, unknown {extra})")
        return [float(known[t]) for t in targets]


def format_pos_weight(pos_weight: float | dict[str, float]) -> str:
    """``9`` or ``>=M:38.2 X:573``."""
    if isinstance(pos_weight, dict):
        return " ".join(f"{t}:{w:g}" for t, w in pos_weight.items())
    return f"{pos_weight:g}"


CV_SCHEMES = ("none", "blocked", "rolling")
CALIBRATIONS = ("auto", "isotonic", "platt", "none")

class CVConfig(Section):
    """Time-series cross-validation and the ensemble of its fold models (see docs/cv.md).

    ``scheme``: ``none`` trains one model on the config's split; ``blocked`` holds out each of ``k`` contiguous
    time blocks in turn (``by: year``: one block per calendar year, ``by: regions`` with ``region_files``: one
    fold per file of SHARP regions); ``rolling`` trains on the past only (blocks 0..i-1, holds out block i).
    ``pool``: the config's splits whose windows the folds are made of (the others stay unseen, for ``evaluate``).
    ``val``: what stops each fold's training early: ``last``, the last ``val_fraction`` of the fold's training
    time, or ``split``, the windows of the config's own ``val`` split inside the fold's training part (for
    SHARP region folds, whose last years may hold no flare at all). ``threshold``:
    ``tss``, ``hss``, ``cost:R`` (a missed flare costs R false alarms) or ``climatology:M`` (M x the base rate).
    ``cluster``: a dask.distributed scheduler address, or ``local`` for a LocalCluster of ``workers`` processes.
    ``blend``: ``logistic`` adds one logistic regression on window statistics per fold and blends it with the
    networks, the weight chosen on OOF Brier score (:mod:`flarecast.model.linear`); ``none``: networks only.
    """

    scheme: Choice(CV_SCHEMES) = "none"
    k: int = Field(5, ge=2)
    by: Choice(("", "year", "regions")) = ""
    region_files: tuple[str, ...] = ()
    pool: tuple[Annotated[str, AfterValidator(lambda v: one_of(v, ("train", "val", "test")))], ...] = (
        "train", "val")
    val: Choice(("last", "split")) = "last"
    val_fraction: float = Field(0.2, gt=0, lt=1)
    seeds: tuple[int, ...] = Field((0,), min_length=1)
    calibration: Choice(CALIBRATIONS) = "auto"
    min_step: int = Field(20, ge=1)
    threshold: str = DEFAULT_RULE
    blend: Choice(("none", "logistic")) = "none"
    workers: int = Field(1, ge=1)
    cluster: str = ""

    @field_validator("region_files", "pool", "seeds", mode="before")
    @classmethod
    def _listify(cls, v):
        return [v] if isinstance(v, str | int) else v

    @field_validator("threshold")
    @classmethod
    def _threshold(cls, v: str) -> str:
        if not RULE_PATTERN.match(v):
            raise ValueError(RULE_EXPECTED)
        return v

    def decision(self) -> ThresholdRule:
        """The ensemble's threshold rule (``threshold``), applied to the pooled out-of-fold predictions."""
        return ThresholdRule.parse(self.threshold, chosen_on=POOLED_OOF)

    @model_validator(mode="after")
    def _consistent(self) -> CVConfig:
        if (self.by == "regions") != bool(self.region_files):
            raise ValueError(f"train.cv.by = {self.by!r} with region_files = {list(self.region_files)}: 'by: "
                             "regions' needs region_files (SHARP CSVs, one fold each), and only it takes them")
        if self.scheme == "rolling" and self.by == "regions":
            raise ValueError("train.cv.scheme = 'rolling' orders folds in time: use by: '' or 'year', not 'regions'")
        return self

class TrainConfig(Section):
    loss: LossConfig = Field(default_factory=LossConfig)
    lr: float = Field(2e-3, gt=0)
    weight_decay: float = Field(1e-2, ge=0)
    batch_size: int = Field(128, ge=1)
    epochs: int = Field(12, ge=1)
    patience: int = Field(4, ge=1)
    seed: int = 0
    device: Choice(("auto", "cpu", "cuda")) = "auto"
    threshold_score: Choice(("hss", "tss")) = "hss"
    compile: bool = False
    precision: Choice(("bf16", "fp32")) = "bf16"  # autocast dtype on CUDA; the CPU always runs float32
    sampling: Choice(("shuffle", "balanced")) = "shuffle"  # "balanced": draw windows with weights 1 / (count of their class), with replacement
    cv: CVConfig = Field(default_factory=CVConfig)

    def decision(self) -> ThresholdRule:
        """A single model's threshold rule (``threshold_score``), applied to its validation split."""
        return ThresholdRule.parse(self.threshold_score, chosen_on=VALIDATION)

class SimulateConfig(Section):
    days: int = Field(730, ge=1)
    seed: int = 0
    start: str = "2018-01-01"
    activity: float = Field(1.0, gt=0)

class RunConfig(Section):
    """Everything one training run needs; the demo adds a ``simulate`` section."""

    samples: SampleConfig = Field(default_factory=SampleConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    simulate: SimulateConfig = Field(default_factory=SimulateConfig)

    @model_validator(mode="after")
    def _ordinal_head(self) -> RunConfig:
        if self.train.loss.name == "ordinal" and self.model.head == "independent":
            raise ValueError("train.loss.name = 'ordinal' needs nested probabilities per day: set model.head to "
                             "'cumulative' or 'chain'")
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()

    def replace(self, **overrides: Any) -> RunConfig:
        """Return a copy with dotted overrides applied: ``cfg.replace(**{"train.loss.gamma": 2})``."""
        d = self.to_dict()
        for key, value in overrides.items():
            set_dotted(d, key, value, origin="override")
        return from_dict(d, origin="override")


def from_dict(data: dict[str, Any], *, origin: str = "config") -> RunConfig:
    """Build a validated :class:`RunConfig` from plain data (as read from YAML)."""
    return validate(RunConfig, data or {}, origin=origin)


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read a YAML config and apply ``key=value`` overrides (values parsed as YAML)."""
    data = read_yaml(path, what="config file", example="configs/real-goes-hourly.yaml",
                     expected="a mapping of sections (samples, model, train)")
    apply_overrides(data, overrides, example="train.lr=3e-4")
    return from_dict(data, origin=str(path))


def builtin_config(name: str) -> Path:
    """Path of a config shipped inside the package (``demo``, ``tiny``)."""
    path = Path(__file__).parent / "configs" / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise ConfigError(f"no built-in config {name!r}: expected one of {known}")
    return path


