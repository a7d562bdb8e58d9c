"""``examples/alerts.py``: a service that follows a track and writes an alert line, exactly
once, when a meeting is cancelled or an invitation declined (both engines)."""

from __future__ import annotations

import importlib.util
import io
import os
import subprocess
import sys
from types import ModuleType
from typing import Any

import sqlalchemy as sa

from eventstore import EventStore
from tests.conftest import ARTICLE_GENEVA, ROOT

QUOTE = "ont eu jeudi une rencontre à Genève"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("alerts_example", ROOT / "examples" / "alerts.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


alerts = _load()


def fact(source: str, type_: str, track: str = "RUS-USA", **data: Any) -> dict[str, Any]:
    return {"type": type_, "track": track, "date": "2018-08-23", "data": data,
            "citations": [{"source": source, "quote": QUOTE}]}


def stored_lines(store: EventStore) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT line FROM alert_lines ORDER BY position"))
                    .scalars())


def test_alerts_are_written_once_for_cancellations_and_declines(store: EventStore) -> None:
    src = store.add_source(ARTICLE_GENEVA.read_bytes()).id
    bolton = {"name": "John Bolton", "country": "USA"}
    patrushev = {"name": "Nikolaï Patrouchev", "country": "RUS"}
    store.append_many([
        fact(src, "meeting.planned", key="helsinki", kind="summit", place="Helsinki"),
        fact(src, "invitation.extended", key="moscow", inviter=patrushev, invitee=bolton),
        fact(src, "meeting.held", key="geneva", kind="talks", participants=[bolton]),
        fact(src, "meeting.cancelled", key="helsinki", reason="agenda"),
        fact(src, "meeting.cancelled", key="beijing", track="CHN-USA"),  # another track
        fact(src, "invitation.declined", key="moscow"),
    ])
    out = io.StringIO()
    assert alerts.run(store, "RUS-USA", until_caught_up=True, out=out) == 2
    assert out.getvalue().splitlines() == [
        "ALERT RUS-USA #5: meeting summit at Helsinki cancelled (agenda) [2018-08-23]",
        "ALERT RUS-USA #7: invitation Nikolaï Patrouchev → John Bolton declined [2018-08-23]"]
    assert alerts.run(store, "RUS-USA", until_caught_up=True, out=io.StringIO()) == 0
    store.append("RUS-USA", [fact(src, "invitation.declined", key="moscow", reason="again")])
    out = io.StringIO()
    assert alerts.run(store, "RUS-USA", until_caught_up=True, out=out) == 1
    assert "#8: invitation Nikolaï Patrouchev → John Bolton declined (again)" in out.getvalue()
    assert len(stored_lines(store)) == 3


def test_the_example_runs_as_a_script(store: EventStore, db_url: str) -> None:
    src = store.add_source(ARTICLE_GENEVA.read_bytes()).id
    store.append("RUS-USA", [fact(src, "invitation.declined", key="x")])
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "alerts.py"), "--db", db_url,
         "--track", "usa-rus", "--until-caught-up"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ALERT RUS-USA #2: invitation x declined [2018-08-23]\n"
