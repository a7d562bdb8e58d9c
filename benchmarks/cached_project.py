#!/usr/bin/env python3
"""CPU time of ``store.project(track)`` when the track's state is cached: the store's own
per-call overhead, with the database's and the machine's waits left out.

Run on demand (this is not a test)::

    .venv/bin/python benchmarks/cached_project.py --build /tmp/cached.db   # once (~1 min)
    .venv/bin/python benchmarks/cached_project.py /tmp/cached.db --rev 9ec7f6e
    .venv/bin/python benchmarks/cached_project.py /tmp/cached.db --rev da20103

``--build`` writes ``projection.py``'s data set (``--facts``, default 50,000, 2,000 of
them on RUS-USA) into a new SQLite file and folds its read models. A measurement opens
it, projects every track once (each state decoded and cached), then times ``--calls``
calls of ``project("RUS-USA")`` and as many on random tracks by this process's CPU time,
and prints microseconds per call as JSON. The schema and the projection code version must
be the same at both commits (the store would otherwise refold). ``--rev REV`` measures
the package at commit ``REV`` (see ``_common.rerun_at_rev``); run the two commits
alternately, a new process each time.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
from collections.abc import Sequence

# The helpers every benchmark shares (this script's folder is on sys.path when it runs).
from _common import add_rev_argument, check_package, git_commit, load_average, rerun_at_rev

BIG_TRACK = "RUS-USA"


def build(path: str, facts: int) -> None:
    from projection import BATCH, FactStream

    from eventstore import EventStore

    stream = FactStream(facts, min(2_000, facts // 2))
    store = EventStore.open(f"sqlite:///{path}", create=True, actor="bench")
    try:
        store.add_sources(stream.sources())
        store.append_many(stream.actor_facts())
        for batch in stream.batches(BATCH):
            store.append_many(batch)
        store.rebuild()
    finally:
        store.close()


def measure(path: str, calls: int) -> dict[str, object]:
    from eventstore import EventStore

    store = EventStore.open(f"sqlite:///{path}", actor="bench")
    try:
        tracks = sorted(summary.track for summary in store.tracks())
        for track in tracks:  # every state decoded once: the cache holds them
            store.project(track)
        rng = random.Random(1)
        result: dict[str, object] = {"version": git_commit(), "load": load_average()}
        for label, chosen in (("big_us", [BIG_TRACK] * calls),
                              ("random_us", [rng.choice(tracks) for _ in range(calls)])):
            gc.collect()
            began = time.process_time()
            for track in chosen:
                store.project(track)
            result[label] = round((time.process_time() - began) / calls * 1e6, 1)
        return result
    finally:
        store.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("db", help="the SQLite file")
    parser.add_argument("--build", action="store_true", help="write the data set there first")
    parser.add_argument("--facts", type=int, default=50_000)
    parser.add_argument("--calls", type=int, default=3_000)
    add_rev_argument(parser)
    args = parser.parse_args(argv)
    if args.rev:
        return rerun_at_rev(args.rev, __file__, argv)
    check_package()
    if args.build:
        build(args.db, args.facts)
        return 0
    print(json.dumps(measure(args.db, args.calls)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
