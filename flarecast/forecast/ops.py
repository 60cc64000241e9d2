"""What ``flarecast forecast`` runs: one entry for a model, a model with fallbacks, or a combination, and one
writer for every output format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flarecast.errors import ConfigError
from flarecast.forecast.ccmc import write_ccmc
from flarecast.forecast.combine import forecast_combined, is_combination
from flarecast.forecast.fallback import forecast_every
from flarecast.forecast.files import write_forecasts
from flarecast.forecast.issue import forecast
from flarecast.forecast.request import ForecastRequest, open_inputs

FORMATS = ("flarecast", "ccmc")


def issue_forecast(request: ForecastRequest, *, out: str | Path | None = None,
                   fmt: str = "flarecast") -> dict[str, Any]:
    """The forecast document of ``request.models``: a combination directory alone; else the first model, with the
    others    as fallbacks (:func:`~flarecast.forecast.fallback.forecast_every`), or alone and refusing with ``strict``
    (``skip_refused``: strict, listing the refused issue times instead of raising). ``trust_modified`` lets the
    primary model load with weights that differ from its card (recorded in the document); fallbacks and
    combination members are always verified. ``out``: also write the document there (:func:`write_any`, in
    ``fmt``; a bad ``fmt`` is refused before anything is forecast)."""
    r = request
    models = r.models
    if not models:
        raise ConfigError("no model: give a model directory")
    if out is not None:
        _check_format(fmt)
    if r.inputs.regions and not is_combination(models[0]):
        raise ConfigError("--regions files are read by a combination with a region model member (`flarecast "
                          "train-regions`, then `flarecast combine MODEL REGION_MODEL`): give that combination, or "
                          "drop --regions")
    if is_combination(models[0]):
        if len(models) > 1:
            raise ConfigError(f"{models[0]} is a combination: it already names its members; give it alone")
        with open_inputs(r.inputs) as path:
            doc = forecast_combined(models[0], path, r.times, device=r.device)
    elif r.strict or r.skip_refused:  # listing refusals is the strict mode's way to go on past them
        if len(models) > 1:
            raise ConfigError("--strict forecasts with one model and refuses where its input is missing: give one "
                              "MODEL, or drop --strict to fall back to the others")
        doc = forecast(models[0], r.inputs, r.times, skip_refused=r.skip_refused, device=r.device,
                       trust_modified=r.trust_modified)
    else:
        doc = forecast_every(models, r.inputs, r.times, device=r.device, trust_modified=r.trust_modified)
    if out is not None:
        write_any(doc, out, fmt)
    return doc


def write_any(doc: dict[str, Any], path: str | Path, fmt: str = "flarecast") -> Path:
    """Write ``doc`` as flarecast JSON/CSV (by suffix) or as the CCMC scoreboard's JSON."""
    _check_format(fmt)
    return write_ccmc(doc, path) if fmt == "ccmc" else write_forecasts(doc, path)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: expected one of {list(FORMATS)}")
