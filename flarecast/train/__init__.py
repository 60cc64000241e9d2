"""Stage 4, training: the loop with early stopping (:mod:`~flarecast.train.loop`), binary focal loss
(:mod:`~flarecast.train.losses`) and resumable checkpoints (:mod:`~flarecast.train.checkpoint`)."""

from flarecast.train.loop import TrainResult, train

__all__ = ["TrainResult", "train"]
