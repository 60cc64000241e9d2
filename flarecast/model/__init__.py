"""Stage 3, the model: the layers (:mod:`~flarecast.model.layers`, one definition), the temporal CNN in torch
(:mod:`~flarecast.model.network`) and in numpy (:mod:`~flarecast.model.numpy_net`), the cards
(:mod:`~flarecast.model.card`), the model directory (:mod:`~flarecast.model.modeldir`), and the one inference path
(:mod:`~flarecast.model.inference`)."""

import importlib

_HOME = {"CombinationCard": "card", "EnsembleCard": "card", "ModelCard": "card", "TemporalCNN": "network",
         "autocast": "inference", "predict": "inference", "resolve_device": "inference", "load_model": "modeldir",
         "model_id": "modeldir", "read_card": "modeldir", "save_model": "modeldir", "verified_card": "modeldir"}
__all__ = sorted(_HOME)


def __getattr__(name: str):
    # Loaded on first use (PEP 562): a forecast on the CPU reads cards and runs numpy, and must not pay for
    # importing torch (about two seconds of a cold start) because a module of this package imports it.
    if name in _HOME:
        return getattr(importlib.import_module(f"flarecast.model.{_HOME[name]}"), name)
    raise AttributeError(f"module 'flarecast.model' has no attribute {name!r}")
