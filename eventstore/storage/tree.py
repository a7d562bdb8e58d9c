"""The Merkle tree over the log, kept in the log itself: ``events.tree_nodes``.

The imperative shell around :mod:`eventstore.audit.merkle`: each appended event is a leaf of an
RFC 9162 tree in position order, its leaf bytes the canonical envelope whose SHA-256 is
the event's ``hash``. The row of position *p* holds the hashes of every node completed
when *p* was appended (the leaf first), so that any perfect subtree is one primary-key
read, and the root at any size and any proof need O(log n) of them, fetched in one query.

Before schema 0012 the hashes were a row of their own in ``merkle_nodes``
(:data:`MERKLE_NODES`), filled lazily for a log written before the tree existed (schema
0002); the migrations up to 0012 read and complete that table through :data:`BEFORE_0012`
and :func:`extend`. From 0012 on every event row carries its nodes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import sqlalchemy as sa

from ..audit.merkle import (
    Frontier,
    Node,
    assemble,
    consistency_parts,
    fold,
    inclusion_parts,
    needed,
    node_slot,
    root_nodes,
)
from ..audit.verifier import (
    EMPTY_ROOT,
    HASH_SIZE,
    Checkpoint,
    SignerKey,
    VerifierKey,
    sign_checkpoint,
)
from ..codec import envelope_json, sha256_hex
from ..errors import IntegrityError
from . import schema as t
from .rows import envelope_columns, envelope_from_row
from .schema import BEFORE_0012, IN_EVENTS, MERKLE_NODES, NodeColumns

__all__ = ["StoredCheckpoint", "store_checkpoint", "TreeHead", "InclusionProof",
           "ConsistencyProof", "NodeColumns", "IN_EVENTS", "BEFORE_0012", "MERKLE_NODES",
           "fetch_nodes", "frontier", "missing", "tree_size", "extend", "root_at", "inclusion",
           "consistency"]

_PAGE = 5_000


@attrs.frozen
class StoredCheckpoint:
    """A signed tree head the store issued: the checkpoint and its whole signed note."""

    id: int
    checkpoint: Checkpoint
    note: str
    key_name: str
    key_id: str
    verifier_key: str
    created_at: dt.datetime
    created_by: str


@attrs.frozen
class TreeHead:
    """The tree over the first ``size`` events: its root hash."""

    size: int
    root: bytes


@attrs.frozen
class InclusionProof:
    """RFC 9162 inclusion proof of the leaf at ``index`` (= position - 1) in a tree of ``size``."""

    index: int
    size: int
    leaf_hash: bytes
    proof: tuple[bytes, ...]
    root: bytes


@attrs.frozen
class ConsistencyProof:
    """RFC 9162 consistency proof: the tree of ``size1`` is a prefix of that of ``size2``."""

    size1: int
    size2: int
    root1: bytes
    root2: bytes
    proof: tuple[bytes, ...]


def checkpoint_row(checkpoint: Checkpoint, note: str, key: VerifierKey,
                   created_at: dt.datetime, created_by: str) -> dict[str, Any]:
    """The ``checkpoints`` row of a signed tree head."""
    return {"origin": checkpoint.origin, "size": checkpoint.size,
            "root": checkpoint.root.hex(), "key_name": key.name, "key_id": key.key_id.hex(),
            "note": note, "verifier_key": key.text(), "created_at": created_at,
            "created_by": created_by}


def store_checkpoint(conn: sa.Connection, origin: str, size: int, root: bytes, key: SignerKey,
                     now: dt.datetime, actor: str) -> StoredCheckpoint:
    """Sign the tree head of ``size`` and keep it, in the caller's transaction."""
    head = Checkpoint(origin=origin, size=size, root=root)
    note = sign_checkpoint(head, key)
    row = checkpoint_row(head, note, key.verifier(), now, actor)
    new_id = conn.execute(t.checkpoints.insert().values(**row)
                          .returning(t.checkpoints.c.id)).scalar_one()
    return StoredCheckpoint(id=new_id, checkpoint=head, note=note, key_name=key.name,
                            key_id=row["key_id"], verifier_key=row["verifier_key"],
                            created_at=now, created_by=actor)


