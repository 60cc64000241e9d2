"""Typed errors. Library code raises these; only the CLI (:mod:`flarecast.cli`, ``_util.command``) turns them
into one line and an exit code.

Every message names the offending value, what was expected and, where there is one, the fix.
"""


class FlarecastError(Exception):
    """Base class of every error flarecast raises on purpose (user errors, not bugs)."""

    exit_code = 2


class ConfigError(FlarecastError):
    """A config file or override is invalid (unknown key, wrong type, value out of range)."""


class InputFileError(FlarecastError):
    """An input file cannot be read or does not hold what its reader expects."""

    def __init__(self, path, message: str):
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


class UnknownFormatError(InputFileError):
    """No reader recognises the file."""


class ParseError(InputFileError):
    """A YAML or JSON text refused by :mod:`flarecast.safeio`: too large, nested too deep, an alias, a duplicate
    key, not UTF-8 or not valid syntax. ``reason`` is the message without the file, for callers that word their
    own."""

    def __init__(self, path, reason: str):
        self.reason = reason
        super().__init__(path, reason)


class FlareClassError(FlarecastError, ValueError):
    """A GOES flare class string or flux cannot be interpreted."""


class StoreError(FlarecastError):
    """The store is missing, locked, or does not hold what a stage needs."""


class MissingDataError(StoreError):
    """The store holds no data of a kind a stage needs: ``group`` is ``goes``, ``events`` or ``sharp``."""

    def __init__(self, message: str, group: str):
        self.group = group
        super().__init__(message)


class SampleError(FlarecastError):
    """Samples cannot be built as configured (no windows, a split with no positives, ...)."""


class ModelError(FlarecastError):
    """A model directory is missing, incomplete or incompatible with the data."""


class ImpossibleNumberError(FlarecastError):
    """A number about to be written is not a possible one (a probability outside [0, 1], classes out of order):
    a bug, refused at the writer so that no such number ever leaves the program."""


class FetchError(FlarecastError):
    """An archive could not be listed or read: the message names the URL and the HTTP status or timeout."""

    def __init__(self, url: str, reason: str, fix: str = ""):
        self.url, self.reason = url, reason
        super().__init__(f"{url}: {reason}" + (f"; {fix}" if fix else ""))
