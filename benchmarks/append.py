#!/usr/bin/env python3
"""Append throughput of the store against raw drivers and the ``eventsourcing`` library.

Run on demand (this is not a test)::

    .venv/bin/python benchmarks/append.py                # full run, both engines (~10 min)
    .venv/bin/python benchmarks/append.py --quick        # smoke run (< 1 min)
    .venv/bin/python benchmarks/append.py --engines sqlite --batches 100 --events 20000
    .venv/bin/python benchmarks/append.py --profile /tmp/prof --engines sqlite --batches 100

It appends the same synthetic facts (``statement.made``, ~300-byte canonical payload, one
citation each, spread over 1,000 tracks, citing 20 registered article-sized sources) in
batches of 1, 100 and 10,000, on an SQLite file and on PostgreSQL, with these methods:

``store``
    ``EventStore.append`` (batch of 1: one fact per call) or ``EventStore.append_many``,
    given the facts as dicts (their JSON form), so parsing, validation, citation
    resolution, hashing and chaining are all timed.
``raw``
    ``sqlite3`` / psycopg ``executemany`` of pre-serialised rows into the very same tables
    (created by ``EventStore.open(create=True)``: same columns, indexes, constraints and
    triggers), ``events`` + ``payloads`` + ``citations``, one transaction per batch.
``copy`` (PostgreSQL only)
    psycopg binary ``COPY`` of the same rows, one transaction per batch.
``es-app``
    An ``eventsourcing`` ``Application`` with one ``Aggregate`` per track, each fact
    triggering one event, ``app.save(*touched aggregates)`` once per batch (aggregates are
    created and saved before the clock starts, and kept in memory).
``es-rec``
    The library's ``SQLiteApplicationRecorder`` / ``PostgresApplicationRecorder``
    ``insert_events`` with pre-built ``StoredEvent`` objects, one call per batch.

Every method runs at the same durability: SQLite in WAL mode with ``synchronous=FULL`` (the
store's default, ``durability="full"``; set explicitly for ``raw``; the SQLite default,
which ``eventsourcing`` keeps, checked at run time), PostgreSQL with its server settings
(reported: ``fsync``, ``synchronous_commit``). Each measurement runs in a forked child
process on a fresh SQLite file or a fresh PostgreSQL schema (dropped afterwards), so its
peak RSS can be reported. Single appends are fsync-bound, so batch 1 measures fewer
events (``--single-events``, default 1,000) and is repeated (``--repeat-single``, default 3;
the best run is kept). A store measurement stops at the end of the call that passes its
time budget (``--budget``, default 60 s) and the other methods then write as many events;
the one-call row shrinks the same way. ``--methods store-backfill`` adds the store fed the
same facts with valid dates in random order (late facts, a backfill of the past).
Results: a Markdown table on stdout, progress on stderr, ``--json FILE`` for the raw data.
A second table gives, for the store's best run of each group, what the machine's load
cannot move: statements sent per call (and of them reads), rows sent per event
(parameter sets of ``INSERT``/``UPDATE``/``DELETE``) and the bytes the tables and indexes
grew per event (SQLite's pages in use; PostgreSQL's ``pg_total_relation_size``). On
SQLite the main table also gives the bytes written per event: ``write_bytes`` of
``/proc/self/io`` over the timed block (the bytes the process caused to be sent to
storage, counted when it dirties the page cache: the WAL's frames, and the checkpoints'
copies of them into the database file), in KB of 1,000 bytes; SQLite runs inside the
measuring process, so every method's writes are its own (PostgreSQL's server writes
for its clients, so none is given there).
``--rev REV`` measures the package as it was at commit ``REV`` (``git archive`` of its
``eventstore/`` and ``migrations/``, first on ``PYTHONPATH`` of this script run again),
with this script's data set and methods, so that a before and an after can be run
interleaved in one sitting; ``benchmarks/compare.py`` then sets their ``--json`` side by
side.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import hashlib
import importlib.util
import json
import os
import pkgutil
import platform
import random
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pycountry
import sqlalchemy as sa

# The helpers every benchmark shares (this script's folder is on sys.path when it runs).
from _common import (
    DEFAULT_PG_URL,
    Hung,
    Place,
    add_rev_argument,
    check_package,
    counting_statements,
    cpu_model,
    create_schema,
    default_pg_url,
    drop_schema,
    git_commit,
    in_child,
    now_text,
    parse_engines,
    peak_kib,
    pg_settings,
    profile_text,
    rerun_at_rev,
    rss_kib,
    sqlite_place,
    temp_folder,
    versions,
    write_bytes,
)
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, StoredEvent
from eventsourcing.utils import Environment

from eventstore import EventStore
from eventstore.audit.merkle import Frontier
from eventstore.codec import canonical_json, sha256_hex, structure_data, unstructure_data
from eventstore.events import citations_bytes
from eventstore.sources import Citation, resolve_citation
from eventstore.storage import schema as _schema

SEED = 20261123
N_TRACKS = 1_000
N_SOURCES = 20
SENTENCES_PER_SOURCE = 50
ACTOR = "bench"
RUN_ID = uuid.uuid4().hex[:8]

#: Pre-serialised rows of one table, in its columns' order.
Rows = list[tuple[Any, ...]]

#: The Merkle tree's nodes are a column of ``events`` (schema 0012 on); the package of an
#: older commit (``--rev``) keeps them in rows of ``merkle_nodes``, and ``raw``/``copy``
#: write what the store of that commit writes.
TREE_IN_EVENTS = "tree_nodes" in _schema.events.c

# -- SQL (literal text; values always go through parameters) ----------------------------

EVENT_COLUMNS = ("position", "event_id", "track", "version", "type", "schema_version",
                 "valid_edtf", "valid_lower", "valid_upper", "valid_text", "valid_anchor",
                 "recorded_at", "recorded_by", "correlation_id", "causation_id",
                 "payload_hash", "citations_hash", "prev_hash", "hash",
                 *(("tree_nodes",) if TREE_IN_EVENTS else ()))
PAYLOAD_COLUMNS = ("position", "hash", "body")
CITATION_COLUMNS = ("position", "ordinal", "source_id", "start_offset", "end_offset", "exact",
                    "prefix", "suffix")
NODE_COLUMNS = ("position", "hashes")

SQLITE_INSERT_EVENTS = (
    "INSERT INTO events (position, event_id, track, version, type, schema_version, "
    "valid_edtf, valid_lower, valid_upper, valid_text, valid_anchor, recorded_at, "
    "recorded_by, correlation_id, causation_id, payload_hash, citations_hash, prev_hash, "
    "hash, tree_nodes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    if TREE_IN_EVENTS else
    "INSERT INTO events (position, event_id, track, version, type, schema_version, "
    "valid_edtf, valid_lower, valid_upper, valid_text, valid_anchor, recorded_at, "
    "recorded_by, correlation_id, causation_id, payload_hash, citations_hash, prev_hash, "
    "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
SQLITE_INSERT_PAYLOADS = "INSERT INTO payloads (position, hash, body) VALUES (?, ?, ?)"
SQLITE_INSERT_CITATIONS = (
    "INSERT INTO citations (position, ordinal, source_id, start_offset, end_offset, exact, "
    "prefix, suffix) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
SQLITE_INSERT_NODES = "INSERT INTO merkle_nodes (position, hashes) VALUES (?, ?)"

PG_INSERT_EVENTS = (
    "INSERT INTO events (position, event_id, track, version, type, schema_version, "
    "valid_edtf, valid_lower, valid_upper, valid_text, valid_anchor, recorded_at, "
    "recorded_by, correlation_id, causation_id, payload_hash, citations_hash, prev_hash, "
    "hash, tree_nodes) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
    "%s, %s, %s, %s, %s)"
    if TREE_IN_EVENTS else
    "INSERT INTO events (position, event_id, track, version, type, schema_version, "
    "valid_edtf, valid_lower, valid_upper, valid_text, valid_anchor, recorded_at, "
    "recorded_by, correlation_id, causation_id, payload_hash, citations_hash, prev_hash, "
    "hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
PG_INSERT_PAYLOADS = "INSERT INTO payloads (position, hash, body) VALUES (%s, %s, %s)"
PG_INSERT_CITATIONS = (
    "INSERT INTO citations (position, ordinal, source_id, start_offset, end_offset, exact, "
    "prefix, suffix) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)")
PG_INSERT_NODES = "INSERT INTO merkle_nodes (position, hashes) VALUES (%s, %s)"

PG_COPY_EVENTS = (
    "COPY events (position, event_id, track, version, type, schema_version, valid_edtf, "
    "valid_lower, valid_upper, valid_text, valid_anchor, recorded_at, recorded_by, "
    "correlation_id, causation_id, payload_hash, citations_hash, prev_hash, hash"
    f"{', tree_nodes' if TREE_IN_EVENTS else ''}) FROM STDIN (FORMAT BINARY)")
PG_COPY_PAYLOADS = "COPY payloads (position, hash, body) FROM STDIN (FORMAT BINARY)"
PG_COPY_CITATIONS = (
    "COPY citations (position, ordinal, source_id, start_offset, end_offset, exact, prefix, "
    "suffix) FROM STDIN (FORMAT BINARY)")
PG_COPY_NODES = "COPY merkle_nodes (position, hashes) FROM STDIN (FORMAT BINARY)"
# The column types, as the migration creates them (binary COPY needs them exactly).
PG_EVENT_TYPES = ["int8", "varchar", "varchar", "int4", "varchar", "int2", "text", "date",
                  "date", "text", "text", "timestamptz", "text", "varchar", "varchar",
                  "varchar", "varchar", "varchar", "varchar",
                  *(["bytea"] if TREE_IN_EVENTS else [])]
PG_PAYLOAD_TYPES = ["int8", "varchar", "text"]
PG_CITATION_TYPES = ["int8", "int2", "varchar", "int4", "int4", "text", "text", "text"]
PG_NODE_TYPES = ["int8", "bytea"]

SQLITE_COUNT_FACTS = "SELECT count(*) FROM events WHERE track <> '$sources'"
COUNT_ES_EVENTS = "SELECT count(*) FROM stored_events"

STORE = "store"
STORE_BACKFILL = "store-backfill"
RAW = "raw"
COPY = "copy"
ES_APP = "es-app"
ES_REC = "es-rec"
METHODS = (RAW, COPY, STORE, STORE_BACKFILL, ES_APP, ES_REC)
DEFAULT_METHODS = (RAW, COPY, STORE, ES_APP, ES_REC)
STORES = (STORE, STORE_BACKFILL)
METHOD_LABELS = {
    STORE: "eventstore",
    STORE_BACKFILL: "eventstore, late facts (valid dates in random order)",
    RAW: "raw executemany",
    COPY: "psycopg binary COPY",
    ES_APP: "eventsourcing Application",
    ES_REC: "eventsourcing recorder",
}

#: ``(engine, batch size) → least store ÷ eventsourcing Application ratio``, same run:
#: the targets of issue 15 (the earlier ones, against baselines doing far less work per
#: fact, were withdrawn).
ES_APP_TARGETS = {("sqlite", 1): 0.5, ("sqlite", 100): 0.55, ("sqlite", 10_000): 0.5,
                  ("postgresql", 1): 0.5, ("postgresql", 100): 0.7,
                  ("postgresql", 10_000): 1.0}
#: ``(engine, batch size) → most bytes written per event`` (issue 15's primary target).
WRITTEN_TARGETS = {("sqlite", 100): 13_000}
#: Above this many events per call, eventsourcing's default (pipelined) PostgreSQL recorder
#: never returns here (psycopg 3.3.9: the connection waits in ``Pipeline.sync()`` while the
#: server waits in ClientRead; 5,000 passed and 7,500 hung, every time). Larger batches use
#: the library's other documented insert path, ``POSTGRES_ENABLE_DB_FUNCTIONS=y``.
ES_PG_PIPELINE_LIMIT = 5_000

# -- the data set ------------------------------------------------------------------------

STANCES = ("warning", "assurance", "rejection", "proposal", "congratulation", "hope",
           "offer", "demand", "assessment")
SPEAKERS = ("Maria Zakharova", "Ned Price", "Wang Wenbin", "Anne-Claire Legendre",
            "Sergueï Lavrov", "Antony Blinken", "Josep Borrell", "Mevlüt Çavuşoğlu")
FILLER = ("les deux délégations ont réaffirmé leur attachement au dialogue, tout en "
          "constatant des divergences persistantes sur le calendrier des négociations, "
          "la levée progressive des sanctions et les garanties de sécurité demandées par "
          "chacune des parties au cours des dernières semaines de consultations")


@dataclass
class Dataset:
    """Everything every method needs, built once in the parent before forking."""

    sources: list[bytes]
    source_ids: list[str]
    facts: list[dict[str, Any]]
    #: The same facts with valid dates in random order (a backfill of the past).
    backfill_facts: list[dict[str, Any]]
    #: Per fact: (track, position offset-free version, event payload for eventsourcing).
    tracks: list[str]
    versions: list[int]
    es_payloads: list[dict[str, Any]]
    bodies: list[str]
    citations: list[Citation]
    dates: list[dt.date]
    event_ids: list[str]
    payload_bytes_mean: float = 0.0
    rows: dict[str, tuple[Rows, Rows, Rows, Rows]] = field(default_factory=dict)
    es_stored: list[StoredEvent] = field(default_factory=list)


def _track_names(rng: random.Random) -> list[str]:
    codes = sorted(country.alpha_3 for country in pycountry.countries)
    pairs: set[str] = set()
    while len(pairs) < N_TRACKS:
        a, b = rng.sample(codes, 2)
        pairs.add("-".join(sorted((a, b))))
    return sorted(pairs)


def _source_texts() -> tuple[list[bytes], list[list[str]]]:
    """Article-sized synthetic sources (~6 KB each), every sentence a unique quote."""
    texts, quotes = [], []
    for s in range(N_SOURCES):
        lines = [f"Dépêche de synthèse numéro {s + 1}, écrite pour benchmarks/append.py.", ""]
        said = []
        for k in range(SENTENCES_PER_SOURCE):
            quote = (f"selon la dépêche {s}-{k}, les délégations ont poursuivi leurs "
                     f"échanges sur le dossier {s * SENTENCES_PER_SOURCE + k}")
            said.append(quote)
            lines.append(f"Le porte-parole a indiqué que, {quote}, sans plus de détails.")
        texts.append("\n".join(lines).encode("utf-8"))
        quotes.append(said)
    return texts, quotes


def build_dataset(n: int, engines: Sequence[str]) -> Dataset:
    rng = random.Random(SEED)
    tracks = _track_names(rng)
    texts, quotes = _source_texts()
    source_ids = [hashlib.sha256(t.decode("utf-8").encode("utf-8")).hexdigest() for t in texts]
    resolved: dict[tuple[int, int], Citation] = {}
    for s, text in enumerate(texts):
        decoded = text.decode("utf-8")
        for k, quote in enumerate(quotes[s]):
            resolved[(s, k)] = resolve_citation(decoded, source_ids[s], quote)
    per_track: dict[str, int] = {}
    data = Dataset(sources=texts, source_ids=source_ids, facts=[], backfill_facts=[],
                   tracks=[], versions=[], es_payloads=[], bodies=[], citations=[], dates=[],
                   event_ids=[])
    start = dt.date(2015, 1, 1)
    shuffled = random.Random(SEED + 1)
    for i in range(n):
        track = tracks[rng.randrange(N_TRACKS)]
        first, second = track.split("-")
        s, k = rng.randrange(N_SOURCES), rng.randrange(SENTENCES_PER_SOURCE)
        # Facts arrive in valid-time order, as news does (ten years over the data set).
        valid = start + dt.timedelta(days=i * 3650 // n)
        head = f"Déclaration {i} : "
        payload = {
            "speaker": {"name": SPEAKERS[i % len(SPEAKERS)], "country": first,
                        "role": "porte-parole du ministère des Affaires étrangères"},
            "stance": STANCES[i % len(STANCES)],
            "content": head + FILLER[:110 - len(head)],
            "addressee": second,
        }
        citation = resolved[(s, k)]
        fact = {"type": "statement.made", "track": track, "date": valid.isoformat(),
                "data": payload,
                "citations": [{"source": source_ids[s], "quote": quotes[s][k]}]}
        # The canonical body, made by the store's own code (as its append path does).
        full = unstructure_data(structure_data("statement.made", payload))
        body = canonical_json(full).decode("utf-8")
        version = per_track.get(track, 0) + 1
        per_track[track] = version
        data.facts.append(fact)
        late = start + dt.timedelta(days=shuffled.randrange(3650))
        data.backfill_facts.append(dict(fact, date=late.isoformat()))
        data.tracks.append(track)
        data.versions.append(version)
        data.bodies.append(body)
        data.citations.append(citation)
        data.dates.append(valid)
        data.event_ids.append(str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        data.es_payloads.append({"type": "statement.made", "date": valid.isoformat(),
                                 "data": full, "citations": [citation.to_dict()]})
    data.payload_bytes_mean = sum(len(b.encode("utf-8")) for b in data.bodies) / max(1, n)
    for engine in engines:
        data.rows[engine] = _rows(data, engine)
    data.es_stored = _stored_events(data)
    return data


def _rows(data: Dataset, engine: str) -> tuple[Rows, Rows, Rows, Rows]:
    """The rows the store would write for the facts, pre-serialised for ``engine``: events,
    payloads, citations and the Merkle tree's rows (as many hashes per row as the
    store's, each event's tree row the hashes its leaf completes; from schema 0012 on the
    last column of the event's row, and no tree rows)."""
    recorded = dt.datetime(2026, 11, 23, 12, 0, 0, 123456, tzinfo=dt.UTC)
    sqlite = engine == "sqlite"
    stamp: Any = recorded.replace(tzinfo=None).isoformat(sep=" ") if sqlite else recorded
    events: Rows = []
    payloads: Rows = []
    citations: Rows = []
    nodes: Rows = []
    prev_hash = hashlib.sha256(b"sources").hexdigest()
    edge = Frontier()
    for n in range(N_SOURCES):  # the sources' registrations, already in the tree
        edge.append_leaf(f"source {n}".encode())
    for i, body in enumerate(data.bodies):
        position = N_SOURCES + i + 1  # the sources' registrations come first
        citation = data.citations[i]
        payload_hash = sha256_hex(body.encode("utf-8"))
        citations_hash = sha256_hex(citations_bytes([citation]))
        event_hash = sha256_hex(f"{prev_hash}:{position}:{payload_hash}".encode())
        day: Any = data.dates[i].isoformat() if sqlite else data.dates[i]
        tree = edge.append_leaf(event_hash.encode())
        events.append((position, data.event_ids[i], data.tracks[i], data.versions[i],
                       "statement.made", 2, data.dates[i].isoformat(), day, day, None, None,
                       stamp, ACTOR, None, None, payload_hash, citations_hash, prev_hash,
                       event_hash, *((tree,) if TREE_IN_EVENTS else ())))
        payloads.append((position, payload_hash, body))
        citations.append((position, 0, citation.source, citation.start, citation.end,
                          citation.exact, citation.prefix, citation.suffix))
        if not TREE_IN_EVENTS:
            nodes.append((position, tree))
        prev_hash = event_hash
    return events, payloads, citations, nodes


