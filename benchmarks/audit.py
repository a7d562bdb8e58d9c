#!/usr/bin/env python3
"""Audit speed of the store: ``verify()`` of the whole log, tree heads and proofs.

Run on demand (this is not a test)::

    .venv/bin/python benchmarks/audit.py                  # 1,000,000 facts, SQLite (~10 min)
    .venv/bin/python benchmarks/audit.py --quick          # 50,000 facts (~1 min per engine)
    .venv/bin/python benchmarks/audit.py --engines sqlite,postgresql
    .venv/bin/python benchmarks/audit.py --quick --profile /tmp/prof   # verify under cProfile

The data set is ``benchmarks/projection.py``'s (its ``FactStream``: ``--facts`` facts over
1,000 tracks, mixed types, 1–2 citations each of 20 registered sources, 12 actors), written
with ``EventStore.append_many`` in batches of 10,000 (projection.py's build step) on an
SQLite file or a PostgreSQL schema, fresh for the run and removed afterwards. A checkpoint
is then signed (``generate_key`` + ``store.checkpoint``), so that ``verify`` checks one.

Then, each step in a forked child process (so its peak RSS is its own):

``baseline``
    What any check of the log must at least do, in the same run: read the rows ``verify``
    reads (events joined with their payloads and Merkle rows, and their citations), paged
    by position as ``eventstore/storage/verify.py`` does (5,000 events a page, plain
    SQLAlchemy Core on a plain engine), and ``hashlib.sha256`` each event's fields, payload
    and citations (one digest per event). Nothing is compared or checked.
``verify``
    ``store.verify(keys)`` with the checkpoint's verifier key: the chain, versions,
    payloads, citations against their sources, the Merkle tree rows, the checkpoint, the
    triggers. Events/s, its ratio to the baseline's (target ≥ 0.5), and the peak RSS of
    the child (``getrusage``; the whole process, interpreter included).
``proofs``
    ``store.tree_head(size)`` at the log's size (every event: ``--facts`` plus the
    sources and actors registered) and at random sizes; ``store.inclusion_proof(position,
    size)`` of random positions and ``store.consistency_proof(m, size)`` of random ``m``,
    at the log's size; ``--calls`` calls each (after 5 untimed ones), target median
    < 10 ms each. For information, the pure verification of those proofs
    (``verify_inclusion`` / ``verify_consistency``, no database), also checked against the
    tree head.

Results: a Markdown table on stdout (``--output FILE`` writes it there too), progress on
stderr, ``--json FILE`` for the raw figures. ``--profile DIR`` then runs ``verify`` once
more under cProfile (not timed) and prints the top functions.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa

# The helpers every benchmark shares (this script's folder is on sys.path when it runs).
from _common import (
    EngineRun,
    Hung,
    Place,
    add_run_arguments,
    engines_and_facts,
    fresh_places,
    git_commit,
    in_child,
    load_average,
    peak_kib,
    pg_settings,
    publish,
    report_header,
    rss_kib,
    run_loads,
    summary,
    timed,
    verdict,
)

# benchmarks/append.py and benchmarks/projection.py: the data set and its build.
from append import N_TRACKS
from projection import ACTOR, BATCH, Job, step_build

from eventstore import EventStore
from eventstore.audit.verifier import (
    generate_key,
    parse_verifier_key,
    verify_consistency,
    verify_inclusion,
)
from eventstore.storage import schema as t

SEED = 20261125
PAGE = 5_000  # events a page, as eventstore/storage/verify.py reads them
WARMUP = 5

VERIFY_TARGET = 0.5  # × the baseline's rate
PROOF_TARGET_MS = 10.0

# -- the steps, each run in a forked child -----------------------------------------------


def step_checkpoint(place: Place) -> dict[str, Any]:
    """Sign the current tree head; the verifier key comes back as text."""
    store = EventStore.open(place.url, actor=ACTOR)
    try:
        key = generate_key("audit-bench")
        started = time.perf_counter()
        stored = store.checkpoint(key)
        seconds = time.perf_counter() - started
    finally:
        store.close()
    return {"size": stored.checkpoint.size, "root": stored.checkpoint.root.hex(),
            "verifier_key": stored.verifier_key, "seconds": seconds}


def _baseline_pages(conn: sa.Connection) -> Iterator[tuple[list[Any], dict[int, list[Any]]]]:
    """The rows verify reads, a page at a time: (event rows, citation rows by position)."""
    e, p, c = t.events.c, t.payloads.c, t.citations.c
    query = (sa.select(t.events, p.body)  # the tree's nodes are in events (schema 0012)
             .join(t.payloads, p.position == e.position, isouter=True))
    cites = sa.select(c.position, c.source_id, c.start_offset, c.end_offset, c.exact,
                      c.prefix, c.suffix)
    after = 0
    while True:
        rows = conn.execute(query.where(e.position > after).order_by(e.position)
                            .limit(PAGE)).all()
        if not rows:
            return
        first, last = rows[0].position, rows[-1].position
        cited: dict[int, list[Any]] = {}
        for row in conn.execute(cites.where(c.position >= first, c.position <= last)
                                .order_by(c.position, c.ordinal)):
            cited.setdefault(row[0], []).append(row)
        yield rows, cited
        after = last


def step_baseline(job: Job, place: Place) -> dict[str, Any]:
    """Read the rows verify reads and hash each event's fields, payload and citations."""
    engine = sa.create_engine(place.url)
    sha256 = hashlib.sha256
    events = citations = 0
    check = sha256()
    try:
        load = load_average()
        rss = rss_kib()
        with engine.connect() as conn, timed(job.profile, job.profile_top) as clock:
            for rows, cited in _baseline_pages(conn):
                for row in rows:
                    parts = [str(value) for value in row]
                    for cite in cited.get(row.position, ()):
                        parts.extend(str(value) for value in cite)
                        citations += 1
                    check.update(sha256("\x1f".join(parts).encode("utf-8")).digest())
                events += len(rows)
    finally:
        engine.dispose()
    return {"events": events, "citations": citations, "seconds": clock.seconds,
            "cpu_s": clock.cpu_seconds, "rate": events / clock.seconds,
            "digest": check.hexdigest()[:16], "rss_start_mib": rss / 1024,
            "peak_rss_mib": peak_kib() / 1024, "load": load, "load_end": load_average()}


