"""Base URLs of the archives flarecast fetches from: defaults, environment variables, job-file overrides.

Each archive has one setting. The value in a job file (``urls:`` mapping) wins over the environment variable,
which wins over the default, so a mirror or a local test server replaces an archive without code changes.

| key | environment variable | default |
|---|---|---|
| ``ncei`` | ``FLARECAST_NCEI_URL`` | NCEI's GOES-R space-weather tree (GOES-16 onward: XRS L2, flare summary) |
| ``ncei_science`` | ``FLARECAST_NCEI_SCIENCE_URL`` | NCEI's reprocessed GOES 8-15 XRS science tree |
| ``swpc`` | ``FLARECAST_SWPC_URL`` | SWPC's real-time services (JSON products) |
| ``swpc_events`` | ``FLARECAST_SWPC_EVENTS_URL`` | SWPC's daily event reports (``YYYYMMDDevents.txt``) |
| ``jsoc`` | ``FLARECAST_JSOC_URL`` | JSOC (SHARP keywords through drms) |
| ``hek`` | ``FLARECAST_HEK_URL`` | the Heliophysics Event Knowledgebase (HEK) query service |
| ``srs`` | ``FLARECAST_SRS_URL`` | NCEI's archive of SWPC's daily Solar Region Summaries |
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from flarecast.defaults import DEFAULT_URLS, ENV_VARS, SOURCE_ARCHIVES  # noqa: F401  (defined there for --help)
from flarecast.errors import ConfigError


def base_urls(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every archive's base URL: ``overrides`` first, then ``FLARECAST_<KEY>_URL``, then the default.

    Raises
    ------
    ConfigError
        For an unknown key or a value that is not an http(s) URL.

    Examples
    --------
    >>> base_urls({"swpc": "http://localhost:8000/"})["swpc"]
    'http://localhost:8000'
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(DEFAULT_URLS))
    if unknown:
        raise ConfigError(f"urls: unknown archive {unknown[0]!r}; expected one of {list(DEFAULT_URLS)}")
    out = {}
    for key, default in DEFAULT_URLS.items():
        value = str(overrides.get(key) or os.environ.get(ENV_VARS[key]) or default)
        if not value.startswith(("http://", "https://")):
            origin = f"urls.{key}" if key in overrides else ENV_VARS[key]
            raise ConfigError(f"{origin} = {value!r}: expected an http:// or https:// URL such as {default}")
        out[key] = value.rstrip("/")
    return out


def mirror_hint(failed_urls: list[str], overrides: Mapping[str, str] | None = None) -> str | None:
    """One line naming the variable that points the unreachable archive(s) at a mirror, with its value now;
    None when no failed URL is under a known base URL.

    >>> mirror_hint(["https://services.swpc.noaa.gov/json/solar_regions.json"])
    'to fetch from a mirror or a local copy, set FLARECAST_SWPC_URL (now https://services.swpc.noaa.gov); see docs/fetch.md'
    """
    urls = base_urls(overrides)
    keys = [k for k, base in urls.items() if any(u.startswith(base + "/") or u == base for u in failed_urls)]
    if not keys:
        return None
    named = " or ".join(f"{ENV_VARS[k]} (now {urls[k]})" for k in keys)
    return f"to fetch from a mirror or a local copy, set {named}; see docs/fetch.md"
