"""Batch job files as pydantic models: a :class:`Job` and one model per step kind, told apart by ``run``.

A job file holds ``root`` (default: the current folder), ``store`` (:data:`~flarecast.config.DEFAULT_STORE`,
every step's default), ``log`` (default ``runs/batch/<job file stem>.json``), ``urls`` (the archives' base URLs
for every fetch step, see :mod:`flarecast.ingest.fetch.settings`) and ``steps``: step names mapped to steps,
run in order. Each step kind's keys, types, ranges and defaults are the fields of its model below
(:class:`FetchStep` ... :class:`DashboardStep`); every step also takes ``store``. Unknown keys, wrong types and
out-of-range values are refused at load, before any step runs, in one line naming the file, the step, the key
and what is allowed::

    configs/x.yaml: step 'train' (train): unknown key 'epoch'; expected one of ['config', 'out', ...]
    configs/x.yaml: step 'fetch-goes' (fetch): resolution = 'hourly': expected one of ['avg1m', 'flx1s']

Dotted overrides (``steps.train.out=models/x``) change the file's data before it is checked, so they are held
to the same models. Allowed values defined by the stage that uses them (fetch sources, ingest kinds, splits,
forecast formats) are looked up there when a step gives the key, so a job without such a step imports nothing
of that stage.

A step's skip key hashes its :attr:`Step.settings`: the keys as written in the file, with the defaults of the
keys it leaves out. The written values (``timeout: 30``, ``alphas: 0.25``), not the validated ones (``30.0``,
``'0.25'``), so a key is what it was before these models, and logs written by earlier versions still skip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, PrivateAttr, field_validator, model_validator

from flarecast.classes import BASES
from flarecast.config import COMPARE_DEFAULTS, DEFAULT_STORE
from flarecast.errors import ConfigError
from flarecast.safeio import short
from flarecast.schema import (
    Choice,
    Section,
    apply_overrides,
    describe,
    one_of,
    positive_duration,
    read_yaml,
    validate,
)


def _text(v: Any) -> Any:
    """A YAML date or timestamp (``2017-09-06``, ``2017-09-06T12:00:00``) as the text it was written as."""
    return str(v) if isinstance(v, date) else v


def _listed(v: Any) -> Any:
    """One value where a list is expected: a list of one."""
    return [v] if isinstance(v, str | date) else v


Text = Annotated[str, BeforeValidator(_text)]
Texts = Annotated[tuple[Text, ...], BeforeValidator(_listed)]


def _archives(v: Any) -> Any:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise ValueError("expected a mapping of archives to base URLs, such as ncei: https://mirror.example/goes")
    return v


def _base_urls(v: dict[str, str]) -> dict[str, str]:
    """Unknown archives and URLs that are not http(s) fail at load, not when a fetch step runs."""
    if v:
        from flarecast.ingest.fetch.settings import base_urls

        try:
            base_urls(v)
        except ConfigError as exc:
            raise ValueError(str(exc).removeprefix("urls: ")) from None
    return v


def Allowed(values: Callable[[], Iterable[str]]) -> Any:  # noqa: N802  (a type, as schema.Choice)
    """Text that must be one of ``values()``: allowed values the stage that uses them defines, looked up when a
    step gives the key (a job without such a step imports nothing of that stage)."""
    return Annotated[str, AfterValidator(lambda v: one_of(v, tuple(values())))]


def _fetch_sources():
    from flarecast.ingest.fetch import SOURCES

    return SOURCES


def _resolutions():
    from flarecast.ingest.fetch.goes import RESOLUTIONS

    return RESOLUTIONS


def _events_sources():
    from flarecast.ingest.fetch.events import SOURCES

    return SOURCES


def _products():
    from flarecast.ingest.fetch.swpc import PRODUCTS

    return PRODUCTS


def _kinds():
    from flarecast.ingest.readers import KINDS

    return KINDS


def _splits():
    from flarecast.samples.splits import SPLITS

    return SPLITS


def _formats():
    from flarecast.forecast.ops import FORMATS

    return FORMATS


def _download():
    from flarecast.ingest.fetch import download

    return download


def _deadline():
    from flarecast.ingest.fetch import deadline

    return deadline


def _yaml_true(v: Any) -> Any:
    """``basis: true`` (YAML reads a boolean) is the ``true`` basis."""
    return "true" if v is True else v


Urls = Annotated[dict[str, str], BeforeValidator(_archives), AfterValidator(_base_urls)]
Products = Annotated[tuple[Allowed(_products), ...], BeforeValidator(_listed)]


class Step(Section):
    """What every step takes: ``run`` (its kind) and ``store`` (default: the job's store)."""

    run: str
    store: Text = Field(description="the store this step reads (and an ingest step writes)")
    _given: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_given(cls, data: Any, handler):
        step = handler(data)
        step._given = dict(data) if isinstance(data, dict) else dict(getattr(data, "_given", {}))
        return step

    @property
    def settings(self) -> dict[str, Any]:
        """The step as written, plus the defaults of the keys it leaves out: what its skip key hashes."""
        defaults = {f.alias or name: f.get_default(call_default_factory=True)
                    for name, f in type(self).model_fields.items() if not f.is_required()}
        return {**defaults, **self._given}


class FetchStep(Step):
    """``flarecast fetch``: the last ``days`` UTC days up to today, or ``from`` .. ``to`` (not for ``swpc``)."""

    run: Literal["fetch"]
    source: Allowed(_fetch_sources) = Field(description="one of the fetch sources (goes, swpc, events, sharp, srs)")
    start: Text | None = Field(None, alias="from")
    end: Text | None = Field(None, alias="to")
    days: int | None = Field(None, ge=1)
    satellite: int | None = None
    resolution: Allowed(_resolutions) = "avg1m"
    products: Products | None = None
    events_source: Allowed(_events_sources) = "flsum"
    harp: int | None = None
    nrt: bool = False
    out: Text | None = None
    retries: int = Field(default_factory=lambda: _download().RETRIES, ge=0)
    timeout: float = Field(default_factory=lambda: _download().TIMEOUT, gt=0)
    deadline: float = Field(default_factory=lambda: _deadline().DEADLINE, gt=0)
    file_deadline: float = Field(default_factory=lambda: _deadline().FILE_DEADLINE, gt=0)
    urls: Urls = Field(default_factory=dict)

    @property
    def settings(self) -> dict[str, Any]:
        """As every step's, but ``deadline`` and ``file_deadline`` (added later) count only where written, so
        the keys of fetch steps logged before them are unchanged."""
        return {k: v for k, v in super().settings.items()
                if k not in ("deadline", "file_deadline") or k in self._given}

    @model_validator(mode="after")
    def _days(self) -> FetchStep:
        if self.source == "swpc":  # SWPC's files are the last days, whatever the step says
            return self
        if (self.start is None) != (self.end is None):
            raise ValueError(f"from = {self.start!r}, to = {self.end!r}: give both (the first and last day), or "
                             "neither and 'days'")
        if self.start is None and self.days is None:
            raise ValueError("'days' is missing: give days (the last N UTC days up to today) or 'from' and 'to'")
        return self


class IngestStep(Step):
    """``flarecast ingest``: files of one kind (globs, folders) into the store."""

    run: Literal["ingest"]
    kind: Allowed(_kinds) = Field(description="one of the store groups (goes, events, sharp, regions)")
    paths: Texts = Field(min_length=1, description="files, folders or globs to ingest")
    basis: Annotated[Choice(BASES), BeforeValidator(_yaml_true)] | None = None
    satellite: int | None = None
    skip_bad: bool = False


_CONFIG = "a built-in config name (demo, tiny) or a run config's YAML path"


class TrainStep(Step):
    """``flarecast train``: a run config and its dotted overrides, the model into ``out``."""

    run: Literal["train"]
    config: Text = Field(description=_CONFIG)
    overrides: Texts = ()
    out: Text = "models/latest"


class EvaluateStep(Step):
    """``flarecast evaluate``: a model scored on one split, ``metrics.json`` into ``out`` (default: the model)."""

    run: Literal["evaluate"]
    model: Text = Field(description="the model directory to score")
    split: Allowed(_splits) = "test"
    out: Text | None = None
    plots: bool = True


class CompareStep(Step):
    """``flarecast compare``: the focal-vs-CE study; the grid as the command's options take it (text). ``cv: true``
    runs ``compare --cv`` (``rule``: its threshold rule); ``gammas`` and ``seeds`` left out then take its defaults."""

    run: Literal["compare"]
    config: Text = Field(description=_CONFIG)
    overrides: Texts = ()
    out: Text = "runs/compare"
    seeds: int = Field(COMPARE_DEFAULTS["seeds"], ge=1)
    alphas: str = COMPARE_DEFAULTS["alphas"]
    gammas: str = COMPARE_DEFAULTS["gammas"]
    balanced_alpha: float = Field(COMPARE_DEFAULTS["balanced_alpha"], ge=0, le=1)
    pos_weight: str = COMPARE_DEFAULTS["pos_weight"]
    workers: int | None = Field(None, ge=1)
    cv: bool = False
    rule: str | None = None

    @property
    def settings(self) -> dict[str, Any]:
        """As every step's, but ``cv`` and ``rule`` (added later) count only where written, so the keys of
        compare steps logged before them are unchanged."""
        return {k: v for k, v in super().settings.items() if k not in ("cv", "rule") or k in self._given}

    @field_validator("rule")
    @classmethod
    def _rule(cls, v: str | None) -> str | None:
        if v is not None:
            from flarecast.config import CVConfig

            try:  # the run config's own check of a threshold rule
                CVConfig(scheme="blocked", threshold=v)
            except (ConfigError, ValueError):
                raise ValueError("expected 'tss', 'hss', 'cost:R' or 'climatology:M'") from None
        return v

    @model_validator(mode="after")
    def _rule_needs_cv(self):
        if self.rule is not None and not self.cv:
            raise ValueError(f"rule {self.rule!r} sets the thresholds of cv: true; add cv: true or drop rule")
        return self

    @field_validator("alphas", "gammas", "pos_weight")
    @classmethod
    def _grid(cls, v: str, info) -> str:
        from flarecast.studies import comparison

        try:
            getattr(comparison, f"parse_{info.field_name}")(v)
        except ConfigError as exc:  # "--gammas 'two': expected ...": the key and value are named already
            raise ValueError(str(exc).partition(": ")[2]) from None
        return v


class ForecastStep(Step):
    """``flarecast forecast``: issue times ``at``, the ``latest``, or ``from`` .. ``to`` ``every``; ``out`` may
    hold ``{issue}``."""

    run: Literal["forecast"]
    model: Text = Field(description="the model directory (or combination) to forecast with")
    fallbacks: Texts = ()
    out: Text = Field(description="the forecast file, such as runs/forecasts/{issue}.json")
    at: Texts = ()
    latest: bool = False
    start: Text | None = Field(None, alias="from")
    end: Text | None = Field(None, alias="to")
    every: Text | None = None
    skip_refused: bool = False
    strict: bool = True
    format: Allowed(_formats) = "flarecast"

    @field_validator("every")
    @classmethod
    def _every(cls, v: str | None) -> str | None:
        return v if v is None else positive_duration(v)


class DashboardStep(Step):
    """``flarecast dashboard``: ``out/index.html`` for ``models`` at ``at``, else the latest time."""

    run: Literal["dashboard"]
    models: Texts = Field(min_length=1, description="the model directories to show")
    out: Text = "runs/dashboard"
    at: Text | None = None
    latest: bool = True


STEPS: dict[str, type[Step]] = {"fetch": FetchStep, "ingest": IngestStep, "train": TrainStep,
                                "evaluate": EvaluateStep, "compare": CompareStep, "forecast": ForecastStep,
                                "dashboard": DashboardStep}
AnyStep = Annotated[FetchStep | IngestStep | TrainStep | EvaluateStep | CompareStep | ForecastStep | DashboardStep,
                    Field(discriminator="run")]
_STEPS_HINT = "a mapping of step names to steps, such as train: {run: train, config: demo}"


class Job(Section):
    """A batch job: where it runs and writes, and its steps in order."""

    root: Text = "."
    store: Text = DEFAULT_STORE
    log: Text = Field(description="the JSON job log, such as runs/batch/daily.json")
    urls: Urls = Field(default_factory=dict)
    steps: dict[str, AnyStep] = Field(description=_STEPS_HINT)

    @field_validator("steps", mode="before")
    @classmethod
    def _some_steps(cls, v: Any) -> Any:
        if not isinstance(v, dict) or not v:
            raise ValueError(f"expected {_STEPS_HINT}")
        return v

    @model_validator(mode="before")
    @classmethod
    def _job_defaults(cls, data: Any) -> Any:
        """Every step's ``store`` defaults to the job's; a fetch step's ``urls`` add to the job's."""
        if not isinstance(data, dict) or not isinstance(data.get("steps"), dict):
            return data
        urls, steps = data.get("urls") or {}, {}
        for name, step in data["steps"].items():
            if isinstance(step, dict):
                step = {"store": data.get("store", DEFAULT_STORE), **step}
                if step.get("run") == "fetch" and isinstance(urls, dict) and isinstance(step.get("urls"), dict | None):
                    step["urls"] = {**urls, **(step.get("urls") or {})}
            steps[name] = step
        return {**data, "steps": steps}


def load_job(path: str | Path, overrides: list[str] | None = None) -> Job:
    """Read and check a job file; ``overrides`` are ``key.path=value`` (value parsed as YAML)."""
    path = Path(path)
    data = read_yaml(path, what="job file", example="configs/batch.yaml",
                     expected=f"a mapping with keys {sorted(Job.model_fields)}")
    apply_overrides(data, overrides, example="steps.train.out=models/x")
    data.setdefault("log", f"runs/batch/{path.stem}.json")
    return validate(Job, data, origin=str(path), describe=_describe_job)


def _describe_job(e: dict) -> str:
    """A job's validation error in words: a step's error names the step, its kind, the key and what is allowed."""
    loc = e["loc"]
    if loc[:1] != ("steps",) or len(loc) < 2:
        return describe(e, Job)
    name = loc[1]
    if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
        run = e["input"].get("run")
        what = "'run' is missing" if run is None else f"run = {short(run)}"
        return f"step {name!r}: {what}: expected one of {list(STEPS)}"
    if len(loc) == 2:
        return f"step {short(name)} = {short(e['input'])}: expected a mapping such as {{run: train, config: demo}}"
    run, rest = loc[2], loc[3:]
    where = f"step {short(name)} ({run})"
    if not rest and e["type"] == "value_error":  # a check across keys: its message names them
        return f"{where}: {str(e['msg']).removeprefix('Value error, ')}"
    return f"{where}: {describe({**e, 'loc': rest}, STEPS[run])}"
