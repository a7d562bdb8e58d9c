"""The vocabulary of what reporting says, aligned with CAMEO and PLOVER.

Every statement's ``stance`` and every incident's ``kind`` maps to one code of each of
the field's two standards:

* **CAMEO** (Conflict and Mediation Event Observations, Gerner, Schrodt and Yilmaz,
  2009): a verbal or material event code, kept as a **string** with its leading zeros
  (``"036"``, not ``36``; ``"0841"``, not ``841``): the first two digits are the root
  (``"03"`` EXPRESS INTENT TO COOPERATE), and a zero-padded code is another code.
* **PLOVER** (Political Language Ontology for Verifiable Event Records, Open Event Data
  Alliance): the event type (``AGREE``, ``DEMAND``, ``ACCUSE``, ``REJECT``,
  ``THREATEN``, ``SUPPORT``, ``SANCTION``, ``COERCE``, ``ASSAULT`` …) and, where the
  crosswalk gives one, the mode (``"disapprove"``, ``"confiscate"`` …).

Where the codes come from: the PLOVER repository's CAMEO-to-PLOVER crosswalk
(``CAMEO2PLOVER-2021.txt``, openeventdata/PLOVER) gives the PLOVER type and mode of
each CAMEO code; the PLOVER manual (draft 0.7) gives the modes of each type, which
decide the mode where the crosswalk gives none for what a kind names. Two choices the
standards leave open, made here and said in ``docs/facts.md``:

* PLOVER does not code CAMEO 01 (MAKE PUBLIC STATEMENT: comments, hopes, denials) nor
  02 (APPEAL: requests, proposals, appeals): those stances have ``plover`` ``None``. A
  PLOVER export leaves them out (or says so), as PLOVER itself does; it does not invent
  a type for them.
* PLOVER's verbal-conflict type for demands is ``DEMAND``, as the manual names it (some
  PLOVER data sets call it ``REQUEST``).

Several stances may share a code where CAMEO draws no line between them (an offer and
an assurance are both CAMEO 030): the stance is the finer word, the code the standard.

The API, for readers such as a PLOVER export (stable: add entries, never rename them):

* :class:`Coding` — ``cameo: str`` (the code, leading zeros kept), ``plover: str | None``
  (the event type, upper case), ``mode: str | None`` (the PLOVER mode), ``label: str``
  (CAMEO's name for the code);
* :data:`STANCES` — ``Mapping[Stance, Coding]``, one entry per :class:`~eventstore.facts.Stance`;
* :data:`INCIDENTS` — ``Mapping[IncidentKind, Coding]``, one entry per
  :class:`~eventstore.facts.IncidentKind`;
* :func:`coding` — the coding of a stance or kind given as its enum member or its text;
* :func:`markdown_table` — the tables ``docs/facts.md`` shows (a test checks they are
  the page's).

Pure: may import the standard library, attrs and ``eventstore.facts``; nothing else.
"""

from __future__ import annotations

import enum
import re
import types
from collections.abc import Mapping

import attrs

from .facts import IncidentKind, Stance

__all__ = ["Coding", "STANCES", "INCIDENTS", "PLOVER_TYPES", "coding", "markdown_table",
           "stance_words"]

#: PLOVER's sixteen event types, in the manual's order (verbal cooperation, material
#: cooperation, verbal conflict, material conflict).
PLOVER_TYPES = ("AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT",
                "DEMAND", "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION",
                "MOBILIZE", "COERCE", "ASSAULT")

_CAMEO = re.compile(r"^(0[1-9]|1[0-9]|20)[0-9]{1,2}$")


