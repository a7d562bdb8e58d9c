"""Relative dates: the source's words for a date, resolved against the anchor they were
written against ("jeudi" before 2018-08-24 is 2018-08-23).

Owns :func:`resolve_words` (the words and an anchor → what they mean, or ``None`` when
the store cannot tell), :func:`check_words` (a fact's date against its words: a
:class:`~eventstore.errors.DateError` naming both when they disagree) and
:func:`resolved_valid_time` (the date the store fills in for a fact that gives words and
an anchor but no date). Pure: the answer is a function of (words, anchor, language hint).

The language side is the ``dateparser`` library (French, English and many more; weekday
names, "hier", "la semaine dernière", "le mois dernier", "16 juillet" …, relative to a
base). It is imported on first use (it is slow to import and ``eventstore --version``
must not wait for it). Its quirks are corrected here, in one place, and pinned by
``tests/test_relative.py``:

* a weekday alone is the one *before* the anchor ("jeudi" on Friday 24 August 2018 is
  the 23rd); the anchor's own weekday is ambiguous (that day, or a week before) and is
  not resolved;
* a day and month without a year ("16 juillet") is the occurrence nearest the anchor
  (dateparser, told to prefer the past, would put "5 septembre" written on 24 August
  2018 in 2017);
* a weekday written beside a day ("Thursday 16 July") is ignored by dateparser; here it
  must agree with the day, or the words are refused;
* "jeudi dernier" (not understood by dateparser) is read as "jeudi";
* periods come back as one day inside them (the 17th for "la semaine dernière"): they
  are turned into what they name: the week Monday to Sunday, the month, the year;
* an anchor that is a month or a year (``2018`` for "Le 27 juin" with no year printed)
  resolves only words that mean the same whichever day of it they were written on.

May import: the standard library, attrs, ``eventstore.dates`` and ``eventstore.errors``;
``dateparser`` inside the functions that need it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import unicodedata

import attrs

from .dates import ValidTime, date_words, parse_valid_time
from .errors import DateError

__all__ = ["Resolution", "resolve_words", "check_words", "resolved_valid_time",
           "DEFAULT_LANGUAGES"]

#: The languages words are read in when no hint is given (the sources are French and
#: English); a hint is tried first.
DEFAULT_LANGUAGES = ("fr", "en")


@attrs.frozen
class Resolution:
    """What the words mean against the anchor: ``edtf`` (a day, a week as an interval, a
    month or a year) with its bounds, and ``relation`` (``before 2018-08-24``,
    ``in 2018``) for messages."""

    edtf: str
    lower: dt.date
    upper: dt.date
    relation: str

    def said(self) -> str:
        """``2018-08-23``, or ``2018-08-13/2018-08-19 (between 13 and 19 Aug 2018)``."""
        valid = parse_valid_time(self.edtf)
        words = date_words(valid)
        return self.edtf if words == self.edtf or "/" not in self.edtf \
            else f"{self.edtf} ({words})"


# -- the words --------------------------------------------------------------------------

_WEEKDAYS = {
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5,
    "dimanche": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
}
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                  "Sunday")
_WORD = re.compile(r"[a-z]+")
_LAST_WEEKDAY = re.compile(r"\b(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
                           r"\s+derni(?:er|ere)\b")


def _folded(text: str) -> str:
    """Lower case, accents removed, spaces collapsed: for finding the words we look for."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _named_weekday(words: str) -> int | None:
    """The weekday the words name (0 = Monday), if they name exactly one."""
    found = {_WEEKDAYS[w] for w in _WORD.findall(_folded(words)) if w in _WEEKDAYS}
    return found.pop() if len(found) == 1 else None


def _prepared(words: str) -> str:
    """The words as dateparser reads them best: "jeudi dernier" → "jeudi"."""
    text = " ".join(words.split()).strip(" .,;:")
    folded = _folded(text)
    match = _LAST_WEEKDAY.search(folded)
    if match is not None:
        return match.group(1)
    return text


