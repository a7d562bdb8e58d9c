"""Proof documents: what ``audit prove`` and ``audit consistency`` hand an auditor.

Pure code that needs only the standard library and :mod:`.verifier` (itself standard
library and ``cryptography``): an auditor can check a proof with these two files alone.
A proof document is one JSON object:

Inclusion (``audit prove``)::

    {"format": "eventstore-proof/1", "kind": "inclusion", "origin": "eventstore/…",
     "tree_size": 37, "root": B64, "leaf_index": 11, "leaf_hash": B64, "proof": [B64, …],
     "event": {the envelope's 14 keys, "hash": HEX}, "checkpoint": NOTE or null}

Consistency (``audit consistency``)::

    {"format": "eventstore-proof/1", "kind": "consistency", "origin": "eventstore/…",
     "size1": 12, "size2": 37, "root1": B64, "root2": B64, "proof": [B64, …],
     "from_checkpoint": NOTE, "to_checkpoint": NOTE or null}

B64 is standard base64 of 32 bytes; NOTE a whole signed checkpoint note. The leaf of an
event is its canonical envelope (sorted keys, no white space, UTF-8), whose SHA-256 is
the event's hash; the leaf hash is SHA-256(0x00 ‖ leaf). :func:`check_proof` checks
all of it: the event against its leaf, the proof against the root (RFC 9162), and the
root and size against the signed checkpoint(s).

May import: the standard library and :mod:`.verifier`; nothing else of eventstore, so
that the two files stay copyable together (``tests/test_layout.py`` checks).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .verifier import (
    Checkpoint,
    VerificationError,
    VerifierKey,
    leaf_hash,
    open_checkpoint,
    verify_consistency,
    verify_inclusion,
)

__all__ = ["PROOF_FORMAT", "ENVELOPE_KEYS", "inclusion_document", "consistency_document",
           "check_proof"]

PROOF_FORMAT = "eventstore-proof/1"
#: The keys of the chained envelope (docs/integrity.md), the leaf of an event.
ENVELOPE_KEYS = ("position", "event_id", "track", "version", "type", "schema_version",
                  "valid", "recorded_at", "recorded_by", "correlation_id", "causation_id",
                  "payload_hash", "citations_hash", "prev_hash")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise VerificationError(f"{field}: expected base64 text")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError(f"{field}: not base64") from None
    if len(data) != 32:
        raise VerificationError(f"{field}: a hash has 32 bytes, this has {len(data)}")
    return data


def _canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def inclusion_document(*, origin: str, size: int, root: bytes, index: int, leaf: bytes,
                       proof: Sequence[bytes], event: Mapping[str, Any],
                       checkpoint: str | None) -> dict[str, Any]:
    return {"format": PROOF_FORMAT, "kind": "inclusion", "origin": origin, "tree_size": size,
            "root": _b64(root), "leaf_index": index, "leaf_hash": _b64(leaf),
            "proof": [_b64(p) for p in proof], "event": dict(event),
            "checkpoint": checkpoint}


def consistency_document(*, origin: str, size1: int, size2: int, root1: bytes, root2: bytes,
                         proof: Sequence[bytes], from_checkpoint: str,
                         to_checkpoint: str | None) -> dict[str, Any]:
    return {"format": PROOF_FORMAT, "kind": "consistency", "origin": origin, "size1": size1,
            "size2": size2, "root1": _b64(root1), "root2": _b64(root2),
            "proof": [_b64(p) for p in proof], "from_checkpoint": from_checkpoint,
            "to_checkpoint": to_checkpoint}


def _int(doc: Mapping[str, Any], field: str) -> int:
    value = doc.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise VerificationError(f"{field}: expected a whole number ≥ 0")
    return value


def _proof(doc: Mapping[str, Any]) -> list[bytes]:
    items = doc.get("proof")
    if not isinstance(items, list):
        raise VerificationError("proof: expected a list of base64 hashes")
    return [_unb64(item, f"proof[{i}]") for i, item in enumerate(items)]


def _signed(note: Any, key: VerifierKey, origin: str, field: str) -> Checkpoint:
    if not isinstance(note, str):
        raise VerificationError(f"{field}: expected a signed checkpoint note")
    try:
        checkpoint = open_checkpoint(note, key, origin=origin)
    except VerificationError as err:
        raise VerificationError(f"{field}: {err}") from None
    return checkpoint


def check_proof(doc: Any, key: VerifierKey) -> str:
    """Check a proof document against the verifier key that signed its checkpoint(s).

    Returns a one-line summary of what was proved; raises :class:`VerificationError`
    saying what does not hold.
    """
    if not isinstance(doc, Mapping) or doc.get("format") != PROOF_FORMAT:
        raise VerificationError(f"not a proof document (format {PROOF_FORMAT})")
    origin = doc.get("origin")
    if not isinstance(origin, str) or not origin:
        raise VerificationError("origin: missing")
    kind = doc.get("kind")
    if kind == "inclusion":
        return _check_inclusion(doc, key, origin)
    if kind == "consistency":
        return _check_consistency(doc, key, origin)
    raise VerificationError(f"kind: {kind!r} is neither inclusion nor consistency")


def _check_inclusion(doc: Mapping[str, Any], key: VerifierKey, origin: str) -> str:
    size, index = _int(doc, "tree_size"), _int(doc, "leaf_index")
    root, leaf = _unb64(doc.get("root"), "root"), _unb64(doc.get("leaf_hash"), "leaf_hash")
    event = doc.get("event")
    if not isinstance(event, Mapping):
        raise VerificationError("event: expected the event's envelope and hash")
    missing = [k for k in (*ENVELOPE_KEYS, "hash") if k not in event]
    if missing:
        raise VerificationError(f"event: missing {', '.join(missing)}")
    body = _canonical({k: event[k] for k in ENVELOPE_KEYS})
    if hashlib.sha256(body).hexdigest() != event["hash"]:
        raise VerificationError("event: its hash is not that of its envelope")
    if leaf_hash(body) != leaf:
        raise VerificationError("leaf_hash: not the leaf hash of the event's envelope")
    if event["position"] != index + 1:
        raise VerificationError(f"event: at position {event['position']}, but the proof is "
                                f"for leaf index {index} (position {index + 1})")
    verify_inclusion(index, size, leaf, _proof(doc), root)
    what = f"event {event['event_id']} (position {event['position']}, {event['type']})"
    if doc.get("checkpoint") is None:
        return (f"{what} is in the log {origin} of size {size:,} with root {_b64(root)}; "
                "that root is not signed: prove against a checkpoint you keep")
    signed = _signed(doc.get("checkpoint"), key, origin, "checkpoint")
    if (signed.size, signed.root) != (size, root):
        raise VerificationError(f"checkpoint: it signs size {signed.size} and another root, "
                                f"the proof is against size {size}")
    return f"{what} is in the log {origin} of size {size:,} signed by {key.name}"


def _check_consistency(doc: Mapping[str, Any], key: VerifierKey, origin: str) -> str:
    size1, size2 = _int(doc, "size1"), _int(doc, "size2")
    root1, root2 = _unb64(doc.get("root1"), "root1"), _unb64(doc.get("root2"), "root2")
    verify_consistency(size1, size2, _proof(doc), root1, root2)
    first = _signed(doc.get("from_checkpoint"), key, origin, "from_checkpoint")
    if (first.size, first.root) != (size1, root1):
        raise VerificationError("from_checkpoint: it signs another size or root than size1 "
                                "and root1")
    newer = doc.get("to_checkpoint")
    if newer is None:
        return (f"the log {origin} of size {size2:,} (root {_b64(root2)}, not signed) "
                f"extends the checkpoint of size {size1:,} signed by {key.name}")
    second = _signed(newer, key, origin, "to_checkpoint")
    if (second.size, second.root) != (size2, root2):
        raise VerificationError("to_checkpoint: it signs another size or root than size2 "
                                "and root2")
    return (f"the checkpoint of size {size2:,} extends the one of size {size1:,}: the log "
            f"{origin} only grew (both signed by {key.name})")
