"""Who is who: parties matched by identity, through the actor registry, not by spelling.

Owns :func:`name_key` (the spelling-insensitive key of a name or place), the
:class:`ActorRegistry` (every name and alias of a registered actor leads to its id; every
name and alias of a registered topic to its id) and :func:`registry_of` (the registry
from the ``$actors`` and ``$topics`` streams' events). A party that is not registered is
known by its country and folded name (``RUS:partie russe non nommee``).

A party known only by its role (no name) is known by its country and folded role
(``CHN:role:foreign minister``): never the same as a named party, whose id has no second
colon. When exactly one registered actor of its country held a role of those words
throughout the fact's dates (the role's ``since``/``until``), the reference says so in
``inferred``, apart from what the source said.

May import: the standard library, attrs, ``eventstore.dates``, ``eventstore.errors``,
``eventstore.events``, ``eventstore.facts`` and :mod:`.state`; nothing from ``storage/``
or ``cli/``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ..dates import ValidTime, parse_valid_time
from ..errors import DateError
from ..events import RecordedEvent
from ..facts import ActorRegistered, ActorRole, Party, TopicRegistered
from .state import PartyRef, RoleHolder

__all__ = ["name_key", "ActorRegistry", "registry_of"]


@functools.lru_cache(maxsize=65_536)
def name_key(name: str) -> str:
    """A spelling-insensitive key: accents, case, punctuation and spacing folded away."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", plain.casefold()))


@attrs.frozen
class ActorRegistry:
    """People by identity: every name and alias of a registered actor leads to its id."""

    actors: Mapping[str, ActorRegistered] = attrs.field(factory=dict)
    by_name: Mapping[tuple[str, str], str] = attrs.field(factory=dict)
    #: Registered topics by id, and the id each of their names and aliases leads to.
    topics: Mapping[str, TopicRegistered] = attrs.field(factory=dict)
    topic_by_name: Mapping[str, str] = attrs.field(factory=dict)
    #: (country, folded role) → the registered actors with a role of those words.
    by_role: Mapping[tuple[str, str], tuple[str, ...]] = attrs.field(factory=dict)
    #: Each party already matched, by its (name, country, role) and, for one known only by
    #: role, the fact's dates: a fold asks again and again.
    _refs: dict[tuple[Any, ...], PartyRef] = attrs.field(
        factory=dict, init=False, eq=False, repr=False)

    @classmethod
    def of(cls, registrations: Iterable[ActorRegistered | TopicRegistered]) -> ActorRegistry:
        actors: dict[str, ActorRegistered] = {}
        topics: dict[str, TopicRegistered] = {}
        for reg in registrations:  # the latest registration of an id wins
            if isinstance(reg, TopicRegistered):
                topics[reg.id] = reg
            else:
                actors[reg.id] = reg
        by_name: dict[tuple[str, str], str] = {}
        by_role: dict[tuple[str, str], tuple[str, ...]] = {}
        for reg in actors.values():
            for name in (reg.name, *reg.aliases):
                by_name[(reg.country, name_key(name))] = reg.id
            for role in {name_key(r.role) for r in reg.roles}:
                by_role[(reg.country, role)] = by_role.get((reg.country, role), ()) + (reg.id,)
        topic_by_name: dict[str, str] = {}
        for topic in topics.values():
            for name in (topic.name, *topic.aliases):
                topic_by_name[name_key(name)] = topic.id
        return cls(actors=actors, by_name=by_name, topics=topics, topic_by_name=topic_by_name,
                   by_role=by_role)

    def ref(self, party: Party, valid: ValidTime | None = None) -> PartyRef:
        """The reference of ``party`` in a fact of dates ``valid`` (which matter only for
        a party known by role alone: who held the role then)."""
        seen: tuple[Any, ...] = (party.name, party.country, party.role)
        if party.name is None and valid is not None:
            seen += (valid.lower, valid.upper)
        found = self._refs.get(seen)
        if found is None:
            found = self._refs[seen] = self._match(party, valid)
        return found

    def topic(self, name: str) -> TopicRegistered | None:
        """The registered topic ``name`` (or one of its aliases) names, if any."""
        topic_id = self.topic_by_name.get(name_key(name))
        return None if topic_id is None else self.topics[topic_id]

    def _match(self, party: Party, valid: ValidTime | None) -> PartyRef:
        if party.name is None:
            assert party.role is not None  # a party has a name or a role
            return PartyRef(id=f"{party.country}:role:{name_key(party.role)}", name=None,
                            country=party.country, role=party.role,
                            inferred=self._holder(party.country, party.role, valid))
        actor_id = self.by_name.get((party.country, name_key(party.name)))
        if actor_id is None:
            return PartyRef(id=f"{party.country}:{name_key(party.name)}", name=party.name,
                            country=party.country, role=party.role)
        actor = self.actors[actor_id]
        return PartyRef(id=actor_id, name=actor.name, country=actor.country,
                        role=party.role)


    def _holder(self, country: str, role: str, valid: ValidTime | None) -> RoleHolder | None:
        """The one registered actor of ``country`` who held ``role`` (its words folded)
        throughout ``valid``; None when there is no date, none, or more than one."""
        if valid is None or valid.lower is None or valid.upper is None:
            return None
        wanted = name_key(role)
        found = []
        for actor_id in self.by_role.get((country, wanted), ()):
            actor = self.actors[actor_id]
            held = [r for r in actor.roles if name_key(r.role) == wanted
                    and _held_throughout(r, valid)]
            if held:
                found.append((actor, held[0]))
        if len(found) != 1:
            return None
        actor, held_role = found[0]
        return RoleHolder(id=actor.id, name=actor.name, role=held_role.role,
                          since=held_role.since, until=held_role.until)


@functools.lru_cache(maxsize=4096)
def _bounds(edtf: str) -> ValidTime | None:
    try:
        return parse_valid_time(edtf)
    except DateError:  # checked when registered; a rule tightened since: no inference
        return None


def _held_throughout(role: ActorRole, valid: ValidTime) -> bool:
    """Whether the role was certainly held on every day ``valid`` may be: from the latest
    day ``since`` may be (a role with no ``since`` proves nothing) to the earliest day
    ``until`` may be (no ``until``: still held)."""
    if role.since is None:
        return False
    since = _bounds(role.since)
    if since is None or since.upper is None or valid.lower is None or valid.upper is None:
        return False
    if since.upper > valid.lower:
        return False
    if role.until is None:
        return True
    until = _bounds(role.until)
    return until is not None and until.lower is not None and valid.upper <= until.lower


def registry_of(events: Iterable[RecordedEvent]) -> ActorRegistry:
    """The registry as the ``$actors`` and ``$topics`` events given make it (the latest
    registration of an id wins)."""
    return ActorRegistry.of(e.data for e in events
                            if isinstance(e.data, ActorRegistered | TopicRegistered))
