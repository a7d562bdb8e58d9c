"""``eventstore follow``: one JSON line per event as it commits, on both engines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from eventstore import EventStore
from tests.conftest import ARTICLE_GENEVA, ROOT
from tests.test_cli import Cli
from tests.test_following import cancelled, declined


@pytest.fixture
def run(db_url: str, tmp_path: Path) -> Cli:
    runner = Cli(db_url, tmp_path)
    runner("init")
    runner("source", "add", str(ARTICLE_GENEVA))
    return runner


def append(url: str, *facts: dict[str, Any]) -> None:
    with EventStore.open(url) as store:
        store.append_many(list(facts))


def source_id(url: str) -> str:
    with EventStore.open(url) as store:
        return store.list_sources()[0].id


def lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines()]


def consumers(url: str) -> dict[str, int]:
    with EventStore.open(url) as store, store.engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT name, position FROM consumers")).all())  # type: ignore[arg-type]


def test_follow_until_caught_up_prints_the_documented_event_json(run: Cli) -> None:
    src = source_id(run.url)
    append(run.url, cancelled(src, "a"), declined(src, "b"))
    out = lines(run("follow", "--from", "0", "--until-caught-up").stdout)
    assert [e["position"] for e in out] == [1, 2, 3]
    with EventStore.open(run.url) as store:
        assert out == [e.to_dict() for e in store.read_all()]
    out = lines(run("follow", "--from", "1", "--type", "invitation.declined",
                    "--track", "usa-rus", "--until-caught-up").stdout)
    assert [(e["position"], e["data"]["key"]) for e in out] == [(3, "b")]
    assert run("follow", "--until-caught-up").stdout == ""  # from the head: nothing new


def test_follow_as_a_consumer_stores_its_position(run: Cli) -> None:
    src = source_id(run.url)
    append(run.url, cancelled(src, "a"))
    out = lines(run("follow", "--consumer", "alerts", "--create", "--from", "1",
                    "--until-caught-up").stdout)
    assert [e["position"] for e in out] == [2]
    assert consumers(run.url) == {"alerts": 2}
    append(run.url, cancelled(src, "b"), declined(src, "c"))
    out = lines(run("follow", "--consumer", "alerts", "--type", "meeting.cancelled",
                    "--until-caught-up").stdout)
    assert [e["position"] for e in out] == [3]
    assert consumers(run.url) == {"alerts": 4}  # past the event the filter left out


def test_follow_refuses_bad_input_and_writes_nothing(run: Cli) -> None:
    assert "no consumer is named 'nobody'" in run.refused("follow", "--consumer", "nobody")
    assert "beyond the log's head (1)" in run.refused("follow", "--from", "5")
    assert "unknown fact type" in run.refused("follow", "--type", "meeting.canceled").lower()
    assert "track" in run.refused("follow", "--track", "RUSSIA")
    assert "--create goes with --consumer" in run.refused("follow", "--create")
    assert "only with --create" in run.refused("follow", "--consumer", "x", "--from", "0")
    assert "not a consumer name" in run.refused("follow", "--consumer", "a b", "--create")
    assert "the store's own catch-up projector" in run.refused(
        "follow", "--consumer", "$projections", "--create")
    assert consumers(run.url) == {}


def test_follow_runs_until_ctrl_c_and_exits_0(run: Cli) -> None:
    src = source_id(run.url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "eventstore.cli", "follow", "--db", run.url,
         "--consumer", "tail", "--create", "--from", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert process.stdout is not None
        time.sleep(1.0)  # let it start and catch up (nothing to print yet)
        append(run.url, cancelled(src, "a"))
        first = json.loads(process.stdout.readline())
        assert first["position"] == 2
        append(run.url, declined(src, "b"))
        assert json.loads(process.stdout.readline())["position"] == 3
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert rest == "" and "Traceback" not in err
    assert consumers(run.url) == {"tail": 3}
