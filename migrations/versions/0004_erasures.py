"""Erasure for legal reasons: the only removal the database lets through, and only named.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

``erasures`` lists every erasure, one row per erasure event (``source.erased`` or
``payload.erased`` in the ``$erasures`` stream). It is append-only like the log. The
triggers that refuse DELETE on ``payloads`` and ``source_texts`` and UPDATE on
``citations`` are replaced by guarded ones: they still refuse everything, except

* deleting the payload of a position that an erasure row names,
* deleting the text of a source that an erasure row names,
* blanking the quote (``exact``, ``prefix``, ``suffix`` set to '') of a citation of such a
  source, every other column unchanged.

The trigger names stay, so ``audit verify`` still finds them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Fixed text only: no value is ever formatted into these statements.
_SQLITE = (
    "DROP TRIGGER payloads_refuse_delete",
    "DROP TRIGGER source_texts_refuse_delete",
    "DROP TRIGGER citations_refuse_update",
    """
CREATE TRIGGER payloads_refuse_delete BEFORE DELETE ON payloads
WHEN NOT EXISTS (SELECT 1 FROM erasures WHERE erasures.payload_position = OLD.position)
BEGIN
    SELECT RAISE(ABORT, 'eventstore: DELETE on payloads is refused: the log is append-only');
END
""",
    """
CREATE TRIGGER source_texts_refuse_delete BEFORE DELETE ON source_texts
WHEN NOT EXISTS (SELECT 1 FROM erasures WHERE erasures.source_id = OLD.source_id)
BEGIN
    SELECT RAISE(ABORT, 'eventstore: DELETE on source_texts is refused: the log is append-only');
END
""",
    """
CREATE TRIGGER citations_refuse_update BEFORE UPDATE ON citations
WHEN NOT (NEW.exact = '' AND NEW.prefix = '' AND NEW.suffix = ''
          AND NEW.position = OLD.position AND NEW.ordinal = OLD.ordinal
          AND NEW.source_id = OLD.source_id AND NEW.start_offset = OLD.start_offset
          AND NEW.end_offset = OLD.end_offset
          AND EXISTS (SELECT 1 FROM erasures WHERE erasures.source_id = OLD.source_id))
BEGIN
    SELECT RAISE(ABORT, 'eventstore: UPDATE on citations is refused: the log is append-only');
END
""",
    """
CREATE TRIGGER erasures_refuse_update BEFORE UPDATE ON erasures
BEGIN
    SELECT RAISE(ABORT, 'eventstore: UPDATE on erasures is refused: the log is append-only');
END
""",
    """
CREATE TRIGGER erasures_refuse_delete BEFORE DELETE ON erasures
BEGIN
    SELECT RAISE(ABORT, 'eventstore: DELETE on erasures is refused: the log is append-only');
END
""",
)

_PG = (
    """
CREATE FUNCTION eventstore_refuse_unless_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Nested tests: a branch's expressions are only planned when it runs (OLD has the
    -- columns of the table that fired, and NEW is unset on DELETE).
    IF TG_OP = 'DELETE' THEN
        IF TG_TABLE_NAME = 'payloads' THEN
            IF EXISTS (SELECT 1 FROM erasures
                       WHERE erasures.payload_position = OLD.position) THEN
                RETURN OLD;
            END IF;
        ELSIF TG_TABLE_NAME = 'source_texts' THEN
            IF EXISTS (SELECT 1 FROM erasures WHERE erasures.source_id = OLD.source_id) THEN
                RETURN OLD;
            END IF;
        END IF;
    ELSIF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'citations' THEN
        IF NEW.exact = '' AND NEW.prefix = '' AND NEW.suffix = ''
                AND NEW.position = OLD.position AND NEW.ordinal = OLD.ordinal
                AND NEW.source_id = OLD.source_id AND NEW.start_offset = OLD.start_offset
                AND NEW.end_offset = OLD.end_offset AND EXISTS (
                    SELECT 1 FROM erasures WHERE erasures.source_id = OLD.source_id) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'eventstore: % on % is refused: the log is append-only (only an '
                    'erasure event may remove what it names)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
""",
    "DROP TRIGGER payloads_refuse_change ON payloads",
    "DROP TRIGGER source_texts_refuse_change ON source_texts",
    "DROP TRIGGER citations_refuse_change ON citations",
    """
CREATE TRIGGER payloads_refuse_change BEFORE UPDATE OR DELETE ON payloads
    FOR EACH ROW EXECUTE FUNCTION eventstore_refuse_unless_erased()
""",
    """
CREATE TRIGGER source_texts_refuse_change BEFORE UPDATE OR DELETE ON source_texts
    FOR EACH ROW EXECUTE FUNCTION eventstore_refuse_unless_erased()
""",
    """
CREATE TRIGGER citations_refuse_change BEFORE UPDATE OR DELETE ON citations
    FOR EACH ROW EXECUTE FUNCTION eventstore_refuse_unless_erased()
""",
    """
CREATE TRIGGER erasures_refuse_change BEFORE UPDATE OR DELETE ON erasures
    FOR EACH ROW EXECUTE FUNCTION eventstore_refuse_change()
""",
    """
CREATE TRIGGER erasures_refuse_truncate BEFORE TRUNCATE ON erasures
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_refuse_change()
""",
)


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("position", sa.BigInteger,
                  sa.ForeignKey("events.position", name="fk_erasures_position"),
                  primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(64),
                  sa.ForeignKey("sources.id", name="fk_erasures_source"), nullable=True),
        sa.Column("payload_position", sa.BigInteger,
                  sa.ForeignKey("events.position", name="fk_erasures_payload"),
                  nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_by", sa.Text, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.CheckConstraint("(kind = 'source' AND source_id IS NOT NULL "
                           "AND payload_position IS NULL) OR (kind = 'payload' "
                           "AND payload_position IS NOT NULL AND source_id IS NULL)",
                           name="ck_erasures_target"),
    )
    op.create_index("ix_erasures_source", "erasures", ["source_id"], unique=True)
    op.create_index("ix_erasures_payload", "erasures", ["payload_position"], unique=True)
    statements = _SQLITE if op.get_bind().dialect.name == "sqlite" else _PG
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    raise RuntimeError("eventstore never drops its log; restore from a backup instead")
