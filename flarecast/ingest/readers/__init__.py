"""File readers, one per product, and the registry that picks one by sniffing a file's content.

:func:`read_file` (what ``flarecast ingest`` calls) asks each reader of the kind, in :data:`READERS` order,
whether it recognises the file (``can_read``) and reads it with the first that does: a
:class:`~flarecast.ingest.readers.base.ReaderResult` whose rows follow the store's conventions.

| module | readers |
|---|---|
| ``goes.py`` | GOES netCDF: GOES-R L2, reprocessed science irradiance, NGDC operational netCDF-3 |
| ``goes_text.py`` | GOES text and FITS: NGDC CSV, SDAC FITS, plain ``time,xrsa,xrsb`` CSV |
| ``swpc_json.py`` | SWPC real-time JSON: X-ray flux and flare list |
| ``events.py``, ``events_csv.py`` | flare catalogues: fixed-width NOAA reports; CSV lists, GOES-R flare summary |
| ``sharp.py`` | JSOC SHARP keyword CSV |
| ``regions.py`` | NOAA region reports: SRS text (through sunpy), the SRS archive table, SWPC ``solar_regions.json`` |
| ``reader.py``, ``base.py``, ``rows.py`` | what the readers share: the :class:`~flarecast.ingest.readers.reader.Reader` base class, the result and GOES checks, row checks |

Adding a reader:

1. Subclass :class:`~flarecast.ingest.readers.reader.Reader` in the module of its family, stating its
   metadata as class keywords: ``name`` (recorded in the store's provenance), ``kind`` (``goes``, ``events``
   or ``sharp``: the store group), ``basis`` (``"true"``, ``"swpc"``, ``"per-row"`` or ``"date"`` when each
   row's satellite or date decides, ``"none"`` for SHARP, None when the caller must pass it) and a one-line
   ``description`` (listed when no reader knows a file).
2. Say how to recognise its files: ``hdf5_vars`` (netCDF-4 variables), ``header_columns`` (CSV header
   names) or ``json_keys``, which the shared ``can_read`` checks; or, for an unusual layout, its own
   ``can_read(cls, path)``, which reads only the first bytes and returns False, not an exception, for
   other files.
3. Define ``read(cls, path, *, basis=None, satellite=None, skip_bad=False)`` (options it does not use may
   go to ``**_options``). Build GOES rows with :func:`~flarecast.ingest.readers.base.goes_frame` and events
   with :func:`~flarecast.ingest.readers.events.events_result` or
   :func:`~flarecast.ingest.readers.events_csv.table_events`, which apply the masks and checks every reader
   shares; refuse bad input with :class:`~flarecast.errors.InputFileError` naming the value, what was
   expected and the fix; route bad rows through :class:`~flarecast.ingest.readers.rows.BadRows`, so that
   ``skip_bad`` works. A CSV flare list can subclass ``events_csv.CatalogueCsv`` and define only
   ``from_table``; a GOES netCDF-4 product, ``goes.GoesNetcdf4`` with its ``flux_vars`` and ``flag_var``.
4. Add it to :data:`READERS`, before any more permissive reader that could also claim its files, and give
   it a test with a real file (``tests/test_readers_*.py``) and seed files for the hostile corpus.

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
from flarecast.ingest.readers.reader import Reader
from flarecast.ingest.readers.regions import SrsArchiveCsv, SrsText, SwpcRegionsJson
from flarecast.ingest.readers.sharp import JsocSharpCsv
from flarecast.ingest.readers.swpc_json import SwpcFlaresJson, SwpcXrayJson

READERS: dict[str, tuple[type[Reader], ...]] = {
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
    "regions": (SrsText, SrsArchiveCsv, SwpcRegionsJson),
}
"""Readers by store group."""

KINDS = tuple(READERS)

__all__ = ["KINDS", "MASK_BITS", "READERS", "Reader", "ReaderResult", "find_reader", "read_file", "read_or_error"]


def find_reader(path: str | Path, kind: str) -> type[Reader]:
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
    other = _other_kind(path, kind)
    if other is not None:
        article = "an" if kind[0] in "aeiou" else "a"
        raise UnknownFormatError(path, f"not {article} {kind} product: it reads as {other[1]} ({other[0]} data); "
                                       f"ingest it with `flarecast ingest {other[0]}`")
    known = "; ".join(f"{r.name}: {r.description}" for r in READERS[kind])
    raise UnknownFormatError(path, f"not a known {kind} product. Known {kind} products: {known}")


def _other_kind(path: Path, kind: str) -> tuple[str, str] | None:
    """The kind and reader name of another kind's reader that recognises ``path``, if one does."""
    for other, readers in READERS.items():
        if other == kind:
            continue
        for reader in readers:
            try:
                if reader.can_read(path):
                    return other, reader.name
            except Exception:  # noqa: BLE001 - only a hint: a reader that cannot sniff it is no answer
                continue
    return None


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


def read_or_error(
    args: tuple[Path, str, str | None, int | None, bool],
) -> ReaderResult | InputFileError:
    """:func:`read_file` of ``(path, kind, basis, satellite, skip_bad)``, its InputFileError returned, not raised.

    What ingest's reading worker processes run: it lives here, not in ``flarecast.ingest.pipeline``, so that a
    spawned worker imports the readers alone, not dask, zarr and the store (~0.8 s CPU a worker).
    """
    path, kind, basis, satellite, skip_bad = args
    try:
        return read_file(path, kind, basis=basis, satellite=satellite, skip_bad=skip_bad)
    except InputFileError as exc:  # the caller decides between skip and stop
        return exc
