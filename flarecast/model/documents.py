"""The scoring documents that cross stages, typed like the cards: ``metrics.json`` (:class:`Metrics`).

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
from typing import TYPE_CHECKING, Any

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