def _track_id(track: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"eventstore-bench/{track}")


def _stored_events(data: Dataset) -> list[StoredEvent]:
    """What the eventsourcing mapper would store for each fact (JSON state, same content)."""
    topic = f"{__name__}:TrackAggregate.FactRecorded"
    stamp = "2026-11-23T12:00:00.123456+00:00"
    return [StoredEvent(originator_id=_track_id(track), originator_version=version,
                        topic=topic,
                        state=json.dumps({"timestamp": stamp, "fact": payload},
                                         separators=(",", ":")).encode("utf-8"))
            for track, version, payload in zip(data.tracks, data.versions, data.es_payloads,
                                               strict=True)]


# -- eventsourcing's side ----------------------------------------------------------------


class TrackAggregate(Aggregate):
    """One aggregate per track; each fact is one ``FactRecorded`` event."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.facts = 0

    @staticmethod
    def create_id(name: str) -> uuid.UUID:
        return _track_id(name)

    @event("FactRecorded")
    def record(self, fact: dict[str, Any]) -> None:
        self.facts += 1


class TracksApplication(Application[uuid.UUID]):
    """An application with nothing but the aggregates above."""


# -- measuring in a child process ----------------------------------------------------------

DATA: Dataset | None = None


@dataclass
class Spec:
    engine: str
    method: str
    batch: int
    events: int
    pg_url: str
    workdir: str | None
    profile_dir: str | None = None
    profile_top: int = 30
    #: Seconds after which the store stops at the end of the current call (None: no limit).
    budget: float | None = None
    #: The PostgreSQL schema to create (named by the parent, which drops it if the child hangs).
    schema: str = ""
    #: The folder for the SQLite file (made and removed by the parent).
    folder: str = ""


@contextmanager
def fresh_place(spec: Spec) -> Iterator[Place]:
    """Where one measurement writes: a fresh SQLite file in the folder the parent made, or
    the fresh PostgreSQL schema it named (dropped afterwards)."""
    if spec.engine == "sqlite":
        yield sqlite_place(os.path.join(spec.folder, "bench.db"))
        return
    try:
        yield create_schema(spec.pg_url, spec.schema)
    finally:
        drop_schema(spec.pg_url, spec.schema)


def _batches(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(n, start + size)


class Timer:
    """Times the one block that does the appending (optionally under cProfile)."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.seconds = 0.0
        #: This (child) process's CPU time in the block: the store's own work, less the
        #: waits (disk flushes, the PostgreSQL server, other processes on the CPUs).
        self.cpu_seconds = 0.0
        self.profile: cProfile.Profile | None = None
        self.written: int | None = None
        #: Bytes this process caused to be written to storage in the block (SQLite: the
        #: WAL's frames and the checkpoints' copies into the database file).
        self.write_bytes = 0
        self._started = time.perf_counter()

    def over_budget(self) -> bool:
        budget = self.spec.budget
        return budget is not None and time.perf_counter() - self._started > budget

    @contextmanager
    def timing(self) -> Iterator[None]:
        gc.collect()
        if self.spec.profile_dir:
            self.profile = cProfile.Profile()
            self.profile.enable()
        self._started = time.perf_counter()
        cpu = time.process_time()
        written = write_bytes()
        try:
            yield
        finally:
            self.seconds = time.perf_counter() - self._started
            self.cpu_seconds = time.process_time() - cpu
            self.write_bytes = write_bytes() - written
            if self.profile is not None:
                self.profile.disable()


