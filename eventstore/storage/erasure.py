"""Erasure for a legal reason: a source's text, or a fact's payload.

The erasure is an event (``source.erased``, ``payload.erased``) appended through the
appender, in the transaction that removes the content and writes its ``erasures`` row;
the read models holding the content are dropped and folded again. Also here: what reads
give in place of an erased payload, and what an erased source's refusal says. Imports:
``db``, ``rows`` and the pure core (the appender, sources and read models are handed
in).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs
import sqlalchemy as sa

from ..codec import (
    parse_uuid,
    unstructure_data,
)
from ..errors import (
    ErasureError,
    EventNotFound,
    ValidationError,
)
from ..events import _utc_text
from ..facts import (
    MetaFact,
    PayloadErased,
    Redacted,
    SourceErased,
    fact_class,
    long_text,
)
from ..tracks import FIXED_STREAMS, REGISTRY_STREAMS, pairs
from . import schema as t
from .db import Database, chunks
from .rows import (
    erasure_row,
    utc,
)

if TYPE_CHECKING:
    from .append import Appender
    from .read_models import ReadModels
    from .sources import Sources


@attrs.frozen
class Erasure:
    """An erasure for a legal reason: what was erased, by whom, when, and why.

    ``kind`` is ``source`` (a source's text and the quotes of its citations; ``target``
    is the source id) or ``payload`` (a fact's data; ``target`` is its event id and
    ``position`` where it stands). ``event_id``/``at``: the erasure event itself.
    """

    kind: Literal["source", "payload"]
    target: str
    reason: str
    erased_at: dt.datetime
    erased_by: str
    event_id: str
    at: int  # the erasure event's position
    position: int | None = None  # of the erased payload
    #: What the erasure did (only on what ``erase_*`` returns; not part of equality):
    #: quotes blanked (source) or citations kept (payload), and whose answers changed.
    citations: int = attrs.field(default=0, eq=False)
    tracks: tuple[str, ...] = attrs.field(default=(), eq=False)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "reason": self.reason,
                "erased_at": _utc_text(self.erased_at), "erased_by": self.erased_by,
                "event_id": self.event_id, "at": self.at, "position": self.position,
                "citations": self.citations, "tracks": list(self.tracks)}



class Erasures:
    """Erasure for a legal reason: the one removal the store allows, itself an event,
    written with the row that lets the guarded triggers through, in one transaction."""

    def __init__(self, db: Database, appender: Appender, sources: Sources,
                 read_models: ReadModels) -> None:
        self._db = db
        self._appender = appender
        self._sources = sources
        self._read_models = read_models

    def erase_source(self, ref: str, *, reason: str) -> Erasure:
        """Erase a source's text, and the quotes of every citation of it, for a legal reason.
        See :meth:`EventStore.erase_source`."""
        source_id = self._sources.resolve(ref)
        data = SourceErased(source=source_id, reason=_reason(reason))
        c = t.citations.c
        with self._db.write() as conn:
            not_erased(conn, f"source {source_id[:16]}", source_id=source_id)
            erasure = self._write_erasure(conn, data, "source", source_id, None)
            cited = conn.execute(sa.update(t.citations).where(c.source_id == source_id)
                                 .values(exact="", prefix="", suffix=""))
            conn.execute(sa.delete(t.source_texts)
                         .where(t.source_texts.c.source_id == source_id))
            tracks = _bilateral(conn.execute(
                sa.select(t.events.c.track).distinct()
                .join(t.citations, c.position == t.events.c.position)
                .where(c.source_id == source_id, t.events.c.track.not_in(FIXED_STREAMS))
                ).scalars())
            self._read_models.forget(conn, tracks)
        self._sources.forget(source_id)
        self._read_models.refold(tracks)
        return attrs.evolve(erasure, citations=cited.rowcount, tracks=tracks)

    def erase_payload(self, event: uuid.UUID | str, *, reason: str) -> Erasure:
        """Erase a fact's payload (its data) for a legal reason.
        See :meth:`EventStore.erase_payload`."""
        wanted = str(parse_uuid(event, "event"))
        text = _reason(reason)
        e = t.events.c
        with self._db.write() as conn:
            row = conn.execute(sa.select(e.position, e.track, e.type)
                               .where(e.event_id == wanted)).first()
            if row is None:
                raise EventNotFound(f"no event has the id {wanted}")
            cls = fact_class(row.type)
            if cls.system or issubclass(cls, MetaFact):
                raise ErasureError(
                    f"event {wanted} is a {row.type}, whose payload cannot be erased: only "
                    "a fact's data can be (erase a source's text with `source erase`)")
            not_erased(conn, f"the payload of event {wanted}", position=row.position)
            data = PayloadErased(event=wanted, position=row.position, type=row.type,
                                 reason=text)
            erasure = self._write_erasure(conn, data, "payload", wanted, row.position)
            conn.execute(sa.delete(t.payloads).where(t.payloads.c.position == row.position))
            kept = conn.execute(sa.select(sa.func.count()).select_from(t.citations)
                                .where(t.citations.c.position == row.position)).scalar()
            if row.track in REGISTRY_STREAMS:  # the registry changed: every track's names
                tracks = tuple(self._read_models.track_names(conn))
                self._read_models.forget_checkpoint(conn)
            else:
                tracks = _bilateral([row.track])
            self._read_models.forget(conn, tracks)
        self._read_models.refold(tracks)
        return attrs.evolve(erasure, citations=int(kept or 0), tracks=tracks)

    def erasures(self) -> list[Erasure]:
        """Every erasure, in the order they were made."""
        with self._db.read() as conn:
            rows = conn.execute(_ERASURE_ROWS.order_by(t.erasures.c.position)).all()
        return [_erasure(row) for row in rows]

    def _write_erasure(self, conn: sa.Connection, data: SourceErased | PayloadErased,
                       kind: Literal["source", "payload"], target: str,
                       position: int | None) -> Erasure:
        """Append the erasure event and the row that lets the guarded triggers through."""
        appended = self._appender.write(conn, [self._appender.prepare_system(data)], {})[0]
        erased_at = conn.execute(sa.select(t.events.c.recorded_at)
                                 .where(t.events.c.position == appended.position)
                                 ).scalar_one()
        reason = data.reason
        conn.execute(t.erasures.insert().values(erasure_row(
            appended.position, data.type_name, unstructure_data(data), erased_at=erased_at,
            erased_by=self._appender.actor, event_id=str(appended.event_id))))
        return Erasure(kind=kind, target=target, reason=reason, erased_at=utc(erased_at),
                       erased_by=self._appender.actor, event_id=str(appended.event_id),
                       at=appended.position, position=position)


#: Erasure rows with the id of the event whose payload they erased, if any.
_ERASED_EVENT = t.events.alias("erased_event")


_ERASURE_ROWS = (sa.select(t.erasures, _ERASED_EVENT.c.event_id.label("erased_event_id"))
                 .join(_ERASED_EVENT, _ERASED_EVENT.c.position == t.erasures.c.payload_position,
                       isouter=True))


def _erasure(row: Any) -> Erasure:
    payload = row.kind == "payload"
    return Erasure(kind=row.kind, target=row.erased_event_id if payload else row.source_id,
                   reason=row.reason, erased_at=utc(row.erased_at), erased_by=row.erased_by,
                   event_id=row.event_id, at=row.position,
                   position=row.payload_position if payload else None)


def erasure_of(conn: sa.Connection, *, source_id: str | None = None,
                position: int | None = None) -> Erasure | None:
    e = t.erasures.c
    where = e.source_id == source_id if source_id is not None else e.payload_position == position
    row = conn.execute(_ERASURE_ROWS.where(where)).first()
    return None if row is None else _erasure(row)


def not_erased(conn: sa.Connection, what: str, **target: Any) -> None:
    done = erasure_of(conn, **target)
    if done is not None:
        raise ErasureError(f"{what} was already erased on {_utc_text(done.erased_at)} by "
                           f"{done.erased_by} ({done.reason}); nothing written")


def redactions(conn: sa.Connection, positions: Sequence[int]) -> dict[int, Redacted]:
    """What reads give in place of the erased payloads at ``positions``."""
    found: dict[int, Redacted] = {}
    e = t.erasures.c
    for chunk in chunks(list(positions)):
        for row in conn.execute(sa.select(t.erasures, t.events.c.type)
                                .join(t.events, t.events.c.position == e.payload_position)
                                .where(e.payload_position.in_(chunk))):
            found[row.payload_position] = Redacted(
                erased_type=row.type, reason=row.reason,
                erased_at=_utc_text(utc(row.erased_at)), erased_by=row.erased_by,
                erasure=row.event_id)
    return found


def _reason(reason: Any) -> str:
    """The reason an erasure gives: required, one line or more of text."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("an erasure needs a reason (who asked, on what legal ground)",
                              where="reason")
    try:
        long_text(None, attrs.fields(SourceErased).reason, reason)
    except (TypeError, ValueError) as err:
        raise ValidationError(str(err), where="reason") from None
    return reason.strip()


def _bilateral(streams: Iterable[str]) -> tuple[str, ...]:
    """The bilateral tracks that show the events of ``streams`` (a multilateral stream's
    show on each bilateral track among its parties), in order."""
    return tuple(sorted({track for stream in streams for track in pairs(stream)}))
