"""A page for a track: one self-contained HTML file of its state, timeline and history.

Owns :func:`page` (pure: the HTML built from a state, its history, the cited sources'
texts and where in the log the answer was read), the small types it takes
(:class:`SourceText`, :class:`Provenance`), and :func:`track_report`, the one function
here that reads a store, gathering those inputs and handing them to :func:`page`.

The page needs nothing but itself when opened: its style and its one short script are
inline, and it loads no font, image or script from anywhere. Every string that comes
from the data is escaped (``html.escape``). Each cited source's text is embedded once,
with every cited span marked (``<mark id=…>``); each citation is a link to its mark.

May import: the standard library, attrs, ``eventstore.dates``, ``eventstore.errors``,
``eventstore.facts``, ``eventstore.tracks``, ``eventstore.vocabulary`` and
``eventstore.projection``; the store only for types.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .dates import ValidTime, date_words, is_plain, parse_valid_time
from .errors import DateError, TrackError
from .facts import PublicationBasis
from .projection import Evidence, Step, TrackState
from .projection.state import lifecycle_words
from .projection.timeline import chronology_key, counts_at
from .tracks import parse_track
from .vocabulary import stance_words

if TYPE_CHECKING:
    from . import EventStore

__all__ = ["Provenance", "SourceText", "page", "track_report"]

#: What stands in for a quote whose source's text was erased.
ERASED_QUOTE = "[quote erased with its source]"


@attrs.frozen
class SourceText:
    """A cited source as the page shows it: its metadata and text (None when erased)."""

    id: str
    text: str | None
    title: str | None = None
    outlet: str | None = None
    published: str | None = None
    url: str | None = None
    #: The news agency whose wire copy ``outlet`` republished (AFP, Reuters), if any.
    agency: str | None = None
    #: How ``published`` is known: stated, url, dateline or inferred.
    published_basis: str | None = None
    #: A free note on the source.
    note: str | None = None


@attrs.frozen
class Provenance:
    """Where in the log the page's answer was read, so an auditor can tie it to a
    checkpoint: the log's size at the cut, the tree head (root hash) of that size, and
    the log's origin."""

    log_position: int
    tree_root: str | None  # hex; None for an empty log
    origin: str | None = None
    generated_at: dt.datetime | None = None
    version: str | None = None


def track_report(store: EventStore, track: str, *, as_of: dt.date | None = None,
                 known_at: dt.datetime | None = None, possible: bool = False,
                 by: Literal["valid", "recorded"] = "valid",
                 today: dt.date | None = None) -> str:
    """The page for ``track`` (``eventstore report``): its state as of ``as_of`` and as
    known at ``known_at``, its history, every cited source. Raises :class:`TrackError`
    for a track the store holds no event of."""
    from . import __version__

    canonical = parse_track(track)
    if canonical not in {summary.track for summary in store.tracks()}:
        raise TrackError(f"unknown track {canonical}: the store holds no event of it "
                         "(`eventstore tracks` lists those it does)")
    state = store.project(canonical, as_of=as_of, known_at=known_at, possible=possible)
    steps = store.history(canonical, by=by, known_at=known_at)
    position = store.position_at(known_at) if known_at is not None else store.head()[0]
    root = store.tree_head(position).root.hex() if position else None
    sources: dict[str, SourceText] = {}
    for evidence in _all_citations(state, steps):
        if evidence.source not in sources:
            found = store.get_source(evidence.source)
            info = found.info
            sources[evidence.source] = SourceText(
                info.id, found.text, info.title, info.outlet, info.published, info.url,
                info.agency, info.published_basis, info.note)
    now = dt.datetime.now(dt.UTC)
    provenance = Provenance(position, root, store.origin() if position else None,
                            now.replace(microsecond=0), __version__)
    return page(state, steps, sources, provenance, by=by, today=today or now.date())


# -- the page (pure) ---------------------------------------------------------------------

def page(state: TrackState, steps: Sequence[Step], sources: Mapping[str, SourceText],
         provenance: Provenance, *, by: str = "valid", today: dt.date | None = None) -> str:
    """The whole HTML document. ``today`` is the day open items are overdue against when
    the state has no ``as_of`` day."""
    marks = _MarkIds(sources)
    for citation in _all_citations(state, steps):  # every span, before the texts are marked
        marks.target(citation)
    day = state.as_of or today
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(state.track)} — eventstore track report</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        '<a class="skip" href="#main">Skip to the content</a>',
        _header(state, provenance),
        '<main id="main">',
        _contents(state),
        _state_section(state, marks, day),
        _timeline_section(state, steps),
        _history_section(state, steps, marks, by),
        _sources_section(sources, marks),
        "</main>",
        "<footer><p>Every quote links to the words it cites in the source texts above; "
        "each source is embedded once, as stored. Written by eventstore"
        + (f" {_e(provenance.version)}" if provenance.version else "") + ".</p></footer>",
        f"<script>{_SCRIPT}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _when(valid: ValidTime | None, *, source_words: bool = True) -> str:
    """A valid time in words, its uncertainty said (``on or before 23 Aug 2018``), with
    the EDTF value and the source's own words."""
    if valid is None:
        return "undated"
    words = date_words(valid)
    shown = valid.edtf if is_plain(valid) or words == valid.edtf else f"{words} ({valid.edtf})"
    if valid.text and source_words:
        written = f", written {valid.anchor}" if valid.anchor else ""
        shown += f" (\u201c{valid.text}\u201d{written})"
    return shown


