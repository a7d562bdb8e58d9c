"""Run the eventstore command line from a checkout: ``python cli.py --help``."""

from eventstore.cli import main

if __name__ == "__main__":
    main()
