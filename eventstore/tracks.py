"""Bilateral tracks: naming and validating the stream a fact belongs to.

A track is the relationship between two countries, named by their ISO 3166-1
alpha-3 codes sorted and joined by a hyphen: ``RUS-USA``. Callers may give the
codes in either order and any case; :func:`parse_track` returns the canonical id.
"""

from __future__ import annotations

import functools
import re

import pycountry

from .errors import TrackError

__all__ = ["parse_track", "is_country", "SOURCES_STREAM", "ACTORS_STREAM", "ERASURES_STREAM",
           "FIXED_STREAMS"]

#: The stream that holds source registrations (not a bilateral track).
SOURCES_STREAM = "$sources"
#: The stream of the actor registry.
ACTORS_STREAM = "$actors"
#: The stream of erasures for legal reasons (``source.erased``, ``payload.erased``).
ERASURES_STREAM = "$erasures"
#: Streams that are not bilateral tracks.
FIXED_STREAMS = (SOURCES_STREAM, ACTORS_STREAM, ERASURES_STREAM)

_TRACK_RE = re.compile(r"^\s*([A-Za-z]{3})\s*[-–_/ ]\s*([A-Za-z]{3})\s*$")


@functools.cache
def _alpha_3() -> frozenset[str]:
    """Every ISO 3166-1 alpha-3 code pycountry knows (read from its database once)."""
    return frozenset(country.alpha_3 for country in pycountry.countries)


def is_country(code: str) -> bool:
    """True when ``code`` is an ISO 3166-1 alpha-3 code (upper case)."""
    return code in _alpha_3()


@functools.lru_cache(maxsize=4096)
def _canonical(value: str) -> str:
    match = _TRACK_RE.match(value)
    if not match:
        raise TrackError(f"{value!r} is not a track id: give two ISO 3166 alpha-3 country codes "
                         "joined by a hyphen, such as RUS-USA")
    codes = sorted({match.group(1).upper(), match.group(2).upper()})
    if len(codes) != 2:
        raise TrackError(f"{value!r}: a bilateral track needs two different countries")
    unknown = [code for code in codes if not is_country(code)]
    if unknown:
        raise TrackError(f"{value!r}: {', '.join(unknown)} is not an ISO 3166 alpha-3 country code")
    return f"{codes[0]}-{codes[1]}"


def parse_track(value: object) -> str:
    """Return the canonical track id for ``value`` or raise :class:`TrackError`."""
    if not isinstance(value, str):
        raise TrackError(f"a track must be a string such as 'RUS-USA', not {type(value).__name__}")
    return _canonical(value)