def _moment(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _all_citations(state: TrackState, steps: Iterable[Step]) -> list[Evidence]:
    found = [c for kind in _LISTS for item in state.items(kind) for c in item.citations]
    found += [c for step in steps for c in step.citations]
    return found


_LISTS = ("meetings", "declarations", "invitations", "actions", "statements", "topics",
          "incidents", "redacted")
_TITLES = {"meetings": "Meetings", "declarations": "Declarations",
           "invitations": "Invitations", "actions": "Announced actions",
           "statements": "Statements", "topics": "Topics", "redacted": "Redacted facts",
           "open_items": "Open items", "incidents": "Incidents"}


# -- header ------------------------------------------------------------------------------

def _header(state: TrackState, prov: Provenance) -> str:
    cut = []
    if state.as_of:
        cut.append(f"as of {state.as_of.isoformat()}"
                   + (" (counting what may have happened by then)" if state.possible
                      else " (counting what certainly happened by then)"))
    if state.known_at:
        cut.append(f"as the store knew it at {_moment(state.known_at)}")
    said = ("The state " + " and ".join(cut)) if cut else "The state as the store knows it now"
    root = prov.tree_root or "(empty log)"
    if state.known_at:
        tie = (f"This page is what the store said at {_e(_moment(state.known_at))}: its log "
               f"then ended at position {prov.log_position}, whose tree head (root hash) is "
               f"<code class=\"root\">{_e(root)}</code>. A checkpoint of size "
               f"{prov.log_position} with that root is the same log.")
    else:
        tie = (f"Read from the log up to position {prov.log_position}, tree head (root "
               f"hash) <code class=\"root\">{_e(root)}</code>.")
    rows = [("Log position", str(prov.log_position)), ("Tree head (root)", root),
            ("Log origin", prov.origin or "–"),
            ("Facts folded", f"{state.facts} (the track's last position read: "
                             f"{state.position})")]
    if prov.generated_at:
        rows.append(("Page written", _moment(prov.generated_at)))
    details = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in rows)
    return (f'<header class="page-head" data-known-at="{_e(state.known_at or "")}" '
            f'data-log-position="{prov.log_position}" data-tree-root="{_e(prov.tree_root or "")}">'
            f"<h1>Track {_e(state.track)}</h1>"
            f'<p class="cut">{_e(said)}.</p>'
            f'<p class="tie">{tie}</p>'
            f'<dl class="provenance">{details}</dl>'
            "</header>")


def _contents(state: TrackState) -> str:
    links = [("state", "Where the track stands"), ("open-items", "Open items"),
             ("timeline", "Timeline"), ("history", "History"), ("sources", "Sources")]
    items = "".join(f'<li><a href="#{k}">{_e(v)}</a></li>' for k, v in links)
    return f'<nav aria-label="Contents"><ul class="toc">{items}</ul></nav>'


# -- the state ---------------------------------------------------------------------------

def _citations(citations: Iterable[Evidence], marks: _MarkIds) -> str:
    rows = []
    for c in citations:
        quote = ERASED_QUOTE if c.exact == "" else f"\u201c{c.exact}\u201d"
        credit = source_credit(marks.sources.get(c.source))
        rows.append(f'<li><a class="cite" href="#{_e(marks.target(c))}">'
                    f'<span class="span-ref">[{_e(c.source[:8])} {c.start}\u2013{c.end}]</span> '
                    f'<span class="quote">{_e(quote)}</span></a>'
                    + (f' <span class="credit">{_e(credit)}</span>' if credit else "")
                    + "</li>")
    if not rows:
        return ""
    return f'<ul class="cites" aria-label="Citations">{"".join(rows)}</ul>'


def _status(status: str) -> str:
    return f'<span class="status st-{_e(status)}">{_e(status.replace("_", " "))}</span>'


def _lifecycle(item: Any) -> str:
    """An item that went through several statuses says them in one line, as the text
    displays do: ``planned 27 Jun → held 16 Jul 2018``."""
    stages = getattr(item, "stages", ())
    if len(stages) < 2:
        return ""
    return f' <span class="lifecycle">{_e(lifecycle_words(stages))}</span>'


def _names(parties: Iterable[Any], *, countries: bool = False) -> str:
    return ", ".join(p.label_with_country if countries else p.label for p in parties)


def _describe(kind: str, item: Any) -> str:
    """The item in one line of text (escaped by the caller); an item of a multilateral
    stream says so, with its countries."""
    stream = getattr(item, "multilateral", None)
    return _describe_item(kind, item) + (
        f" (multilateral: {stream.replace('-', ', ')})" if stream else "")