def _store_prepared(place: Place) -> EventStore:
    assert DATA is not None
    store = EventStore.open(place.url, create=True, actor=ACTOR, durability="full")
    for text in DATA.sources:
        store.add_source(text, title="synthetic", outlet="benchmarks/append.py")
    return store


def _sqlite_synchronous(conn: Any) -> int:
    return int(conn.execute("PRAGMA synchronous").fetchone()[0])


def run_store(spec: Spec, place: Place, timer: Timer) -> dict[str, Any]:
    assert DATA is not None
    facts = (DATA.backfill_facts if spec.method == STORE_BACKFILL else DATA.facts)[:spec.events]
    store = _store_prepared(place)
    info: dict[str, Any] = {}
    try:
        if place.engine == "sqlite":
            with store.engine.connect() as conn:
                info["synchronous"] = conn.exec_driver_sql("PRAGMA synchronous").scalar()
                info["journal_mode"] = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        written = calls = 0
        size_before = _database_bytes(store, place)
        with counting_statements(store.engine) as counted, timer.timing():
            if spec.batch == 1:
                for fact in facts:
                    store.append(fact["track"], [fact])
                    written += 1
                    calls += 1
                    if timer.over_budget():
                        break
            else:
                for start, end in _batches(len(facts), spec.batch):
                    store.append_many(facts[start:end])
                    written = end
                    calls += 1
                    if timer.over_budget():
                        break
        timer.written = written
        # What the load cannot move: statements per call, rows sent, bytes the tables grew.
        info["counted"] = counted.as_dict() | {
            "calls": calls, "events": written,
            "database_bytes": _database_bytes(store, place) - size_before}
        with store.engine.connect() as conn:
            count = conn.execute(sa.text("SELECT count(*) FROM events WHERE track <> :s"),
                                 {"s": "$sources"}).scalar()
        assert count == written, (count, written)
    finally:
        store.close()
    return info


