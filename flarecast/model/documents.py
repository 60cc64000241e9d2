"""The scoring documents that cross stages, typed like the cards: ``metrics.json`` (:class:`Metrics`) and the
``comparison.json`` of ``flarecast compare`` and ``flarecast demo`` (:class:`Comparison`), and the
``comparison-cv.json`` of ``flarecast compare --cv`` (:class:`CVComparison`), and the ``scores.json`` of several
forecasters' files (:class:`Scores`).

``metrics.json`` is built in two places, :func:`flarecast.evaluate.scoring.evaluate_samples` (a model's windows)
and :func:`flarecast.forecast.files.backtest` (a forecast file's rows), both through :meth:`Metrics.build`, which
fills the blocks they share (the thresholds per method, the bootstrap) the same way; it is read back through
:meth:`Metrics.read`, and every stage reads its attributes (``result.targets``, ``result.notes``), not string keys.

Like a card (:class:`~flarecast.model.card.ModelCard`), a document keeps the keys it was built or read with, in
their order, so the JSON written (:meth:`Metrics.to_dict`, :func:`flarecast.jsonio.write_json`) is the one the
dicts gave before the type; a key added later (``model_copy(update=...)``) follows the others. The score entries
(:func:`flarecast.evaluate.bootstrap.score_with_ci`) stay plain dicts inside: ``result.targets["X"]["model"]``.

>>> m = Metrics.build(loss="CE", split="test", period={"from": "2011-01-01 00:00:00", "to": "2011-01-02 00:00:00"},
...     n_windows=48, source="goes", convention="swpc", climatology={"X": 0.01},
...     bootstrap=Bootstrap(unit="UTC day", groups=2, n_boot=10, level=0.95, seed=0),
...     thresholds={"model": {"X": 0.2}}, notes=[], targets={"X": {"model": {"threshold": 0.2}}})
>>> m.thresholds["model"]["X"], m.bootstrap.level, list(m.to_dict())[:3]
(0.2, 0.95, ['loss', 'split', 'period'])
>>> m.n_window
Traceback (most recent call last):
...
AttributeError: 'Metrics' object has no attribute 'n_window'
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
from pydantic import Field

from flarecast.errors import ModelError, ParseError
from flarecast.model.card import _Doc

if TYPE_CHECKING:
    from flarecast.metrics.forecasts import Forecasts

BOOTSTRAP_LEVEL = 0.95
"""The level of every interval of ``metrics.json``."""


class Bootstrap(_Doc):
    """How the intervals were resampled: whole ``unit``s (UTC days, or regions), ``groups`` of them, ``n_boot``
    replicates at ``level``, from ``seed``."""

    unit: str
    groups: int
    n_boot: int
    level: float
    seed: int

    @classmethod
    def of(cls, fc: Forecasts, *, n_boot: int, seed: int) -> Bootstrap:
        """The block of the forecasts ``fc``: their bootstrap unit and number of groups, at :data:`BOOTSTRAP_LEVEL`."""
        return cls(unit=fc.group_unit, groups=int(np.unique(fc.group).size), n_boot=n_boot, level=BOOTSTRAP_LEVEL,
                   seed=seed)


class Period(_Doc):
    """The first and last issue time scored (None: no window), and the period asked for (``--from``/``--to``)."""

    start: str | None = Field(alias="from")
    end: str | None = Field(alias="to")
    requested: list[Any] | None = None


class Metrics(_Doc):
    """``metrics.json``: what was scored (a model, or a forecast file), on which windows, against what, how, and
    the scores per target and method (``targets``; ``targets_undegraded``: a backtest's without its fallback rows;
    ``by_year``: ``--by year``)."""

    model: str | None = None
    model_id: str | None = None
    weights_modified: bool | None = None
    file: str | None = None
    store: str | None = None
    model_ids: list[str] | None = None
    loss: str | None
    split: str
    period: Period
    n_windows: int
    source: str
    convention: str
    climatology: dict[str, float]
    bootstrap: Bootstrap
    thresholds: dict[str, dict[str, float]]  # method -> target -> threshold
    threshold_rule: dict[str, str | None] | None = None  # the card's ThresholdRule.choice(); None: a backtest
    baselines: dict[str, dict[str, Any] | None] = {}
    dropped: dict[str, int] | None = None
    notes: list[str]
    degraded: dict[str, Any] | None = None
    targets: dict[str, dict[str, dict[str, Any]]]  # target -> method -> score entry
    targets_undegraded: dict[str, dict[str, dict[str, Any]]] | None = None
    by_year: dict[str, Any] | None = None
    overlap_with_training: dict[str, Any] | None = None
    plots: dict[str, list[str]] | None = None

    @classmethod
    def build(cls, **fields: Any) -> Metrics:
        """The document of ``fields``, in their order (the order of the JSON written); a value of the wrong type
        is a bug of the builder, refused here in one line."""
        fields = {k: v.to_dict() if isinstance(v, _Doc) else v for k, v in fields.items()}
        return cls.parse(fields, "metrics.json", "this is a bug of flarecast: please report it")

    @classmethod
    def read(cls, path: str | Path) -> Metrics:
        """``metrics.json`` at ``path``, or one :class:`ModelError` line saying what is wrong with it."""
        from flarecast.safeio import load_json

        try:
            doc = load_json(path)
        except ParseError as exc:
            raise ModelError(f"{path}: not JSON ({exc.reason}); expected the metrics.json of `flarecast evaluate`") \
                from None
        return cls.parse(doc, str(path), "expected the metrics.json of `flarecast evaluate`")

    def with_notes(self, *notes: str, **update: Any) -> Metrics:
        """This document with ``notes`` appended and ``update``'s keys set (new keys after the others)."""
        return self.model_copy(update={**update, "notes": [*self.notes, *notes]})

    def scored(self, key: str = "targets") -> dict[str, dict[str, dict[str, Any]]]:
        """``targets`` or ``targets_undegraded``: target -> method -> score entry."""
        return getattr(self, key)

    def by_keys(self) -> list[str]:
        """The per-period breakdowns present (``by_year``), in the document's order."""
        return [k for k in self.to_dict() if k.startswith("by_")]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in their order; NumPy values in the score entries as they are (written through
        :func:`flarecast.jsonio.write_json`, which makes them plain and NaN null)."""
        return self.model_dump(mode="python", exclude_unset=True, by_alias=True)


class _Study(_Doc):
    """A study's document: built in the order given (the order of the JSON written), read back from its file,
    and added to key by key."""

    FILE: ClassVar[str]
    FIX: ClassVar[str]

    @classmethod
    def build(cls, **fields: Any) -> Self:
        """The document of ``fields``, in their order (the order of the JSON written); a value of the wrong type
        is a bug of the builder, refused here in one line."""
        fields = {k: v.to_dict() if isinstance(v, _Doc) else v for k, v in fields.items()}
        return cls.parse(fields, cls.FILE, "this is a bug of flarecast: please report it")

    @classmethod
    def read(cls, path: str | Path) -> Self:
        """The document at ``path``, or one :class:`ModelError` line saying what is wrong with it."""
        from flarecast.safeio import load_json

        try:
            doc = load_json(path)
        except ParseError as exc:
            raise ModelError(f"{path}: not JSON ({exc.reason}); {cls.FIX}") from None
        return cls.parse(doc, str(path), cls.FIX)

    def with_(self, **update: Any) -> Self:
        """This document with ``update``'s keys set: a key it holds keeps its place, a new one follows the others
        in the order given (checked as :meth:`build` checks)."""
        return type(self).build(**{**self.to_dict(), **update})

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in their order; NaN and NumPy values as they are (written through
        :func:`flarecast.jsonio.write_json`, which makes them plain and NaN null)."""
        return self.model_dump(mode="python", exclude_unset=True, by_alias=True)


