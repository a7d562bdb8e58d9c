"""A small service that follows one track of the log and raises an alert when a meeting is
cancelled or an invitation declined.

    python examples/alerts.py --db sqlite:///facts.db --track RUS-USA
    python examples/alerts.py --db … --track RUS-USA --until-caught-up   # once, then exit

It runs as the named consumer ``alerts-<TRACK>`` (created on its first run, starting at
the beginning of the log). Each alert line is written to the ``alert_lines`` table of the
same database in the same transaction as the consumer's new position, so every alert is
written exactly once, however often the service is stopped, killed or restarted; it is
also printed. Ctrl-C stops it between two batches (a batch under way is rolled back and
handled again on the next run). See docs/following.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import Any, TextIO

import sqlalchemy as sa

from eventstore import EventStore, RecordedEvent, parse_track

#: What the service reads: the two kinds of bad news, and what lets it describe them.
WATCHED = ("meeting.planned", "meeting.cancelled", "invitation.extended",
           "invitation.declined")

#: The service's own table, beside the store's (created when missing).
metadata = sa.MetaData()
alert_lines = sa.Table(
    "alert_lines", metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("track", sa.String(16), nullable=False),
    sa.Column("line", sa.Text, nullable=False),
)


class Known:
    """The planned meetings and extended invitations seen so far, by key."""

    def __init__(self) -> None:
        self.meetings: dict[str, Any] = {}
        self.invitations: dict[str, Any] = {}

    def learn(self, event: RecordedEvent) -> None:
        if event.type == "meeting.planned":
            self.meetings[event.data.key] = event.data  # type: ignore[union-attr]
        elif event.type == "invitation.extended":
            self.invitations[event.data.key] = event.data  # type: ignore[union-attr]

    def alert(self, event: RecordedEvent) -> str | None:
        """The alert line for ``event``, or None when it is not bad news."""
        data: Any = event.data
        if event.type == "meeting.cancelled":
            planned = self.meetings.get(data.key)
            what = f"{planned.kind.value} at {planned.place or '?'}" if planned else data.key
            news = f"meeting {what} cancelled"
        elif event.type == "invitation.declined":
            extended = self.invitations.get(data.key)
            what = (f"{extended.inviter.name} → {extended.invitee.name}" if extended
                    else data.key)
            news = f"invitation {what} declined"
        else:
            return None
        reason = f" ({data.reason})" if data.reason else ""
        when = event.valid.edtf if event.valid else "?"
        return f"ALERT {event.track} #{event.position}: {news}{reason} [{when}]"


def rebuild(store: EventStore, track: str, upto: int) -> Known:
    """What the service knew when it last stopped: the track's plans up to ``upto``."""
    known = Known()
    for event in store.read_all(track=track, types=["meeting.planned", "invitation.extended"]):
        if event.position > upto:
            break
        known.learn(event)
    return known


def run(store: EventStore, track: str, *, until_caught_up: bool = False,
        out: TextIO = sys.stdout, batch: int = 100) -> int:
    """Follow ``track``, writing alerts; returns how many were written by this run."""
    metadata.create_all(store.engine, checkfirst=True)
    written = 0
    with store.consumer(f"alerts-{track}", create=True, tracks=[track],
                        types=WATCHED) as consumer:
        known = rebuild(store, track, consumer.position)
        try:
            while True:
                with consumer.batch(limit=batch, timeout=0.5) as (events, conn):
                    lines = _handle(events, known)
                    if lines:
                        conn.execute(alert_lines.insert(), [
                            {"position": p, "track": track, "line": line}
                            for p, line in lines])
                for _, line in lines:  # committed: now say it
                    print(line, file=out, flush=True)
                written += len(lines)
                if until_caught_up and consumer.position >= store.head()[0]:
                    return written
        except KeyboardInterrupt:
            return written


def _handle(events: Iterable[RecordedEvent], known: Known) -> list[tuple[int, str]]:
    lines = []
    for event in events:
        known.learn(event)
        line = known.alert(event)
        if line is not None:
            lines.append((event.position, line))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="database URL [default: $EVENTSTORE_URL or facts.db]")
    parser.add_argument("--track", required=True, help="the track to watch, e.g. RUS-USA")
    parser.add_argument("--until-caught-up", action="store_true",
                        help="exit once every event committed so far is handled")
    args = parser.parse_args(argv)
    with EventStore.open(args.db, actor="alerts") as store:
        run(store, parse_track(args.track), until_caught_up=args.until_caught_up)
    return 0


if __name__ == "__main__":
    sys.exit(main())
