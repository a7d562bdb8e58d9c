#!/usr/bin/env python3
"""Where an append's time goes, part by part: the store against the ``eventsourcing``
Application, in µs per event.

Run on demand (this is not a test)::

    .venv/bin/python benchmarks/append_parts.py                     # both engines, 30,000 facts
    .venv/bin/python benchmarks/append_parts.py --engines sqlite --batches 100 --events 5000

It reuses ``benchmarks/append.py``: its data set (the same synthetic ``statement.made``
facts), its ``store`` and ``es-app`` methods, each measurement in a forked child on a fresh
SQLite file or PostgreSQL schema. Each (engine, batch) runs the two methods alternately,
``--repeat`` times each plain (the CPU time and wall time per event of the timed block:
the figures the parts are checked against) and once split into timing sections: the
functions that make up an append are wrapped, in the child only, by a timer that gives
each section its own wall time (``time.perf_counter``, the time of the sections it calls
taken out), so the sections add up to the timed block; "rest" is what none of them
covers. The driver's calls (sqlite3 through SQLAlchemy's dialect or the library's cursor;
psycopg's cursor and commit) are also timed in this process's CPU time, so that their
wait (the disk flushes, the PostgreSQL server) is told from their CPU. A wrapper costs
about 0.5 µs a call (0.1 inside the section it times, 0.4 in its caller's), measured in
the child before the run and taken out of the figures (the "sections run" row is before
that). For which functions inside a section cost what, ``benchmarks/append.py --profile
DIR`` gives cProfile's view.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import append as bench
from _common import default_pg_url, git_commit, parse_engines

SECTIONS: dict[str, list[float]] = {}  # name → [wall s, cpu s (driver only), calls, calls made]
_STACK: list[list[float]] = []  # per open section: [wall of its children, their cpu, how many]
#: A wrapper's own cost, measured in the child: (inside the section it times, outside it,
#: in its caller's time), in seconds per call; taken out of the sections' figures.
OVERHEAD = [0.0, 0.0]


def _driver_name(args: tuple[Any, ...]) -> str:
    """The driver's section for a call: an ``INSERT`` per table, the rest together."""
    statement = next((a for a in args[1:3] if isinstance(a, str)), "")
    for table in ("events", "payloads", "citations"):
        if statement.startswith(f"INSERT INTO {table} "):
            return f"{DRIVER} ({table} insert)"
    return f"{DRIVER} (other statements, commit)"


def _timed(name: str, function: Callable[..., Any], cpu: bool) -> Callable[..., Any]:
    clock, cpu_clock = time.perf_counter, time.process_time
    named = name == DRIVER

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        label = _driver_name(args) if named else name
        frame = [0.0, 0.0, 0]
        _STACK.append(frame)
        c0 = cpu_clock() if cpu else 0.0
        t0 = clock()
        try:
            return function(*args, **kwargs)
        finally:
            wall = clock() - t0
            used = cpu_clock() - c0 if cpu else 0.0
            _STACK.pop()
            total = SECTIONS.setdefault(label, [0.0, 0.0, 0, 0])
            total[0] += wall - frame[0]
            total[1] += used - frame[1] if cpu else 0.0
            total[2] += 1
            total[3] += frame[2]
            if _STACK:
                _STACK[-1][0] += wall
                _STACK[-1][1] += used
                _STACK[-1][2] += 1
    return wrapper


def _calibrate(n: int = 50_000) -> None:
    """The wrapper's cost per call, inside and outside what it times (median of 5)."""
    def noop() -> None:
        return None

    wrapped = _timed("calibration", noop, False)
    inside, outside = [], []
    for _ in range(5):
        SECTIONS.clear()
        t0 = time.perf_counter()
        for _ in range(n):
            noop()
        bare = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(n):
            wrapped()
        total = time.perf_counter() - t0
        own = SECTIONS["calibration"][0]
        inside.append(own / n)
        outside.append((total - bare - own) / n)
    SECTIONS.clear()
    OVERHEAD[:] = [statistics.median(inside), statistics.median(outside)]


def corrected(sections: dict[str, list[float]], inside: float, outside: float
              ) -> tuple[dict[str, float], float]:
    """Each section's wall seconds less the wrappers' cost (its own calls' cost inside,
    the calls it made's outside); and the wrappers' whole cost (to take from the block)."""
    return ({k: v[0] - v[2] * inside - v[3] * outside for k, v in sections.items()},
            sum(v[2] for v in sections.values()) * (inside + outside))


def _wrap(owner: Any, attribute: str, name: str, cpu: bool = False) -> None:
    original = owner.__dict__[attribute]
    if isinstance(original, staticmethod):
        setattr(owner, attribute, staticmethod(_timed(name, original.__func__, cpu)))
    else:
        setattr(owner, attribute, _timed(name, original, cpu))


DRIVER = "driver"
DRIVERS = [f"{DRIVER} ({what})" for what in ("events insert", "payloads insert",
                                             "citations insert", "other statements, commit")]
