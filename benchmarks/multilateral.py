#!/usr/bin/env python3
"""What a bilateral track's view of multilateral streams costs, in a large log.

Run on demand (this is not a test). Builds a store of ``--facts`` facts on ``--tracks``
bilateral tracks, plus ``--streams`` multilateral streams of three or four countries
(``--stream-facts`` facts each), some of them with both countries of the measured track;
then times, each the median of ``--calls`` calls:

* ``streams``: finding the multilateral streams with both countries of a track
  (``reads.multilateral_streams``: the ``stream_members`` look-up);
* ``probe``: the one statement a cut of a track starts with (its last version, the last
  erasure, and whether a multilateral stream shows on it);
* ``view``: reading a track's view from the log (``reads.view_conn``: its own events and
  its multilateral streams', in position order), against reading its own stream alone
  (``read_conn``), for a track with multilateral streams and one without;
* ``project cut``: ``project(track, as_of=…)`` of a track with and without them;

and prints each statement's query plan, to show that none reads the log from end to
end. ``--engines sqlite,postgresql``; ``--json FILE`` writes the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from _common import default_pg_url, fresh_places, load_average, now_text

from eventstore import EventStore
from eventstore.storage import schema as t
from eventstore.storage.reads import _PROBE_VIEW, multilateral_streams, on_track
from eventstore.storage.rows import EVENT_ROWS

TEXT = ("Moscow, 10 September. The foreign ministers met in Moscow on Thursday for talks, "
        "and agreed to meet again.")
QUOTE = "met in Moscow on Thursday for talks"
COUNTRIES = ["AFG", "ALB", "DZA", "AND", "AGO", "ARG", "ARM", "AUS", "AUT", "AZE", "BHS",
             "BHR", "BGD", "BRB", "BLR", "BEL", "BLZ", "BEN", "BTN", "BOL", "BIH", "BWA",
             "BRA", "BRN", "BGR", "BFA", "BDI", "KHM", "CMR", "CAN", "CPV", "CAF", "TCD",
             "CHL", "CHN", "COL", "COM", "COG", "CRI", "HRV", "CUB", "CYP", "CZE", "DNK",
             "IND", "RUS"]
WITH = "CHN-IND"  # the measured track: multilateral streams show on it
WITHOUT = "AFG-ALB"  # and one they do not


def _fact(track: str, key: str, day: int, source: str) -> dict[str, Any]:
    return {"type": "meeting.held", "track": track,
            "date": (dt.date(2000, 1, 1) + dt.timedelta(days=day)).isoformat(),
            "data": {"key": key, "kind": "talks",
                     "participants": [{"name": "A Minister", "country": track[:3]}]},
            "citations": [{"source": source, "quote": QUOTE}]}


def build(store: EventStore, args: argparse.Namespace) -> None:
    rng = random.Random(7)
    source = store.add_source(TEXT).id
    pairs = [f"{a}-{b}" for a, b in itertools.combinations(sorted(COUNTRIES), 2)]
    tracks = [WITH, WITHOUT] + rng.sample([p for p in pairs if p not in (WITH, WITHOUT)],
                                          args.tracks - 2)
    streams = set()
    while len(streams) < args.streams:
        size = rng.choice([3, 3, 4])
        chosen = rng.sample([c for c in COUNTRIES if c not in ("CHN", "IND")], size)
        if len(streams) % 10 == 0:  # one in ten shows on the measured track
            chosen = ["CHN", "IND", *chosen[: size - 2]]
        if "AFG" in chosen and "ALB" in chosen:
            continue
        streams.add("-".join(sorted(chosen)))
    facts = [_fact(rng.choice(tracks), f"m{i}", i % 7000, source) for i in range(args.facts)]
    facts += [_fact(stream, f"s{i}-{j}", (i * 7 + j) % 7000, source)
              for i, stream in enumerate(sorted(streams)) for j in range(args.stream_facts)]
    rng.shuffle(facts)
    for start in range(0, len(facts), 10_000):
        store.append_many(facts[start:start + 10_000])


def median_ms(call: Callable[[], Any], calls: int) -> float:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def plan(conn: sa.Connection, query: Any, params: dict[str, Any]) -> list[str]:
    """The engine's plan of ``query`` with ``params`` (its lines)."""
    prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
    sql = str(query.params(**params).compile(conn, compile_kwargs={"literal_binds": True}))
    return [" ".join(str(v) for v in row) for row in conn.exec_driver_sql(prefix + sql)]


def measure(store: EventStore, args: argparse.Namespace) -> dict[str, Any]:
    reads = store._reads
    figures: dict[str, Any] = {}
    with store.engine.connect() as conn:
        figures["events"] = conn.execute(sa.select(sa.func.count()).select_from(t.events)).scalar()
        figures["multilateral streams"] = conn.execute(sa.select(sa.func.count(
            sa.distinct(t.stream_members.c.stream)))).scalar()
        found = multilateral_streams(conn, WITH)
        figures[f"streams showing on {WITH}"] = len(found)
        figures[f"streams showing on {WITHOUT}"] = len(multilateral_streams(conn, WITHOUT))
        for track in (WITH, WITHOUT):
            figures[f"streams lookup {track}, ms"] = median_ms(
                lambda track=track: multilateral_streams(conn, track), args.calls)
            first, second = track.split("-")
            figures[f"probe {track}, ms"] = median_ms(lambda track=track, first=first,
                                                      second=second: conn.execute(
                _PROBE_VIEW, {"track": track, "first": first, "second": second}).one(),
                args.calls)
            figures[f"view_conn {track}, ms"] = median_ms(
                lambda track=track: reads.view_conn(conn, track), args.calls // 10 or 1)
            figures[f"read_conn {track} (own stream only), ms"] = median_ms(
                lambda track=track: reads.read_conn(conn, track), args.calls // 10 or 1)
            figures[f"view {track}, events"] = len(reads.view_conn(conn, track))
        view = EVENT_ROWS.where(on_track(WITH)).order_by(t.events.c.position)
        figures["plan: on_track (view_conn, read_all, subscriptions, replay)"] = plan(
            conn, view, {})
        first, second = WITH.split("-")
        figures["plan: probe"] = plan(conn, _PROBE_VIEW, {"track": WITH, "first": first,
                                                          "second": second})
    for track in (WITH, WITHOUT):
        store.project(track, as_of=dt.date(2010, 1, 1))  # decoded once, kept
        figures[f"project cut {track}, ms"] = median_ms(
            lambda track=track: store.project(track, as_of=dt.date(2010, 1, 1)),
            args.calls // 10 or 1)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=200_000)
    parser.add_argument("--tracks", type=int, default=1_000)
    parser.add_argument("--streams", type=int, default=1_000)
    parser.add_argument("--stream-facts", type=int, default=3)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--engines", default="sqlite")
    parser.add_argument("--pg-url", default=default_pg_url())
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"started": now_text(), "load": load_average(),
                               "args": vars(args)}
    for engine in args.engines.split(","):
        with fresh_places(engine, args.pg_url, None, False, "multilateral", ["store"]) as places:
            place = places[0]
            with EventStore.open(place.url, create=True, actor="bench") as store:
                started = time.perf_counter()
                build(store, args)
                built = time.perf_counter() - started
                figures = measure(store, args)
                figures["build, s"] = built
                results[engine] = figures
        for name, value in figures.items():
            if isinstance(value, list):
                print(f"{engine}: {name}:", *value, sep="\n    ")
            else:
                print(f"{engine}: {name}: {value:,.3f}" if isinstance(value, float)
                      else f"{engine}: {name}: {value}")
    results["load after"] = load_average()
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as out:
            json.dump(results, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
