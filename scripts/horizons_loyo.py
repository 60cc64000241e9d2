"""Leave-one-year-out scores per class and forecast day from CV ensembles' out-of-fold files (issue 23).

    python scripts/horizons_loyo.py MODEL [MODEL ...] [--n-boot 1000] > table.md

Each MODEL is an ensemble directory trained with ``train.cv.by=year``. Scored on every held-out window, with the
probabilities and thresholds made from the *other* years only (the OOF file's ``p_xfit[T]`` and
``threshold_xfit[T]``), beside persistence (a flare of the class in the 24 h before issue, for every day) and
climatology (each year's forecast is the other years' event rate). Intervals: 95% bootstrap over UTC days.
Then, for the X targets: per held-out year, BSS and the hindsight-best HSS (the best threshold in 0.01 steps
found on that year itself); the largest calibrated probability; and the pooled OOF reliability (10 bins, with
the count of every bin), whose top bin says whether the evidence supports a probability of 0.3 or more.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from flarecast import classes, metrics
from flarecast.evaluate.bootstrap import score_with_ci

GRID = np.round(np.arange(0.01, 1.0, 0.01), 2)


def load(model: Path) -> tuple[dict, pd.DataFrame]:
    card = json.loads((model / "card.json").read_text())
    return card, pd.read_parquet(model / card["cv"]["oof_file"])


def ci(entry: dict, key: str) -> str:
    v, (lo, hi) = entry[key]["value"], entry[key]["ci"]
    return "n/a" if not np.isfinite(v) else f"{v:.2f} [{lo:.2f}, {hi:.2f}]"


def climatology(y: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Each window's climatology: the event rate of the other folds."""
    out = np.empty(y.size)
    for f in np.unique(fold):
        out[fold == f] = y[fold != f].mean()
    return out


