"""Sources: registering articles, finding them by id or prefix, and their texts.

A source is content-addressed (its id is the SHA-256 of its NFC text) and registered by
an event (``source.registered``) written through the appender, in the transaction that
stores its row and its text. Imports: ``db``, ``rows``, ``erasure`` (what an erased
source's refusal says) and the pure core.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from ..codec import (
    unstructure_data,
)
from ..dates import parse_valid_time
from ..errors import (
    AmbiguousSourcePrefix,
    SourceError,
    SourceNotFound,
    ValidationError,
)
from ..events import _utc_text
from ..facts import (
    FieldValueError,
    PublicationBasis,
    SourceRegistered,
)
from ..sources import (
    Citation,
    FoldedText,
    locate_marker,
    prepare_source_text,
)
from . import schema as t
from .db import Database
from .erasure import Erasure, erasure_of
from .rows import (
    citation_of,
    source_row,
    source_text_row,
)
from .states import Budgeted

if TYPE_CHECKING:
    from .append import Appender, _Prepared

#: Sources whose folded text is kept in memory for locating quotes.
_SOURCE_CACHE_SIZE = 64


@attrs.frozen
class SourceInfo:
    """A registered source's metadata. ``new`` is False when the text was already stored."""

    id: str
    original_sha256: str
    length: int
    body_start: int
    body_end: int
    title: str | None
    outlet: str | None
    url: str | None
    published: str | None
    language: str | None
    position: int
    #: The news agency whose wire copy ``outlet`` republished (source.registered v2).
    agency: str | None = None
    #: How ``published`` is known: stated, url, dateline or inferred.
    published_basis: str | None = None
    #: A free note on the source.
    note: str | None = None
    new: bool = False
    #: What the caller gave that differs from the stored registration (which never changes).
    ignored: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self) | {"ignored": list(self.ignored)}


@attrs.frozen
class NewSource:
    """A source to register: its bytes (or text) and what is known about it."""

    data: bytes | str
    title: str | None = None
    outlet: str | None = None
    url: str | None = None
    published: str | None = None
    language: str | None = None
    #: How error messages name it (a file name).
    name: str = "source"
    #: The article's body starts where this text first occurs (default: at the start).
    body_from: str | None = None
    #: The body ends where this text first occurs after its start: the page furniture
    #: (unrelated headlines, share buttons) from there on can never be cited.
    body_until: str | None = None
    #: The news agency whose wire copy this is, when ``outlet`` republished it (AFP).
    agency: str | None = None
    #: How ``published`` is known: ``stated``, ``url``, ``dateline`` or ``inferred``.
    published_basis: str | None = None
    #: A free note on the source (how it was obtained, what is odd about it).
    note: str | None = None


def _body(item: NewSource, text: str) -> tuple[int, int]:
    start, end = 0, len(text)
    if item.body_from is not None:
        found = locate_marker(text, item.body_from)
        if found is None:
            raise ValidationError(f"--body-from text {item.body_from!r} is not in the source",
                                  where=item.name)
        start = found
    if item.body_until is not None:
        found = locate_marker(text, item.body_until, after=start + 1)
        if found is None:
            raise ValidationError(f"--body-until text {item.body_until!r} is not in the "
                                  "source after the body's start", where=item.name)
        end = found
    if not text[start:end].strip():
        raise ValidationError("the body is empty", where=item.name)
    return start, end


_METADATA = ("title", "outlet", "url", "published", "language", "body_start", "body_end",
             "agency", "published_basis", "note")


