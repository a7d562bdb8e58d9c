"""Sources and citations: registering text, locating quotes, what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventstore import AmbiguousQuote, CitationError, QuoteNotFound, SourceError, resolve_citation
from eventstore.sources import CONTEXT_CHARS, MAX_SOURCE_BYTES, FoldedText, prepare_source_text
from tests.conftest import ARTICLE_GENEVA, ARTICLE_MOSCOW

GENEVA = ARTICLE_GENEVA.read_text(encoding="utf-8")
MOSCOW = ARTICLE_MOSCOW.read_text(encoding="utf-8")
SID = "a" * 64


def test_a_source_over_4_mib_is_refused_naming_the_limit() -> None:
    assert MAX_SOURCE_BYTES == 4 * 2**20
    with pytest.raises(SourceError, match=r"^big\.txt: 4,194,305 bytes is larger than the limit "
                                          r"for a source, 4 MiB \(4,194,304 bytes\)"):
        prepare_source_text(b"a" * (MAX_SOURCE_BYTES + 1), "big.txt")


def test_source_id_is_the_hash_of_the_nfc_text() -> None:
    decomposed = "Nikolai\u0308 Patrouchev".encode()  # ï as i + combining diaeresis
    text, source_id, original = prepare_source_text(decomposed)
    assert text == "Nikolaï Patrouchev"
    again = prepare_source_text("Nikolaï Patrouchev".encode())
    assert again[1] == source_id and again[2] != original


@pytest.mark.parametrize(("data", "words"), [
    (b"", "empty"),
    (b"  \n\t ", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
    (b"caf\xe9", "not valid UTF-8 (byte 3"),
    (b"bell \x07 here", "control character U+0007"),
])
def test_bad_source_text(data: bytes, words: str) -> None:
    with pytest.raises(SourceError) as caught:
        prepare_source_text(data, "article.txt")
    assert "article.txt" in str(caught.value) and words in str(caught.value)


def test_exact_is_the_sources_own_text() -> None:
    cite = resolve_citation(GENEVA, SID, "ont eu jeudi une rencontre à Genève")
    assert GENEVA[cite.start:cite.end] == cite.exact == "ont eu jeudi une rencontre à Genève"
    assert cite.prefix == GENEVA[cite.start - CONTEXT_CHARS:cite.start]
    assert cite.suffix == GENEVA[cite.end:cite.end + CONTEXT_CHARS]


def test_typographic_variants_and_white_space_are_tolerated() -> None:
    typed = "Les Etats-Unis «ne toléreront pas»   une\ningérence"
    cite = resolve_citation(GENEVA, SID, typed)
    assert cite.exact == 'Les Etats-Unis "ne toléreront pas" une ingérence'


def test_guillemets_with_inner_spaces_match_plain_quotes() -> None:
    cite = resolve_citation(MOSCOW, SID, '"pas dans les meilleures conditions"')
    assert cite.exact == "« pas dans les meilleures conditions »"
    apostrophe = resolve_citation(GENEVA, SID, "marquée par l’existence de désaccords")
    assert apostrophe.exact == "marquée par l'existence de désaccords"


def test_missing_quote_shows_the_closest_passage() -> None:
    with pytest.raises(QuoteNotFound) as caught:
        resolve_citation(GENEVA, SID, "ont eu mardi une rencontre à Genève")
    assert "closest passage" in str(caught.value) and "rencontre à Genève" in str(caught.value)


def test_ambiguous_quote_lists_occurrences_and_start_picks_one() -> None:
    with pytest.raises(AmbiguousQuote) as caught:
        resolve_citation(GENEVA, SID, "M. Bolton")
    starts = caught.value.starts
    assert len(starts) >= 2 and "start=" in str(caught.value)
    chosen = resolve_citation(GENEVA, SID, "M. Bolton", start=starts[1])
    assert chosen.start == starts[1] and chosen.exact == "M. Bolton"


def test_start_that_matches_no_occurrence_is_refused() -> None:
    with pytest.raises(CitationError, match="does not occur at start=3"):
        resolve_citation(GENEVA, SID, "M. Bolton", start=3)


@pytest.mark.parametrize("quote", ["", "   ", "\n"])
def test_empty_quote(quote: str) -> None:
    with pytest.raises(CitationError, match="empty"):
        resolve_citation(GENEVA, SID, quote)


def test_span_citation_fills_in_exact() -> None:
    start = GENEVA.index("Genève")
    cite = resolve_citation(GENEVA, SID, start=start, end=start + 6)
    assert cite.exact == "Genève"


@pytest.mark.parametrize(("start", "end"), [(5, 5), (10, 3), (-1, 4), (0, 10_000_000)])
def test_span_outside_the_text(start: int, end: int) -> None:
    with pytest.raises(CitationError):
        resolve_citation(GENEVA, SID, start=start, end=end)


BODY = (0, GENEVA.index("Chine : une logistique plus verte"))


def test_page_furniture_outside_the_body_is_never_cited() -> None:
    with pytest.raises(CitationError, match="outside the body .* page furniture"):
        resolve_citation(GENEVA, SID, "Xiaomi va accélérer son expansion mondiale", body=BODY)
    start = GENEVA.index("Xiaomi")
    with pytest.raises(CitationError, match="outside the body"):
        resolve_citation(GENEVA, SID, start=start, end=start + 6, body=BODY)
    inside = resolve_citation(GENEVA, SID, "rencontre à Genève", body=BODY)
    assert inside.end <= BODY[1]


def test_an_occurrence_in_the_furniture_does_not_make_a_quote_ambiguous() -> None:
    text = "Le sommet a eu lieu à Helsinki.\nTitres : Helsinki accueille un salon"
    body = (0, text.index("Titres"))
    with pytest.raises(AmbiguousQuote):
        resolve_citation(text, SID, "Helsinki")
    assert resolve_citation(text, SID, "Helsinki", body=body).start == text.index("Helsinki")


def test_markers_are_found_tolerantly() -> None:
    from eventstore.sources import locate_marker
    assert locate_marker(GENEVA, "Chine :  une logistique") == BODY[1]
    assert locate_marker(GENEVA, "Genève", after=10_000) is None


_WORDS = st.lists(st.sampled_from(["India", "on", "Thursday", "l'Inde", "a", "expelled",
                                   "deux", "diplomates", "Islamabad", "said", "that", "jeudi"]),
                  min_size=1, max_size=30)


@given(_WORDS, _WORDS, st.text(alphabet="xyz ,", max_size=4))
def test_the_closest_passage_never_starts_or_ends_inside_a_word(
        text: list[str], quote: list[str], noise: str) -> None:
    """The passage a refusal shows is aligned on the quote's longest match, which is off by
    whatever the quote adds or drops before it: snapped to words, never 'dia on Thursday'."""
    original = " ".join(text)
    start, passage = FoldedText.of(original).closest(noise + " ".join(quote))
    assert original[start:start + len(passage)] == passage
    end = start + len(passage)
    if start > 0 and passage:
        assert not (original[start - 1].isalnum() and original[start].isalnum()), passage
    if end < len(original) and passage:
        assert not (original[end - 1].isalnum() and original[end].isalnum()), passage
