"""Readers on a database that takes no writes: a read-only PostgreSQL session (what a hot
standby gives) and an SQLite file opened read-only.

The stored read models are behind the log (facts were appended after the last catch-up),
so a reader cannot bring them up to date. Every reading command still answers exactly as
it does on a writable store, says nothing on stderr and writes nothing; every writing
command is one clear ``Error:`` line, exit 1, nothing written.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from eventstore import EventStore, ReadOnlyDatabase
from eventstore.cli import cli
from eventstore.storage import read_models as store_module
from eventstore.storage.engine import safe_url
from tests.conftest import ARTICLE_GENEVA
from tests.test_cli import Cli
from tests.test_example import lines, register_sources

TRACK = "RUS-USA"
GENEVA = "7c3a628228e6"
#: Where the example is cut: the first part is folded into the read models, the rest is not.
CUT = 18


def read_only_url(url: str, how: str = "uri") -> str:
    """The same database, read-only: a session with ``default_transaction_read_only`` on
    PostgreSQL (as on a hot standby), a ``mode=ro`` URI filename on SQLite (``how="plain"``:
    the URL unchanged, for a file this user may not write)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        options = f"{parsed.query['options']} -cdefault_transaction_read_only=on"
        return parsed.update_query_dict({"options": options}).render_as_string(
            hide_password=False)
    return url if how == "plain" else f"sqlite:///file:{parsed.database}?mode=ro&uri=true"


def make_read_only(url: str, how: str) -> str:
    """Turn the (closed) database at ``url`` read-only in the way ``how`` says; its URL."""
    if how == "journal":  # a file in rollback-journal mode cannot be put in WAL mode by a reader
        with closing(sqlite3.connect(sa.make_url(url).database or "")) as conn:
            assert conn.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
    if how == "unwritable":
        if os.geteuid() == 0:
            pytest.skip("tests run as root, for whom a file without write permission is still "
                        "writable: the mode=ro URI cases stand in for it")
        Path(sa.make_url(url).database or "").chmod(0o444)
        return read_only_url(url, "plain")
    return read_only_url(url)


def read_models(url: str) -> tuple[Any, ...]:
    """The projector's checkpoint and every stored track state, as they stand."""
    with EventStore.open(url) as store, store.engine.connect() as conn:
        return (tuple(conn.execute(sa.text("SELECT * FROM consumers")).all()),
                tuple(conn.execute(sa.text("SELECT * FROM track_states ORDER BY track")).all()),
                store.head())


@attrs.frozen
class Stale:
    """The worked example with its read models behind the log, and an auditor's files."""

    url: str
    read_only: str
    middle: str  # the record time of the last event folded into the read models
    files: dict[str, str]

    def fill(self, args: tuple[str, ...]) -> list[str]:
        return [self.files.get(arg, arg) for arg in args]


@pytest.fixture
def stale(db_url: str, tmp_path: Path) -> Stale:
    with EventStore.open(db_url, create=True, actor="analyst") as store:
        register_sources(store)
        facts = lines()
        store.append_many(facts[:CUT])
        store.project(TRACK)  # the read models now hold the first part
        middle = store.get_event(facts[CUT - 1]["event_id"]).recorded_at.isoformat()
    key = str(tmp_path / "auditor.key")
    CliRunner().invoke(cli, ["audit", "keygen", "--name", "auditor", "--out", key])
    checkpoint = str(tmp_path / "old.checkpoint")
    Cli(db_url, tmp_path)("audit", "checkpoint", "--key", key, "--out", checkpoint)
    with EventStore.open(db_url, actor="analyst") as store:
        store.append_many(facts[CUT:])  # not folded: the read models are behind
        assert not store._read_models._caught_up()
    return Stale(url=db_url, read_only=read_only_url(db_url), middle=middle,
                 files={"KEY": key, "PUB": f"{key}.pub", "CHECKPOINT": checkpoint,
                        "MIDDLE": middle, "NEW": str(tmp_path / "new.checkpoint")})


READS = {
    "project": ("project", "--track", TRACK, "--format", "json"),
    "project (table)": ("project", "--track", TRACK),
    "project --as-of": ("project", "--track", TRACK, "--as-of", "2018-07-01", "--format", "json"),
    "project --as-of --possible": ("project", "--track", TRACK, "--as-of", "2018-06-30",
                                   "--possible", "--format", "json"),
    "project --known-at": ("project", "--track", TRACK, "--known-at", "MIDDLE",
                           "--format", "json"),
    "history": ("history", "--track", TRACK, "--format", "json"),
    "history --by recorded --known-at": ("history", "--track", TRACK, "--by", "recorded",
                                         "--known-at", "MIDDLE", "--format", "json"),
    "tracks": ("tracks", "--format", "json"),
    "log": ("log", "--format", "json"),
    "log --track --type --since": ("log", "--track", TRACK, "--type", "meeting.held",
                                   "--since", "10"),
    "source list": ("source", "list", "--format", "json"),
    "source show": ("source", "show", GENEVA, "--format", "json"),
    "replay --to": ("replay", "--to", "MIDDLE", "--format", "json"),
    "replay --checkpoint": ("replay", "--to", "MIDDLE", "--checkpoint", "CHECKPOINT",
                            "--key", "PUB", "--format", "json"),
    "audit verify": ("audit", "verify", "--key", "PUB", "--format", "json"),
    "audit prove": ("audit", "prove", "9", "--checkpoint", "CHECKPOINT"),
    "audit consistency": ("audit", "consistency", "--from", "CHECKPOINT"),
    "export": ("export",),
}


