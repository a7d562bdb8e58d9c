"""The auditor's side of the store: tree heads and proofs, signed checkpoints, verify,
export and import, replay.

The tree's rows are kept by ``tree`` (written with each append); checking a stored log
is ``verify``, reading and loading an export is ``transfer``; the checks themselves are
the pure ``eventstore.audit`` package. Imports: ``db``, ``tree``, ``verify``, ``transfer``,
``reads``, ``read_models`` and the pure core.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal

import attrs
import sqlalchemy as sa

from ..audit.checker import Report, check_prefix
from ..audit.verifier import (
    Checkpoint,
    SignerKey,
    VerificationError,
    VerifierKey,
    open_checkpoint,
)
from ..errors import (
    AuditError,
    IntegrityError,
    ValidationError,
)
from ..events import RecordedEvent
from ..projection import (
    TrackState,
)
from ..tracks import FIXED_STREAMS, pairs, parse_track
from . import schema as t
from . import transfer, tree, verify
from .db import Database
from .errors import translated
from .read_models import ReadModels
from .reads import Reads, on_track
from .rows import (
    utc,
)
from .tree import ConsistencyProof, InclusionProof, StoredCheckpoint, TreeHead


@attrs.frozen
class Change:
    """An event recorded after a replayed moment: a fact added, or one retracted/corrected."""

    position: int
    event_id: str
    track: str
    type: str
    recorded_at: dt.datetime
    kind: Literal["added", "retracted", "corrected", "erased"]
    #: the event a retraction, correction or payload erasure points at; an erased source's id
    target: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"position": self.position, "event_id": self.event_id, "track": self.track,
                "type": self.type, "recorded_at": self.recorded_at.isoformat(),
                "kind": self.kind, "target": self.target}


@attrs.frozen
class Replay:
    """What the store knew at ``known_at``, and what it learned since."""

    known_at: dt.datetime
    position: int  # the last position recorded by then
    size: int  # events in the log now
    states: tuple[TrackState, ...]
    changes: tuple[Change, ...]  # the first ones recorded since (up to a limit)
    counts: dict[str, int]  # all of them, by kind (added, retracted, corrected, erased)
    check: Report | None  # the check of the log against the given checkpoint


def _change_kind(type_name: str) -> Literal["added", "retracted", "corrected", "erased"]:
    if type_name == "fact.retracted":
        return "retracted"
    if type_name == "fact.corrected":
        return "corrected"
    if type_name in ("payload.erased", "source.erased"):
        return "erased"
    return "added"


def _target_of(type_name: str, body: str | None) -> str | None:
    if type_name not in ("fact.retracted", "fact.corrected", "payload.erased",
                         "source.erased") or body is None:
        return None
    data = json.loads(body)
    target = data.get("source") if type_name == "source.erased" else data.get("event")
    return None if target is None else str(target)



class Auditing:
    """The auditor's side of the store: the Merkle tree's heads and proofs, signed
    checkpoints, verify, export and import, and replay to a moment of record time."""

    def __init__(self, db: Database, reads: Reads, read_models: ReadModels,
                 actor: str) -> None:
        self._db = db
        self._reads = reads
        self._read_models = read_models
        self.actor = actor

    def _tree_conn(self) -> sa.Connection:
        """A read connection for the tree's heads and proofs (every event row carries its
        nodes: schema 0012)."""
        return self._db.engine.connect()

    def _size(self, conn: sa.Connection, size: int | None, what: str = "size") -> int:
        head = self._db.head_position(conn)
        if size is None:
            return head
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValidationError(f"{what} must be a whole number ≥ 0, not {size!r}")
        if size > head:
            raise AuditError(f"{what} {size:,} is larger than the log ({head:,} events)")
        return size

    def origin(self) -> str:
        """The log's name in checkpoints: ``eventstore/`` and 16 hex digits of its first event's
        hash, so that a log rebuilt from scratch is another log.
        See :meth:`EventStore.origin`."""
        with self._db.read() as conn:
            return self._db.origin(conn)

    def tree_head(self, size: int | None = None) -> TreeHead:
        """The root of the tree over the first ``size`` events (default: all of them)."""
        with translated(self._db.url), self._tree_conn() as conn:
            wanted = self._size(conn, size)
            return TreeHead(size=wanted, root=tree.root_at(conn, wanted))

    def inclusion_proof(self, event: uuid.UUID | str | int, size: int | None = None
                        ) -> tuple[RecordedEvent, InclusionProof]:
        """The event (by id, or by position) and the proof that it is in the tree of ``size``
        (default: the whole log). See :meth:`EventStore.inclusion_proof`."""
        if isinstance(event, (uuid.UUID, str)):
            found = self._reads.get_event(event)
        else:
            found = self._reads.event_at(event)
        with translated(self._db.url), self._tree_conn() as conn:
            wanted = self._size(conn, size)
            if found.position > wanted:
                raise AuditError(f"event {found.event_id} is at position {found.position:,}, "
                                 f"after the tree of size {wanted:,}: it was appended later")
            return found, tree.inclusion(conn, found.position - 1, wanted)

    def consistency_proof(self, size1: int, size2: int | None = None) -> ConsistencyProof:
        """The proof that the tree of ``size1`` is a prefix of that of ``size2``."""
        with translated(self._db.url), self._tree_conn() as conn:
            second = self._size(conn, size2, "size2")
            first = self._size(conn, size1, "size1")
            if first < 1:
                raise AuditError("size1 must be at least 1: every log extends the empty one, "
                                 "there is nothing to prove")
            if first > second:
                raise AuditError(f"size1 ({first:,}) is larger than size2 ({second:,})")
            return tree.consistency(conn, first, second)

    def checkpoint(self, key: SignerKey) -> StoredCheckpoint:
        """Sign the current tree head (a C2SP checkpoint) and keep it in the database."""
        origin = self.origin()
        with self._db.write() as conn:
            size = self._db.head_position(conn)
            edge = tree.frontier(conn, size) or tree.missing(size)
            return tree.store_checkpoint(conn, origin, size, edge.root(), key,
                                         dt.datetime.now(dt.UTC), self.actor)

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every checkpoint the store issued, oldest first."""
        c = t.checkpoints.c
        with self._db.read() as conn:
            rows = conn.execute(sa.select(t.checkpoints).order_by(c.id)).all()
        return [StoredCheckpoint(
            id=row.id, checkpoint=Checkpoint(origin=row.origin, size=row.size,
                                             root=bytes.fromhex(row.root)),
            note=row.note, key_name=row.key_name, key_id=row.key_id,
            verifier_key=row.verifier_key, created_at=utc(row.created_at),
            created_by=row.created_by) for row in rows]

    def verify(self, keys: Sequence[VerifierKey] = (), *,
               require_signed: bool = False) -> Report:
        """Check the whole stored log (see :mod:`eventstore.audit.checker`): chain, record times,
        versions, payloads, citations against their sources, the tree, every checkpoint, and
        that the immutability triggers are in place. ``keys``: the verifier keys you trust.
        The report says how many events at the log's end no signed checkpoint covers
        (:attr:`Report.unsigned`); with ``require_signed`` any such event is a problem (see
        docs/auditing.md#who-can-forge-what). See :meth:`EventStore.verify`."""
        with self._db.read() as conn:
            return verify.verify_connection(conn, keys, require_signed=require_signed)

    def export(self) -> Iterator[str]:
        """The whole log as JSON lines (``docs/auditing.md``), a page at a time."""
        with translated(self._db.url), self._tree_conn() as conn:
            yield from transfer.export_lines(conn)

    def import_export(self, lines: Callable[[], Iterable[str | bytes]], name: str = "export",
                      keys: Sequence[VerifierKey] = ()) -> Report:
        """Load an export into this empty store, after checking all of it.
        See :meth:`EventStore.import_export`."""
        report = transfer.verify_export(lines(), name, keys)
        if not report.ok:
            raise IntegrityError(f"{name} does not check out, nothing imported: {report.first}")
        with self._db.write() as conn:
            transfer.import_export(conn, lines(), name)
            root = tree.root_at(conn, report.events)
            if root != report.root:
                raise IntegrityError(f"{name}: the imported tree's root is not the export's")
            if report.events:  # followers wake for an import as for an append
                self._db.announce(conn, report.events)
        return report

    def replay(self, to: dt.datetime, *, track: str | None = None,
               checkpoint: str | None = None, key: VerifierKey | None = None,
               changes_limit: int = 1_000) -> Replay:
        """What the store knew at record time ``to``: the track states as they stood then, and
        what was recorded since (facts added, retracted, corrected).
        See :meth:`EventStore.replay`."""
        moment = utc(to)
        position = self._reads.position_at(moment)
        canonical = None if track is None else parse_track(track)
        check = None
        if checkpoint is not None:
            if key is None:
                raise AuditError("a checkpoint is checked with the verifier key that signed it: "
                                 "give the key too")
            try:
                signed = open_checkpoint(checkpoint, key)
            except VerificationError as err:
                raise AuditError(f"checkpoint: {err}") from None
            with self._db.read() as conn:
                check_prefix(signed, self._db.head_position(conn))
                check = verify.verify_connection(
                    conn, [key], upto=max(signed.size, position), known_at=moment,
                    checkpoints=[{"id": "given", "note": checkpoint,
                                  "key_name": key.name}])
        # A log that fails its check shows no state: nothing of it can be trusted.
        states = () if check is not None and not check.ok else tuple(
            self._read_models.project(name, known_at=moment)
            for name in self._tracks_at(position, canonical))
        return Replay(known_at=moment, position=position, size=self._reads.head()[0],
                      states=states, changes=self._changes_after(position, canonical,
                                                                 changes_limit),
                      counts=self._change_counts(position, canonical), check=check)

    def _tracks_at(self, position: int, track: str | None) -> list[str]:
        """The bilateral tracks with an event at or before ``position`` (those of a
        multilateral stream's events among them); only ``track`` when one is given."""
        if track is not None:
            return [track]
        e = t.events.c
        query = (sa.select(e.track).distinct().where(e.position <= position,
                                                      e.track.not_in(FIXED_STREAMS)))
        with self._db.read() as conn:
            streams = list(conn.execute(query).scalars())
        return sorted({name for stream in streams for name in pairs(stream)})

    def _changes_after(self, position: int, track: str | None, limit: int) -> tuple[Change, ...]:
        e = t.events.c
        query = (sa.select(e.position, e.event_id, e.track, e.type, e.recorded_at,
                           t.payloads.c.body)
                 .join(t.payloads, t.payloads.c.position == e.position, isouter=True)
                 .where(e.position > position).order_by(e.position).limit(limit))
        if track is not None:
            query = query.where(on_track(track))
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return tuple(Change(position=r.position, event_id=r.event_id, track=r.track,
                            type=r.type, recorded_at=utc(r.recorded_at),
                            kind=_change_kind(r.type),
                            target=_target_of(r.type, r.body)) for r in rows)

    def _change_counts(self, position: int, track: str | None) -> dict[str, int]:
        e = t.events.c
        query = (sa.select(e.type, sa.func.count()).where(e.position > position)
                 .group_by(e.type))
        if track is not None:
            query = query.where(on_track(track))
        counts = {"added": 0, "retracted": 0, "corrected": 0, "erased": 0}
        with self._db.read() as conn:
            for type_name, count in conn.execute(query):
                counts[_change_kind(type_name)] += count
        return counts
