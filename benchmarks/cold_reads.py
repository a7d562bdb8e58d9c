#!/usr/bin/env python3
"""Cold reads: the first ``project`` of a fresh process, beside the raw fetch of the
stored state it serves; the first cut of a fresh process; a rebuild.

Run on demand (this is not a test)::

    .venv/bin/python benchmarks/cold_reads.py --facts 50000 --json /tmp/cold-new-1.json
    # another commit's code, its own benchmark's data set (same seed), in a worktree:
    git worktree add /tmp/old15 9ec7f6e --detach
    cd /tmp/old15 && PYTHONPATH=/tmp/old15 /path/to/.venv/bin/python \\
        /path/to/benchmarks/cold_reads.py --data /tmp/old15/benchmarks --json /tmp/cold-old-1.json
    .venv/bin/python benchmarks/compare.py --before /tmp/cold-old-*.json \\
        --after /tmp/cold-new-*.json

Every step is a **fresh process** (this script run again with ``--child``): the package
imported, then nothing done before the step, so nothing the step reads is cached: not the
stored state's decoders (built on first use), not SQLAlchemy's compiled statements (kept
per engine), not the store's decoded states or events, not SQLite's page cache (kept per
connection). What stays warm is what no process owns: the operating system's file cache
(and PostgreSQL's shared buffers), for both sides of every ratio alike.

``build``
    ``--facts`` facts of ``projection.py``'s data set (``--data``: the folder whose
    ``projection.py`` generates it, default this one; the seed is the same in every
    commit's), written by ``append_many`` in batches of 10,000 into a fresh SQLite file or
    PostgreSQL schema; and the cut points (as ``projection.py``'s cuts: seeded, uniform
    over the big track's days and record times).
``rebuild``
    ``store.rebuild()`` in a fresh process: facts per second of wall time, and CPU.
``cold-current``
    ``--runs`` fresh processes, each: the raw fetch of the big track's stored row
    (``SELECT state FROM track_states WHERE track = …`` on an engine of its own, then
    ``json.loads``: what no store can go below to serve a stored state), then
    ``EventStore.open`` (timed apart), then the first ``project(big track)``, then a
    second (served from the store's memory).
``cold-cut``
    ``--runs`` fresh processes, each: ``EventStore.open``, then the first
    ``project(big track, as_of=…, known_at=…)`` at cut point *i* (the same points for
    every commit), then the same call again (warm).

``--profile DIR`` runs one more cold ``project`` and one more cold cut under cProfile
(not timed) and prints their top functions. Results: a Markdown table on stdout
(``--output``), ``--json FILE`` for the figures (``compare.py`` reads them).
``projection.py`` runs the cold steps too, on its own store, through :func:`cold_steps`.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import importlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

# The helpers every benchmark shares (this script's folder is on sys.path when it runs).
from _common import (
    add_run_arguments,
    engines_and_facts,
    fresh_places,
    load_average,
    pg_settings,
    profile_text,
    publish,
    report_header,
    sources_digest,
    summary,
)

HERE = Path(__file__).resolve().parent
SEED = 20261124  # projection.py's
BIG_TRACK = "RUS-USA"
ACTOR = "bench"
BATCH = 10_000
#: A cold project of the big track at most this many times the raw fetch (issue 15).
COLD_CURRENT_TARGET = 3.0

#: The stored states and the log, named without importing the package's schema (the
#: columns read here are the same at every commit measured).
TRACK_STATES = sa.table("track_states", sa.column("track"), sa.column("state"))
EVENTS = sa.table("events", sa.column("track"), sa.column("valid_lower"),
                  sa.column("valid_upper"), sa.column("recorded_at"))


# -- the children: each a fresh process ---------------------------------------------------


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> dict[str, float]:
    wall, cpu = _clock()
    return {"ms": (wall - start[0]) * 1000, "cpu_ms": (cpu - start[1]) * 1000}


def child_build(url: str, facts: int, track_facts: int, tracks: int, data: str) -> dict[str, Any]:
    sys.path.insert(0, data)
    generator = importlib.import_module("projection")
    from eventstore import EventStore

    stream = generator.FactStream(facts, track_facts, tracks)
    store = EventStore.open(url, create=True, actor=ACTOR, durability="full")
    started = time.perf_counter()
    try:
        store.add_sources(stream.sources())
        store.append_many(stream.actor_facts())
        written = 0
        for batch in stream.batches(BATCH):
            store.append_many(batch)
            written += len(batch)
    finally:
        store.close()
    return {"facts": written, "seconds": time.perf_counter() - started}


def cut_points(url: str, count: int) -> list[tuple[str, str]]:
    """``count`` (as_of, known_at) points on the big track, as ``projection.py``'s cuts
    draws them (seeded): uniform over its days and over the time its events were recorded."""
    rng = random.Random(SEED + 3)
    e = EVENTS.c
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.select(sa.func.min(e.valid_lower), sa.func.max(e.valid_upper),
                                         sa.func.min(e.recorded_at), sa.func.max(e.recorded_at))
                               .where(e.track == BIG_TRACK)).one()
    finally:
        engine.dispose()
    lower, upper = (dt.date.fromisoformat(str(v)[:10]) for v in row[:2])
    first, last = (_moment(v) for v in row[2:])
    points = []
    for _ in range(count):
        as_of = lower + dt.timedelta(days=rng.randrange((upper - lower).days + 1))
        known_at = first + (last - first) * rng.random()
        points.append((as_of.isoformat(), known_at.isoformat()))
    return points


def _moment(value: Any) -> dt.datetime:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def child_rebuild(url: str) -> dict[str, Any]:
    from eventstore import EventStore

    store = EventStore.open(url, actor=ACTOR)
    try:
        with store.engine.connect() as conn:
            facts = int(conn.execute(sa.select(sa.func.count()).select_from(EVENTS)
                                     .where(EVENTS.c.track.not_like("$%"))).scalar() or 0)
        gc.collect()
        start = _clock()
        tracks = store.rebuild()
        took = _since(start)
    finally:
        store.close()
    return {"facts": facts, "tracks": tracks, "seconds": took["ms"] / 1000,
            "cpu_s": took["cpu_ms"] / 1000, "rate": facts / (took["ms"] / 1000)}


def child_current(url: str, profile: bool) -> dict[str, Any]:
    """Raw fetch of the stored row, then the store's first and second ``project``."""
    raw_engine = sa.create_engine(url)
    with raw_engine.connect() as conn:
        conn.execute(sa.select(sa.literal(1))).scalar()  # connected before the clock starts
        start = _clock()
        text = conn.execute(sa.select(TRACK_STATES.c.state)
                            .where(TRACK_STATES.c.track == BIG_TRACK)).scalar_one()
        fetched = _since(start)
        json.loads(text)
        raw = _since(start)
    raw_engine.dispose()
    return {"raw": raw, "raw_fetch": fetched, "state_bytes": len(text.encode()),
            **_first_and_second(url, {}, profile)}


