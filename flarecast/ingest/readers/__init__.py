"""File readers, one per product, and the registry that picks one by sniffing a file's content.

Each reader is a class with ``name``, ``kind`` (``goes``, ``events`` or ``sharp``), ``description``,
``basis`` (the flux basis its product is on: ``"true"``, ``"swpc"``, ``"per-row"`` or ``"date"`` when the
file or the date decides, ``"none"`` for SHARP, None when the caller must say), ``can_read(path) -> bool``
and ``read(path, *, basis=None, satellite=None, skip_bad=False) -> ReaderResult``.

>>> from flarecast.ingest.readers import find_reader
>>> find_reader("sci_xrsf-l2-avg1m_g16_d20170906_v2-2-0.nc", "goes").name  # doctest: +SKIP
'goes-r-l2'
"""

from __future__ import annotations

from pathlib import Path

from flarecast.errors import InputFileError, UnknownFormatError
from flarecast.ingest.readers.base import MASK_BITS, ReaderResult
from flarecast.ingest.readers.events import NgdcXrsReport, SwpcEditedEvents
from flarecast.ingest.readers.events_csv import (
    Goes16FlareSummaryCsv,
    Goes16FlareSummaryNetcdf,
    HekCsv,
    PlainEventsCsv,
    SwpcFlareListCsv,
)
from flarecast.ingest.readers.goes import GoesRL2, GoesScienceIrradiance, NgdcNetcdf
from flarecast.ingest.readers.goes_text import GoesFits, NgdcCsv, PlainGoesCsv
from flarecast.ingest.readers.sharp import JsocSharpCsv
from flarecast.ingest.readers.swpc_json import SwpcFlaresJson, SwpcXrayJson

READERS: dict[str, tuple[type, ...]] = {
    # Order matters only where two readers could claim one file: the specific layouts come first and the
    # permissive "plain CSV" readers last.
    "goes": (GoesRL2, GoesScienceIrradiance, NgdcNetcdf, NgdcCsv, GoesFits, SwpcXrayJson, PlainGoesCsv),
    "events": (
        SwpcEditedEvents,
        NgdcXrsReport,
        Goes16FlareSummaryNetcdf,
        Goes16FlareSummaryCsv,
        SwpcFlareListCsv,
        HekCsv,
        SwpcFlaresJson,
        PlainEventsCsv,
    ),
    "sharp": (JsocSharpCsv,),
}
"""Readers by store group."""

KINDS = tuple(READERS)

__all__ = ["KINDS", "MASK_BITS", "READERS", "ReaderResult", "find_reader", "read_file"]


def find_reader(path: str | Path, kind: str) -> type:
    """The first reader of ``kind`` whose ``can_read`` accepts ``path``.

    Raises
    ------
    InputFileError
        When the file does not exist or is empty.
    UnknownFormatError
        When no reader recognises it; the message lists the known products.
    """
    if kind not in READERS:
        raise UnknownFormatError(path, f"kind {kind!r} is not one of {list(READERS)}")
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "no such file")
    if path.stat().st_size == 0:
        raise InputFileError(path, "the file is empty; re-download or remove it")
    trouble = []
    for reader in READERS[kind]:
        try:
            if reader.can_read(path):
                return reader
        except Exception as exc:  # sniffing a corrupt file can fail inside any library: report, do not crash
            trouble.append(f"{reader.name} could not inspect it ({type(exc).__name__}: {exc})")
    if trouble:
        raise InputFileError(path, "unreadable: " + "; ".join(trouble) + "; the file may be corrupt")
    known = "; ".join(f"{r.name}: {r.description}" for r in READERS[kind])
    raise UnknownFormatError(path, f"not a known {kind} product. Known {kind} products: {known}")


def read_file(
    path: str | Path, kind: str, *, basis: str | None = None, satellite: int | None = None, skip_bad: bool = False
) -> ReaderResult:
    """Read one file with the reader :func:`find_reader` picks; errors are InputFileError naming the file.

    ``skip_bad``: text readers leave out rows that are cut short or hold impossible values, and report each
    in the result's warnings and ``ignored["bad_rows"]``, instead of refusing the file (see ``readers.rows``).
    """
    reader = find_reader(path, kind)
    if basis is not None and reader.basis is not None:
        raise InputFileError(
            path,
            f"basis {basis!r} given, but {reader.name} files carry their own ({reader.basis}); drop the basis "
            "option (it is for plain CSV files)",
        )
    try:
        return reader.read(Path(path), basis=basis, satellite=satellite, skip_bad=skip_bad)
    except InputFileError:
        raise
    except (OSError, ValueError, KeyError, IndexError, TypeError, EOFError, RuntimeError) as exc:
        # A reader meeting bytes it did not expect (truncated, corrupt) must still name the file.
        raise InputFileError(path, f"{reader.name} could not read it ({type(exc).__name__}: {exc})") from exc
