"""Ensembles: fold models (x seeds) whose probabilities are averaged, then mapped by a calibration fitted on the
pooled out-of-fold predictions. One :class:`Ensemble` goes wherever a single network goes:
:func:`flarecast.model.inference.predict` runs every member on the same batch (the windows are gathered once) and
applies :meth:`Ensemble.calibrate`, so evaluation, backtests and forecasts score exactly what the card describes.
The blend and the calibration maps are :mod:`flarecast.model.calibration`'s (no torch), shared with the numpy
ensemble of :mod:`flarecast.model.numpy_net`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from flarecast.errors import ModelError
from flarecast.model.calibration import (
    COMBINE,
    EnsembleHead,
    apply_calibration,
    calibrate,
    calibration_map,
    chain_product,
    conditional,
)
from flarecast.model.card import Calibration

__all__ = ["COMBINE", "Ensemble", "apply_calibration", "calibrate", "calibration_map", "chain_product", "conditional"]


class Ensemble(nn.Module, EnsembleHead):
    """Member networks whose sigmoid outputs are averaged, then blended and calibrated per target
    (:class:`~flarecast.model.calibration.EnsembleHead`); ``linear`` are the logistic members
    (:mod:`flarecast.model.linear`); ``chains``: the nested targets of an ordinal head
    (:func:`flarecast.classes.nested`), calibrated along each chain."""

    def __init__(self, members: Sequence[nn.Module], targets: Sequence[str],
                 calibration: Mapping[str, Calibration | Mapping[str, Any]], *, linear: Sequence[nn.Module] = (),
                 blend: Mapping[str, float] | None = None, chains: Sequence[Sequence[int]] = ()):
        nn.Module.__init__(self)
        if not members:
            raise ModelError("an ensemble needs at least one member model")
        EnsembleHead.__init__(self, targets, calibration, linear=bool(linear), blend=blend, chains=chains)
        self.members = nn.ModuleList(members)
        self.linear = nn.ModuleList(linear)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise ModelError("an Ensemble averages probabilities, not logits: call flarecast.model.inference.predict")