def child_cut(url: str, as_of: str, known_at: str, profile: bool) -> dict[str, Any]:
    point = {"as_of": dt.date.fromisoformat(as_of), "known_at": dt.datetime.fromisoformat(known_at)}
    return _first_and_second(url, point, profile)


def _first_and_second(url: str, cut: dict[str, Any], profile: bool) -> dict[str, Any]:
    """``EventStore.open``, then the first ``project(big track, **cut)`` (under cProfile
    if ``profile``), then the same call again."""
    from eventstore import EventStore

    start = _clock()
    store = EventStore.open(url, actor=ACTOR)
    opened = _since(start)
    try:
        counted = _count(store)
        profiler = cProfile.Profile() if profile else None
        start = _clock()
        if profiler:
            profiler.enable()
        state = store.project(BIG_TRACK, **cut)
        if profiler:
            profiler.disable()
        first = _since(start)
        statements = counted[0]
        start = _clock()
        store.project(BIG_TRACK, **cut)
        second = _since(start)
    finally:
        store.close()
    return {"open": opened, "first": first, "second": second, "facts": state.facts,
            "statements": statements, **_profiled(profiler)}


def _count(store: Any) -> list[int]:
    """Statements the store's engine sends from now on (a one-item list, updated)."""
    counted = [0]

    def count(*_: Any) -> None:
        counted[0] += 1

    sa.event.listen(store.engine, "before_cursor_execute", count)
    return counted


def _profiled(profiler: cProfile.Profile | None) -> dict[str, Any]:
    return {} if profiler is None else {"profile_text": profile_text(profiler, 30)}


