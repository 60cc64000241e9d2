"""Stage 6, forecasts on new data: issue times and model inputs (:mod:`~flarecast.forecast.issue`), forecast
files and backtests against a catalogue (:mod:`~flarecast.forecast.files`), what is asked for
(:mod:`~flarecast.forecast.request`) and the row every forecast is made of (:mod:`~flarecast.forecast.rows`)."""

from flarecast.forecast.files import backtest, read_forecasts, write_forecasts
from flarecast.forecast.issue import ForecastRefusal, forecast
from flarecast.forecast.request import ForecastRequest, Inputs, IssueTimes
from flarecast.forecast.rows import ForecastRow, make_row

__all__ = ["ForecastRefusal", "ForecastRequest", "ForecastRow", "Inputs", "IssueTimes", "backtest", "forecast",
           "make_row", "read_forecasts", "write_forecasts"]