def _database_bytes(store: EventStore, place: Place) -> int:
    """The size of the store's tables and indexes: SQLite's pages in use (the WAL's
    included), or PostgreSQL's relations in the schema (with their indexes and TOAST)."""
    with store.engine.connect() as conn:
        if place.engine == "sqlite":
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar() or 0
            free = conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0
            size = conn.exec_driver_sql("PRAGMA page_size").scalar() or 0
            return int((pages - free) * size)
        query = sa.text("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = current_schema() AND c.relkind = 'r'")
        return int(conn.execute(query).scalar() or 0)


def _raw_schema(place: Place) -> None:
    _store_prepared(place).close()  # same tables, indexes, triggers and source rows


def run_raw(spec: Spec, place: Place, timer: Timer) -> dict[str, Any]:
    assert DATA is not None
    events, payloads, citations, nodes = DATA.rows[place.engine]
    n = spec.events
    _raw_schema(place)
    info: dict[str, Any] = {}
    if place.engine == "sqlite":
        assert place.path
        con = sqlite3.connect(place.path, isolation_level=None)
        try:
            con.execute("PRAGMA busy_timeout = 60000")
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = FULL")
            con.execute("PRAGMA foreign_keys = ON")  # as the store's connections do
            info["synchronous"] = _sqlite_synchronous(con)
            with timer.timing():
                for start, end in _batches(n, spec.batch):
                    con.execute("BEGIN IMMEDIATE")
                    con.executemany(SQLITE_INSERT_EVENTS, events[start:end])
                    con.executemany(SQLITE_INSERT_PAYLOADS, payloads[start:end])
                    con.executemany(SQLITE_INSERT_CITATIONS, citations[start:end])
                    if nodes:
                        con.executemany(SQLITE_INSERT_NODES, nodes[start:end])
                    con.execute("COMMIT")
            count = con.execute(SQLITE_COUNT_FACTS).fetchone()[0]
        finally:
            con.close()
    else:
        with psycopg.connect(**place.conninfo) as pg:
            with timer.timing():
                for start, end in _batches(n, spec.batch):
                    with pg.transaction(), pg.cursor() as cur:
                        cur.executemany(PG_INSERT_EVENTS, events[start:end])
                        cur.executemany(PG_INSERT_PAYLOADS, payloads[start:end])
                        cur.executemany(PG_INSERT_CITATIONS, citations[start:end])
                        if nodes:
                            cur.executemany(PG_INSERT_NODES, nodes[start:end])
            count = _pg_count(pg)
    assert count == n, (count, n)
    return info


