#!/usr/bin/env python3
"""What a writer that signs every append pays (``EventStore(signer=…)``, ``--sign-key``).

Run on demand (this is not a test)::

    .venv/bin/python benchmarks/signing.py                    # both engines, ~1 min
    .venv/bin/python benchmarks/signing.py --engines sqlite --rounds 9 --appends 50

Two stores on fresh databases of the same engine take turns (interleaved rounds), one
without a key and one signing a checkpoint in every append transaction. Each round makes
``--appends`` single-fact appends (one ``statement.made``, one citation) on each; the
figure is the median over rounds of the time per append, and the ratio signed ÷ unsigned
in the same run. Beside it, the figures noise cannot move: SQL statements and rows
written per append (counted from SQLAlchemy's cursor events).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eventstore import EventStore  # noqa: E402
from eventstore.audit.verifier import generate_key  # noqa: E402

ARTICLE = ROOT / "examples" / "corpus" / "000_86bc20a7cdb98149.txt"
PG_URL = os.environ.get("EVENTSTORE_TEST_PG_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _fact(n: int) -> dict[str, Any]:
    return {"type": "statement.made", "track": "RUS-USA", "date": "2018-08-23",
            "data": {"speaker": {"name": "John Bolton", "country": "USA"},
                     "stance": "warning", "content": f"mise en garde numéro {n}"},
            "citations": [{"source": "7c3a6282", "quote": "une rencontre à Genève"}]}


@contextmanager
def _database(engine: str, workdir: str) -> Iterator[str]:
    if engine == "sqlite":
        yield f"sqlite:///{workdir}/{uuid.uuid4().hex}.db"
        return
    schema = f"bench_sign_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.schema.CreateSchema(schema))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True))
        admin.dispose()


class _Counter:
    """SQL statements sent, from the engine's cursor events."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements = 0
        sa.event.listen(engine, "after_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.statements += 1


_TABLES = ("events", "payloads", "citations", "checkpoints")  # the tree is in events (0012)


def _rows(store: EventStore) -> int:
    """Rows in the tables an append writes (names from a fixed list, not from input)."""
    with store.engine.connect() as conn:
        return sum(int(conn.execute(sa.select(sa.func.count()).select_from(
            sa.table(name))).scalar_one()) for name in _TABLES)


def run(engine: str, rounds: int, appends: int, workdir: str) -> dict[str, Any]:
    key = generate_key("bench")
    times: dict[str, list[float]] = {"unsigned": [], "signed": []}
    counts: dict[str, tuple[int, int]] = {}
    with _database(engine, workdir) as plain_url, _database(engine, workdir) as signed_url:
        stores = {"unsigned": EventStore.open(plain_url, create=True, actor="bench"),
                  "signed": EventStore.open(signed_url, create=True, actor="bench",
                                            signer=key)}
        counters = {name: _Counter(store.engine) for name, store in stores.items()}
        for store in stores.values():
            store.add_source(ARTICLE.read_bytes(), title="Genève")
            store.append_many([_fact(0)])  # warm: statements compiled, caches filled
        n = 1
        for _ in range(rounds):
            for name, store in stores.items():
                started = time.perf_counter()
                for _ in range(appends):
                    store.append("RUS-USA", [_fact(n)])
                    n += 1
                times[name].append((time.perf_counter() - started) / appends * 1e3)
        for name, store in stores.items():
            counter, before = counters[name], _rows(store)
            counter.statements = 0
            store.append("RUS-USA", [_fact(n)])
            n += 1
            counts[name] = (counter.statements, _rows(store) - before)
            assert store.verify([key.verifier()]).ok
            store.close()
    return {"times": {k: statistics.median(v) for k, v in times.items()},
            "spread": {k: (min(v), max(v)) for k, v in times.items()}, "counts": counts}


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--appends", type=int, default=40)
    args = parser.parse_args()
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"signed appends, commit {_commit()}, {now}, {os.cpu_count()} cores; "
          f"{args.rounds} interleaved rounds of {args.appends} single appends\n")
    print("| engine | unsigned ms/append | signed ms/append | signed ÷ unsigned | "
          "statements/append (unsigned → signed) | rows/append (unsigned → signed) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as workdir:
        for engine in args.engines.split(","):
            r = run(engine, args.rounds, args.appends, workdir)
            plain, signed = r["times"]["unsigned"], r["times"]["signed"]
            (s0, w0), (s1, w1) = r["counts"]["unsigned"], r["counts"]["signed"]
            print(f"| {engine} | {plain:.2f} ({r['spread']['unsigned'][0]:.2f}–"
                  f"{r['spread']['unsigned'][1]:.2f}) | {signed:.2f} "
                  f"({r['spread']['signed'][0]:.2f}–{r['spread']['signed'][1]:.2f}) | "
                  f"{signed / plain:.2f} | {s0} → {s1} | {w0} → {w1} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
