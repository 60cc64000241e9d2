"""Where a batch job may write: inside its root, and over no file it did not write itself (see ``jobs.batch``).

A file is the job's own when the log recorded its fingerprint after the step that wrote it, or when the log
recorded, before a step ran, that the step was about to write that path (``writing``: the paths and when the
step began) and the step never finished: a run killed in the step left it, whole (every writer replaces a file
in one rename) but unrecorded. Such a file counts as the job's only if it was modified after the step began
(:data:`CLOCK_SLACK_NS` earlier at most, for file systems that keep coarse times): a file that was there before
the step, or one copied in later with its old time kept, is still refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flarecast.errors import ConfigError, ParseError
from flarecast.safeio import load_json
from flarecast.util import sha256_file

CLOCK_SLACK_NS = 2_000_000_000
"""How much older than the step's start a file it wrote may look: file systems that keep times to the second
(ext3, HFS+) or two (FAT) round them down."""


@dataclass
class Owned:
    """What an earlier run of this job wrote for one step: outputs it may overwrite without ``--force``.

    ``writing``: the log's record of an unfinished run of the step (``since_ns``, ``paths``), if any;
    ``will_write``: called with each path the step is about to write whose name is known only as it runs (a
    forecast's ``{issue}``), so that the log records it before the file exists.
    """

    step: str
    outputs: dict[str, Any]
    force: bool
    writing: dict[str, Any] = field(default_factory=dict)
    will_write: Callable[[Path], None] = lambda path: None

    def claim(self, path: Path, sha: str | None, fingerprint: Callable[[Path], str | None] | None = None) -> None:
        """Refuse to overwrite ``path`` unless it is absent, is what the log recorded (``sha``: its
        ``fingerprint``, by default its sha256), was left by an unfinished run of this step, or ``force``."""
        if self.force or not path.exists() or self.left_unfinished(path):
            return
        if not path.is_file() or (fingerprint or file_sha)(path) != sha:
            raise ConfigError(f"step {self.step!r}: {path} exists and was not written by an earlier run of this "
                              "job; nothing was changed: pass --force to overwrite it, or choose another out")

    def left_unfinished(self, path: Path) -> bool:
        """Whether ``path`` is a file an unfinished run of this step wrote: the log named it before the step
        ran, and it was modified after the step began."""
        paths = self.writing.get("paths") if isinstance(self.writing, dict) else None
        try:
            return (isinstance(paths, list) and os.path.abspath(path) in paths and path.is_file()
                    and path.stat().st_mtime_ns >= int(self.writing["since_ns"]) - CLOCK_SLACK_NS)
        except (OSError, KeyError, TypeError, ValueError, AttributeError):
            return False


def known_outputs(step, base: Path) -> list[tuple[Path, str, Callable[[Path], str | None]]]:
    """The output files a step (:mod:`~flarecast.jobs.jobfile`) will write whose paths do not depend on the
    data, with their log keys and the fingerprint the log records (the file's sha256, or what a card says)."""
    if step.run == "train":
        # A single model's weights; an ensemble has none of its own, and its card records its members' digest.
        # Either way the log holds the model's weights_sha256, which the card records too.
        out = resolve(base, step.out)
        return [(out / "weights.safetensors", "weights_sha256", file_sha), (out / "card.json", "weights_sha256",
                                                                             card_weights)]
    if step.run == "compare":
        name = "comparison-cv.json" if step.cv else "comparison.json"
        return [(resolve(base, step.out) / name, name, file_sha)]
    if step.run == "evaluate":
        return [(resolve(base, step.out or step.model) / "metrics.json", "metrics.json", file_sha)]
    if step.run == "dashboard":
        return [(resolve(base, step.out) / "index.html", "index.html", file_sha)]
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


def card_weights(path: Path) -> str | None:
    """The ``weights_sha256`` a model card (``card.json``) records, or None."""
    try:
        doc = load_json(path)
    except (OSError, ParseError):
        return None
    return doc.get("weights_sha256") if isinstance(doc, dict) else None
