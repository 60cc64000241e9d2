"""The store's ``goes`` group as Zarr arrays: its columns and dtypes, and writing it in whole chunks.

:class:`ChunkWriter` appends rows in time order with zarr's asynchronous API, in the layout xarray reads
(``_ARRAY_DIMENSIONS``, CF attributes); :func:`share_prefix` hard-links an old version's leading chunks
into a new one, so that rows before the first new one are not rewritten, and :meth:`ChunkWriter.adopt`
hard-links the chunks of a staging group written with the same array settings (:func:`append_columns`), so
that rows staged in their final order are not rewritten either. :func:`write_chunks` writes the staging
group's chunk files directly, byte for byte as zarr writes them. What the rows are, and which one a timestamp
keeps, is :mod:`flarecast.ingest.merge_goes`'s business.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import numpy as np
import zarr
import zarr.api.asynchronous as za
from zarr.core.sync import sync

from flarecast.ingest.readers.base import MASK_BITS
from flarecast.ingest.store import TIME_CHUNK, TIME_ENCODING, link_tree

COLUMNS = ("time", "xrsa", "xrsb", "xrsa_mask", "xrsb_mask", "satellite")
DTYPES = {"time": np.int64, "xrsa": np.float32, "xrsb": np.float32}
DTYPES |= {"xrsa_mask": np.uint8, "xrsb_mask": np.uint8, "satellite": np.int16}
"""The group's arrays along ``time`` and how each is stored (time as int64 nanoseconds, see ``store``)."""

_MASK_ATTRS = {
    "flag_masks": list(MASK_BITS),
    "flag_meanings": " ".join(MASK_BITS.values()),
    "long_name": "reasons the flux is unusable, 0 = good",
}
_VAR_ATTRS = {
    "xrsa": {"units": "W m-2", "long_name": "XRS-A 0.05-0.4 nm"},
    "xrsb": {"units": "W m-2", "long_name": "XRS-B 0.1-0.8 nm"},
    "xrsa_mask": _MASK_ATTRS,
    "xrsb_mask": _MASK_ATTRS,
    "satellite": {"long_name": "GOES number, 0 unknown"},
}
_TIME_ATTRS = {"long_name": "UTC", "units": TIME_ENCODING["units"], "calendar": "proleptic_gregorian"}
_ZARR_ATTRS = {c: {**_VAR_ATTRS.get(c, _TIME_ATTRS), "_ARRAY_DIMENSIONS": ["time"]} for c in COLUMNS}
"""Variable attributes as xarray writes them to Zarr v2 (``_ARRAY_DIMENSIONS`` names the dimension)."""