def step_verify(job: Job, place: Place, verifier_key: str) -> dict[str, Any]:
    """``store.verify`` with the trusted key: the whole log checked."""
    store = EventStore.open(place.url, actor=ACTOR)
    keys = [parse_verifier_key(verifier_key)]
    try:
        load = load_average()
        rss = rss_kib()
        with timed(job.profile, job.profile_top) as clock:
            report = store.verify(keys)
    finally:
        store.close()
    if not report.ok:
        raise RuntimeError(f"verify found problems: {report.first}")
    return {"events": report.events, "citations": report.citations,
            "checkpoints": len(report.checkpoints), "seconds": clock.seconds,
            "cpu_s": clock.cpu_seconds, "rate": report.events / clock.seconds,
            "rss_start_mib": rss / 1024, "peak_rss_mib": peak_kib() / 1024,
            "load": load, "load_end": load_average(), **clock.profile_result()}


def _calls(count: int, call: Callable[[], Any]) -> tuple[list[float], list[Any]]:
    for _ in range(WARMUP):
        call()
    samples, results = [], []
    for _ in range(count):
        started = time.perf_counter()
        results.append(call())
        samples.append(time.perf_counter() - started)
    return samples, results


def step_proofs(job: Job, place: Place, calls: int) -> dict[str, Any]:
    """Tree heads, inclusion and consistency proofs at the log's size; their verification."""
    rng = random.Random(SEED)
    store = EventStore.open(place.url, actor=ACTOR)
    try:
        load = load_average()
        head = store.tree_head()
        size = head.size
        full, _ = _calls(calls, lambda: store.tree_head(size))
        at_random, _ = _calls(calls, lambda: store.tree_head(rng.randint(1, size)))
        inclusion, found = _calls(
            calls, lambda: store.inclusion_proof(rng.randint(1, size), size))
        consistency, proved = _calls(
            calls, lambda: store.consistency_proof(rng.randint(1, size - 1), size))
        load_end = load_average()
    finally:
        store.close()
    checks_in, checks_co = [], []
    for _, proof in found:
        assert proof.root == head.root and proof.size == size
        started = time.perf_counter()
        verify_inclusion(proof.index, proof.size, proof.leaf_hash, proof.proof, proof.root)
        checks_in.append(time.perf_counter() - started)
    for proof in proved:
        assert proof.root2 == head.root and proof.size2 == size
        started = time.perf_counter()
        verify_consistency(proof.size1, proof.size2, proof.proof, proof.root1, proof.root2)
        checks_co.append(time.perf_counter() - started)
    return {"size": size, "tree_head_full": summary(full),
            "tree_head_random": summary(at_random), "inclusion": summary(inclusion),
            "consistency": summary(consistency),
            "inclusion_hashes": sum(len(p.proof) for _, p in found) / len(found),
            "consistency_hashes": sum(len(p.proof) for p in proved) / len(proved),
            "verify_inclusion": summary(checks_in),
            "verify_consistency": summary(checks_co), "load": load, "load_end": load_end}


