"""What a forecast is asked for: which inputs, which issue times, and (for ``flarecast forecast``) which models
and how, as small frozen objects built once (by the CLI, a job step or a caller) and passed down whole.

:class:`Inputs` is a store, or files of each kind to ingest into a temporary one (:func:`open_inputs`);
:class:`IssueTimes` is one way of choosing issue times (``at``, ``latest``, or ``start`` to ``end`` every
``every``), checked where the model's step grid is known (:func:`flarecast.forecast.issue.issue_times`);
:class:`ForecastRequest` adds the models and the options of :func:`flarecast.forecast.ops.issue_forecast`.

>>> req = ForecastRequest(("models/latest",), Inputs(store="data/store.zarr"), IssueTimes(latest=True))
>>> req.times.latest, req.inputs.files
(True, {'goes': (), 'events': (), 'sharp': (), 'regions': ()})
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flarecast.errors import ConfigError, MissingDataError

Files = tuple[str | Path, ...]


def _tuple(value: Sequence | None) -> tuple:
    return tuple(value or ())


@dataclass(frozen=True)
class Inputs:
    """A store to read, or files (``goes``, ``events``, ``sharp``, ``regions``: files, folders or globs) to ingest
    first."""

    store: str | Path | None = None
    goes: Files = ()
    events: Files = ()
    sharp: Files = ()
    regions: Files = ()

    def __post_init__(self) -> None:
        for kind in ("goes", "events", "sharp", "regions"):
            object.__setattr__(self, kind, _tuple(getattr(self, kind)))

    @property
    def files(self) -> dict[str, Files]:
        return {"goes": self.goes, "events": self.events, "sharp": self.sharp, "regions": self.regions}

    @property
    def has_files(self) -> bool:
        return any(self.files.values())


@dataclass(frozen=True)
class IssueTimes:
    """Issue times, one way: ``at`` (UTC times), ``latest`` (the last step the data reach), or ``start`` to ``end``
    inclusive every ``every`` (default: the model's stride)."""

    at: tuple[str, ...] = ()
    latest: bool = False
    start: str | None = None
    end: str | None = None
    every: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", _tuple(self.at))


@dataclass(frozen=True)
class ForecastRequest:
    """``flarecast forecast``: the models (a combination alone, or a model and its fallbacks in order), the inputs,
    the issue times and the options (``strict``, ``skip_refused``, ``device``, ``trust_modified``)."""

    models: tuple[str | Path, ...]
    inputs: Inputs
    times: IssueTimes
    strict: bool = False
    skip_refused: bool = False
    device: str = "cpu"
    trust_modified: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", _tuple(self.models))


@contextmanager
def open_inputs(inputs: Inputs) -> Iterator[Path]:
    """Yield the store to read: ``inputs.store``, or a temporary one holding the given files (removed afterwards).

    With files, a kind of data the model needs and no file gave is refused naming the option to add (not the
    temporary store).
    """
    import tempfile

    files = inputs.files
    if inputs.store is not None and inputs.has_files:
        raise ConfigError("give either --store or input files (--goes, --events, --sharp, --regions), not both")
    if inputs.store is not None:
        yield Path(inputs.store)
        return
    if not inputs.has_files:
        raise ConfigError("no inputs: give --store STORE, or files with --goes/--events/--sharp/--regions")
    from flarecast.ingest.pipeline import ingest

    with tempfile.TemporaryDirectory(prefix="flarecast-forecast-") as tmp:
        path = Path(tmp) / "store.zarr"
        for kind, paths in files.items():
            if paths:
                ingest(kind, list(paths), store=path)
        try:
            yield path
        except MissingDataError as exc:
            if files.get(exc.group):
                raise
            label = {"goes": "GOES XRS", "events": "flare catalogue", "sharp": "SHARP",
                     "regions": "NOAA region report (solar_regions.json)"}[exc.group]
            raise ConfigError(f"the model needs {label} data and no --{exc.group} files were given: add "
                              f"--{exc.group} FILES, or forecast from a store with --store") from None
