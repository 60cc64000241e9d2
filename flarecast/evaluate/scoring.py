"""Score a trained model beside the baselines, with bootstrap intervals over whole UTC days (GOES) or regions (SHARP).

Which windows: one split of the model's own split plan (``split="test"``, the default), or every window of a
store (``split=None``), optionally only those issued in ``period = (from, to)``: a store holding data the model
never saw needs no split information. Every window is then kept: the samples are built with a single split
block (:data:`ALL_WINDOWS_BLOCK`), so none is dropped at a split edge, and always with the card's normalisation.

Methods scored on the same windows (:data:`METHODS`): ``model`` at the card's thresholds (chosen as its
:meth:`~flarecast.model.card.ModelCard.decision` says), ``model@0.5``, and the baselines of
:mod:`flarecast.evaluate.baselines`: ``climatology`` (the card's training base rate), ``persistence``, ``logistic``
and ``trees``, and ``mcintosh`` where the store holds NOAA region reports (:mod:`flarecast.evaluate.mcintosh`).
The tabular baselines must be fitted on the
model's training data: on the evaluated samples' own train split when a split is scored (same store, same split
plan), on ``train_store`` otherwise; without one they are left out and ``notes`` says so.

The result is ``metrics.json`` (:class:`~flarecast.model.documents.Metrics`, see README): ``result.targets`` is
``{T: {method: {"threshold", "n", "positives", "tp", "fp", "fn", "tn", "recall": {"value", "ci"}, ...}}}``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flarecast import classes
from flarecast.errors import ModelError
from flarecast.evaluate import baselines
from flarecast.evaluate.baselines import TabularBaseline
from flarecast.evaluate.bootstrap import N_BOOT, score_with_ci
from flarecast.evaluate.mcintosh import McIntoshWindows
from flarecast.evaluate.periods import by_period, check_by
from flarecast.metrics import UndefinedScoreWarning
from flarecast.metrics.forecasts import METHODS, Forecasts, method_thresholds  # noqa: F401  (METHODS re-exported)
from flarecast.model.card import EnsembleCard, ModelCard
from flarecast.model.documents import Bootstrap, Metrics
from flarecast.model.inference import predict, resolve_device
from flarecast.model.modeldir import load_model, model_id, read_card
from flarecast.samples import labels
from flarecast.samples.build import Samples
from flarecast.util import utc

ALL_WINDOWS_BLOCK = "36500D"
"""``samples.split.block`` that puts a store's whole span in one block, dealt to ``train``: no window is dropped
at a split edge. Only used to build samples for ``split=None``; the split names are then ignored."""


def check_compatible(card: ModelCard, samples: Samples) -> None:
    """Refuse samples whose channels, targets or window differ from what the model was trained on."""
    bad = card.input_mismatch(channels=list(samples.channels), targets=list(samples.targets),
                              window_steps=samples.window_steps)
    if bad:
        raise ModelError(f"model expects {bad[0]} = {bad[1]}, the samples have {bad[2]}: build samples with the "
                         "model's own config (its card.json)")


def select_windows(samples: Samples, *, split: str | None = "test", period=None) -> np.ndarray:
    """Indices of the windows of ``split`` (None: all) issued in ``period = (from, to)``, from inclusive, to not."""
    idx = np.arange(samples.issue_time.size) if split is None else samples.indices(split)
    if period is not None:
        lo, hi = (None if v is None else utc(v, what=opt, error=ModelError)
                  for v, opt in zip(period, ("--from", "--to"), strict=True))
        if lo is not None and hi is not None and hi <= lo:
            raise ModelError(f"--from {period[0]} is not before --to {period[1]}: give an increasing period")
        t = samples.issue_time[idx]
        keep = np.ones(idx.size, bool)
        if lo is not None:
            keep &= t >= lo
        if hi is not None:
            keep &= t < hi
        idx = idx[keep]
    if idx.size == 0:
        where = f"split {split!r}" if split else "the store"
        span = f" issued in [{period[0]}, {period[1]})" if period else ""
        raise ModelError(f"{where} holds no windows{span}: nothing to evaluate")
    return idx


def model_forecasts(model_dir: str | Path, samples: Samples, idx: np.ndarray, *,
                    tabular: dict[str, TabularBaseline] | None = None, device: str = "cpu",
                    trust_modified: bool = False, mcintosh: McIntoshWindows | None = None) -> Forecasts:
    """Probabilities of the model and of the baselines for the windows ``idx`` of ``samples``."""
    model, card = load_model(model_dir, device=str(resolve_device(device)), trust_modified=trust_modified)
    check_compatible(card, samples)
    # Nested classes made coherent, as `forecast` issues them (flarecast.forecast.numbers).
    raw = predict(model, samples, idx, device=next(model.parameters()).device)
    probs = {"model": classes.coherent(raw, samples.targets)[0].astype(np.float64)}
    targets = tuple(samples.targets)
    clim = {t: card.base_rate(t) for t in targets}
    probs["climatology"] = np.stack([baselines.climatology(idx.size, clim[t]) for t in targets], axis=1)
    probs["persistence"] = np.stack(
        [baselines.persistence(samples.prev_flux[idx], t, samples.config.convention) for t in targets], axis=1)
    thresholds = method_thresholds({t: card.threshold(t) for t in targets})
    fitted = {**({"mcintosh": mcintosh} if mcintosh is not None else {}), **(tabular or {})}
    for name, fit in fitted.items():
        probs[name] = fit.predict(samples, idx)
        thresholds[name] = dict(fit.thresholds)
    sharp = samples.config.source == "sharp"
    group = samples.region[idx] if sharp else samples.issue_time[idx].astype("datetime64[D]").astype(np.int64)
    return Forecasts(targets, samples.issue_time[idx], samples.region[idx], group,
                     "region (HARP)" if sharp else "UTC day", samples.y[idx].astype(np.int8), probs, thresholds, clim,
                     pd.Timedelta(samples.config.horizon).to_timedelta64(), card.rule(),
                     labels.target_windows(samples.issue_time[idx], targets, samples.config.horizon_length,
                                           samples.config.day_windows))


def score_forecasts(fc: Forecasts, *, n_boot: int = N_BOOT, seed: int = 0) -> dict[str, dict[str, Any]]:
    """``{target: {method: score_with_ci entry}}`` for every method of ``fc``."""
    n_groups = np.unique(fc.group).size
    if n_groups < 2:
        raise ModelError(f"the evaluated windows fall in {n_groups} {fc.group_unit}: bootstrap intervals resample "
                         f"whole {fc.group_unit}s and need at least 2; evaluate a longer period")
    out: dict[str, dict[str, Any]] = {}
    with warnings.catch_warnings():  # undefined scores (no forecast events, say) are reported as null, not warned
        warnings.simplefilter("ignore", UndefinedScoreWarning)
        for j, target in enumerate(fc.targets):
            out[target] = {
                m: score_with_ci(fc.y[:, j], fc.prob(m, target), fc.group, threshold=fc.thresholds[m][target],
                                 climatology=fc.climatology[target], n_boot=n_boot, seed=seed)
                for m in fc.methods
            }
    return out


def evaluate_model(model_dir: str | Path, samples: Samples, *, split: str | None = "test", period=None,
                   tabular: dict[str, TabularBaseline] | None = None, device: str = "cpu", n_boot: int = N_BOOT,
                   seed: int = 0, by: str | None = None, trust_modified: bool = False) -> Metrics:
    """``metrics.json`` of a model on windows of ``samples``: :func:`evaluate_samples`' result alone."""
    return evaluate_samples(model_dir, samples, split=split, period=period, tabular=tabular, device=device,
                            n_boot=n_boot, seed=seed, by=by, trust_modified=trust_modified)[0]


