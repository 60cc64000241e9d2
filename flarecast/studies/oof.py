"""Skill of a CV ensemble on each held-out period, from its out-of-fold predictions, beside persistence.

Each fold's windows are scored with what that period would have been forecast with had it been unseen: the
fold's own members (trained without it), the calibration map fitted on the other folds' OOF predictions and the
threshold chosen there by the card's rule (``p_xfit`` and ``threshold_xfit`` of the OOF file). So a period's
TSS and HSS test whether thresholds *transfer* to it. Persistence (the class seen in the previous horizon) is
scored on the same windows. Intervals resample whole UTC days (full-disk) or regions (SHARP); BSS is against
the fold's training base rate, with the calibrated and the raw (uncalibrated mean) probabilities.

Each row also says, in hindsight, at which thresholds the period's probabilities would have beaten persistence
on both TSS and HSS (``beats_persistence``): a description of the period, not a forecast of it; it shows how
far the transferred threshold landed from the range where the ensemble dominates persistence, if there is one.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flarecast.config import CVConfig
from flarecast.errors import ModelError
from flarecast.evaluate import baselines
from flarecast.evaluate.bootstrap import score_with_ci
from flarecast.jsonio import write_json
from flarecast.metrics import UndefinedScoreWarning, thresholds_beating
from flarecast.model.card import EnsembleCard
from flarecast.model.modeldir import model_id, read_card
from flarecast.train.ensemble import transferred

SCORES = ("tss", "hss", "bss", "recall", "far", "roc_auc")
POOLED = "pooled"


def score_oof(model_dir: str | Path, *, rule: str | None = None, n_boot: int = 1000, seed: int = 0,
              out_file: str | Path | None = None) -> dict[str, Any]:
    """Per held-out period (and pooled) scores of the ensemble and of persistence, with bootstrap intervals.

    ``rule`` (``tss``, ``hss``, ``cost:R``, ``climatology:M``) replaces the card's threshold rule: each fold's
    threshold is then chosen afresh on the other folds' calibrated OOF predictions, with no retraining.
    ``out_file``: also write the result there as JSON.

    Returns ``{"model", "model_id", "threshold_rule", "bootstrap", "targets": {T: [row, ...]}}``; each row has
    ``period``, ``n``, ``positives``, ``threshold`` and, for ``ensemble`` and ``persistence``, every score of
    :data:`SCORES` as ``{"value", "ci"}`` (the ensemble also ``bss_raw``, before calibration).
    """
    model_dir = Path(model_dir)
    if rule is not None:
        decision = CVConfig(scheme="blocked", threshold=rule).decision()  # the config's own check of a rule
    card = read_card(model_dir)
    if not isinstance(card, EnsembleCard):
        raise ModelError(f"{model_dir} is a single model: out-of-fold scores exist for CV ensembles only; train "
                         "one with train.cv.scheme: blocked or rolling")
    frame = read_oof(model_dir, card)
    sharp = card.run_config().samples.source == "sharp"
    group = frame["region"].to_numpy("int64", na_value=-1) if sharp else (
        frame["issue_time"].dt.tz_localize(None).to_numpy("datetime64[ns]").astype("datetime64[D]").astype(np.int64))
    periods = [(f.name, frame["fold"].to_numpy() == f.name, f.climatology, f.held_out) for f in card.cv.folds]
    periods.append((POOLED, np.ones(len(frame), bool), card.climatology, None))
    out: dict[str, list] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedScoreWarning)
        for t in card.targets:
            y = frame[f"y[{t}]"].to_numpy(np.int8)
            p, thr = frame[f"p_xfit[{t}]"].to_numpy(float), frame[f"threshold_xfit[{t}]"].to_numpy(float)
            if rule is not None:
                parts = (None if card.blend is None else
                         (frame[f"p_net[{t}]"].to_numpy(float), frame[f"p_linear[{t}]"].to_numpy(float)))
                p, thr = transferred(y.astype(float), frame[f"p_raw[{t}]"].to_numpy(float), frame["fold"].to_numpy(),
                                     card.calibration[t].method, decision, parts=parts)
            persist = baselines.persistence(frame["prev_flux"].to_numpy(float), t, card.convention)
            rows = []
            for name, sel, clim, held_out in periods:
                if np.unique(group[sel]).size < 2:
                    continue  # a bootstrap over fewer than two days or regions has no interval
                kw = {"climatology": float(clim[t]), "n_boot": n_boot, "seed": seed}
                decided = (p[sel] >= thr[sel]).astype(float)
                probs = score_with_ci(y[sel], p[sel], group[sel], threshold=0.5, **kw)
                calls = score_with_ci(y[sel], decided, group[sel], threshold=0.5, **kw)
                raw = score_with_ci(y[sel], frame[f"p_raw[{t}]"].to_numpy(float)[sel], group[sel], threshold=0.5, **kw)
                base = score_with_ci(y[sel], persist[sel], group[sel], threshold=0.5, **kw)
                ens = {k: (probs if k in ("bss", "roc_auc") else calls)[k] for k in SCORES}
                ens["bss_raw"] = raw["bss"]
                thresholds = np.unique(thr[sel])
                rows.append({"period": name, "held_out": held_out, "n": int(sel.sum()), "positives": int(y[sel].sum()),
                             "threshold": float(thresholds[0]) if thresholds.size == 1 else None,
                             "ensemble": ens, "persistence": {k: base[k] for k in SCORES},
                             "beats_persistence": _beats(y[sel], p[sel], persist[sel], ens, base)})
            out[t] = rows
    result = {"model": str(model_dir), "model_id": model_id(model_dir), "threshold_rule": rule or card.threshold_rule,
              "calibration": {t: c.method for t, c in card.calibration.items()},
              "bootstrap": {"unit": "region (HARP)" if sharp else "UTC day", "n_boot": n_boot, "level": 0.95,
                            "seed": seed},
              "targets": out}
    if out_file is not None:
        write_json(out_file, result)
    return result


def read_oof(model_dir: str | Path, card: EnsembleCard) -> pd.DataFrame:
    """The ensemble's out-of-fold predictions (the card's ``cv.oof_file``), with every column scoring reads.

    Raises
    ------
    ModelError
        Naming the file: not a file name in the directory, absent, not a Parquet file (cut short, overwritten),
        or lacking a column.
    """
    model_dir = Path(model_dir)
    path = model_dir / card.cv.oof_file
    fix = "restore it from the training run, or train the ensemble again"
    if Path(card.cv.oof_file).name != card.cv.oof_file:
        raise ModelError(f"{model_dir}: the card's oof_file {card.cv.oof_file!r} is not a file name in the "
                         "directory; the card was edited: restore it or retrain")
    if not path.is_file():
        raise ModelError(f"{path}: the out-of-fold predictions that card.json names are missing; {fix}")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow's errors for a file that is not Parquet (ArrowInvalid, OSError, ...)
        why = " ".join(str(exc).split())[:200]
        raise ModelError(f"{path}: not a readable Parquet file ({type(exc).__name__}: {why}); {fix}") from None
    need = ["issue_time", "region", "fold", "prev_flux"] + [
        f"{c}[{t}]" for t in card.targets for c in ("y", "p_raw", "p_xfit", "threshold_xfit")] + (
        [f"{c}[{t}]" for t in card.targets for c in ("p_net", "p_linear")] if card.blend is not None else [])
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise ModelError(f"{path}: out-of-fold predictions without column(s) {missing}: not this ensemble's file; "
                         f"{fix}")
    return frame


def _beats(y: np.ndarray, p: np.ndarray, persist: np.ndarray, ens: dict, base: dict) -> dict[str, Any]:
    """Whether the ensemble's decisions beat persistence on TSS and HSS at the transferred threshold, and the
    grid thresholds (0.01 steps) at which they would have, in hindsight: ``{"at_threshold", "thresholds"}``,
    the latter as ``[[from, to], ...]`` runs of consecutive grid steps (empty: none)."""
    at = all(ens[s]["value"] > base[s]["value"] for s in ("tss", "hss"))
    grid = np.round(thresholds_beating(y, p, persist >= 0.5, scores=("tss", "hss")) * 100).astype(int)
    runs = np.split(grid, np.flatnonzero(np.diff(grid) > 1) + 1) if grid.size else []
    return {"at_threshold": bool(at), "thresholds": [[r[0] / 100, r[-1] / 100] for r in runs]}
