"""The class every reader subclasses: its metadata as class keywords, how it recognises its files as attributes.

A reader states only what is its own::

    class PlainGoesCsv(Reader, name="goes-plain-csv", kind="goes", basis=None,
                       description="plain CSV with columns time, xrsa and/or xrsb in W m-2 ..."):
        header_columns = ("time", ("xrsa", "xrsb"))  # what can_read looks for

        @classmethod
        def read(cls, path, *, basis=None, satellite=None, skip_bad=False) -> ReaderResult:
            ...

The shared :meth:`Reader.can_read` checks one of three declarations (the first one a reader sets):

``hdf5_vars``
    An HDF5 (netCDF-4) file holding every one of these variables; when h5py cannot open the file, a name
    containing one of ``name_parts``, so that a damaged file of the product still reaches its reader and
    gets that reader's error.
``header_columns``
    The first line, split at commas, holds each entry: a name, or any one of a tuple of names. Names are
    compared after ``header_key`` (default: stripped and lower-cased).
``json_keys``
    A JSON list whose first bytes hold every one of these keys (SWPC's real-time products).

A reader with an unusual layout (a metadata header, a fixed-width record, a FITS card) defines its own
``can_read(cls, path) -> bool`` instead. ``can_read`` reads the first bytes or lines only and returns False
for a file of another product: an exception is reported as a corrupt file.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from flarecast.ingest.readers.base import ReaderResult, open_text

KINDS = ("goes", "events", "sharp", "regions")
"""Store groups a reader can feed."""

BASES = ("true", "swpc", "per-row", "date", "none", None)
"""A reader's ``basis``: see :class:`Reader`."""

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


class Reader:
    """One product's reader. Subclass it with the keywords below and define :meth:`read`.

    Class keywords (they become class attributes)
    ---------------------------------------------
    name : str
        The product, as the store's provenance and the ingest report name it (``"goes-r-l2"``).
    kind : {"goes", "events", "sharp", "regions"}
        The store group its rows go to.
    basis : {"true", "swpc", "per-row", "date", "none"} or None
        The flux basis of the product: ``"true"`` or ``"swpc"`` (SWPC-scaled); ``"per-row"`` or ``"date"``
        when each row's satellite or date decides; ``"none"`` for SHARP and region reports; None when the caller must say
        (plain CSV files). The registry refuses a ``basis`` option for a reader whose basis is not None.
    description : str
        One line naming the files, listed when no reader recognises a file.

    A subclass given no ``name`` is a base shared by several readers (see ``goes.py``), not a reader.
    """

    name: ClassVar[str]
    kind: ClassVar[str]
    basis: ClassVar[str | None]
    description: ClassVar[str]

    hdf5_vars: ClassVar[tuple[str, ...]] = ()
    name_parts: ClassVar[tuple[str, ...]] = ()
    header_columns: ClassVar[tuple[str | tuple[str, ...], ...]] = ()
    json_keys: ClassVar[tuple[str, ...]] = ()

    @staticmethod
    def header_key(column: str) -> str:
        """A header name as ``header_columns`` are compared with it: stripped, lower case."""
        return column.strip().lower()

    def __init_subclass__(
        cls,
        *,
        name: str | None = None,
        kind: str = "",
        basis: str | None = None,
        description: str = "",
        **kwargs,
    ):
        super().__init_subclass__(**kwargs)
        if name is None:
            return
        if kind not in KINDS or basis not in BASES or not description:
            raise TypeError(
                f"reader {cls.__name__}: kind={kind!r}, basis={basis!r}, description={description!r}: expected "
                f"kind in {KINDS}, basis in {BASES} and a one-line description"
            )
        sniffs = cls.hdf5_vars or cls.header_columns or cls.json_keys
        if not sniffs and _inherited(cls, "can_read"):
            raise TypeError(f"reader {cls.__name__}: set hdf5_vars, header_columns or json_keys, or define can_read")
        if _inherited(cls, "read"):
            raise TypeError(f"reader {cls.__name__}: define read")
        cls.name, cls.kind, cls.basis, cls.description = name, kind, basis, description

    @classmethod
    def can_read(cls, path: str | Path) -> bool:
        """True when the file looks like this reader's product (see the module docstring)."""
        path = Path(path)
        if cls.hdf5_vars:
            return hdf5_holds(path, cls.hdf5_vars, cls.name_parts)
        if cls.header_columns:
            names = {cls.header_key(c) for c in first_line(path).split(",")}
            return all(names & ({want} if isinstance(want, str) else set(want)) for want in cls.header_columns)
        head = magic(path, 4096).decode("utf-8", "replace").lstrip()
        return head.startswith("[") and all(f'"{k}"' in head for k in cls.json_keys)

    @classmethod
    def read(
        cls, path: str | Path, *, basis: str | None = None, satellite: int | None = None, skip_bad: bool = False
    ) -> ReaderResult:
        """The file's rows in the store's conventions.

        ``basis`` and ``satellite`` are for files that do not say theirs; ``skip_bad`` leaves out rows that are
        cut short or hold impossible values, reporting each (see ``readers.rows``). A reader may accept only
        the options it uses and ``**_options`` for the rest.
        """
        raise NotImplementedError


def _inherited(cls: type, method: str) -> bool:
    return getattr(getattr(cls, method), "__func__", None) is getattr(Reader, method).__func__


def magic(path: str | Path, n: int = 8) -> bytes:
    """The first ``n`` bytes of the file as stored (no decompression); empty when it cannot be opened."""
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError:
        return b""


def first_line(path: str | Path) -> str:
    """The first line of a text file, plain, gzip or bzip2; empty when it cannot be read."""
    try:
        with open_text(path) as fh:
            return fh.readline()
    except (OSError, EOFError):  # a truncated gzip stream raises EOFError
        return ""


def hdf5_holds(path: str | Path, variables: tuple[str, ...], name_parts: tuple[str, ...] = ()) -> bool:
    """True for an HDF5 file holding every one of ``variables``; by file name when h5py cannot open it."""
    path = Path(path)
    if magic(path) != HDF5_MAGIC:
        return False
    import h5py

    try:
        with h5py.File(path, "r") as h:
            return all(v in h for v in variables)
    except OSError:
        return any(part in path.name for part in name_parts)
