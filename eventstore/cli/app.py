"""The store's commands: parse the arguments, call the library, render the answer.

No logic of its own lives here. Every command takes ``--db`` and ``--format table|json``;
errors go to stderr as one ``Error: …`` line (no traceback) with exit status 1, usage
mistakes exit 2 (click's convention). The root group (:mod:`eventstore.cli`) imports this
module when one of its commands runs or ``--help`` lists them, so it imports only click
and light modules at its top; the library is imported inside the commands.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..jsonl import read_facts
from . import cli, main, render
from .base import Group, fail, open_store
from .options import (
    DRY_RUN_META,
    common,
    db_option,
    dry_run_option,
    field_options,
    format_option,
    parse_moment,
    writer_options,
)

if TYPE_CHECKING:
    from .. import ExpectedVersion
    from ..facts import FactData

EXIT_REFUSED = 1


@click.command()
@common
def init(db: str | None, fmt: str) -> None:
    """Create the database, or upgrade its schema to this version (harmless to repeat)."""
    from ..storage.engine import make_engine, resolve_url, safe_url, upgrade

    url = resolve_url(db)
    engine = make_engine(url)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    render.emit(fmt, {"url": safe_url(url), "previous": before, "revision": after},
                lambda d: f"{d['url']}: schema {d['revision']}"
                + (" (already current)" if d["previous"] == d["revision"]
                   else f" (was {d['previous'] or 'empty'})"))


# -- sources --------------------------------------------------------------------------

@click.group(cls=Group)
def source() -> None:
    """Register and inspect source articles."""


@source.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--title", help="The article's headline.")
@click.option("--outlet", help="Who published it.")
@click.option("--url", "source_url", metavar="URL", help="Where it was published.")
@click.option("--published", metavar="EDTF", help="Publication date, e.g. 2018-08-24.")
@click.option("--language", metavar="CODE", help="Language, e.g. fr.")
@click.option("--body-from", metavar="TEXT",
              help="The article's body starts where TEXT first occurs.")
@click.option("--body-until", metavar="TEXT",
              help="The body ends where TEXT first occurs: what follows (unrelated headlines, "
                   "page furniture) can never be cited.")
@click.option("--agency", metavar="NAME",
              help="The news agency whose wire copy this is, when --outlet republished it "
                   "(e.g. AFP, Reuters).")
@click.option("--published-basis", type=click.Choice(["stated", "url", "dateline", "inferred"]),
              help="How the --published date is known: stated in the text or page, read "
                   "from the URL, from the dateline, or inferred.")
@click.option("--note", metavar="TEXT", help="A free note on the source.")
@common
@writer_options
def source_add(files: Sequence[str], title: str | None, outlet: str | None,
               source_url: str | None, published: str | None, language: str | None,
               body_from: str | None, body_until: str | None, agency: str | None,
               published_basis: str | None, note: str | None,
               db: str | None, fmt: str, actor: str | None) -> None:
    """Register article texts (UTF-8). Adding the same text again returns the same id."""
    from .. import NewSource

    one_only = (title, outlet, source_url, published, body_from, body_until, agency,
                published_basis, note)
    if len(files) > 1 and any(v is not None for v in one_only):
        fail("--title, --outlet, --url, --published, --body-from, --body-until, --agency, "
             "--published-basis and --note describe one article: give one file with them")
    items = [NewSource(data=_read_file(name), title=title, outlet=outlet, url=source_url,
                       published=published, language=language, name=name,
                       body_from=body_from, body_until=body_until, agency=agency,
                       published_basis=published_basis, note=note) for name in files]
    with open_store(db, actor) as store:
        infos = store.add_sources(items)
    docs = [info.to_dict() for info in infos]
    render.emit(fmt, docs[0] if len(docs) == 1 else {"sources": docs},
                lambda _: "\n".join(render.source_line(d) for d in docs))


def _read_file(name: str) -> bytes:
    try:
        return Path(name).read_bytes()
    except OSError as err:
        fail(f"{name}: cannot read the file ({err.strerror})")


@source.command("list")
@common
def source_list(db: str | None, fmt: str) -> None:
    """Every registered source."""
    with open_store(db) as store:
        docs = [info.to_dict() for info in store.list_sources()]
    render.emit(fmt, {"sources": docs}, lambda _: render.sources_table(docs))


@source.command("show")
@click.argument("source_id", metavar="ID")
@common
def source_show(source_id: str, db: str | None, fmt: str) -> None:
    """A source's text, with the spans that facts cite marked ⟦like this⟧."""
    with open_store(db) as store:
        found = store.get_source(source_id)
        spans = store.citations_of(found.info.id)
    doc = found.info.to_dict() | {"text": found.text, "erasure": (
        found.erasure.to_dict() if found.erasure else None), "citations": [
        {"position": s.position, "event_id": str(s.event_id), "type": s.type,
         "start": s.citation.start, "end": s.citation.end, "exact": s.citation.exact}
        for s in spans]}
    render.emit(fmt, doc, render.source_text)


