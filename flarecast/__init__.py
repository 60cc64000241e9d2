"""flarecast: solar flare forecasting from GOES XRS and SHARP series."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("flarecast")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