class Comparison(_Study):
    """``comparison.json``: a loss comparison, built by :func:`flarecast.studies.comparison.compare` and the demo
    (:mod:`flarecast.jobs.demo`, real data and simulated) through :meth:`build`, read back by :meth:`read`, and
    read by attribute by every report (:mod:`flarecast.report.compare`, :mod:`flarecast.report.demo`).

    The test split (``test``), the samples' counts (``samples``), the methods and baselines with their scores per
    target (``methods``, ``baselines``: plain dicts inside, as :func:`~flarecast.studies.comparison_summary.summarise`
    or :func:`~flarecast.report.text.comparison_rows` make them) and how the thresholds were chosen
    (``threshold_rule``: :meth:`~flarecast.metrics.thresholds.ThresholdRule.choice`) are in every comparison; the
    rest belongs to one study: ``heatmap``, ``grid`` and ``parallel`` to ``compare``; ``seeds``, ``sample_data``,
    ``training_kernels``, ``day_forecast`` (its 3-day table), ``plain_verdicts`` and ``figures`` to the
    real-data demo; ``training`` to the simulated one.

    >>> c = Comparison.build(samples={}, convention="swpc", test={"windows": 4}, methods={"CE": {"kind": "ce"}},
    ...                      baselines={}, threshold_rule={"rule": "tss", "chosen_on": "validation split"})
    >>> list(c.with_(wall_seconds=1.0, convention="true").to_dict())[1:], c.warnings
    (['convention', 'test', 'methods', 'baselines', 'threshold_rule', 'wall_seconds'], [])
    """

    flarecast_version: str | None = None
    data: str | None = None
    sample_data: list[dict[str, Any]] | None = None
    config: dict[str, Any] | None = None
    losses: dict[str, str] | None = None
    samples: dict[str, Any]
    convention: str
    targets: list[str] | None = None
    spread: str | None = None
    interval: str | None = None
    test: dict[str, Any]
    climatology: dict[str, float] | None = None
    methods: dict[str, dict[str, Any]]  # name -> kind, loss, runs, targets -> score -> stats (or rows per target)
    baselines: dict[str, dict[str, Any]]
    threshold_rule: dict[str, str | None]  # ThresholdRule.choice()
    heatmap: dict[str, dict[str, Any]] | None = None
    verdicts: dict[str, dict[str, Any]] | None = None
    warnings: list[str] = []
    store: str | None = None
    grid: dict[str, Any] | None = None
    parallel: dict[str, Any] | None = None
    seeds: list[int] | None = None
    training_kernels: dict[str, Any] | None = None
    ingest_warnings: list[str] | None = None
    day_forecast: dict[str, Any] | None = None
    training: dict[str, dict[str, Any]] | None = None
    wall_seconds: float | None = None
    plain_verdicts: dict[str, str] | None = None
    figures: dict[str, str] | None = None

    FILE: ClassVar[str] = "comparison.json"
    FIX: ClassVar[str] = "expected the comparison.json of `flarecast compare` or `flarecast demo`"

    def rows(self) -> dict[str, dict[str, Any]]:
        """The methods, then the baselines: every row of the comparison's tables."""
        return {**self.methods, **self.baselines}


