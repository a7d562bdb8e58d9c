#!/usr/bin/env python3
"""Rebuild and projection speed of the store against the ``eventsourcing`` library.

Run on demand (this is not a test)::

    .venv/bin/python benchmarks/projection.py                  # 1,000,000 facts, SQLite (~17 min)
    .venv/bin/python benchmarks/projection.py --quick          # 50,000 facts (~1 min per engine)
    .venv/bin/python benchmarks/projection.py --engines sqlite,postgresql   # (~40 min)
    .venv/bin/python benchmarks/projection.py --facts 100000 --tracks 100 --profile /tmp/prof

The data set: ``--facts`` facts over 1,000 tracks (one of them, RUS-USA, holds
``--track-facts`` of them, 10,000 by default; the others share the rest at random), a
realistic mix of types (statements, meetings planned/held/cancelled with the topics
discussed, declarations, invitations, announced actions, and a few facts about facts:
added citations, corrections, retractions, "same event as"), 5 % of them late (dated in
the past), every fact citing one or two quotes of 20 registered article-sized sources,
and 12 registered actors. The facts are generated in batches from a seeded generator, so
the data set never sits in memory whole. It is written with ``EventStore.append_many``
in batches of 10,000 (the build, timed too; appends do not fold the read models, the
projector does) on an SQLite file and/or a PostgreSQL schema, fresh for the run and
removed afterwards. ``--tracks 100 --facts 100000`` keeps the facts per track of the full
run at a tenth of its size (what ``--profile`` wants).

Then, each step in a forked child process (so its peak RSS is its own):

``rebuild``
    ``store.rebuild()``: every track's read model folded again from the log (the first
    fold: no read model exists before it). Memory is the peak RSS of the child
    (``getrusage``: the whole process, interpreter included); "CPU" is the child's own
    CPU time, the rest of the wall time waited on the database.
``current``
    ``store.project(track)`` with no cut (the stored read model, after the projector's
    catch-up check), for random tracks and for the big track.
``cuts``
    ``store.project("RUS-USA", as_of=…, known_at=…)`` at random points: a fold from the log.
``cold``
    ``--cold-runs`` fresh processes (``cold_reads.py``: nothing cached but what the
    import made) each reading the big track's stored row raw (``SELECT`` + ``json.loads``)
    and then its first ``project(big track)``, and as many each making its first cut
    ``project(big track, as_of=…, known_at=…)`` (the first of ``cuts``' points): issue 15's
    cold reads.
``catch-up``
    a tenth more facts appended (new ones, on the same tracks), then ``store.catch_up()``:
    the projector folding them into the stored states, batch by batch (last: it writes).

The baseline, in the same run: the same facts as ``eventsourcing`` events (one
``Aggregate`` per track, each fact one ``FactRecorded`` event whose state is the fact's
JSON with its resolved citations; the aggregate class is ``benchmarks/append.py``'s, and
its event handler only counts the facts: the library's cost with next to no domain code,
so it folds nothing and writes no read model where the store does both),
written through the library's own persistence for the same engine (its SQLite or
PostgreSQL recorder; POPO would not read anything back), and read back with:

``es-follow``
    what a ``ProcessApplication`` does to follow an application: a
    ``NotificationLogReader`` over the application's ``LocalNotificationLog`` (sections
    of 1,000, as the store's pages), each notification turned into its domain event by the
    application's mapper and applied to its aggregate (kept in a dict); nothing written.
``es-get``
    ``app.repository.get(id)`` of every aggregate (no snapshots, no cache): the
    library's replay of each aggregate from its stored events.
``es-get-one``
    ``repository.get`` of one aggregate (random tracks; the big track), and of the big
    track at random versions (the library's only historical read): the baselines of
    ``current`` and ``cuts``.

The rebuild target (≥ 2× the library's replay rate) is judged against the faster of
``es-follow`` and ``es-get``; the 5 ms target of ``current`` on random tracks and on the
big track alike.

Results: a Markdown table on stdout (``--output FILE`` writes it there too), progress on
stderr, ``--json FILE`` for the raw figures. A second table gives what the machine's load
cannot move: the database's size after the build, and the statements each step sent.
``--rev REV`` measures the package as it was at commit ``REV`` (``git archive`` of its
``eventstore/`` and ``migrations/``, first on ``PYTHONPATH`` of this script run again),
with this script's data set, so that a before and an after can be run interleaved in one
sitting; ``benchmarks/compare.py`` then sets their ``--json`` side by side.
``--profile DIR`` then profiles the rebuild, the projections and the replays once more
under cProfile (those runs are not timed) and prints the top functions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

# The helpers every benchmark shares (this script's folder is on sys.path when it runs).
from _common import (
    EngineRun,
    Hung,
    Place,
    add_rev_argument,
    add_run_arguments,
    check_package,
    counting_statements,
    engines_and_facts,
    fresh_places,
    git_commit,
    in_child,
    load_average,
    peak_kib,
    pg_settings,
    publish,
    report_header,
    rerun_at_rev,
    rss_kib,
    run_loads,
    sources_digest,
    summary,
    timed,
    verdict,
)

# benchmarks/append.py: the synthetic tracks and sources, and the eventsourcing aggregate.
from append import (
    FILLER,
    N_SOURCES,
    N_TRACKS,
    SENTENCES_PER_SOURCE,
    STANCES,
    TrackAggregate,
    TracksApplication,
    _es_postgres_available,
    _source_texts,
    _track_names,
)

# benchmarks/cold_reads.py: the first reads of fresh processes.
from cold_reads import COLD_CURRENT_TARGET, cold_steps, cut_points
from eventsourcing.application import LocalNotificationLog
from eventsourcing.system import NotificationLogReader

from eventstore import EventStore, NewSource
from eventstore.projection import project as fold_project
from eventstore.sources import resolve_citation
from eventstore.storage import schema as t
from eventstore.tracks import FIXED_STREAMS

SEED = 20261124
ACTOR = "bench"
BIG_TRACK = "RUS-USA"
BATCH = 10_000
#: eventsourcing's pipelined PostgreSQL insert hangs above ~5,000 events per call (see
#: benchmarks/append.py): its store is built in calls of this many events there.
ES_PG_BATCH = 5_000
#: Notifications per section read by the eventsourcing follower (the store reads 1,000 rows
#: a page); the library's default, 10, would be far slower.
ES_SECTION = 1_000
START = dt.date(2015, 1, 1)
DAYS = 3_650

REBUILD_TARGET = 2.0  # × eventsourcing's replay rate
MEMORY_TARGET_MIB = 500.0
CURRENT_TARGET_MS = 5.0
CUTS_TARGET_MS = 50.0

# -- the data set ------------------------------------------------------------------------

#: Fact types and their weights in the mix (facts about facts fall back to a statement
#: when their track has nothing to point at yet).
TYPE_WEIGHTS = (
    ("statement.made", 40.0), ("meeting.planned", 8.0), ("meeting.held", 9.0),
    ("meeting.cancelled", 1.0), ("topics.discussed", 8.0), ("declaration.planned", 4.0),
    ("declaration.signed", 2.0), ("declaration.not_signed", 1.0),
    ("invitation.extended", 4.0), ("invitation.accepted", 2.0), ("invitation.declined", 1.0),
    ("action.announced", 4.0), ("action.done", 2.0), ("citation.added", 2.5),
    ("fact.corrected", 0.4), ("fact.retracted", 0.3), ("fact.same_as", 0.3),
)
LATE_SHARE = 0.05
#: Share of plain facts given an event id by the caller, so facts about facts can name them.
NAMED_SHARE = 0.1
KEEP = 50  # open items and named facts remembered per track

NAMES = ("Sergueï Lavrov", "Antony Blinken", "Maria Zakharova", "Ned Price", "Wang Wenbin",
         "Anne-Claire Legendre", "Mevlüt Çavuşoğlu", "Josep Borrell", "Dmitri Peskov",
         "John Kirby", "Vassili Nebenzia", "Linda Thomas-Greenfield", "Iouri Ouchakov",
         "Jake Sullivan", "Nikolaï Patrouchev", "John Bolton")
ROLES = ("ministre des Affaires étrangères", "porte-parole du ministère des Affaires "
         "étrangères", "conseiller à la sécurité nationale", "ambassadeur auprès de l'ONU",
         "porte-parole de la présidence", "vice-ministre des Affaires étrangères")
PLACES = ("Genève", "Moscou", "Washington", "Helsinki", "Vienne", "Istanbul", "Pékin",
          "New York", "Bruxelles", "Paris", "Astana", "Doha")
TOPICS = ("sanctions économiques", "situation en Syrie", "lutte contre le terrorisme",
          "maîtrise des armements", "stabilité stratégique", "sécurité européenne",
          "situation en Ukraine", "programme nucléaire iranien", "Corée du Nord",
          "relations bilatérales", "échanges de prisonniers", "cybersécurité",
          "sécurité énergétique", "Arctique", "Afghanistan", "Libye", "Venezuela",
          "commerce et investissements", "changement climatique", "santé mondiale")
TITLES = ("déclaration conjointe", "mémorandum d'entente", "accord de coopération",
          "communiqué commun", "feuille de route", "protocole additionnel")
KINDS = ("talks", "consultations", "visit", "summit", "call", "conference")
ACTIONS = ("donner une conférence de presse sur les résultats de la visite",
           "publier un rapport sur l'application de l'accord",
           "rappeler son ambassadeur pour consultations",
           "lever les restrictions imposées aux diplomates",
           "envoyer une délégation technique pour préparer le sommet")
REASONS = ("désaccord entre les deux parties sur le texte final",
           "la date de la rencontre a été confirmée par une seconde dépêche",
           "la dépêche a été démentie par le ministère",
           "erreur de lecture de la dépêche d'origine")
#: The actors registered on $actors: (id, name, country, aliases).
ACTORS = (
    ("sergey-lavrov", "Sergueï Lavrov", "RUS", ("Sergey Lavrov", "Sergei Lavrov")),
    ("maria-zakharova", "Maria Zakharova", "RUS", ("Mariia Zakharova",)),
    ("dmitry-peskov", "Dmitri Peskov", "RUS", ("Dmitry Peskov",)),
    ("vassily-nebenzia", "Vassili Nebenzia", "RUS", ("Vassily Nebenzia",)),
    ("yuri-ushakov", "Iouri Ouchakov", "RUS", ("Yuri Ushakov",)),
    ("nikolai-patrushev", "Nikolaï Patrouchev", "RUS", ("Nikolai Patrushev",)),
    ("antony-blinken", "Antony Blinken", "USA", ("Tony Blinken",)),
    ("ned-price", "Ned Price", "USA", ()),
    ("john-kirby", "John Kirby", "USA", ()),
    ("linda-thomas-greenfield", "Linda Thomas-Greenfield", "USA", ()),
    ("jake-sullivan", "Jake Sullivan", "USA", ()),
    ("john-bolton", "John Bolton", "USA", ("John R. Bolton",)),
)


@dataclass
class Story:
    """What one track has open so far, so outcomes name items that were announced."""

    countries: tuple[str, str]
    counter: int = 0
    planned: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    declarations: list[str] = field(default_factory=list)
    invitations: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    named: list[tuple[str, str]] = field(default_factory=list)  # (event id, type)

    def key(self, kind: str, track: str) -> str:
        self.counter += 1
        return f"{kind}-{track.lower()}-{self.counter}"


def _remember(items: list[Any], item: Any) -> None:
    items.append(item)
    if len(items) > KEEP:
        del items[0]


class FactStream:
    """The data set, generated fact by fact from a seed (the same facts every time)."""

    def __init__(self, n: int, track_facts: int, tracks: int = N_TRACKS) -> None:
        self.n = n
        rng = random.Random(SEED)
        names = [name for name in _track_names(rng) if name != BIG_TRACK][:max(1, tracks - 1)]
        self.tracks = sorted([*names, BIG_TRACK])
        self.others = [name for name in self.tracks if name != BIG_TRACK]
        texts, self.quotes = _source_texts()
        self.texts = texts
        decoded = [text.decode("utf-8") for text in texts]
        # The source id is the SHA-256 of its NFC text (the texts are ASCII-safe NFC).
        self.source_ids = [hashlib.sha256(d.encode("utf-8")).hexdigest() for d in decoded]
        self.resolved = {(s, k): resolve_citation(decoded[s], self.source_ids[s], quote)
                         .to_dict()
                         for s in range(N_SOURCES) for k, quote in enumerate(self.quotes[s])}
        self.big = set(rng.sample(range(n), min(track_facts, n)))
        self.rng = random.Random(SEED + 1)
        self.stories = {name: Story(countries=tuple(name.split("-"))) for name in self.tracks}
        types, weights = zip(*TYPE_WEIGHTS, strict=True)
        self.types: tuple[str, ...] = types
        total = sum(weights)
        acc, cumulative = 0.0, []
        for weight in weights:
            acc += weight
            cumulative.append(acc / total)
        self.cumulative = cumulative

    def actor_facts(self) -> list[dict[str, Any]]:
        return [{"type": "actor.registered",
                 "data": {"id": actor_id, "name": name, "country": country,
                          "aliases": list(aliases)}}
                for actor_id, name, country, aliases in ACTORS]

    def sources(self) -> list[NewSource]:
        return [NewSource(data=text, title=f"dépêche {i + 1}", outlet="benchmarks")
                for i, text in enumerate(self.texts)]

    def batches(self, size: int, *, es: bool = False) -> Iterator[list[dict[str, Any]]]:
        """The facts in batches: their JSON form, or (``es``) the eventsourcing payloads."""
        batch: list[dict[str, Any]] = []
        for i in range(self.n):
            track = BIG_TRACK if i in self.big else self.rng.choice(self.others)
            fact = self._fact(i, track)
            if es:
                payload = {key: fact[key] for key in ("type", "date") if key in fact}
                payload["data"] = fact["data"]
                payload["citations"] = [self.resolved[ref] for ref in fact.pop("_refs")]
                batch.append({"track": track, "fact": payload})
            else:
                del fact["_refs"]
                batch.append(fact)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    # -- one fact ------------------------------------------------------------------

    def _date(self, i: int) -> str:
        rng = self.rng
        base = i * DAYS // self.n
        if rng.random() < LATE_SHARE:
            day = START + dt.timedelta(days=rng.randrange(max(1, base)))
        else:
            day = START + dt.timedelta(days=max(0, base + rng.randint(-3, 3)))
        shape = rng.random()
        if shape < 0.85:
            return day.isoformat()
        if shape < 0.95:
            return f"{day.year:04d}-{day.month:02d}"
        return f"{day.isoformat()}/{(day + dt.timedelta(days=rng.randint(1, 5))).isoformat()}"

    def _citations(self, count: int) -> tuple[list[dict[str, str]], list[tuple[int, int]]]:
        refs = [(self.rng.randrange(N_SOURCES), self.rng.randrange(SENTENCES_PER_SOURCE))
                for _ in range(count)]
        refs = list(dict.fromkeys(refs))
        return ([{"source": self.source_ids[s][:16], "quote": self.quotes[s][k]}
                 for s, k in refs], refs)

    def _party(self, country: str) -> dict[str, str]:
        rng = self.rng
        return {"name": rng.choice(NAMES), "country": country, "role": rng.choice(ROLES)}

    def _pick_type(self) -> str:
        r = self.rng.random()
        for name, bound in zip(self.types, self.cumulative, strict=True):
            if r < bound:
                return name
        return self.types[-1]

    def _fact(self, i: int, track: str) -> dict[str, Any]:
        rng = self.rng
        story = self.stories[track]
        kind = self._pick_type()
        meta = self._meta(kind, story)
        if meta is not None:
            citations, refs = self._citations(1) if kind == "citation.added" else ([], [])
            fact = {"type": kind, "track": track, "data": meta, "_refs": refs}
            if citations:
                fact["citations"] = citations
            return fact
        if kind.startswith("fact.") or kind == "citation.added":
            kind = "statement.made"
        data = self._data(kind, track, story)
        citations, refs = self._citations(2 if rng.random() < 0.1 else 1)
        fact = {"type": kind, "track": track, "date": self._date(i), "data": data,
                "citations": citations, "_refs": refs}
        if rng.random() < NAMED_SHARE:
            event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            fact["event_id"] = event_id
            _remember(story.named, (event_id, kind))
        return fact

    def _meta(self, kind: str, story: Story) -> dict[str, Any] | None:
        rng = self.rng
        if not story.named or not (kind.startswith("fact.") or kind == "citation.added"):
            return None
        event_id, type_name = rng.choice(story.named)
        if kind == "citation.added":
            return {"event": event_id}
        if kind == "fact.retracted":
            story.named.remove((event_id, type_name))
            return {"event": event_id, "reason": rng.choice(REASONS)}
        if kind == "fact.corrected":
            day = START + dt.timedelta(days=rng.randrange(DAYS))
            return {"event": event_id, "reason": rng.choice(REASONS), "date": day.isoformat()}
        twins = [e for e, k in story.named if k == type_name and e != event_id]
        if not twins:
            return None
        return {"event": event_id, "same_as": rng.choice(twins)}

    def _data(self, kind: str, track: str, story: Story) -> dict[str, Any]:
        rng = self.rng
        first, second = story.countries
        if rng.random() < 0.5:
            first, second = second, first
        parties = [self._party(first), self._party(second)]

        def take(items: list[str], prefix: str, share: float = 0.8) -> str:
            if items and rng.random() < share:
                return items.pop(rng.randrange(len(items)))
            return story.key(prefix, track)

        if kind == "statement.made":
            head = f"Déclaration {story.counter} sur {rng.choice(TOPICS)} : "
            story.counter += 1
            return {"speaker": parties[0], "stance": rng.choice(STANCES),
                    "content": head + FILLER[:rng.randint(60, 200)], "addressee": second}
        if kind == "meeting.planned":
            key = story.key("meeting", track)
            _remember(story.planned, key)
            return {"key": key, "kind": rng.choice(KINDS), "participants": parties,
                    "place": rng.choice(PLACES), "purpose": rng.choice(TOPICS)}
        if kind == "meeting.held":
            key = take(story.planned, "meeting", 0.75)
            _remember(story.held, key)
            data: dict[str, Any] = {"key": key, "kind": rng.choice(KINDS),
                                    "participants": parties, "place": rng.choice(PLACES)}
            if story.invitations and rng.random() < 0.1:
                data["fulfils"] = rng.choice(story.invitations)
            return data
        if kind == "meeting.cancelled":
            return {"key": take(story.planned, "meeting"), "reason": rng.choice(REASONS)}
        if kind == "topics.discussed":
            meeting = rng.choice(story.held) if story.held else story.key("meeting", track)
            return {"meeting": meeting, "topics": rng.sample(TOPICS, rng.randint(1, 3))}
        if kind == "declaration.planned":
            key = story.key("declaration", track)
            _remember(story.declarations, key)
            return {"key": key, "title": rng.choice(TITLES), "parties": sorted(story.countries)}
        if kind == "declaration.signed":
            return {"key": take(story.declarations, "declaration"), "signatories": parties}
        if kind == "declaration.not_signed":
            return {"key": take(story.declarations, "declaration"),
                    "reason": rng.choice(REASONS)}
        if kind == "invitation.extended":
            key = story.key("invitation", track)
            _remember(story.invitations, key)
            return {"key": key, "inviter": parties[0], "invitee": parties[1],
                    "place": rng.choice(PLACES), "purpose": rng.choice(TOPICS)}
        if kind == "invitation.accepted":
            return {"key": take(story.invitations, "invitation")}
        if kind == "invitation.declined":
            return {"key": take(story.invitations, "invitation"), "reason": rng.choice(REASONS)}
        if kind == "action.announced":
            key = story.key("action", track)
            _remember(story.actions, key)
            return {"key": key, "actors": [parties[0]], "action": rng.choice(ACTIONS)}
        assert kind == "action.done", kind
        return {"key": take(story.actions, "action")}


# -- the steps, each run in a forked child -----------------------------------------------


@dataclass
class Job:
    """What every step needs to know."""

    facts: int
    track_facts: int
    tracks: int
    current_calls: int
    big_current_calls: int
    cut_calls: int
    cold_runs: int = 5
    profile: bool = False
    profile_top: int = 25


def _count_facts(store: EventStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.events)
                                .where(t.events.c.track.not_in(FIXED_STREAMS))).scalar() or 0)


def step_build(job: Job, place: Place) -> dict[str, Any]:
    stream = FactStream(job.facts, job.track_facts, job.tracks)
    store = EventStore.open(place.url, create=True, actor=ACTOR, durability="full")
    try:
        store.add_sources(stream.sources())
        store.append_many(stream.actor_facts())
        seconds, generating, written = 0.0, 0.0, 0
        batches = stream.batches(BATCH)
        while True:
            started = time.perf_counter()
            batch = next(batches, None)
            generating += time.perf_counter() - started
            if batch is None:
                break
            started = time.perf_counter()
            store.append_many(batch)
            seconds += time.perf_counter() - started
            written += len(batch)
            if written % 100_000 == 0:
                print(f"    built {written:,} facts, {seconds:.0f} s", file=sys.stderr,
                      flush=True)
        count = _count_facts(store)
        assert count == job.facts, (count, job.facts)
        size = _database_mib(store, place)
        tracks = [summary.track for summary in store.tracks()]
    finally:
        store.close()
    return {"facts": written, "seconds": seconds, "rate": written / seconds,
            "generating_s": generating, "database_mib": size, "tracks": tracks}


def _database_mib(store: EventStore, place: Place) -> float:
    if place.path is not None:
        return sum(os.path.getsize(p) for p in (place.path, place.path + "-wal")
                   if os.path.exists(p)) / 2**20
    with store.engine.connect() as conn:
        query = sa.text("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = :schema AND c.relkind = 'r'")
        return float(conn.execute(query, {"schema": place.schema}).scalar() or 0) / 2**20


def step_rebuild(job: Job, place: Place) -> dict[str, Any]:
    store = EventStore.open(place.url, actor=ACTOR)
    try:
        facts = _count_facts(store)
        gc.collect()
        rss = rss_kib()
        with counting_statements(store.engine) as counted, \
                timed(job.profile, job.profile_top) as clock:
            tracks = store.rebuild()
    finally:
        store.close()
    return {"facts": facts, "tracks": tracks, "seconds": clock.seconds,
            "counted": counted.as_dict(),
            "cpu_s": clock.cpu_seconds, "rate": facts / clock.seconds, "rss_start_mib": rss / 1024,
            "peak_rss_mib": peak_kib() / 1024, **clock.profile_result()}


def _track_span(store: EventStore, track: str) -> tuple[dt.date, dt.date, dt.datetime,
                                                        dt.datetime]:
    e = t.events.c
    query = (sa.select(sa.func.min(e.valid_lower), sa.func.max(e.valid_upper),
                       sa.func.min(e.recorded_at), sa.func.max(e.recorded_at))
             .where(e.track == track))
    with store.engine.connect() as conn:
        row = conn.execute(query).one()
    lower, upper, first, last = (_as_date(row[0]), _as_date(row[1]), _as_moment(row[2]),
                                 _as_moment(row[3]))
    return lower, upper, first, last


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _as_moment(value: Any) -> dt.datetime:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def step_current(job: Job, place: Place) -> dict[str, Any]:
    """The current state of a track, served from its read model."""
    rng = random.Random(SEED + 2)
    store = EventStore.open(place.url, actor=ACTOR)
    try:
        tracks = [s.track for s in store.tracks()]
        others = [name for name in tracks if name != BIG_TRACK]
        store.project(BIG_TRACK)  # the projector is caught up (after the rebuild)
        samples, sizes = [], []
        big: list[float] = []
        cpu = {"random": 0.0, "big": 0.0}  # this process's CPU time: the load's waits left out
        with counting_statements(store.engine) as counted, \
                timed(job.profile, job.profile_top) as clock:
            for _ in range(job.current_calls):
                track = rng.choice(others)
                started, began = time.perf_counter(), time.process_time()
                state = store.project(track)
                samples.append(time.perf_counter() - started)
                cpu["random"] += time.process_time() - began
                sizes.append(state.facts)
            for _ in range(job.big_current_calls):
                started, began = time.perf_counter(), time.process_time()
                state = store.project(BIG_TRACK)
                big.append(time.perf_counter() - started)
                cpu["big"] += time.process_time() - began
        big_facts = state.facts
        # The read model must be what a fold from the log gives.
        folded = fold_project(BIG_TRACK, list(store.read_track(BIG_TRACK)),
                              registry=store.registry())
        same = folded == state
    finally:
        store.close()
    return {"random": summary(samples) | {"facts_mean": statistics.fmean(sizes),
                                          "cpu_ms_mean": cpu["random"] * 1000 / len(samples)},
            "big": summary(big) | {"facts_mean": big_facts,
                                   "cpu_ms_mean": cpu["big"] * 1000 / len(big)},
            "read_model_matches_fold": same,
            "counted": counted.as_dict() | {"calls": job.current_calls + job.big_current_calls},
            **clock.profile_result()}


def step_cuts(job: Job, place: Place) -> dict[str, Any]:
    """The big track as of a random date, as known at a random moment: a fold from the log."""
    rng = random.Random(SEED + 3)
    store = EventStore.open(place.url, actor=ACTOR)
    try:
        lower, upper, first, last = _track_span(store, BIG_TRACK)
        version = store.track_version(BIG_TRACK)
        points = []
        for _ in range(job.cut_calls):
            as_of = lower + dt.timedelta(days=rng.randrange((upper - lower).days + 1))
            known_at = first + (last - first) * rng.random()
            points.append((as_of, known_at))
        store.project(BIG_TRACK)  # warm: the actor registry, the caches, the connection pool
        samples, sizes = [], []
        with counting_statements(store.engine) as counted, \
                timed(job.profile, job.profile_top) as clock:
            for as_of, known_at in points:
                started = time.perf_counter()
                state = store.project(BIG_TRACK, as_of=as_of, known_at=known_at)
                samples.append(time.perf_counter() - started)
                sizes.append(state.facts)
    finally:
        store.close()
    return {"cuts": summary(samples) | {"facts_mean": statistics.fmean(sizes),
                                        "cpu_ms_mean": clock.cpu_seconds * 1000 / len(samples)},
            "track_events": version, "counted": counted.as_dict() | {"calls": len(points)},
            **clock.profile_result()}


def step_cold(job: Job, place: Place) -> dict[str, Any]:
    """The first ``project`` of the big track in fresh processes, beside the raw fetch of
    its stored row in each; and the first cut in fresh processes (see ``cold_reads.py``)."""
    result = cold_steps(place.url, job.cold_runs, cut_points(place.url, job.cold_runs),
                        profile=job.profile)
    profiles = [result.pop(key) for key in ("current_profile", "cut_profile") if key in result]
    if profiles:
        result["profile_text"] = "\n".join(profiles)
    return result


def step_catch_up(job: Job, place: Place) -> dict[str, Any]:
    """A tenth more facts appended after the rebuild (another seed: new facts on the same
    tracks), then ``store.catch_up()``: the projector folding them into the stored states
    (incrementally where that is valid), in rounds of its default 20,000 events."""
    count = max(1, job.facts // 10)
    stream = FactStream(count, count // 10, job.tracks)
    stream.rng = random.Random(SEED + 4)
    store = EventStore.open(place.url, actor=ACTOR)
    try:
        for batch in stream.batches(BATCH):
            store.append_many(batch)
        with counting_statements(store.engine) as counted, \
                timed(job.profile, job.profile_top) as clock:
            folded = store.catch_up()
    finally:
        store.close()
    return {"facts": count, "folded": folded, "seconds": clock.seconds,
            "cpu_s": clock.cpu_seconds, "rate": folded / clock.seconds,
            "counted": counted.as_dict(), **clock.profile_result()}


def _es_app(place: Place) -> TracksApplication:
    os.environ.update(place.es_environment())  # a forked child: nothing leaks
    return TracksApplication()


def step_es_build(job: Job, place: Place) -> dict[str, Any]:
    batch = BATCH if place.engine == "sqlite" else ES_PG_BATCH
    stream = FactStream(job.facts, job.track_facts, job.tracks)
    app = _es_app(place)
    aggregates: dict[str, TrackAggregate] = {}
    seconds = 0.0
    try:
        for facts in stream.batches(batch, es=True):
            started = time.perf_counter()
            touched: dict[str, TrackAggregate] = {}
            for item in facts:
                track = item["track"]
                aggregate = aggregates.get(track)
                if aggregate is None:
                    aggregate = aggregates[track] = TrackAggregate(track)
                aggregate.record(item["fact"])
                touched[track] = aggregate
            app.save(*touched.values())
            seconds += time.perf_counter() - started
        count = app.recorder.max_notification_id()
        assert count == job.facts + len(aggregates), (count, job.facts, len(aggregates))
    finally:
        app.close()
    return {"events": count, "facts": job.facts, "seconds": seconds,
            "rate": job.facts / seconds}


def step_es_follow(job: Job, place: Place) -> dict[str, Any]:
    """Follow the notification log as a ProcessApplication does, folding every aggregate."""
    app = _es_app(place)
    try:
        log = LocalNotificationLog(app.recorder, section_size=ES_SECTION)
        reader = NotificationLogReader(log, section_size=ES_SECTION)
        mapper = app.mapper
        aggregates: dict[Any, Any] = {}
        events = 0
        gc.collect()
        rss = rss_kib()
        with timed(job.profile, job.profile_top) as clock:
            for notifications in reader.select(start=1):
                for notification in notifications:
                    domain_event: Any = mapper.to_domain_event(notification)
                    key = domain_event.originator_id
                    aggregates[key] = domain_event.mutate(aggregates.get(key))
                events += len(notifications)
        facts = sum(a.facts for a in aggregates.values())
        assert facts == job.facts, (facts, job.facts)
    finally:
        app.close()
    return {"events": events, "facts": facts, "seconds": clock.seconds,
            "cpu_s": clock.cpu_seconds, "rate": events / clock.seconds,
            "rss_start_mib": rss / 1024, "peak_rss_mib": peak_kib() / 1024,
            **clock.profile_result()}


def step_es_get_all(job: Job, place: Place, tracks: Sequence[str]) -> dict[str, Any]:
    """``repository.get`` of every aggregate: the library's replay, one aggregate at a time."""
    app = _es_app(place)
    try:
        ids = [TrackAggregate.create_id(track) for track in tracks]
        gc.collect()
        rss = rss_kib()
        facts = 0
        with timed(job.profile, job.profile_top) as clock:
            for aggregate_id in ids:
                aggregate: Any = app.repository.get(aggregate_id)
                facts += aggregate.facts
        assert facts == job.facts, (facts, job.facts)
    finally:
        app.close()
    events = facts + len(ids)
    return {"events": events, "facts": facts, "seconds": clock.seconds,
            "cpu_s": clock.cpu_seconds, "rate": events / clock.seconds,
            "rss_start_mib": rss / 1024,
            "peak_rss_mib": peak_kib() / 1024, **clock.profile_result()}


