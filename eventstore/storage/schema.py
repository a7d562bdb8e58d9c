"""The tables, as SQLAlchemy Core metadata.

This module describes the schema so queries can be built from it; the schema itself
is created only by the Alembic migrations in ``migrations/``, and a test checks the
two agree on both engines (what ``alembic check`` checks).

The log is split so that a payload or a source text can later be erased for legal
reasons while the hash chain stays whole: ``events`` holds the chained envelopes,
which reference ``payloads`` and ``citations`` by hash and ``source_texts`` by the
source id (itself a hash of the text).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()

HASH = sa.String(64)
UUID_TEXT = sa.String(36)
#: A stream's id: a bilateral track (``RUS-USA``), a multilateral stream (``CHN-IND-RUS``,
#: up to 50 countries: 199 characters) or a fixed stream (``$actors``). SQLite does not
#: enforce the length, and its column keeps the 16 it was made with (migration 0009).
STREAM = sa.String(16).with_variant(sa.String(200), "postgresql")

#: An event's position: SQLite's rowid (``INTEGER PRIMARY KEY``, no second index on it),
#: PostgreSQL's ``bigint``.
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: The chained envelopes. No index on ``hash`` and none on the valid-time bounds: no
#: query reads through them, and each was a random-key index entry written per event
#: (schema 0008_lean, docs/integrity.md#the-stored-format).
events = sa.Table(
    "events", metadata,
    sa.Column("position", POSITION, primary_key=True, autoincrement=False),
    sa.Column("event_id", UUID_TEXT, nullable=False),
    sa.Column("track", STREAM, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.SmallInteger, nullable=False),
    sa.Column("valid_edtf", sa.Text, nullable=True),
    sa.Column("valid_lower", sa.Date, nullable=True),
    sa.Column("valid_upper", sa.Date, nullable=True),
    sa.Column("valid_text", sa.Text, nullable=True),
    sa.Column("valid_anchor", sa.Text, nullable=True),
    # true when the store resolved the date from valid_text and valid_anchor (0007)
    sa.Column("valid_resolved", sa.Boolean, nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("recorded_by", sa.Text, nullable=False),
    sa.Column("correlation_id", UUID_TEXT, nullable=True),
    sa.Column("causation_id", UUID_TEXT, nullable=True),
    sa.Column("payload_hash", HASH, nullable=False),
    sa.Column("citations_hash", HASH, nullable=False),
    sa.Column("prev_hash", HASH, nullable=False),
    sa.Column("hash", HASH, nullable=False),
    # The Merkle tree's nodes completed when this event was appended: RFC 9162 node
    # hashes, level 0 (the leaf) first, 32 bytes each (eventstore.audit.merkle). Written
    # in the event's own INSERT (schema 0012_tree_in_events; the table merkle_nodes before).
    sa.Column("tree_nodes", sa.LargeBinary, nullable=False),
    sa.UniqueConstraint("event_id", name="uq_events_event_id"),
    sa.UniqueConstraint("track", "version", name="uq_events_track_version"),
    sa.Index("ix_events_type", "type"),
    sa.Index("ix_events_recorded_position", "recorded_at", "position"),  # known-at cuts
)

payloads = sa.Table(
    "payloads", metadata,
    sa.Column("position", sa.BigInteger, sa.ForeignKey("events.position",
                                                       name="fk_payloads_position"),
              primary_key=True, autoincrement=False),
    sa.Column("hash", HASH, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)

sources = sa.Table(
    "sources", metadata,
    sa.Column("id", HASH, primary_key=True),
    sa.Column("original_sha256", HASH, nullable=False),
    sa.Column("length", sa.Integer, nullable=False),
    sa.Column("body_start", sa.Integer, nullable=False),
    sa.Column("body_end", sa.Integer, nullable=False),
    sa.Column("title", sa.Text, nullable=True),
    sa.Column("outlet", sa.Text, nullable=True),
    sa.Column("url", sa.Text, nullable=True),
    sa.Column("published", sa.Text, nullable=True),
    sa.Column("language", sa.Text, nullable=True),
    sa.Column("position", sa.BigInteger, sa.ForeignKey("events.position",
                                                       name="fk_sources_position"),
              nullable=False),
    # migration 0009: how the source was published (source.registered version 2)
    sa.Column("agency", sa.Text, nullable=True),
    sa.Column("published_basis", sa.Text, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
)

source_texts = sa.Table(
    "source_texts", metadata,
    sa.Column("source_id", HASH, sa.ForeignKey("sources.id", name="fk_source_texts_source"),
              primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
)

citations = sa.Table(
    "citations", metadata,
    sa.Column("position", sa.BigInteger, sa.ForeignKey("events.position",
                                                       name="fk_citations_position"),
              primary_key=True, autoincrement=False),
    sa.Column("ordinal", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("source_id", HASH, sa.ForeignKey("sources.id", name="fk_citations_source"),
              nullable=False),
    sa.Column("start_offset", sa.Integer, nullable=False),
    sa.Column("end_offset", sa.Integer, nullable=False),
    sa.Column("exact", sa.Text, nullable=False),
    sa.Column("prefix", sa.Text, nullable=False),
    sa.Column("suffix", sa.Text, nullable=False),
    sa.Index("ix_citations_source", "source_id"),
)

track_states = sa.Table(
    "track_states", metadata,
    sa.Column("track", sa.String(16), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),  # the track's version folded
    sa.Column("position", sa.BigInteger, nullable=False),  # the last position folded
    sa.Column("registry_version", sa.Integer, nullable=False),  # of the $actors stream
    sa.Column("code_version", sa.Integer, nullable=False),  # PROJECTION_VERSION
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

#: Each named consumer's position: the last position it has handled (bookkeeping:
#: updated as the consumer moves on, never by the append-only triggers). The store's own
#: catch-up projector is the consumer ``$projections``; ``registry_version`` and
#: ``code_version`` are its alone (what it folded with: either changing means a rebuild),
#: empty for every other consumer.
consumers = sa.Table(
    "consumers", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("registry_version", sa.Integer, nullable=True),  # of the $actors stream
    sa.Column("code_version", sa.Integer, nullable=True),  # PROJECTION_VERSION
)


class NodeColumns:
    """Where the tree's node hashes are kept: a position column and the hashes beside it."""

    def __init__(self, position: sa.Column[Any], hashes: sa.Column[Any]) -> None:
        self.position = position
        self.hashes = hashes
        self.query = (sa.select(position, hashes)
                      .where(position.in_(sa.bindparam("positions", expanding=True))))