def _describe_item(kind: str, item: Any) -> str:
    if kind == "meetings":
        return ((f"{item.kind or 'meeting'}" + (f" at {item.place}" if item.place else ""))
                + (f", on the sidelines of {item.at}" if item.at else "")
                + (f" — {_names(item.participants, countries=bool(item.multilateral))}"
                   if item.participants else "")
                + (f"; topics: {', '.join(item.topics)}" if item.topics else "")
                + (f"; scheduled {item.scheduled}" if item.scheduled else "")
                + (f" (before: {', '.join(item.rescheduled)})" if item.rescheduled else "")
                + (f"; condition: {item.condition}" if item.condition else "")
                + (f"; {item.status.replace('_', ' ')} by {item.by.label}" if item.by else "")
                + (f"; reason: {item.reason}" if item.reason else "")
                + (" (outcome only: no plan of it is known)" if item.outcome_only else ""))
    if kind == "declarations":
        return ((item.title or "declaration")
                + (f" — parties {', '.join(item.parties)}" if item.parties else "")
                + (f"; signed by {_names(item.signatories)}" if item.signatories else "")
                + (f"; condition: {item.condition}" if item.condition else "")
                + (f"; not signed by {item.by.label}" if item.by else "")
                + (f"; reason: {item.reason}" if item.reason else ""))
    if kind == "invitations":
        return (f"{item.inviter.label if item.inviter else '?'} invited "
                f"{item.invitee.label if item.invitee else '?'}"
                + (f" to {item.place}" if item.place else "")
                + (f" for {item.purpose}" if item.purpose else "")
                + (f"; fulfilled by {item.fulfilled_by}" if item.fulfilled_by else "")
                + (f"; declined by {item.by.label}" if item.by else "")
                + (f"; reason: {item.reason}" if item.reason else ""))
    if kind == "actions":
        return ((f"{_names(item.actors)}: " if item.actors else "")
                + (item.action or "action (not described)")
                + (f"; against {item.target.label}" if item.target else "")
                + (f"; expected {item.expected}" if item.expected else "")
                + (f"; condition: {item.condition}" if item.condition else "")
                + (f"; {item.status.replace('_', ' ')} by {item.by.label}" if item.by else "")
                + (f"; reason: {item.reason}" if item.reason else ""))
    if kind == "statements":
        return (f"{item.speaker.label} ({stance_words(item.stance)}): {item.content}"
                + (f" [to {item.addressee}]" if item.addressee else "")
                + (f" [condition: {item.condition}]" if item.condition else "")
                + (f" [reported: {item.attribution}]" if item.attribution else "")
                + (f" [withdrawn {_when(item.withdrawn)}"
                   + (f" by {item.withdrawn_by.label}" if item.withdrawn_by else "")
                   + (f": {item.withdrawn_reason}" if item.withdrawn_reason else "") + "]"
                   if item.status == "withdrawn" else ""))
    if kind == "incidents":
        return (f"{item.kind.replace('_', ' ')} ("
                + (f"PLOVER {item.plover}" + (f"/{item.mode}" if item.mode else "") + ", "
                   if item.plover else "")
                + f"CAMEO {item.cameo}) — {_names(item.actors)}"
                + (f" against {item.target.label}" if item.target else "")
                + (f" at {item.place}" if item.place else "") + f": {item.what}")
    if kind == "topics":
        return ((f"({item.aside}) " if item.aside else "")
                + f"{_when(item.first, source_words=False)} … "
                f"{_when(item.last, source_words=False)} ({', '.join(item.meetings)})")
    return (f"{item.type}: data erased on {item.erased_at} by {item.erased_by} "
            f"({item.reason})")


def _state_section(state: TrackState, marks: _MarkIds, day: dt.date | None) -> str:
    side_meetings = state.side_meetings_by_key()
    out = ['<section id="state" aria-labelledby="state-h">',
           '<h2 id="state-h">Where the track stands</h2>']
    for kind in _LISTS:
        items = state.items(kind)
        if kind == "redacted" and not items:
            continue
        out.append(f'<section class="kind" id="list-{kind}" aria-labelledby="h-{kind}">')
        out.append(f'<h3 id="h-{kind}">{_TITLES[kind]} <span class="count">'
                   f"({len(items)})</span></h3>")
        if not items:
            out.append('<p class="none">Nothing recorded.</p>')
        else:
            out.append('<ol class="items">')
            for item in items:
                when = ("" if kind == "topics"
                        else f'<span class="when">{_e(_when(item.date))}</span> ')
                out.append(
                    f'<li class="item" data-list="{kind}" data-key="{_e(item.key)}">'
                    f'<p class="item-head">{when}'
                    + ("" if kind == "statements" else f'<span class="key">{_e(item.key)}</span> ')
                    + f"{_status(item.status)}{_lifecycle(item)}</p>"
                    f'<p class="item-text">{_e(_describe(kind, item))}'
                    + (f"; side meetings: {_e(', '.join(sides))}"
                       if kind == "meetings" and (sides := side_meetings.get(item.key))
                       else "") + "</p>"
                    f"{_notes(getattr(item, 'notes', ()), marks)}"
                    f"{_citations(item.citations, marks)}</li>")
            out.append("</ol>")
        out.append("</section>")
    out.append(_open_items(state, marks, day))
    out.append("</section>")
    return "\n".join(out)


