"""Defaults the command line shows in ``--help``, in a module that imports nothing heavy.

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
