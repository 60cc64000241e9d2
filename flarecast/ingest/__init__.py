"""Stage 1, ingest: read GOES XRS, SHARP and flare-catalogue files in the formats NOAA and JSOC publish
(:mod:`flarecast.ingest.readers`) and merge them into one store (:mod:`flarecast.ingest.store`), atomically and
idempotently (:mod:`flarecast.ingest.pipeline`, :mod:`flarecast.ingest.merge`, :mod:`flarecast.ingest.merge_goes`).
"""

from flarecast.ingest import store
from flarecast.ingest.pipeline import IngestReport, IngestWarning, expand_paths, ingest

__all__ = ["IngestReport", "IngestWarning", "expand_paths", "ingest", "store"]