# -- a run per engine --------------------------------------------------------------------


def run_engine(engine: str, job: Job, args: argparse.Namespace, started: float) -> EngineRun:
    run = EngineRun(engine)
    timeout = args.timeout or None

    def do(name: str, step: Callable[..., dict[str, Any]], *rest: Any) -> bool:
        label = f"{engine}-{name}"
        print(f"[{time.perf_counter() - started:7.0f} s] {label} …", file=sys.stderr,
              flush=True)
        try:
            result = in_child(label, step, *rest, timeout=timeout,
                              profile_dir=args.profile_dir)
        except (RuntimeError, Hung) as err:
            run.notes.append(str(err).strip().splitlines()[0])
            print(f"    FAILED: {err}", file=sys.stderr, flush=True)
            return False
        text = result.pop("profile_text", None)
        if text:
            print(f"\n=== {label} (cProfile) ===\n{text}", file=sys.stderr, flush=True)
        run.results[name] = result
        print(f"    done in {result['wall_s']:,.1f} s", file=sys.stderr, flush=True)
        return True

    with fresh_places(engine, args.pg_url, args.workdir, args.keep, "audit",
                      ("store",)) as (place,):
        if not do("build", step_build, job, place) or not do("checkpoint", step_checkpoint,
                                                             place):
            return run
        key = run.results["checkpoint"]["verifier_key"]
        do("baseline", step_baseline, job, place)
        do("verify", step_verify, job, place, key)
        do("proofs", step_proofs, job, place, args.calls)
        if args.profile_dir:
            do("verify-profiled", step_verify, Job(**{**asdict(job), "profile": True}),
               place, key)
        run.results.get("build", {}).pop("tracks", None)
    return run


# -- the report ---------------------------------------------------------------------------


def _ms(s: dict[str, float]) -> str:
    return f"median {s['median_ms']:.2f} ms, p95 {s['p95_ms']:.2f} ms"


def _us(s: dict[str, float]) -> str:
    return f"median {s['median_ms'] * 1000:.0f} µs, p95 {s['p95_ms'] * 1000:.0f} µs"


