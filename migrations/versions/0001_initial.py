"""The cited, append-only log: events, payloads, citations, sources and their texts.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Also installs the triggers that make the database refuse UPDATE and DELETE (and, on
PostgreSQL, TRUNCATE) on every table of the log.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

HASH = sa.String(64)
UUID_TEXT = sa.String(36)
APPEND_ONLY = ("events", "payloads", "citations", "sources", "source_texts")


def _tables() -> None:
    op.create_table(
        "events",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", UUID_TEXT, nullable=False),
        sa.Column("track", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("schema_version", sa.SmallInteger, nullable=False),
        sa.Column("valid_edtf", sa.Text, nullable=True),
        sa.Column("valid_lower", sa.Date, nullable=True),
        sa.Column("valid_upper", sa.Date, nullable=True),
        sa.Column("valid_text", sa.Text, nullable=True),
        sa.Column("valid_anchor", sa.Text, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("correlation_id", UUID_TEXT, nullable=True),
        sa.Column("causation_id", UUID_TEXT, nullable=True),
        sa.Column("payload_hash", HASH, nullable=False),
        sa.Column("citations_hash", HASH, nullable=False),
        sa.Column("prev_hash", HASH, nullable=False),
        sa.Column("hash", HASH, nullable=False),
        sa.UniqueConstraint("event_id", name="uq_events_event_id"),
        sa.UniqueConstraint("track", "version", name="uq_events_track_version"),
        sa.UniqueConstraint("hash", name="uq_events_hash"),
    )
    op.create_index("ix_events_track_valid", "events", ["track", "valid_lower", "valid_upper"])
    op.create_index("ix_events_type", "events", ["type"])
    op.create_index("ix_events_recorded_at", "events", ["recorded_at"])
    op.create_table(
        "payloads",
        sa.Column("position", sa.BigInteger,
                  sa.ForeignKey("events.position", name="fk_payloads_position"),
                  primary_key=True, autoincrement=False),
        sa.Column("hash", HASH, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "sources",
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
        sa.Column("position", sa.BigInteger,
                  sa.ForeignKey("events.position", name="fk_sources_position"),
                  nullable=False),
    )
    op.create_table(
        "source_texts",
        sa.Column("source_id", HASH, sa.ForeignKey("sources.id", name="fk_source_texts_source"),
                  primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "citations",
        sa.Column("position", sa.BigInteger,
                  sa.ForeignKey("events.position", name="fk_citations_position"),
                  primary_key=True, autoincrement=False),
        sa.Column("ordinal", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("source_id", HASH, sa.ForeignKey("sources.id", name="fk_citations_source"),
                  nullable=False),
        sa.Column("start_offset", sa.Integer, nullable=False),
        sa.Column("end_offset", sa.Integer, nullable=False),
        sa.Column("exact", sa.Text, nullable=False),
        sa.Column("prefix", sa.Text, nullable=False),
        sa.Column("suffix", sa.Text, nullable=False),
    )
    op.create_index("ix_citations_source", "citations", ["source_id"])


# The trigger bodies are fixed text; table names come from the constant tuple above.
_SQLITE_TRIGGER = """
CREATE TRIGGER {table}_refuse_{verb} BEFORE {op} ON {table}
BEGIN
    SELECT RAISE(ABORT, 'eventstore: {op} on {table} is refused: the log is append-only');
END
"""

_PG_FUNCTION = """
CREATE FUNCTION eventstore_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'eventstore: % on % is refused: the log is append-only',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$
"""

_PG_TRIGGERS = """
CREATE TRIGGER {table}_refuse_change BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION eventstore_refuse_change();
CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_refuse_change();
"""


def _triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in APPEND_ONLY:
            for op_name in ("UPDATE", "DELETE"):
                op.execute(_SQLITE_TRIGGER.format(table=table, op=op_name,
                                                  verb=op_name.lower()))
    elif dialect == "postgresql":
        op.execute(_PG_FUNCTION)
        for table in APPEND_ONLY:
            for statement in _PG_TRIGGERS.format(table=table).split(";"):
                if statement.strip():
                    op.execute(statement)
    else:
        raise RuntimeError(f"eventstore supports SQLite and PostgreSQL, not {dialect}")


def upgrade() -> None:
    _tables()
    _triggers()


def downgrade() -> None:
    raise RuntimeError("eventstore never drops its log; restore from a backup instead")
