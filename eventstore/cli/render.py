"""Rendering answers: one JSON document for scripts, readable text for people.

Light to import (the command modules import it at their top): rich and the library's
types are imported where a rendering needs them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from .. import AppendResult, RecordedEvent, Redacted


def emit(fmt: str, doc: Any, text: Callable[[Any], str]) -> None:
    """Print ``doc`` as JSON, or as the text ``text(doc)`` gives."""
    if fmt == "json":
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(text(doc))


def json_stream(key: str, items: Iterator[Mapping[str, Any]]) -> None:
    """``{"key": [ … ]}`` written item by item, so memory stays flat for any length."""
    click.echo(f'{{"{key}": [', nl=False)
    first = True
    for item in items:
        click.echo(("\n" if first else ",\n") + json.dumps(item, ensure_ascii=False), nl=False)
        first = False
    click.echo("\n]}")


def source_line(doc: Mapping[str, Any]) -> str:
    state = "added" if doc["new"] else "already stored"
    label = doc.get("title") or ""
    line = f"{doc['id']}  {state}  position {doc['position']}  {label}".rstrip()
    if doc.get("ignored"):
        line += (f"\n  note: {', '.join(doc['ignored'])} differ from the stored registration, "
                 "which sources never change; kept as first registered")
    return line


def sources_table(docs: list[dict[str, Any]]) -> str:
    from rich.table import Table

    if not docs:
        return "no sources yet (add one with `eventstore source add FILE`)"
    table = Table(box=None, pad_edge=False)
    for column in ("id", "published", "chars", "outlet", "title", "note"):
        table.add_column(column)
    for doc in docs:
        table.add_row(doc["id"][:16], _published(doc), str(doc["length"]), _outlet(doc),
                      doc["title"] or "", _brief(doc.get("note")))
    return _render(table)


# -- sources as published (issue 12, point 10) -----------------------------------------

def _published(doc: Mapping[str, Any]) -> str:
    """``2018-08-24 (date from the URL)``: the date and how it is known."""
    from ..facts import PublicationBasis

    if not doc.get("published"):
        return ""
    basis = doc.get("published_basis")
    return str(doc["published"]) + (f" ({PublicationBasis(basis).words})" if basis else "")


def _outlet(doc: Mapping[str, Any]) -> str:
    """``Le Figaro (AFP wire copy)``: who published it, and whose copy it was."""
    outlet, agency = doc.get("outlet") or "", doc.get("agency")
    if not agency:
        return outlet
    return f"{outlet} ({agency} wire copy)" if outlet else f"{agency} wire copy"


def _brief(text: str | None, limit: int = 40) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _source_header(doc: Mapping[str, Any]) -> list[str]:
    """What ``source show`` says of a source above its text."""
    shown = {"title": doc.get("title"), "outlet": _outlet(doc), "published": _published(doc),
             "url": doc.get("url"), "language": doc.get("language"), "note": doc.get("note")}
    return [f"{key}: {value}" for key, value in shown.items() if value]


def _render(renderable: Any) -> str:
    from rich.console import Console

    console = Console(width=120, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text().rstrip()


def source_text(doc: Mapping[str, Any]) -> str:
    """The text with cited spans marked ⟦…⟧ and numbered, then the list of citations."""
    if doc["text"] is None:
        erasure = doc.get("erasure") or {}
        return "\n".join([
            f"source {doc['id']}", *_source_header(doc), "",
            f"its text was erased on {erasure.get('erased_at')} by {erasure.get('erased_by')}"
            f" ({erasure.get('reason')}), with the quotes of its {len(doc['citations'])} "
            "citation(s); its id, length and the citations' spans remain"])
    text: str = doc["text"]
    spans = sorted(doc["citations"], key=lambda c: (c["start"], -c["end"]))
    marks: dict[int, list[str]] = {}
    for number, span in enumerate(spans, start=1):
        marks.setdefault(span["start"], []).append("⟦")
        marks.setdefault(span["end"], []).insert(0, f"⟧{number}")
    out: list[str] = []
    for index, char in enumerate(text):
        out.extend(marks.get(index, ()))
        out.append(char)
    out.extend(marks.get(len(text), ()))
    header = [f"source {doc['id']}", *_source_header(doc)]
    lines = [f"  {n}. [{s['start']}, {s['end']}) position {s['position']} {s['type']}"
             for n, s in enumerate(spans, start=1)]
    cited = ["", f"{len(spans)} cited span(s)" + (":" if spans else "")] + lines
    return "\n".join(header + ["", "".join(out)] + cited)


def append_doc(result: AppendResult) -> dict[str, Any]:
    """The JSON of an append; for a dry run (``--dry-run``), ``written`` is 0 and
    ``would_write`` says how many would be."""
    if result.dry_run:
        return {
            "dry_run": True, "positions": list(result.positions), "written": 0,
            "would_write": result.written,
            "events": [{"event_id": str(e.event_id), "position": e.position, "track": e.track,
                        "version": e.version, "new": e.new} for e in result.events],
        }
    return {
        "positions": list(result.positions),
        "written": result.written,
        "events": [{"event_id": str(e.event_id), "position": e.position, "track": e.track,
                    "version": e.version, "new": e.new} for e in result.events],
    }


def append_text(doc: Mapping[str, Any]) -> str:
    dry = doc.get("dry_run", False)
    would = "would be " if dry else ""
    lines = [f"{would}position {e['position']}  {e['track']} v{e['version']}  {e['event_id']}"
             + ("" if e["new"] else "  (already stored)") for e in doc["events"]]
    count = doc["would_write"] if dry else doc["written"]
    already = len(doc["events"]) - count
    summary = (f"dry run: {count} event(s) would be written" if dry
               else f"{count} event(s) written") + (f", {already} already stored"
                                                     if already else "")
    if dry:
        summary += "; nothing written"
    return "\n".join(lines + [summary])


def _summary(event: RecordedEvent, redacted: type[Redacted]) -> str:
    data = event.data
    if isinstance(data, redacted):
        return f"[redacted: erased by {data.erased_by}]"
    speaker = getattr(data, "speaker", None)
    if speaker is not None:
        return f"{speaker.name or speaker.role}: {getattr(data, 'stance', '')}"
    target = getattr(data, "event", None)
    if target is not None:
        return f"→ {target}"
    for name in ("key", "meeting", "source", "id"):
        value = getattr(data, name, None)
        if value:
            return str(value)[:40]
    withdrawn = getattr(data, "statement", None)  # statement.withdrawn names its statement
    if withdrawn is not None:
        return f"withdraws {withdrawn}"
    return ""


def log_lines(events: Iterable[RecordedEvent]) -> None:
    """One line per event, streamed."""
    from .. import Redacted

    count = 0
    for event in events:
        when = event.valid.edtf if event.valid else "-"
        click.echo(f"{event.position:>7}  {event.recorded_at:%Y-%m-%d %H:%M:%S}  "
                   f"{event.track:<9} v{event.version:<5} {event.type:<23} {when:<14} "
                   f"{_summary(event, Redacted)}")
        count += 1
    if count == 0:
        click.echo("no events")


def _when(valid: Any, *, source_words: bool = True) -> str:
    """A valid time as people read it: its EDTF value, with its uncertainty in words when
    it has any (``on or before 24 Aug 2018 (../2018-08-24)``), and the source's own words
    and the date they were read against (``“jeudi”, written 2018-08-24``)."""
    from ..dates import date_words, is_plain

    if valid is None:
        return "undated"
    words = date_words(valid)
    shown = valid.edtf if is_plain(valid) or words == valid.edtf else f"{words} ({valid.edtf})"
    if valid.text and source_words:
        written = f", written {valid.anchor}" if valid.anchor else ""
        shown += f" (\u201c{valid.text}\u201d{written})"
    return shown


def _scheduled(edtf: str) -> str:
    """A planned meeting's scheduled date in words (its EDTF value beside them)."""
    from ..dates import parse_valid_time

    return _when(parse_valid_time(edtf))


