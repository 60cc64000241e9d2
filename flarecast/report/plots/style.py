"""What every figure shares: the colour of each method, the file-name form of a target, the methods drawn as
curves, the panel shown when a target has one class only, and the whole-or-absent PNG save."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from flarecast.util import atomic_path

if TYPE_CHECKING:  # a type only: reports sit below evaluation and never call it
    from flarecast.metrics.forecasts import Forecasts

CURVE_METHODS = ("model", "logistic", "trees")
"""Methods with a probability per window worth a curve; persistence is one operating point, climatology none."""

COLORS = {"model": "C0", "CE": "C0", "logistic": "C1", "trees": "C4", "persistence": "C2", "climatology": "0.5"}


def color(method: str) -> str:
    """A method's colour: fixed for the usual ones, "C3" onwards for others (focal settings) in name order."""
    return COLORS.get(method) or f"C{4 + sum(map(ord, method)) % 6}"


def slug(target: str) -> str:
    """File-name form of a target: ``>=M`` -> ``ge_M``."""
    return target.replace(">=", "ge_")


def both_classes(y: np.ndarray) -> bool:
    return 0 < int(y.sum()) < y.size


def curve_probs(fc: Forecasts, target: str) -> dict[str, np.ndarray]:
    """The probabilities of the methods of :data:`CURVE_METHODS` that ``fc`` holds, for ``target``."""
    return {m: fc.prob(m, target) for m in CURVE_METHODS if m in fc.probs}


def no_data(ax, target: str) -> None:
    ax.text(0.5, 0.5, f"{target}: the evaluated windows hold one class only", ha="center", va="center")


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 100) -> None:
    """Save ``fig`` as a PNG beside ``path`` and rename it there: a report never links half a picture."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
