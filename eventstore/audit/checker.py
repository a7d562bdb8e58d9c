"""Checking a whole log, event by event: pure code, no I/O.

:class:`LogChecker` is fed what a store (or an export of one) holds, in position order:
each event's envelope, hash, stored payload bytes, citations and stored tree row, the
source texts, and the signed checkpoints. It recomputes everything that can be
recomputed and reports each way the log is broken, with the position where it shows:

* the hash chain: positions gapless from 1, each ``prev_hash`` the hash before it, each
  ``hash`` that of its canonical envelope (see ``docs/integrity.md``);
* the per-track versions, gapless from 1 in position order;
* each payload against its ``payload_hash``, each citation list against its
  ``citations_hash``, and each citation against its source's text: the exact text at the
  span, the context around it, the span inside the article's body;
* each source text against its id (the SHA-256 of the text) and registered length;
* the RFC 9162 Merkle tree rebuilt from the envelopes, against the stored tree rows and
  against the root of every checkpoint at its size; each checkpoint's signature.

Erased payloads and source texts (``None``) are reported as erased, not as tampering,
when an erasure event of the log (``payload.erased``, ``source.erased``) names them:
their hashes stay in the chain, so the rest still checks. A citation list whose quotes
were blanked by a source's erasure no longer matches its ``citations_hash``; that too is
reported as erased, and its spans are still checked. Anything missing that no erasure
event names is tampering.

The storage shell (``eventstore.storage.verify``) and the export reader feed it; the
auditor's view of the result is :class:`Report`. :func:`check_prefix` is the rule a
checkpoint must meet against a log's size and roots.

May import: the standard library, attrs, ``eventstore.codec``, ``eventstore.errors``,
``eventstore.events``, ``eventstore.sources``, ``eventstore.tracks``, :mod:`.merkle` and
:mod:`.verifier`; nothing from ``storage/`` or ``cli/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from ..codec import CITATION_KEYS, ENVELOPE_KEYS, GENESIS_HASH, citations_json, envelope_json
from ..errors import AuditError
from ..events import _utc_text
from ..sources import CONTEXT_CHARS
from ..tracks import ERASURES_STREAM, SOURCES_STREAM, is_multilateral, parties
from .merkle import Frontier
from .verifier import (
    Checkpoint,
    VerificationError,
    VerifierKey,
    open_checkpoint,
    parse_verifier_key,
)

__all__ = ["Problem", "CheckedCheckpoint", "SeenErasure", "Report", "LogChecker",
           "check_prefix"]

#: Problems kept in a report beyond the first (the count goes on).
MAX_PROBLEMS = 50

#: ``recorded_at`` as every envelope writes it: UTC, microseconds, a ``Z``. Texts of this
#: one form compare as the instants they name.
_RECORD_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")

#: How far past the verifier's clock a record time may lie before it is a problem: the
#: writers' clocks may run a little ahead of the auditor's.
CLOCK_TOLERANCE = dt.timedelta(hours=1)


@attrs.frozen
class Problem:
    """One way the log is broken: where (a position, or None for the whole store) and what."""

    position: int | None
    what: str

    def __str__(self) -> str:
        return self.what if self.position is None else f"position {self.position}: {self.what}"


@attrs.frozen
class CheckedCheckpoint:
    """A checkpoint and what the check found of it."""

    size: int
    root: bytes
    key_name: str
    ok: bool


@attrs.frozen
class SeenErasure:
    """An erasure event of the log: what it erased (a source id, or a payload's position)."""

    position: int
    kind: str  # source | payload
    target: str
    reason: str
    erased_by: str
    erased_at: str

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class Report:
    """What a check covered, and what it found."""

    events: int
    tracks: int
    citations: int
    sources: int
    checkpoints: tuple[CheckedCheckpoint, ...]
    root: bytes
    head: str
    erased_payloads: tuple[int, ...]
    erased_sources: tuple[str, ...]
    problems: tuple[Problem, ...]
    problem_count: int
    notes: tuple[str, ...] = ()
    erasures: tuple[SeenErasure, ...] = ()
    erased_citations: int = 0
    #: The largest size that a checkpoint with a good signature and the right root covers
    #: (signed by a key you trust, when keys were given): events after it are unsigned.
    signed: int = 0
    #: Whether the checkpoints' signatures were checked against keys the caller trusts.
    trusted_keys: bool = False

    @property
    def unsigned(self) -> int:
        """How many events at the log's end no signed checkpoint covers."""
        return self.events - self.signed

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "events": self.events, "tracks": self.tracks,
            "citations": self.citations, "sources": self.sources,
            "checkpoints": [{"size": c.size, "root": c.root.hex(), "key": c.key_name,
                             "ok": c.ok} for c in self.checkpoints],
            "root": self.root.hex(), "head": self.head,
            "erased": {"payloads": list(self.erased_payloads),
                       "sources": list(self.erased_sources),
                       "citations": self.erased_citations,
                       "erasures": [e.to_dict() for e in self.erasures]},
            "first_problem": None if self.first is None else {
                "position": self.first.position, "what": self.first.what},
            "problems": [{"position": p.position, "what": p.what} for p in self.problems],
            "problem_count": self.problem_count, "notes": list(self.notes),
            "signed": {"size": self.signed, "unsigned_events": self.unsigned,
                       "trusted_keys": self.trusted_keys},
        }


