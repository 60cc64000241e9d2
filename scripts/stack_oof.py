"""Exploration, not part of flarecast: would averaging a CV ensemble with logistic regression help on unseen periods?

For a CV ensemble directory (``flarecast train`` with ``train.cv``) and the config and overrides it was trained
with, this fits logistic regression on window statistics per fold (on the fold's training windows, as ``flarecast
compare --cv`` does), and for each held-out period forecasts ``w * ensemble + (1 - w) * logistic``, with the weight
``w`` (0, 0.25, ..., 1), the calibration method and the threshold all chosen on the *other* folds' OOF predictions
(weight and calibration by Brier score, threshold by ``--rule``). It prints one Markdown row per target and period
beside persistence. See docs/decisions.md, "What else was tried".

    python scripts/stack_oof.py models/goes-loyo-s3 configs/real-goes-hourly.yaml --store data/goes-hourly.zarr \
        --rule hss train.cv.by=year "train.cv.pool=[train,val,test]"
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

from flarecast import metrics
from flarecast.config import load_config
from flarecast.evaluate import baselines
from flarecast.metrics import POOLED_OOF, ThresholdRule
from flarecast.model.ensemble import apply_calibration
from flarecast.model.modeldir import read_card
from flarecast.samples.build import samples_from_store
from flarecast.studies.compare_cv import tabular_oof
from flarecast.train.calibration import choose_calibration, fit_calibration
from flarecast.train.cv import make_folds

WEIGHTS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model"), ap.add_argument("config"), ap.add_argument("overrides", nargs="*")
    ap.add_argument("--store", required=True), ap.add_argument("--rule", default="hss")
    a = ap.parse_intermixed_args()
    samples = samples_from_store(a.store, load_config(a.config, a.overrides).samples)
    folds = make_folds(samples, load_config(a.config, a.overrides).train.cv)
    oof = np.sort(np.concatenate([f.indices("test") for f in folds]))
    fold = np.empty(oof.size, int)
    for i, f in enumerate(folds):
        fold[np.searchsorted(oof, f.indices("test"))] = i
    frame = pd.read_parquet(f"{a.model}/{read_card(a.model).cv.oof_file}")
    if len(frame) != oof.size or frame["fold"].tolist() != [folds[i].name for i in fold]:
        raise SystemExit(f"{a.model}: its OOF windows are not the folds of this config and these overrides")
    logistic = tabular_oof(samples, folds, oof)["logistic"]
    print("| target | period | w | TSS | HSS | BSS | persistence TSS | persistence HSS | beats on both |")
    print("|---|---|---|---|---|---|---|---|---|")
    warnings.simplefilter("ignore", metrics.UndefinedScoreWarning)
    for j, t in enumerate(samples.targets):
        y, cnn, lg = samples.y[oof, j].astype(float), frame[f"p_raw[{t}]"].to_numpy(), logistic[:, j]
        persist = baselines.persistence(samples.prev_flux[oof], t, samples.config.convention) >= 0.5
        p, thr, clim, ws = np.empty(oof.size), np.empty(oof.size), np.empty(oof.size), {}
        for i in range(len(folds)):
            me, other = fold == i, fold != i
            w = ws[i] = WEIGHTS[np.argmin([metrics.brier_score(y[other], w * cnn[other] + (1 - w) * lg[other])
                                           for w in WEIGHTS])]
            blend = w * cnn + (1 - w) * lg
            method = choose_calibration(y[other], blend[other], fold[other], "auto")[0]["method"]
            cal = fit_calibration(y[other], blend[other], method)
            p[me] = apply_calibration(blend[me], cal)
            thr[me] = ThresholdRule.parse(a.rule, chosen_on=POOLED_OOF).choose(
                y[other], apply_calibration(blend[other], cal), base_rate=float(y[other].mean()))
            clim[me] = y[other].mean()
        for i, name in [*enumerate(f.name for f in folds), (None, "pooled")]:
            sel = fold == i if i is not None else np.ones(oof.size, bool)
            c, cp = metrics.contingency(y[sel], p[sel] >= thr[sel]), metrics.contingency(y[sel], persist[sel])
            bss = 1 - metrics.brier_score(y[sel], p[sel]) / np.mean((y[sel] - clim[sel]) ** 2)
            beats = metrics.tss(c) > metrics.tss(cp) and metrics.hss(c) > metrics.hss(cp)
            print(f"| {t} | {name} | {ws[i] if i is not None else 'per fold'} | {metrics.tss(c):.3f} | "
                  f"{metrics.hss(c):.3f} | {bss:+.3f} | {metrics.tss(cp):.3f} | {metrics.hss(cp):.3f} | "
                  f"{'yes' if beats else 'no'} |")


if __name__ == "__main__":
    main()