def step_es_get_one(job: Job, place: Place, tracks: Sequence[str]) -> dict[str, Any]:
    """``repository.get`` of one aggregate, and of the big one at random versions."""
    rng = random.Random(SEED + 2)  # the same tracks as ``current``
    others = [name for name in tracks if name != BIG_TRACK]
    app = _es_app(place)
    try:
        big_id = TrackAggregate.create_id(BIG_TRACK)
        app.repository.get(big_id)
        latest = app.repository.get(big_id).version
        random_ids = [TrackAggregate.create_id(rng.choice(others))
                      for _ in range(job.current_calls)]
        versions = [rng.randint(1, latest) for _ in range(job.cut_calls)]
        samples, big, at_version = [], [], []
        with timed(job.profile, job.profile_top) as clock:
            for aggregate_id in random_ids:
                started = time.perf_counter()
                app.repository.get(aggregate_id)
                samples.append(time.perf_counter() - started)
            for _ in range(job.big_current_calls):
                started = time.perf_counter()
                app.repository.get(big_id)
                big.append(time.perf_counter() - started)
            for version in versions:
                started = time.perf_counter()
                app.repository.get(big_id, version=version)
                at_version.append(time.perf_counter() - started)
    finally:
        app.close()
    return {"random": summary(samples), "big": summary(big), "cuts": summary(at_version),
            **clock.profile_result()}