def _pg_count(pg: psycopg.Connection[Any]) -> int:
    row = pg.execute("SELECT count(*) FROM events WHERE track <> %s", ("$sources",)).fetchone()
    assert row is not None
    return int(row[0])


def _copy(cur: psycopg.Cursor[Any], statement: str, types: list[str],
          rows: Sequence[tuple[Any, ...]]) -> None:
    with cur.copy(statement) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def run_copy(spec: Spec, place: Place, timer: Timer) -> dict[str, Any]:
    assert DATA is not None and place.engine == "postgresql"
    events, payloads, citations, nodes = DATA.rows[place.engine]
    n = spec.events
    _raw_schema(place)
    with psycopg.connect(**place.conninfo) as pg:
        with timer.timing():
            for start, end in _batches(n, spec.batch):
                with pg.transaction(), pg.cursor() as cur:
                    _copy(cur, PG_COPY_EVENTS, PG_EVENT_TYPES, events[start:end])
                    _copy(cur, PG_COPY_PAYLOADS, PG_PAYLOAD_TYPES, payloads[start:end])
                    _copy(cur, PG_COPY_CITATIONS, PG_CITATION_TYPES, citations[start:end])
                    if nodes:
                        _copy(cur, PG_COPY_NODES, PG_NODE_TYPES, nodes[start:end])
        count = _pg_count(pg)
    assert count == n, (count, n)
    return {}


def _es_environment(spec: Spec, place: Place) -> dict[str, str]:
    environment = place.es_environment()
    if place.engine != "sqlite":
        functions = "y" if spec.batch > ES_PG_PIPELINE_LIMIT else "n"
        environment["POSTGRES_ENABLE_DB_FUNCTIONS"] = functions
    return environment


def _es_settings(recorder: ApplicationRecorder, engine: str) -> dict[str, Any]:
    datastore: Any = getattr(recorder, "datastore", None)
    if datastore is None:
        return {}
    if engine != "sqlite":
        return {"db_functions": bool(getattr(datastore, "enable_db_functions", False))}
    with datastore.transaction(commit=False) as cur:
        cur.execute("PRAGMA synchronous")
        synchronous = cur.fetchone()[0]
        cur.execute("PRAGMA journal_mode")
        journal = cur.fetchone()[0]
    return {"synchronous": synchronous, "journal_mode": journal}


def run_es_app(spec: Spec, place: Place, timer: Timer) -> dict[str, Any]:
    assert DATA is not None
    os.environ.update(_es_environment(spec, place))  # a forked child: nothing leaks
    app = TracksApplication()
    try:
        info = _es_settings(app.recorder, place.engine)
        names = sorted(set(DATA.tracks[:spec.events]))
        aggregates = {name: TrackAggregate(name) for name in names}
        app.save(*aggregates.values())  # the creations, before the clock starts
        tracks, payloads = DATA.tracks, DATA.es_payloads
        with timer.timing():
            if spec.batch == 1:
                for i in range(spec.events):
                    aggregate = aggregates[tracks[i]]
                    aggregate.record(payloads[i])
                    app.save(aggregate)
            else:
                for start, end in _batches(spec.events, spec.batch):
                    touched = {}
                    for i in range(start, end):
                        aggregate = aggregates[tracks[i]]
                        aggregate.record(payloads[i])
                        touched[tracks[i]] = aggregate
                    app.save(*touched.values())
        count = app.recorder.max_notification_id()
        assert count == spec.events + len(names), (count, spec.events, len(names))
    finally:
        app.close()
    return info


def run_es_rec(spec: Spec, place: Place, timer: Timer) -> dict[str, Any]:
    assert DATA is not None
    factory = InfrastructureFactory.construct(
        Environment(env=_es_environment(spec, place)))
    try:
        recorder = factory.application_recorder()
        info = _es_settings(recorder, place.engine)
        stored = DATA.es_stored
        with timer.timing():
            for start, end in _batches(spec.events, spec.batch):
                recorder.insert_events(stored[start:end])
        assert recorder.max_notification_id() == spec.events
    finally:
        factory.close()
    return info


RUNNERS: dict[str, Callable[[Spec, Place, Timer], dict[str, Any]]] = {
    STORE: run_store, STORE_BACKFILL: run_store, RAW: run_raw, COPY: run_copy,
    ES_APP: run_es_app, ES_REC: run_es_rec,
}


