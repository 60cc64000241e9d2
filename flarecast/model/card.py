"""The model card: what a model forecasts, from which inputs, how it was trained and chosen (``card.json``).

A typed view of the JSON document every model directory carries, so stages read ``card.thresholds`` rather than
``card["thresholds"]`` and a misspelt key fails at once. Keys this version does not know (written by a newer
flarecast, or an ensemble's extra entries) are kept as they are and written back unchanged.

>>> card = ModelCard.model_validate({"format": CARD_FORMAT, "config": {}, "loss": "CE", "channels": ["log_xrsb"],
...     "targets": ["X"], "window_steps": 24, "cadence": "1h", "horizon": "24h", "convention": "swpc",
...     "normalisation": {"mean": [-6.0], "std": [0.5]}, "thresholds": {"X": 0.2}, "climatology": {"X": 0.01}})
>>> card.threshold("X"), card.base_rate("X"), card.norm()
(0.2, 0.01, ([-6.0], [0.5]))
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flarecast.config import RunConfig, from_dict

CARD_FORMAT = "flarecast-model/1"


class Normalisation(BaseModel):
    model_config = ConfigDict(frozen=True)

    mean: list[float]
    std: list[float]


class ModelCard(BaseModel):
    """``card.json`` of a model directory (see the module docstring)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    format: str = CARD_FORMAT
    code_version: str | None = None
    config: dict[str, Any]
    loss: str | None = None
    channels: list[str]
    targets: list[str]
    window_steps: int
    cadence: str
    horizon: str
    convention: str
    normalisation: Normalisation
    data_fingerprint: str | None = None
    thresholds: dict[str, float]
    threshold_score: str | None = None
    climatology: dict[str, float]
    best_epoch: int | None = None
    val: dict[str, Any] | None = None
    device: str | None = None
    model: dict[str, Any] = Field(default_factory=dict)
    weights_sha256: str | None = None

    def run_config(self, origin: str = "card.json") -> RunConfig:
        """The resolved run config the model was trained with (validated like a config file)."""
        return from_dict(self.config, origin=origin)

    def norm(self) -> tuple[list[float], list[float]]:
        """(mean, std) per channel: the training windows' statistics, applied to every later input."""
        return self.normalisation.mean, self.normalisation.std

    def threshold(self, target: str) -> float:
        return float(self.thresholds[target])

    def base_rate(self, target: str) -> float:
        return float(self.climatology[target])

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
