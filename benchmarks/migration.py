#!/usr/bin/env python3
"""Migrating a store written by an older commit to this checkout's schema, in place.

Run on demand (this is not a test; ``tests/test_migration.py`` is its CI-sized twin)::

    .venv/bin/python benchmarks/migration.py --rev 1a9724f              # 100,000 facts, SQLite
    .venv/bin/python benchmarks/migration.py --rev 1a9724f --engines sqlite,postgresql
    .venv/bin/python benchmarks/migration.py --rev 1a9724f --facts 5000  # a quick look

For each engine, on a fresh SQLite file or PostgreSQL schema:

1. **write** (a new interpreter running the package at ``--rev``, from ``git archive``):
   ``EventStore.open(create=True)`` at that commit's schema, the data set of
   ``benchmarks/projection.py`` (its ``FactStream``: ``--facts`` facts of mixed types over
   1,000 tracks, 1–2 citations each of 20 sources, 12 actors) in batches of 10,000, one
   payload and one source erased, a signed checkpoint; then its export (``store.export()``)
   to a file, and its ``verify()``.
2. **migrate** (this checkout, in a forked child of a parent that holds no store, so that
   its peak RSS is its own):
   ``eventstore.storage.engine.upgrade`` of the database: the seconds it takes and the
   peak RSS of the process.
3. **check** (this checkout, in another child): the export again, compared line by line
   with the one the older code wrote (less the header's ``exported_at``), and
   ``verify()``.

The report says, per engine, the revisions before and after, the seconds and peak RSS of
the migration, whether the exports are identical and whether ``verify`` passes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import (
    default_pg_url,
    fresh_places,
    in_child,
    now_text,
    package_at,
    parse_engines,
    peak_kib,
    publish,
)

WRITE_BATCH = 10_000


def _export_lines(store: Any) -> list[str]:
    header, *lines = store.export()
    fields = {k: v for k, v in json.loads(header).items() if k != "exported_at"}
    return [json.dumps(fields, sort_keys=True), *lines]


def write_old(url: str, facts: int, export_path: str) -> None:
    """Step 1, in the interpreter that runs the older package (``--write``)."""
    from projection import FactStream

    from eventstore import EventStore, generate_key

    stream = FactStream(facts, min(10_000, facts // 5))
    started = time.perf_counter()
    with EventStore.open(url, create=True, actor="older", durability="normal") as store:
        sources = store.add_sources(stream.sources())
        store.append_many(stream.actor_facts())
        written = 0
        first = None
        for batch in stream.batches(WRITE_BATCH):
            result = store.append_many(batch)
            first = first or result.events[0].event_id
            written += len(batch)
            print(f"    written {written:,} facts", file=sys.stderr, flush=True)
        store.erase_payload(first, reason="benchmarks/migration.py")
        store.erase_source(sources[-1].id, reason="benchmarks/migration.py")
        store.checkpoint(generate_key("migration-bench"))
        Path(export_path).write_text("\n".join(_export_lines(store)) + "\n")
        report = store.verify()
        revision = _revision(store.engine)
    print(json.dumps({"seconds": time.perf_counter() - started, "verify_ok": report.ok,
                      "events": report.events, "revision": revision}))


def _revision(engine: Any) -> str | None:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def migrate(url: str) -> dict[str, Any]:
    """Step 2, in a forked child of this checkout."""
    from eventstore.storage.engine import make_engine, upgrade

    engine = make_engine(url)
    started = time.perf_counter()
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    return {"seconds": time.perf_counter() - started, "before": before, "after": after,
            "peak_rss_mib": peak_kib() / 1024}


def check(url: str, export_path: str) -> dict[str, Any]:
    """Step 3: the export compared with the older one, and verify()."""
    from eventstore import EventStore

    older = Path(export_path).read_text().splitlines()
    with EventStore.open(url) as store:
        lines = _export_lines(store)
        report = store.verify()
    differing = next((i for i, (a, b) in enumerate(zip(older, lines, strict=False)) if a != b),
                     None)
    return {"identical": older == lines, "lines": len(lines), "first_difference": differing,
            "verify_ok": report.ok, "verify_first": report.first, "events": report.events}


def run_engine(engine: str, args: argparse.Namespace, sources: str) -> dict[str, Any]:
    with fresh_places(engine, args.pg_url, args.workdir, False, "migration",
                      ["store"]) as (place,):
        export_path = os.path.join(args.workdir or "/tmp", f"migration-{os.getpid()}.jsonl")
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            [sources, str(Path(__file__).parent),
             *filter(None, [environment.get("PYTHONPATH")])])
        print(f"{engine}: writing {args.facts:,} facts with the package at {args.rev}",
              file=sys.stderr, flush=True)
        out = subprocess.run(
            [sys.executable, __file__, "--write", place.url, "--facts", str(args.facts),
             "--export", export_path],
            env=environment, check=True, capture_output=True, text=True)
        written = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{engine}: migrating", file=sys.stderr, flush=True)
        migrated = in_child(f"{engine} migrate", migrate, place.url, timeout=args.timeout)
        print(f"{engine}: checking", file=sys.stderr, flush=True)
        checked = in_child(f"{engine} check", check, place.url, export_path,
                           timeout=args.timeout)
        os.unlink(export_path)
    return {"engine": engine, "written": written, "migrated": migrated, "checked": checked}


def table(results: Sequence[dict[str, Any]]) -> str:
    lines = ["| engine | events | revisions | migration s | peak RSS MiB "
             "| export before = after | verify before | verify after |",
             "|---|---:|---|---:|---:|---|---|---|"]
    for r in results:
        w, m, c = r["written"], r["migrated"], r["checked"]
        lines.append(f"| {r['engine']} | {c['events']:,} | {m['before']} → {m['after']} "
                     f"| {m['seconds']:.1f} | {m['peak_rss_mib']:.0f} "
                     f"| {'identical' if c['identical'] else 'DIFFERENT'} ({c['lines']:,} lines) "
                     f"| {'ok' if w['verify_ok'] else 'FAILED'} "
                     f"| {'ok' if c['verify_ok'] else 'FAILED: ' + str(c['verify_first'])} |")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rev", help="the commit whose package writes the store (required, "
                                      "unless --write)")
    parser.add_argument("--facts", type=int, default=100_000)
    parser.add_argument("--engines", default="sqlite")
    parser.add_argument("--pg-url", default=default_pg_url())
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--timeout", type=float, default=3_600.0)
    parser.add_argument("--output", default=None)
    parser.add_argument("--json", dest="json_path", default=None)
    parser.add_argument("--write", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--export", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.write:
        write_old(args.write, args.facts, args.export)
        return 0
    if not args.rev:
        raise SystemExit("--rev: the commit whose package writes the store")
    engines = parse_engines(args.engines)
    from _common import git_commit

    started = time.perf_counter()
    with package_at(args.rev, "migration") as (sources, older):
        assert sources is not None
        results = [run_engine(engine, args, sources) for engine in engines]
    report = "\n".join([
        f"eventstore migration benchmark — {now_text()}: store written by eventstore {older}, "
        f"migrated and checked by eventstore {git_commit()}",
        f"data: {args.facts:,} facts (benchmarks/projection.py's FactStream), one payload and "
        "one source erased, one signed checkpoint", "", table(results),
        f"\ntotal time {time.perf_counter() - started:,.0f} s"])
    publish(report, args.output, args.json_path, results)
    ok = all(r["checked"]["identical"] and r["checked"]["verify_ok"] for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
