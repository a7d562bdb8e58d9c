"""``python -m eventstore.cli``: the command line, as the ``eventstore`` script runs it."""

from . import main

main()
