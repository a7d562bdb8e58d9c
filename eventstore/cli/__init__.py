"""The ``eventstore`` command line: a thin shell over the library."""

from .app import cli, main

__all__ = ["cli", "main"]
