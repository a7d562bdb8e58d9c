"""The error hierarchy: every failure a caller can cause is one of these.

Callers catch :class:`EventStoreError` for "anything the store refused"; the
subclasses say why. Driver errors (sqlite3, psycopg) are translated into these
in one place, :mod:`eventstore.storage.errors`, so no caller ever has to know
which database sits underneath.
"""

from __future__ import annotations

from collections.abc import Sequence


class EventStoreError(Exception):
    """Base class of every error the store raises on purpose."""


class ValidationError(EventStoreError):
    """Input that does not fit: a field missing, extra, malformed or out of range.

    ``where`` names the place (``line 3``, ``data.participants[0].country``) so a
    person can find and fix it; ``problems`` lists each problem when there are several.
    """

    def __init__(self, message: str, *, where: str | None = None,
                 problems: Sequence[str] = ()) -> None:
        self.where = where
        self.problems = tuple(problems)
        self.detail = message
        super().__init__(f"{where}: {message}" if where else message)

    def at(self, where: str) -> ValidationError:
        """The same error, located one level further out (``line 3`` + ``data.key``)."""
        located = f"{where}: {self.where}" if self.where else where
        return type(self)(self.detail, where=located, problems=self.problems)


class DateError(ValidationError):
    """A valid-time value that is malformed, impossible, or unsupported."""


class UnknownFactType(ValidationError):
    """A fact type name that is not in the catalogue."""


class TrackError(ValidationError):
    """A track id that is not two ISO 3166 alpha-3 country codes."""


class SourceError(EventStoreError):
    """A source that cannot be registered or found."""


class SourceNotFound(SourceError):
    """No source has that id or id prefix."""


class AmbiguousSourcePrefix(SourceError):
    """Several sources share the id prefix the caller gave."""


class CitationError(ValidationError):
    """A citation that does not point at an exact span of its source."""


class QuoteNotFound(CitationError):
    """The quote does not occur in the source text."""


class AmbiguousQuote(CitationError):
    """The quote occurs more than once; the caller must say which occurrence."""

    def __init__(self, message: str, *, starts: Sequence[int], where: str | None = None) -> None:
        super().__init__(message, where=where)
        self.starts = tuple(starts)

    def at(self, where: str) -> AmbiguousQuote:
        located = f"{where}: {self.where}" if self.where else where
        return AmbiguousQuote(self.detail, starts=self.starts, where=located)


class ConcurrencyError(EventStoreError):
    """The track was not at the version the caller expected; nothing was written."""

    def __init__(self, track: str, expected: object, actual: int) -> None:
        self.track = track
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"track {track}: expected version {expected}, but the track is at version {actual}"
            " (nothing was written; re-read the track and try again)"
        )


class DuplicateEventError(EventStoreError):
    """An event id that is already stored with different content."""


class EventNotFound(EventStoreError):
    """No stored event has that id."""


class DatabaseError(EventStoreError):
    """The database cannot be reached, is not an eventstore database, or refused a write."""


class SchemaError(DatabaseError):
    """The database schema is missing or behind the code; ``eventstore init`` fixes it."""


class ImmutabilityViolation(DatabaseError):
    """Something tried to change or delete what the log holds; the database refused."""


class ReadOnlyDatabase(DatabaseError):
    """The database takes no writes (a read-only transaction or file, a hot standby, a role
    that may only read); nothing was written. Every reading works on such a database."""


class DatabaseBusy(DatabaseError):
    """The database did not do it in time or in turn: another writer held the write lock
    too long, a statement was cancelled (a statement timeout), or a transaction was stopped
    to keep it apart from another (serialization failure, deadlock). Nothing was written:
    try again."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached (or its file opened), or the connection was lost.

    A write whose connection was lost may have been committed or not: re-send it with
    the same event ids, which is safe (an event already stored is not written again)."""


class IntegrityError(EventStoreError):
    """What is stored does not check out: a hash, the tree, a checkpoint (tampering)."""


class AuditError(EventStoreError):
    """A checkpoint, proof or key that cannot be used: malformed, for another log or key,
    larger than the log, or failing verification."""


class ErasureError(EventStoreError):
    """An erasure that cannot be done: already done, or of something that cannot be erased."""


class ConsumerError(EventStoreError):
    """A named consumer that cannot do what was asked: its position would move back or past
    the log's head; nothing was committed."""


class ConsumerNotFound(ConsumerError):
    """No consumer has that name (create it first: ``store.consumer(name, create=True)``)."""


class ConsumerBusy(ConsumerError):
    """Another process runs the same consumer, or moved its position meanwhile; nothing of
    this one's batch was committed."""
