"""Sources and citations: pure code, no I/O.

A **source** is an article's text, normalised to Unicode NFC and identified by the
SHA-256 of that normalised text (content addressing: the same text always has the
same id). The SHA-256 of the bytes as received is kept too.

A **citation** points at an exact span of a source, in the shape of the W3C Web
Annotation selectors: a ``TextPositionSelector`` (``start``, ``end``: code points,
end exclusive) and a ``TextQuoteSelector`` (``exact``, ``prefix``, ``suffix``).
``exact`` is always the source's own text at ``[start, end)``, whatever spelling of
the quote the caller typed.

Locating a quote is tolerant in the ways people copy text: runs of white space count
as one space, typographic apostrophes and quotation marks match their plain forms
(’ ‘ ' and « » “ ” "), and the spaces French typography puts inside « » are
optional. It is strict in every other way: a quote that is not there is an error
showing the closest passage, and a quote that is there twice is an error listing
where, unless the caller says which one with ``start``.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import unicodedata
from collections.abc import Sequence
from typing import Any

import attrs

from .errors import AmbiguousQuote, CitationError, QuoteNotFound, SourceError

__all__ = [
    "Citation",
    "CitationRequest",
    "FoldedText",
    "MAX_SOURCE_BYTES",
    "CONTEXT_CHARS",
    "locate_marker",
    "prepare_source_text",
    "resolve_citation",
]

#: Largest source accepted, in bytes of UTF-8: 4 MiB. A news article is a few KiB; this
#: leaves room for a thousand times that (a long report, a transcript) and bounds what
#: citing costs: a source's folded text is kept in memory while quotes are located in it
#: (about 36 bytes a character, 144 MiB at the limit), and a quote that is not there is
#: compared with the whole text (12 s at the limit). See ``docs/citations.md``.
MAX_SOURCE_BYTES = 4 * 1024 * 1024
#: Largest quote accepted, in characters.
MAX_QUOTE_CHARS = 10_000
#: Characters of context kept on each side of a quote (TextQuoteSelector prefix/suffix).
CONTEXT_CHARS = 32

_APOSTROPHES = "’‘ʼ'`′"
_QUOTE_MARKS = "«»“”„‟\"‹›"
_FOLD = {ord(c): "'" for c in _APOSTROPHES} | {ord(c): '"' for c in _QUOTE_MARKS}


@attrs.frozen
class CitationRequest:
    """What a caller gives to cite a source: an id (or unique prefix) and a quote or a span."""

    source: str
    quote: str | None = None
    start: int | None = None
    end: int | None = None


@attrs.frozen
class Citation:
    """A resolved citation: the W3C TextPositionSelector and TextQuoteSelector of one span."""

    source: str
    start: int
    end: int
    exact: str
    prefix: str
    suffix: str

    @property
    def erased(self) -> bool:
        """The source's text was erased for a legal reason: the quote is gone ("")."""
        return self.exact == ""

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "start": self.start, "end": self.end,
                "exact": self.exact, "prefix": self.prefix, "suffix": self.suffix}


