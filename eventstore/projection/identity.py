"""Who is who: parties matched by identity, through the actor registry, not by spelling.

Owns :func:`name_key` (the spelling-insensitive key of a name or place), the
:class:`ActorRegistry` (every name and alias of a registered actor leads to its id) and
:func:`registry_of` (the registry from the ``$actors`` stream's events). A party that is
not registered is known by its country and folded name (``RUS:partie russe non nommee``).

May import: the standard library, attrs, ``eventstore.events``, ``eventstore.facts`` and
:mod:`.state`; nothing from ``storage/`` or ``cli/``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping

import attrs

from ..events import RecordedEvent
from ..facts import ActorRegistered, Party
from .state import PartyRef

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
    #: Each party already matched, by its (name, country, role): a fold asks again and again.
    _refs: dict[tuple[str, str, str | None], PartyRef] = attrs.field(
        factory=dict, init=False, eq=False, repr=False)

    @classmethod
    def of(cls, registrations: Iterable[ActorRegistered]) -> ActorRegistry:
        actors: dict[str, ActorRegistered] = {}
        for reg in registrations:  # the latest registration of an id wins
            actors[reg.id] = reg
        by_name: dict[tuple[str, str], str] = {}
        for reg in actors.values():
            for name in (reg.name, *reg.aliases):
                by_name[(reg.country, name_key(name))] = reg.id
        return cls(actors=actors, by_name=by_name)

    def ref(self, party: Party) -> PartyRef:
        seen = (party.name, party.country, party.role)
        found = self._refs.get(seen)
        if found is None:
            found = self._refs[seen] = self._match(party)
        return found

    def _match(self, party: Party) -> PartyRef:
        actor_id = self.by_name.get((party.country, name_key(party.name)))
        if actor_id is None:
            return PartyRef(id=f"{party.country}:{name_key(party.name)}", name=party.name,
                            country=party.country, role=party.role)
        actor = self.actors[actor_id]
        return PartyRef(id=actor_id, name=actor.name, country=actor.country,
                        role=party.role)


def registry_of(events: Iterable[RecordedEvent]) -> ActorRegistry:
    """The registry as the ``$actors`` events given make it (the latest registration wins)."""
    return ActorRegistry.of(e.data for e in events if isinstance(e.data, ActorRegistered))
