"""One model, loaded for forecasting on a device: numpy on the CPU (:mod:`flarecast.model.numpy_net`, no torch
imported), torch elsewhere (:func:`flarecast.model.inference.predict`, bf16 autocast on CUDA)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from flarecast.model.card import ModelCard

Predictor = Callable[[object, np.ndarray, int], np.ndarray]
"""``predictor(inputs, idx, batch_size)``: probabilities ``[len(idx), targets]`` (float32) of windows ``idx``."""


def load_predictor(model_dir: str | Path, *, device: str = "cpu", trust_modified: bool = False
                   ) -> tuple[Predictor, ModelCard]:
    """The verified model of ``model_dir`` as a :data:`Predictor`, and its card. ``device``: ``cpu`` (numpy),
    ``cuda`` or ``auto`` (torch; ``auto`` is the CPU when no GPU is visible)."""
    if device == "cpu":
        from flarecast.model.numpy_net import load_numpy_model, predict_numpy

        net, card = load_numpy_model(model_dir, trust_modified=trust_modified)
        return (lambda inputs, idx, batch_size: predict_numpy(net, inputs, idx, batch_size=batch_size)), card
    from flarecast.model.inference import predict, resolve_device
    from flarecast.model.modeldir import load_model

    dev = resolve_device(device)
    model, card = load_model(model_dir, device=str(dev), trust_modified=trust_modified)
    return (lambda inputs, idx, batch_size: predict(model, inputs, idx, device=dev, batch_size=batch_size)), card
