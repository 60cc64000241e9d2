"""Where a batch job may write: inside its root, and over no file it did not write itself (see ``jobs.batch``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flarecast.errors import ConfigError
from flarecast.util import sha256_file


@dataclass
class Owned:
    """What an earlier run of this job wrote for one step: outputs it may overwrite without ``--force``."""

    step: str
    outputs: dict[str, Any]
    force: bool

    def claim(self, path: Path, sha: str | None) -> None:
        """Refuse to overwrite ``path`` unless it is absent, is what the log recorded (``sha``), or ``force``."""
        if self.force or not path.exists():
            return
        if not path.is_file() or file_sha(path) != sha:
            raise ConfigError(f"step {self.step!r}: {path} exists and was not written by an earlier run of this "
                              "job; nothing was changed: pass --force to overwrite it, or choose another out")


def known_outputs(step, base: Path) -> list[tuple[Path, str]]:
    """The output files a step (:mod:`~flarecast.jobs.jobfile`) will write whose paths do not depend on the
    data, with their log keys."""
    if step.run == "train":
        return [(resolve(base, step.out) / "weights.safetensors", "weights_sha256")]
    if step.run == "compare":
        return [(resolve(base, step.out) / "comparison.json", "comparison.json")]
    if step.run == "evaluate":
        return [(resolve(base, step.out or step.model) / "metrics.json", "metrics.json")]
    if step.run == "dashboard":
        return [(resolve(base, step.out) / "index.html", "index.html")]
    return []


def inside(base: Path, p: str | Path, what: str) -> Path:
    """``p`` from the job's root, refused when it resolves outside the root (``..``, absolute, symbolic links)."""
    path = resolve(base, p)
    root, real = base.resolve(), path.resolve()
    if not real.is_relative_to(root):
        raise ConfigError(f"{what} {str(p)!r} resolves to {real}, outside the job's root {root}; a batch job writes "
                          "only inside --root: use a path under it")
    return path


def resolve(base: Path, p: str | Path) -> Path:
    """``p`` from the job's root (an absolute ``p`` as it is)."""
    p = Path(p)
    return p if p.is_absolute() else base / p


def file_sha(path: Path) -> str | None:
    return sha256_file(path) if path.is_file() else None
