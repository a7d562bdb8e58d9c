"""The imperative shell: SQLAlchemy tables, engine set-up, append and read."""

from .engine import DEFAULT_URL, check_schema, make_engine, resolve_url, upgrade
from .store import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    Appended,
    AppendResult,
    CitedSpan,
    Erasure,
    EventStore,
    ExpectedVersion,
    NewSource,
    Source,
    SourceInfo,
)

__all__ = [
    "ANY", "NO_STREAM", "STREAM_EXISTS", "Appended", "AppendResult", "CitedSpan",
    "DEFAULT_URL", "Erasure", "EventStore", "ExpectedVersion", "NewSource", "Source", "SourceInfo",
    "check_schema",
    "make_engine", "resolve_url", "upgrade",
]
