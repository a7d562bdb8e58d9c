"""``eventstore report``: one self-contained HTML page for a track.

Parses the arguments, checks that ``--out`` can be written before reading anything, asks
the library for the page (:func:`eventstore.report.track_report`) and writes it whole
(to a temporary file beside ``--out``, then renamed), so a refusal writes nothing.
Every refusal is one ``Error: …`` line with exit status 1.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import click

from .base import fail, open_store
from .options import db_option, parse_moment


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"--as-of: {value!r} is not a day: give one as YYYY-MM-DD")


def _moment(value: str | None) -> dt.datetime | None:
    try:
        return parse_moment(value, "--known-at")
    except click.BadParameter as err:
        fail(f"--known-at: {err.message}")


def _writable(out: str) -> Path:
    """``--out`` as a path whose directory exists and can be written (checked by creating
    and removing a temporary file there)."""
    path = Path(out)
    if path.is_dir():
        fail(f"--out: {out} is a directory: name the file to write")
    folder = path.parent if str(path.parent) else Path(".")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".report-", delete=True):
            pass
    except OSError as err:
        fail(f"--out: cannot write in {folder} ({err.strerror or err})")
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write(path: Path, text: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".report-", suffix=".html")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(temporary, 0o666 & ~_umask())  # as an ordinary file: mkstemp's is 0600
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as err:
        fail(f"--out: cannot write {path} ({err.strerror or err})")


@click.command("report")
@click.option("--track", required=True, help="Bilateral track, e.g. RUS-USA (with the events "
              "of the multilateral streams that have both countries).")
@click.option("--as-of", metavar="DAY",
              help="The state of the world on this day (valid time), as best known.")
@click.option("--known-at", metavar="TIME",
              help="What the store said at this moment (record time, UTC); a bare day "
                   "means its end. The page gives the log position and tree head then.")
@click.option("--possible", is_flag=True,
              help="With --as-of, also count facts that may have happened by then.")
@click.option("--by", type=click.Choice(["valid", "recorded"]), default="valid",
              show_default=True, help="Order of the history: world time or record time.")
@click.option("--out", required=True, metavar="FILE", help="The HTML file to write.")
@db_option
def report(track: str, as_of: str | None, known_at: str | None, possible: bool, by: str,
           out: str, db: str | None) -> None:
    """Write one self-contained HTML page for a track: its state, a timeline, its history
    and every cited source with the cited words marked (docs/report.md)."""
    day = _day(as_of)
    moment = _moment(known_at)
    path = _writable(out)
    from ..report import track_report

    with open_store(db) as store:
        text = track_report(store, track, as_of=day, known_at=moment, possible=possible,
                            by="recorded" if by == "recorded" else "valid")
    _write(path, text)
    click.echo(f"wrote {path.resolve()}")
