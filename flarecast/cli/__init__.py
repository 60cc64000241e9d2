"""The ``flarecast`` command line: one module per command group; each command parses its options, calls one
library function and prints through :mod:`flarecast.cli._util`.

User errors (:class:`~flarecast.errors.FlarecastError`) print one line on stderr and exit non-zero; anything
else is a bug and keeps its traceback.
"""

# isort: off
# Importing a group registers its commands; --help lists them in pipeline order.
from flarecast.cli import fetch, ingest, train, evaluate, cv, forecast, regions, dashboard, jobs  # noqa: F401
# isort: on
from flarecast.cli._util import app

__all__ = ["app"]