def _cites(citations: Iterable[Any], indent: str) -> list[str]:
    return [f"{indent}[{c.source[:8]} {c.start}-{c.end}] "
            + (ERASED_QUOTE if c.exact == "" else f"\u201c{c.exact}\u201d") for c in citations]


#: What stands in for a quote whose source's text was erased.
ERASED_QUOTE = "[quote erased with its source]"


def state_text(state: Any, *, markdown: bool = False, today: dt.date | None = None) -> str:
    """A track's state for people: one section per kind of item, each with its citations;
    an item that went through several statuses says them in one line (``planned 27 Jun →
    held 16 Jul 2018``), one still in its first its status (the line starts with its date)."""
    from ..projection.state import KINDS, lifecycle_words

    def life(item: Any) -> str:
        if len(item.stages) > 1:
            return lifecycle_words(item.stages)
        return str(item.status).replace("_", " ")

    head = "# " if markdown else ""
    sub = "## " if markdown else ""
    bullet = "- " if markdown else "  "
    # an item's notes and citations: in Markdown a nested list (four spaces, which both
    # CommonMark and Python-Markdown nest; six would make them a code block)
    under = "    - " if markdown else "      "
    cut = []
    if state.as_of:
        cut.append(f"as of {state.as_of}" + (" (possibly)" if state.possible else ""))
    if state.known_at:
        cut.append(f"known at {state.known_at:%Y-%m-%d %H:%M:%S}Z")
    sides = state.side_meetings_by_key()
    lines = [f"{head}{state.track}" + (f" — {', '.join(cut)}" if cut else "")
             + f"  ({counted(state.facts, 'fact')}, up to position {state.position})"]

    def section(title: str, items: Iterable[Any], describe: Any) -> None:
        rows = list(items)
        lines.append("")
        lines.append(f"{sub}{title} ({len(rows)})")
        for item in rows:
            lines.append(f"{bullet}{describe(item)}")
            lines.extend(note_lines(getattr(item, "notes", ()), under))
            lines.extend(_cites(item.citations, under))

    section("Meetings", state.meetings, lambda m: (
        f"{_when(m.date)}  {m.key}: {m.kind or 'meeting'} {life(m)}"
        + (f" by {m.by.label}" if m.by else "")
        + (f" for {_scheduled(m.scheduled)}" if m.scheduled and m.status in ("planned",
                                                                           "postponed") else "")
        + (f" (was scheduled for {_scheduled(m.scheduled)})" if m.scheduled
           and m.status == "cancelled" else "")
        + (f" (before: {', '.join(m.rescheduled)})" if m.rescheduled else "")
        + (f" (condition: {m.condition})" if m.condition else "")
        + (f" at {m.place}" if m.place else "") + _multilateral(m)
        + (f", on the sidelines of {m.at}" if m.at else "")
        + (f" — {', '.join(_party(p, m) for p in m.participants)}" if m.participants else "")
        + _side_meetings(sides.get(m.key, ()))
        + (f"; topics: {', '.join(m.topics)}" if m.topics else "")
        + (" (outcome only)" if m.outcome_only else "")))
    section("Declarations", state.declarations, lambda d: (
        f"{_when(d.date)}  {d.key}: {d.title or 'declaration'} {life(d)}"
        + (f" (condition: {d.condition})" if d.condition else "")
        + (f" by {d.by.label}" if d.by else "")
        + _multilateral(d) + (f" — {d.reason}" if d.reason else "")))
    section("Invitations", state.invitations, lambda i: (
        f"{_when(i.date)}  {i.key}: {i.inviter.label if i.inviter else '?'} invited "
        f"{i.invitee.label if i.invitee else '?'}" + (f" to {i.place}" if i.place else "")
        + _multilateral(i)
        + f" — {life(i)}" + (f" by {i.fulfilled_by}" if i.fulfilled_by else "")
        + (f" by {i.by.label}" if i.by else "")))
    section("Statements", state.statements, lambda s: (
        f"{_when(s.date)}  {s.speaker.label} ({_stance_words(s.stance)}): {s.content}"
        + _multilateral(s)
        + (f" [condition: {s.condition}]" if s.condition else "")
        + (f" [reported: {s.attribution}]" if s.attribution else "")
        + (_withdrawn(s) if s.status == "withdrawn" else "")))
    section("Topics", state.topics, lambda t: (
        f"{t.key}" + (f" ({t.aside})" if t.aside else "")
        + f": {_when(t.first, source_words=False)} … "
        f"{_when(t.last, source_words=False)} ({', '.join(t.meetings)})"))
    section("Announced actions", state.actions, lambda a: (
        f"{_when(a.date)}  {a.key}: "
        + (f"{', '.join(p.label for p in a.actors)}: " if a.actors else "")
        + (a.action or 'action (not described)')
        + (f" (against {a.target.label})" if a.target else "")
        + (f" (condition: {a.condition})" if a.condition else "")
        + _multilateral(a)
        + f" — {life(a)}" + (f" by {a.by.label}" if a.by else "")
        + (f": {a.reason}" if a.reason else "")))
    section("Incidents", state.incidents, lambda i: (
        f"{_when(i.date)}  {i.key}: {i.kind.replace('_', ' ')} "
        f"({'PLOVER ' + i.plover + ('/' + i.mode if i.mode else '') + ', ' if i.plover else ''}"
        f"CAMEO {i.cameo}) — "
        f"{', '.join(p.label for p in i.actors)}"
        + (f" against {i.target.label}" if i.target else "")
        + (f" at {i.place}" if i.place else "") + _multilateral(i) + f": {i.what}"))
    if state.redacted:
        section("Redacted facts", state.redacted, lambda r: (
            f"{_when(r.date)}  {r.type} {r.key}: data erased on {r.erased_at} by "
            f"{r.erased_by} ({r.reason})" + _multilateral(r)))
    opened = state.open_items_on(state.as_of or today)
    lines.append("")
    lines.append(f"{sub}Open items ({len(opened)})")
    lines.extend(f"{bullet}{o.kind} {o.key}: {o.what} ({o.status})"
                 + (f" — {o.overdue}" if o.overdue else "") for o in opened)
    if state.redacted or any(c.erased for kind in KINDS for item in state.items(kind)
                             for c in item.citations):
        lines.append("")
        lines.append(ERASURE_NOTE)
    return "\n".join(lines)