# -- a run per engine --------------------------------------------------------------------


def run_engine(engine: str, job: Job, args: argparse.Namespace, started: float) -> EngineRun:
    run = EngineRun(engine)
    es_ok = engine == "sqlite" or _es_postgres_available()
    if not es_ok:
        run.notes.append("eventsourcing on PostgreSQL not measured: it needs psycopg_pool")

    def do(name: str, step: Callable[..., dict[str, Any]], *rest: Any,
           profiled: bool = False) -> dict[str, Any] | None:
        label = f"{engine}-{name}" + ("-profiled" if profiled else "")
        print(f"[{time.perf_counter() - started:6.0f}s] {label}…", file=sys.stderr, flush=True)
        step_job = Job(**{**asdict(job), "profile": profiled})
        began = load_average()
        try:
            result = in_child(label, step, step_job, *rest, timeout=args.timeout or None,
                              profile_dir=args.profile_dir)
        except (Hung, RuntimeError) as err:
            run.notes.append(f"{name} not measured: {str(err).strip().splitlines()[0]}")
            print(err, file=sys.stderr, flush=True)
            return None
        result["load"] = began
        result["load_end"] = load_average()
        if "profile_text" in result:
            print(result["profile_text"], file=sys.stderr, flush=True)
        else:
            shown = {k: v for k, v in result.items() if not isinstance(v, dict | list)}
            print(f"          {shown}", file=sys.stderr, flush=True)
        return result

    with fresh_places(engine, args.pg_url, args.workdir, args.keep, "projection",
                      ("store", "es")) as (store, es):
        steps: list[tuple[str, Callable[..., dict[str, Any]], tuple[Any, ...]]] = [
            ("build", step_build, (store,)),
            ("rebuild", step_rebuild, (store,)),
            ("current", step_current, (store,)),
            ("cuts", step_cuts, (store,)),
            ("cold", step_cold, (store,)),
            ("catch-up", step_catch_up, (store,)),  # last: it appends
        ]
        for name, step, rest in steps:
            result = do(name, step, *rest)
            if result is None:
                if name == "build":
                    return run
                continue
            run.results[name] = result
        # The tracks that hold facts: one aggregate each on eventsourcing's side.
        tracks = run.results["build"].pop("tracks")
        es_steps: list[tuple[str, Callable[..., dict[str, Any]], tuple[Any, ...]]] = [
            ("es-build", step_es_build, (es,)),
            ("es-follow", step_es_follow, (es,)),
            ("es-get", step_es_get_all, (es, tracks)),
            ("es-get-one", step_es_get_one, (es, tracks)),
        ] if es_ok else []
        for name, step, rest in es_steps:
            result = do(name, step, *rest)
            if result is None:
                if name == "es-build":
                    break
                continue
            run.results[name] = result
        steps += es_steps
        if args.profile_dir:
            for name, step, rest in steps:
                if name not in ("build", "es-build") and name in run.results:
                    profiled = do(name, step, *rest, profiled=True)
                    if profiled is not None:
                        run.results[f"{name}-profile"] = {
                            "profile": profiled.get("profile"),
                            "top": profiled.get("profile_text", "")}
    return run


