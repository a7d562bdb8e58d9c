"""What every command module shares: groups that turn the library's refusals into one
clean error line, the lazily loading group, and opening the store.

Imports click, the error classes and :mod:`eventstore.collector` (standard library only):
the command line must start without loading
the library's heavier parts (SQLAlchemy, Alembic, the EDTF grammar, cryptography), which
each command imports when it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ..collector import gc_paused
from ..errors import EventStoreError
from .options import SIGN_KEY_META

if TYPE_CHECKING:
    from .. import EventStore


def fail(message: str) -> NoReturn:
    raise click.ClickException(message)


class Group(click.Group):
    """A click group that turns every :class:`EventStoreError` into one clean error line,
    and refuses a one-value option given twice to its commands (click keeps the last and
    drops the others without a word: ``--speaker A --speaker B`` would record B alone)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EventStoreError as err:
            raise click.ClickException(str(err)) from None

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None and not isinstance(command, click.Group) \
                and "--help" not in rest:  # help wins, as click gives it
            repeated = repeated_option(command, rest)
            if repeated is not None:
                option, count = repeated
                raise click.UsageError(
                    f"{option} was given {_times(count)}, but takes one value (only the last "
                    "would be kept); give it once",
                    click.Context(command, info_name=name, parent=ctx))
        return name, command, rest


def repeated_option(command: click.Command, args: list[str]) -> tuple[str, int] | None:
    """The first of ``command``'s one-value options that ``args`` give more than once, and
    how many times (None when none is). Values are skipped as click reads them
    (``--content --x`` is the content ``--x``); nothing after ``--`` is an option."""
    takes_value: dict[str, bool] = {}
    once: dict[str, str] = {}  # each spelling of a one-value option → its first spelling
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        for opt in (*param.opts, *param.secondary_opts):
            takes_value[opt] = not param.is_flag and not param.count
            if not (param.multiple or param.count or param.is_flag):
                once[opt] = param.opts[0]
    seen: dict[str, int] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            break
        opt, eq, _ = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if opt not in takes_value:
            continue
        if takes_value[opt] and not eq:
            index += 1  # its value, whatever it looks like
        if opt in once:
            seen[once[opt]] = seen.get(once[opt], 0) + 1
    return next(((opt, count) for opt, count in seen.items() if count > 1), None)


class LazyGroup(Group):
    """A group whose commands are named ``module:attribute`` and imported when first asked
    for: when one runs, or when ``--help`` lists them (click's lazy-loading pattern)."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            self.add_command(self._load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, cmd_name: str) -> click.Command:
        module_name, _, attribute = self.lazy_commands[cmd_name].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy_commands[cmd_name]} is not a click command")
        return command


def open_store(db: str | None, actor: str | None = None) -> EventStore:
    """The store at ``--db`` (or ``$EVENTSTORE_URL``), which must exist at the current schema;
    with the writer's ``--sign-key`` (``$EVENTSTORE_SIGN_KEY``), signing every append.

    The library is loaded and the store opened with the cyclic garbage collector paused,
    then what exists is frozen (once a process; :mod:`eventstore.collector`): a command
    that reads the database starts about a quarter faster (docs/performance.md). The
    command itself runs with the collector on.
    """
    sign_key = click.get_current_context().meta.get(SIGN_KEY_META)
    with gc_paused(freeze=True):
        from .. import EventStore

        if sign_key is None:
            return EventStore.open(db, actor=actor)
        from .audit import signer_key

        return EventStore.open(db, actor=actor, signer=signer_key(sign_key))



def _times(count: int) -> str:
    return "twice" if count == 2 else f"{count} times"
