"""The demo's 3-day forecast: SWPC's table (C, M, X on each of the three UT days after issue) for the last test day.

One small day model beside the loss comparison, as cheap as one more seed: the demo's config with forecast days
(:data:`DAY_OVERRIDES`: ``samples.days: 3`` on UT days, the three classes, the cumulative ordinal head, ordinal
cross-entropy), trained once (``train.seed``) in the same pinned worker processes as the comparison's runs
(:func:`flarecast.jobs.demo.training_pool`), so its numbers are as reproducible as the table's. It is forecast
through ``flarecast forecast``'s own path (:func:`flarecast.forecast.issue.forecast` on the demo's store) at the
last test window issued at 22:00 UT (SWPC's issue time), and the table is the one ``flarecast forecast`` prints
(:func:`flarecast.report.days.day_table`), with the largest flare class the catalogue recorded on each day.

The loss comparison is untouched: its runs, samples and seeds are the same with or without this model (each
training run seeds everything itself, :func:`flarecast.train.loop.train`).
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flarecast.classes import split_target, target_rank
from flarecast.config import RunConfig
from flarecast.forecast.issue import forecast
from flarecast.forecast.request import Inputs, IssueTimes
from flarecast.report.days import day_table
from flarecast.samples.build import Samples
from flarecast.train.loop import train
from flarecast.util import iso

DAY_OVERRIDES: dict[str, Any] = {
    "samples.days": 3, "samples.day_windows": "ut", "samples.targets": [">=C", ">=M", "X"],
    "model.head": "cumulative", "train.loss.name": "ordinal", "train.loss.alpha": None, "train.loss.gamma": 0.0}
"""What the day model changes in the demo's config: SWPC's three UT days and classes, one coherent head per day."""
ISSUE_HOUR = 22
"""SWPC issues its 3-day forecast at 22:00 UT."""
MODEL_DIR = Path("models") / "days"
RANK_NAMES = {0: "<C", 1: "C", 2: "M", 3: "X"}
"""The largest class of a day by its rank (:data:`flarecast.classes.TARGET_RANK`); ``<C``: no C flare or larger."""


def day_config(cfg: RunConfig) -> RunConfig:
    """The day model's config: ``cfg`` with :data:`DAY_OVERRIDES`."""
    return cfg.replace(**DAY_OVERRIDES)


def train_day_model(samples: Samples, cfg: RunConfig, model_dir: Path) -> dict[str, Any]:
    """Train the day model into ``model_dir`` (in a pinned worker when the demo has a pool); its card facts."""
    result = train(samples, cfg, model_dir)
    return {"seed": cfg.train.seed, "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
            "seconds": round(result.seconds, 1)}


def start_training(samples: Samples, cfg: RunConfig, out: Path, pool: Executor | None) -> Future | dict[str, Any]:
    """Train the day model in ``pool`` (a future, so the loss comparison's runs fill the other cores), or here."""
    if pool is None:
        return train_day_model(samples, cfg, out / MODEL_DIR)
    return pool.submit(train_day_model, samples, cfg, out / MODEL_DIR)


def issue_time(samples: Samples) -> np.datetime64:
    """The last test window issued at :data:`ISSUE_HOUR` UT (the last test window where none is)."""
    times = samples.issue_time[samples.indices("test")]
    at_hour = times[pd.DatetimeIndex(times).hour == ISSUE_HOUR]
    return (at_hour if at_hour.size else times).max()


def observed(samples: Samples, issue: np.datetime64) -> list[str]:
    """The largest flare class (``C``, ``M``, ``X``, or ``<C``) the catalogue recorded on each forecast day of the
    window issued at ``issue``: its labels, as the model was scored on them."""
    (i,) = np.flatnonzero(samples.issue_time == issue)
    rank: dict[int, int] = {}
    for j, t in enumerate(samples.targets):
        day = split_target(t)[1]
        rank[day] = max(rank.get(day, 0), target_rank(t) if samples.y[i, j] else 0)
    return [RANK_NAMES[rank[d]] for d in sorted(rank)]


def day_forecast(out: Path, store: Path, samples: Samples, training: dict[str, Any]) -> dict[str, Any]:
    """The demo's ``day_forecast`` entry: the model, its training, the 3-day table at :func:`issue_time` and
    what was observed on each day."""
    issue = issue_time(samples)
    doc = forecast(out / MODEL_DIR, Inputs(store=store), IssueTimes(at=(iso(issue),)))
    return {"model": str(MODEL_DIR), "model_id": doc["model_id"], "loss": doc["loss"],
            "head": DAY_OVERRIDES["model.head"], "training": training, "test_windows": int(samples.indices("test").size),
            "table": day_table(doc), "observed": observed(samples, issue)}


__all__ = ["DAY_OVERRIDES", "ISSUE_HOUR", "day_config", "day_forecast", "issue_time", "observed", "start_training",
           "train_day_model"]
