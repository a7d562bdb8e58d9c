"""The ``eventstore`` command line: a thin shell over the library.

The root group knows its commands by name only (``COMMANDS``) and imports a command's
module when that command runs or ``--help`` lists it; those modules import the library
inside their commands. So ``eventstore --version`` and ``--help`` load click and nothing
heavier, and each command loads what it uses (``docs/design.md``, the command line).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from .. import __version__
from .base import LazyGroup

#: Every top-level command: its name, and where it is defined (``module:attribute``).
COMMANDS = {
    "append": "eventstore.cli.app:append",
    "audit": "eventstore.cli.audit:audit",
    "export": "eventstore.cli.audit:export",
    "fact": "eventstore.cli.app:fact",
    "follow": "eventstore.cli.follow:follow",
    "history": "eventstore.cli.app:history_command",
    "import": "eventstore.cli.audit:import_command",
    "init": "eventstore.cli.app:init",
    "log": "eventstore.cli.app:log",
    "project": "eventstore.cli.app:project_command",
    "replay": "eventstore.cli.audit:replay",
    "report": "eventstore.cli.report:report",
    "source": "eventstore.cli.app:source",
    "tracks": "eventstore.cli.app:tracks_command",
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__)
def cli() -> None:
    """An event-sourced fact store: cited, immutable facts about bilateral tracks."""


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line (the ``eventstore`` console script and ``cli.py``)."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="eventstore")
    except BrokenPipeError:  # `eventstore log | head`: the reader left; that is not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)


__all__ = ["COMMANDS", "cli", "main"]
