"""Valid time: EDTF values, their bounds, and what is refused."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from eventstore import DateError, parse_valid_time

D = dt.date


@pytest.mark.parametrize(("value", "lower", "upper"), [
    ("2018-08-23", D(2018, 8, 23), D(2018, 8, 23)),
    ("2018-08", D(2018, 8, 1), D(2018, 8, 31)),
    ("2018-02", D(2018, 2, 1), D(2018, 2, 28)),
    ("2020-02", D(2020, 2, 1), D(2020, 2, 29)),
    ("2018", D(2018, 1, 1), D(2018, 12, 31)),
    ("2018?", D(2018, 1, 1), D(2018, 12, 31)),       # not widened to 2017..2019
    ("2018-08~", D(2018, 8, 1), D(2018, 8, 31)),
    ("2018-06-24/2018-06-25", D(2018, 6, 24), D(2018, 6, 25)),
    ("../2018-10-23", None, D(2018, 10, 23)),
    ("2018-08-23/..", D(2018, 8, 23), None),
    ("/2018-10-23", None, D(2018, 10, 23)),          # unknown start is not a date
    ("2018-XX", D(2018, 1, 1), D(2018, 12, 31)),
    ("2020-02-29", D(2020, 2, 29), D(2020, 2, 29)),
])
def test_bounds(value: str, lower: D | None, upper: D | None) -> None:
    valid = parse_valid_time(value)
    assert (valid.edtf, valid.lower, valid.upper) == (value, lower, upper)


@pytest.mark.parametrize(("value", "words"), [
    ("2018-02-30", "not a valid EDTF date"),
    ("2018-02-29", "not a real calendar date"),
    ("2018-13", "not a valid EDTF date"),
    ("2018-04-31", "not a valid EDTF date"),
    ("2018-06-25/2018-06-24", "ends (2018-06-24) before it starts"),
    ("jeudi", "not a valid EDTF date"),
    ("", "empty"),
    ("-0044", "outside the supported range"),
])
def test_refused(value: str, words: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_valid_time(value)
    assert words in str(caught.value)


def test_source_words_and_anchor_are_kept() -> None:
    valid = parse_valid_time("2018-08-23", text="jeudi", anchor="2018-08-24")
    assert valid.text == "jeudi" and valid.anchor == "2018-08-24" and valid.is_day


def test_bad_anchor_is_named() -> None:
    with pytest.raises(DateError) as caught:
        parse_valid_time("2018-08-23", anchor="24/08")
    assert caught.value.where == "date_anchor"


# The common forms are parsed without the edtf grammar (it costs milliseconds a value);
# their bounds must be exactly the library's.
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from eventstore.dates import _fast_bounds, _library_bounds  # noqa: E402


@st.composite
def simple_edtf(draw: st.DrawFn) -> str:
    year = draw(st.integers(1, 9999))
    text = f"{year:04d}"
    if draw(st.booleans()):
        text += f"-{draw(st.integers(1, 12)):02d}"
        if draw(st.booleans()):
            text += f"-{draw(st.integers(1, 31)):02d}"
    return text + draw(st.sampled_from(["", "", "?", "~", "%"]))


@st.composite
def common_edtf(draw: st.DrawFn) -> str:
    shape = draw(st.sampled_from(["single", "interval", "open-start", "open-end", "unknown"]))
    if shape == "single":
        return draw(simple_edtf())
    if shape == "open-start":
        return f"../{draw(simple_edtf())}"
    if shape == "open-end":
        return f"{draw(simple_edtf())}/.."
    if shape == "unknown":
        return f"/{draw(simple_edtf())}"
    return f"{draw(simple_edtf())}/{draw(simple_edtf())}"


@given(common_edtf())
def test_fast_bounds_equal_the_library_bounds(value: str) -> None:
    try:
        expected: object = _library_bounds(value)
    except DateError:
        expected = DateError
    fast = _fast_bounds(value)
    if fast is None:
        return  # left to the library
    assert fast == expected, value


@pytest.mark.parametrize(("words", "message"), [
    ("", "must be the source's words"),
    ("x" * 1001, "the limit is 1,000"),
    ("jeu\x00di", "control character U+0000"),
])
def test_the_sources_words_are_checked(words: str, message: str) -> None:
    with pytest.raises(DateError, match=re.escape(message)) as caught:
        parse_valid_time("2018-08-23", text=words)
    assert caught.value.where == "date_text"


def test_a_date_with_no_bound_at_all() -> None:
    with pytest.raises(DateError, match="says nothing about when"):
        parse_valid_time("../..")


@pytest.mark.parametrize(("edtf", "words"), [
    ("2018-08-24", "24 Aug 2018"),
    ("2018-08", "Aug 2018"),
    ("2018", "2018"),
    ("../2018-08-24", "on or before 24 Aug 2018"),
    ("2018-09-01/..", "on or after 1 Sep 2018"),
    ("2019-03-01/2019-03-03", "between 1 and 3 Mar 2019"),
    ("2018-06-27/2018-07", "between 27 Jun 2018 and Jul 2018"),
    ("2017-12/2018-02", "between Dec 2017 and Feb 2018"),
    ("2018-06-27~", "about 27 Jun 2018"),
    ("2018-07-16?", "16 Jul 2018 (uncertain)"),
    ("2018-08-20%", "about 20 Aug 2018 (uncertain)"),
    ("2018?", "2018 (uncertain)"),
    ("2018-21", "2018-21"),  # a season: no words, the EDTF value itself
])
def test_dates_in_words(edtf: str, words: str) -> None:
    from eventstore.dates import date_words, is_plain
    valid = parse_valid_time(edtf)
    assert date_words(valid) == words
    assert is_plain(valid) is (edtf in ("2018-08-24", "2018-08", "2018"))