# -- the table ---------------------------------------------------------------------------


def _ratio(value: float | None, base: float | None) -> str:
    return "—" if value is None or not base else f"{value / base:.2f}×"


def _cpu(result: dict[str, Any]) -> str:
    """The CPU time of the measuring process, when known (the rest waited on the database)."""
    return f", {result['cpu_s']:,.1f} s CPU" if "cpu_s" in result else ""


def table(runs: list[EngineRun]) -> str:
    lines = ["| engine | measurement | measured | baseline (eventsourcing, same run) "
             "| speed, store ÷ baseline | target | result |",
             "|---|---|---:|---:|---:|---|---|"]

    def row(engine: str, what: str, measured: str, baseline: str, ratio: str, target: str,
            ok: bool | None) -> None:
        lines.append(f"| {engine} | {what} | {measured} | {baseline} | {ratio} | {target} "
                     f"| {verdict(ok)} |")

    for run in runs:
        r = run.results
        e = run.engine
        build, es_build = r.get("build"), r.get("es-build")
        if build:
            row(e, f"build: {build['facts']:,} facts, append_many × {BATCH:,}",
                f"{build['seconds']:,.0f} s ({build['rate']:,.0f} facts/s; "
                f"{build['database_mib']:,.0f} MiB)",
                f"{es_build['seconds']:,.0f} s ({es_build['rate']:,.0f}/s, Application.save)"
                if es_build else "—", "—", "none (setup)", None)
        rebuild, follow, get_all = r.get("rebuild"), r.get("es-follow"), r.get("es-get")
        if rebuild:
            rates = [x["rate"] for x in (follow, get_all) if x]
            best = max(rates) if rates else None
            base = "; ".join(
                f"{label} {x['rate']:,.0f} events/s ({x['seconds']:,.1f} s{_cpu(x)})"
                for label, x in (("follow", follow), ("repository.get", get_all)) if x) or "—"
            row(e, f"rebuild(): {rebuild['facts']:,} facts, {rebuild['tracks']:,} tracks",
                f"{rebuild['rate']:,.0f} facts/s ({rebuild['seconds']:,.1f} s{_cpu(rebuild)})",
                base,
                _ratio(rebuild["rate"], best) + (" (vs the faster)" if len(rates) > 1 else ""),
                f"≥ {REBUILD_TARGET:g}×",
                None if best is None else rebuild["rate"] >= REBUILD_TARGET * best)
            es_peak = "; ".join(f"{label} {x['peak_rss_mib']:,.0f} MiB"
                                for label, x in (("follow", follow), ("repository.get", get_all))
                                if x) or "—"
            row(e, "rebuild(): peak RSS of the process (getrusage; "
                f"{rebuild['rss_start_mib']:,.0f} MiB before)",
                f"{rebuild['peak_rss_mib']:,.0f} MiB", es_peak, "—",
                f"< {MEMORY_TARGET_MIB:g} MiB", rebuild["peak_rss_mib"] < MEMORY_TARGET_MIB)
        current, one = r.get("current"), r.get("es-get-one")
        if current:
            # "the current state of a track": judged on random tracks and on the big one
            for key, label in (("random", "random tracks"), ("big", BIG_TRACK)):
                s = current[key]
                base = one[key] if one else None
                row(e, f"project(track), current, {label} ({s['facts_mean']:,.0f} facts "
                    f"folded), {s['calls']} calls",
                    f"median {s['median_ms']:.2f} ms, p95 {s['p95_ms']:.2f} ms",
                    f"repository.get: median {base['median_ms']:.2f} ms, p95 "
                    f"{base['p95_ms']:.2f} ms" if base else "—",
                    _ratio(base["median_ms"], s["median_ms"]) if base else "—",
                    f"median < {CURRENT_TARGET_MS:g} ms", s["median_ms"] < CURRENT_TARGET_MS)
        cuts = r.get("cuts")
        if cuts:
            s = cuts["cuts"]
            base = one["cuts"] if one else None
            row(e, f"project({BIG_TRACK}, as_of, known_at) of {cuts['track_events']:,} "
                f"events ({s['facts_mean']:,.0f} facts folded on average), {s['calls']} calls",
                f"median {s['median_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms",
                f"repository.get(version=…): median {base['median_ms']:.1f} ms, p95 "
                f"{base['p95_ms']:.1f} ms" if base else "—",
                _ratio(base["median_ms"], s["median_ms"]) if base else "—",
                f"median < {CUTS_TARGET_MS:g} ms", s["median_ms"] < CUTS_TARGET_MS)
        cold = r.get("cold")
        if cold:
            current, cut = cold["current"], cold["cut"]
            row(e, f"cold project({BIG_TRACK}): the first call of a fresh process "
                f"({current['facts']:,} facts), {cold['runs']} processes",
                f"median {current['first']['median_ms']:.1f} ms, "
                f"{current['first']['cpu_ms']:.1f} ms CPU",
                f"the raw fetch of its stored row ({current['state_bytes'] / 2**10:,.0f} KiB) "
                f"+ json.loads, same processes: median {current['raw']['median_ms']:.1f} ms",
                f"{current['ratio']:.2f}× the raw fetch",
                f"≤ {COLD_CURRENT_TARGET:g}× the raw fetch",
                current["ratio"] <= COLD_CURRENT_TARGET)
            row(e, f"cold project({BIG_TRACK}, as_of, known_at): the first cut of a fresh "
                f"process ({cut['facts']:,} facts folded), {cold['runs']} processes",
                f"median {cut['first']['median_ms']:.1f} ms, {cut['first']['cpu_ms']:.1f} ms "
                f"CPU", "—", "—", "≤ 0.6× 9ec7f6e's (cold_reads.py, compare.py)", None)
    return "\n".join(lines)


