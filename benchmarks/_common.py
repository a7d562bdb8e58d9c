"""What the benchmarks share: where a run writes, forked children, timing, statements
counted, the description of the code and the machine, another commit's package
(``--rev``), report headers, and the options of a run.

``append.py``, ``projection.py``, ``audit.py`` and ``cli.py`` import it (a script's folder
is on ``sys.path`` when it runs). Data sets stay in the script that defines them.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import hashlib
import importlib.metadata
import io
import json
import multiprocessing
import os
import platform
import pstats
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def default_pg_url() -> str:
    """``$EVENTSTORE_BENCH_PG_URL``, else ``$EVENTSTORE_TEST_PG_URL``, else the local test one."""
    return (os.environ.get("EVENTSTORE_BENCH_PG_URL") or os.environ.get("EVENTSTORE_TEST_PG_URL")
            or DEFAULT_PG_URL)


# -- where a run writes ------------------------------------------------------------------


@dataclass
class Place:
    """A fresh SQLite file or a fresh PostgreSQL schema, for the store or for eventsourcing."""

    engine: str
    url: str
    path: str | None = None
    schema: str | None = None
    #: psycopg's connection arguments (PostgreSQL), the schema first on the search path.
    conninfo: dict[str, Any] = field(default_factory=dict)

    def es_environment(self) -> dict[str, str]:
        """The environment that points an ``eventsourcing`` application here."""
        if self.engine == "sqlite":
            assert self.path is not None
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": self.path,
                    "SQLITE_LOCK_TIMEOUT": "60"}
        info = self.conninfo
        return {"PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": str(info["dbname"]), "POSTGRES_HOST": str(info["host"]),
                "POSTGRES_PORT": str(info["port"]), "POSTGRES_USER": str(info["user"]),
                "POSTGRES_PASSWORD": str(info["password"]),
                "POSTGRES_SCHEMA": str(self.schema), "POSTGRES_LOCK_TIMEOUT": "60"}


def sqlite_place(path: str) -> Place:
    return Place("sqlite", f"sqlite:///{path}", path=path)


def schema_place(pg_url: str, schema: str) -> Place:
    """The place of ``schema`` in the database of ``pg_url`` (which must hold it)."""
    separator = "&" if "?" in pg_url else "?"
    url = f"{pg_url}{separator}options={url_quote(f'-csearch_path={schema}')}"
    parsed = sa.make_url(pg_url)
    conninfo = {"host": parsed.host or "127.0.0.1", "port": parsed.port or 5432,
                "user": parsed.username or "postgres", "dbname": parsed.database,
                "password": parsed.password or "", "options": f"-csearch_path={schema}"}
    return Place("postgresql", url, schema=schema, conninfo=conninfo)


def _admin(pg_url: str) -> sa.Engine:
    return sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")


def create_schema(pg_url: str, schema: str) -> Place:
    admin = _admin(pg_url)
    try:
        with admin.connect() as conn:
            conn.execute(sa.schema.CreateSchema(schema))
    finally:
        admin.dispose()
    return schema_place(pg_url, schema)


def drop_schema(pg_url: str, schema: str) -> None:
    admin = _admin(pg_url)
    try:
        with admin.connect() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
    finally:
        admin.dispose()


@contextmanager
def temp_folder(prefix: str, workdir: str | None = None, keep: bool = False) -> Iterator[str]:
    """A new folder, removed afterwards unless ``keep`` (then its path goes to stderr)."""
    folder = tempfile.mkdtemp(prefix=prefix, dir=workdir)
    try:
        yield folder
    finally:
        if keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def fresh_places(engine: str, pg_url: str, workdir: str | None, keep: bool, benchmark: str,
                 names: Sequence[str]) -> Iterator[list[Place]]:
    """One fresh place per name: SQLite files ``NAME.db`` in a new folder, or PostgreSQL
    schemas ``bench_BENCHMARK_RUN_NAME``; removed (dropped) afterwards unless ``keep``."""
    if engine == "sqlite":
        with temp_folder(f"eventstore-{benchmark}-", workdir, keep) as folder:
            yield [sqlite_place(os.path.join(folder, f"{name}.db")) for name in names]
        return
    run = os.urandom(4).hex()
    schemas = [f"bench_{benchmark}_{run}_{name}" for name in names]
    made: list[str] = []
    try:
        for schema in schemas:
            create_schema(pg_url, schema)
            made.append(schema)
        yield [schema_place(pg_url, schema) for schema in schemas]
    finally:
        if keep:
            print(f"kept schemas {', '.join(made)}", file=sys.stderr)
        else:
            for schema in made:
                drop_schema(pg_url, schema)


# -- forked children ---------------------------------------------------------------------


class Hung(Exception):
    """A step did not finish within the timeout (its child was killed)."""


def in_child(name: str, step: Callable[..., dict[str, Any]], *args: Any,
             timeout: float | None, profile_dir: str | None = None) -> dict[str, Any]:
    """Run ``step(*args)`` in a forked child (so its peak RSS is its own); its result with
    ``wall_s``, or RuntimeError (it failed) / :class:`Hung` (it outlived ``timeout``).

    A result's ``profile_stats`` (a ``cProfile.Profile``) is dumped to ``profile_dir``.
    """
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def run() -> None:
        try:
            result = step(*args)
            stats = result.pop("profile_stats", None)
            if stats is not None and profile_dir:
                path = Path(profile_dir) / f"{name}.prof"
                path.parent.mkdir(parents=True, exist_ok=True)
                stats.dump_stats(str(path))
                result["profile"] = str(path)
            send.send(("ok", result))
        except BaseException as err:  # report, never hang the parent
            send.send(("error", f"{type(err).__name__}: {err}\n{traceback.format_exc()}"))
        finally:
            send.close()

    process = context.Process(target=run, name=name)
    started = time.perf_counter()
    process.start()
    send.close()
    if not receive.poll(timeout):
        process.kill()
        process.join()
        raise Hung(f"{name}: no result after {timeout:g} s; the child was killed")
    try:
        status, payload = receive.recv()
    except EOFError:
        status, payload = "error", f"the child died (exit code {process.exitcode})"
    process.join()
    if status != "ok":
        raise RuntimeError(f"{name}: {payload}")
    result: dict[str, Any] = payload
    result["wall_s"] = time.perf_counter() - started
    return result


@dataclass
class EngineRun:
    """The results of one engine's steps, by step name, and notes on what went wrong."""

    engine: str
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def run_loads(runs: Sequence[EngineRun]) -> list[float]:
    """The load averages recorded when the steps began and ended."""
    return [r[key] for run in runs for r in run.results.values()
            for key in ("load", "load_end") if key in r]