def table(runs: list[EngineRun], calls: int) -> str:
    lines = ["| engine | measurement | measured | baseline (same run) | ratio | target "
             "| result |", "|---|---|---:|---:|---:|---|---|"]

    def row(engine: str, what: str, measured: str, baseline: str, ratio: str, target: str,
            ok: bool | None) -> None:
        lines.append(f"| {engine} | {what} | {measured} | {baseline} | {ratio} | {target} "
                     f"| {verdict(ok)} |")

    for run in runs:
        r, e = run.results, run.engine
        build, point = r.get("build"), r.get("checkpoint")
        if build:
            row(e, f"build: {build['facts']:,} facts, append_many × {BATCH:,}",
                f"{build['seconds']:,.0f} s ({build['rate']:,.0f} facts/s; "
                f"{build['database_mib']:,.0f} MiB)", "—", "—", "none (setup)", None)
        if point:
            row(e, f"checkpoint() at size {point['size']:,}",
                f"{point['seconds'] * 1000:,.1f} ms", "—", "—", "none (setup)", None)
        verify, base = r.get("verify"), r.get("baseline")
        if verify:
            ratio = verify["rate"] / base["rate"] if base else None
            row(e, f"verify(): {verify['events']:,} events, {verify['citations']:,} "
                f"citations, {verify['checkpoints']} checkpoint",
                f"{verify['rate']:,.0f} events/s ({verify['seconds']:,.1f} s, "
                f"{verify['cpu_s']:,.1f} s CPU)",
                f"read + sha256: {base['rate']:,.0f} events/s ({base['seconds']:,.1f} s, "
                f"{base['cpu_s']:,.1f} s CPU)" if base else "—",
                "—" if ratio is None else f"{ratio:.2f}", f"≥ {VERIFY_TARGET:g}",
                None if ratio is None else ratio >= VERIFY_TARGET)
            row(e, f"verify(): peak RSS of the process ({verify['rss_start_mib']:,.0f} MiB "
                "before)", f"{verify['peak_rss_mib']:,.0f} MiB",
                f"{base['peak_rss_mib']:,.0f} MiB" if base else "—", "—", "none (information)",
                None)
        proofs = r.get("proofs")
        if proofs:
            n = proofs["size"]
            for key, what in (("tree_head_full", f"tree_head({n:,})"),
                              ("tree_head_random", "tree_head(random size)"),
                              ("inclusion", f"inclusion_proof(random position, {n:,})"),
                              ("consistency", f"consistency_proof(random m, {n:,})")):
                s = proofs[key]
                row(e, f"{what}, {calls} calls", _ms(s), "—", "—",
                    f"median < {PROOF_TARGET_MS:g} ms", s["median_ms"] < PROOF_TARGET_MS)
            row(e, f"verify_inclusion (no database; {proofs['inclusion_hashes']:.0f} hashes "
                "on average)", _us(proofs["verify_inclusion"]), "—", "—",
                "none (information)", None)
            row(e, f"verify_consistency (no database; {proofs['consistency_hashes']:.0f} "
                "hashes on average)", _us(proofs["verify_consistency"]), "—", "—",
                "none (information)", None)
    return "\n".join(lines)


def header(job: Job, runs: Sequence[EngineRun], pg: dict[str, str] | None,
           version: str) -> str:
    return report_header(
        "audit", run_loads(runs), pg, version,
        f"data: {job.facts:,} facts on {job.tracks:,} tracks (projection.py's data set)"
        f"; engines: {', '.join(run.engine for run in runs)}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--facts", type=int, default=None,
                        help="facts in the store (default 1,000,000; --quick: 50,000)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 50,000 facts")
    parser.add_argument("--engines", default="sqlite",
                        help="comma-separated: sqlite, postgresql (default: sqlite)")
    parser.add_argument("--calls", type=int, default=200,
                        help="timed calls of each tree head / proof (default 200)")
    add_run_arguments(parser, profiled="verify")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    engines, facts = engines_and_facts(args)
    job = Job(facts=facts, track_facts=min(10_000, facts // 5), tracks=N_TRACKS,
              current_calls=0, big_current_calls=0, cut_calls=0)
    pg = pg_settings(args.pg_url) if "postgresql" in engines else None
    version = git_commit()
    started = time.perf_counter()
    runs = [run_engine(engine, job, args, started) for engine in engines]
    if git_commit() != version:  # the steps are forks of this process: they ran its code
        print(f"NOTE: eventstore's sources changed on disk during the run; every step ran the "
              f"code imported when it started ({version})")
    report = [header(job, runs, pg, version), "", table(runs, args.calls)]
    for run in runs:
        report += [f"- {run.engine}: {note}" for note in run.notes]
    report.append(f"\ntotal time {time.perf_counter() - started:,.0f} s")
    publish("\n".join(report), args.output, args.json_path,
            {"job": asdict(job), "postgresql": pg, "version": version,
             "runs": [{"engine": r.engine, "notes": r.notes, "results": r.results}
                      for r in runs]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
