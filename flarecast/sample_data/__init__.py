"""Real observations shipped inside the package, as sunpy ships its sample data: the demo runs on them.

- :func:`goes_hourly`: GOES-15 hourly maxima of XRS-B, 2011-01-01 to 2013-12-31 (SWPC-scaled, a plain
  ``time,xrsb`` CSV: ingest it with ``basis="swpc"``, ``satellite=15``);
- :func:`ngdc_reports`: the NOAA/NGDC GOES XRS flare reports of 2010 to 2013;
- :func:`sharp_fold`: the SHARP keywords of fold 0 of Sun et al. (2022).

Every file is the shared original compressed with gzip (the readers open gzip transparently); the
decompressed bytes are the original's, byte for byte. ``provenance.json`` beside this module gives each file's
source repository, path and commit, and the sha256 and size of the original and of the packaged file.

Examples
--------
>>> from flarecast import sample_data
>>> sample_data.goes_hourly().name
'goes15_xrsb_hourly_max.csv.gz'
>>> [p.name for p in sample_data.ngdc_reports()][0]
'goes-xrs-report_2010.txt.gz'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flarecast.errors import InputFileError

HERE = Path(__file__).parent
NGDC_YEARS = (2010, 2011, 2012, 2013)
GOES_BASIS = "swpc"
"""The hourly file holds operational GOES-15 fluxes, which carry the SWPC scaling (true = scaled / 0.7)."""
GOES_SATELLITE = 15

__all__ = ["GOES_BASIS", "GOES_SATELLITE", "NGDC_YEARS", "files", "goes_hourly", "ngdc_reports", "provenance",
           "sharp_fold"]


def _path(name: str) -> Path:
    path = HERE / name
    if not path.is_file():
        raise InputFileError(path, "the package's sample data file is missing: reinstall flarecast "
                                   "(pip install -e .) so its package data is in place")
    return path


def goes_hourly() -> Path:
    """The GOES-15 hourly XRS-B maxima, 2011-2013 (gzip CSV, SWPC-scaled)."""
    return _path("goes15_xrsb_hourly_max.csv.gz")


def ngdc_reports() -> list[Path]:
    """The NGDC GOES XRS flare reports, one gzip text file per year of :data:`NGDC_YEARS`."""
    return [_path(f"goes-xrs-report_{y}.txt.gz") for y in NGDC_YEARS]


def sharp_fold() -> Path:
    """SHARP keywords of fold 0 of Sun et al. (2022) (gzip JSOC-style CSV)."""
    return _path("sharp_keywords_fold0.csv.gz")


def provenance() -> list[dict[str, Any]]:
    """One entry per packaged file: ``file``, ``description``, ``source`` (repository, path, commit),
    ``shared_copy``, ``original`` and ``packaged`` (bytes, sha256)."""
    return json.loads(_path("provenance.json").read_text())["files"]


def files() -> list[Path]:
    """Every packaged data file, in :func:`provenance` order."""
    return [_path(entry["file"]) for entry in provenance()]