def _cameo(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _CAMEO.fullmatch(value):
        raise ValueError(f"{attribute.name} {value!r} is not a CAMEO event code (a string "
                         "of 3 or 4 digits whose first two are 01 to 20, e.g. '036')")


def _plover(_: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and value not in PLOVER_TYPES:
        raise ValueError(f"{attribute.name} {value!r} is not a PLOVER event type")


@attrs.frozen
class Coding:
    """A stance's or an incident kind's codes in CAMEO and PLOVER."""

    cameo: str = attrs.field(validator=_cameo)
    plover: str | None = attrs.field(validator=_plover)
    mode: str | None
    label: str  # CAMEO's name for the code

    @property
    def cameo_root(self) -> str:
        """The CAMEO root (cue category): the code's first two digits (``"03"``)."""
        return self.cameo[:2]


STANCES: Mapping[Stance, Coding] = types.MappingProxyType({
    # the nine stances of the first catalogue
    Stance.WARNING: Coding("130", "THREATEN", None, "Threaten, not specified below"),
    Stance.ASSURANCE: Coding("030", "AGREE", None, "Express intent to cooperate"),
    Stance.REJECTION: Coding("120", "REJECT", None, "Reject, not specified below"),
    Stance.PROPOSAL: Coding("020", None, None, "Make an appeal or request, not specified "
                            "below"),
    Stance.CONGRATULATION: Coding("051", "SUPPORT", None, "Praise or endorse"),
    Stance.HOPE: Coding("013", None, None, "Make optimistic comment"),
    Stance.OFFER: Coding("030", "AGREE", None, "Express intent to cooperate"),
    Stance.DEMAND: Coding("100", "DEMAND", None, "Demand, not specified below"),
    Stance.ASSESSMENT: Coding("010", None, None, "Make statement, not specified below"),
    # issue 12
    Stance.ACCUSATION: Coding("112", "ACCUSE", "disapprove", "Accuse, not specified below"),
    Stance.CRITICISM: Coding("111", "ACCUSE", "disapprove", "Criticize or denounce"),
    Stance.DENIAL: Coding("016", None, None, "Deny responsibility"),
    Stance.THREAT: Coding("130", "THREATEN", None, "Threaten, not specified below"),
    Stance.APPEAL: Coding("020", None, None, "Make an appeal or request, not specified "
                          "below"),
    Stance.PRAISE: Coding("051", "SUPPORT", None, "Praise or endorse"),
    Stance.INTENT_TO_MEET: Coding("036", "AGREE", None, "Express intent to meet or negotiate"),
    Stance.INTENT_TO_COOPERATE: Coding("030", "AGREE", None, "Express intent to cooperate"),
    Stance.AGREEMENT: Coding("030", "AGREE", None, "Express intent to cooperate"),
    Stance.REFUSAL: Coding("120", "REJECT", None, "Reject, not specified below"),
})

INCIDENTS: Mapping[IncidentKind, Coding] = types.MappingProxyType({
    IncidentKind.ARMED_CLASH: Coding("190", "ASSAULT", None, "Use conventional military "
                                     "force, not specified below"),
    IncidentKind.SEIZURE: Coding("171", "COERCE", "confiscate", "Seize or damage property"),
    IncidentKind.ARREST: Coding("173", "COERCE", "arrest", "Arrest, detain, or charge with "
                                "legal action"),
    IncidentKind.DEPORTATION: Coding("174", "COERCE", "deport", "Expel or deport "
                                     "individuals"),
    IncidentKind.DIPLOMATS_EXPELLED: Coding("161", "SANCTION", "expel", "Reduce or break "
                                            "diplomatic relations"),
    IncidentKind.RELATIONS_REDUCED: Coding("161", "SANCTION", "sever", "Reduce or break "
                                           "diplomatic relations"),
    IncidentKind.SANCTIONS_IMPOSED: Coding("163", "SANCTION", None, "Impose embargo, "
                                           "boycott, or sanctions"),
    IncidentKind.BLOCKADE: Coding("191", "COERCE", "restrict", "Impose blockade, restrict "
                                  "movement"),
    IncidentKind.MOBILIZATION: Coding("154", "MOBILIZE", "troops", "Mobilize or increase "
                                      "armed forces"),
    IncidentKind.RELEASE: Coding("0841", "RETREAT", "release", "Return, release person(s)"),
    IncidentKind.AID_PROVIDED: Coding("070", "AID", None, "Provide aid, not specified "
                                      "below"),
})


def stance_words(stance: str) -> str:
    """A stance in words with its codes, as every display shows it: ``accusation: CAMEO
    112, PLOVER ACCUSE``; ``hope: CAMEO 013`` where PLOVER codes none; the word alone for a
    stance the vocabulary does not know."""
    words = stance.replace("_", " ")
    try:
        code = STANCES[Stance(stance)]
    except ValueError:
        return words
    return (f"{words}: CAMEO {code.cameo}"
            + (f", PLOVER {code.plover}" if code.plover else ""))


def coding(value: Stance | IncidentKind | str) -> Coding:
    """The coding of a stance or an incident kind, given as its member or its text
    (``"accusation"``, ``"seizure"``); :class:`KeyError` for a word that is neither."""
    if isinstance(value, Stance):
        return STANCES[value]
    if isinstance(value, IncidentKind):
        return INCIDENTS[value]
    for table, kind in ((STANCES, Stance), (INCIDENTS, IncidentKind)):
        try:
            member: enum.Enum = kind(value)
        except ValueError:
            continue
        return table[member]  # type: ignore[index]
    raise KeyError(f"{value!r} is neither a stance nor an incident kind")


def markdown_table(table: Mapping[Stance, Coding] | Mapping[IncidentKind, Coding],
                   heading: str) -> str:
    """The table of ``docs/facts.md`` for ``table``, its first column headed ``heading``."""
    lines = [f"| {heading} | CAMEO | CAMEO's name for it | PLOVER type | PLOVER mode |",
             "|---|---|---|---|---|"]
    for member, code in table.items():
        lines.append(f"| `{member.value}` | `{code.cameo}` | {code.label} | "
                     f"{code.plover or f'— (PLOVER does not code CAMEO {code.cameo_root})'} | "
                     f"{code.mode or '—'} |")
    return "\n".join(lines)
