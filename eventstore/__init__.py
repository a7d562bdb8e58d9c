"""eventstore: an event-sourced fact store with an audit trail.

Analysts append immutable facts, each citing the exact span of a stored source that
supports it; nothing is ever updated or deleted. A typical session::

    from eventstore import EventStore, Fact, MeetingHeld, Party, MeetingKind

    with EventStore.open("sqlite:///facts.db", create=True) as store:
        src = store.add_source(open("article.txt", "rb").read(), title="…")
        store.append("RUS-USA", [Fact.create(
            MeetingHeld(key="geneva-2018-08-23", kind=MeetingKind.TALKS, place="Genève",
                        participants=[Party("John Bolton", "USA"),
                                      Party("Nikolaï Patrouchev", "RUS")]),
            track="RUS-USA", date="2018-08-23", date_text="jeudi", date_anchor="2018-08-24",
            cite=[{"source": src.id, "quote": "ont eu jeudi une rencontre à Genève"}])])
        for event in store.read_track("RUS-USA"):
            print(event.position, event.type, event.valid.edtf)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import (
    AmbiguousQuote,
    AmbiguousSourcePrefix,
    AuditError,
    CitationError,
    ConcurrencyError,
    ConsumerBusy,
    ConsumerError,
    ConsumerNotFound,
    DatabaseBusy,
    DatabaseError,
    DatabaseUnavailable,
    DateError,
    DuplicateEventError,
    ErasureError,
    EventNotFound,
    EventStoreError,
    ImmutabilityViolation,
    IntegrityError,
    QuoteNotFound,
    ReadOnlyDatabase,
    SchemaError,
    SourceError,
    SourceNotFound,
    TrackError,
    UnknownFactType,
    ValidationError,
)

if TYPE_CHECKING:
    from .audit.checker import CheckedCheckpoint, Problem, Report, SeenErasure
    from .audit.verifier import (
        Checkpoint,
        SignerKey,
        VerifierKey,
        generate_key,
        parse_signer_key,
        parse_verifier_key,
    )
    from .codec import canonical_json
    from .dates import ValidTime, parse_valid_time
    from .events import Fact, RecordedEvent, fact_from_dict, fact_to_dict
    from .facts import (
        FACT_TYPES,
        DeclarationNotSigned,
        DeclarationPlanned,
        DeclarationSigned,
        FactData,
        InvitationAccepted,
        InvitationDeclined,
        InvitationExtended,
        MeetingCancelled,
        MeetingHeld,
        MeetingKind,
        MeetingPlanned,
        Party,
        PayloadErased,
        Redacted,
        SourceErased,
        SourceRegistered,
        Stance,
        StatementMade,
        TopicsDiscussed,
    )
    from .plover import LeftOut, PloverExport, plover_export
    from .projection import ActorRegistry, Step, TrackState
    from .report import track_report
    from .sources import Citation, CitationRequest, resolve_citation
    from .storage import (
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
    from .storage.auditing import Change, Replay
    from .storage.consumers import Consumer
    from .storage.reads import TrackSummary
    from .storage.subscriptions import Subscription
    from .storage.tree import ConsistencyProof, InclusionProof, StoredCheckpoint, TreeHead
    from .tracks import parse_stream, parse_track

#: The module of each public name but the errors, imported when the name is first used
#: (module ``__getattr__``, :mod:`eventstore.lazy`): ``import eventstore`` alone, as the
#: command line's start does, loads neither SQLAlchemy nor Alembic, the EDTF grammar or
#: cryptography.
_LAZY = {
    "codec": ("canonical_json",),
    "dates": ("ValidTime", "parse_valid_time"),
    "events": ("Fact", "RecordedEvent", "fact_from_dict", "fact_to_dict"),
    "facts": ("FACT_TYPES", "DeclarationNotSigned", "DeclarationPlanned", "DeclarationSigned",
              "FactData", "InvitationAccepted", "InvitationDeclined", "InvitationExtended",
              "MeetingCancelled", "MeetingHeld", "MeetingKind", "MeetingPlanned", "Party",
              "PayloadErased", "Redacted", "SourceErased", "SourceRegistered", "Stance",
              "StatementMade", "TopicsDiscussed"),
    "sources": ("Citation", "CitationRequest", "resolve_citation"),
    "storage": ("ANY", "NO_STREAM", "STREAM_EXISTS", "Appended", "AppendResult", "CitedSpan",
                "Erasure", "EventStore", "ExpectedVersion", "NewSource", "Source",
                "SourceInfo"),
    "tracks": ("parse_stream", "parse_track"),
    "report": ("track_report",),
    "plover": ("LeftOut", "PloverExport", "plover_export"),
    # what the store's methods return or take (tests/test_public_api.py)
    "audit.checker": ("CheckedCheckpoint", "Problem", "Report", "SeenErasure"),
    "audit.verifier": ("Checkpoint", "SignerKey", "VerifierKey", "generate_key",
                       "parse_signer_key", "parse_verifier_key"),
    "projection": ("ActorRegistry", "Step", "TrackState"),
    "storage.auditing": ("Change", "Replay"),
    "storage.consumers": ("Consumer",),
    "storage.subscriptions": ("Subscription",),
    "storage.reads": ("TrackSummary",),
    "storage.tree": ("ConsistencyProof", "InclusionProof", "StoredCheckpoint", "TreeHead"),
}

if not TYPE_CHECKING:  # mypy sees the imports above; a typo stays an error there
    from .lazy import lazy_exports

    __getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
    del lazy_exports

__version__ = "0.1.0"

__all__ = [
    "ANY", "AmbiguousQuote", "AmbiguousSourcePrefix", "AppendResult", "Appended", "AuditError",
    "Citation", "CitationError", "CitationRequest", "CitedSpan", "ConcurrencyError",
    "Consumer", "ConsumerBusy", "ConsumerError", "ConsumerNotFound", "Subscription",
    "DatabaseBusy", "DatabaseUnavailable", "ReadOnlyDatabase", "DatabaseError", "DateError",
    "DeclarationNotSigned", "DeclarationPlanned",
    "DeclarationSigned", "DuplicateEventError", "Erasure", "ErasureError", "EventNotFound",
    "EventStore", "EventStoreError", "ExpectedVersion", "FACT_TYPES", "Fact", "FactData",
    "ImmutabilityViolation", "IntegrityError", "InvitationAccepted", "InvitationDeclined",
    "InvitationExtended", "MeetingCancelled", "MeetingHeld", "MeetingKind", "MeetingPlanned",
    "NO_STREAM", "NewSource", "Party", "PayloadErased", "QuoteNotFound", "RecordedEvent",
    "Redacted", "STREAM_EXISTS", "SchemaError", "Source", "SourceErased", "SourceError",
    "SourceInfo", "SourceNotFound", "SourceRegistered", "Stance", "StatementMade",
    "TopicsDiscussed", "TrackError", "UnknownFactType", "ValidTime", "ValidationError",
    "canonical_json", "fact_from_dict", "fact_to_dict", "parse_stream", "parse_track",
    "parse_valid_time", "resolve_citation",
    # what the store's methods return or take (tests/test_public_api.py)
    "ActorRegistry", "Change", "CheckedCheckpoint", "Checkpoint", "ConsistencyProof",
    "InclusionProof", "Problem", "Replay", "Report", "SeenErasure", "SignerKey", "Step",
    "StoredCheckpoint", "TrackState", "TrackSummary", "TreeHead", "VerifierKey",
    "generate_key", "parse_signer_key", "parse_verifier_key",
    "track_report", "plover_export", "PloverExport", "LeftOut",
]
