"""The forecast's fast reader (:mod:`flarecast.ingest.columns`) returns what the store's reader returns: every
variable, dtype, value (NaN and NaT included) and attribute, and the group's attributes, for whole groups and for
row ranges, on the simulated store and on a store of real GOES-16, flare-summary and SHARP files."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from flarecast.errors import MissingDataError
from flarecast.ingest import store as st
from flarecast.ingest.columns import open_columns


def assert_same(cols, ds) -> None:
    """``cols`` (Columns) holds exactly the variables, values, dtypes and attributes of ``ds`` (a Dataset)."""
    assert sorted(cols.variables) == sorted(ds.variables)
    assert cols.attrs == dict(ds.attrs)
    for name in ds.variables:
        want, have = ds[name], cols[name]
        assert have.values.dtype == want.values.dtype, name
        np.testing.assert_array_equal(have.values, want.values, err_msg=name)  # NaN == NaN, NaT == NaT here
        assert have.attrs == dict(want.attrs), name
        assert have.dims == want.dims and have.size == want.size, name


@pytest.mark.parametrize("group", ["goes", "events"])
def test_columns_equal_the_store_reader_on_the_simulated_store(sim_store, group):
    cols, ds = open_columns(sim_store, group), st.read_group(sim_store, group)
    assert cols is not None
    assert_same(cols, ds)
    if group == "goes":  # masked rows: NaN must come back as NaN, not as a fill value
        assert np.isnan(cols["xrsb"].values).any()
    dim = cols.dim
    n = ds.sizes[dim]
    for sl in (slice(n - 97, None), slice(5, 50), slice(n, None), slice(-3, None), slice(0, 0)):
        assert_same(cols.isel(**{dim: sl}), ds.isel({dim: sl}))
    assert_same(cols.isel(**{dim: slice(10, None)}).isel(**{dim: slice(2, 7)}), ds.isel({dim: slice(12, 17)}))


def test_columns_read_only_the_selected_rows(sim_store):
    goes = open_columns(sim_store, "goes")
    tail = goes.isel(time=slice(-10, None))
    assert tail["xrsb"].values.shape == (10,) and tail["time"].values[-1] == goes["time"].values[-1]
    with pytest.raises(TypeError, match="one slice of step 1"):
        goes.isel(time=slice(0, 10, 2))


@pytest.fixture(scope="module")
def real_store(real_data, tmp_path_factory):
    from flarecast.ingest.pipeline import ingest

    path = tmp_path_factory.mktemp("real-columns") / "store.zarr"
    ingest("goes", [real_data / "goes" / "sci_xrsf-l2-avg1m_g16_d20170906_v2-2-0.nc"], store=path)
    ingest("events", [real_data / "events" / "sci_xrsf-l2-flsum_g16_d20170906_v2-2-0.nc"], store=path)
    ingest("sharp", [real_data / "sharp" / "sharp_keywords_fold0.csv"], store=path)
    return path


@pytest.mark.parametrize("group", ["goes", "events", "sharp"])
def test_columns_equal_the_store_reader_on_real_data(real_store, group):
    cols, ds = open_columns(real_store, group), st.read_group(real_store, group)
    assert cols is not None, f"the {group} group of a real store should be in the plain layout"
    assert_same(cols, ds)
    if group == "events":  # a flare whose end the summary does not give: NaT, not the int64 minimum
        assert np.isnat(cols["end"].values).any()
    n = ds.sizes[cols.dim]
    assert_same(cols.isel(**{cols.dim: slice(n // 2, None)}), ds.isel({cols.dim: slice(n // 2, None)}))


def test_a_group_in_another_encoding_is_left_to_the_store_reader(sim_store, tmp_path):
    # CF minutes instead of int64 nanoseconds: xarray decodes it, Columns must not pretend to
    import shutil

    path = tmp_path / "s.zarr"
    shutil.copytree(sim_store, path)
    t = zarr.open_array(str(path / "goes" / "time"), mode="r+", zarr_format=2)
    t.attrs["units"] = "minutes since 1970-01-01"
    assert open_columns(path, "goes") is None
    with pytest.raises(MissingDataError, match="no SHARP data"):
        open_columns(path, "sharp")