def measure(spec: Spec) -> dict[str, Any]:
    """One measurement, in this (child) process."""
    timer = Timer(spec)
    gc.collect()
    rss_before = rss_kib()
    with fresh_place(spec) as place:
        info = RUNNERS[spec.method](spec, place, timer)
    events = spec.events if timer.written is None else timer.written
    result: dict[str, Any] = {
        "engine": spec.engine, "method": spec.method, "batch": spec.batch,
        "events": events, "planned": spec.events, "seconds": timer.seconds,
        "cpu_seconds": timer.cpu_seconds,
        # SQLite writes from this process; PostgreSQL's server writes, not counted here.
        "write_bytes": timer.write_bytes if spec.engine == "sqlite" else None,
        "rate": events / timer.seconds if timer.seconds else float("inf"),
        "peak_rss_mib": peak_kib() / 1024,
        "rss_delta_mib": max(0, peak_kib() - rss_before) / 1024,
        "settings": info, "profiled": timer.profile is not None,
    }
    if timer.profile is not None and spec.profile_dir:
        name = f"{spec.engine}-{spec.method}-batch{spec.batch}-n{spec.events}.prof"
        path = Path(spec.profile_dir) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        timer.profile.dump_stats(str(path))
        result["profile"] = str(path)
        result["profile_text"] = profile_text(timer.profile, spec.profile_top)
    return result


def run_in_child(spec: Spec, timeout: float | None) -> dict[str, Any]:
    """Run one measurement in a forked child; :class:`Hung` if it outlives ``timeout``."""
    name = f"{spec.engine} {spec.method} batch {spec.batch}"
    if spec.engine != "sqlite":
        try:
            return in_child(name, measure, spec, timeout=timeout)
        except Hung:
            drop_schema(spec.pg_url, spec.schema)  # the killed child could not
            raise
    with temp_folder("eventstore-bench-", spec.workdir) as spec.folder:
        return in_child(name, measure, spec, timeout=timeout)


# -- the plan, the table and the targets -------------------------------------------------


@dataclass
class Plan:
    engines: list[str]
    batches: list[int]
    events: int
    single_events: int
    one_call: bool
    repeat: int
    repeat_single: int
    methods: list[str]
    budget: float | None
    timeout: float | None


@dataclass
class Group:
    """The methods measured side by side on one engine at one batch size."""

    engine: str
    batch: int
    events: int
    methods: list[str]
    one_call: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"one call of {self.events:,}" if self.one_call else f"{self.batch:,}"


def _es_postgres_available() -> bool:
    return importlib.util.find_spec("psycopg_pool") is not None


def plan_groups(plan: Plan) -> tuple[list[Group], list[str]]:
    notes = []
    groups = []
    es_pg = _es_postgres_available()
    for engine in plan.engines:
        methods = [m for m in METHODS if m in plan.methods]  # store first, then the others
        methods.sort(key=lambda m: m not in STORES)  # the store first, then the others
        if engine != "postgresql":
            methods = [m for m in methods if m != COPY]
        elif not es_pg and {ES_APP, ES_REC} & set(methods):
            methods = [m for m in methods if m not in (ES_APP, ES_REC)]
            notes.append("eventsourcing on PostgreSQL not measured: it needs psycopg_pool "
                         "(pip install psycopg-pool, or eventsourcing[postgres])")
        for batch in plan.batches:
            n = min(plan.events, plan.single_events) if batch == 1 else plan.events
            groups.append(Group(engine, batch, n, list(methods)))
        if plan.one_call and engine == "postgresql" and plan.events not in plan.batches:
            groups.append(Group(engine, plan.events, plan.events,
                                [m for m in (STORE, COPY, RAW) if m in methods], one_call=True))
    return groups, notes