def per_target(card: dict, oof: pd.DataFrame, n_boot: int) -> list[str]:
    rows = ["| target | windows | events | flarecast TSS | HSS | BSS | persistence TSS | HSS | BSS | climatology BSS |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    group = oof["issue_time"].to_numpy("datetime64[ns]").astype("datetime64[D]").astype(np.int64)
    fold = oof["fold"].to_numpy()
    for t in card["targets"]:
        y = oof[f"y[{t}]"].to_numpy(int)
        base = float(y.mean())
        persist = (classes.ordinal(oof["prev_flux"].to_numpy(float), card["config"]["samples"]["convention"])
                   >= classes.target_rank(t)).astype(float)
        clim = climatology(y, fold)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # The transferred threshold differs per year: score each window against its own (p >= thr <=> p - thr + 0.5 >= 0.5).
            shifted = np.clip(oof[f"p_xfit[{t}]"].to_numpy() - oof[f"threshold_xfit[{t}]"].to_numpy() + 0.5, 0, 1)
            m = score_with_ci(y, oof[f"p_xfit[{t}]"].to_numpy(), group, threshold=0.5, climatology=base, n_boot=n_boot)
            m_cat = score_with_ci(y, shifted, group, threshold=0.5, climatology=base, n_boot=n_boot)
            p = score_with_ci(y, persist, group, threshold=0.5, climatology=base, n_boot=n_boot)
            c = score_with_ci(y, clim, group, threshold=0.5, climatology=base, n_boot=n_boot)
        rows.append(f"| {t} | {y.size} | {y.sum()} | {ci(m_cat, 'tss')} | {ci(m_cat, 'hss')} | {ci(m, 'bss')} | "
                    f"{ci(p, 'tss')} | {ci(p, 'hss')} | {ci(p, 'bss')} | {ci(c, 'bss')} |")
    return rows


def best_hss(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """The largest HSS over thresholds 0.01..0.99 found on (y, p) itself, and its threshold."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = [metrics.hss(metrics.contingency(y, p >= thr)) for thr in GRID]
    scores = np.nan_to_num(np.asarray(scores, float), nan=-np.inf)
    k = int(np.argmax(scores))
    return float(scores[k]), float(GRID[k])


def x_years(name: str, card: dict, oof: pd.DataFrame) -> list[str]:
    rows = []
    fold = oof["fold"].to_numpy()
    for t in [t for t in card["targets"] if classes.split_target(t)[0] == "X"]:
        y = oof[f"y[{t}]"].to_numpy(int)
        p = oof[f"p_xfit[{t}]"].to_numpy()
        persist = (classes.ordinal(oof["prev_flux"].to_numpy(float), card["config"]["samples"]["convention"]) >= 3).astype(float)
        clim = climatology(y, fold)
        for f in sorted(np.unique(fold)):
            s = fold == f
            ref = np.float64(metrics.brier_score(y[s], clim[s]))
            with np.errstate(divide="ignore", invalid="ignore"):
                bss = 1 - metrics.brier_score(y[s], p[s]) / ref
                pbss = 1 - metrics.brier_score(y[s], persist[s]) / ref
            h, thr = best_hss(y[s], p[s])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ph = metrics.hss(metrics.contingency(y[s], persist[s] >= 0.5))
                prec = metrics.precision(metrics.contingency(y[s], persist[s] >= 0.5))
            rows.append(f"| {name} | {t} | {f} | {y[s].size} | {y[s].sum()} | {bss:.3f} | {h:.3f} (at {thr:.2f}) | "
                        f"{p[s].max():.3f} | {pbss:.3f} | {ph:.3f} | {prec:.2f} |")
    return rows


def x_reliability(name: str, card: dict, oof: pd.DataFrame) -> list[str]:
    rows = []
    for t in [t for t in card["targets"] if classes.split_target(t)[0] == "X"]:
        y = oof[f"y[{t}]"].to_numpy(int)
        for col in ("p_xfit",):
            p = oof[f"{col}[{t}]"].to_numpy()
            r = metrics.reliability(y, p, n_bins=10)
            bins = "; ".join(f"{a:.2f}->{b:.2f} (n={int(n)})" for a, b, n in
                             zip(r["prob_pred"], r["prob_true"], r["count"], strict=True))
            # The evidence for "likely": a bin of at least 20 windows whose OOF event rate is 0.3 or more.
            solid = [(a, b, int(n)) for a, b, n in zip(r["prob_pred"], r["prob_true"], r["count"], strict=True)
                     if n >= 20]
            top = solid[-1]
            supports = [x for x in solid if x[1] >= 0.3]
            hi = p >= 0.3
            rows.append(f"| {name} | {t} | {col} | {p.max():.3f} | {int(hi.sum())} | "
                        f"{(y[hi].mean() if hi.any() else float('nan')):.2f} | {bins} | "
                        f"{top[0]:.2f}->{top[1]:.2f} (n={top[2]}) | "
                        f"{'yes: ' + f'{supports[-1][0]:.2f}->{supports[-1][1]:.2f} (n={supports[-1][2]})' if supports else 'no'} |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args()
    loaded = [(m.name, *load(m)) for m in args.models]
    for name, card, oof in loaded:
        print(f"\n### {name}: {card['loss']}, head {card['config']['model'].get('head', 'independent')}, "
              f"calibration {sorted({c['method'] for c in card['calibration'].values()})}\n")
        print("\n".join(per_target(card, oof, args.n_boot)))
    print("\n### X per held-out year (transferred probabilities; HSS: best threshold found on the year itself)\n")
    print("| model | target | year | windows | events | BSS | hindsight-best HSS | max P | persistence BSS | "
          "persistence HSS | persistence precision |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, card, oof in loaded:
        print("\n".join(x_years(name, card, oof)))
    print("\n### X reliability, pooled OOF (10 bins: mean forecast -> observed rate, windows)\n")
    print("| model | target | probabilities | max | windows >= 0.3 | their event rate | bins | highest bin of >= 20 "
          "windows | a bin of >= 20 windows at rate >= 0.3 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, card, oof in loaded:
        print("\n".join(x_reliability(name, card, oof)))
    print("\n### Pooled OOF Brier score per target (cross-fitted calibration)\n")
    targets = sorted({t for _, card, _ in loaded for t in card["targets"]},
                     key=lambda t: (classes.split_target(t)[1], classes.target_rank(t)))
    print("| target | " + " | ".join(n for n, _, _ in loaded) + " |")
    print("|---|" + "---|" * len(loaded))
    for t in targets:
        cells = [f"{metrics.brier_score(oof[f'y[{t}]'].to_numpy(int), oof[f'p_xfit[{t}]'].to_numpy()):.5f}"
                 if f"y[{t}]" in oof else "" for _, _, oof in loaded]
        print(f"| {t} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
