"""``flarecast compare --cv``: the focal-vs-CE study rerun with cross-validated ensembles.

For each loss setting (the :class:`~flarecast.studies.comparison.Method` s of
:func:`~flarecast.studies.comparison.loss_grid`; by default CE, alpha-CE, BCE with pos_weight = odds and focal
alpha in {none, 0.25, 0.5, 0.75} x gamma in {1, 2}) the config's CV ensemble (``train.cv``) is trained exactly
as ``flarecast train`` trains it (:func:`~flarecast.train.ensemble.train_ensemble`) into ``out/<setting>/``; a
finished ensemble of the same resolved config and data is reused. Every setting's folds are the same, so
they all hold out the same windows.

On those out-of-fold (OOF) windows, pooled and per held-out period, every method decides by the same rule:
its OOF probabilities are calibrated and thresholded with a map and a threshold fitted on the *other* folds
only (:func:`~flarecast.train.ensemble.transferred`, the ``p_xfit`` / ``threshold_xfit`` of ``flarecast cv``;
the calibration method chosen as ``train.cv.calibration`` says, the threshold by ``rule`` or
``train.cv.threshold``). Beside the ensembles, on the same windows: persistence, and logistic regression and
gradient-boosted trees on window statistics, fitted per fold on that fold's training part (train and
early-stopping windows) only, so no window is forecast by a model that saw its fold.

Scores (recall, HSS, TSS, FAR at the transferred thresholds; BSS of the transferred probabilities against
the fold's training base rate) get 95% intervals over resamples of whole UTC days (GOES) or regions (SHARP),
the same resamples for every method, so differences against CE are paired
(:mod:`flarecast.evaluate.paired`, which also states the pre-declared verdict per target).
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from flarecast import __version__
from flarecast.config import COMPARE_CV_GAMMAS, CVConfig, RunConfig
from flarecast.errors import ConfigError, FlarecastError, ModelError
from flarecast.evaluate import baselines
from flarecast.evaluate.paired import QUOTED, QUOTED_WHY, REFERENCE, SCORES, paired, score_decisions, verdict
from flarecast.jsonio import dumps, write_json
from flarecast.metrics import ThresholdRule, UndefinedScoreWarning
from flarecast.model.card import EnsembleCard
from flarecast.model.documents import CVComparison
from flarecast.model.modeldir import read_card
from flarecast.progress import NullProgress, Progress
from flarecast.report.compare_cv import write_compare_cv_report
from flarecast.samples.build import Samples
from flarecast.studies.comparison import (
    BALANCED_ALPHA,
    DEFAULT_ALPHAS,
    CompareResult,
    Method,
    default_pos_weight,
    loss_grid,
)
from flarecast.studies.oof import read_oof
from flarecast.train.calibration import choose_calibration
from flarecast.train.cv import Fold, make_folds
from flarecast.train.ensemble import train_ensemble, transferred

DEFAULT_CV_GAMMAS = tuple(float(g) for g in COMPARE_CV_GAMMAS.split(","))
"""The focal gammas of the CV study (1 and 2): a smaller grid than the single-model study's, as each setting is
a whole ensemble."""
RESULT_FILE = CVComparison.FILE
POOLED = "pooled"
_RUN_ONLY = (("train", "device"), ("train", "cv", "workers"), ("train", "cv", "cluster"))
"""Config keys that say where an ensemble was trained, not what: a finished ensemble is reused whatever they are."""


def compare_cv(cfg: RunConfig, samples: Samples, out: str | Path, *, methods: Sequence[Method] | None = None,
               alphas=DEFAULT_ALPHAS, gammas=DEFAULT_CV_GAMMAS, balanced_alpha: float = BALANCED_ALPHA,
               pos_weight: float | None = None, seeds: int | Sequence[int] | None = None, workers: int | None = None,
               rule: str | None = None, n_boot: int = 1000, progress: Progress | None = None,
               store: str = "") -> CompareResult:
    """Train the CV ensemble of every loss setting and score them all, with the baselines, on the OOF windows.

    Parameters
    ----------
    cfg : RunConfig
        The base config; its ``train.cv`` (scheme, by, pool, seeds, workers, calibration, threshold) is used
        as ``flarecast train`` uses it; each setting changes ``train.loss`` only.
    samples : Samples
        Built once from ``cfg.samples``.
    methods : sequence of Method, keyword-only
        The loss settings; None: :func:`loss_grid` of ``alphas``, ``gammas``, ``balanced_alpha`` and
        ``pos_weight`` (None: each target's odds over the CV pool's windows). Must hold ``CE``.
    seeds : int, sequence of int or None, keyword-only
        Members per fold: a count K (seeds ``train.seed`` .. ``+ K - 1``), the seeds, or None (``train.cv.seeds``).
    workers : int or None, keyword-only
        Members trained at once (``train.cv.workers``; None: the config's).
    rule : str or None, keyword-only
        Threshold rule of the decisions (``tss``, ``hss``, ``cost:R``, ``climatology:M``); None:
        ``train.cv.threshold``. It changes no training, so a rerun with another rule reuses every ensemble.
    n_boot : int, keyword-only
        Bootstrap resamples per interval.

    Returns
    -------
    CompareResult
        ``out/comparison-cv.json``, ``out/report-cv.md`` and ``out/report-cv.html`` (plus ``out/<setting>/``).
    """
    t0 = time.perf_counter()
    progress = progress or NullProgress()
    out = Path(out)
    cfg = _cv_config(cfg, seeds, workers)
    rule = rule or cfg.train.cv.threshold
    decision = CVConfig(scheme="blocked", threshold=rule).decision()  # the config's own check, before hours of training
    folds = make_folds(samples, cfg.train.cv)
    oof = np.sort(np.concatenate([f.indices("test") for f in folds]))
    fold_id = np.empty(oof.size, dtype=np.int64)
    for i, f in enumerate(folds):
        fold_id[np.searchsorted(oof, f.indices("test"))] = i
    if methods is None:
        pw = _pool_odds(samples, cfg.train.cv) if pos_weight is None else float(pos_weight)
        methods = loss_grid(alphas, gammas, balanced_alpha=balanced_alpha, pos_weight=pw)
    methods = list(methods)
    if REFERENCE not in [m.name for m in methods]:
        raise ConfigError(f"methods {[m.name for m in methods]}: expected {REFERENCE!r} among them, the reference "
                          "every difference is taken against")
    for m in methods:  # validate every loss setting before hours of training
        cfg.replace(**m.overrides)
    runs = _ensembles(cfg, samples, methods, out, len(folds), progress)
    raw = {m.name: _oof_probs(runs[m.name], samples, oof, [folds[i].name for i in fold_id]) for m in methods}
    raw.update(tabular_oof(samples, folds, oof))
    scored = score_methods(samples, folds, oof, fold_id, raw, runs, cfg.train.cv.calibration, decision, n_boot)
    calibration = scored.pop("calibration")
    methods = {**{m.name: _method_entry(cfg, m, runs[m.name], out) for m in methods},
               **{b: {"kind": "baseline"} for b in ("persistence", *baselines.TABULAR)}}
    for name, entry in methods.items():
        entry["calibration"] = calibration[name]
    cv = cfg.train.cv
    comparison = CVComparison.build(
        **scored, methods=methods, verdicts={t: verdict(methods, scored["targets"][t], t) for t in samples.targets},
        flarecast_version=__version__, config=cfg.to_dict(), store=store, out=str(out),
        rule=rule, quoted={"alpha": QUOTED[0], "gamma": QUOTED[1], "why": QUOTED_WHY},
        cv={"scheme": cv.scheme, "by": cv.by, "k": cv.k, "pool": list(cv.pool), "val": cv.val,
            "seeds": list(cv.seeds), "workers": cv.workers, "calibration": cv.calibration},
        folds=[f.to_dict() for f in runs[REFERENCE]["card"].cv.folds],
        wall_seconds=round(time.perf_counter() - t0, 1))
    md, html = write_compare_cv_report(comparison, out)
    write_json(out / RESULT_FILE, comparison)
    return CompareResult(out, comparison, md, html)


def _cv_config(cfg: RunConfig, seeds, workers) -> RunConfig:
    if cfg.train.cv.scheme == "none":
        raise ConfigError("compare --cv trains cross-validated ensembles but train.cv.scheme = 'none': set it to "
                          "'blocked' or 'rolling' (the shipped real configs do)")
    # Each loss setting is an ensemble of networks alone: blending in logistic members (train.cv.blend) would
    # mix the logistic row of the study into every setting it compares.
    changes: dict[str, Any] = {"train.cv.blend": "none"} if cfg.train.cv.blend != "none" else {}
    if seeds is not None:
        seed_list = list(range(cfg.train.seed, cfg.train.seed + seeds)) if isinstance(seeds, int) else list(seeds)
        if not seed_list:
            raise ConfigError(f"--seeds {seeds}: expected at least one seed")
        changes["train.cv.seeds"] = seed_list
    if workers is not None:
        changes["train.cv.workers"] = workers
    return cfg.replace(**changes) if changes else cfg


def _pool_odds(samples: Samples, cv: CVConfig) -> dict[str, float]:
    """Each target's odds over the windows the folds are made of (every one trains some fold)."""
    pool = np.isin(samples.split, cv.pool)
    return default_pos_weight(replace(samples, split=np.where(pool, "train", "")))


def _ensembles(cfg: RunConfig, samples: Samples, methods: list[Method], out: Path, n_folds: int, progress):
    """Each setting's ensemble: reused when ``out/<setting>/`` holds a finished one of the same config and data."""
    n_members = n_folds * len(cfg.train.cv.seeds)
    bar = progress.task(f"CV ensembles: {len(methods)} x {n_members} members", len(methods) * n_members)
    runs = {}
    for m in methods:
        run_cfg, model_dir = cfg.replace(**m.overrides), out / m.dirname
        card = finished(model_dir, run_cfg, samples)
        seconds = None
        if card is None:
            def show(r, name=m.name) -> None:
                bar(1, info=f"{name}: fold {r.fold} seed {r.seed}, best epoch {r.best_epoch} of {r.epochs_run}")

            seconds = round(train_ensemble(samples, run_cfg, model_dir, on_member=show).seconds, 1)
            card = read_card(model_dir)
        else:
            bar(n_members, info=f"{m.name}: reused")
        runs[m.name] = {"dir": model_dir, "card": card, "reused": seconds is None, "seconds": seconds}
    return runs


def finished(model_dir: Path, run_cfg: RunConfig, samples: Samples) -> EnsembleCard | None:
    """The card of a finished ensemble in ``model_dir`` trained with ``run_cfg`` on ``samples``' data, else None."""
    try:
        card = read_card(model_dir)
    except FlarecastError:
        return None
    if not isinstance(card, EnsembleCard) or card.data_fingerprint != samples.fingerprint:
        return None
    if _what(card.config) != _what(run_cfg.to_dict()):
        return None
    return card if (model_dir / card.cv.oof_file).is_file() else None


def _what(config: dict[str, Any]) -> dict[str, Any]:
    d = json.loads(dumps(config, indent=None))
    for path in _RUN_ONLY:
        node = d
        for key in path[:-1]:
            node = node.get(key, {})
        node.pop(path[-1], None)
    return d


def _oof_probs(run: dict[str, Any], samples: Samples, oof: np.ndarray, fold_names: list[str]) -> np.ndarray:
    """The ensemble's raw OOF probabilities ``[oof windows, targets]``, checked to be the windows of ``oof``."""
    frame = read_oof(run["dir"], run["card"])
    times = frame["issue_time"].dt.tz_localize(None).to_numpy("datetime64[ns]")
    same = (len(frame) == oof.size and np.array_equal(times, samples.issue_time[oof])
            and np.array_equal(frame["region"].to_numpy("int64", na_value=-1), samples.region[oof].astype(np.int64))
            and frame["fold"].tolist() == fold_names)
    if not same:
        raise ModelError(f"{run['dir']}: its out-of-fold windows are not this comparison's folds; delete the "
                         "directory or write the comparison to a new --out")
    return np.stack([frame[f"p_raw[{t}]"].to_numpy(np.float64) for t in samples.targets], axis=1)


def tabular_oof(samples: Samples, folds: list[Fold], oof: np.ndarray) -> dict[str, np.ndarray]:
    """Logistic regression and trees (:data:`baselines.TABULAR`) forecasting each fold's held-out windows,
    fitted on that fold's training and early-stopping windows only: ``{method: [oof windows, targets]}``."""
    out = {m: np.empty((oof.size, len(samples.targets))) for m in baselines.TABULAR}
    for fold in folds:
        seen = np.isin(fold.split, ("train", "val"))
        fits = baselines.fit_tabular(replace(samples, split=np.where(seen, "train", "")), methods=baselines.TABULAR)
        held = fold.indices("test")
        rows = np.searchsorted(oof, held)
        for name, fit in fits.items():
            out[name][rows] = fit.predict(samples, held)
    return out


def score_methods(samples: Samples, folds: list[Fold], oof: np.ndarray, fold_id: np.ndarray,
                  raw: dict[str, np.ndarray], runs: dict[str, dict], calibration: str, rule: ThresholdRule,
                  n_boot: int) -> dict[str, Any]:
    """Every method's scores per target and period at its transferred calibration and threshold, persistence's
    beside them, and every method's paired difference against CE; all on the same resamples."""
    sharp = samples.config.source == "sharp"
    groups = samples.region[oof] if sharp else samples.issue_time[oof].astype("datetime64[D]").astype(np.int64)
    periods = [(f.name, fold_id == i) for i, f in enumerate(folds)] + [(POOLED, np.ones(oof.size, bool))]
    result: dict[str, Any] = {"targets": {}, "calibration": {},
                              "bootstrap": {"unit": "region (HARP)" if sharp else "UTC day", "n_boot": n_boot,
                                            "level": 0.95, "seed": 0, "paired": "every method on the same resamples"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedScoreWarning)
        for j, t in enumerate(samples.targets):
            y = samples.y[oof, j].astype(np.float64)
            clim = {f.name: float(samples.y[f.indices("train"), j].mean()) for f in folds} | {POOLED: float(y.mean())}
            forecasts = {}
            for name, p_raw in raw.items():
                method = (runs[name]["card"].calibration[t].method if name in runs
                          else choose_calibration(y, p_raw[:, j], fold_id, calibration)[0]["method"])
                result["calibration"].setdefault(name, {})[t] = method
                forecasts[name] = transferred(y, p_raw[:, j], fold_id, method, rule)
            p_persist = baselines.persistence(samples.prev_flux[oof], t, samples.config.convention)
            forecasts["persistence"] = (p_persist, np.full(oof.size, 0.5))
            order = [*runs, "persistence", *(n for n in raw if n not in runs)]  # ensembles, then the baselines
            forecasts = {n: forecasts[n] for n in order}
            result["calibration"]["persistence"] = {**result["calibration"].get("persistence", {}), t: "none"}
            block = {"windows": int(oof.size), "positives": int(y.sum()), "periods": [p for p, _ in periods],
                     "scores": {}, "paired": {}}
            for period, sel in periods:
                if np.unique(groups[sel]).size < 2:
                    continue  # a bootstrap over fewer than two days or regions has no interval
                scored = {name: score_decisions(y[sel], p[sel], thr[sel], groups[sel], climatology=clim[period],
                                                n_boot=n_boot) for name, (p, thr) in forecasts.items()}
                for name, s in scored.items():
                    block["scores"].setdefault(name, {})[period] = s.entry
                    if name != REFERENCE:
                        block["paired"].setdefault(name, {})[period] = paired(s, scored[REFERENCE], SCORES)
            result["targets"][t] = block
    return result


def _method_entry(cfg: RunConfig, m: Method, run: dict[str, Any], out: Path) -> dict[str, Any]:
    card = run["card"]
    return {"kind": m.kind, "loss": cfg.replace(**m.overrides).train.loss.label, "alpha": m.alpha, "gamma": m.gamma,
            "pos_weight": m.pos_weight, "model_dir": str(run["dir"].relative_to(out)), "reused": run["reused"],
            "seconds": run["seconds"], "thresholds": card.thresholds, "threshold_rule": card.threshold_rule,
            "members": [mm.model_dump(include={"fold", "seed", "best_epoch", "epochs_run"}) for mm in card.members]}