class CVComparison(_Study):
    """``comparison-cv.json``: the study of cross-validated ensembles, built by
    :func:`flarecast.studies.compare_cv.compare_cv`, read by :mod:`flarecast.report.compare_cv` by attribute.

    Per target (``targets``): the out-of-fold windows and positives, the held-out periods, every method's scores
    per period and its paired differences against CE (:mod:`flarecast.evaluate.paired`); ``bootstrap``: how the
    intervals were resampled; ``methods``: each loss setting's ensemble (and the baselines), with its calibration
    per target; ``rule``: the threshold rule of every decision; ``quoted``: the focal setting the verdicts quote;
    ``cv`` and ``folds``: the cross-validation.
    """

    targets: dict[str, dict[str, Any]]  # target -> windows, positives, periods, scores, paired
    bootstrap: dict[str, Any]
    methods: dict[str, dict[str, Any]]  # name -> kind, loss, members, calibration per target (baselines: kind)
    verdicts: dict[str, dict[str, Any]]
    flarecast_version: str
    config: dict[str, Any] | None = None
    store: str | None = None
    out: str | None = None
    rule: str
    quoted: dict[str, Any]
    cv: dict[str, Any]
    folds: list[dict[str, Any]]
    wall_seconds: float

    FILE: ClassVar[str] = "comparison-cv.json"
    FIX: ClassVar[str] = "expected the comparison-cv.json of `flarecast compare --cv`"


class Scores(_Study):
    """``scores.json``: several forecasters' files scored on the days they share, built by
    :func:`flarecast.forecast.providers.score_files`, read by :func:`flarecast.report.text.providers_table`.

    ``files``: each forecaster (its file or files, name, rows, thresholds); ``reference``: the first, whom the
    paired differences are taken against; ``targets``: per target the common days, base rate, each file's scores
    and the paired differences (plain dicts inside, as :func:`~flarecast.evaluate.bootstrap.score_with_ci` makes
    the scores).
    """

    files: list[dict[str, Any]]
    store: str
    reference: str
    bootstrap: dict[str, Any]
    convention: str
    targets: dict[str, dict[str, Any]]  # target -> days, from, to, positives, base_rate, scores, paired
    notes: list[str]

    FILE: ClassVar[str] = "scores.json"
    FIX: ClassVar[str] = "expected the scores.json of `flarecast evaluate --forecasts A B`"