def counted_table(runs: list[EngineRun]) -> str:
    """The figures the machine's load cannot move: the database's size after the build,
    and the statements each step sent."""
    lines = ["| engine | database after the build | rebuild(): statements (reads; rows "
             "written) | project(track), current: statements per call | project(as_of, "
             "known_at): statements per call | cold project(track); cold cut: statements |",
             "|---|---:|---:|---:|---:|---|"]

    def per_call(result: dict[str, Any] | None) -> str:
        counted = (result or {}).get("counted")
        if not counted or not counted.get("calls"):
            return "—"
        return f"{counted['statements'] / counted['calls']:.2f}"

    for run in runs:
        r = run.results
        build, rebuild = r.get("build"), (r.get("rebuild") or {}).get("counted")
        size = f"{build['database_mib']:,.1f} MiB" if build else "—"
        sent = (f"{rebuild['statements']:,} ({rebuild['reads']:,}; {rebuild['write_rows']:,})"
                if rebuild else "—")
        cold = r.get("cold")
        first = (f"{cold['current']['statements']}; {cold['cut']['statements']}" if cold
                 else "—")
        lines.append(f"| {run.engine} | {size} | {sent} | {per_call(r.get('current'))} "
                     f"| {per_call(r.get('cuts'))} | {first} |")
    return "\n".join(lines)