def _open_items(state: TrackState, marks: _MarkIds, day: dt.date | None) -> str:
    opened = state.open_items_on(day)
    against = f" (overdue as of {day.isoformat()})" if day else ""
    out = ['<section class="kind" id="open-items" aria-labelledby="h-open">',
           f'<h3 id="h-open">Open items <span class="count">({len(opened)})</span>'
           f'<span class="against">{_e(against)}</span></h3>']
    if not opened:
        out.append('<p class="none">Nothing is waiting for an outcome.</p>')
    else:
        out.append('<table class="open"><caption class="visually-hidden">What still waits '
                   "for an outcome</caption><thead><tr><th scope=\"col\">kind</th>"
                   '<th scope="col">key</th><th scope="col">waiting for</th>'
                   '<th scope="col">status</th><th scope="col">since</th>'
                   '<th scope="col">overdue</th><th scope="col">citations</th></tr></thead><tbody>')
        for item in opened:
            overdue = (f'<strong class="overdue">{_e(item.overdue)}</strong>'
                       if item.overdue else "no")
            out.append(f'<tr data-list="open_items" data-key="{_e(item.key)}"'
                       + (' class="is-overdue"' if item.overdue else "") + ">"
                       f"<td>{_e(item.kind)}</td><td>{_e(item.key)}</td>"
                       f"<td>{_e(item.what)}</td><td>{_status(item.status)}</td>"
                       f"<td>{_e(_when(item.date))}</td><td>{overdue}</td>"
                       f"<td>{_citations(item.citations, marks)}</td></tr>")
        out.append("</tbody></table>")
    out.append("</section>")
    return "\n".join(out)


# -- the timeline ------------------------------------------------------------------------

@attrs.frozen
class _Stage:
    """One stage of an item's lifecycle on the timeline, and the interval it may lie in."""

    label: str
    valid: ValidTime | None
    scheduled: bool = False  # a date planned for, not a report of what happened

    @property
    def shape(self) -> str:
        """``day`` (a dot), ``range`` (a bar), ``open-start`` (on or before: a bar open
        to the left), ``open-end`` (on or after), or ``undated``."""
        v = self.valid
        if v is None or (v.lower is None and v.upper is None):
            return "undated"
        if v.lower is None:
            return "open-start"
        if v.upper is None:
            return "open-end"
        return "day" if v.lower == v.upper else "range"


@attrs.frozen
class _Row:
    kind: str
    key: str
    label: str
    status: str
    stages: tuple[_Stage, ...]


_LIFECYCLE_KINDS = ("meetings", "declarations", "invitations", "actions", "statements",
                    "incidents")
_STAGE_TYPES = {"planned", "held", "cancelled", "signed", "not_signed", "extended",
                "accepted", "declined", "announced", "done", "made",
                "postponed", "abandoned", "called_off", "withdrawn", "occurred"}


def _rows(state: TrackState, steps: Sequence[Step]) -> list[_Row]:
    """One row per item: the stages of its lifecycle, from the history steps of the facts
    that shaped it (those its citations came from), in fold order."""
    by_event = {step.event_id: step for step in steps}
    meeting_dates = {m.key: m.date for m in state.meetings}
    rows = []
    for kind in _LIFECYCLE_KINDS:
        for item in state.items(kind):
            stages: list[_Stage] = []
            seen: set[str] = set()
            for citation in item.citations:
                step = by_event.get(citation.event_id)
                if step is None or step.event_id in seen:
                    continue
                seen.add(step.event_id)
                stage = step.type.rpartition(".")[2]
                if stage in _STAGE_TYPES:
                    stages.append(_Stage(stage.replace("_", " "), step.valid))
            if not stages:
                stages.append(_Stage(item.status.replace("_", " "), item.date))
            planned_for = getattr(item, "scheduled", None) or getattr(item, "expected", None)
            if planned_for:
                try:
                    stages.append(_Stage("planned for" if kind == "meetings" else "expected",
                                         parse_valid_time(planned_for), scheduled=True))
                except DateError:  # stored before a rule was tightened: nothing to draw
                    pass
            for earlier in getattr(item, "rescheduled", ()):  # dates a postponement left
                try:
                    stages.append(_Stage("was planned for", parse_valid_time(earlier),
                                         scheduled=True))
                except DateError:
                    pass
            if kind == "invitations" and item.fulfilled_by:
                stages.append(_Stage("fulfilled", meeting_dates.get(item.fulfilled_by)))
            label = (f"{item.speaker.label} ({item.stance.replace('_', ' ')})"
                     if kind == "statements"
                     else item.key)
            rows.append(_Row(kind, item.key, label, item.status, tuple(stages)))
    rows.sort(key=lambda r: chronology_key(next(
        (s.valid for s in r.stages if s.shape != "undated"), None)))
    return rows


def _domain(rows: Sequence[_Row], as_of: dt.date | None) -> tuple[dt.date, dt.date] | None:
    days = [d for r in rows for s in r.stages if s.valid is not None
            for d in (s.valid.lower, s.valid.upper) if d is not None]
    if as_of:
        days.append(as_of)
    if not days:
        return None
    first, last = min(days), max(days)
    pad = max(dt.timedelta(days=3), (last - first) / 12)
    return first - pad, last + pad + dt.timedelta(days=1)