CHILDREN = {"build": child_build, "rebuild": child_rebuild, "current": child_current,
            "cut": child_cut}


def in_fresh_process(step: str, timeout: float | None = None, **arguments: Any) -> dict[str, Any]:
    """Run ``step`` in a new interpreter (this script with ``--child``), with this
    process's environment (so the same ``PYTHONPATH``: the same code); its result."""
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", step,
                           json.dumps(arguments)], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{step} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def cold_steps(url: str, runs: int, points: Sequence[tuple[str, str]], *,
               profile: bool = False, timeout: float | None = None) -> dict[str, Any]:
    """``runs`` cold ``project`` of the big track and ``runs`` cold cuts (at ``points[i]``),
    each in a fresh process, alternating; with ``profile``, one more of each profiled."""
    currents: list[dict[str, Any]] = []
    cuts: list[dict[str, Any]] = []
    for i in range(runs):
        currents.append(in_fresh_process("current", timeout, url=url, profile=False))
        as_of, known_at = points[i % len(points)]
        cuts.append(in_fresh_process("cut", timeout, url=url, as_of=as_of, known_at=known_at,
                                     profile=False))
    result = {"current": _summarise(currents), "cut": _summarise(cuts),
              "runs": runs, "current_runs": currents, "cut_runs": cuts}
    if profile:
        as_of, known_at = points[0]
        result["current_profile"] = in_fresh_process("current", timeout, url=url,
                                                     profile=True)["profile_text"]
        result["cut_profile"] = in_fresh_process("cut", timeout, url=url, as_of=as_of,
                                                 known_at=known_at, profile=True)["profile_text"]
    return result