def _shrink_one_call(group: Group, results: list[dict[str, Any]], budget: float | None) -> None:
    """Within the time budget, one call of all the events may be out of reach: say so."""
    if budget is None or STORE not in group.methods:
        return
    rates = [r for r in results if r["engine"] == group.engine and r["method"] == STORE]
    if not rates:
        return
    fastest = max(rates, key=lambda r: r["batch"])["rate"]
    expected = group.events / fastest
    if expected <= budget:
        return
    shrunk = max(1_000, int(fastest * budget) // 1_000 * 1_000)
    if shrunk < group.events:
        group.notes.append(f"one call of {group.events:,} would take ~{expected:,.0f} s at the "
                           f"store's measured rate, beyond the {budget:g} s budget: measured "
                           f"one call of {shrunk:,} instead (every method)")
        group.events = group.batch = shrunk


def run_groups(groups: list[Group], plan: Plan, pg_url: str, workdir: str | None,
               profile_dir: str | None, started: float) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    def repeats(group: Group) -> int:
        return plan.repeat_single if group.batch == 1 else plan.repeat

    total = sum(len(g.methods) * repeats(g) for g in groups)
    done = 0
    for index, group in enumerate(groups):
        if group.one_call:
            _shrink_one_call(group, results, plan.budget)
        for rep in range(repeats(group)):
            for method in group.methods:
                done += 1
                if profile_dir and method not in STORES:
                    continue
                n = group.events
                spec = Spec(engine=group.engine, method=method, batch=min(group.batch, n),
                            events=n, pg_url=pg_url, workdir=workdir, profile_dir=profile_dir,
                            budget=plan.budget if method in STORES else None,
                            schema=f"bench_{RUN_ID}_{done}")
                load = os.getloadavg()[0]
                try:
                    result = run_in_child(spec, plan.timeout)
                except (Hung, RuntimeError) as err:
                    first = str(err).strip().splitlines()[0]
                    group.notes.append(f"{METHOD_LABELS[method]} not measured: {first}")
                    print(f"[{done}/{total}] {err}", file=sys.stderr, flush=True)
                    continue
                result["group"] = index
                result["load"] = load
                results.append(result)
                print(f"[{done}/{total} {time.perf_counter() - started:5.0f}s] "
                      f"{group.engine:10} batch {spec.batch:>7,} {method:7} "
                      f"{result['events']:>7,} events {result['seconds']:7.2f}s "
                      f"{result['rate']:>9,.0f}/s", file=sys.stderr, flush=True)
                if "profile_text" in result:
                    print(result["profile_text"], file=sys.stderr, flush=True)
                if method == STORE and rep == 0 and result["events"] < n:
                    group.notes.append(
                        f"the store stopped after {result['events']:,} of {n:,} events at the "
                        f"{plan.budget:g} s budget; the other methods wrote as many")
                    group.events = result["events"]
    return results


def best_of(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fastest of the repeats of each method in each group."""
    best: dict[tuple[int, str], dict[str, Any]] = {}
    runs: dict[tuple[int, str], list[float]] = {}
    for result in results:
        key = (result["group"], result["method"])
        runs.setdefault(key, []).append(result["rate"])
        if key not in best or result["rate"] > best[key]["rate"]:
            best[key] = result
    return [dict(result, runs=runs[key]) for key, result in best.items()]


def _rate(results: list[dict[str, Any]], group: int, method: str) -> float | None:
    for result in results:
        if (result["group"], result["method"]) == (group, method):
            return float(result["rate"])
    return None


def _written(result: dict[str, Any]) -> str:
    """Bytes written per event (SQLite), in KB (1,000 bytes)."""
    written = result.get("write_bytes")
    if written is None or not result["events"]:
        return "—"
    return f"{written / result['events'] / 1000:.1f}"


def table(results: list[dict[str, Any]], groups: list[Group]) -> str:
    lines = ["| engine | batch | method | events | seconds | events/s | store ÷ this "
             "| KB written per event | RSS +Δ MiB |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    order = {m: i for i, m in enumerate(METHODS)}
    for result in sorted(results, key=lambda r: (r["group"], order[r["method"]])):
        group = groups[result["group"]]
        method = result["method"]
        store = _rate(results, result["group"], STORE)
        raw = _rate(results, result["group"], RAW)
        if method == STORE_BACKFILL:
            ratio = "—" if raw is None else f"{result['rate'] / raw:.2f}× raw"
        else:
            ratio = "—" if method == STORE or store is None else f"{store / result['rate']:.2f}×"
        runs = result.get("runs", [])
        spread = "" if len(runs) < 2 else f" ({min(runs):,.0f}–{max(runs):,.0f})"
        label = METHOD_LABELS[method]
        if result["settings"].get("db_functions"):
            label += " (db functions)"
        lines.append(
            f"| {group.engine} | {group.label} | {label} "
            f"| {result['events']:,} | {result['seconds']:.2f} "
            f"| {result['rate']:,.0f}{spread} | {ratio} | {_written(result)} "
            f"| {result['rss_delta_mib']:.0f} |")
    return "\n".join(lines)


def counted_table(results: list[dict[str, Any]], groups: list[Group]) -> str:
    """The store's figures that the machine's load cannot move (from its best run)."""
    lines = ["| engine | batch | store calls | statements per call | of them reads "
             "| rows sent per event | table bytes per event | CPU µs per event |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for result in sorted(results, key=lambda r: r["group"]):
        counted = result["settings"].get("counted")
        if result["method"] != STORE or not counted or not counted["calls"]:
            continue
        calls, events = counted["calls"], max(1, counted["events"])
        lines.append(f"| {groups[result['group']].engine} | {groups[result['group']].label} "
                     f"| {calls:,} | {counted['statements'] / calls:.2f} "
                     f"| {counted['reads'] / calls:.2f} "
                     f"| {counted['write_rows'] / events:.2f} "
                     f"| {counted['database_bytes'] / events:,.0f} "
                     f"| {result.get('cpu_seconds', 0.0) / events * 1e6:,.0f} |")
    return "\n".join(lines)


def targets(results: list[dict[str, Any]], groups: list[Group]) -> tuple[str, bool]:
    lines = ["| engine | target | measured | result |", "|---|---|---:|---|"]
    passed = True

    def check(engine: str, label: str, value: float | None, limit: float, shown: str,
              most: bool = False) -> None:
        nonlocal passed
        if value is None:
            lines.append(f"| {engine} | {label} | not measured | — |")
            return
        ok = value <= limit if most else value >= limit
        passed = passed and ok
        lines.append(f"| {engine} | {label} | {shown} | {'pass' if ok else '**FAIL**'} |")

    def store_result(index: int) -> dict[str, Any] | None:
        return next((r for r in results
                     if (r["group"], r["method"]) == (index, STORE)), None)

    for index, group in enumerate(groups):
        if group.one_call:
            continue
        least = ES_APP_TARGETS.get((group.engine, group.batch))
        if least is not None:
            store, other = _rate(results, index, STORE), _rate(results, index, ES_APP)
            value = None if store is None or other is None else store / other
            check(group.engine, f"batch {group.batch:,}: store ≥ {least:g}× eventsourcing "
                  "Application", value, least, f"{value or 0:.2f}×")
        most = WRITTEN_TARGETS.get((group.engine, group.batch))
        result = store_result(index)
        if most is not None and result is not None and result.get("write_bytes") is not None:
            per_event = result["write_bytes"] / max(1, result["events"])
            check(group.engine, f"batch {group.batch:,}: ≤ {most / 1000:g} KB written per "
                  "event", per_event, most, f"{per_event / 1000:.1f} KB", most=True)
    return "\n".join(lines), passed


def header(plan: Plan, data: Dataset, pg: dict[str, str] | None,
           results: list[dict[str, Any]], version: str) -> str:
    now = now_text()
    cpu = cpu_model()
    budget = "none" if plan.budget is None else f"{plan.budget:g} s"
    lines = [f"eventstore append benchmark — {now}, eventstore {version}",
             f"machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} "
             f"{platform.release()}; {versions()}",
             f"data: {plan.events:,} statement.made facts in valid-time order "
             f"({min(plan.events, plan.single_events):,} for batch 1), canonical payload "
             f"{data.payload_bytes_mean:.0f} B on average, 1 citation each, {N_TRACKS:,} "
             f"tracks, {N_SOURCES} sources; best of {plan.repeat} run(s) "
             f"({plan.repeat_single} for batch 1); store time budget per measurement: {budget}"]
    loads = [r["load"] for r in results if "load" in r]
    if loads:
        lines.append(f"load average (1 min) when measurements began: {min(loads):.1f} to "
                     f"{max(loads):.1f} on {os.cpu_count()} CPUs")
    if "sqlite" in plan.engines:
        found = sorted({(r["method"], r["settings"].get("synchronous"))
                        for r in results if r["engine"] == "sqlite" and r["settings"]})
        shown = ", ".join(f"{m}={v}" for m, v in found)
        lines.append("durability, SQLite: WAL, synchronous=FULL (PRAGMA synchronous read back:"
                     f" {shown or 'n/a'}; 2 = FULL)")
    if pg is not None:
        lines.append(f"durability, PostgreSQL {pg['server_version']}: fsync={pg['fsync']}, "
                     f"synchronous_commit={pg['synchronous_commit']}, "
                     f"wal_sync_method={pg['wal_sync_method']}, "
                     f"full_page_writes={pg['full_page_writes']}")
    return "\n".join(lines)


def check_columns() -> None:
    """The raw SQL above names the store's columns: refuse to run if the schema moved on."""
    from eventstore.storage import schema

    tables = [(schema.events, EVENT_COLUMNS), (schema.payloads, PAYLOAD_COLUMNS),
              (schema.citations, CITATION_COLUMNS)]
    if not TREE_IN_EVENTS:  # the package of a commit before schema 0012 (--rev)
        tables.append((schema.metadata.tables["merkle_nodes"], NODE_COLUMNS))
    for table_, columns in tables:
        # valid_resolved (schema 0007) is null for every fact here, as the store leaves it
        actual = {column.name for column in table_.columns} - {"valid_resolved"}
        if actual != set(columns):
            raise SystemExit(f"benchmarks/append.py is out of date: table {table_.name} has "
                             f"columns {sorted(actual)}, the benchmark writes "
                             f"{sorted(columns)}; update its rows and SQL")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=None,
                        help="facts per measurement (default 100,000; --quick: 2,000)")
    parser.add_argument("--single-events", type=int, default=None,
                        help="facts for batch size 1 (default 1,000; --quick: 100)")
    parser.add_argument("--engines", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql")
    parser.add_argument("--batches", default=None,
                        help="comma-separated batch sizes (default 1,100,10000; "
                             "--quick: 1,100,1000)")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                        help=f"comma-separated, of {', '.join(METHODS)} (default: all but "
                             f"{STORE_BACKFILL})")
    parser.add_argument("--no-one-call", dest="one_call", action="store_false",
                        help="skip the PostgreSQL row that appends all events in one call")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each measurement; the best is reported")
    parser.add_argument("--repeat-single", type=int, default=None,
                        help="runs of each batch-1 measurement (short and fsync-bound, so "
                             "noisier; default 3, --quick: 1)")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds after which a store measurement stops at the end of its "
                             "current call; the other methods then write as many events "
                             "(default 60; --quick: 5; 0: no limit)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds after which a measurement that has not finished is "
                             "killed and reported as not measured (default 300; 0: no limit)")
    parser.add_argument("--quick", action="store_true", help="a smoke run (< 1 minute)")
    parser.add_argument("--pg-url", default=default_pg_url(),
                        help="PostgreSQL database to write to (schemas bench_… are made and "
                             "dropped in it); default $EVENTSTORE_BENCH_PG_URL, "
                             f"$EVENTSTORE_TEST_PG_URL or {DEFAULT_PG_URL}")
    parser.add_argument("--workdir", default=None,
                        help="where the SQLite files go (default: the system temp folder)")
    parser.add_argument("--json", dest="json_path", default=None,
                        help="also write the results as JSON to this file")
    parser.add_argument("--profile", dest="profile_dir", default=None,
                        help="profile the store's measurements with cProfile instead "
                             "(only the store runs; .prof files go to this folder)")
    add_rev_argument(parser)
    return parser.parse_args(argv)


