"""Stage 6, forecasts on new data: issue times and model inputs (:mod:`~flarecast.forecast.issue`), forecast
files and backtests against a catalogue (:mod:`~flarecast.forecast.files`)."""

from flarecast.forecast.files import backtest, read_forecasts, write_forecasts
from flarecast.forecast.issue import ForecastRefusal, forecast

__all__ = ["ForecastRefusal", "backtest", "forecast", "read_forecasts", "write_forecasts"]
