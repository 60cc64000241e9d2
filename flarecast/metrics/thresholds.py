"""The decision-threshold rule: one type that is parsed once, chooses a threshold and says how in one sentence.

A rule (the config's ``train.cv.threshold`` and ``train.threshold_score``, ``flarecast cv --rule``, the cards'
``threshold_rule`` and ``threshold_score``) is one of:

- ``tss``: maximise TSS = POD - POFD, which does not depend on the base rate;
- ``hss``: maximise HSS, which does (a threshold tuned on a quiet period over-warns in an active one);
- ``cost:R``: minimise R x misses + false alarms (a missed flare costs R false alarms);
- ``climatology:M``: M x the base rate of the data it is chosen on (warn when the risk is M times the usual).

:class:`ThresholdRule` holds the rule, the data it is applied to (:data:`VALIDATION`: a single model's
validation split; :data:`POOLED_OOF`: a CV ensemble's pooled out-of-fold predictions) and its grid of
candidates. Floor policy, the same for every rule: the threshold is a candidate of the rule's grid (round
numbers, so a threshold does not chase single windows), ``climatology:M`` is clipped to [0.0001, 0.9999], and
data holding a single class gives 0.5 (no threshold can be chosen; the scores say so). The two grids
(:data:`GRIDS`) are kept apart because the results shipped with each path were chosen on them:

- ``step`` (:data:`STEP_GRID`, floor 0.01): a validation split, a few months holding a handful of events;
- ``rare`` (:data:`RARE_GRID`, floor 0.0001): pooled OOF predictions, every event of the training period, where
  a rare target (X windows are 0.1% of SHARP windows) can only be warned of below 0.01.

The default grid is the one of the data (:data:`GRID_OF`); :meth:`ThresholdRule.sentence` is the one sentence
every report, the dashboard, ``evaluate``'s threshold plot and ``flarecast card`` use.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from flarecast.errors import ConfigError
from flarecast.metrics.categorical import UndefinedScoreWarning
from flarecast.metrics.probabilistic import DEFAULT_GRID, best_threshold

RULE_PATTERN = re.compile(r"^(tss|hss|cost:\d+(\.\d+)?|climatology:\d+(\.\d+)?)$")
"""What a threshold rule may be written as."""
RULE_EXPECTED = ("expected 'tss', 'hss', 'cost:R' (a miss costs R false alarms, e.g. 'cost:10') or "
                 "'climatology:M' (e.g. 'climatology:2')")
DEFAULT_RULE = "tss"
"""The rule of a CV ensemble when the config names none (``train.cv.threshold``)."""

VALIDATION = "validation split"
POOLED_OOF = "pooled out-of-fold predictions"

STEP_GRID = DEFAULT_GRID
"""0.01, 0.02, ..., 0.99."""
RARE_GRID = np.unique(np.concatenate([np.round(np.geomspace(1e-4, 1e-2, 21), 6), STEP_GRID]))
"""0.01 to 0.99 in steps of 0.01, and 21 log-spaced candidates from 0.0001 to 0.01."""
GRIDS = {"step": STEP_GRID, "rare": RARE_GRID}
GRID_OF = {VALIDATION: "step", POOLED_OOF: "rare"}
"""The grid each kind of data is chosen on, unless a rule names its own."""

_HOW = {"hss": "maximising HSS", "tss": "maximising TSS", "cost": "minimising {} x misses + false alarms",
        "climatology": "at {} x the base rate"}


@dataclass(frozen=True)
class ThresholdRule:
    """A threshold rule applied to one kind of data. ``rule`` None: a card written before cards named it."""

    rule: str | None
    chosen_on: str = VALIDATION
    grid: str | None = None  # a key of GRIDS; None: GRID_OF[chosen_on], else "step"

    @classmethod
    def parse(cls, text: str, *, chosen_on: str = VALIDATION, grid: str | None = None) -> ThresholdRule:
        """The rule written as ``text``, checked (:class:`~flarecast.errors.ConfigError` naming what is expected).

        >>> ThresholdRule.parse("cost:10", chosen_on=POOLED_OOF).sentence()
        'chosen on the pooled out-of-fold predictions by minimising 10 x misses + false alarms'
        """
        if not isinstance(text, str) or not RULE_PATTERN.match(text):
            raise ConfigError(f"threshold rule {text!r}: {RULE_EXPECTED}")
        return cls(text, chosen_on, grid)

    @classmethod
    def from_choice(cls, choice: dict[str, Any]) -> ThresholdRule:
        """The rule of a ``threshold_rule`` block of ``metrics.json`` or a comparison (:meth:`choice`)."""
        return cls(choice.get("rule"), choice["chosen_on"])

    def choice(self) -> dict[str, str | None]:
        """``{"rule", "chosen_on"}``: the block ``metrics.json`` and the comparisons store."""
        return {"rule": self.rule, "chosen_on": self.chosen_on}

    @property
    def name(self) -> str:
        return (self.rule or "").partition(":")[0]

    @property
    def score(self) -> str:
        """The score a threshold-maximising baseline uses beside this rule: the rule's own, else TSS."""
        return self.name if self.name in ("tss", "hss") else "tss"

    @property
    def candidates(self) -> np.ndarray:
        return GRIDS[self.grid or GRID_OF.get(self.chosen_on, "step")]

    def choose(self, y: np.ndarray, p: np.ndarray, *, base_rate: float | None = None) -> float:
        """The threshold of this rule on labels ``y`` and probabilities ``p`` (see the module's floor policy).

        ``base_rate``: for ``climatology:M``, the base rate it multiplies (default: the mean of ``y``).

        >>> y, p = np.array([0, 0, 1, 1]), np.array([0.1, 0.3, 0.6, 0.8])
        >>> ThresholdRule.parse("tss", chosen_on=POOLED_OOF).choose(y, p), ThresholdRule.parse("tss").choose(y, p)
        (0.31, 0.31)
        >>> ThresholdRule.parse("climatology:2").choose(np.array([0, 1]), np.array([0.1, 0.9]), base_rate=0.1)
        0.2
        >>> ThresholdRule.parse("hss").choose(np.array([0, 0]), np.array([0.1, 0.9]))
        0.5
        """
        y, p = np.asarray(y), np.asarray(p)
        arg = (self.rule or "").partition(":")[2]
        if self.name == "climatology":
            rate = float(np.mean(y)) if base_rate is None else base_rate
            return float(np.clip(round(float(arg) * rate, 4), 0.0001, 0.9999))
        if y.size == 0 or y.min() == y.max():
            return 0.5
        grid = self.candidates
        if self.name in ("tss", "hss"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UndefinedScoreWarning)
                return float(best_threshold(y, p, score=self.name, grid=grid))
        if self.name == "cost":
            pos, neg = np.sort(p[y == 1]), np.sort(p[y == 0])
            misses = np.searchsorted(pos, grid, side="left")
            false_alarms = neg.size - np.searchsorted(neg, grid, side="left")
            return float(grid[np.argmin(float(arg) * misses + false_alarms)])
        raise ConfigError(f"threshold rule {self.rule!r}: {RULE_EXPECTED}")

    def sentence(self) -> str:
        """How the thresholds were chosen, in the words of every report. HSS depends on the base rate and TSS
        does not, so every report names the rule.

        >>> ThresholdRule("hss").sentence()
        'chosen on the validation split by maximising HSS'
        >>> ThresholdRule(None).sentence()
        'chosen on the validation split by rule unknown (card older than the rule key)'
        """
        arg = (self.rule or "").partition(":")[2]
        how = (_HOW[self.name].format(arg) if self.name in _HOW
               else f"rule {self.rule or 'unknown (card older than the rule key)'}")
        return f"chosen on the {self.chosen_on} by {how}"