def _check_source(item: NewSource) -> tuple[str, SourceRegistered]:
    raw = item.data.encode("utf-8") if isinstance(item.data, str) else item.data
    text, source_id, original = prepare_source_text(raw, item.name)
    body_start, body_end = _body(item, text)
    if item.published is not None:
        try:
            parse_valid_time(item.published)
        except ValidationError as err:
            raise err.at(f"{item.name}: published") from None
    basis = _publication_basis(item)
    try:
        payload = SourceRegistered(source=source_id, original_sha256=original, length=len(text),
                                   body_start=body_start, body_end=body_end,
                                   title=item.title, outlet=item.outlet, url=item.url,
                                   published=item.published, language=item.language,
                                   agency=item.agency, published_basis=basis, note=item.note)
    except FieldValueError as err:
        raise ValidationError(str(err), where=f"{item.name}: {err.field}") from None
    except (TypeError, ValueError) as err:
        raise ValidationError(str(err), where=item.name) from None
    return text, payload


def _publication_basis(item: NewSource) -> PublicationBasis | None:
    """The source's ``published_basis`` checked: one of the words, and only with a date."""
    if item.published_basis is None:
        return None
    try:
        basis = PublicationBasis(item.published_basis)
    except ValueError:
        raise ValidationError(f"{item.published_basis!r} is not one of "
                              + ", ".join(b.value for b in PublicationBasis),
                              where=f"{item.name}: published_basis") from None
    if item.published is None:
        raise ValidationError("says how the publication date is known, but no date is given "
                              "(published)", where=f"{item.name}: published_basis")
    return basis


@attrs.frozen
class Source:
    """A source with its text (None when the text was erased: see ``erasure``)."""

    info: SourceInfo
    text: str | None
    erasure: Erasure | None = None


@attrs.frozen
class CitedSpan:
    """A span of a source that a stored event cites."""

    position: int
    event_id: uuid.UUID
    type: str
    citation: Citation



