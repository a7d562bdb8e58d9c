"""``eventstore follow``: print each new event as one JSON line, as it commits.

Loaded lazily by the root group (``COMMANDS``); imports click and the light helpers of
``cli/`` at its top, and the library inside the command, like the other command modules.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from .base import open_store
from .options import db_option

if TYPE_CHECKING:
    from .. import Consumer, RecordedEvent, Subscription


@click.command()
@click.option("--from", "from_position", type=click.IntRange(min=0), metavar="POSITION",
              help="Print the events after this position (0: the whole log) [default: the "
                   "log's head: only new events].")
@click.option("--consumer", "consumer_name", metavar="NAME",
              help="Follow as the named consumer: start after its stored position, and store "
                   "the position after each line is written (at least once).")
@click.option("--create", is_flag=True,
              help="With --consumer: create it if it does not exist, starting after --from "
                   "(default 0).")
@click.option("--track", "tracks", multiple=True,
              help="Only this track (repeatable); a bilateral track includes the events of "
                   "the multilateral streams with both its countries.")
@click.option("--type", "types", multiple=True, help="Only this fact type (repeatable).")
@click.option("--until-caught-up", is_flag=True,
              help="Stop once every event committed so far has been printed.")
@db_option
def follow(from_position: int | None, consumer_name: str | None, create: bool,
           tracks: Sequence[str], types: Sequence[str], until_caught_up: bool,
           db: str | None) -> None:
    """Print each event as one JSON line as it is appended, until Ctrl-C."""
    if consumer_name is None and create:
        raise click.UsageError("--create goes with --consumer NAME")
    if consumer_name is not None and from_position is not None and not create:
        raise click.UsageError("--from and --consumer go together only with --create (a "
                               "consumer resumes from its stored position)")
    with open_store(db) as store:
        consumer: Consumer | None = None
        subscription: Subscription

        def caught_up(position: int) -> None:
            if consumer is not None:
                consumer.commit(position)  # past the events the filters left out
            if until_caught_up:
                subscription.stop()

        if consumer_name is not None:
            consumer = store.consumer(consumer_name, create=create, start=from_position or 0,
                                      tracks=tracks or None, types=types or None)
            subscription = consumer.subscribe(on_caught_up=caught_up)
        else:
            start = store.head()[0] if from_position is None else from_position
            subscription = store.subscribe(start, tracks=tracks or None, types=types or None,
                                           on_caught_up=caught_up)
        try:
            with _stopped_by_signals(subscription):
                for event in subscription:
                    _print(event)
                    if consumer is not None:
                        consumer.commit(event.position)
        finally:
            subscription.close()
            if consumer is not None:
                consumer.close()


def _print(event: RecordedEvent) -> None:
    sys.stdout.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
    sys.stdout.flush()


class _stopped_by_signals:  # noqa: N801 - used as a context manager
    """Ctrl-C (SIGINT) and SIGTERM stop the subscription after the line being written.

    The handler only starts a thread that calls ``stop()``: a signal handler runs between
    two bytecodes of the main thread, which may be holding the subscription's locks.
    """

    def __init__(self, subscription: Subscription) -> None:
        self._subscription = subscription
        self._previous: dict[int, Any] = {}

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=self._subscription.stop, daemon=True).start()

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)

    def __exit__(self, *_: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