# -- dateparser, wrapped ----------------------------------------------------------------

#: A parsed answer: a day inside the period the words name, and that period.
_Parsed = tuple[dt.date, str]


def _parse(words: str, base: dt.date, prefer: str, languages: tuple[str, ...]
           ) -> _Parsed | None:
    from dateparser.date import DateDataParser

    settings = {"RELATIVE_BASE": dt.datetime(base.year, base.month, base.day),
                "PREFER_DATES_FROM": prefer, "RETURN_TIME_AS_PERIOD": True}
    try:
        found = DateDataParser(languages=list(languages), settings=settings
                               ).get_date_data(words)
    except (ValueError, TypeError, OverflowError, KeyError):  # it has no answer for these
        return None
    if found is None or found.date_obj is None:
        return None
    period = found.period if found.period in ("week", "month", "year") else "day"
    return found.date_obj.date(), period


def _span(parsed: _Parsed) -> tuple[str, dt.date, dt.date]:
    """The period a parsed answer names: (EDTF, first day, last day)."""
    day, period = parsed
    if period == "week":
        monday = day - dt.timedelta(days=day.weekday())
        sunday = monday + dt.timedelta(days=6)
        return f"{monday.isoformat()}/{sunday.isoformat()}", monday, sunday
    if period == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return (f"{day.year:04d}-{day.month:02d}", day.replace(day=1),
                day.replace(day=last))
    if period == "year":
        return f"{day.year:04d}", dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
    return day.isoformat(), day, day


def _distance(span: tuple[str, dt.date, dt.date], day: dt.date) -> int:
    _, first, last = span
    if day < first:
        return (first - day).days
    if day > last:
        return (day - last).days
    return 0


def _against_day(words: str, anchor: dt.date, languages: tuple[str, ...]
                 ) -> tuple[str, dt.date, dt.date] | None:
    past = _parse(words, anchor, "past", languages)
    if past is None:
        return None
    future = _parse(words, anchor, "future", languages)
    if future is None or _span(past) == _span(future):
        return _span(past)
    gap = (future[0] - past[0]).days
    if gap == 7 and past[1] == "day":  # a weekday alone: the one before the anchor
        return _span(past)
    if gap >= 28:  # no year (or month) given: the occurrence nearest the anchor
        near_past, near_future = _span(past), _span(future)
        if _distance(near_future, anchor) < _distance(near_past, anchor):
            return near_future
        return near_past
    return None  # the anchor's own weekday (that day, or a week before): ambiguous


def _against_period(words: str, first: dt.date, last: dt.date,
                    languages: tuple[str, ...]) -> tuple[str, dt.date, dt.date] | None:
    """Words read against a month or a year: resolved only when every day of it gives the
    same answer (its first and last day do), inside it."""
    early = _parse(words, first, "current_period", languages)
    late = _parse(words, last, "current_period", languages)
    if early is None or late is None or _span(early) != _span(late):
        return None
    span = _span(early)
    return span if first <= span[1] and span[2] <= last else None


def _relation(anchor: str, first: dt.date, last: dt.date,
              span: tuple[str, dt.date, dt.date]) -> str:
    if first != last:
        return f"in {anchor}"
    if span[2] < first:
        return f"before {anchor}"
    if span[1] > last:
        return f"after {anchor}"
    return f"written {anchor}"


def _languages(hint: str | None) -> tuple[str, ...]:
    if hint is None or not re.fullmatch(r"[a-z]{2,3}", hint.strip().lower()):
        return DEFAULT_LANGUAGES
    code = hint.strip().lower()
    return (code, *(c for c in DEFAULT_LANGUAGES if c != code))


