"""The Reader base class and the registry: metadata checked when a reader is declared, declarative sniffing."""

from __future__ import annotations

import json

import pytest

from flarecast.errors import InputFileError, UnknownFormatError
from flarecast.ingest.readers import KINDS, READERS, Reader, find_reader, read_file
from flarecast.ingest.readers import reader as reader_module
from flarecast.ingest.readers.events_csv import PlainEventsCsv
from flarecast.ingest.readers.goes_text import PlainGoesCsv
from flarecast.ingest.readers.sharp import JsocSharpCsv

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def test_every_registered_reader_is_declared_for_its_group():
    readers = [r for group in READERS.values() for r in group]
    assert set(KINDS) == set(reader_module.KINDS) == {"goes", "events", "sharp", "regions"}
    assert all(issubclass(r, Reader) and r.kind == kind for kind, group in READERS.items() for r in group)
    assert len({r.name for r in readers}) == len(readers) == 19
    assert {r.basis for r in readers} == {"true", "swpc", "per-row", "date", "none", None}


def test_a_reader_is_refused_when_declared_without_a_sniff_or_with_a_wrong_kind():
    with pytest.raises(TypeError, match="reader NoSniff: set hdf5_vars, header_columns or json_keys"):

        class NoSniff(Reader, name="x", kind="goes", basis="true", description="x files"):
            @classmethod
            def read(cls, path, **_options):
                raise NotImplementedError

    with pytest.raises(TypeError, match=r"reader WrongKind: kind='flares'"):

        class WrongKind(Reader, name="x", kind="flares", basis="true", description="x files"):
            header_columns = ("time",)

    with pytest.raises(TypeError, match="reader NoRead: define read"):

        class NoRead(Reader, name="x", kind="goes", basis="true", description="x files"):
            header_columns = ("time",)

    class SharedBase(Reader):  # no name: a base for several readers, checked in its subclasses
        header_columns = ("time",)

    class Declared(SharedBase, name="declared", kind="goes", basis=None, description="declared files"):
        @classmethod
        def read(cls, path, **_options):
            raise NotImplementedError

    assert not hasattr(SharedBase, "name")
    assert (Declared.name, Declared.kind, Declared.basis, Declared.description) == (
        "declared", "goes", None, "declared files"
    )


@pytest.mark.parametrize(
    ("header", "sharp", "plain_goes", "plain_events"),
    [
        ("T_REC,HARPNUM,USFLUX\n", True, False, False),
        (" t_rec , Harpnum\r\n", True, False, False),  # stripped and compared in lower case
        ("TREC,HARPNUM\n", False, False, False),  # but not loosely: JSOC writes T_REC
        ("time,xrsb\n", False, True, False),
        (" Time , XRSA \n", False, True, False),
        ("time,xrs_a\n", False, False, False),
        ("Flare Class,Start Time,Peak Time\n", False, False, True),  # catalogues: no spaces or underscores
        ("goes_class,peak_time\n", False, False, True),
        ("class,start\n", False, False, False),  # a class column but no peak column
    ],
)
def test_header_columns(tmp_path, header, sharp, plain_goes, plain_events):
    path = tmp_path / "table.csv"
    path.write_text(header + "1,2,3\n")
    assert JsocSharpCsv.can_read(path) is sharp
    assert PlainGoesCsv.can_read(path) is plain_goes
    assert PlainEventsCsv.can_read(path) is plain_events


def test_hdf5_file_h5py_cannot_open_goes_to_its_reader_by_name(tmp_path):
    damaged = HDF5_MAGIC + b"\x00" * 400
    named = tmp_path / "sci_xrsf-l2-avg1m_g16_d20170906_v2-2-0.nc"
    named.write_bytes(damaged)
    assert find_reader(named, "goes").name == "goes-r-l2"
    with pytest.raises(InputFileError, match="not a readable netCDF-4/HDF5 file"):
        read_file(named, "goes")
    other = tmp_path / "renamed.nc"
    other.write_bytes(damaged)
    with pytest.raises(UnknownFormatError, match="not a known goes product"):
        find_reader(other, "goes")
    with pytest.raises(UnknownFormatError, match="not a known events product"):
        find_reader(other, "events")  # the flare summary names no file-name parts


def test_json_keys(tmp_path):
    record = {"time_tag": "2017-09-06T12:00:00Z", "satellite": 16, "flux": 1e-6, "energy": "0.1-0.8nm"}
    listed = tmp_path / "xrays-1-day.json"
    listed.write_text(json.dumps([record]))
    assert find_reader(listed, "goes").name == "swpc-xrays-json"
    single = tmp_path / "one.json"
    single.write_text(json.dumps(record))  # an object, not SWPC's list of records
    with pytest.raises(UnknownFormatError):
        find_reader(single, "goes")


def test_docs_data_basis_table_gives_every_flux_reader_its_own_basis():
    """docs/data.md's "Flux basis by format" table against the readers: which formats are SWPC-scaled (true = /0.7)
    and which are true irradiance is the fact a user most easily gets wrong, so the page must say what the code does."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "data.md").read_text()
    rows = [line for line in text.split("**Flux basis by format.**", 1)[1].splitlines() if line.startswith("| `")]
    documented = {}
    for row in rows:
        names, _files, basis = (cell.strip() for cell in row.strip("|").split("|"))
        for name in names.replace("`", "").split(", "):
            documented[name] = basis
    expected = {"true": "true", "swpc": "swpc", "per-row": "per-row:", "date": "date:", None: "given"}
    readers = {r.name: r.basis for kind in ("goes", "events") for r in READERS[kind]}
    assert set(documented) == set(readers)
    for name, basis in readers.items():
        assert documented[name].startswith(expected[basis]), (name, basis, documented[name])
