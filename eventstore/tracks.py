"""Tracks and streams: naming and validating the stream a fact belongs to.

A bilateral track is the relationship between two countries, named by their ISO 3166-1
alpha-3 codes sorted and joined by a hyphen: ``RUS-USA``. A multilateral stream holds
the events of three or more countries at once (a trilateral meeting, a summit), named
the same way: ``CHN-IND-RUS``. Callers may give the codes in any order and any case;
:func:`parse_track` (bilateral only) and :func:`parse_stream` (either) return the
canonical id.

A multilateral event is recorded once, on its own stream, and belongs to the view of
every bilateral track among its parties (:func:`pairs`): the track CHN-IND shows the
events of its own stream and those of every multilateral stream with both CHN and IND.
"""

from __future__ import annotations

import functools
import gettext
import itertools
import os
import re
import unicodedata

import pycountry

from .errors import TrackError

__all__ = ["parse_track", "parse_stream", "is_country", "country_named", "is_multilateral",
           "parties",
           "pairs", "MAX_PARTIES", "SOURCES_STREAM", "ACTORS_STREAM", "ERASURES_STREAM",
           "FIXED_STREAMS", "TOPICS_STREAM", "REGISTRY_STREAMS"]

#: The stream that holds source registrations (not a bilateral track).
SOURCES_STREAM = "$sources"
#: The stream of the actor registry.
ACTORS_STREAM = "$actors"
#: The stream of erasures for legal reasons (``source.erased``, ``payload.erased``).
ERASURES_STREAM = "$erasures"
#: The stream of the topic registry (``topic.registered``).
TOPICS_STREAM = "$topics"
#: The registry's streams: who is who, and which topic is which.
REGISTRY_STREAMS = (ACTORS_STREAM, TOPICS_STREAM)
#: Streams that are not bilateral tracks.
FIXED_STREAMS = (SOURCES_STREAM, ACTORS_STREAM, ERASURES_STREAM, TOPICS_STREAM)

#: The most countries one multilateral stream may name (its id then has 199 characters,
#: the width of the ``events.track`` column; each event of it shows on up to 1,225
#: bilateral tracks).
MAX_PARTIES = 50

_CODES_RE = re.compile(r"^\s*[A-Za-z]{3}(?:\s*[-–_/ ]\s*[A-Za-z]{3})+\s*$")
_SPLIT_RE = re.compile(r"[A-Za-z]{3}")
_EXAMPLE = "give ISO 3166 alpha-3 country codes joined by hyphens, such as RUS-USA"


@functools.cache
def _alpha_3() -> frozenset[str]:
    """Every ISO 3166-1 alpha-3 code pycountry knows (read from its database once)."""
    return frozenset(country.alpha_3 for country in pycountry.countries)


def is_country(code: str) -> bool:
    """True when ``code`` is an ISO 3166-1 alpha-3 code (upper case)."""
    return code in _alpha_3()


#: The combining accents of Latin, Greek and Cyrillic letters (other scripts' marks are
#: part of their letters, and kept).
_ACCENTS = re.compile("[\u0300-\u036f]")


def _folded(text: str) -> str:
    """Casefolded, without accents, spaces collapsed: ``Etats-Unis`` as ``États-Unis``."""
    if text.isascii():
        return " ".join(text.casefold().split())
    bare = _ACCENTS.sub("", unicodedata.normalize("NFKD", text.casefold()))
    return " ".join(unicodedata.normalize("NFC", bare).split())


def _name_forms(name: str) -> set[str]:
    """A country's name as texts say it: whole, before its comma ("Russie, Fédération de":
    "Russie") and without, or inside, a parenthesis ("大韓民国 (韓国)")."""
    forms = {name}
    if ", " in name:
        forms.add(name.split(", ", 1)[0])
    inner = re.fullmatch(r"(.+?)\s*\((.+)\)", name)
    if inner:
        outside, within = inner.groups()
        forms.add(outside)
        # a short name in the parenthesis ("韓国"), never an abbreviation ("SUA": which
        # country's?) nor a phrase ("Democratic Republic")
        if " " not in within and not within.isupper():
            forms.add(within)
    return {_folded(form) for form in forms if form.strip()}


