"""Row-level checks every text reader shares: no partial row is ever stored.

A file cut during a download ends mid-line; a row that lost fields at its end still parses (pandas fills the
missing cells with blanks), so a cut row would be stored as data: a region with ``USFLUX = 1`` Mx, a phantom
HARP number. :func:`text_table` refuses such rows, naming the file and the line, or, when the caller passes
``skip_bad`` (``flarecast ingest --skip-bad``), leaves them out and reports each one in the reader's warnings
and in ``ignored["bad_rows"]``.

>>> rows = BadRows("f.csv", skip_bad=True)
>>> rows.bad(7, "2 fields, expected 4 like the header")
>>> rows.notes
['f.csv: line 7: 2 fields, expected 4 like the header; row left out (--skip-bad)']
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from flarecast.errors import InputFileError
from flarecast.ingest.readers.base import open_text

TRUNCATED = "the file ends mid-line (no line break after the last row): a truncated download? Re-download it"


class BadRows:
    """Refuse a bad row (InputFileError naming file and line) or, with ``skip_bad``, record it and go on."""

    def __init__(self, path: str | Path, *, skip_bad: bool = False, unit: str = "line"):
        self.path = Path(path)
        self.skip_bad = skip_bad
        self.unit = unit  # "line" in text files, "record" in a JSON list
        self.lines: list[int] = []
        self.notes: list[str] = []

    def bad(self, lineno: int, reason: str) -> None:
        if not self.skip_bad:
            raise InputFileError(
                self.path, f"{self.unit} {lineno}: {reason}; fix the file, or ingest with --skip-bad to leave such rows out"
            )
        self.lines.append(int(lineno))
        self.notes.append(f"{self.path.name}: {self.unit} {lineno}: {reason}; row left out (--skip-bad)")

    @property
    def ignored(self) -> dict[str, int]:
        return {"bad_rows": len(self.lines)} if self.lines else {}


def text_table(
    path: str | Path,
    text: str,
    rows: BadRows,
    *,
    sep: str = ",",
    header: bool = True,
    first_line: int = 1,
    fixed_width: bool = False,
) -> pd.DataFrame:
    """Parse CSV ``text`` as strings, after checking every row; the frame's index is each row's line number.

    Parameters
    ----------
    path : str or Path
        The file, for messages.
    text : str
        The table, its header first (when ``header``); ``first_line`` is the header's line in the file.
    rows : BadRows
        Collects (or refuses) the rows that are cut short: fewer fields than the header (or, without a
        header, than the first row), or a last line without its line break.
    sep : str
        Field separator.
    header : bool
        Whether the first line names the columns.
    first_line : int
        1-based line number of the first line of ``text`` in the file.
    fixed_width : bool
        The format writes every number at a fixed width (NGDC's ``%.4E``) and its files may lack a final
        line break: a last line without one is kept when its last field is as wide as on the line before.
        Otherwise a last line without a line break is taken as cut.
    """
    lines = text.split("\n")
    complete = text.endswith("\n")
    if complete:
        lines.pop()
    if not lines or not lines[0].strip():
        raise InputFileError(path, f"line {first_line}: no header line; expected the column names")
    width = _width(lines[0], sep)
    kept = [lines[0]] if header else []
    numbers: list[int] = []
    for i, line in enumerate(lines[0 if not header else 1 :], start=first_line + (1 if header else 0)):
        if not line.strip():
            continue  # pandas skips blank lines too; they hold no row
        n = _width(line, sep)
        if not complete and i == first_line + len(lines) - 1 and not (
            fixed_width and n >= width and numbers and _last(line, sep) == _last(lines[numbers[-1] - first_line], sep)
        ):
            rows.bad(i, TRUNCATED)
            continue
        if n < width:
            rows.bad(i, f"{n} fields, expected {width} like the {'header' if header else 'first row'} (a row cut short)")
            continue
        kept.append(line)
        numbers.append(i)
    if not numbers:
        columns = next(csv.reader([lines[0]], delimiter=sep)) if header else []
        return pd.DataFrame({c.strip(): pd.Series([], dtype=object) for c in columns})
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(kept) + "\n"),
            sep=sep,
            header=0 if header else None,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(path, f"not a readable CSV ({exc})") from exc
    if len(frame) != len(numbers):
        raise InputFileError(
            path, f"{len(frame)} rows parsed from {len(numbers)} lines: quoted line breaks are not supported"
        )
    frame.index = pd.Index(np.asarray(numbers, dtype=np.int64), name="line")
    return frame


def _fields(line: str, sep: str) -> list[str]:
    return next(csv.reader([line.rstrip("\r")], delimiter=sep))


def _width(line: str, sep: str) -> int:
    return len(_fields(line, sep))


def _last(line: str, sep: str) -> int:
    return len(_fields(line, sep)[-1].strip())


def read_text(path: str | Path) -> str:
    """A text file's content, plain, gzip or bzip2 (undecodable bytes become U+FFFD: the checks refuse them)."""
    try:
        with open_text(Path(path)) as fh:
            return fh.read()
    except (OSError, EOFError) as exc:
        raise InputFileError(path, f"cannot be read ({type(exc).__name__}: {exc}); re-download it") from exc


def region_numbers(values: pd.Series, what: str, rows: BadRows) -> np.ndarray:
    """Region numbers from text cells: blank is 0 (none), a positive integer is kept; anything else is bad.

    A negative number or a non-number is not a region; it is refused (or, with ``skip_bad``, the row is left
    out: the caller drops ``rows.lines``). The index of ``values`` is the line number.
    """
    text = values.astype(str).str.strip()
    nums = pd.to_numeric(text.where(text != "", "0"), errors="coerce")
    bad = nums.isna().to_numpy() | (nums.to_numpy() < 0) | (nums.fillna(0).to_numpy() % 1 != 0)
    for line, cell in zip(values.index[bad], text[bad], strict=True):
        rows.bad(int(line), f"{what} {cell!r} is not a region number: expected a positive integer or blank")
    return nums.fillna(0).to_numpy(np.int64)
