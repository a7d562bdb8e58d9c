"""Driver errors, translated into the store's own errors in this one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy.exc as sa_exc

from ..errors import DatabaseError, EventStoreError, ImmutabilityViolation, SchemaError

_MISSING_TABLE = ("no such table", "does not exist")


def describe(err: BaseException, url: str) -> EventStoreError:
    """The store's error for a driver error raised while talking to the database at ``url``."""
    text = str(getattr(err, "orig", None) or err)
    first = text.strip().splitlines()[0] if text.strip() else type(err).__name__
    if "eventstore:" in text:
        return ImmutabilityViolation(first[first.index("eventstore:"):])
    if "file is not a database" in text or "file is encrypted" in text:
        return DatabaseError(f"{url}: this file is not an SQLite database "
                             "(give another --db, or move the file away)")
    if "lock timeout" in text or "database is locked" in text:
        return DatabaseError(f"{url}: another writer held the write lock too long; nothing was "
                             "written, try again")
    if "unable to open database file" in text:
        return DatabaseError(f"{url}: cannot open the database file (does its folder exist, "
                             "and may you write there?)")
    if any(marker in text for marker in _MISSING_TABLE) and isinstance(
            err, (sa_exc.OperationalError, sa_exc.ProgrammingError)):
        return SchemaError(f"{url}: the database has no eventstore schema "
                           "(run `eventstore init` first)")
    if isinstance(err, sa_exc.OperationalError) and (
            "connection" in text.lower() or "could not" in text.lower()
            or "timeout" in text.lower() or "resolve" in text.lower()):
        return DatabaseError(f"{url}: cannot reach the database: {first}")
    return DatabaseError(f"{url}: {first}")


@contextmanager
def translated(url: str) -> Iterator[None]:
    """Run a block, turning SQLAlchemy/driver errors into :class:`DatabaseError` subclasses."""
    try:
        yield
    except (sa_exc.DBAPIError, sa_exc.ArgumentError, sa_exc.NoSuchModuleError) as err:
        raise describe(err, url) from err
