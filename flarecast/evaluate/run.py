"""``flarecast compare`` as one library call: a config file (+ overrides) and a store in, the study's reports out.

The grids come as the command line writes them (``"none,0.25"``, ``"1,2"``, ``"odds"``) and are checked before
the samples are built; :func:`flarecast.evaluate.comparison.compare` does the work.
"""

from __future__ import annotations

from pathlib import Path

from flarecast.config import COMPARE_DEFAULTS, load_config
from flarecast.evaluate.comparison import CompareResult, compare, parse_alphas, parse_gammas, parse_pos_weight
from flarecast.progress import Progress
from flarecast.samples import samples_from_store


def run_compare(config: str | Path, overrides: list[str] | None = None, *, store: str | Path, out: str | Path,
                device: str | None = None, seeds: int = COMPARE_DEFAULTS["seeds"],
                alphas: str = COMPARE_DEFAULTS["alphas"], gammas: str = COMPARE_DEFAULTS["gammas"],
                balanced_alpha: float = COMPARE_DEFAULTS["balanced_alpha"],
                pos_weight: str = COMPARE_DEFAULTS["pos_weight"], workers: int | None = None, n_boot: int = 1000,
                progress: Progress | None = None) -> CompareResult:
    """Run the loss comparison that ``config`` (with dotted ``overrides``) describes on ``store`` into ``out``.

    ``device`` overrides ``train.device``; ``alphas``, ``gammas`` and ``pos_weight`` are parsed as the options of
    ``flarecast compare`` (:func:`~flarecast.evaluate.comparison.parse_alphas` and its siblings).
    """
    cfg = load_config(config, list(overrides or []) + ([f"train.device={device}"] if device else []))
    grid_a, grid_g, pw = parse_alphas(alphas), parse_gammas(gammas), parse_pos_weight(pos_weight)
    return compare(cfg, samples_from_store(store, cfg.samples), out, seeds=seeds, alphas=grid_a, gammas=grid_g,
                   balanced_alpha=balanced_alpha, pos_weight=pw, workers=workers, n_boot=n_boot, progress=progress,
                   store=str(store))