def _import_everything() -> None:
    """Load every eventstore module now: the forked children then all run this code."""
    import eventstore

    for module in pkgutil.walk_packages(eventstore.__path__, "eventstore."):
        if module.name.rsplit(".", 1)[-1] == "__main__":
            continue  # ``python -m`` entry points: importing one runs the command line
        importlib.import_module(module.name)


def main(argv: Sequence[str] | None = None) -> int:
    global DATA
    args = parse_args(argv)
    if args.rev:
        return rerun_at_rev(args.rev, __file__, argv)
    check_package()
    _import_everything()
    check_columns()
    engines = parse_engines(args.engines)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for method in methods:
        if method not in METHODS:
            raise SystemExit(f"unknown method {method!r} ({', '.join(METHODS)})")
    batches = args.batches or ("1,100,1000" if args.quick else "1,100,10000")
    budget = args.budget if args.budget is not None else (5.0 if args.quick else 60.0)
    plan = Plan(engines=engines, batches=[int(b) for b in batches.split(",") if b.strip()],
                events=args.events or (2_000 if args.quick else 100_000),
                single_events=args.single_events or (100 if args.quick else 1_000),
                one_call=args.one_call, repeat=max(1, args.repeat),
                repeat_single=max(1, args.repeat_single or (1 if args.quick else 3)),
                methods=methods,
                budget=budget or None, timeout=args.timeout or None)
    pg = pg_settings(args.pg_url) if "postgresql" in engines else None
    version = git_commit()
    started = time.perf_counter()
    print(f"building {plan.events:,} facts…", file=sys.stderr, flush=True)
    DATA = build_dataset(plan.events, engines)
    gc.collect()
    gc.freeze()  # the children share the data set copy-on-write; keep the collector off it
    groups, notes = plan_groups(plan)
    results = best_of(run_groups(groups, plan, args.pg_url, args.workdir, args.profile_dir,
                                 started))
    if git_commit() != version:
        print(f"note: eventstore's files changed on disk during the run; every measurement "
              f"ran the modules loaded at the start ({version}), but created its schema "
              "from the migrations on disk at the time")
    print(header(plan, DATA, pg, results, version))
    print()
    print(table(results, groups))
    print()
    print(counted_table(results, groups))
    if any(r["settings"].get("db_functions") for r in results):
        notes.append(f"(db functions): above {ES_PG_PIPELINE_LIMIT:,} events per call, "
                     "eventsourcing's default pipelined PostgreSQL insert never returned here, "
                     "so those rows use POSTGRES_ENABLE_DB_FUNCTIONS=y")
    for note in notes + [f"{g.engine}, batch {g.label}: {n}" for g in groups for n in g.notes]:
        print(f"- {note}")
    print()
    if args.profile_dir:
        print("(profiled runs: cProfile slows them down; do not compare these rates)")
    else:
        print(targets(results, groups)[0])
    print(f"\ntotal time {time.perf_counter() - started:.0f} s")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(
            {"version": version, "plan": plan.__dict__, "postgresql": pg,
             "results": results,
             "groups": [g.__dict__ for g in groups],
             "payload_bytes_mean": DATA.payload_bytes_mean}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
