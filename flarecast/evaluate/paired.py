"""Forecasts of the same windows scored on the same bootstrap resamples, their paired differences, and the
pre-declared focal-vs-CE verdict of ``flarecast compare --cv``.

Every forecast of a set of windows is scored with one bootstrap seed over the same groups (UTC days or
regions), so replicate r of every forecast is the same resample of the windows
(:func:`flarecast.evaluate.bootstrap.bootstrap_replicates`). The difference of two forecasts' scores is then
taken resample by resample, and its 95% percentile interval is the interval of the *paired* difference: the
day-to-day luck that both forecasts share cancels out of it.

The verdict is declared before any period is scored: the focal setting quoted against CE is
:data:`QUOTED` (alpha 0.25, gamma 2, the case study's and Lin et al.'s default), and "focal beats CE" on a
score only when the 95% interval of the paired difference (pooled over the held-out periods) lies above 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from flarecast import metrics
from flarecast.evaluate.bootstrap import bootstrap_replicates, replicate_interval

SCORES = ("recall", "hss", "tss", "far", "bss")
"""Scores of each method, period and target: the decision's (at the transferred threshold) and BSS."""
DECISION = ("recall", "hss", "tss", "far")
QUOTED = (0.25, 2.0)
"""(alpha, gamma) of the focal setting the verdict quotes against CE, declared before anything is scored."""
QUOTED_WHY = "the case study's setting and the default of Lin et al. (2017), declared before any period was scored"
VERDICT_SCORES = ("recall", "hss")
CLAIMS = {"X": {"recall": (0.50, 0.68), "hss": (0.45, 0.60)}}
"""The case study's claims for focal loss against CE (CE -> focal), quoted beside the verdict."""
REFERENCE = "CE"


@dataclass(frozen=True)
class Scored:
    """One forecast's scores on some windows (``entry``, JSON) and their bootstrap replicates per score."""

    entry: dict[str, Any]
    reps: dict[str, np.ndarray]