def fetch_nodes(conn: sa.Connection, nodes: Iterable[Node],
                kept: NodeColumns = IN_EVENTS) -> dict[Node, bytes]:
    """The hashes of perfect subtrees, one query for all (missing ones are left out)."""
    wanted = {node: node_slot(node) for node in nodes}
    positions = sorted({position for position, _ in wanted.values()})
    rows: dict[int, bytes] = {}
    for start in range(0, len(positions), 500):
        chunk = positions[start:start + 500]
        for position, hashes in conn.execute(kept.query, {"positions": chunk}):
            rows[position] = bytes(hashes)
    found: dict[Node, bytes] = {}
    for node, (position, level) in wanted.items():
        hashes = rows.get(position)
        if hashes is not None and len(hashes) >= (level + 1) * HASH_SIZE:
            found[node] = hashes[level * HASH_SIZE:(level + 1) * HASH_SIZE]
    return found


def tree_size(conn: sa.Connection, kept: NodeColumns = IN_EVENTS) -> int:
    """How many events the stored tree covers."""
    return int(conn.execute(sa.select(sa.func.max(kept.position))).scalar() or 0)


def frontier(conn: sa.Connection, size: int,
             kept: NodeColumns = IN_EVENTS) -> Frontier | None:
    """The right edge of the stored tree of ``size`` (None when the tree is shorter)."""
    nodes = root_nodes(size)
    hashes = fetch_nodes(conn, nodes, kept)
    if len(hashes) != len(nodes):
        return None
    return Frontier(size, [hashes[node] for node in nodes])


def missing(size: int) -> Frontier:
    """Raise: the stored tree of ``size`` lacks a node of its right edge."""
    raise IntegrityError(f"the Merkle tree of size {size:,} is missing nodes; "
                         "run `eventstore audit verify`")


def extend(conn: sa.Connection, upto: int) -> Frontier:
    """Add the ``merkle_nodes`` rows of positions that table does not cover yet, up to
    ``upto``: for the migrations before 0012 only, on a schema that still has the table.

    Only a log written before the tree existed (schema 0002) has such positions; the
    appends of schemas 0003 to 0011 wrote the rows with the events. Each leaf is
    recomputed from its row, and an event whose stored ``hash`` is not that of its
    envelope is refused.
    """
    size = tree_size(conn, BEFORE_0012)
    edge = frontier(conn, size, BEFORE_0012) or missing(size)
    e = t.events.c
    while edge.size < upto:
        last = min(upto, edge.size + _PAGE)
        rows = conn.execute(sa.select(*envelope_columns(conn.dialect))
                            .where(e.position > edge.size, e.position <= last)
                            .order_by(e.position)).all()
        out = []
        for row in rows:
            position = row.position
            if position != edge.size + 1:
                raise IntegrityError(f"position {edge.size + 1} is missing from the log")
            body = envelope_json(envelope_from_row(row))
            if sha256_hex(body) != row.hash:
                raise IntegrityError(f"position {position}: the stored hash does not match "
                                     "the event's envelope; run `eventstore audit verify`")
            out.append({"position": position, "hashes": edge.append_leaf(body)})
        if not out:
            raise IntegrityError(f"position {edge.size + 1} is missing from the log")
        conn.execute(MERKLE_NODES.insert(), out)
    return edge


def root_at(conn: sa.Connection, size: int) -> bytes:
    """The root hash of the tree over the first ``size`` events (``size`` ≤ the tree's)."""
    if size == 0:
        return EMPTY_ROOT
    nodes = root_nodes(size)
    hashes = _get(conn, nodes)  # one query for all of them
    return fold([hashes[node] for node in nodes])


def _get(conn: sa.Connection, nodes: Iterable[Node]) -> Mapping[Node, bytes]:
    wanted = set(nodes)
    found = fetch_nodes(conn, wanted)
    if len(found) != len(wanted):
        missing = sorted(wanted - set(found))[0]
        raise IntegrityError(f"the Merkle tree lacks the node {missing} (level, index); "
                             "run `eventstore audit verify`")
    return found


def inclusion(conn: sa.Connection, index: int, size: int) -> InclusionProof:
    parts = inclusion_parts(index, size)
    roots = root_nodes(size)
    hashes = _get(conn, [*needed(parts), (0, index), *roots])
    return InclusionProof(index=index, size=size, leaf_hash=hashes[(0, index)],
                          proof=tuple(assemble(parts, hashes)),
                          root=fold([hashes[node] for node in roots]))


def consistency(conn: sa.Connection, size1: int, size2: int) -> ConsistencyProof:
    parts = consistency_parts(size1, size2) if size1 < size2 else []
    roots1, roots2 = root_nodes(size1), root_nodes(size2)
    hashes = _get(conn, [*needed(parts), *roots1, *roots2])
    return ConsistencyProof(size1=size1, size2=size2,
                            root1=fold([hashes[node] for node in roots1]),
                            root2=fold([hashes[node] for node in roots2]),
                            proof=tuple(assemble(parts, hashes)))