# -- every source's note, a topic's names (issue 12) ------------------------------------

def note_lines(notes: Iterable[Any], indent: str) -> list[str]:
    """Each note an item holds, on a line of its own, with where it comes from."""
    return [f"{indent}note: {' '.join(n.text.split())}  [{note_sources(n)}]" for n in notes]


def note_sources(note: Any) -> str:
    """The sources and spans a note's fact cites (``a1b2c3d4 120-190``)."""
    return "; ".join(f"{c.source[:8]} {c.start}-{c.end}" for c in note.citations) \
        or "no citation"


def _withdrawn(statement: Any) -> str:
    """`` — withdrawn 27 Jun 2018 by X: reason`` (a statement's withdrawal, in words)."""
    return (f" — withdrawn {_when(statement.withdrawn)}"
            + (f" by {statement.withdrawn_by.label}" if statement.withdrawn_by else "")
            + (f": {statement.withdrawn_reason}" if statement.withdrawn_reason else ""))


def _stance_words(stance: str) -> str:
    from ..vocabulary import stance_words

    return stance_words(stance)


def _side_meetings(keys: tuple[str, ...]) -> str:
    """``; side meetings: a, b`` when meetings of the track were held at this one."""
    return f"; side meetings: {', '.join(keys)}" if keys else ""


