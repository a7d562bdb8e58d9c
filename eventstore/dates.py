"""Valid time: when a thing happened in the world, as precisely as the source lets us say.

A :class:`ValidTime` keeps the EDTF value as given (``2018-08-23``, ``2018-08``,
``2018?``, ``2018-06-24/2018-06-25``, ``../2018-10-23``), the words the source used
("jeudi") and the anchor those words were resolved against (the publication date).
From the EDTF value it derives the earliest and latest calendar day the value can
mean (``lower``/``upper``, ``None`` for an open end); the store indexes those.

We wrap the ``edtf`` library (Level 0-2 parser) and correct its quirks here, in one
place, so nothing else in the store sees them:

* it accepts impossible days such as ``2018-02-29``: we check every bound with
  :class:`datetime.date`;
* it accepts reversed intervals (``2018-06-24/2018-06-20``): we reject them;
* an open interval end (``..``) comes back as a float infinity: we map it to ``None``;
* an unknown end (``/2018-10-23``) comes back as an invented date ten years off:
  we map it to ``None`` too (unknown is not a date);
* ``2018?`` is widened by a whole year on each side by its "fuzzy" bounds; we use the
  strict bounds, which keep the year, and let the ``?`` speak for itself;
* years outside 1..9999 cannot be held by :class:`datetime.date`; we refuse them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import math
import re
from typing import Any

import attrs

from .errors import DateError

__all__ = ["ValidTime", "parse_valid_time", "parse_anchor", "date_words", "is_plain"]


@attrs.frozen
class ValidTime:
    """When something happened in the world, with the precision the source gives.

    ``edtf`` is the value as given; ``lower``/``upper`` are derived from it (inclusive
    calendar days; ``None`` means unbounded on that side). ``text`` is the source's own
    words for the date and ``anchor`` the EDTF date those words were resolved against.
    """

    edtf: str
    lower: dt.date | None
    upper: dt.date | None
    text: str | None = None
    anchor: str | None = None
    #: True when the store worked ``edtf`` out from ``text`` and ``anchor`` (the fact gave
    #: no date of its own: ``eventstore.relative``).
    resolved: bool = False

    @property
    def is_day(self) -> bool:
        """True when the value names exactly one known day."""
        return self.lower is not None and self.lower == self.upper

    def to_dict(self) -> dict[str, Any]:
        """The envelope's ``valid``: ``resolved`` appears only when true, so that the
        envelope (and the hash) of a date the fact gave is what it always was."""
        doc: dict[str, Any] = {
            "edtf": self.edtf,
            "lower": self.lower.isoformat() if self.lower else None,
            "upper": self.upper.isoformat() if self.upper else None,
            "text": self.text,
            "anchor": self.anchor,
        }
        if self.resolved:
            doc["resolved"] = True
        return doc


def _bound(value: Any, raw: str) -> dt.date | None:
    """Turn one bound from the edtf library into a date, ``None`` for an open end."""
    if isinstance(value, float) and math.isinf(value):
        return None
    year, month, day = value[0], value[1], value[2]
    if not 1 <= year <= 9999:
        raise DateError(f"{raw!r}: year {year} is outside the supported range 1..9999")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DateError(f"{raw!r} is not a real calendar date "
                        f"({year:04d}-{month:02d}-{day:02d} does not exist)") from None


def _has_unknown_end(parsed: Any, side: str) -> bool:
    """True when an interval end is written as empty (unknown), e.g. ``/2018-10-23``."""
    section = getattr(parsed, side, None)
    return type(section).__name__ == "UnspecifiedIntervalSection" and str(section) == ""


_SIMPLE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?[?~%]?$")


def _simple_bounds(part: str) -> tuple[dt.date, dt.date] | None:
    """Bounds of a plain ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (qualifier allowed) value."""
    match = _SIMPLE.match(part)
    if match is None:
        return None
    year = int(match.group(1))
    if match.group(2) is None:
        month_first, month_last = 1, 12
    else:
        month_first = month_last = int(match.group(2))
    if year < 1 or not 1 <= month_first <= 12:
        return None  # let the edtf library give its answer (seasons, errors)
    if match.group(3) is not None:
        try:
            day = dt.date(year, month_first, int(match.group(3)))
        except ValueError:
            return None
        return day, day
    last_day = calendar.monthrange(year, month_last)[1]
    return dt.date(year, month_first, 1), dt.date(year, month_last, last_day)


def _fast_bounds(raw: str) -> tuple[dt.date | None, dt.date | None] | None:
    """Bounds of the common EDTF forms without the (slow) grammar; ``None`` if not common.

    Covers days, months and years with an optional ``?``/``~``/``%`` qualifier, and
    intervals of those with open (``..``) or unknown (empty) ends. A property test checks
    these bounds against the edtf library's.
    """
    if "/" not in raw:
        return _simple_bounds(raw)
    first, _, second = raw.partition("/")
    lower_pair = None if first in ("", "..") else _simple_bounds(first)
    upper_pair = None if second in ("", "..") else _simple_bounds(second)
    if (lower_pair is None and first not in ("", "..")) or (
            upper_pair is None and second not in ("", "..")):
        return None
    if lower_pair is None and upper_pair is None:
        return None  # "../.." is for the library to judge
    return (lower_pair[0] if lower_pair else None, upper_pair[1] if upper_pair else None)


@functools.lru_cache(maxsize=4096)
def _bounds(raw: str) -> tuple[dt.date | None, dt.date | None]:
    fast = _fast_bounds(raw)
    if fast is not None:
        return fast
    return _library_bounds(raw)


def _library_bounds(raw: str) -> tuple[dt.date | None, dt.date | None]:
    """Bounds as the edtf library computes them, its quirks corrected.

    The library (its grammar is slow to import) is loaded on the first value the fast path
    does not cover.
    """
    from edtf import parse_edtf
    from edtf.parser.edtf_exceptions import EDTFParseException

    try:
        parsed = parse_edtf(raw)
        lower_raw = parsed.lower_strict()
        upper_raw = parsed.upper_strict()
    except EDTFParseException:
        raise DateError(f"{raw!r} is not a valid EDTF date "
                        "(examples: 2018-08-23, 2018-08, 2018?, 2018-06-24/2018-06-25, "
                        "../2018-10-23)") from None
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise DateError(f"{raw!r} is not a supported EDTF date") from None
    lower = None if _has_unknown_end(parsed, "lower") else _bound(lower_raw, raw)
    upper = None if _has_unknown_end(parsed, "upper") else _bound(upper_raw, raw)
    return lower, upper


def parse_valid_time(value: str, *, text: str | None = None,
                     anchor: str | None = None) -> ValidTime:
    """Parse an EDTF value into a :class:`ValidTime`, or raise :class:`DateError` saying why."""
    if not isinstance(value, str):
        raise DateError(f"a date must be an EDTF string, not {type(value).__name__}")
    raw = value.strip()
    if not raw:
        raise DateError("the date is empty (give an EDTF value such as 2018-08-23 or 2018-08)")
    lower, upper = _bounds(raw)
    if lower is None and upper is None:
        raise DateError(f"{raw!r} says nothing about when (both ends open); give at least one "
                        "bound, e.g. ../2018-10-23")
    if lower is not None and upper is not None and lower > upper:
        raise DateError(f"{raw!r}: the interval ends ({upper}) before it starts ({lower})")
    if anchor is not None:
        parse_anchor(anchor)
    if text is not None:
        _check_words(text)
    return ValidTime(edtf=raw, lower=lower, upper=upper, text=text, anchor=anchor)


#: Longest ``date_text`` (the source's own words for a date), in characters.
MAX_DATE_TEXT = 1_000
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _check_words(text: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise DateError("must be the source's words for the date, e.g. jeudi", where="date_text")
    if len(text) > MAX_DATE_TEXT:
        raise DateError(f"has {len(text):,} characters; the limit is {MAX_DATE_TEXT:,}",
                        where="date_text")
    found = _CONTROL.search(text)
    if found:
        raise DateError(f"contains the control character U+{ord(found.group()):04X}",
                        where="date_text")


def parse_anchor(value: str) -> dt.date | None:
    """Check an anchor date (an EDTF value, usually a day) and return its earliest day."""
    try:
        return parse_valid_time(value).lower
    except DateError as err:
        raise DateError(err.detail, where="date_anchor") from None


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
           "Dec")
_PLAIN_PART = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _part_words(part: str) -> tuple[str, str] | None:
    """One side of an EDTF value in words: (qualifier, ``24 Aug 2018``), or None when it is
    not a plain year, month or day (seasons, unspecified digits…: shown as EDTF only)."""
    qualifier = ""
    if part.endswith("%"):
        qualifier, part = "about, uncertain", part[:-1]
    elif part.endswith("~"):
        qualifier, part = "about", part[:-1]
    elif part.endswith("?"):
        qualifier, part = "uncertain", part[:-1]
    match = _PLAIN_PART.fullmatch(part)
    if match is None:
        return None
    year, month, day = match.groups()
    if month is None:
        return qualifier, year
    if not 1 <= int(month) <= 12:
        return None
    name = _MONTHS[int(month) - 1]
    return qualifier, f"{name} {year}" if day is None else f"{int(day)} {name} {year}"


def _qualified(qualifier: str, words: str) -> str:
    if qualifier == "about":
        return f"about {words}"
    if qualifier == "uncertain":
        return f"{words} (uncertain)"
    if qualifier:
        return f"about {words} (uncertain)"
    return words


def _between(first: str, last: str) -> str:
    """``between 1 and 3 Mar 2019``: what the two ends share is said once."""
    a, b = first.split(" "), last.split(" ")
    shared = 0
    while (len(a) == len(b) and shared < len(a) - 1
           and a[-1 - shared] == b[-1 - shared]):
        shared += 1
    if shared and len(a) > shared:
        first = " ".join(a[:len(a) - shared])
    return f"between {first} and {last}"


def is_plain(valid: ValidTime) -> bool:
    """A year, month or day with no qualifier and no interval: its EDTF value says it all."""
    part = None if "/" in valid.edtf else _part_words(valid.edtf)
    return part is not None and part[0] == ""


def date_words(valid: ValidTime) -> str:
    """The valid time in words, saying its uncertainty instead of hiding it: ``24 Aug
    2018``, ``Aug 2018``, ``about 27 Jun 2018``, ``16 Jul 2018 (uncertain)``, ``on or
    before 24 Aug 2018``, ``on or after 1 Sep 2018``, ``between 1 and 3 Mar 2019``. A form
    it has no words for (a season, unspecified digits) is given as its EDTF value."""
    edtf = valid.edtf
    if "/" not in edtf:
        part = _part_words(edtf)
        return edtf if part is None else _qualified(*part)
    start, end = edtf.split("/", 1)
    first = _part_words(start) if start not in ("", "..") else None
    last = _part_words(end) if end not in ("", "..") else None
    if start in ("", "..") and last is not None:
        return f"on or before {_qualified(*last)}"
    if end in ("", "..") and first is not None:
        return f"on or after {_qualified(*first)}"
    if first is not None and last is not None:
        return _between(_qualified(*first), _qualified(*last))
    return edtf
