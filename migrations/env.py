"""Alembic environment for eventstore.

The store runs migrations through Alembic's API (``eventstore init``), handing over an
open connection in ``config.attributes["connection"]``. Run by hand, Alembic reads the
database URL from ``-x url=…``, else ``EVENTSTORE_URL``, else ``sqlite:///facts.db``.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context

from eventstore.storage.schema import metadata

config = context.config


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "EVENTSTORE_URL", "sqlite:///facts.db")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()


if context.is_offline_mode():
    raise SystemExit("eventstore migrations run online only (the triggers differ per engine)")
run_migrations_online()
