"""The command line starts at once: ``--version`` and ``--help`` load click, and not the
library's heavy parts; each command is loaded from its module when it runs."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys

import click
import pytest

import eventstore
from eventstore.cli import COMMANDS, cli

HEAVY = ("sqlalchemy", "alembic", "edtf", "cryptography", "dateparser")

_PROBE = """
import json, sys
from eventstore.cli import main
args, heavy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.argv = ["eventstore", *args]
try:
    main()
except SystemExit as end:
    assert end.code in (0, None), end.code
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy)), file=sys.stderr)
"""


def _loaded_by(*args: str) -> tuple[str, list[str]]:
    """What ``eventstore ARGS`` prints, and which heavy modules it imported (in a new process)."""
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args), json.dumps(HEAVY)],
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout, json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("-h",), ("project", "--help"),
                                  ("audit", "--help")])
def test_version_and_help_load_nothing_heavy(args: tuple[str, ...]) -> None:
    out, heavy = _loaded_by(*args)
    assert heavy == [], f"eventstore {' '.join(args)} imported {heavy}"
    assert out.strip()


def test_help_lists_every_command() -> None:
    out, _ = _loaded_by("--help")
    listed = [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line]
    assert listed == sorted(COMMANDS)


def test_importing_the_package_loads_nothing_heavy() -> None:
    code = ("import sys, eventstore, eventstore.cli; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_each_lazy_command_is_found_under_its_name() -> None:
    with click.Context(cli) as ctx:
        for name in COMMANDS:
            command = cli.get_command(ctx, name)
            assert command is not None and command.name == name


def test_the_public_api_is_all_there() -> None:
    for name in eventstore.__all__:
        assert getattr(eventstore, name) is not None
    with pytest.raises(AttributeError):
        eventstore.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018


def test_version_is_the_installed_one() -> None:
    out, _ = _loaded_by("--version")
    assert out.strip() == f"eventstore, version {importlib.metadata.version('eventstore')}"
    assert eventstore.__version__ == importlib.metadata.version("eventstore")


def test_python_dash_m_runs_the_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "eventstore.cli", "--version"],
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == f"eventstore, version {eventstore.__version__}"