class Sources:
    """The registered sources: registering them (through the appender, as events),
    looking them up by id or prefix, and their folded texts for locating quotes (kept,
    bounded: a source's text never changes but by erasure, which :meth:`forget` s it).
    Safe to share between threads."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._known: set[str] = set()  # full ids seen: sources never go away
        self._folded: Budgeted[tuple[FoldedText, tuple[int, int]]] = Budgeted(
            _SOURCE_CACHE_SIZE, lambda _: 1)

    def add(self, items: Sequence[NewSource], appender: Appender) -> list[SourceInfo]:
        """Register several sources in one transaction: all of them, or none if one is bad."""
        prepared: dict[str, tuple[_Prepared, str, SourceRegistered]] = {}
        order = []
        for item in items:
            text, payload = _check_source(item)
            order.append(payload.source)
            if payload.source not in prepared:
                prepared[payload.source] = (appender.prepare_system(payload), text, payload)
        with self._db.write() as conn:
            stored = set(conn.execute(sa.select(t.sources.c.id)
                                      .where(t.sources.c.id.in_(list(prepared)))).scalars())
            fresh = [source_id for source_id in prepared if source_id not in stored]
            appended = appender.write(conn, [prepared[s][0] for s in fresh], {})
            for source_id, where in zip(fresh, appended, strict=True):
                _, text, payload = prepared[source_id]
                conn.execute(t.sources.insert(),
                             source_row(unstructure_data(payload), where.position))
                conn.execute(t.source_texts.insert(), source_text_row(source_id, text))
        infos = []
        for item, source_id in zip(items, order, strict=True):
            info = self.info(source_id)
            assert info is not None
            given = prepared[source_id][2]
            ignored = tuple(name for name in _METADATA if getattr(given, name) is not None
                            and getattr(given, name) != getattr(info, name))
            if item.body_from is None and item.body_until is None:
                ignored = tuple(n for n in ignored if not n.startswith("body_"))
            infos.append(attrs.evolve(info, new=source_id in fresh, ignored=ignored))
        return infos

    def info(self, source_id: str) -> SourceInfo | None:
        with self._db.read() as conn:
            row = conn.execute(sa.select(t.sources).where(t.sources.c.id == source_id)).first()
        return None if row is None else SourceInfo(**row._asdict())

    def resolve(self, ref: str) -> str:
        """The full id of the source ``ref`` names: its id, or a unique prefix (≥ 8 hex digits)."""
        prefix = ref.strip().lower() if isinstance(ref, str) else ""
        if len(prefix) < 8 or len(prefix) > 64 or any(c not in "0123456789abcdef" for c in prefix):
            raise SourceNotFound(f"{ref!r} is not a source id: give the id or a prefix of at "
                                 "least 8 hex digits (see `eventstore source list`)")
        if prefix in self._known:  # a full id seen before: sources never go away
            return prefix
        upper = prefix + "g"  # every id with this prefix sorts in [prefix, prefix + "g")
        with self._db.read() as conn:
            rows = conn.execute(sa.select(t.sources.c.id)
                                .where(t.sources.c.id >= prefix, t.sources.c.id < upper)
                                .order_by(t.sources.c.id).limit(6)).scalars().all()
        if not rows:
            raise SourceNotFound(f"no source has the id {ref!r} "
                                 "(see `eventstore source list`)")
        if len(rows) > 1:
            raise AmbiguousSourcePrefix(f"source prefix {ref!r} is ambiguous: it matches "
                                        + ", ".join(r[:16] for r in rows[:5])
                                        + "; give more digits")
        self._known.add(str(rows[0]))  # only full ids: a prefix may turn ambiguous
        return str(rows[0])

    def get(self, ref: str) -> Source:
        """A source's metadata and text, by id or unique prefix."""
        source_id = self.resolve(ref)
        with self._db.read() as conn:
            row = conn.execute(sa.select(t.sources, t.source_texts.c.text)
                               .join(t.source_texts, t.source_texts.c.source_id == t.sources.c.id,
                                     isouter=True)
                               .where(t.sources.c.id == source_id)).one()
            erasure = None if row.text is not None else erasure_of(conn, source_id=source_id)
        fields = row._asdict()
        text = fields.pop("text")
        return Source(info=SourceInfo(**fields), text=text, erasure=erasure)

    def registered(self) -> list[SourceInfo]:
        """Every registered source, in the order they were registered."""
        with self._db.read() as conn:
            rows = conn.execute(sa.select(t.sources).order_by(t.sources.c.position)).all()
        return [SourceInfo(**row._asdict()) for row in rows]

    def citations_of(self, ref: str) -> list[CitedSpan]:
        """Every span of a source that stored events cite, in log order."""
        source_id = self.resolve(ref)
        query = (sa.select(t.citations, t.events.c.event_id, t.events.c.type)
                 .join(t.events, t.events.c.position == t.citations.c.position)
                 .where(t.citations.c.source_id == source_id)
                 .order_by(t.citations.c.position, t.citations.c.ordinal))
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [CitedSpan(position=r.position, event_id=uuid.UUID(r.event_id), type=r.type,
                          citation=citation_of(r)) for r in rows]

    def folded_text(self, source_id: str) -> tuple[FoldedText, tuple[int, int]]:
        """A source's folded text and body, cached (sources never change)."""
        folded = self._folded.get(source_id, "")
        if folded is None:
            query = (sa.select(t.source_texts.c.text, t.sources.c.body_start,
                               t.sources.c.body_end)
                     .join(t.sources, t.sources.c.id == t.source_texts.c.source_id)
                     .where(t.source_texts.c.source_id == source_id))
            with self._db.read() as conn:
                row = conn.execute(query).first()
                erasure = None if row is not None else erasure_of(conn, source_id=source_id)
            if row is None:
                when = (f" on {_utc_text(erasure.erased_at)} by {erasure.erased_by} "
                        f"({erasure.reason})") if erasure else ""
                raise SourceError(f"source {source_id[:16]} was erased{when}: its text is gone "
                                  "and it can no longer be cited")
            folded = (FoldedText.of(row.text), (row.body_start, row.body_end))
            self._folded.put(source_id, "", folded)
        return folded

    def forget(self, source_id: str) -> None:
        """Drop what is kept of an erased source."""
        self._folded.drop(source_id)
