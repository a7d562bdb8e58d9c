"""Stores as an older eventstore left them, for the tests of each migration.

A migration's test needs a database at the revision before it, holding the rows an
eventstore of that revision wrote. Today's code cannot write into an older schema once a
later migration adds a column it writes (``sources.agency``), so :func:`written_at` lets
today's code write into a scratch store at the head revision, then copies each table the
older revision has, with the columns it has, into a database migrated only that far. The
rows are the ones an append writes (the canonical JSON and the hashes do not depend on
the schema), so the copy verifies as the scratch store does. A revision that kept the
Merkle tree in a table of its own (``merkle_nodes``, 0003 to 0011) gets it from the
scratch store's ``events.tree_nodes``, the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from alembic import command

from eventstore import EventStore
from eventstore.storage import engine as engine_module
from eventstore.storage.engine import make_engine
from tests.conftest import PG_URL, pg_schema_url

T = TypeVar("T")


def migrated_to(db_url: str, revision: str) -> sa.Engine:
    """A database migrated only as far as ``revision``, as an older eventstore left it."""
    engine = make_engine(db_url)
    config = engine_module._alembic_config()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        with engine_module._foreign_keys_off(conn):  # as `eventstore init` runs them
            command.upgrade(config, revision)
            conn.commit()
    return engine


@contextmanager
def _scratch_url(db_url: str) -> Iterator[str]:
    """An empty database on the same engine as ``db_url``, dropped afterwards."""
    if db_url.startswith("sqlite"):
        path = Path(db_url.removeprefix("sqlite:///"))
        yield f"sqlite:///{path.with_name(path.stem + '-scratch.db')}"
        return
    assert PG_URL
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    url, schema = pg_schema_url(admin)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
        admin.dispose()


def _copy_common(source: sa.Engine, target: sa.Engine) -> None:
    """Copy every row of the tables both databases have, in the columns both have."""
    have, want = sa.MetaData(), sa.MetaData()
    have.reflect(source)
    want.reflect(target)
    with source.connect() as read, target.begin() as write:
        for table in want.sorted_tables:
            if table.name == "alembic_version" or table.name not in have.tables:
                continue
            origin = have.tables[table.name]
            columns = [c.name for c in table.columns if c.name in origin.columns]
            rows = read.execute(sa.select(*(origin.c[c] for c in columns))
                                .order_by(*origin.primary_key.columns)).mappings().all()
            if rows:
                write.execute(table.insert(), [dict(row) for row in rows])
            if target.dialect.name == "postgresql":  # serial columns go on after the copy
                for column in table.primary_key.columns:
                    if column.autoincrement is True or (
                            column.server_default is not None
                            and "nextval" in str(column.server_default.arg)):
                        write.execute(sa.select(sa.func.setval(
                            sa.func.pg_get_serial_sequence(table.name, column.name),
                            sa.select(sa.func.coalesce(sa.func.max(column), 0) + 1)
                            .scalar_subquery(), False)))


def _copy_tree(source: sa.Engine, target: sa.Engine) -> None:
    """Fill ``merkle_nodes`` (revisions 0003 to 0011) from ``events.tree_nodes``."""
    have, want = sa.MetaData(), sa.MetaData()
    have.reflect(source, only=["events"])
    want.reflect(target)
    if "merkle_nodes" not in want.tables:
        return
    events = have.tables["events"]
    with source.connect() as read, target.begin() as write:
        rows = read.execute(sa.select(events.c.position, events.c.tree_nodes.label("hashes"))
                            .order_by(events.c.position)).mappings().all()
        if rows:
            write.execute(want.tables["merkle_nodes"].insert(), [dict(row) for row in rows])


def written_at(db_url: str, revision: str, write: Callable[[EventStore], T], *,
               tree: bool = True) -> tuple[sa.Engine, T]:
    """A database at ``revision`` holding what ``write`` appended (see the module's text),
    and what ``write`` returned (read from the scratch store, which is then dropped).
    Without ``tree``, ``merkle_nodes`` is left empty, as in a log written before the tree
    existed (schema 0002) and migrated to 0003 or later without an append since."""
    with _scratch_url(db_url) as scratch:
        with EventStore.open(scratch, create=True, actor="old") as store:
            written = write(store)
        source = make_engine(scratch)
        target = migrated_to(db_url, revision)
        try:
            _copy_common(source, target)
            if tree:
                _copy_tree(source, target)
        finally:
            source.dispose()
    return target, written