@functools.lru_cache(maxsize=4096)
def resolve_words(words: str, anchor: str, language: str | None = None
                  ) -> Resolution | None:
    """What ``words`` mean written on ``anchor`` (an EDTF value: a day, or a month or year
    when only that is known), in the language ``language`` (an ISO 639-1 code; French and
    English are always tried), or ``None`` when the store cannot tell.

    Raises :class:`DateError` when the words contradict themselves ("Thursday 16 July"
    written in 2018, when 16 July 2018 was a Monday).
    """
    anchor = anchor.strip()
    valid = parse_valid_time(anchor)
    if valid.lower is None or valid.upper is None or not words.strip():
        return None
    prepared = _prepared(words)
    languages = _languages(language)
    if valid.lower == valid.upper:
        span = _against_day(prepared, valid.lower, languages)
    else:
        span = _against_period(prepared, valid.lower, valid.upper, languages)
    if span is None:
        return None
    weekday = _named_weekday(words)
    if weekday is not None and span[1] == span[2] and span[1].weekday() != weekday:
        day = span[1]
        raise DateError(f"{words!r} contradicts itself: {day.day} "
                        f"{calendar.month_abbr[day.month]} {day.year} is a "
                        f"{_WEEKDAY_NAMES[day.weekday()]}, not a {_WEEKDAY_NAMES[weekday]}",
                        where="date_text")
    return Resolution(edtf=span[0], lower=span[1], upper=span[2],
                      relation=_relation(anchor, valid.lower, valid.upper, span))


# -- facts ------------------------------------------------------------------------------

def _within(inner_lower: dt.date | None, inner_upper: dt.date | None,
            outer_lower: dt.date | None, outer_upper: dt.date | None) -> bool:
    """Whether [inner] lies inside [outer] (``None``: unbounded on that side)."""
    lower_ok = outer_lower is None or (inner_lower is not None and outer_lower <= inner_lower)
    upper_ok = outer_upper is None or (inner_upper is not None and inner_upper <= outer_upper)
    return lower_ok and upper_ok


def check_words(valid: ValidTime, language: str | None = None) -> None:
    """Refuse a date that disagrees with the words it was read from.

    A date agrees with its words when one lies inside the other: ``2018-08-23`` with
    "jeudi" before 2018-08-24, or ``2018-07-16`` (more precise, from elsewhere) with "le
    mois dernier", or ``2018-08`` (less precise) with "jeudi". Words the store cannot
    resolve are accepted as they are. A date marked ``resolved`` must be what the store
    resolves the words to (the mark is the store's, not a way around the check).
    """
    if valid.resolved:
        meant = None if valid.text is None or valid.anchor is None \
            else resolve_words(valid.text, valid.anchor, language)
        if meant is None or (meant.edtf, meant.lower, meant.upper) != (
                valid.edtf, valid.lower, valid.upper):
            raise DateError(f"date {valid.edtf} is marked as resolved by the store, but it "
                            "is not what the store resolves its words to; give it as the "
                            "fact's date, unmarked")
        return
    if valid.text is None or valid.anchor is None:
        return
    meant = resolve_words(valid.text, valid.anchor, language)
    if meant is None:
        return
    if _within(valid.lower, valid.upper, meant.lower, meant.upper) or _within(
            meant.lower, meant.upper, valid.lower, valid.upper):
        return
    raise DateError(f"date {valid.edtf} does not match {valid.text!r} {meant.relation}: "
                    f"that is {meant.said()}")


def resolved_valid_time(words: str, anchor: str, language: str | None = None) -> ValidTime:
    """The valid time the store fills in for words and an anchor given without a date,
    marked ``resolved``; :class:`DateError` when the words cannot be resolved."""
    valid = parse_valid_time("2000", text=words, anchor=anchor)  # checks words and anchor
    meant = resolve_words(words, anchor, language)
    if meant is None:
        raise DateError(f"missing: the store cannot resolve {words!r} against "
                        f"{valid.anchor}; give the date it means (e.g. --date 2018-08-23); "
                        "docs/dates.md#relative-dates-checked lists the words it reads",
                        where="date")
    return ValidTime(edtf=meant.edtf, lower=meant.lower, upper=meant.upper, text=words,
                     anchor=valid.anchor, resolved=True)