def _summarise(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the runs of each timing (wall and CPU), and of the first call ÷ the
    raw fetch of the same process (when there is one)."""
    out: dict[str, Any] = {"facts": runs[0]["facts"], "statements": runs[0]["statements"]}
    for key in ("raw", "raw_fetch", "open", "first", "second"):
        if key in runs[0]:
            out[key] = summary([r[key]["ms"] / 1000 for r in runs]) | {
                "cpu_ms": statistics.median(r[key]["cpu_ms"] for r in runs)}
    if "raw" in runs[0]:
        out["ratio"] = statistics.median(r["first"]["ms"] / r["raw"]["ms"] for r in runs)
        out["state_bytes"] = runs[0]["state_bytes"]
    return out


# -- the run ------------------------------------------------------------------------------


def imported_version() -> str:
    """The commit of the ``eventstore`` imported (its checkout's ``git rev-parse``;
    ``-dirty`` when tracked files differ) and a digest of its sources."""
    import eventstore

    root = Path(eventstore.__file__).resolve().parent.parent

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        if git("status", "--porcelain", "--untracked-files=no"):
            commit += "-dirty"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return f"{commit} (sources sha256 {sources_digest(root)[:12]})"


def table(runs: dict[str, dict[str, Any]]) -> str:
    lines = ["| engine | measurement | median (min–max) | CPU, median | target | ratio |",
             "|---|---|---:|---:|---|---:|"]
    for engine, r in runs.items():
        rebuild = r["rebuild"]
        lines.append(f"| {engine} | rebuild(): {rebuild['facts']:,} facts, fresh process "
                     f"| {rebuild['rate']:,.0f} facts/s ({rebuild['seconds']:.2f} s) "
                     f"| {rebuild['cpu_s']:.2f} s | ≥ 1.6× 9ec7f6e's (compare.py) | — |")
        current, cut = r["cold"]["current"], r["cold"]["cut"]

        def ms(s: dict[str, Any]) -> str:
            return f"{s['median_ms']:.2f} ms ({s['min_ms']:.2f}–{s['max_ms']:.2f})"

        lines.append(f"| {engine} | raw fetch of {BIG_TRACK}'s stored row "
                     f"({current['state_bytes'] / 1024:,.0f} KiB) + json.loads | "
                     f"{ms(current['raw'])} | {current['raw']['cpu_ms']:.2f} ms | — | — |")
        lines.append(f"| {engine} | EventStore.open, fresh process | {ms(current['open'])} "
                     f"| {current['open']['cpu_ms']:.2f} ms | — | — |")
        lines.append(f"| {engine} | cold project({BIG_TRACK}): first call "
                     f"({current['facts']:,} facts, {current['statements']} statements) | "
                     f"{ms(current['first'])} | {current['first']['cpu_ms']:.2f} ms "
                     f"| ≤ {COLD_CURRENT_TARGET:g}× the raw fetch | {current['ratio']:.2f}× |")
        lines.append(f"| {engine} | project({BIG_TRACK}): second call | {ms(current['second'])} "
                     f"| {current['second']['cpu_ms']:.2f} ms | — | — |")
        lines.append(f"| {engine} | cold cut project({BIG_TRACK}, as_of, known_at): first call "
                     f"({cut['statements']} statements) | {ms(cut['first'])} "
                     f"| {cut['first']['cpu_ms']:.2f} ms | ≤ 0.6× 9ec7f6e's (compare.py) | — |")
        lines.append(f"| {engine} | the same cut again | {ms(cut['second'])} "
                     f"| {cut['second']['cpu_ms']:.2f} ms | — | — |")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--facts", type=int, default=50_000, help="facts (default 50,000)")
    parser.add_argument("--track-facts", type=int, default=2_000,
                        help=f"facts of the big track, {BIG_TRACK} (default 2,000)")
    parser.add_argument("--tracks", type=int, default=1_000, help="tracks (default 1,000)")
    parser.add_argument("--runs", type=int, default=5,
                        help="cold processes for each of project and the cut (default 5)")
    parser.add_argument("--engines", default="sqlite",
                        help="comma-separated: sqlite, postgresql (default: sqlite)")
    parser.add_argument("--data", default=str(HERE),
                        help="the folder whose projection.py generates the facts (another "
                             "commit's benchmarks/, so that its code gets its own form of "
                             "them); default: this one")
    parser.add_argument("--quick", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=2, metavar=("STEP", "ARGUMENTS"),
                        help=argparse.SUPPRESS)
    add_run_arguments(parser, profiled="a cold project and a cold cut")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        step, arguments = args.child
        print(json.dumps(CHILDREN[step](**json.loads(arguments)), default=str))
        return 0
    engines, _ = engines_and_facts(args)
    timeout = args.timeout or None
    version = imported_version()
    started = time.perf_counter()
    runs: dict[str, dict[str, Any]] = {}
    loads = [load_average()]
    for engine in engines:
        with fresh_places(engine, args.pg_url, args.workdir, args.keep, "cold",
                          ("store",)) as (store,):
            print(f"[{time.perf_counter() - started:5.0f}s] {engine}: build", file=sys.stderr)
            build = in_fresh_process("build", timeout, url=store.url, facts=args.facts,
                                     track_facts=min(args.track_facts, args.facts // 2),
                                     tracks=args.tracks, data=args.data)
            print(f"[{time.perf_counter() - started:5.0f}s] {engine}: rebuild", file=sys.stderr)
            rebuild = in_fresh_process("rebuild", timeout, url=store.url)
            points = cut_points(store.url, args.runs)
            print(f"[{time.perf_counter() - started:5.0f}s] {engine}: cold reads",
                  file=sys.stderr)
            cold = cold_steps(store.url, args.runs, points, profile=bool(args.profile_dir),
                              timeout=timeout)
            for key in ("current_profile", "cut_profile"):
                if key in cold:
                    print(f"{engine}, {key}:\n{cold.pop(key)}", file=sys.stderr)
            runs[engine] = {"build": build, "rebuild": rebuild, "cold": cold, "points": points}
            loads.append(load_average())
    pg = pg_settings(args.pg_url) if "postgresql" in engines else None
    report = [report_header("cold reads", loads, pg, version,
                            f"data: {args.facts:,} facts on {args.tracks:,} tracks "
                            f"({BIG_TRACK}: {min(args.track_facts, args.facts // 2):,}), "
                            f"projection.py's data set from {args.data}; {args.runs} cold "
                            "processes each", packages=("sqlalchemy", "psycopg")),
              "", table(runs), f"\ntotal time {time.perf_counter() - started:,.0f} s"]
    publish("\n".join(report), args.output, args.json_path,
            {"cold_reads": True, "version": version, "facts": args.facts,
             "track_facts": args.track_facts, "tracks": args.tracks, "runs": runs,
             "pid": os.getpid()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