# -- erasure ----------------------------------------------------------------------------

_ERASE_OPTIONS = [
    click.option("--reason", required=True,
                 help="Why, on what legal ground, at whose request: kept in the log."),
    click.option("--yes", is_flag=True,
                 help="Do it without asking: erasure cannot be undone."),
]


def _erase_options(command: Any) -> Any:
    """--reason and --yes, then the options every command that writes takes."""
    command = writer_options(common(command))
    for option in reversed(_ERASE_OPTIONS):
        command = option(command)
    return command


def _confirm_erasure(what: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        fail(f"erasing {what} cannot be undone: add --yes to confirm; nothing written")
    click.confirm(f"Erase {what}? This cannot be undone, and it changes past answers too",
                  abort=True, err=True)


def _erasure_text(doc: dict[str, Any]) -> str:
    if doc["kind"] == "source":
        what = (f"erased the text of source {doc['target']} and the quotes of "
                f"{doc['citations']} citation(s)")
    else:
        what = (f"erased the payload of event {doc['target']} (position {doc['position']}); "
                f"its {doc['citations']} citation(s) stay")
    tracks = ", ".join(doc["tracks"]) or "none"
    return "\n".join([
        what,
        f"erasure event {doc['event_id']} at position {doc['at']}, by {doc['erased_by']} on "
        f"{doc['erased_at']}: {doc['reason']}",
        f"tracks whose answers changed: {tracks}",
        "hashes, the Merkle tree, proofs and checkpoints stay valid; `audit verify` reports "
        "this as erased, not tampered.",
        "note: erasure is the only operation that changes what past answers show "
        "(project --known-at, replay)."])


@source.command("erase")
@click.argument("source_id", metavar="ID")
@_erase_options
def source_erase(source_id: str, reason: str, yes: bool, db: str | None, fmt: str,
                 actor: str | None) -> None:
    """Erase a source's text for a legal reason, with the quotes that cite it.

    Its id, length, metadata, the citations' spans and every hash stay. The erasure is
    an event in the log, with who (--actor) and why (--reason).
    """
    with open_store(db, actor) as store:
        found = store.get_source(source_id)
        _confirm_erasure(f"the text of source {found.info.id[:16]}"
                         + (f" ({found.info.title})" if found.info.title else ""), yes)
        erasure = store.erase_source(found.info.id, reason=reason)
    doc = erasure.to_dict()
    render.emit(fmt, doc, _erasure_text)


@click.group(cls=Group)
def fact() -> None:
    """Act on one stored fact (append new facts with `eventstore append`)."""


@fact.command("erase")
@click.argument("event_id", metavar="EVENT_ID")
@_erase_options
def fact_erase(event_id: str, reason: str, yes: bool, db: str | None, fmt: str,
               actor: str | None) -> None:
    """Erase a fact's payload (its data) for a legal reason.

    Its envelope (type, track, dates), its citations and its hashes stay; projections
    show it as redacted. The erasure is an event in the log, with who and why.
    """
    with open_store(db, actor) as store:
        found = store.get_event(event_id)
        _confirm_erasure(f"the data of {found.type} {found.event_id} "
                         f"(position {found.position})", yes)
        erasure = store.erase_payload(found.event_id, reason=reason)
    render.emit(fmt, erasure.to_dict(), _erasure_text)


# -- append ---------------------------------------------------------------------------

def _expected(value: str | None) -> ExpectedVersion | int:
    from .. import ANY, NO_STREAM, STREAM_EXISTS

    if value is None or value == "any":
        return ANY
    if value == "no-stream":
        return NO_STREAM
    if value == "stream-exists":
        return STREAM_EXISTS
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise click.BadParameter(f"{value!r}: give any, no-stream, stream-exists or a version "
                                 "number", param_hint="--expected-version")
    return number


def _parse_cite(value: str) -> dict[str, Any]:
    """``ID:quote``, ``ID@START:quote`` or ``ID@START:END`` → the JSON form of a citation."""
    ref, sep, rest = value.partition(":")
    if not sep or not ref.strip():
        raise click.BadParameter(f"{value!r}: write ID:\"exact quote\", ID@START:\"quote\" "
                                 "or ID@START:END", param_hint="--cite")
    if "@" not in ref:
        return {"source": ref.strip(), "quote": rest}
    ref, _, start_text = ref.partition("@")
    try:
        start = int(start_text)
    except ValueError:
        raise click.BadParameter(f"{value!r}: START must be an integer (a code point offset)",
                                 param_hint="--cite") from None
    if rest.strip().isdigit():
        return {"source": ref.strip(), "start": start, "end": int(rest)}
    return {"source": ref.strip(), "quote": rest, "start": start}


class AppendGroup(Group):
    """``append TYPE …`` for one fact, one sub-command per fact type; or ``append --file``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from ..facts import FACT_TYPES

        return [name for name, cls in FACT_TYPES.items() if not cls.system]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from ..facts import FACT_TYPES

        cls = FACT_TYPES.get(name)
        if cls is None or cls.system:
            return None
        return _type_command(name)

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            known = ", ".join(self.list_commands(ctx))
            raise click.UsageError(f"unknown fact type {name!r}; known types: {known}")
        return super().resolve_command(ctx, args)


def _type_command(type_name: str) -> click.Command:
    from ..facts import FACT_TYPES

    cls = FACT_TYPES[type_name]
    specs = field_options(cls)

    def run(**kw: Any) -> None:
        data = {spec.field: spec.to_data(kw.pop(f"field_{spec.field}")) for spec, _ in specs}
        fact: dict[str, Any] = {
            "type": type_name,
            "data": {k: v for k, v in data.items() if v is not None},
            "citations": [_parse_cite(c) for c in kw["cite"]],
        }
        for key in ("track", "date", "date_text", "date_anchor", "event_id", "correlation_id",
                    "causation_id"):
            if kw.get(key) is not None:
                fact[key] = kw[key]
        expected = _expected(kw["expected_version"])
        track = cls.stream or kw["track"]
        with open_store(kw["db"], kw["actor"]) as store:
            if click.get_current_context().meta.get(DRY_RUN_META):
                result = store.check([fact], track=track, expected_version=expected)
            else:
                result = store.append(track, [fact], expected_version=expected)
        render.emit(kw["fmt"], render.append_doc(result), render.append_text)

    params: list[click.Parameter] = [*_envelope_options(cls),
                                     *(option for _, option in specs)]
    command = click.Command(type_name, callback=run, params=params,
                            help=(FACT_TYPES[type_name].__doc__ or "").strip().splitlines()[0])
    for decorate in (dry_run_option, writer_options, format_option(), db_option):
        decorate(command)
    return command


def _envelope_options(cls: type[FactData]) -> list[click.Option]:
    track = ([] if cls.stream else
             [click.Option(["--track"], required=True,
                           help="Bilateral track, e.g. RUS-USA; or the multilateral stream "
                                "of an event of three or more countries, e.g. CHN-IND-RUS "
                                "(it shows on every bilateral track among them).")])
    dates = [
        click.Option(["--date"], metavar="EDTF",
                     help="When it happened: 2018-08-23, 2018-08, 2018?, a/b, ../b. Without "
                          "it, the store resolves --date-text against --date-anchor."),
        click.Option(["--date-text"], metavar="TEXT", help="The source's words, e.g. jeudi."),
        click.Option(["--date-anchor"], metavar="EDTF",
                     help="The date the words were resolved against (publication date)."),
    ] if cls.needs_date else []
    return [
        *track,
        *dates,
        click.Option(["--cite"], multiple=True, required=cls.needs_citation,
                     metavar='ID:"QUOTE"',
                     help="Source id (or ≥ 8-digit prefix) and exact quote; ID@START:QUOTE "
                          "picks one occurrence; ID@START:END cites a span. Repeatable."),
        click.Option(["--event-id"], metavar="UUID", help="Your id for this event (idempotency)."),
        click.Option(["--correlation-id"], metavar="UUID"),
        click.Option(["--causation-id"], metavar="UUID"),
        click.Option(["--expected-version"], metavar="V",
                     help="any (default), no-stream, stream-exists or a version number."),
    ]


@click.group(cls=AppendGroup, invoke_without_command=True)
@click.option("--file", "file", type=click.Path(dir_okay=False, allow_dash=True),
              help="A .jsonl file of facts, one per line (- for stdin): all or nothing.")
@dry_run_option
@common
@writer_options
@click.pass_context
def append(ctx: click.Context, file: str | None, db: str | None, fmt: str,
           actor: str | None) -> None:
    """Append one fact (append TYPE --track … --date … --cite …) or a file of them."""
    if ctx.invoked_subcommand is not None:
        if file is not None:
            fail("give either --file or a fact type, not both")
        return
    if file is None:
        click.echo(ctx.get_help())
        ctx.exit(2)
    facts, labels = _read_jsonl(file)
    with open_store(db, actor) as store:
        if ctx.meta.get(DRY_RUN_META):
            result = store.check(facts, labels=labels)
        else:
            result = store.append_many(facts, labels=labels)
    render.emit(fmt, render.append_doc(result), render.append_text)


def _read_jsonl(name: str) -> tuple[list[Any], list[str]]:
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as err:
        fail(f"{name}: cannot read the file ({err.strerror})")
    return read_facts(data, name)


# -- projections ----------------------------------------------------------------------

def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: give a day as YYYY-MM-DD",
                                 param_hint=option) from None


_AS_OF = click.option("--as-of", metavar="DAY",
                      help="The state of the world on this day (valid time), as best known.")
_KNOWN_AT = click.option("--known-at", metavar="TIME",
                         help="What the store said at this moment (record time, UTC); a bare "
                              "day means its end.")


@click.command("project")
@click.option("--track", help="Bilateral track, e.g. RUS-USA (with the events of the "
              "multilateral streams that have both countries, e.g. CHN-IND-RUS).")
@_AS_OF
@_KNOWN_AT
@click.option("--possible", is_flag=True,
              help="With --as-of, also count facts that may have happened by then.")
@click.option("--rebuild", is_flag=True,
              help="Refold every track's stored read model from the log.")
@db_option
@format_option("table", "json", "markdown")
def project_command(track: str | None, as_of: str | None, known_at: str | None,
                    possible: bool, rebuild: bool, db: str | None, fmt: str) -> None:
    """Where a track stands: meetings, declarations, invitations, statements, topics."""
    if rebuild:
        with open_store(db) as store:
            count = store.rebuild()
        if track is None or fmt != "json":  # with --track, json gives the track's document
            render.emit("json" if fmt == "json" else "table", {"rebuilt": count},
                        lambda d: f"rebuilt the read models of {d['rebuilt']} track(s)")
        if track is None:
            return
    if track is None:
        raise click.UsageError("give --track (or --rebuild)")
    with open_store(db) as store:
        state = store.project(track, as_of=_date(as_of, "--as-of"),
                              known_at=parse_moment(known_at, "--known-at"), possible=possible)
    today = dt.datetime.now(dt.UTC).date()  # what "overdue" is measured against without --as-of
    render.emit("json" if fmt == "json" else "table", state.to_dict(today=today),
                lambda _: render.state_text(state, markdown=fmt == "markdown", today=today))


@click.command("history")
@click.option("--track", required=True, help="Bilateral track, e.g. RUS-USA (with the events "
              "of the multilateral streams that have both countries, e.g. CHN-IND-RUS).")
@click.option("--by", type=click.Choice(["valid", "recorded"]), default="valid",
              show_default=True, help="Order of the steps: world time or record time.")
@_KNOWN_AT
@db_option
@format_option("table", "json", "markdown")
def history_command(track: str, by: str, known_at: str | None, db: str | None,
                    fmt: str) -> None:
    """How a track's state came about: one step per fact, with what it changed."""
    from .. import parse_track

    with open_store(db) as store:
        steps = store.history(track, by="recorded" if by == "recorded" else "valid",
                              known_at=parse_moment(known_at, "--known-at"))
    doc = {"track": parse_track(track), "by": by, "steps": [s.to_dict() for s in steps]}
    render.emit("json" if fmt == "json" else "table", doc,
                lambda _: render.history_text(steps, markdown=fmt == "markdown"))


@click.command("tracks")
@common
def tracks_command(db: str | None, fmt: str) -> None:
    """Every track with its number of events and the span of its dates (an event of a
    multilateral stream counts on each bilateral track among its countries)."""
    with open_store(db) as store:
        docs = [summary.to_dict() for summary in store.tracks()]
    render.emit(fmt, {"tracks": docs}, lambda _: render.tracks_text(docs))


# -- log ------------------------------------------------------------------------------

@click.command()
@click.option("--track", help="Only this track (e.g. RUS-USA, with the events of the "
              "multilateral streams that have both countries), one multilateral stream "
              "(CHN-IND-RUS), or $sources.")
@click.option("--type", "types", multiple=True, help="Only this fact type (repeatable).")
@click.option("--since", type=click.IntRange(min=1), default=1, show_default=True,
              metavar="POSITION", help="Start at this position.")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N events.")
@common
def log(track: str | None, types: Sequence[str], since: int, limit: int | None,
        db: str | None, fmt: str) -> None:
    """The log, in position order (streamed: any size)."""
    with open_store(db) as store:
        events: Iterator[Any] = store.read_all(since, limit, track=track,
                                               types=types or None)
        if fmt == "json":
            render.json_stream("events", (e.to_dict() for e in events))
        else:
            render.log_lines(events)


#: ``cli`` and ``main`` (the root group, defined in :mod:`eventstore.cli`) are re-exported for
#: callers that import them from here.
__all__ = ["cli", "main", "EXIT_REFUSED", "format_option"]
