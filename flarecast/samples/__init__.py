"""Stage 2, samples: windows over the store's series on a regular step grid, labels from the flare catalogue,
leakage-free time-block splits, and the one feature pipeline that turns stored series into model inputs for
training, evaluation, backtests and forecasts alike.
"""

from flarecast.samples.at_times import Windows, windows_at
from flarecast.samples.build import (
    Samples,
    WindowDataset,
    build_samples,
    build_sharp_samples,
    collate_batch,
    describe,
    samples_from_store,
    write_index,
)
from flarecast.samples.labels import FULL_DISK, Catalogue

__all__ = ["FULL_DISK", "Catalogue", "Samples", "WindowDataset", "Windows", "windows_at", "build_samples", "build_sharp_samples",
           "collate_batch", "describe", "samples_from_store", "write_index"]