@pytest.mark.parametrize("name", READS)
def test_a_reading_command_answers_on_a_read_only_database(stale: Stale, tmp_path: Path,
                                                          name: str) -> None:
    args = stale.fill(READS[name])
    before = read_models(stale.url)
    got = Cli(stale.read_only, tmp_path)(*args)
    assert read_models(stale.url) == before, "a reader wrote to a read-only database"
    want = Cli(stale.url, tmp_path)(*args)
    assert [same(text.replace(safe_url(stale.read_only), safe_url(stale.url)))
            for text in (got.stdout, got.stderr)] == [same(want.stdout), same(want.stderr)]


def same(text: str) -> str:
    """The output, without the moment it was written (an export's header says it)."""
    return re.sub(r'"exported_at":"[^"]*"', '"exported_at":"…"', text)


WRITES = {
    "append": ("append", "statement.made", "--track", TRACK, "--date", "2018-08-24",
               "--speaker", "John Bolton:USA", "--stance", "warning", "--content", "Non.",
               "--cite", f"{GENEVA}:ont eu jeudi une rencontre à Genève"),
    "source add": ("source", "add", "NOTE"),
    "source erase": ("source", "erase", GENEVA, "--reason", "a court order", "--yes"),
    "fact erase": ("fact", "erase", "9", "--reason", "a court order", "--yes"),
    "audit checkpoint": ("audit", "checkpoint", "--key", "KEY", "--out", "NEW"),
    "project --rebuild": ("project", "--rebuild"),
}


@pytest.mark.parametrize("name", WRITES)
def test_a_writing_command_is_one_clear_line_on_a_read_only_database(
        stale: Stale, tmp_path: Path, name: str) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Une dépêche qui n'est pas encore enregistrée.\n", encoding="utf-8")
    args = stale.fill(WRITES[name])
    if name == "fact erase":
        with EventStore.open(stale.url) as store:
            args[2] = str(next(store.read_all(int(args[2]), 1)).event_id)
    args = [str(note) if arg == "NOTE" else arg for arg in args]
    before = read_models(stale.url)
    reader = Cli(stale.read_only, tmp_path)
    err = reader.refused(*args, dry_run_too=False)
    assert err.count("\n") == 1 and err.startswith("Error: "), err
    if args[0] == "append":  # a dry run writes nothing: it answers on a read-only database
        checked = reader("append", "--dry-run", *args[1:])
        assert "nothing written" in checked.output
    assert "the database is read-only" in err and "nothing was written" in err
    assert read_models(stale.url) == before
    assert not Path(stale.files["NEW"]).exists()


def test_init_on_a_current_read_only_database_writes_nothing(stale: Stale,
                                                            tmp_path: Path) -> None:
    out = Cli(stale.read_only, tmp_path)("init").stdout
    assert "(already current)" in out


@pytest.mark.parametrize(("engine_kind", "how"), [
    pytest.param("postgresql", "session", marks=pytest.mark.postgresql),
    ("sqlite", "uri"), ("sqlite", "journal"), ("sqlite", "unwritable")])
def test_project_folds_the_stored_state_forward_in_memory(
        db_url: str, how: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """Plain facts after the stored state: it is carried on, in memory, with them; a track
    with no stored state yet is folded whole. Both equal what a writable store answers."""
    with EventStore.open(db_url, create=True, actor="analyst") as store:
        register_sources(store)
        source = store.add_source(ARTICLE_GENEVA.read_bytes())
        store.append_many(lines()[:CUT])
        store.project(TRACK)
        cite = [{"source": source.id, "quote": "ont eu jeudi une rencontre à Genève"}]
        store.append_many([
            {"type": "statement.made", "track": TRACK, "date": "2018-08-25",
             "data": {"speaker": {"name": "John Bolton", "country": "USA"},
                      "stance": "warning", "content": "Plus tard."}, "citations": cite},
            {"type": "meeting.planned", "track": "CHE-USA", "date": "2018-09",
             "data": {"key": "bern", "kind": "talks"}, "citations": cite}])
    url = make_read_only(db_url, how)
    carried: list[bool] = []
    real = store_module.fold_more

    def fold_more(*args: Any, **kw: Any) -> Any:
        folded = real(*args, **kw)
        carried.append(folded is not None)
        return folded

    monkeypatch.setattr(store_module, "fold_more", fold_more)
    with caplog.at_level(logging.DEBUG), EventStore.open(url) as reader:
        assert not reader._read_models._caught_up()
        got = [reader.project(TRACK), reader.project("CHE-USA")]
        with pytest.raises(ReadOnlyDatabase, match="the database is read-only"):
            reader.catch_up()
        assert not reader._read_models._caught_up()
    assert carried == [True]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    if how == "journal":
        with closing(sqlite3.connect(sa.make_url(db_url).database or "")) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    monkeypatch.undo()
    with EventStore.open(db_url) as writer:
        assert got == [writer.project(TRACK), writer.project("CHE-USA")]
        assert writer._read_models._caught_up()



@pytest.mark.postgresql
def test_a_role_that_may_only_read(stale: Stale, engine_kind: str,
                                   pg_admin: sa.Engine, tmp_path: Path) -> None:
    if engine_kind != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    parsed = sa.make_url(stale.url)
    schema = parsed.query["options"].split("=", 1)[1]
    role = f"{schema}_reader"
    with pg_admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
    try:
        reader = parsed.set(username=role).render_as_string(hide_password=False)
        args = ("project", "--track", TRACK, "--format", "json")
        got = Cli(reader, tmp_path)(*args)
        assert got.stderr == ""
        refused = Cli(reader, tmp_path).refused("project", "--rebuild")
        assert refused.count("\n") == 1 and refused.startswith("Error: ")
        assert "the database is read-only (this role may not write" in refused
        assert Cli(stale.url, tmp_path)(*args).stdout == got.stdout
    finally:
        with pg_admin.connect() as conn:
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")
