"""Channel names: what a sample's rows hold, shared by the config checks, the grid builders and the features."""

from __future__ import annotations

import re

GOES_CHANNELS = ("log_xrsb", "log_xrsa", "log_ratio", "dlog_xrsb", "dlog_xrsa")
"""GOES channels: log10 XRS-B and XRS-A, log10(XRS-A / XRS-B), and the first difference of log10 XRS-B or
XRS-A from one step to the next."""

HISTORY_CHANNELS = ("history_class", "history_ge_c", "history_ge_m", "history_x")
"""Flare-history channels from the catalogue, for both sources: at each step end s, the ordinal class (0-3) of
the largest flare peaking in (s - history, s], and the number of flares of class >= C, >= M and X there
(full-disk: all flares; SHARP: the region's own)."""

COMMON_CHANNELS = ("missing", *HISTORY_CHANNELS)
"""``missing`` is the fraction of a step's records that were masked or absent (the mask as an input)."""

REGIME_CHANNELS = tuple(f"{h}_{d}d" for d in (3, 7, 27) for h in HISTORY_CHANNELS) + ("log_xrsb_median_27d",)
"""Regime inputs (docs/features.md): a history channel with its own look-back in days (``history_ge_m_27d``
counts the >= M flares in (s - 27 days, s]; any whole number of days is accepted, these are the documented
ones), and for GOES ``log_xrsb_median_{N}d``, the median of the log10 XRS-B steps over (s - N days, s]: the
background level that tells a quiet Sun from an active one."""

_HISTORY_SPAN = re.compile(r"^(history_(?:class|ge_c|ge_m|x))_([1-9][0-9]*)d$")
_BACKGROUND = re.compile(r"^log_xrsb_median_([1-9][0-9]*)d$")


def history_channel(name: str) -> tuple[str, str | None] | None:
    """``("history_ge_m", "27D")`` for ``history_ge_m_27d``, ``("history_ge_m", None)`` for ``history_ge_m``
    (look-back ``samples.history``); None for a channel that is not a flare-history channel."""
    if name in HISTORY_CHANNELS:
        return name, None
    m = _HISTORY_SPAN.match(name)
    return (m.group(1), f"{m.group(2)}D") if m else None


def background_span(name: str) -> str | None:
    """``"27D"`` for ``log_xrsb_median_27d``; None for any other channel."""
    m = _BACKGROUND.match(name)
    return f"{m.group(1)}D" if m else None


def is_common(name: str) -> bool:
    """A channel both sources compute from the mask or the catalogue, not from their own data."""
    return name == "missing" or history_channel(name) is not None