@functools.cache
def _country_names() -> dict[str, str]:
    """Folded country name → alpha-3 code, from pycountry's names and their translations in
    every language it ships (ISO 3166-1). A name two countries share ("Corée") is left out."""
    english: dict[str, str] = {}
    for country in pycountry.countries:
        for field in ("name", "common_name", "official_name"):
            name = getattr(country, field, None)
            if name:
                english[str(name)] = country.alpha_3
    said: dict[str, set[str]] = {}  # a name as some language says it → the codes it names
    said_in_english: dict[str, set[str]] = {}
    for name, code in english.items():
        said.setdefault(name, set()).add(code)
        said_in_english.setdefault(_folded(name), set()).add(code)
    locales = pycountry.LOCALES_DIR
    for lang in os.listdir(locales):
        path = os.path.join(locales, lang, "LC_MESSAGES", "iso3166-1.mo")
        if not os.path.exists(path):
            continue
        with open(path, "rb") as catalog:
            translated = gettext.GNUTranslations(catalog)
        for name, code in english.items():
            local = translated.gettext(name)
            if local != name:
                said.setdefault(local, set()).add(code)
    seen: dict[str, set[str]] = {}
    for name, codes in said.items():
        for form in _name_forms(name):
            seen.setdefault(form, set()).update(codes)
    named = {form: next(iter(codes)) for form, codes in seen.items() if len(codes) == 1}
    # ISO's own (English) names win over a translation that says the same words of
    # another country ("Mexico" is Mexico, whatever one catalogue says)
    named.update({_folded(name): code for name, code in english.items()
                  if len(said_in_english[_folded(name)]) == 1})
    return named


def country_named(text: str) -> str | None:
    """The alpha-3 code of the country ``text`` names, in any language pycountry knows
    ("Russie", "États-Unis", "日本", "USA"), or None when it names none, or several. Names
    only, never a guess: "Russia" is no ISO name ("Russian Federation" is), so None."""
    folded = _folded(text)
    if folded.upper() in _alpha_3() and text.strip().isupper():
        return folded.upper()
    return _country_names().get(folded)


@functools.lru_cache(maxsize=4096)
def _canonical(value: str) -> str:
    """The canonical id of a stream of two or more countries."""
    if not _CODES_RE.match(value):
        raise TrackError(f"{value!r} is not a track id: {_EXAMPLE} (a bilateral track) or "
                         "CHN-IND-RUS (a multilateral stream)")
    given = [code.upper() for code in _SPLIT_RE.findall(value)]
    twice = sorted({code for code in given if given.count(code) > 1})
    codes = sorted(set(given))
    if len(codes) < 2:
        raise TrackError(f"{value!r}: a bilateral track needs two different countries")
    if twice:
        raise TrackError(f"{value!r}: {', '.join(twice)} is given twice; name each country once")
    if len(codes) > MAX_PARTIES:
        raise TrackError(f"{value!r}: {len(codes)} countries; a multilateral stream names at "
                         f"most {MAX_PARTIES}")
    unknown = [code for code in codes if not is_country(code)]
    if unknown:
        raise TrackError(f"{value!r}: {', '.join(unknown)} is not an ISO 3166 alpha-3 country code")
    return "-".join(codes)


def parse_stream(value: object) -> str:
    """The canonical id of a bilateral track (``RUS-USA``) or a multilateral stream
    (``CHN-IND-RUS``): where a fact may be appended. Raises :class:`TrackError`."""
    if not isinstance(value, str):
        raise TrackError(f"a track must be a string such as 'RUS-USA', not {type(value).__name__}")
    return _canonical(value)


def parse_track(value: object) -> str:
    """The canonical id of a bilateral track, or :class:`TrackError` (a multilateral
    stream's id is refused, naming the bilateral tracks it shows on)."""
    canonical = parse_stream(value)
    if is_multilateral(canonical):
        tracks = pairs(canonical)
        shown = ", ".join(tracks[:3]) + (" …" if len(tracks) > 3 else "")
        raise TrackError(f"{canonical} is a multilateral stream, not a bilateral track: its "
                         f"events show on each bilateral track among its parties ({shown})")
    return canonical


def is_multilateral(stream: str) -> bool:
    """True for a canonical multilateral stream id (three or more countries)."""
    return stream.count("-") >= 2 and not stream.startswith("$")


def parties(stream: str) -> tuple[str, ...]:
    """The countries of a canonical track or stream id, in order."""
    return tuple(stream.split("-"))


def pairs(stream: str) -> list[str]:
    """The bilateral tracks among the parties of a canonical stream id (itself, for a
    bilateral track), in order."""
    return [f"{a}-{b}" for a, b in itertools.combinations(parties(stream), 2)]