STORE_SECTIONS = [
    "parse + validate (fact_from_dict: cattrs, attrs validators)",
    "citation resolution (_resolve)",
    "payload canonical JSON (_payload_body)",
    "sha256 ×3 (payload, citations, event)",
    "prepare rest (uuid7, citations JSON, _Prepared)",
    "envelope dict + JSON",
    "tree nodes (Frontier.append_leaf)",
    "row dicts (event_row, payload_row, citation_rows, …)",
    "row tuples (BulkInsert.run's itemgetter)",
    "store's loops and reads (_append, write, _dedupe, _insert, track_versions)",
    "SQLAlchemy (Connection.execute / exec_driver_sql)",
    *DRIVERS,
]
ES_SECTIONS = [
    "aggregate: trigger the event (outside save)",
    "save: collect events (Application.save, collect_events)",
    "mapper: to_stored_event (JSON)",
    "recorder (insert_events, its Python)",
    *DRIVERS[3:],
]


def instrument() -> None:
    """Wrap the functions an append runs (in the forked child that measures)."""
    import eventsourcing.application as es_app
    import eventsourcing.persistence as es_persistence
    import eventsourcing.postgres as es_postgres
    import eventsourcing.sqlite as es_sqlite
    import psycopg
    import sqlalchemy as sa
    from sqlalchemy.engine import default

    import eventstore.storage.append as ap
    from eventstore.audit.merkle import Frontier
    from eventstore.storage.bulk import BulkInsert
    from eventstore.storage.reads import track_versions  # noqa: F401

    s = STORE_SECTIONS
    _wrap(ap, "fact_from_dict", s[0])
    _wrap(ap.Appender, "_resolve", s[1])
    _wrap(ap, "_payload_body", s[2])
    _wrap(ap, "sha256_hex", s[3])
    _wrap(ap.Appender, "_prepare", s[4])
    _wrap(ap, "envelope_dict", s[5])
    _wrap(ap, "envelope_json", s[5])
    _wrap(Frontier, "append_leaf", s[6])
    for row in ("event_row", "payload_row", "citation_rows", "member_rows", "stored_day"):
        _wrap(ap, row, s[7])
    _wrap(BulkInsert, "run", s[8])
    for method in ("append_many", "_append", "_check_references", "write", "_dedupe",
                   "_insert"):
        _wrap(ap.Appender, method, s[9])
    _wrap(ap, "track_versions", s[9])
    _wrap(sa.Connection, "execute", s[10])
    _wrap(sa.Connection, "exec_driver_sql", s[10])
    for method in ("do_execute", "do_executemany", "do_commit"):
        _wrap(default.DefaultDialect, method, DRIVER, cpu=True)
    for method in ("execute", "executemany", "fetchone", "fetchall"):
        _wrap(psycopg.Cursor, method, DRIVER, cpu=True)
    _wrap(psycopg.Connection, "commit", DRIVER, cpu=True)
    e = ES_SECTIONS
    _wrap(es_app.Application, "save", e[1])
    _wrap(es_app.ProcessingEvent, "collect_events", e[1])
    _wrap(es_persistence.Mapper, "to_stored_event", e[2])
    for recorder in (es_sqlite.SQLiteApplicationRecorder, es_postgres.PostgresApplicationRecorder):
        for method in ("insert_events", "_insert_events"):
            if method in recorder.__dict__:
                _wrap(recorder, method, e[3])
    for method in ("execute", "executemany"):
        _wrap(es_sqlite.SQLiteCursor, method, DRIVER, cpu=True)
    _wrap(es_sqlite.SQLiteConnection, "commit", DRIVER, cpu=True)


class SectionTimer(bench.Timer):
    """append.py's timer, which starts the sections' count afresh."""

    def timing(self) -> Any:
        SECTIONS.clear()
        return super().timing()


#: Whether the next measurement is split into sections (set by the parent before it
#: forks the child).
SPLIT = [False]


def measure(spec: bench.Spec) -> dict[str, Any]:
    """One measurement in the forked child, split into sections if :data:`SPLIT` says so."""
    if SPLIT[0]:
        _calibrate()
        instrument()
    result = bench.measure(spec)
    result.pop("profile_text", None)
    result["sections"] = {k: list(v) for k, v in SECTIONS.items()}
    result["overhead"] = list(OVERHEAD)
    return result