def evaluate_samples(model_dir: str | Path, samples: Samples, *, split: str | None = "test", period=None,
                     tabular: dict[str, TabularBaseline] | None = None, device: str = "cpu", n_boot: int = N_BOOT,
                     seed: int = 0, by: str | None = None, trust_modified: bool = False,
                     mcintosh: McIntoshWindows | None = None) -> tuple[Metrics, Forecasts]:
    """``metrics.json`` of a model on windows of ``samples`` (see the module docstring), and the forecasts scored.

    Parameters
    ----------
    model_dir : path
        Model directory written by :func:`flarecast.train.train`.
    samples : Samples
        Built with the model's config and the card's normalisation.
    split : {"train", "val", "test"} or None, keyword-only
        Split to score; None scores every window of ``samples``.
    period : (from, to) or None, keyword-only
        Keep windows issued in [from, to) (strings or datetimes, UTC); either end may be None.
    tabular : dict of TabularBaseline or None, keyword-only
        Fitted tabular baselines (:func:`flarecast.evaluate.baselines.fit_tabular`). When None and ``split`` is
        given, they are fitted on ``samples``' train split; when None and ``split`` is None, they are left out
        with a note.
    device, n_boot, seed : keyword-only
        Torch device for the model; bootstrap replicates and seed.
    by : {"year"} or None, keyword-only
        Also score every method per calendar year of issue time (:func:`flarecast.evaluate.periods.by_period`),
        under the result's ``by_year`` key.
    trust_modified : bool, keyword-only
        Use weights whose sha256 differs from the card's (refused otherwise); ``metrics.json`` then says
        ``weights_modified: true``.
    mcintosh : McIntoshWindows or None, keyword-only
        The fitted McIntosh-Poisson baseline (:func:`flarecast.evaluate.mcintosh.fit_windows`), scored as
        ``mcintosh``; None leaves it out.

    Returns
    -------
    (Metrics, Forecasts)
        ``metrics.json`` and the forecasts behind it (for plots).
    """
    card = read_card(model_dir, trust_modified=trust_modified)
    notes = []
    if split is not None and samples.fingerprint != card.data_fingerprint:
        notes.append(f"these samples (fingerprint {samples.fingerprint}) are not the model's training samples "
                     f"({card.data_fingerprint}): another store or config, so split {split!r} may hold "
                     "windows the model was trained on")
    check_by(by)
    pool = list(card.run_config().train.cv.pool) if isinstance(card, EnsembleCard) else []
    if split in pool:
        notes.append(f"the ensemble's members trained on split {split!r} (train.cv.pool = {pool}): these scores are "
                     "in-sample; `flarecast cv` scores each held-out period out of fold")
    if tabular is None and split is not None and samples.indices("train").size > 0:
        tabular = baselines.fit_tabular(samples, threshold_score=card.threshold_score or "hss")
    idx = select_windows(samples, split=split, period=period)
    fc = model_forecasts(model_dir, samples, idx, tabular=tabular, device=device, trust_modified=trust_modified,
                         mcintosh=mcintosh)
    if tabular is None:
        notes.append("logistic and trees baselines omitted: they must be fitted on the model's training data, "
                     "which these samples do not hold; pass the store the model was trained on (--train-store)")
    return Metrics.build(
        model=str(model_dir), model_id=model_id(model_dir, trust_modified=trust_modified),
        **({"weights_modified": True} if card.weights_modified else {}), loss=card.loss,
        split=split if split is not None else "all",
        period={"from": _iso(fc.issue_time.min()), "to": _iso(fc.issue_time.max()),
                "requested": list(period) if period is not None else None},
        n_windows=int(idx.size), source=samples.config.source, convention=samples.config.convention,
        climatology=fc.climatology, bootstrap=Bootstrap.of(fc, n_boot=n_boot, seed=seed),
        thresholds=fc.thresholds, threshold_rule=card.threshold_choice(),
        baselines={**{m: tabular[m].describe() if tabular and m in tabular else None for m in baselines.TABULAR},
                   **({"mcintosh": mcintosh.describe()} if mcintosh is not None else {})},
        notes=notes,
        targets=score_forecasts(fc, n_boot=n_boot, seed=seed),
        **({f"by_{by}": by_period(fc, by, n_boot=n_boot, seed=seed)} if by else {}),
    ), fc


def _iso(t) -> str:
    return str(pd.Timestamp(t))