def score_decisions(y, p, threshold, groups, *, climatology: float, n_boot: int, seed: int = 0) -> Scored:
    """Decision scores of ``p >= threshold`` (one threshold, or one per window) and the BSS of ``p``.

    Intervals are 95% percentile intervals over ``n_boot`` resamples of whole ``groups``; with the same
    ``seed``, groups and ``n_boot`` every call draws the same resamples, so :func:`paired` can subtract the
    replicates of two calls.

    Returns
    -------
    Scored
        ``entry``: ``n``, ``positives``, ``threshold`` (None when it differs between windows), ``tp``, ``fp``,
        ``fn``, ``tn`` and ``{"value", "ci"}`` for every score of :data:`SCORES`.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    thr = np.broadcast_to(np.asarray(threshold, dtype=np.float64), p.shape)
    decided = (p >= thr).astype(np.float64)
    table = metrics.score_table(y, decided, threshold=0.5, climatology=climatology)
    kw = {"climatology": climatology, "n_boot": n_boot, "seed": seed}
    reps = bootstrap_replicates(y, decided, groups, threshold=0.5, metrics=DECISION, **kw)
    reps["bss"] = bootstrap_replicates(y, p, groups, threshold=0.5, metrics=("bss",), **kw)["bss"]
    values = {k: table[k] for k in DECISION}
    values["bss"] = metrics.bss(y, p, climatology=climatology)
    distinct = np.unique(thr)
    entry: dict[str, Any] = {"n": int(y.size), "positives": int(y.sum()),
                             "threshold": float(distinct[0]) if distinct.size == 1 else None,
                             **{k: int(table[k]) for k in ("tp", "fp", "fn", "tn")}}
    entry.update({k: {"value": float(values[k]), "ci": list(replicate_interval(k, reps[k]))} for k in SCORES})
    return Scored(entry, reps)


def paired(a: Scored, b: Scored, scores=SCORES) -> dict[str, dict[str, Any]]:
    """``a - b`` per score: the difference of the values and the interval of the replicate-by-replicate
    differences (both scored on the same resamples by :func:`score_decisions`)."""
    return {k: {"value": float(a.entry[k]["value"] - b.entry[k]["value"]),
                "ci": list(replicate_interval(k, a.reps[k] - b.reps[k]))} for k in scores}


def outcome(ci) -> bool | None:
    """True when the paired interval lies above 0, False when it does not, None when it is undefined."""
    lo, hi = ci
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    return bool(lo > 0)


def quoted_name(methods: dict[str, dict[str, Any]]) -> str | None:
    """The name of the :data:`QUOTED` focal setting among ``methods`` (the comparison's), or None."""
    for name, m in methods.items():
        if m.get("kind") == "focal" and m.get("alpha") == QUOTED[0] and m.get("gamma") == QUOTED[1]:
            return name
    return None


def verdict(methods: dict[str, dict[str, Any]], block: dict[str, Any], target: str, *,
            period: str = "pooled") -> dict[str, Any]:
    """Does the :data:`QUOTED` focal setting beat CE on ``target``'s recall and HSS over ``period``? Every
    other focal setting is listed with its own paired differences. One plain sentence, and its numbers.

    ``methods``: name -> ``kind``, ``alpha``, ``gamma``; ``block``: the target's scores,
    ``scores[method][period][score]["value"]`` and ``paired[method][period][score]`` = ``{"value", "ci"}``
    (the method minus CE).
    """
    focal = [n for n, m in methods.items() if m.get("kind") == "focal"]
    name = quoted_name(methods)
    others = {n: _against_ce(block, n, period) for n in focal if n != name}
    out: dict[str, Any] = {"target": target, "period": period, "focal": name, "why": QUOTED_WHY,
                           "reference": REFERENCE, "scores": {}, "others": others,
                           "others_beating": sorted(n for n, o in others.items() if any(
                               s["beats"] for s in o.values()))}
    if name is None:
        out["beats"] = None
        out["sentence"] = (f"{target}: the pre-declared focal setting (alpha {QUOTED[0]:g}, gamma {QUOTED[1]:g}) "
                           "was not in the grid, so no verdict is stated.")
        return out
    out["scores"] = _against_ce(block, name, period)
    out["beats"] = {k: s["beats"] for k, s in out["scores"].items()}
    parts = [_clause(k, s) for k, s in out["scores"].items()]
    where = "pooled over the held-out periods" if period == "pooled" else f"held-out period {period}"
    sentence = f"{target} ({where}): {name} against CE: " + "; ".join(parts) + "."
    if out["others_beating"]:
        sentence += " Other focal settings whose interval lies above 0 on recall or HSS: " + ", ".join(
            out["others_beating"]) + "."
    else:
        sentence += " No other focal setting of the grid beats CE on recall or HSS either."
    claim = CLAIMS.get(target)
    if claim:
        sentence += " (The case study claimed " + ", ".join(
            f"{k if k == 'recall' else k.upper()} {a:.2f} -> {b:.2f}" for k, (a, b) in claim.items()) + ".)"
    out["sentence"] = sentence
    return out


def _against_ce(block: dict[str, Any], name: str, period: str) -> dict[str, dict[str, Any]]:
    out = {}
    for k in VERDICT_SCORES:
        d = block["paired"][name][period][k]
        out[k] = {"focal": block["scores"][name][period][k]["value"],
                  "ce": block["scores"][REFERENCE][period][k]["value"],
                  "difference": d["value"], "ci": d["ci"], "beats": outcome(d["ci"])}
    return out


def _clause(score: str, s: dict[str, Any]) -> str:
    label = score if score == "recall" else score.upper()
    lo, hi = s["ci"]
    numbers = (f"{label} {_num(s['focal'])} vs {_num(s['ce'])}, difference {_num(s['difference'], True)} "
               f"[{_num(lo, True)}, {_num(hi, True)}]")
    if s["beats"] is None:
        return f"{numbers}: undefined, no verdict"
    if s["beats"]:
        return f"{numbers}: focal beats CE"
    if hi < 0:
        return f"{numbers}: CE beats focal"
    return f"{numbers}: not shown to beat CE (the interval includes 0)"


def _num(v: float, signed: bool = False) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    return f"{v:+.2f}" if signed else f"{v:.2f}"
