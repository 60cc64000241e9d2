"""flarecast: solar flare forecasting from GOES XRS and SHARP series."""


def __getattr__(name: str):
    """``flarecast.__version__``, looked up in the installed metadata on first use and kept: importing
    importlib.metadata costs ~0.1 s, which ``flarecast --help`` need not pay."""
    if name != "__version__":
        raise AttributeError(f"module 'flarecast' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("flarecast")
    except PackageNotFoundError:  # running from a source tree that was not installed
        value = "0.0.0+unknown"
    globals()["__version__"] = value
    return value
