#!/usr/bin/env python3
"""Start-up time of the ``eventstore`` command line, against the interpreter's own floors.

Run on demand (this is not a test)::

    .venv/bin/python benchmarks/cli.py                 # 10 runs of each command (~1 min)
    .venv/bin/python benchmarks/cli.py --runs 20 --output cli.md

It builds the worked example with ``examples/build.sh`` into a new folder (an SQLite
``facts.db``, removed afterwards), then times whole processes, each from its start to its
exit, its output thrown away:

``eventstore --version``, ``eventstore --help``
    judged against ``python -c "import click"``: a command line that does nothing else
    should cost little more than its parser (target: within 1.5×);
``eventstore project --track RUS-USA``, ``eventstore history --track RUS-USA``
    judged against ``python -c "import sqlalchemy"``: a command that reads the database
    should cost little more than loading the database toolkit (target: within 1.5×);

and, for scale, ``python -c pass``. The commands run in turn, one of each per round, for
``--runs`` rounds (after one untimed round that warms the file cache and writes the
package's bytecode caches, even under ``PYTHONDONTWRITEBYTECODE``, as an installed
package has them), so that the machine's changing load falls on all of them alike; each
row is the median of its runs.
The interpreter is the one running this script, the console script the one beside it.
``--rev REV`` times the package as it was at commit ``REV`` instead (``git archive`` of its
``eventstore/`` and ``migrations/``, first on ``PYTHONPATH`` for the eventstore commands and
the build), so that a before and an after are measured on the same machine minutes apart.
Results: a Markdown table on stdout (``--output FILE`` writes it there too), ``--json
FILE`` for every run's time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# The helpers every benchmark shares (this script's folder is on sys.path when it runs).
from _common import (
    ROOT,
    load_average,
    package_at,
    publish,
    report_header,
    temp_folder,
    verdict,
)

TARGET = 1.5  # × the floor
TRACK = "RUS-USA"


@dataclass(frozen=True)
class Row:
    label: str
    argv: tuple[str, ...]
    #: The label of the row this one is judged against (None: a floor itself).
    floor: str | None = None


def rows(python: str, eventstore: str) -> list[Row]:
    click, sqlalchemy = 'python -c "import click"', 'python -c "import sqlalchemy"'
    return [
        Row("python -c pass", (python, "-c", "pass")),
        Row(click, (python, "-c", "import click")),
        Row(sqlalchemy, (python, "-c", "import sqlalchemy")),
        Row("eventstore --version", (eventstore, "--version"), click),
        Row("eventstore --help", (eventstore, "--help"), click),
        Row(f"eventstore project --track {TRACK}", (eventstore, "project", "--track", TRACK),
            sqlalchemy),
        Row(f"eventstore history --track {TRACK}", (eventstore, "history", "--track", TRACK),
            sqlalchemy),
    ]


def console_script() -> str:
    """The ``eventstore`` script installed beside this interpreter."""
    found = Path(sys.executable).parent / "eventstore"
    if not found.exists():
        raise SystemExit(f"{found}: no eventstore console script beside this Python; "
                         "install the package (pip install -e .) first")
    return str(found)


def build_example(folder: str, eventstore: str, pythonpath: str | None) -> None:
    """``examples/build.sh`` in ``folder``: the store is ``folder/facts.db``."""
    environment = _environment(pythonpath) | {"EVENTSTORE": eventstore}
    done = subprocess.run(["bash", str(ROOT / "examples" / "build.sh")], cwd=folder,
                          env=environment, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"examples/build.sh failed ({done.returncode}):\n{done.stderr}")


def _environment(pythonpath: str | None) -> dict[str, str]:
    """This environment without a database URL (the store is ./facts.db), and with
    bytecode caches allowed: the untimed round leaves the package compiled, as an
    installed one is (the floors' packages are)."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("EVENTSTORE_URL", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    if pythonpath is not None:
        environment["PYTHONPATH"] = pythonpath
    return environment


def run_once(row: Row, folder: str, pythonpath: str | None) -> float:
    environment = _environment(None if row.floor is None else pythonpath)
    started = time.perf_counter()
    done = subprocess.run(row.argv, cwd=folder, env=environment,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{row.label} failed ({done.returncode}): "
                         f"{done.stderr.decode(errors='replace')}")
    return seconds


def measure(table: Sequence[Row], folder: str, runs: int,
            pythonpath: str | None) -> dict[str, list[float]]:
    """Every row once per round (the first round untimed), ``runs`` rounds."""
    times: dict[str, list[float]] = {row.label: [] for row in table}
    for rounds in range(runs + 1):
        for row in table:
            seconds = run_once(row, folder, pythonpath)
            if rounds:
                times[row.label].append(seconds)
        print(f"round {rounds}/{runs}", file=sys.stderr, flush=True)
    return times


def report(table: Sequence[Row], times: dict[str, list[float]]) -> str:
    lines = ["| command | median ms (min–max) | floor | floor median ms | ratio | target "
             "| result |", "|---|---:|---|---:|---:|---|---|"]
    medians = {label: statistics.median(samples) * 1000 for label, samples in times.items()}
    for row in table:
        samples = times[row.label]
        measured = (f"{medians[row.label]:,.0f} ({min(samples) * 1000:,.0f}–"
                    f"{max(samples) * 1000:,.0f})")
        if row.floor is None:
            lines.append(f"| `{row.label}` | {measured} | — | — | — | floor | — |")
            continue
        ratio = medians[row.label] / medians[row.floor]
        lines.append(f"| `{row.label}` | {measured} | `{row.floor}` "
                     f"| {medians[row.floor]:,.0f} | {ratio:.2f}× | ≤ {TARGET:g}× "
                     f"| {verdict(ratio <= TARGET)} |")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10,
                        help="timed runs of each command, interleaved (default 10)")
    parser.add_argument("--rev", default=None,
                        help="time the package as it was at this commit (default: this "
                             "checkout, as installed)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the folder with the example store (its path on stderr)")
    parser.add_argument("--output", default=None, help="also write the report to this file")
    parser.add_argument("--json", dest="json_path", default=None,
                        help="also write every run's time as JSON to this file")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.runs < 1:
        raise SystemExit("--runs: at least 1")
    if shutil.which("bash") is None:
        raise SystemExit("examples/build.sh needs bash")
    eventstore = console_script()
    table = rows(sys.executable, eventstore)
    with package_at(args.rev, "cli") as (pythonpath, version), \
            temp_folder("eventstore-cli-", keep=args.keep) as folder:
        build_example(folder, eventstore, pythonpath)
        loads = [load_average()]
        times = measure(table, folder, args.runs, pythonpath)
        loads.append(load_average())
    header = report_header(
        "cli", loads, None, version,
        f"store: examples/build.sh into a new folder (SQLite); each command the median of "
        f"{args.runs} runs, the commands interleaved (after one untimed round); python is "
        f"{sys.executable}", packages=("click", "sqlalchemy", "alembic"))
    text = f"{header}\n\n{report(table, times)}"
    publish(text, args.output, args.json_path,
            {"version": version, "runs": args.runs, "loads": loads,
             "times_s": times, "argv": {row.label: list(row.argv) for row in table}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