def _ticks(start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
    months = (end.year - start.year) * 12 + end.month - start.month
    step = 1 if months <= 18 else 3 if months <= 48 else 12
    day = dt.date(start.year, start.month, 1)
    ticks = []
    while day <= end:
        if day >= start and (day.month - 1) % step == 0:
            ticks.append((day, day.strftime("%b %Y") if step < 12 else str(day.year)))
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return ticks


def _timeline_section(state: TrackState, steps: Sequence[Step]) -> str:
    rows = _rows(state, steps)
    out = ['<section id="timeline" aria-labelledby="timeline-h">',
           '<h2 id="timeline-h">Timeline</h2>',
           '<p class="legend">By valid time: when each thing happened in the world, as '
           "precisely as the sources say. A dot is a known day; a bar is a range the day "
           "lies in (a month, say); a bar fading out to one side is open-ended (“on or "
           "before”, “on or after”); a dashed outline is a date planned for. The stages of "
           "each item's lifecycle (planned → held, extended → accepted…) are joined by a "
           "line. The table after it says the same in words.</p>"]
    domain = _domain(rows, state.as_of)
    if domain is None:
        out.append('<p class="none">Nothing dated to draw.</p></section>')
        return "\n".join(out)
    start, end = domain
    span = (end - start).days

    def x(day: dt.date) -> float:
        return round(100 * (day - start).days / span, 3)

    out.append('<div class="tl" role="img" aria-label="Timeline of the items; the table '
               'below gives the same intervals in words">')
    ticks = "".join(f'<span class="tick" style="left:{x(d)}%">{_e(label)}</span>'
                    for d, label in _ticks(start, end))
    asof = (f'<span class="asof" style="left:{x(state.as_of)}%" title="as of '
            f'{state.as_of.isoformat()}"></span>' if state.as_of else "")
    out.append(f'<div class="tl-row tl-axis"><div class="tl-label"></div>'
               f'<div class="tl-lane">{ticks}{asof}</div></div>')
    for row in rows:
        marks = []
        centres = []
        for stage in row.stages:
            drawn = _interval(stage, x, start, end)
            if drawn is not None:
                marks.append(drawn[0])
                centres.append(drawn[1])
        life = ""
        if len(centres) > 1:
            life = (f'<span class="life" style="left:{min(centres)}%;'
                    f'width:{round(max(centres) - min(centres), 3)}%"></span>')
        stages = " → ".join(s.label for s in row.stages if not s.scheduled)
        out.append(f'<div class="tl-row" data-row="{row.kind}" data-key="{_e(row.key)}">'
                   f'<div class="tl-label" title="{_e(f"{row.label}: {stages}")}">'
                   f'<span class="tl-kind">{_e(row.kind[:-1])}</span> '
                   f'{_e(row.label)} <span class="tl-stages">{_e(stages)}</span></div>'
                   f'<div class="tl-lane">{asof}{life}{"".join(marks)}</div></div>')
    out.append("</div>")
    out.append(_LEGEND)
    out.append(_timeline_table(rows))
    out.append("</section>")
    return "\n".join(out)


_LEGEND = ('<ul class="tl-legend" aria-label="Colours of the timeline">'
           '<li><span class="swatch st-planned"></span>planned, postponed, extended, '
           'announced</li>'
           '<li><span class="swatch st-held"></span>held, signed, accepted, fulfilled, done</li>'
           '<li><span class="swatch st-cancelled"></span>cancelled, not signed, declined, '
           'abandoned, called off, withdrawn; an incident</li>'
           '<li><span class="swatch st-made"></span>statement made</li>'
           '<li><span class="swatch planned-for"></span>date planned for, expected</li>'
           + "</ul>")


def _interval(stage: _Stage, x: Any, start: dt.date, end: dt.date) -> tuple[str, float] | None:
    """The mark of one stage, and the point the lifecycle line joins it at."""
    shape = stage.shape
    v = stage.valid
    if v is None or shape == "undated":
        return None
    lower = v.lower or start
    upper = (v.upper + dt.timedelta(days=1)) if v.upper else end
    left, right = x(lower), x(upper)
    cls = f"iv iv-{shape} st-{stage.label.replace(' ', '-')}" + (" planned-for"
                                                                  if stage.scheduled else "")
    data = (f'data-shape="{shape}" data-stage="{_e(stage.label)}" data-edtf="{_e(v.edtf)}" '
            f'data-lower="{v.lower or ""}" data-upper="{v.upper or ""}"')
    title = _e(f"{stage.label}: {_when(v, source_words=False)}")
    if shape == "day":
        centre = round((left + right) / 2, 3)
        return (f'<span class="{cls}" {data} style="left:{centre}%" title="{title}"></span>',
                centre)
    width = max(round(right - left, 3), 0.4)
    centre = right if shape == "open-start" else left if shape == "open-end" else (
        round((left + right) / 2, 3))
    return (f'<span class="{cls}" {data} style="left:{left}%;width:{width}%" '
            f'title="{title}"></span>', centre)


def _bound(day: dt.date | None) -> str:
    return day.isoformat() if day else "open"


def _timeline_table(rows: Sequence[_Row]) -> str:
    out = ['<table class="tl-words"><caption>The timeline in words</caption><thead><tr>'
           '<th scope="col">item</th><th scope="col">stage</th><th scope="col">when</th>'
           '<th scope="col">earliest day</th><th scope="col">latest day</th>'
           '<th scope="col">drawn as</th></tr></thead><tbody>']
    words = {"day": "a dot (one day)", "range": "a bar (a range of days)",
             "open-start": "a bar open to the left (on or before)",
             "open-end": "a bar open to the right (on or after)", "undated": "not drawn"}
    for row in rows:
        for stage in row.stages:
            v = stage.valid
            out.append(f'<tr data-row="{row.kind}" data-shape="{stage.shape}">'
                       f"<td>{_e(row.kind[:-1])} {_e(row.label)}</td>"
                       f"<td>{_e(stage.label)}</td>"
                       f"<td>{_e(_when(v, source_words=False))}</td>"
                       f'<td class="day">{_bound(v.lower if v else None)}</td>'
                       f'<td class="day">{_bound(v.upper if v else None)}</td>'
                       f"<td>{_e(words[stage.shape])}</td></tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


# -- history -----------------------------------------------------------------------------

def _history_section(state: TrackState, steps: Sequence[Step], marks: _MarkIds,
                     by: str) -> str:
    order = ("in valid-time order: the world's story as best known"
             if by == "valid" else "in record order: how the store's answer changed as "
             "facts arrived")
    out = ['<section id="history" aria-labelledby="history-h">',
           f'<h2 id="history-h">History <span class="count">({len(steps)} steps)</span></h2>',
           f"<p>One step per fact, {_e(order)}; each says what it changed."
           + (" Steps dimmed and marked “after the as-of day” do not count in the state "
              "above." if state.as_of else "") + "</p>"]
    if not steps:
        out.append('<p class="none">No facts on this track.</p>')
    out.append('<ol class="history">')
    for step in steps:
        later = (state.as_of is not None and step.valid is not None  # a fact about facts
                 and not counts_at(step.valid, state.as_of, state.possible))  # has no date
        changes = "".join(f"<li>{_e(change)}</li>" for change in step.changes)
        out.append(f'<li class="step{" later" if later else ""}" data-position="{step.position}">'
                   f'<p class="step-head"><span class="when">{_e(_when(step.valid))}</span> '
                   f'<span class="pos">#{step.position}</span> <code>{_e(step.type)}</code> '
                   + (f'<span class="multilateral">multilateral: '
                      f'{_e(step.stream.replace("-", ", "))}</span> ' if step.stream else "")
                   + f'<span class="recorded">recorded {_e(_moment(step.recorded_at))}</span>'
                   + (' <span class="after">after the as-of day</span>' if later else "")
                   + f'</p><ul class="changes">{changes}</ul>'
                   f"{_citations(step.citations, marks)}</li>")
    out.append("</ol></section>")
    return "\n".join(out)


# -- every source's note; sources as published (issue 12) --------------------------------

def _notes(notes: Iterable[Any], marks: _MarkIds) -> str:
    """Each note an item holds, with the citations of the fact that gave it."""
    rows = [f'<li class="note"><span class="note-text">note: {_e(n.text)}</span>'
            f"{_citations(n.citations, marks)}</li>" for n in notes]
    return f'<ul class="notes" aria-label="Notes">{"".join(rows)}</ul>' if rows else ""


def source_credit(source: SourceText | None) -> str:
    """Who published a source and when, as the page says it: ``Le Figaro (AFP wire copy),
    published 2018-08-24 (date from the URL)``."""
    if source is None:
        return ""
    who = source.outlet or ""
    if source.agency:
        who = f"{who} ({source.agency} wire copy)" if who else f"{source.agency} wire copy"
    when = ""
    if source.published:
        when = f"published {source.published}"
        if source.published_basis:
            when += f" ({PublicationBasis(source.published_basis).words})"
    return ", ".join(part for part in (who, when) if part)


# -- the sources, with their cited spans marked --------------------------------------------

class _MarkIds:
    """The id of each cited span's mark: ``m-`` + 16 hex digits of the source + the span."""

    def __init__(self, sources: Mapping[str, SourceText]) -> None:
        self.sources = sources
        self.spans: dict[str, set[tuple[int, int]]] = {}

    def target(self, c: Evidence) -> str:
        source = self.sources.get(c.source)
        if source is None or source.text is None or c.start >= c.end:
            return _source_id(c.source)
        self.spans.setdefault(c.source, set()).add((c.start, c.end))
        return _mark_id(c.source, c.start, c.end)


def _source_id(source: str) -> str:
    return f"source-{source[:16]}"


def _mark_id(source: str, start: int, end: int) -> str:
    return f"m-{source[:16]}-{start}-{end}"


def _sources_section(sources: Mapping[str, SourceText], marks: _MarkIds) -> str:
    out = ['<section id="sources" aria-labelledby="sources-h">',
           '<h2 id="sources-h">Sources</h2>',
           "<p>Each cited source once, as stored, with every cited span marked. A quote "
           "above links to its span here.</p>"]
    for source_id, source in sources.items():
        meta = [source.title, source_credit(source)]
        head = " · ".join(m for m in meta if m) or "untitled"
        out.append(f'<section class="source" id="{_source_id(source_id)}" '
                   f'aria-labelledby="{_source_id(source_id)}-h">'
                   f'<h3 id="{_source_id(source_id)}-h">{_e(head)}</h3>'
                   f'<p class="source-id">source <code>{_e(source_id)}</code>'
                   + (f' · <span class="url">{_e(source.url)}</span>' if source.url else "")
                   + "</p>")
        if source.note:
            out.append(f'<p class="source-note">Note: {_e(source.note)}</p>')
        if source.text is None:
            out.append('<p class="erased">Its text was erased for a legal reason, with the '
                       "quotes of its citations; its id and the spans remain.</p>")
        else:
            spans = sorted(marks.spans.get(source_id, ()))
            out.append(f'<div class="source-text">{_marked(source_id, source.text, spans)}'
                       "</div>")
        out.append("</section>")
    out.append("</section>")
    return "\n".join(out)


def _marked(source: str, text: str, spans: Sequence[tuple[int, int]]) -> str:
    """The text, escaped, with each span in a ``<mark>``. Spans that cross are split: the
    first piece of a span carries its id, every piece its ``data-span``, so the span's
    words are the text of all the pieces, in order."""
    spans = [(max(0, s), min(len(text), e)) for s, e in spans if s < e and s < len(text)]
    points = sorted({0, len(text), *(s for s, _ in spans), *(e for _, e in spans)})
    opening: dict[int, list[tuple[int, int]]] = {}
    for span in sorted(spans, key=lambda se: (se[0], -se[1])):
        opening.setdefault(span[0], []).append(span)
    out: list[str] = []
    stack: list[tuple[int, int]] = []
    opened: set[tuple[int, int]] = set()

    def open_tag(span: tuple[int, int]) -> str:
        name = _mark_id(source, *span)
        if span in opened:
            return f'<mark class="cont" data-span="{name}">'
        opened.add(span)
        return f'<mark id="{name}" data-span="{name}">'

    for here, following in zip(points, points[1:] + [None], strict=True):
        closing = [i for i, span in enumerate(stack) if span[1] == here]
        if closing:
            lowest = closing[0]
            reopen = [span for span in stack[lowest:] if span[1] != here]
            out.append("</mark>" * (len(stack) - lowest))
            del stack[lowest:]
            for span in reopen:
                out.append(open_tag(span))
                stack.append(span)
        for span in opening.get(here, ()):
            out.append(open_tag(span))
            stack.append(span)
        if following is not None:
            out.append(_e(text[here:following]))
    out.append("</mark>" * len(stack))
    return "".join(out)


# -- style and script --------------------------------------------------------------------

_STYLE = """
:root { --ink:#1b1f24; --muted:#57606a; --line:#d0d7de; --bg:#fff; --soft:#f6f8fa;
  --accent:#0b5cad; --mark:#fff1a8; --mark-on:#ffb000; --held:#1a7f37; --planned:#0b5cad;
  --cancelled:#b42318; --made:#6e40c9; --scheduled:#8c959f; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: var(--bg); }
header.page-head, main, footer { max-width: 72rem; margin: 0 auto; padding: 0 1.25rem; }
header.page-head { padding-top: 1.25rem; border-bottom: 1px solid var(--line); }
h1 { margin: .2rem 0 .4rem; font-size: 1.8rem; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
h3 { margin: 1.4rem 0 .4rem; font-size: 1.1rem; }
.count, .against { color: var(--muted); font-weight: normal; }
.cut { font-size: 1.1rem; margin: .2rem 0; }
.tie { margin: .3rem 0 .6rem; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code.root { word-break: break-all; background: var(--soft); padding: 0 .2em; }
dl.provenance { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr));
  gap: .2rem 1rem; margin: .4rem 0 1rem; font-size: .9rem; }
dl.provenance dt { color: var(--muted); } dl.provenance dd { margin: 0; overflow-wrap: anywhere; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem;
  background: var(--bg); padding: .3rem .6rem; z-index: 10; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
ul.toc { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; }
a { color: var(--accent); }
a:focus-visible, a:focus { outline: 3px solid var(--mark-on); outline-offset: 2px;
  border-radius: 2px; }
ol.items, ol.history { padding-left: 1.4rem; }
li.item, li.step { margin: .5rem 0 .9rem; }
.item-head, .step-head { margin: 0; } .item-text { margin: .1rem 0; }
.when { font-weight: 600; } .key { font-family: ui-monospace, monospace; font-size: .9em; }
.status { display: inline-block; padding: 0 .45em; border-radius: .8em; font-size: .8rem;
  border: 1px solid currentColor; }
.st-held, .st-signed, .st-fulfilled, .st-done, .st-accepted { color: var(--held); }
.st-planned, .st-extended, .st-announced, .st-postponed { color: var(--planned); }
.st-cancelled, .st-not_signed, .st-declined, .st-abandoned, .st-called_off,
.st-withdrawn, .st-occurred { color: var(--cancelled); }
.st-made, .st-discussed { color: var(--made); }
ul.cites { margin: .2rem 0 0; padding-left: 1.1rem; font-size: .9rem; }
ul.notes { margin: .2rem 0 0; padding-left: 1.1rem; } .credit { color: #555; font-size: .85rem; }
ul.cites a { text-decoration: none; } ul.cites a:hover .quote { text-decoration: underline; }
.span-ref { font-family: ui-monospace, monospace; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: .9rem; margin: .5rem 0; }
th, td { border-bottom: 1px solid var(--line); text-align: left; padding: .3rem .4rem;
  vertical-align: top; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
tr.is-overdue td { background: #fff4f2; } .overdue { color: var(--cancelled); }
.none { color: var(--muted); }
.tl { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .6rem;
  background: var(--bg); overflow: hidden; }
.tl-row { display: grid; grid-template-columns: minmax(10rem, 30%) 1fr; align-items: center;
  min-height: 1.7rem; border-bottom: 1px dotted var(--line); }
.tl-row:last-child { border-bottom: 0; }
.tl-label { font-size: .8rem; padding-right: .6rem; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
.tl-kind { color: var(--muted); } .tl-stages { color: var(--muted); }
.tl-lane { position: relative; height: 1.7rem; }
.tl-axis .tl-lane { height: 1.4rem; border-bottom: 1px solid var(--ink); }
.tick { position: absolute; bottom: 0; font-size: .72rem; color: var(--muted);
  border-left: 1px solid var(--line); padding-left: 2px; height: 100%; white-space: nowrap; }
.asof { position: absolute; top: 0; bottom: 0; border-left: 2px dashed var(--cancelled); }
.life { position: absolute; top: 50%; height: 2px; background: var(--muted);
  transform: translateY(-50%); }
.iv { position: absolute; top: 50%; transform: translateY(-50%); height: .7rem;
  border-radius: .35rem; background: currentColor; min-width: 4px;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.iv-day { width: .8rem; height: .8rem; border-radius: 50%; transform: translate(-50%, -50%);
  border: 2px solid var(--bg); }
.iv-open-start { border-radius: 0 .35rem .35rem 0;
  background: linear-gradient(to right, transparent, currentColor 60%); }
.iv-open-end { border-radius: .35rem 0 0 .35rem;
  background: linear-gradient(to left, transparent, currentColor 60%); }
.iv.planned-for { background: transparent; border: 2px dashed var(--scheduled); }
.iv.st-planned, .iv.st-extended, .iv.st-announced, .iv.st-postponed { color: var(--planned); }
.iv.st-held, .iv.st-signed, .iv.st-accepted, .iv.st-fulfilled, .iv.st-done { color: var(--held); }
.iv.st-cancelled, .iv.st-not-signed, .iv.st-declined, .iv.st-abandoned, .iv.st-called-off,
.iv.st-withdrawn, .iv.st-occurred { color: var(--cancelled); }
.iv.st-made { color: var(--made); }
td.day { white-space: nowrap; }
.tl-legend { list-style: none; padding: 0; margin: .4rem 0; display: flex; flex-wrap: wrap;
  gap: .2rem 1.2rem; font-size: .8rem; color: var(--muted); }
.swatch { display: inline-block; width: .9rem; height: .6rem; border-radius: .3rem;
  margin-right: .3rem; vertical-align: middle; background: currentColor;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.swatch.st-planned { color: var(--planned); } .swatch.st-held { color: var(--held); }
.swatch.st-cancelled { color: var(--cancelled); } .swatch.st-made { color: var(--made); }
.swatch.planned-for { background: transparent; border: 2px dashed var(--scheduled); }
.history .later { opacity: .55; } .after { color: var(--cancelled); font-size: .85rem; }
.pos, .recorded { color: var(--muted); font-size: .85rem; }
ul.changes { margin: .1rem 0; padding-left: 1.1rem; }
.source { border-top: 1px solid var(--line); }
.source-id { font-size: .85rem; color: var(--muted); word-break: break-all; }
.source-text { white-space: pre-wrap; background: var(--soft); padding: .8rem 1rem;
  border-radius: 6px; line-height: 1.6; max-width: 48rem; }
mark { background: var(--mark); padding: 0; scroll-margin: 40vh 0; }
mark:target, mark.current { background: var(--mark-on); outline: 2px solid var(--ink); }
footer { color: var(--muted); font-size: .85rem; padding-bottom: 2rem; }
@media (max-width: 40rem) { .tl-row { grid-template-columns: 8rem 1fr; } }
@media print {
  body { font-size: 10.5pt; }
  nav, .skip { display: none; }
  header.page-head, main, footer { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; } li.item, li.step, tr, .tl-row { break-inside: avoid; }
  #sources { break-before: page; }
  .tl, .source-text { border: 1px solid #999; background: none; }
  mark, .iv, .status, .asof { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

#: Light up every piece of the span a citation link opened, and bring it into view.
_SCRIPT = """
(function () {
  function show() {
    document.querySelectorAll("mark.current").forEach(function (m) {
      m.classList.remove("current"); });
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (!target || target.tagName !== "MARK") return;
    document.querySelectorAll('mark[data-span="' + id + '"]').forEach(function (m) {
      m.classList.add("current"); });
    target.scrollIntoView({block: "center"});
  }
  window.addEventListener("hashchange", show);
  show();
})();
"""
