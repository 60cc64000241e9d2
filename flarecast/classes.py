"""GOES flare classes, peak fluxes and the two flux bases (the only module that knows them).

A class letter is a decade of the 1-8 Angstrom (XRS-B) peak flux in W m^-2 and the number after it is the
multiplier: ``X9.3`` is 9.3e-4, ``M1`` is 1e-5, ``X28+`` (saturated detector) is at least 2.8e-3.
NGDC's fixed-width reports write the multiplier as digits with an implied decimal point: ``C 21`` is
C2.1 and ``X280`` is X28.0 (see the 2003-11-04 flare in ``goes-xrs-report_2003.txt``).

Flux bases. GOES-8..15 operational products and the NOAA catalogues made from them report fluxes scaled
by SWPC factors: reported = true x 0.7 for XRS-B and x 0.85 for XRS-A (Machol et al. 2020, "GOES-R
XRS L2 data user guide"; NOAA NCEI notice of 2020). GOES-R (16+) L2 and the reprocessed GOES-13..15
science products are true irradiance. flarecast stores true irradiance; the class *convention* used to
label windows (``swpc`` or ``true``) decides which basis the C/M/X thresholds apply to.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np

from flarecast.errors import FlareClassError

LETTER_FLUX = {"A": 1e-8, "B": 1e-7, "C": 1e-6, "M": 1e-5, "X": 1e-4}
"""Lower edge of each class decade in W m^-2 (XRS-B, 1-8 Angstrom)."""

SWPC_SCALE = {"xrsa": 0.85, "xrsb": 0.7}
"""reported (SWPC-scaled) flux = true flux x factor, per channel."""

BASES = ("true", "swpc")
CONVENTIONS = BASES

ORDINAL_NAMES = ("quiet", "C", "M", "X")
"""Ordinal labels 0..3: quiet (< C), C, M, X."""

TARGET_THRESHOLDS = {">=C": LETTER_FLUX["C"], ">=M": LETTER_FLUX["M"], "X": LETTER_FLUX["X"]}
"""Binary targets and their lower flux bound on the class convention's basis."""

TARGET_RANK = {">=C": 1, ">=M": 2, "X": 3}
"""Binary target -> the lowest ordinal label it counts as positive."""


DAY_MARK = "@d"
"""A target of one forecast day is the class and the day: ``"X@d2"`` is "at least one X flare on day 2"."""


def day_target(target: str, day: int) -> str:
    """The name of ``target`` on forecast day ``day`` (1-based): ``day_target(">=M", 2) == ">=M@d2"``."""
    return f"{target}{DAY_MARK}{int(day)}"


def split_target(name: str) -> tuple[str, int]:
    """The class and the forecast day of a target name; day 0 for a target of the one ``horizon``.

    >>> split_target("X@d2"), split_target(">=M")
    (('X', 2), ('>=M', 0))
    """
    cls, mark, day = str(name).partition(DAY_MARK)
    if cls not in TARGET_RANK or (mark and not (day.isdigit() and int(day) >= 1)):
        raise FlareClassError(f"target {name!r}: expected one of {list(TARGET_RANK)}, optionally with a forecast "
                              "day such as 'X@d2'")
    return cls, int(day) if mark else 0


def target_rank(name: str) -> int:
    """The lowest ordinal label the target ``name`` (any day) counts as positive: 1 for ``>=C@d3``."""
    return TARGET_RANK[split_target(name)[0]]


def nested(targets) -> list[list[int]]:
    """The column indices of ``targets`` grouped by forecast day, each group in class order (C, M, X): the
    chains along which ``P(X) <= P(>=M) <= P(>=C)`` must hold.

    >>> nested([">=M@d1", "X@d1", ">=M@d2", "X@d2"])
    [[0, 1], [2, 3]]
    """
    days: dict[int, list[tuple[int, int]]] = {}
    for j, t in enumerate(targets):
        cls, day = split_target(t)
        days.setdefault(day, []).append((TARGET_RANK[cls], j))
    return [[j for _, j in sorted(group)] for _, group in sorted(days.items())]


