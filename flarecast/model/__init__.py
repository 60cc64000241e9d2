"""Stage 3, the model: the temporal CNN (:mod:`~flarecast.model.network`), the cards (:mod:`~flarecast.model.card`),
the model directory (:mod:`~flarecast.model.modeldir`), and the one inference path (:mod:`~flarecast.model.inference`)."""

from flarecast.model.card import CombinationCard, EnsembleCard, ModelCard
from flarecast.model.inference import autocast, predict, resolve_device
from flarecast.model.modeldir import load_model, model_id, read_card, save_model, verified_card
from flarecast.model.network import TemporalCNN

__all__ = ["CombinationCard", "EnsembleCard", "ModelCard", "TemporalCNN", "autocast", "load_model", "model_id",
           "predict", "read_card", "resolve_device", "save_model", "verified_card"]