#: The table schemas 0003 to 0011 kept the tree in (not in :data:`metadata`: no
#: longer part of the schema; the migrations before 0012 still read and fill it).
MERKLE_NODES = sa.Table(
    "merkle_nodes", sa.MetaData(),
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hashes", sa.LargeBinary, nullable=False),
)

#: The nodes in the event's own row (schema 0012 on).
IN_EVENTS = NodeColumns(events.c.position, events.c.tree_nodes)
#: The nodes in ``merkle_nodes`` (schemas 0003 to 0011).
BEFORE_0012 = NodeColumns(MERKLE_NODES.c.position, MERKLE_NODES.c.hashes)

#: Every signed tree head the store issued (C2SP checkpoint notes).
checkpoints = sa.Table(
    "checkpoints", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("origin", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("root", HASH, nullable=False),
    sa.Column("key_name", sa.Text, nullable=False),
    sa.Column("key_id", sa.String(8), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("verifier_key", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Index("ix_checkpoints_size", "size"),
)

#: Every erasure for a legal reason: one row per erasure event (``$erasures`` stream).
#: The guarded triggers on payloads, source_texts and citations let through only the
#: removals a row here names (migration 0004).
erasures = sa.Table(
    "erasures", metadata,
    sa.Column("position", sa.BigInteger, sa.ForeignKey("events.position",
                                                       name="fk_erasures_position"),
              primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(16), nullable=False),  # source | payload
    sa.Column("source_id", HASH, sa.ForeignKey("sources.id", name="fk_erasures_source"),
              nullable=True),
    sa.Column("payload_position", sa.BigInteger,
              sa.ForeignKey("events.position", name="fk_erasures_payload"), nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("erased_by", sa.Text, nullable=False),
    sa.Column("event_id", UUID_TEXT, nullable=False),
    sa.CheckConstraint("(kind = 'source' AND source_id IS NOT NULL "
                       "AND payload_position IS NULL) OR (kind = 'payload' "
                       "AND payload_position IS NOT NULL AND source_id IS NULL)",
                       name="ck_erasures_target"),
    sa.Index("ix_erasures_source", "source_id", unique=True),
    sa.Index("ix_erasures_payload", "payload_position", unique=True),
)

#: The countries of each multilateral stream (three or more), written with its first event:
#: "the multilateral streams with both CHN and IND" is a seek per country (migration 0009).
stream_members = sa.Table(
    "stream_members", metadata,
    sa.Column("country", sa.String(3), primary_key=True),
    sa.Column("stream", sa.String(200), primary_key=True),
)

#: Tables the database itself keeps append-only (triggers refuse UPDATE and DELETE;
#: on payloads, source_texts and citations, all but what an erasure names).
APPEND_ONLY_TABLES = ("events", "payloads", "citations", "sources", "source_texts",
                      "checkpoints", "erasures", "stream_members")