def coherent(probs: np.ndarray, targets) -> tuple[np.ndarray, int]:
    """Probabilities ``[n, targets]`` of nested classes made coherent, ``P(X) <= P(>=M) <= P(>=C)``: each
    target's lowered to the next lower class's of the same forecast day where it is above it (separate heads need
    not be ordered; a cumulative head is, see :mod:`flarecast.model.network`); and the number of values lowered. What ``evaluate`` scores and ``forecast`` issues
    (:mod:`flarecast.forecast.numbers`).

    >>> coherent(np.array([[0.5, 0.3, 0.4]]), [">=C", ">=M", "X"])
    (array([[0.5, 0.3, 0.3]]), 1)
    """
    out = np.array(probs, copy=True)
    lowered = 0
    for chain in nested(targets):  # each forecast day on its own: day 2's X may exceed day 1's
        for lo, hi in itertools.pairwise(chain):
            above = out[:, hi] > out[:, lo]
            lowered += int(above.sum())
            out[above, hi] = out[above, lo]
    return out, lowered

_CLASS_RE = re.compile(r"^\s*([ABCMX])\s*(\d+(?:\.\d*)?)?\s*(\+)?\s*$", re.IGNORECASE)


def parse_class(text: str, *, implied_decimal: bool = False) -> float:
    """Return the peak flux (W m^-2) a GOES class string stands for, on the string's own basis.

    Parameters
    ----------
    text : str
        ``"X9.3"``, ``"M1"``, ``"X28+"``, ``"C 21"``; a bare letter means multiplier 1.
    implied_decimal : bool, keyword-only
        NGDC report convention: the digits carry one implied decimal (``"C 21"`` -> C2.1, ``"X280"`` -> X28.0).

    Examples
    --------
    >>> parse_class("X9.3")
    0.00093
    >>> parse_class("C 21", implied_decimal=True)
    2.1e-06
    """
    if not isinstance(text, str):
        raise FlareClassError(f"flare class {text!r}: expected a string such as 'M1.5'")
    m = _CLASS_RE.match(text)
    if m is None:
        raise FlareClassError(
            f"flare class {text!r} is not a GOES class: expected a letter A, B, C, M or X and a "
            "multiplier, such as 'M1.5', 'X28+' or NGDC's 'C 21'"
        )
    letter, digits, _ = m.groups()
    if digits is None:
        mult = 1.0
    elif implied_decimal and "." not in digits:
        mult = int(digits) / 10.0
    else:
        mult = float(digits)
    if not mult > 0:
        raise FlareClassError(f"flare class {text!r} has multiplier {mult}: expected a positive number")
    return float(f"{mult * LETTER_FLUX[letter.upper()]:.6g}")


def format_class(flux: float) -> str:
    """Return the class string of a peak flux, one decimal in the multiplier: 9.3e-4 -> ``"X9.3"``.

    Fluxes of X10 and above keep the X letter (``"X28.0"``), as NOAA writes them.
    """
    if not (isinstance(flux, int | float | np.floating) and math.isfinite(flux) and flux > 0):
        raise FlareClassError(f"flux {flux!r} W m^-2: expected a finite positive number")
    for letter in ("X", "M", "C", "B", "A"):
        if flux >= LETTER_FLUX[letter] * (1 - 1e-9) or letter == "A":
            mult = math.floor(flux / LETTER_FLUX[letter] * 10 + 1e-6) / 10
            return f"{letter}{mult:.1f}"
    raise AssertionError("unreachable")


def to_true(flux, channel: str, basis: str):
    """Convert flux on ``basis`` (``"true"`` or ``"swpc"``) to true irradiance for ``channel`` (xrsa|xrsb)."""
    _check_choice("basis", basis, BASES)
    _check_choice("channel", channel, tuple(SWPC_SCALE))
    return flux if basis == "true" else np.divide(flux, SWPC_SCALE[channel])


def from_true(flux, channel: str, basis: str):
    """Convert true irradiance to ``basis`` for ``channel``: the inverse of :func:`to_true`."""
    _check_choice("basis", basis, BASES)
    _check_choice("channel", channel, tuple(SWPC_SCALE))
    return flux if basis == "true" else np.multiply(flux, SWPC_SCALE[channel])


def ordinal(true_flux, convention: str = "true") -> np.ndarray:
    """Ordinal class of XRS-B peak fluxes given on the true basis: 0 quiet (< C), 1 C, 2 M, 3 X.

    ``convention`` decides on which basis the class thresholds apply. NaN (no flare) is quiet.
    """
    f = np.nan_to_num(np.asarray(from_true(np.asarray(true_flux, dtype=float), "xrsb", convention)), nan=0.0)
    edges = np.array([LETTER_FLUX["C"], LETTER_FLUX["M"], LETTER_FLUX["X"]]) * (1 - 1e-9)
    return np.searchsorted(edges, f, side="right").astype(np.int8)


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise FlareClassError(f"{name} {value!r} is not one of {list(allowed)}")