class ChunkWriter:
    """Appends rows in time order to ``root/goes`` in whole chunks of ``chunk`` rows.

    ``attrs`` (the group's attributes) are written with the first rows; ``shared_rows`` is what
    :func:`share_prefix` linked in before them.
    """

    def __init__(self, root: Path, attrs: dict, shared_rows: int = 0, chunk: int = TIME_CHUNK):
        self.root = root
        self.chunk = chunk
        self.attrs = attrs  # written with the rows: a separate attribute update costs a write
        self.started = shared_rows > 0  # the shared prefix already holds the arrays (new rows follow it)
        self._buffer: list[dict[str, np.ndarray]] = []

    def add(self, cols: dict[str, np.ndarray]) -> None:
        """Queue rows; every full chunk is written at once."""
        self._buffer.append(cols)
        n = sum(b["time"].size for b in self._buffer)
        if n >= self.chunk:
            rows = {c: np.concatenate([b[c] for b in self._buffer]) for c in COLUMNS}
            cut = n - n % self.chunk
            self._write({c: v[:cut] for c, v in rows.items()})
            self._buffer = [{c: v[cut:] for c, v in rows.items()}]

    def close(self) -> None:
        """Write what is queued (the last, partial chunk), or an empty group when there are no rows."""
        rows = {c: np.concatenate([b[c] for b in self._buffer] + [np.zeros(0, DTYPES[c])]) for c in COLUMNS}
        if rows["time"].size or not self.started:
            self._write(rows)

    def adopt(self, staged: Path, rows: int) -> None:
        """Append the first ``rows`` rows of the staging group ``staged`` (written by :func:`append_columns`, at
        this writer's chunking) by hard-linking its chunk files: no row is decoded or written again.

        Everything written so far must fill whole chunks (nothing queued, a multiple of ``chunk`` rows).
        """
        if self._buffer and any(b["time"].size for b in self._buffer):
            raise ValueError("adopt() after add(): queued rows would be overtaken")
        self._write({c: np.zeros(0, DTYPES[c]) for c in COLUMNS})  # creates the group, or updates its attributes
        group = zarr.open_group(str(self.root / "goes"), mode="r+", zarr_format=2, use_consolidated=False)
        n = int(group["time"].shape[0])
        if n % self.chunk:
            raise ValueError(f"adopt() after {n} rows: not a whole number of {self.chunk}-row chunks")
        first = n // self.chunk
        for c in COLUMNS:
            group[c].resize((n + rows,))
            for k in range(-(-rows // self.chunk)):
                src = staged / c / str(k)
                if src.exists():  # an absent chunk reads as the fill value, in both groups alike
                    _link(src, self.root / "goes" / c / str(first + k))

    def _write(self, cols: dict[str, np.ndarray]) -> None:
        # zarr's asynchronous API writes the six arrays at once: one round trip instead of xarray's ~20,
        # which is most of the cost of a small ingest. The layout is the one xarray reads (and writes).
        sync(_append(self.root / "goes", cols, self.attrs, self.chunk, create=not self.started))
        self.started = True


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:  # a filesystem without hard links
        shutil.copyfile(src, dst)


def array_settings(name: str) -> dict:
    """How column ``name`` is created (dtype, fill value, attributes): the same in the store and in staging, so
    that a staged chunk file is byte for byte the chunk the store would write."""
    dtype = DTYPES[name]
    return {"dtype": dtype, "fill_value": np.nan if np.dtype(dtype).kind == "f" else None,
            "attributes": _ZARR_ATTRS[name]}


def append_columns(path: Path, cols: dict[str, np.ndarray], chunk: int, *, create: bool) -> None:
    """Append rows to the group at ``path`` (created, with the store's array settings, when ``create``), the six
    columns concurrently; the staging group of :mod:`flarecast.ingest.merge_goes` is written so."""
    sync(_append(path, cols, {}, chunk, create=create))


def write_chunks(path: Path, cols: dict[str, np.ndarray], start: int, chunk: int) -> None:
    """Write ``cols`` as rows ``start..`` of the group at ``path`` (made by :func:`append_columns`), ``start`` a
    multiple of ``chunk`` and at most the arrays' length, and set their length to the rows' end.

    Each chunk is encoded with its array's own codec and written as zarr writes it: padded to ``chunk``
    rows with the fill value (0 where the array has none), and not written at all when it holds the fill
    value alone (zarr's ``write_empty_chunks=False``), so a staged chunk is byte for byte the store's (tested).
    Zarr's asynchronous pipeline spends ~1 ms of bookkeeping a chunk, ~12 ms CPU for each day of 1-second
    rows, in the process that stages every file; encoding here costs ~2 ms.
    """
    if start % chunk:
        raise ValueError(f"write_chunks() at row {start}: not a multiple of {chunk}")
    n = int(cols["time"].size)
    group = zarr.open_group(str(path), mode="r+", zarr_format=2, use_consolidated=False)
    for name in COLUMNS:
        array = group[name]
        meta = array.metadata
        values = cols[name].astype(DTYPES[name], copy=False)
        if meta.filters or meta.order != "C" or meta.chunks != (chunk,) or array.dtype != DTYPES[name]:
            raise ValueError(f"write_chunks() into {path / name}: not an array made by append_columns ({meta})")
        fill = meta.fill_value if meta.fill_value is not None else 0
        array.resize((start + n,))
        for k, lo in enumerate(range(0, n, chunk), start=start // chunk):
            block = values[lo : lo + chunk]
            if block.size < chunk:
                block = np.concatenate([block, np.full(chunk - block.size, fill, dtype=block.dtype)])
            target = path / name / str(k)
            if np.isnan(block).all() if np.isnan(fill) else (block == fill).all():
                target.unlink(missing_ok=True)  # zarr stores no chunk of fill values (and removes one)
            elif meta.compressor is None:
                target.write_bytes(block.tobytes())
            else:
                target.write_bytes(meta.compressor.encode(np.ascontiguousarray(block)))


async def _append(path: Path, cols: dict[str, np.ndarray], attrs: dict, chunk: int, *, create: bool) -> None:
    if create:
        group = await za.open_group(store=str(path), mode="w", zarr_format=2, use_consolidated=False, attributes=attrs)
    else:
        group = await za.open_group(store=str(path), mode="r+", zarr_format=2, use_consolidated=False)
        if attrs:  # staging groups carry none
            await group.update_attributes(attrs)

    async def one(name: str) -> None:
        if create:
            array = await group.create_array(name, shape=(0,), chunks=(chunk,), **array_settings(name))
        else:
            array = await group.getitem(name)
        await array.append(cols[name].astype(DTYPES[name], copy=False))

    await asyncio.gather(*[one(c) for c in COLUMNS])


def same_layout(a: Path, b: Path) -> bool:
    """Whether the groups at ``a`` and ``b`` store every column alike (each ``.zarray`` but its shape: dtype,
    chunks, fill value, compressor, filters), so that a chunk file of one is a chunk file of the other. A
    store written under another zarr default codec is not: its chunks are merged, not linked."""

    def layout(group: Path) -> list[dict]:
        out = []
        for c in COLUMNS:
            try:
                meta = json.loads((group / c / ".zarray").read_text())
            except (OSError, ValueError):
                return []
            meta.pop("shape", None)
            out.append(meta)
        return out

    first = layout(a)
    return bool(first) and first == layout(b)


def share_prefix(old: Path, new: Path, first_new_row: int, *, old_chunk: int, chunk: int = TIME_CHUNK) -> int:
    """Link the chunks of the old group (``old_chunk`` rows each) wholly before ``first_new_row`` into the
    new group; the rows they hold.

    Only a group chunked as the new one is to be (``chunk`` rows) is shared (a store first written by an
    older flarecast in one small chunk is rewritten once, at the standard chunking).
    """
    k = first_new_row // chunk if old_chunk == chunk else 0
    if k == 0:
        return 0
    link_tree(old, new, skip=lambda rel: rel.name.isdigit() and int(rel.name) >= k)
    group = zarr.open_group(str(new), mode="r+", zarr_format=2, use_consolidated=False)
    for c in COLUMNS:
        group[c].resize((k * chunk,))
    return k * chunk