# -- timing and memory -------------------------------------------------------------------


def rss_kib() -> int:
    with open("/proc/self/statm") as statm:  # noqa: PTH123
        return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def write_bytes() -> int:
    """``write_bytes`` of ``/proc/self/io``: the bytes this process caused to be sent to
    storage so far (0 where the kernel does not count them)."""
    try:
        with open("/proc/self/io") as io_counts:  # noqa: PTH123
            for line in io_counts:
                name, _, value = line.partition(":")
                if name == "write_bytes":
                    return int(value)
    except OSError:
        pass
    return 0


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def load_average() -> float:
    """The load average over the last minute."""
    return os.getloadavg()[0]


def profile_text(profile: cProfile.Profile, top: int) -> str:
    """The ``top`` functions by cumulative time, then by own time."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


class Clock:
    """The time of one block, and its profile when asked for."""

    def __init__(self, top: int) -> None:
        self.top = top
        self.seconds = 0.0
        self.cpu_seconds = 0.0  # of this process: the rest of ``seconds`` waited on the database
        self.profile: cProfile.Profile | None = None

    def profile_result(self) -> dict[str, Any]:
        if self.profile is None:
            return {}
        return {"profile_text": profile_text(self.profile, self.top),
                "profile_stats": self.profile}


@contextmanager
def timed(profile: bool = False, top: int = 25) -> Iterator[Clock]:
    """Time the block (wall and CPU), under cProfile if ``profile``."""
    clock = Clock(top)
    gc.collect()
    if profile:
        clock.profile = cProfile.Profile()
        clock.profile.enable()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        yield clock
    finally:
        clock.seconds = time.perf_counter() - started
        clock.cpu_seconds = time.process_time() - cpu
        if clock.profile is not None:
            clock.profile.disable()


def summary(samples: Sequence[float]) -> dict[str, float]:
    """Median, p95, min and max of durations in seconds, in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"median_ms": statistics.median(ordered) * 1000, "p95_ms": p95 * 1000,
            "min_ms": ordered[0] * 1000, "max_ms": ordered[-1] * 1000, "calls": len(ordered)}


# -- the code and the machine ------------------------------------------------------------


def sources_digest(root: Path | None = None) -> str:
    """A digest of the package's sources (the working tree may differ from the commit);
    by default those of the package measured (:func:`package_root`)."""
    root = package_root() if root is None else root
    digest = hashlib.sha256()
    for path in sorted((root / "eventstore").rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _git(*args: str) -> str:
    out = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                         check=True, timeout=10)
    return out.stdout.strip()


