"""Defaults the command line shows in ``--help`` (the store, the compare grid, the archives' base URLs), in a
module that imports nothing.

:mod:`flarecast.config` re-exports them; they live here so that ``flarecast --help`` and every command's start
do not import pandas and pydantic only to print a default (``flarecast --help`` in well under a second).
"""

DEFAULT_STORE = "data/store.zarr"
"""The store every command reads and writes unless told otherwise (``--store``, a job's ``store``)."""

COMPARE_DEFAULTS = {"seeds": 5, "alphas": "none,0.25,0.5,0.75", "gammas": "0.5,1,2,3,5", "balanced_alpha": 0.75,
                    "pos_weight": "odds"}
"""The focal-vs-CE study's grid as ``flarecast compare`` and a batch ``compare`` step take it (text, as typed)."""
COMPARE_CV_GAMMAS = "1,2"
"""The focal gammas of ``flarecast compare --cv`` (each setting a whole CV ensemble: a smaller grid)."""

DEFAULT_URLS = {
    "ncei": "https://data.ngdc.noaa.gov/platforms/solar-space-observing-satellites/goes",
    # sunpy's XRSClient reads the reprocessed GOES 8-15 files from here (pattern_new).
    "ncei_science": "https://www.ncei.noaa.gov/data/goes-space-environment-monitor/access/science/xrs",
    "swpc": "https://services.swpc.noaa.gov",
    "swpc_events": "https://ftp.swpc.noaa.gov/pub/indices/events",
    # drms's registered JSOC server uses this host (cgi-bin/ajax/jsoc_info below it).
    "jsoc": "http://jsoc.stanford.edu",
    # sunpy's HEKClient default, without its trailing "?".
    "hek": "https://www.lmsal.com/hek/her",
    # NCEI's SRS archive, the pattern of sunpy's SRSClient.
    "srs": "https://www.ngdc.noaa.gov/stp/space-weather/swpc-products/daily_reports/solar_region_summaries",
}
"""Archive key -> default base URL (no trailing slash)."""

ENV_VARS = {key: f"FLARECAST_{key.upper()}_URL" for key in DEFAULT_URLS}

SOURCE_ARCHIVES = {"goes": ("ncei", "ncei_science"), "swpc": ("swpc",), "events": ("ncei", "swpc_events", "hek"),
                   "sharp": ("jsoc",), "srs": ("srs",)}
"""Which archives each ``flarecast fetch`` source reads."""