def _check_text(data: bytes, name: str) -> str:
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceError(f"{name}: {len(data):,} bytes is larger than the limit for a source, "
                          f"{MAX_SOURCE_BYTES // 2**20} MiB ({MAX_SOURCE_BYTES:,} bytes); "
                          "register the part of the text you cite")
    if b"\x00" in data:
        raise SourceError(f"{name}: the file is binary (it contains NUL bytes), not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SourceError(f"{name}: not valid UTF-8 (byte {err.start}: {err.reason})") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise SourceError(f"{name}: the text is empty")
    bad = [c for c in text if unicodedata.category(c) == "Cc" and c not in "\n\r\t\f"]
    if bad:
        offset = text.index(bad[0])
        raise SourceError(f"{name}: control character U+{ord(bad[0]):04X} at character {offset};"
                          " a source must be plain text")
    return text


def prepare_source_text(data: bytes, name: str = "source") -> tuple[str, str, str]:
    """Decode and normalise an article: returns ``(nfc_text, id, original_sha256)``.

    ``id`` is the hex SHA-256 of the NFC text encoded as UTF-8; ``original_sha256`` is
    that of ``data`` as received. Raises :class:`SourceError` for empty, binary, non-UTF-8
    or oversized input.
    """
    text = unicodedata.normalize("NFC", _check_text(data, name))
    source_id = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return text, source_id, hashlib.sha256(data).hexdigest()


@attrs.frozen
class FoldedText:
    """A text folded for tolerant matching, with a map back to the original offsets.

    ``folded[i]`` comes from ``original[origin[i]]``; a run of white space folds to one
    space whose origin is the run's first character.
    """

    original: str
    folded: str
    origin: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> FoldedText:
        chars: list[str] = []
        origin: list[int] = []
        translated = text.translate(_FOLD)
        for index, char in enumerate(translated):
            if char.isspace():
                if chars and chars[-1] == " ":
                    continue
                if chars and chars[-1] == '"':
                    continue  # no space right after a quotation mark
                char = " "
            elif char == '"' and chars and chars[-1] == " ":
                chars.pop()  # no space right before a quotation mark
                origin.pop()
            chars.append(char)
            origin.append(index)
        return cls(original=text, folded="".join(chars), origin=tuple(origin))

    def find_all(self, needle: str) -> list[tuple[int, int]]:
        """Every ``(start, end)`` in original offsets where folded ``needle`` occurs."""
        spans = []
        at = self.folded.find(needle)
        while at != -1:
            last = at + len(needle) - 1
            spans.append((self.origin[at], self.origin[last] + 1))
            at = self.folded.find(needle, at + 1)
        return spans

    def closest(self, needle: str) -> tuple[int, str]:
        """The passage of the original text most like ``needle``: ``(offset, passage)``."""
        matcher = difflib.SequenceMatcher(None, self.folded, needle, autojunk=False)
        match = matcher.find_longest_match(0, len(self.folded), 0, len(needle))
        if match.size == 0:
            start_folded = 0
        else:
            start_folded = max(0, match.a - match.b)
        end_folded = min(len(self.folded), start_folded + len(needle)) - 1
        if not self.folded:
            return 0, ""
        # the alignment is off by what the quote adds or drops before its longest match:
        # never start or end the passage inside a word
        # (a word is at most _WORD_REACH characters: scripts written without spaces, such
        # as Chinese and Japanese, would otherwise widen it to the whole clause)
        folded = self.folded
        floor, ceiling = start_folded - _WORD_REACH, end_folded + _WORD_REACH
        while floor < start_folded < len(folded) and start_folded > 0 \
                and folded[start_folded - 1].isalnum() and folded[start_folded].isalnum():
            start_folded -= 1
        while 0 <= end_folded < min(len(folded) - 1, ceiling) and folded[end_folded].isalnum() \
                and folded[end_folded + 1].isalnum():
            end_folded += 1
        start = self.origin[start_folded]
        end = self.origin[max(end_folded, start_folded)] + 1
        return start, self.original[start:end]


#: How far the closest passage may move to reach a word's edge.
_WORD_REACH = 24


@functools.lru_cache(maxsize=8192)
def _fold_quote(quote: str) -> str:
    folded = FoldedText.of(unicodedata.normalize("NFC", quote)).folded
    return folded.strip()


def _make_citation(text: str, source_id: str, start: int, end: int) -> Citation:
    return Citation(
        source=source_id, start=start, end=end, exact=text[start:end],
        prefix=text[max(0, start - CONTEXT_CHARS):start],
        suffix=text[end:end + CONTEXT_CHARS],
    )


def _short(source_id: str) -> str:
    return source_id[:12]


def _by_span(text: str, source_id: str, start: int | None, end: int | None) -> Citation:
    if start is None or end is None:
        raise CitationError("a citation needs a quote, or both start and end")
    if not (0 <= start < end <= len(text)):
        raise CitationError(f"span [{start}, {end}) is not inside source {_short(source_id)} "
                            f"(its text has {len(text)} characters; end is exclusive)")
    if not text[start:end].strip():
        raise CitationError(f"span [{start}, {end}) of source {_short(source_id)} is only "
                            "white space")
    return _make_citation(text, source_id, start, end)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _occurrences_message(text: str, spans: Sequence[tuple[int, int]]) -> str:
    shown = [f"start={s} (…{_one_line(text[max(0, s - 20):s])} [{_one_line(text[s:e])}]…)"
             for s, e in spans[:5]]
    more = f" and {len(spans) - 5} more" if len(spans) > 5 else ""
    return "; ".join(shown) + more


def locate_marker(text: str | FoldedText, marker: str, *, after: int = 0) -> int | None:
    """Where ``marker`` first occurs at or after ``after`` (tolerant matching), or ``None``."""
    folded = text if isinstance(text, FoldedText) else FoldedText.of(text)
    needle = _fold_quote(marker)
    if not needle:
        return None
    for span_start, _ in folded.find_all(needle):
        if span_start >= after:
            return span_start
    return None


def _outside_body(source_id: str, body: tuple[int, int], spans: Sequence[tuple[int, int]],
                  what: str) -> CitationError:
    where = ", ".join(f"start={s}" for s, _ in spans[:5])
    return CitationError(f"{what} is outside the body of source {_short(source_id)} "
                         f"({where}): the citable body is [{body[0]}, {body[1]}) and the rest "
                         "is page furniture (headlines, navigation), which is never cited")


def resolve_citation(text: str | FoldedText, source_id: str, quote: str | None = None,
                     start: int | None = None, end: int | None = None,
                     body: tuple[int, int] | None = None) -> Citation:
    """Find the exact span a citation points at in ``text`` (a source's NFC text).

    Give ``quote`` (optionally with ``start``, or ``start``/``end``, to pick one of
    several occurrences), or ``start`` and ``end`` alone. When the source declares its
    ``body`` (the article, without the page's furniture), only spans inside it can be
    cited. Raises :class:`QuoteNotFound`, :class:`AmbiguousQuote` or :class:`CitationError`.
    """
    folded = text if isinstance(text, FoldedText) else FoldedText.of(text)
    original = folded.original
    if quote is None:
        cited = _by_span(original, source_id, start, end)
        if body is not None and not (body[0] <= cited.start and cited.end <= body[1]):
            raise _outside_body(source_id, body, [(cited.start, cited.end)],
                                f"span [{cited.start}, {cited.end})")
        return cited
    if not isinstance(quote, str):
        raise CitationError(f"quote must be text, not {type(quote).__name__}")
    if len(quote) > MAX_QUOTE_CHARS:
        raise CitationError(f"the quote has {len(quote):,} characters; the limit is "
                            f"{MAX_QUOTE_CHARS:,} (cite a shorter span)")
    needle = _fold_quote(quote)
    if not needle:
        raise CitationError("the quote is empty")
    spans = folded.find_all(needle)
    if not spans:
        offset, passage = folded.closest(needle)
        after = original[offset + len(passage):offset + len(passage) + 15]
        raise QuoteNotFound(f"quote {quote!r} is not in source {_short(source_id)}; "
                            f"closest passage at start={offset}: "
                            f"{_one_line(passage + after)!r}…")
    if body is not None:
        inside = [(s, e) for s, e in spans if body[0] <= s and e <= body[1]]
        if not inside:
            raise _outside_body(source_id, body, spans, f"quote {quote!r}")
        spans = inside
    if start is not None or end is not None:
        chosen = [(s, e) for s, e in spans
                  if (start is None or s == start) and (end is None or e == end)]
        if not chosen:
            raise CitationError(f"quote {quote!r} does not occur at start={start} end={end} "
                                f"in source {_short(source_id)}; it occurs at "
                                + _occurrences_message(original, spans))
        spans = chosen
    if len(spans) > 1:
        raise AmbiguousQuote(
            f"quote {quote!r} occurs {len(spans)} times in source {_short(source_id)}: "
            + _occurrences_message(original, spans)
            + "; give a longer quote or the start of the one you mean",
            starts=[s for s, _ in spans])
    return _make_citation(original, source_id, *spans[0])