def git_commit(rev: str | None = None, sources: Path | None = None) -> str:
    """The commit (``git rev-parse``; ``-dirty`` when tracked files differ from it), and a
    digest of the package's sources. ``rev``: another commit, whose sources are in
    ``sources``. In a script run again by :func:`rerun_at_rev`, by default the commit and
    sources it was given."""
    if rev is None and os.environ.get(REV_ENV):
        rev = os.environ[REV_ENV]
        sources = package_root()
    sources = ROOT if sources is None else sources
    try:
        commit = _git("rev-parse", "--short", rev or "HEAD")
        if rev is None and _git("status", "--porcelain", "--untracked-files=no"):
            commit += "-dirty"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return f"{commit} (sources sha256 {sources_digest(sources)[:12]})"


def commit_date(rev: str) -> str:
    """The commit date of ``rev`` (YYYY-MM-DD), or "" when git cannot tell."""
    try:
        return _git("show", "-s", "--format=%cs", rev)
    except (OSError, subprocess.SubprocessError):
        return ""


def git_archive(rev: str, folder: str, *paths: str) -> None:
    """The files of ``paths`` at commit ``rev``, written below ``folder``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev, *paths],
                             capture_output=True, check=True, timeout=60).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True, timeout=60)


# -- another commit's package (--rev) ----------------------------------------------------

#: Set by :func:`rerun_at_rev` for the script it runs again: the commit measured, and the
#: folder holding its ``eventstore/`` and ``migrations/``.
REV_ENV = "EVENTSTORE_BENCH_REV"
SOURCES_ENV = "EVENTSTORE_BENCH_SOURCES"


def package_root() -> Path:
    """The folder whose ``eventstore/`` is measured: another commit's (``--rev``), else
    this checkout."""
    folder = os.environ.get(SOURCES_ENV)
    return Path(folder) if folder else ROOT


@contextmanager
def package_at(rev: str | None, benchmark: str) -> Iterator[tuple[str | None, str]]:
    """The ``PYTHONPATH`` that runs the package at ``rev`` (None: this checkout, as
    installed), and the commit named in the report: ``git archive`` of the commit's
    ``eventstore/`` and ``migrations/`` into a new folder, removed afterwards."""
    if rev is None:
        yield None, git_commit()
        return
    with temp_folder(f"eventstore-{benchmark}-rev-") as sources:
        git_archive(rev, sources, "eventstore", "migrations")
        yield sources, git_commit(rev, Path(sources))


def add_rev_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rev", default=None,
                        help="measure the package as it was at this commit (git archive of "
                             "its eventstore/ and migrations/, first on PYTHONPATH; this "
                             "script and its data set stay as they are); default: this "
                             "checkout")


def without_rev(argv: Sequence[str]) -> list[str]:
    """``argv`` less its ``--rev REV`` / ``--rev=REV``."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--rev":
            skip = True
        elif not arg.startswith("--rev="):
            out.append(arg)
    return out


def rerun_at_rev(rev: str, script: str, argv: Sequence[str] | None) -> int:
    """Run ``script`` again, in a new interpreter, with ``argv`` (default: this process's)
    less ``--rev``, and the package at ``rev`` first on its ``PYTHONPATH``; its exit code.

    The script's own code (and so its data set) is this checkout's; only the package
    measured is the other commit's. The new process sees :data:`REV_ENV` and
    :data:`SOURCES_ENV`, so its report names that commit (:func:`git_commit`) and
    :func:`check_package` can make sure that package is the one imported.
    """
    arguments = without_rev(sys.argv[1:] if argv is None else argv)
    benchmark = Path(script).stem
    with package_at(rev, benchmark) as (sources, version):
        assert sources is not None
        print(f"{benchmark}: measuring eventstore {version}", file=sys.stderr, flush=True)
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            [sources, *filter(None, [environment.get("PYTHONPATH")])])
        environment[REV_ENV] = rev
        environment[SOURCES_ENV] = sources
        return subprocess.run([sys.executable, script, *arguments], env=environment).returncode


def check_package() -> None:
    """Refuse to run if another commit was asked for (``--rev``) but the ``eventstore``
    imported is not that commit's (the path would then measure the wrong code)."""
    folder = os.environ.get(SOURCES_ENV)
    if not folder:
        return
    import eventstore

    imported = Path(eventstore.__file__).resolve()
    if not imported.is_relative_to(Path(folder).resolve()):
        raise SystemExit(f"--rev {os.environ.get(REV_ENV)}: eventstore was imported from "
                         f"{imported}, not from {folder}")


# -- statements sent to the database -----------------------------------------------------


