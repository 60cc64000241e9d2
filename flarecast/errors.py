"""Typed errors. Library code raises these; only the CLI (:mod:`flarecast.cli`, ``_util.command``) turns them
into one line and an exit code.

Every message names the offending value, what was expected and, where there is one, the fix.
"""

import errno


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



class MachineError(FlarecastError):
    """The operating system refused a file operation (an :class:`OSError`): a full disk, a read-only file system,
    a path that cannot be written, an I/O error. Built from the OSError; the message names the path, the errno's
    text and name, and the fix.

    Exit code 2 where the path given is the thing to fix (:data:`PATH_MISTAKES`: a file where a folder goes, no
    permission, no such file); :data:`MACHINE_FAULT_EXIT` (74, ``EX_IOERR`` of ``sysexits.h``) where the machine is
    (a full disk, a read-only or failing file system, every other errno), so a scheduler can tell "fix the
    command" from "fix the machine, then run it again". Every file flarecast writes is written beside its target
    and renamed, so a file being written when it happened keeps its previous content.

    >>> fault = MachineError(OSError(errno.EROFS, "Read-only file system", "fc.csv"))
    >>> str(fault).split("; ")[0], fault.exit_code
    ('fc.csv: read-only file system (EROFS)', 74)
    """

    def __init__(self, exc: OSError):
        self.errno = exc.errno
        where = "" if exc.filename is None else f"{exc.filename}: "
        if exc.filename2 is not None:
            where = f"{exc.filename} -> {exc.filename2}: "
        if exc.strerror and exc.errno is not None:
            what = f"{exc.strerror[:1].lower()}{exc.strerror[1:]} ({errno.errorcode.get(exc.errno, exc.errno)})"
        else:
            what = str(exc) or type(exc).__name__
        fix = PATH_MISTAKES.get(exc.errno) or _TYPE_FIX.get(type(exc))
        if fix is None:
            self.exit_code = MACHINE_FAULT_EXIT
            fix = MACHINE_FAULTS.get(exc.errno, _OTHER_FAULT)
        super().__init__(f"{where}{what}; {fix}")


MACHINE_FAULT_EXIT = 74
"""The exit code of a fault of the machine (``EX_IOERR``): a full disk, a read-only file system, an I/O error."""

_IN_THE_WAY = "a file is in the way of a folder: pass a folder or a new path (--out)"
_NOT_ALLOWED = "not allowed here: pass a path you can write to"
PATH_MISTAKES = {errno.EEXIST: _IN_THE_WAY, errno.ENOTDIR: _IN_THE_WAY,
                 errno.EISDIR: "a folder is in the way of a file: pass a file name",
                 errno.EACCES: _NOT_ALLOWED, errno.EPERM: _NOT_ALLOWED,
                 errno.ENOENT: "check the path", errno.ENAMETOOLONG: "pass a shorter path"}
"""The errnos whose fix is another path on the command line: exit code 2."""
_TYPE_FIX = {FileExistsError: _IN_THE_WAY, NotADirectoryError: _IN_THE_WAY,
             IsADirectoryError: PATH_MISTAKES[errno.EISDIR], PermissionError: _NOT_ALLOWED}
_WRITTEN = "files being written were left as they were"
MACHINE_FAULTS = {
    errno.ENOSPC: f"the disk is full: free space or write elsewhere, then run it again; {_WRITTEN}",
    errno.EDQUOT: f"the disk quota is used up: free space or write elsewhere, then run it again; {_WRITTEN}",
    errno.EROFS: f"the file system is mounted read-only: remount it writable or write elsewhere; {_WRITTEN}",
    errno.EIO: f"the disk or network file system failed: check it (dmesg), then run it again; {_WRITTEN}",
    errno.EMFILE: "too many open files: raise the limit (ulimit -n), then run it again",
    errno.ENFILE: "too many open files on the machine: run it again later",
    errno.ENOMEM: "out of memory: free memory or use a smaller batch, then run it again",
}
"""Fixes of the commonest faults of the machine: exit code :data:`MACHINE_FAULT_EXIT`."""
_OTHER_FAULT = "a fault of the machine, not of the input: check the path and the machine, then run it again"
