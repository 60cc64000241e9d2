"""Stage 3, the model: the temporal CNN (:mod:`~flarecast.model.network`), the model directory and its card
(:mod:`~flarecast.model.modeldir`), and the one inference path (:mod:`~flarecast.model.inference`)."""

from flarecast.model.inference import autocast, predict, resolve_device
from flarecast.model.modeldir import load_model, model_id, read_card, save_model, verified_card
from flarecast.model.network import TemporalCNN

__all__ = ["TemporalCNN", "autocast", "load_model", "model_id", "predict", "read_card", "resolve_device",
           "save_model", "verified_card"]