def check_prefix(checkpoint: Checkpoint, size: int,
                 root_at: Callable[[int], bytes] | None = None) -> None:
    """Refuse a checkpoint that does not sign a prefix of a log of ``size`` events.

    It may not be larger than the log; with ``root_at`` (the log's root at a size), the
    log's root at the checkpoint's size must be the one it signed. Raises
    :class:`~eventstore.errors.AuditError` saying which.
    """
    if checkpoint.size > size:
        raise AuditError(f"the checkpoint is of size {checkpoint.size:,}, larger than the log "
                         f"({size:,} events): events were removed, or it is another log's")
    if root_at is not None and root_at(checkpoint.size) != checkpoint.root:
        raise AuditError(f"the log's root at size {checkpoint.size:,} is not the one this "
                         "checkpoint signed: the log was rewritten since (run `eventstore "
                         "audit verify`)")


@attrs.define
class _Source:
    length: int
    body: tuple[int, int]
    position: int  # of its registration
    text: str | None = None
    loaded: bool = False


class LogChecker:
    """Feed it a log in position order; :meth:`finish` says what was wrong with it.

    ``texts`` looks a source text up by id when the first citation of it is checked
    (None: erased); an export gives them with :meth:`source` instead. ``keys`` are the
    verifier keys the auditor trusts: with them, every checkpoint must be signed by one;
    without, each is checked against the key stored beside it.
    """

    def __init__(self, *, texts: Callable[[str], str | None] | None = None,
                 keys: Sequence[VerifierKey] = (), origin: str | None = None,
                 now: dt.datetime | None = None) -> None:
        self._texts = texts
        #: No record time may lie after this (the verifier's clock and its tolerance).
        self._latest = None if now is None else _utc_text(now + CLOCK_TOLERANCE)
        self._recorded: str | None = None  # the record time of the event before
        self._signed = 0
        self._keys = list(keys)
        self._origin = origin
        self._problems: list[Problem] = []
        self._count = 0
        self._position = 0
        self._prev = GENESIS_HASH
        self._versions: dict[str, int] = {}
        self._sources: dict[str, _Source] = {}
        self._edge = Frontier()
        self._pending: list[tuple[Checkpoint, str]] = []  # (checkpoint, key name) by size
        self._checked: list[CheckedCheckpoint] = []
        self._citations = 0
        self._missing_payloads: list[int] = []  # None payloads, until an erasure names them
        self._missing_texts: list[str] = []
        self._blanked: list[tuple[int, set[str]]] = []  # citation lists with erased quotes
        self._erasures: dict[tuple[str, str], SeenErasure] = {}  # (kind, target) → event
        self._erasure_rows: list[Mapping[str, Any]] | None = None
        self._streams: dict[str, int] = {}  # multilateral stream → its first position
        self._member_rows: list[Mapping[str, Any]] | None = None
        self._later: set[int] = set()  # positions of erasures after a checked prefix
        self._first_hash: str | None = None
        self._notes: list[str] = []

    # -- problems -------------------------------------------------------------------

    def problem(self, position: int | None, what: str) -> None:
        self._count += 1
        if len(self._problems) < MAX_PROBLEMS:
            self._problems.append(Problem(position, what))

    # -- input ----------------------------------------------------------------------

    def checkpoints(self, items: Iterable[Mapping[str, Any]]) -> None:
        """The stored checkpoints (``note``, ``verifier_key``): before the events."""
        for item in items:
            note, stored_key = item.get("note"), item.get("verifier_key")
            label = f"checkpoint {item.get('id', '?')}"
            try:
                if self._keys:
                    checkpoint = self._open_trusted(str(note))
                else:
                    checkpoint = open_checkpoint(str(note), parse_verifier_key(str(stored_key)))
                    self._note_once("checkpoint signatures were checked against the keys "
                                    "stored beside them; give the verifier keys you trust "
                                    "(--key) to check who signed them")
            except VerificationError as err:
                self.problem(None, f"{label}: {err}")
                continue
            self._pending.append((checkpoint, str(item.get("key_name", "?"))))
        self._pending.sort(key=lambda c: c[0].size)

    def _open_trusted(self, note: str) -> Checkpoint:
        errors = []
        for key in self._keys:
            try:
                return open_checkpoint(note, key)
            except VerificationError as err:
                errors.append(str(err))
        raise VerificationError("not signed by any trusted key (" + "; ".join(errors) + ")")

    def _note_once(self, note: str) -> None:
        if note not in self._notes:
            self._notes.append(note)

    def source(self, source_id: str, text: str | None) -> None:
        """A source text (None: erased), given after its registration event."""
        known = self._sources.get(source_id)
        if known is None:
            self.problem(None, f"source {source_id[:12]}: a text with no registration event")
            return
        self._load(source_id, known, text)

    def erasure_rows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """The database's ``erasures`` rows (what the guarded triggers let through): each
        must be an erasure event of the log, and each erasure event must have its row."""
        self._erasure_rows = list(rows)

    def stream_member_rows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """The database's ``stream_members`` rows (``country``, ``stream``): at the end they
        must be exactly one per country of each multilateral stream the log holds. A missing
        row hides that stream's events from a bilateral track; a forged one shows a stream
        on a track that is not among its countries."""
        self._member_rows = list(rows)

    def later_erasures(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Erasures recorded after the checked prefix (a replay's check): what they erased
        is missing from the prefix too, by the database's own account of them."""
        for row in rows:
            kind = str(row.get("kind"))
            target = (str(row.get("source_id")) if kind == "source"
                      else str(row.get("payload_position")))
            when = row.get("erased_at")
            self._later.add(int(row.get("position") or 0))
            self._erasures[(kind, target)] = SeenErasure(
                position=int(row.get("position") or 0), kind=kind, target=target,
                reason=str(row.get("reason")), erased_by=str(row.get("erased_by")),
                erased_at=_utc_text(when) if isinstance(when, dt.datetime) else str(when))

    def unloaded_sources(self) -> list[str]:
        """Registered sources whose text no citation made the checker read (give them with
        :meth:`source` before :meth:`finish`, so every text is checked)."""
        return [source_id for source_id, known in self._sources.items() if not known.loaded]

    def _load(self, source_id: str, known: _Source, text: str | None) -> None:
        known.loaded = True
        if text is None:
            self._missing_texts.append(source_id)
            return
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != source_id:
            self.problem(known.position, f"source {source_id[:12]}: its text does not match "
                                         "its id (the SHA-256 of the text)")
            return
        if len(text) != known.length:
            self.problem(known.position, f"source {source_id[:12]}: its text has "
                                         f"{len(text)} characters, the registration says "
                                         f"{known.length}")
            return
        known.text = text

    def event(self, envelope: Mapping[str, Any], event_hash: str, payload: str | None,
              citations: Sequence[Mapping[str, Any]], stored_tree: bytes | None = None,
              tree_expected: bool = False) -> None:
        """One event, in position order.

        ``payload`` is the stored payload text (None: erased), ``citations`` the stored
        citation rows as ``{source, start, end, exact, prefix, suffix}``. With
        ``tree_expected``, ``stored_tree`` is the stored Merkle row of the position
        (None: missing).
        """
        position = envelope.get("position")
        expected = self._position + 1
        if position != expected:
            self.problem(expected, f"expected position {expected}, found {position} "
                                    "(an event is missing, or events were moved)")
        if not isinstance(position, int):
            position = expected
        self._position = position
        if len(envelope) != len(ENVELOPE_KEYS):  # extra keys are not part of the envelope
            envelope = {key: envelope.get(key) for key in ENVELOPE_KEYS}
        body = envelope_json(envelope)
        if envelope.get("prev_hash") != self._prev:
            self.problem(position, "prev_hash is not the hash of the event before it "
                                    "(the chain is broken here)")
        if hashlib.sha256(body).hexdigest() != event_hash:
            self.problem(position, "the event's hash does not match its envelope (a field "
                                    "of the event was changed)")
        if self._first_hash is None:
            self._first_hash = event_hash
            self._check_origins(f"eventstore/{event_hash[:16]}")
        self._prev = event_hash
        self._record_time(position, envelope.get("recorded_at"))
        self._track(position, envelope)
        self._payload(position, envelope, payload)
        self._check_citations(position, envelope, citations)
        row = self._edge.append_leaf(body)
        if tree_expected and stored_tree != row:
            self.problem(position, "the stored Merkle tree row is missing" if stored_tree
                          is None else "the stored Merkle tree row does not match the event")
        while self._pending and self._pending[0][0].size <= self._edge.size:
            checkpoint, name = self._pending.pop(0)
            ok = checkpoint.size == self._edge.size and checkpoint.root == self._edge.root()
            if not ok:
                self.problem(position, f"checkpoint of size {checkpoint.size:,} signed by "
                                        f"{name}: its root is not the root of the log at that "
                                        "size (the log was rewritten, or the checkpoint "
                                        "forged)")
            self._checked.append(CheckedCheckpoint(checkpoint.size, checkpoint.root, name, ok))
            if ok:
                self._signed = max(self._signed, checkpoint.size)

    def _record_time(self, position: int, recorded: Any) -> None:
        """Record time never goes backwards along positions, nor lies in the future.

        The store gives every append transaction one instant, later than the one before
        (docs/integrity.md); ``--known-at`` and replay stand on that. An event written
        behind the store's back with an earlier time (backdated) or a later one (dated
        ahead, to hide from today's cuts) breaks it.
        """
        if not isinstance(recorded, str) or not _RECORD_TIME.fullmatch(recorded):
            self.problem(position, f"recorded_at {_shown(recorded)} is not a UTC time of the "
                                   "form 2026-11-23T11:51:49.123456Z")
            return
        before = self._recorded
        if before is not None and recorded < before:
            self.problem(position, f"recorded_at {recorded} is before {before}, the record "
                                   "time of the event before it: record time went backwards "
                                   "(a backdated event)")
        if self._latest is not None and recorded > self._latest:
            self.problem(position, f"recorded_at {recorded} lies in the future of this check "
                                   f"(later than {self._latest}): an event dated ahead")
        self._recorded = recorded

    def later_than(self, moment: dt.datetime, later: Iterable[tuple[int, Any]]) -> None:
        """Events after a checked prefix cut at record time ``moment`` (a replay): each
        must have been recorded after it, or the cut left out an event it should hold."""
        cut = _utc_text(moment)
        for position, recorded in later:
            text = recorded if isinstance(recorded, str) else _utc_text(recorded)
            if text <= cut:
                self.problem(position, f"recorded_at {text} is at or before the replayed "
                                       f"moment {cut}, but the event lies after the events "
                                       "recorded by then: record time went backwards (a "
                                       "backdated event)")
                return

    def _check_origins(self, origin: str) -> None:
        """Every checkpoint and the expected origin name this log (its first event)."""
        if self._origin is not None and self._origin != origin:
            self.problem(1, f"this log's origin is {origin}, not {self._origin}: it is "
                             "another log, or it was rebuilt from its first event on")
        for checkpoint, name in self._pending:
            if checkpoint.origin != origin:
                self.problem(None, f"checkpoint of size {checkpoint.size:,} signed by {name} "
                                    f"is for the log {checkpoint.origin}, not this one "
                                    f"({origin})")

    def _track(self, position: int, envelope: Mapping[str, Any]) -> None:
        track, version = str(envelope.get("track")), envelope.get("version")
        wanted = self._versions.get(track, 0) + 1
        if version != wanted:
            self.problem(position, f"track {track} jumps to version {version}, expected "
                                    f"{wanted}")
        if isinstance(version, int):
            self._versions[track] = max(version, self._versions.get(track, 0))
        if track not in self._streams and is_multilateral(track):
            self._streams[track] = position

    def _payload(self, position: int, envelope: Mapping[str, Any], payload: str | None) -> None:
        if payload is None:
            self._missing_payloads.append(position)
            return
        if hashlib.sha256(payload.encode("utf-8")).hexdigest() != envelope.get("payload_hash"):
            self.problem(position, "the stored payload does not match payload_hash (the "
                                    "fact's data was changed)")
            return
        if envelope.get("track") == SOURCES_STREAM:
            self._registration(position, payload)
        elif envelope.get("track") == ERASURES_STREAM:
            self._erasure(position, envelope, payload)

    def _erasure(self, position: int, envelope: Mapping[str, Any], payload: str) -> None:
        try:
            data = json.loads(payload)
            if envelope.get("type") == "source.erased":
                kind, target = "source", str(data["source"])
            else:
                kind, target = "payload", str(int(data["position"]))
                if int(target) >= position:
                    self.problem(position, "the erasure names a position that is not before it")
            reason = str(data["reason"])
        except (ValueError, KeyError, TypeError):
            self.problem(position, "the erasure event's payload cannot be read")
            return
        self._erasures[(kind, target)] = SeenErasure(
            position=position, kind=kind, target=target, reason=reason,
            erased_by=str(envelope.get("recorded_by")),
            erased_at=str(envelope.get("recorded_at")))

    def _registration(self, position: int, payload: str) -> None:
        try:
            data = json.loads(payload)
            source_id = data["source"]
            length = int(data["length"])
            body = (int(data.get("body_start", 0)), int(data.get("body_end") or length))
        except (ValueError, KeyError, TypeError):
            self.problem(position, "the source registration's payload cannot be read")
            return
        self._sources[source_id] = _Source(length=length, body=body, position=position)

    def _check_citations(self, position: int, envelope: Mapping[str, Any],
                         citations: Sequence[Mapping[str, Any]]) -> None:
        listed = [c if len(c) == len(CITATION_KEYS) and c.keys() == CITATION_KEYS
                  else {key: c.get(key) for key in CITATION_KEYS} for c in citations]
        if hashlib.sha256(citations_json(listed)).hexdigest() != envelope.get("citations_hash"):
            blanked = {str(c["source"]) for c in listed
                       if c["exact"] == "" and c["prefix"] == "" and c["suffix"] == ""}
            if blanked:  # erased, if an erasure event names these sources (see finish)
                self._blanked.append((position, blanked))
            else:
                self.problem(position, "the stored citations do not match citations_hash (a "
                                        "quote or a span was changed)")
        for ordinal, citation in enumerate(listed):
            self._citations += 1
            self._citation(position, ordinal, citation)

    def _citation(self, position: int, ordinal: int, c: Mapping[str, Any]) -> None:
        source_id = str(c["source"])
        where = f"citation {ordinal + 1}"
        known = self._sources.get(source_id)
        if known is None:
            self.problem(position, f"{where} cites source {source_id[:12]}, which was not "
                                    "registered before it")
            return
        if not known.loaded and self._texts is not None:
            self._load(source_id, known, self._texts(source_id))
        start, end = c["start"], c["end"]
        if not (isinstance(start, int) and isinstance(end, int)
                and known.body[0] <= start < end <= known.body[1]):
            self.problem(position, f"{where}: span [{start}, {end}) is not inside the body "
                                    f"of source {source_id[:12]}")
            return
        text = known.text
        if text is None:
            return  # erased (reported as such), or its text was already reported
        if text[start:end] != c["exact"]:
            self.problem(position, f"{where}: the quote is not the source's text at "
                                    f"[{start}, {end})")
        elif (text[max(0, start - CONTEXT_CHARS):start] != c["prefix"]
              or text[end:end + CONTEXT_CHARS] != c["suffix"]):
            self.problem(position, f"{where}: the context around the quote is not the "
                                    "source's")

    def finish(self, *, stored_events: int | None = None,
               require_signed: bool = False) -> Report:
        """The report. ``stored_events``: how many events the store says it holds.

        With ``require_signed``, events at the log's end that no checkpoint with a good
        signature covers are a problem: anyone able to write to the database could have
        appended them.
        """
        if require_signed and self._signed < self._position:
            self.problem(self._signed + 1,
                         f"{self._position - self._signed:,} event(s) at the log's end "
                         f"(positions {self._signed + 1:,}–{self._position:,}) are covered by "
                         "no signed checkpoint: anyone able to write to the database could "
                         "have appended them")
        if stored_events is not None and stored_events != self._position:
            self.problem(self._position + 1, f"the log holds {stored_events:,} events but "
                                              f"only {self._position:,} follow each other")
        for checkpoint, name in self._pending:
            self.problem(None, f"checkpoint of size {checkpoint.size:,} signed by {name} is "
                                f"larger than the log ({self._position:,} events): events "
                                "were removed")
            self._checked.append(CheckedCheckpoint(checkpoint.size, checkpoint.root, name,
                                                   False))
        self._pending = []
        erased_payloads, erased_sources, erased_citations = self._settle_erasures()
        problems = sorted(self._problems,
                          key=lambda p: (p.position is None, p.position or 0))
        return Report(
            events=self._position, tracks=len(self._versions),
            citations=self._citations, sources=len(self._sources),
            checkpoints=tuple(self._checked), root=self._edge.root(), head=self._prev,
            erased_payloads=tuple(erased_payloads), erased_sources=tuple(erased_sources),
            problems=tuple(problems), problem_count=self._count, notes=tuple(self._notes),
            erasures=tuple(sorted(self._erasures.values(), key=lambda e: e.position)),
            erased_citations=erased_citations, signed=self._signed,
            trusted_keys=bool(self._keys))

    def _settle_erasures(self) -> tuple[list[int], list[str], int]:
        """What is missing is erased when an erasure event names it; else it is tampering.

        Also: what an erasure names must be gone, and the database's erasure rows must be
        the log's erasure events.
        """
        named = self._erasures
        payloads = []
        for position in self._missing_payloads:
            if ("payload", str(position)) in named:
                payloads.append(position)
            else:
                self.problem(position, "the payload is missing and no erasure event names it "
                                       "(it was deleted)")
        texts = []
        for source_id in self._missing_texts:
            if ("source", source_id) in named:
                texts.append(source_id)
            else:
                known = self._sources[source_id]
                self.problem(known.position, f"source {source_id[:12]}: its text is missing "
                                             "and no erasure event names it (it was deleted)")
        citations = 0
        for position, sources in self._blanked:
            if all(("source", s) in named for s in sources):
                citations += 1
            else:
                self.problem(position, "the stored citations do not match citations_hash (a "
                                       "quote was blanked with no erasure of its source)")
        missing = set(self._missing_payloads)
        for (kind, target), seen in named.items():
            if kind == "payload" and int(target) not in missing:
                self.problem(seen.position, f"the erasure of the payload at position {target} "
                                            "did not happen: the payload is still stored")
            elif kind == "source" and self._sources.get(target, _NO_SOURCE).text is not None:
                self.problem(seen.position, f"the erasure of source {target[:12]} did not "
                                            "happen: its text is still stored")
        if self._erasure_rows is not None:
            self._match_rows(self._erasure_rows)
        if self._member_rows is not None:
            self._match_members(self._member_rows)
        return payloads, texts, citations

    def _match_rows(self, rows: Sequence[Mapping[str, Any]]) -> None:
        by_position = {seen.position: seen for seen in self._erasures.values()
                       if seen.position not in self._later}
        for row in rows:
            target = (row.get("source_id") if row.get("kind") == "source"
                      else str(row.get("payload_position")))
            seen = by_position.pop(int(row.get("position") or 0), None)
            if seen is None or (seen.kind, seen.target) != (row.get("kind"), target):
                self.problem(None, f"the erasures table names {row.get('kind')} {target} at "
                                   f"position {row.get('position')}, which is no erasure event "
                                   "of the log (the guard of the triggers was forged)")
        for seen in by_position.values():
            self.problem(seen.position, "this erasure event has no row in the erasures table")


    def _match_members(self, rows: Sequence[Mapping[str, Any]]) -> None:
        stored = {(str(row.get("stream")), str(row.get("country"))) for row in rows}
        for stream, position in self._streams.items():
            missing = [c for c in parties(stream) if (stream, c) not in stored]
            if missing:
                self.problem(position, f"stream {stream}: no stream_members row for "
                                       f"{', '.join(missing)} (its events no longer show on "
                                       "the bilateral tracks of that country)")
        expected = {(stream, c) for stream in self._streams for c in parties(stream)}
        for stream, country in sorted(stored - expected):
            self.problem(None, f"the stream_members table puts {country} in stream {stream}, "
                               "which is not what the log's events say (the row was forged)")


_NO_SOURCE = _Source(length=0, body=(0, 0), position=0)


def _shown(value: Any) -> str:
    """A stored value as a reader should see it in a problem (never a Python repr)."""
    return "(missing)" if value is None else json.dumps(value, ensure_ascii=False)