def _multilateral(item: Any) -> str:
    """`` (multilateral: CHN, IND, RUS)`` for an item recorded on a multilateral stream."""
    stream = getattr(item, "multilateral", None)
    return f" (multilateral: {stream.replace('-', ', ')})" if stream else ""


def _party(party: Any, item: Any) -> str:
    """A participant: with the country too at a multilateral item (which side is whose)."""
    return str(party.label_with_country if getattr(item, "multilateral", None)
               else party.label)


#: Said wherever an answer shows erased content: erasure rewrites past answers too.
ERASURE_NOTE = ("note: some content was erased for a legal reason; erasure is the only "
                "operation that changes what past answers show (`eventstore audit verify` "
                "lists the erasures)")


def history_text(steps: Iterable[Any], *, markdown: bool = False) -> str:
    lines = []
    for step in steps:
        head = f"{_when(step.valid)}  #{step.position} {step.type}" + (
            f" (multilateral: {step.stream.replace('-', ', ')})" if step.stream else "")
        lines.append(f"- **{head}**" if markdown else head)
        # in Markdown, a list nested in the step's bullet (as project's citations)
        lines.extend(f"{'    - ' if markdown else '    '}{change}" for change in step.changes)
        lines.extend(_cites(step.citations, "    - " if markdown else "      "))
    return "\n".join(lines) if lines else "no facts on this track"


def counted(count: int, noun: str) -> str:
    """``1 fact``, ``2 facts``: a count with its noun (a regular plural)."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def tracks_text(docs: list[dict[str, Any]]) -> str:
    if not docs:
        return "no tracks yet"
    return "\n".join(f"{d['track']}  {counted(d['events'], 'event')}  {d['first'] or '?'} … "
                     f"{d['last'] or '?'}  (last position {d['position']})"
                     + (f"  {d['multilateral']} of them multilateral"
                        if d.get("multilateral") else "") for d in docs)
