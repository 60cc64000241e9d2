"""Stage 2, samples: windows over the store's series on a regular step grid, labels from the flare catalogue,
leakage-free time-block splits, and the one feature pipeline that turns stored series into model inputs for
training, evaluation, backtests and forecasts alike.
"""

import importlib

_HOME = {"Windows": "at_times", "windows_at": "at_times", "FULL_DISK": "labels", "Catalogue": "labels",
         **{name: "build" for name in ("Samples", "WindowDataset", "build_samples", "build_sharp_samples",
                                       "collate_batch", "describe", "samples_from_store", "write_index")}}
__all__ = sorted(_HOME)


def __getattr__(name: str):
    # Loaded on first use (PEP 562): forecast windows (at_times) need no torch; training samples (build) do.
    if name in _HOME:
        return getattr(importlib.import_module(f"flarecast.samples.{_HOME[name]}"), name)
    raise AttributeError(f"module 'flarecast.samples' has no attribute {name!r}")
