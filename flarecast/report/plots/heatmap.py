"""The comparison's alpha x gamma grid of seed-mean scores, each cell annotated mean ± std."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from flarecast.report.plots.style import save_figure


def draw_heatmap(data: dict[str, Any], path: str | Path, *, title: str = "", dpi: int = 100) -> Path:
    """Alpha x gamma grid of seed-mean scores (:func:`flarecast.report.compare.heatmap`), each cell annotated mean ± std."""
    mean = np.asarray(data["mean"], dtype=float)
    std = np.asarray(data["std"], dtype=float)
    fig = Figure(figsize=(1.2 * mean.shape[1] + 2.5, 0.8 * mean.shape[0] + 1.8), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(mean), cmap="viridis", aspect="auto")
    fig.colorbar(image, ax=ax, label=f"test {data['score'].upper()} (CE: {data['ce']:.2f})")
    for i in range(mean.shape[0]):
        for j in range(mean.shape[1]):
            text = "n/a" if not np.isfinite(mean[i, j]) else f"{mean[i, j]:.2f}" + (
                f"\n±{std[i, j]:.2f}" if np.isfinite(std[i, j]) else "")
            bright = np.isfinite(mean[i, j]) and image.norm(mean[i, j]) > 0.6  # viridis turns yellow: dark text
            ax.text(j, i, text, ha="center", va="center", color="k" if bright else "w", fontsize="small")
    ax.set_xticks(range(mean.shape[1]), [f"{g:g}" for g in data["gammas"]])
    ax.set_yticks(range(mean.shape[0]), ["none" if a is None else f"{a:g}" for a in data["alphas"]])
    ax.set(xlabel="gamma", ylabel="alpha", title=title)
    save_figure(fig, path, dpi=dpi)
    return Path(path)