def run(spec: bench.Spec) -> dict[str, Any]:
    from _common import drop_schema, in_child, temp_folder

    name = f"{spec.engine} {spec.method} batch {spec.batch}"
    if spec.engine != "sqlite":
        try:
            return in_child(name, measure, spec, timeout=900)
        finally:
            drop_schema(spec.pg_url, spec.schema)
    with temp_folder("eventstore-parts-", None) as spec.folder:
        return in_child(name, measure, spec, timeout=900)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--batches", default="100,10000")
    parser.add_argument("--repeat", type=int, default=3, help="plain runs per method (median)")
    parser.add_argument("--pg-url", default=default_pg_url())
    args = parser.parse_args()
    bench.Timer = SectionTimer  # type: ignore[misc]  # the forked children use it
    bench.check_package()
    bench._import_everything()
    engines = parse_engines(args.engines)
    batches = [int(b) for b in args.batches.split(",")]
    print(f"building {args.events:,} facts…", file=sys.stderr, flush=True)
    bench.DATA = bench.build_dataset(args.events, engines)
    gc.collect()
    gc.freeze()
    version = git_commit()
    cells: list[dict[str, Any]] = []
    count = 0
    for engine in engines:
        for batch in batches:
            plain: dict[str, list[dict[str, Any]]] = {bench.STORE: [], bench.ES_APP: []}
            split: dict[str, dict[str, Any]] = {}
            for rep in range(args.repeat + 1):
                for method in (bench.STORE, bench.ES_APP):
                    count += 1
                    sections = rep == args.repeat
                    spec = bench.Spec(engine=engine, method=method, batch=batch,
                                      events=args.events, pg_url=args.pg_url, workdir=None,
                                      schema=f"parts_{os.getpid()}_{count}")
                    SPLIT[0] = sections
                    result = run(spec)
                    if sections:
                        split[method] = result
                    else:
                        plain[method].append(result)
                    print(f"{engine:10} batch {batch:>6,} {method:6} "
                          f"{'sections' if sections else 'plain':8} "
                          f"{result['events'] / result['seconds']:8,.0f}/s "
                          f"cpu {result['cpu_seconds'] / result['events'] * 1e6:6.1f} µs/event",
                          file=sys.stderr, flush=True)
            for method in (bench.STORE, bench.ES_APP):
                runs, one = plain[method], split[method]
                n = one["events"]
                walls, outside = corrected(one["sections"], *one["overhead"])
                parts = {k: v / n * 1e6 for k, v in walls.items()}
                block = (one["seconds"] - outside) / n * 1e6  # the block, wrappers' cost out
                if method == bench.ES_APP:
                    parts[ES_SECTIONS[0]] = block - sum(parts.values())
                cells.append({
                    "engine": engine, "batch": batch, "method": method,
                    "cpu_us": statistics.median(r["cpu_seconds"] / r["events"] for r in runs) * 1e6,
                    "wall_us": statistics.median(r["seconds"] / r["events"] for r in runs) * 1e6,
                    "split_cpu_us": one["cpu_seconds"] / n * 1e6,
                    "split_wall_us": one["seconds"] / n * 1e6,
                    "block_us": block,
                    "overhead_ns": [x * 1e9 for x in one["overhead"]],
                    "parts": parts,
                    "driver_cpu_us": sum(one["sections"].get(d, [0, 0])[1] for d in DRIVERS)
                    / n * 1e6,
                })
    print(f"commit {version}; {args.events:,} facts; µs per event; sections: wall time of "
          f"one split run; plain: median of {args.repeat} runs\n")
    for method, names in ((bench.STORE, STORE_SECTIONS), (bench.ES_APP, ES_SECTIONS)):
        mine = [c for c in cells if c["method"] == method]
        print(f"| {method} | " + " | ".join(f"{c['engine']} {c['batch']:,}" for c in mine) + " |")
        print("|---|" + "---:|" * len(mine))
        for name in names:
            print(f"| {name} | " + " | ".join(f"{c['parts'].get(name, 0):.1f}" for c in mine)
                  + " |")
        print("| … of which the driver's CPU | "
              + " | ".join(f"{c['driver_cpu_us']:.1f}" for c in mine) + " |")
        print("| rest (timed block less the sections) | " + " | ".join(
            f"{c['block_us'] - sum(c['parts'].values()):.1f}" for c in mine) + " |")
        print("| sections' sum + rest (the wrappers' cost taken out) | " + " | ".join(
            f"{c['block_us']:.1f}" for c in mine) + " |")
        print("| sections run: wall (CPU) | " + " | ".join(
            f"{c['split_wall_us']:.1f} ({c['split_cpu_us']:.1f})" for c in mine) + " |")
        print("| **plain runs: wall (CPU)** | " + " | ".join(
            f"**{c['wall_us']:.1f}** ({c['cpu_us']:.1f})" for c in mine) + " |")
        print()
    print("wrapper cost taken out, ns per call (inside, outside): " + ", ".join(
        f"{c['engine']} {c['batch']:,} {c['method']} {c['overhead_ns'][0]:.0f}/"
        f"{c['overhead_ns'][1]:.0f}" for c in cells))
    for c in cells:
        if c["method"] != bench.STORE:
            continue
        es = next(e for e in cells if e["method"] == bench.ES_APP
                  and (e["engine"], e["batch"]) == (c["engine"], c["batch"]))
        print(f"- {c['engine']} batch {c['batch']:,}: store ÷ es-app (events/s, plain "
              f"medians) {es['wall_us'] / c['wall_us']:.2f}; CPU per event "
              f"{c['cpu_us']:.0f} against {es['cpu_us']:.0f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