def header(job: Job, runs: Sequence[EngineRun], pg: dict[str, str] | None,
           version: str) -> str:
    engines = [run.engine for run in runs]
    return report_header(
        "projection", run_loads(runs), pg, version,
        f"data: {job.facts:,} facts on {job.tracks:,} tracks ({BIG_TRACK}: "
        f"{min(job.track_facts, job.facts):,}), mixed types, "
        f"{LATE_SHARE:.0%} late, 1–2 citations each, {N_SOURCES} sources, "
        f"{len(ACTORS)} actors; engines: {', '.join(engines)}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--facts", type=int, default=None,
                        help="facts in the store (default 1,000,000; --quick: 50,000)")
    parser.add_argument("--track-facts", type=int, default=None,
                        help=f"facts of the big track, {BIG_TRACK} (default 10,000; --quick: "
                             "2,000)")
    parser.add_argument("--tracks", type=int, default=N_TRACKS,
                        help=f"tracks (default {N_TRACKS:,}); fewer tracks with fewer facts "
                             "keep the facts per track of a larger run (for --profile)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 50,000 facts, a big track of 2,000, fewer calls")
    parser.add_argument("--engines", default="sqlite",
                        help="comma-separated: sqlite, postgresql (default: sqlite)")
    parser.add_argument("--current-calls", type=int, default=None,
                        help="project(track) calls on random tracks (default 200; --quick: 50)")
    parser.add_argument("--cold-runs", type=int, default=None,
                        help="fresh processes for each cold read (default 5; --quick: 3)")
    parser.add_argument("--cut-calls", type=int, default=None,
                        help="project(big track, as_of, known_at) calls (default 50; --quick: "
                             "10)")
    add_run_arguments(parser, profiled="each step")
    add_rev_argument(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.rev:
        return rerun_at_rev(args.rev, __file__, argv)
    check_package()
    engines, facts = engines_and_facts(args)
    if not 2 <= args.tracks <= N_TRACKS:
        raise SystemExit(f"--tracks: from 2 to {N_TRACKS:,}")
    track_facts = args.track_facts or (2_000 if args.quick else 10_000)
    current_calls = args.current_calls or (50 if args.quick else 200)
    job = Job(facts=facts, track_facts=min(track_facts, facts // 2), tracks=args.tracks,
              current_calls=current_calls, big_current_calls=max(1, current_calls // 4),
              cut_calls=args.cut_calls or (10 if args.quick else 50),
              cold_runs=args.cold_runs or (3 if args.quick else 5))
    pg = pg_settings(args.pg_url) if "postgresql" in engines else None
    version, digest = git_commit(), sources_digest()
    started = time.perf_counter()
    runs = [run_engine(engine, job, args, started) for engine in engines]
    if sources_digest() != digest:  # the steps are forks of this process: they ran its code
        print(f"NOTE: eventstore's sources changed on disk during the run; every step ran the "
              f"code imported when it started ({version})")
    report = [header(job, runs, pg, version), "", table(runs), "", counted_table(runs)]
    for run in runs:
        current = run.results.get("current")
        if current is not None and not current["read_model_matches_fold"]:
            run.notes.append(f"the read model of {BIG_TRACK} differs from a fold of the log")
        report += [f"- {run.engine}: {note}" for note in run.notes]
    report.append(f"\ntotal time {time.perf_counter() - started:,.0f} s")
    publish("\n".join(report), args.output, args.json_path,
            {"job": asdict(job), "postgresql": pg, "version": version,
             "runs": [{"engine": r.engine, "notes": r.notes,
                       "results": {k: {n: v for n, v in res.items() if n != "top"}
                                   for k, res in r.results.items()}} for r in runs]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
