"""Stage 1, ingest: read GOES XRS, SHARP and flare-catalogue files in the formats NOAA and JSOC publish
(:mod:`flarecast.ingest.readers`) and merge them into one store (:mod:`flarecast.ingest.store`), atomically and
idempotently (:mod:`flarecast.ingest.pipeline`, :mod:`flarecast.ingest.merge`, :mod:`flarecast.ingest.merge_goes`,
:mod:`flarecast.ingest.goes_writer`).
"""

import importlib

__all__ = ["IngestReport", "IngestWarning", "expand_paths", "ingest", "store"]


def __getattr__(name: str):
    # Loaded on first use (PEP 562): a forecast that only reads the store should not pay for the readers,
    # dask and scipy that ingesting files needs (about 0.7 s of a cold start).
    if name == "store":
        return importlib.import_module("flarecast.ingest.store")
    if name in __all__:
        return getattr(importlib.import_module("flarecast.ingest.pipeline"), name)
    raise AttributeError(f"module 'flarecast.ingest' has no attribute {name!r}")
