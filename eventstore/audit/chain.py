"""Checking the hash chain of a stream of events: pure code, no I/O.

Each event's ``hash`` is the SHA-256 of its canonical envelope, which holds the hashes
of its payload and citations and the previous event's hash (see ``docs/integrity.md``).
:func:`chain_problems` recomputes all of it from what a reader got back, so anyone can
check a log, or an export of one, without trusting the store. :func:`leaf_bytes` is
also an event's Merkle leaf (:mod:`.merkle`).

May import: the standard library, ``eventstore.codec`` and ``eventstore.events``; nothing
else of the audit package, nothing from ``storage/`` or ``cli/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..codec import GENESIS_HASH, canonical_json, envelope_json, sha256_hex, unstructure_data
from ..events import RecordedEvent, citations_bytes, envelope_dict

__all__ = ["envelope_of", "leaf_bytes", "chain_problems"]


def envelope_of(event: RecordedEvent) -> dict[str, Any]:
    """The chained envelope of a recorded event (what its ``hash`` covers)."""
    return envelope_dict(
        position=event.position, event_id=event.event_id, track=event.track,
        version=event.version, type=event.type, schema_version=event.schema_version,
        valid=event.valid, recorded_at=event.recorded_at, recorded_by=event.recorded_by,
        correlation_id=event.correlation_id, causation_id=event.causation_id,
        payload_hash=event.payload_hash, citations_hash=event.citations_hash,
        prev_hash=event.prev_hash)


def leaf_bytes(event: RecordedEvent) -> bytes:
    """The canonical envelope bytes: the event's hash input, and its Merkle leaf."""
    return envelope_json(envelope_of(event))


def chain_problems(events: Iterable[RecordedEvent], *, check_payloads: bool = True,
                   start_hash: str = GENESIS_HASH, start_position: int = 1
                   ) -> Iterator[str]:
    """Every way the chain is broken, in log order (nothing for a sound chain).

    Checks positions are gapless from ``start_position``, each ``prev_hash`` is the hash
    before it, each ``hash`` is that of its envelope, and (with ``check_payloads``) that
    the citations hash matches the citations. A payload read back as the current version
    of its type is checked only when it was stored at that version (an upcast payload is
    no longer the stored bytes).
    """
    expected_position = start_position
    previous = start_hash
    for event in events:
        where = f"position {event.position}"
        if event.position != expected_position:
            yield f"{where}: expected position {expected_position} (a gap or a reordering)"
            expected_position = event.position
        if event.prev_hash != previous:
            yield f"{where}: prev_hash does not match the hash of the event before it"
        if sha256_hex(leaf_bytes(event)) != event.hash:
            yield f"{where}: hash does not match the event's envelope"
        if check_payloads:
            if sha256_hex(citations_bytes(event.citations)) != event.citations_hash:
                yield f"{where}: citations do not match citations_hash"
            if event.schema_version == event.data.stored_version():
                body = canonical_json(unstructure_data(event.data))
                if sha256_hex(body) != event.payload_hash:
                    yield f"{where}: payload does not match payload_hash"
        previous = event.hash
        expected_position += 1
