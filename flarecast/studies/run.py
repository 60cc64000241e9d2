"""``flarecast compare`` (and ``compare --cv``) as one library call: a config file (+ overrides) and a store in,
the study's reports out.

The grids come as the command line writes them (``"none,0.25"``, ``"1,2"``, ``"odds"``) and are checked before
the samples are built; :func:`flarecast.studies.comparison.compare` (or, with ``cv``,
:func:`flarecast.studies.compare_cv.compare_cv`) does the work.
"""

from __future__ import annotations

from pathlib import Path

from flarecast.config import COMPARE_CV_GAMMAS, COMPARE_DEFAULTS, load_config
from flarecast.errors import ConfigError
from flarecast.progress import Progress
from flarecast.samples import samples_from_store
from flarecast.studies.comparison import CompareResult, compare, parse_alphas, parse_gammas, parse_pos_weight


def run_compare(config: str | Path, overrides: list[str] | None = None, *, store: str | Path, out: str | Path,
                device: str | None = None, seeds: int | None = None, alphas: str = COMPARE_DEFAULTS["alphas"],
                gammas: str | None = None, balanced_alpha: float = COMPARE_DEFAULTS["balanced_alpha"],
                pos_weight: str = COMPARE_DEFAULTS["pos_weight"], workers: int | None = None, cv: bool = False,
                rule: str | None = None, n_boot: int = 1000, progress: Progress | None = None) -> CompareResult:
    """Run the loss comparison that ``config`` (with dotted ``overrides``) describes on ``store`` into ``out``.

    ``device`` overrides ``train.device``; ``alphas``, ``gammas`` and ``pos_weight`` are parsed as the options of
    ``flarecast compare`` (:func:`~flarecast.studies.comparison.parse_alphas` and its siblings). With ``cv`` the
    study of cross-validated ensembles (:func:`~flarecast.studies.compare_cv.compare_cv`, thresholds by ``rule``);
    ``seeds`` and ``gammas`` left None take each study's defaults.
    """
    if rule is not None and not cv:
        raise ConfigError(f"--rule {rule}: it chooses the thresholds of --cv's out-of-fold decisions; add --cv, or "
                          "drop --rule (without --cv every run's threshold is chosen on validation)")
    cfg = load_config(config, list(overrides or []) + ([f"train.device={device}"] if device else []))
    grid_a, pw = parse_alphas(alphas), parse_pos_weight(pos_weight)
    grid_g = parse_gammas(gammas or (COMPARE_CV_GAMMAS if cv else COMPARE_DEFAULTS["gammas"]))
    samples = samples_from_store(store, cfg.samples)
    grid = {"alphas": grid_a, "gammas": grid_g, "balanced_alpha": balanced_alpha, "pos_weight": pw,
            "workers": workers, "n_boot": n_boot, "progress": progress, "store": str(store)}
    if cv:
        from flarecast.studies.compare_cv import compare_cv

        return compare_cv(cfg, samples, out, seeds=seeds, rule=rule, **grid)
    return compare(cfg, samples, out, seeds=COMPARE_DEFAULTS["seeds"] if seeds is None else seeds, **grid)
