"""The auditor's tables: the Merkle tree over the log, and signed checkpoints.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

``merkle_nodes`` holds, for each position of the log, the hashes of the RFC 9162 tree
nodes completed when that event was appended (see ``eventstore/audit/merkle.py``): with it the
root at any size and any proof cost O(log n) reads. A log written before this revision
gets its rows on its next append (or ``eventstore audit checkpoint``), computed from the
events themselves. ``checkpoints`` keeps every signed tree head the store issued. Both
are append-only, like the log, and guarded by the same triggers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APPEND_ONLY = ("merkle_nodes", "checkpoints")

# The trigger bodies are fixed text; table names come from the constant tuple above.
_SQLITE_TRIGGER = """
CREATE TRIGGER {table}_refuse_{verb} BEFORE {op} ON {table}
BEGIN
    SELECT RAISE(ABORT, 'eventstore: {op} on {table} is refused: the log is append-only');
END
"""

# eventstore_refuse_change() was created by revision 0001.
_PG_TRIGGERS = """
CREATE TRIGGER {table}_refuse_change BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION eventstore_refuse_change();
CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_refuse_change();
"""


def upgrade() -> None:
    op.create_table(
        "merkle_nodes",
        sa.Column("position", sa.BigInteger,
                  sa.ForeignKey("events.position", name="fk_merkle_nodes_position"),
                  primary_key=True, autoincrement=False),
        sa.Column("hashes", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("key_name", sa.Text, nullable=False),
        sa.Column("key_id", sa.String(8), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("verifier_key", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
    )
    op.create_index("ix_checkpoints_size", "checkpoints", ["size"])
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            for op_name in ("UPDATE", "DELETE"):
                op.execute(_SQLITE_TRIGGER.format(table=table, op=op_name,
                                                  verb=op_name.lower()))
        else:
            for statement in _PG_TRIGGERS.format(table=table).split(";"):
                if statement.strip():
                    op.execute(statement)


def downgrade() -> None:
    raise RuntimeError("eventstore never drops its log; restore from a backup instead")