@dataclass
class Statements:
    """What the code sent through SQLAlchemy's cursor while counted: figures the machine's
    load cannot move."""

    #: Cursor executions (an ``executemany`` counts once).
    statements: int = 0
    #: Of those, ``SELECT``s (and ``WITH …``, ``PRAGMA``).
    reads: int = 0
    #: Parameter sets sent with ``INSERT``, ``UPDATE`` and ``DELETE`` (rows written or
    #: changed, at most).
    write_rows: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"statements": self.statements, "reads": self.reads,
                "write_rows": self.write_rows}


@contextmanager
def counting_statements(engine: sa.Engine) -> Iterator[Statements]:
    """Count what ``engine``'s connections execute within the block."""
    counted = Statements()

    def count(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
              executemany: bool) -> None:
        counted.statements += 1
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if verb in ("SELECT", "WITH", "PRAGMA"):
            counted.reads += 1
        elif verb in ("INSERT", "UPDATE", "DELETE"):
            counted.write_rows += len(parameters) if executemany else 1

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield counted
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def pg_settings(pg_url: str) -> dict[str, str]:
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            return {name: str(conn.exec_driver_sql(f"SHOW {name}").scalar())
                    for name in ("server_version", "fsync", "synchronous_commit",
                                 "wal_sync_method", "full_page_writes")}
    finally:
        engine.dispose()


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo), or "unknown CPU"."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def versions(packages: Sequence[str] = ("sqlalchemy", "psycopg", "eventsourcing")) -> str:
    parts = [f"Python {platform.python_version()}", f"SQLite {sqlite3.sqlite_version}"]
    for name in packages:
        parts.append(f"{name} {importlib.metadata.version(name)}")
    return ", ".join(parts)


def now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def report_header(benchmark: str, loads: Sequence[float], pg: dict[str, str] | None,
                  version: str, data: str,
                  packages: Sequence[str] = ("sqlalchemy", "psycopg", "eventsourcing")) -> str:
    """The lines above a report's table: when, which code, the machine and its load while
    the steps ran, the ``data`` line, and PostgreSQL's durability settings."""
    shown = f"{min(loads):.1f} to {max(loads):.1f}" if loads else "n/a"
    lines = [f"eventstore {benchmark} benchmark — {now_text()}, eventstore {version}",
             f"machine: {os.cpu_count()} CPUs ({cpu_model()}); {versions(packages)}; load "
             f"average (1 min) when the steps began and ended: {shown}",
             data]
    if pg is not None:
        lines.append(f"PostgreSQL {pg['server_version']}: fsync={pg['fsync']}, "
                     f"synchronous_commit={pg['synchronous_commit']}")
    return "\n".join(lines)


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("pass" if ok else "**FAIL**")


def publish(text: str, output: str | None, json_path: str | None, figures: Any) -> None:
    """The report to stdout (and to ``output``), the raw ``figures`` as JSON to ``json_path``."""
    print(text)
    if output:
        Path(output).write_text(text + "\n")
    if json_path:
        Path(json_path).write_text(json.dumps(figures, indent=2, default=str))


# -- the options of a run ----------------------------------------------------------------


def add_run_arguments(parser: argparse.ArgumentParser, *, profiled: str) -> None:
    """The options of where a run writes, how long a step may take, and its outputs."""
    parser.add_argument("--pg-url", default=default_pg_url())
    parser.add_argument("--workdir", default=None,
                        help="where the SQLite files go (default: the system temp folder)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the SQLite files / PostgreSQL schemas (paths on stderr)")
    parser.add_argument("--timeout", type=float, default=7_200.0,
                        help="seconds after which a step is killed (default 7,200; 0: none)")
    parser.add_argument("--profile", dest="profile_dir", default=None,
                        help=f"then profile {profiled} once more under cProfile (not timed); "
                             ".prof files go to this folder")
    parser.add_argument("--output", default=None, help="also write the report to this file")
    parser.add_argument("--json", dest="json_path", default=None,
                        help="also write the raw figures as JSON to this file")


def parse_engines(text: str) -> list[str]:
    engines = [e.strip() for e in text.split(",") if e.strip()]
    for engine in engines:
        if engine not in ("sqlite", "postgresql"):
            raise SystemExit(f"unknown engine {engine!r} (sqlite, postgresql)")
    return engines


def engines_and_facts(args: argparse.Namespace) -> tuple[list[str], int]:
    """``--engines`` checked, and ``--facts`` (or the default of ``--quick`` or a full run)."""
    engines = parse_engines(args.engines)
    facts = args.facts or (50_000 if args.quick else 1_000_000)
    if facts < 1_000:
        raise SystemExit("--facts: at least 1,000")
    return engines, facts
