"""How long an event takes from commit to a subscriber: median and p99 (docs/following.md).

    python examples/follow_latency.py                      # a fresh SQLite file
    python examples/follow_latency.py --db postgresql+psycopg://postgres@127.0.0.1/test

A writer process appends ``--count`` single-fact appends, one every ``--pace`` seconds,
and notes the moment each ``append`` call returned (the commit is just before it); this
process follows the log with ``store.subscribe`` and notes the moment each event is
handed over. Both clocks are the machine's monotonic clock. The database is created when
missing; the facts go to the track ``RUS-USA``, citing the Geneva sample article.

First, what a subscriber costs while it waits: one subscription, caught up, left alone
for ``--idle`` seconds; the statements it sent through the store's engine per second
(SQLite's ``PRAGMA data_version``, on a connection of its own, is one per poll and not
among them) and the CPU its process used per second.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from eventstore import EventStore

HERE = Path(__file__).resolve().parent
ARTICLE = HERE / "corpus" / "000_86bc20a7cdb98149.txt"
QUOTE = "ont eu jeudi une rencontre à Genève"


def write(url: str, source: str, count: int, pace: float, returned: Any) -> None:
    with EventStore.open(url, actor="latency-writer") as store:
        for number in range(count):
            fact = {"type": "meeting.cancelled", "track": "RUS-USA", "date": "2018-08-23",
                    "data": {"key": f"latency-{number}"},
                    "citations": [{"source": source, "quote": QUOTE}]}
            (position,) = store.append("RUS-USA", [fact]).positions
            returned.put((position, time.monotonic()))
            time.sleep(pace)


def idle_cost(url: str, seconds: float) -> dict[str, float]:
    """Statements and CPU per second of a caught-up subscription left waiting."""
    with EventStore.open(url, create=True, actor="latency") as store:
        statements = [0]

        def count(*_: Any) -> None:
            statements[0] += 1

        sa.event.listen(store.engine, "before_cursor_execute", count)
        subscription = store.subscribe(store.head()[0])
        reader = threading.Thread(target=lambda: list(subscription))
        reader.start()
        subscription.caught_up.wait(30)
        time.sleep(1.0)  # settled
        statements[0], cpu, started = 0, time.process_time(), time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - started
        result = {"statements_per_s": statements[0] / elapsed,
                  "cpu_ms_per_s": (time.process_time() - cpu) * 1000 / elapsed}
        subscription.stop()
        reader.join()
        subscription.close()
    return result


def measure(url: str, count: int, pace: float) -> dict[str, float]:
    with EventStore.open(url, create=True, actor="latency") as store:
        source = store.add_source(ARTICLE.read_bytes()).id
        head, _ = store.head()
        ctx = mp.get_context("spawn")
        returned = ctx.Queue()
        writer = ctx.Process(target=write, args=(url, source, count, pace, returned))
        delivered: dict[int, float] = {}
        with store.subscribe(head) as subscription:
            writer.start()
            for event in subscription:
                delivered[event.position] = time.monotonic()
                if len(delivered) == count:
                    break
        writer.join()
        commits = dict(returned.get() for _ in range(count))
    latencies = sorted((delivered[p] - commits[p]) * 1000 for p in commits)
    return {"median_ms": statistics.median(latencies),
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
            "max_ms": latencies[-1], "min_ms": latencies[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="database URL [default: a new SQLite file]")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--pace", type=float, default=0.01,
                        help="seconds between two appends [default: 0.01]")
    parser.add_argument("--idle", type=float, default=10.0,
                        help="seconds a caught-up subscriber is watched waiting [default: 10]")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/latency.db"
    if args.idle > 0:
        cost = idle_cost(url, args.idle)
        print(f"{url.split(':')[0]}: a waiting subscriber, over {args.idle:.0f} s: "
              + ", ".join(f"{k} {v:.2f}" for k, v in cost.items()))
    result = measure(url, args.count, args.pace)
    print(f"{url.split(':')[0]}: {args.count} appends, commit to delivery: "
          + ", ".join(f"{k} {v:.1f}" for k, v in result.items()))


if __name__ == "__main__":
    main()
