"""Mutants of the text readers' seed files (bit flips, truncations) and the check each must pass.

A mutant is read with :func:`flarecast.ingest.readers.read_file`. It must either be refused with an
``InputFileError`` (a FlarecastError: one line at the command line) or be read; any other exception is a
traceback. A truncated file that is read must hold only rows of the intact file (no partial row: a row cut
short stored as data); a bit flip may change a value into another valid one, which no reader can know, so
those are counted apart as "rows changed".
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from flarecast.errors import FlarecastError
from flarecast.ingest.readers import read_file

SEEDS = Path(__file__).parent / "corpus" / "seeds"


def seed_files() -> list[tuple[str, str, Path]]:
    """(kind, reader, seed file) for every text reader."""
    return [(kind.name, reader.name, f) for kind in sorted(SEEDS.iterdir()) for reader in sorted(kind.iterdir())
            for f in sorted(reader.iterdir())]


def truncate(data: bytes, at: int) -> bytes:
    return data[: max(1, min(at, len(data) - 1))]


def flip(data: bytes, at: int, bit: int) -> bytes:
    out = bytearray(data)
    out[at % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


ONE_LINE_COLUMNS = {"goes-flsum-csv": ["peak", "goes_class", "peak_flux", "noaa_ar", "class_basis"]}
"""Readers whose rows gather several lines: only the columns read from one line (the GOES-R summary's peak line)
are compared; a cut that drops an event's END line leaves the event without an end, which is not a partial row."""


def rows(frame: pd.DataFrame, reader: str = "") -> set[str]:
    """Each row as one string (NaN and NaT as text, times to the microsecond), so rows compare whatever their dtypes."""
    frame = frame[ONE_LINE_COLUMNS[reader]] if reader in ONE_LINE_COLUMNS else frame
    return set(frame.to_csv(index=False, header=False, date_format="%Y-%m-%dT%H:%M:%S.%f").splitlines())


@dataclass
class Outcome:
    refused: int = 0
    read: int = 0
    tracebacks: list[str] = field(default_factory=list)
    partial_rows: int = 0
    rows_changed: int = 0


def basis_of(reader: str) -> str | None:
    """The ``basis`` option a seed needs: only plain GOES CSV files do not say theirs."""
    return "true" if reader == "goes-plain-csv" else None


def check(kind: str, reader: str, mutant: Path, original: set[str], *, truncated: bool, outcome: Outcome) -> None:
    """Read one mutant and record what happened in ``outcome``."""
    try:
        res = read_file(mutant, kind, basis=basis_of(reader))
    except FlarecastError:
        outcome.refused += 1
        return
    except Exception as exc:  # noqa: BLE001 - any other exception is the defect being counted
        outcome.tracebacks.append(f"{mutant.name}: {type(exc).__name__}: {exc}")
        return
    outcome.read += 1
    new = rows(res.data, reader) - original
    if truncated:
        outcome.partial_rows += len(new)
    else:
        outcome.rows_changed += len(new)


def run(seed: tuple[str, str, Path], n: int, tmp: Path, *, rng_seed: int = 0) -> Outcome:
    """``n`` mutants of one seed: half truncations, half single bit flips, at random positions."""
    kind, reader, path = seed
    data = path.read_bytes()
    original = rows(read_file(path, kind, basis=basis_of(reader)).data, reader)
    rng = random.Random(rng_seed)
    outcome = Outcome()
    target = tmp / reader / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        truncated = i % 2 == 0
        mutant = truncate(data, rng.randrange(1, len(data))) if truncated else flip(
            data, rng.randrange(len(data)), rng.randrange(8))
        target.write_bytes(mutant)
        check(kind, reader, target, original, truncated=truncated, outcome=outcome)
    return outcome


