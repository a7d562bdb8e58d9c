"""Where a bilateral track stands: the pure fold from its facts to a typed state.

Nothing here does I/O. :func:`project` takes the events of one track (already cut at a
record-time position by the caller: *known at*), resolves the facts about facts
(retractions, corrections, added citations, "same event as"), keeps the facts that count
at a valid-time date (*as of*), orders them deterministically and folds them into a
:class:`TrackState`. :func:`history` replays the same fold step by step and says what
each fact changed. ``docs/projections.md`` explains the rules with the worked example.

The package, one module per concern, each importing only those above it:

* :mod:`.state` — the state and its items (the types), and their JSON document;
* :mod:`.identity` — who is who: the actor registry, names matched by identity;
* :mod:`.timeline` — the valid-time rules: what counts as of a date, the fold order;
* :mod:`.resolve` — facts about facts: each fact as it stands after them;
* :mod:`.fold` — the fold itself: lifecycles, from effective facts to a state;
* :mod:`.read_model` — the current state kept folded, updated incrementally, and its
  stored form;
* :mod:`.history` — step-by-step history, and the readable diff of two states.

Everything is pure: nothing here imports from ``storage/`` or ``cli/``. This module only
re-exports the names callers use.
"""

from .fold import PROJECTION_VERSION, project
from .history import Step, diff, history
from .identity import ActorRegistry, name_key, registry_of
from .read_model import Folded, dump_folded, fold_all, fold_more, load_folded
from .resolve import Effective, Plain, resolve
from .state import (
    KINDS,
    Action,
    Declaration,
    Evidence,
    Incident,
    Invitation,
    Meeting,
    OpenItem,
    PartyRef,
    RedactedFact,
    Statement,
    Topic,
    TrackState,
)
from .timeline import counts_at, order_key

__all__ = [
    "Evidence", "PartyRef", "Meeting", "Declaration", "Invitation", "Statement", "Topic",
    "Action", "RedactedFact", "OpenItem", "TrackState", "Step", "ActorRegistry", "Effective",
    "project", "history", "resolve", "counts_at", "order_key", "diff", "PROJECTION_VERSION",
    "Folded", "fold_all", "fold_more", "dump_folded", "load_folded", "KINDS", "Plain",
    "name_key", "registry_of", "Incident",
]
