"""What every migration that moves the log's rows does (0008_lean, 0012_tree_in_events).

A migration that rewrites stored rows refuses to start on a log whose ``verify`` fails,
verifies it again before it commits (:func:`verified`), and works a page of positions at
a time with a progress bar on stderr (:func:`in_pages`), in bounded memory. The schema
changes themselves (tables, indexes, triggers) stay in each migration, as they were at
its revision.
"""

from __future__ import annotations

import sys
from typing import Any, Literal

import sqlalchemy as sa

from ..errors import IntegrityError
from . import tree
from .schema import BEFORE_0012, NodeColumns
from .verify import verify_connection

__all__ = ["PAGE", "verified", "in_pages"]

#: Positions moved per statement.
PAGE = 5_000


def verified(conn: sa.Connection, migration: str, when: Literal["before", "after"],
             kept: NodeColumns) -> None:
    """Refuse (raise :class:`IntegrityError`) unless the log checks out, its tree read
    where ``kept`` says. Before, a log written before the tree (0002) gets its
    ``merkle_nodes`` rows first, as its next append would have given them."""
    head = conn.execute(sa.text("SELECT max(position) FROM events")).scalar() or 0
    if not head:
        return
    if when == "before" and tree.tree_size(conn, BEFORE_0012) < head:
        tree.extend(conn, head)
    report = verify_connection(conn, kept=kept)
    if not report.ok:
        raise IntegrityError(f"{migration}: the log does not verify {when} the migration "
                             f"({report.first}); nothing was changed. Run `eventstore audit "
                             "verify` to see every problem")


def in_pages(conn: sa.Connection, statement: Any, label: str) -> tuple[int, int]:
    """Run ``statement`` (bound by ``after`` and ``upto``) over every page of positions up
    to the log's head, with a progress bar labelled ``label``; returns (the rows it
    touched, the events the log holds) for the caller to compare."""
    total = conn.execute(sa.text("SELECT count(*) FROM events")).scalar() or 0
    head = conn.execute(sa.text("SELECT max(position) FROM events")).scalar() or 0
    bar = _progress(total)
    if bar is not None:
        bar.start()
        task = bar.add_task(label, total=total)
    done = 0
    try:
        after = 0
        while after < head:
            upto = after + PAGE
            count = conn.execute(statement, {"after": after, "upto": upto}).rowcount
            done += count
            if bar is not None:
                bar.advance(task, count)
            after = upto
    finally:
        if bar is not None:
            bar.stop()
    return done, total


def _progress(total: int) -> Any:
    """A progress bar on stderr (rich), or None for an empty log."""
    if not total:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress("[progress.description]{task.description}", BarColumn(),
                    MofNCompleteColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), transient=False,
                    disable=not sys.stderr.isatty())
