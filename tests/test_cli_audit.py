"""The auditor at a terminal: keys, checkpoints, proofs, verify, replay, export, import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from eventstore import Checkpoint, parse_signer_key
from eventstore.audit import parse_checkpoint_body, sign_checkpoint
from eventstore.cli import cli
from tests.test_cli import CITE, MEETING, Cli, run  # noqa: F401  (the fixture)

STATEMENT = ["append", "statement.made", "--track", "RUS-USA", "--date", "2018-08-23",
             "--speaker", "John Bolton:USA", "--stance", "warning",
             "--content", "une mise en garde", *CITE]


def no_db(run: Cli, *args: str, ok: bool = True) -> Result:  # noqa: F811
    """A command that needs no database (keys, proofs): the same promises, no --db."""
    result = run.runner.invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output + result.stderr
    assert (result.exit_code == 0) == ok, result.output + result.stderr
    return result


@pytest.fixture
def audited(run: Cli, tmp_path: Path) -> Cli:  # noqa: F811
    run(*MEETING, *CITE)
    key = str(tmp_path / "auditor.key")
    out = no_db(run, "audit", "keygen", "--name", "auditor", "--out", key).output
    assert "auditor.key.pub" in out
    assert Path(key).stat().st_mode & 0o777 == 0o600
    run("audit", "checkpoint", "--key", key, "--out", str(tmp_path / "old.checkpoint"))
    return run


def test_the_auditors_walk(audited: Cli, tmp_path: Path) -> None:
    key, pub = str(tmp_path / "auditor.key"), str(tmp_path / "auditor.key.pub")
    old = tmp_path / "old.checkpoint"
    assert old.read_text().startswith("eventstore/")
    audited(*STATEMENT)
    audited("audit", "checkpoint", "--key", key, "--out", str(tmp_path / "new.checkpoint"))
    proof = str(tmp_path / "grew.json")
    audited("audit", "consistency", "--from", str(old), "--to",
            str(tmp_path / "new.checkpoint"), "--out", proof)
    assert "only grew" in no_db(audited, "audit", "check-proof", proof, "--key", pub).output
    events = json.loads(audited("log", "--format", "json").output)["events"]
    inclusion = str(tmp_path / "in.json")
    audited("audit", "prove", events[1]["event_id"], "--checkpoint", str(old),
            "--out", inclusion)
    checked = json.loads(no_db(audited, "audit", "check-proof", inclusion, "--key", pub,
                               "--format", "json").output)
    assert checked["ok"] and "position 2" in checked["proved"]
    # The newer event is not in the older checkpoint's tree.
    err = audited.refused("audit", "prove", events[-1]["event_id"], "--checkpoint", str(old))
    assert "appended later" in err
    report = json.loads(audited("audit", "verify", "--key", pub, "--format", "json").output)
    assert report["ok"] and report["events"] == len(events)
    assert [c["ok"] for c in report["checkpoints"]] == [True, True]


def test_replay_export_and_import(audited: Cli, tmp_path: Path) -> None:
    old = str(tmp_path / "old.checkpoint")
    events = json.loads(audited("log", "--format", "json").output)["events"]
    then = events[-1]["recorded_at"]
    audited(*STATEMENT)
    doc = json.loads(audited("replay", "--to", then, "--checkpoint", old, "--key",
                             str(tmp_path / "auditor.key.pub"), "--format", "json").output)
    assert doc["check"]["ok"] and doc["position"] == len(events)
    assert doc["since"]["counts"] == {"added": 1, "retracted": 0, "corrected": 0, "erased": 0}
    known = json.loads(audited("project", "--track", "RUS-USA", "--known-at", then,
                               "--format", "json").output)
    assert doc["tracks"] == [known]
    export = str(tmp_path / "log.jsonl")
    audited("export", "--out", export)
    assert "ok:" in no_db(audited, "audit", "verify", "--file", export).output
    copy = Cli(f"sqlite:///{tmp_path / 'copy.db'}", tmp_path)
    copy("init")
    copy("import", export)
    mine = json.loads(audited("audit", "verify", "--format", "json").output)["root"]
    theirs = json.loads(copy("audit", "verify", "--format", "json").output)["root"]
    assert mine == theirs


def test_bad_audit_input_is_one_clear_line(audited: Cli, tmp_path: Path) -> None:
    pub = str(tmp_path / "auditor.key.pub")
    old = tmp_path / "old.checkpoint"
    garbage = audited.file("garbage.checkpoint", "hello\n")
    assert "not a checkpoint" in audited.refused("audit", "prove", "1", "--checkpoint", garbage)
    other = tmp_path / "other.key"
    no_db(audited, "audit", "keygen", "--name", "mallory", "--out", str(other))
    err = audited.refused("audit", "consistency", "--from", str(old), "--key", f"{other}.pub")
    assert "signed by other keys" in err or "no signature" in err
    signer = parse_signer_key((tmp_path / "auditor.key").read_text())
    mine = parse_checkpoint_body(old.read_text().split("\n\n")[0] + "\n")
    foreign = sign_checkpoint(Checkpoint("eventstore/0123456789abcdef", mine.size, mine.root),
                              signer)
    err = audited.refused("audit", "consistency", "--from",
                          audited.file("foreign.checkpoint", foreign), "--key", pub)
    assert "eventstore/0123456789abcdef" in err and mine.origin in err
    larger = sign_checkpoint(Checkpoint(mine.origin, mine.size + 5, mine.root), signer)
    err = audited.refused("audit", "prove", "1", "--checkpoint",
                          audited.file("larger.checkpoint", larger), "--key", pub)
    assert "larger than the log" in err
    assert "no event has the id" in audited.refused(
        "audit", "prove", "00000000-0000-4000-8000-000000000000")
    not_a_key = audited.file("not.key", "this is not a key\n")
    assert "not.key" in audited.refused("audit", "checkpoint", "--key", not_a_key)
    assert "not.key" in no_db(audited, "audit", "check-proof", str(old), "--key", not_a_key,
                              ok=False).stderr
    assert "exists already" in no_db(audited, "audit", "keygen", "--out",
                                     str(tmp_path / "auditor.key"), ok=False).stderr
    export = str(tmp_path / "log.jsonl")
    audited("export", "--out", export)
    lines = Path(export).read_text().splitlines()
    cut = audited.file("cut.jsonl", "\n".join(lines[:-1]) + "\n")
    result = no_db(audited, "audit", "verify", "--file", cut, ok=False)
    assert result.exit_code == 1 and "FAILED" in result.output
    copy = Cli(f"sqlite:///{tmp_path / 'copy.db'}", tmp_path)
    copy("init")
    assert "nothing imported" in copy.refused("import", cut)


# -- record time and signed appends (the backdated forgery) --------------------------------


def test_a_backdated_forgery_fails_verify_and_replay(audited: Cli, tmp_path: Path) -> None:
    """An intruder appends a well-formed event (valid chain and tree) dated a day before the
    event before it, after the auditor's last checkpoint: verify and both replays fail."""
    import datetime as dt

    from eventstore import EventStore
    from tests.tampering import forge_append, tamper

    pub, old = str(tmp_path / "auditor.key.pub"), str(tmp_path / "old.checkpoint")
    audited(*STATEMENT)
    events = json.loads(audited("log", "--format", "json").output)["events"]
    last = dt.datetime.fromisoformat(events[-1]["recorded_at"])
    with EventStore.open(audited.url) as store:
        tamper(store, lambda conn: forge_append(conn, -dt.timedelta(days=1)) and None,
               restore_triggers=True)
    forged = len(events) + 1
    result = audited("audit", "verify", "--key", pub, ok=False)
    assert result.exit_code == 1
    assert (f"FAILED: {audited.url}" in result.output
            and f"position {forged}: recorded_at" in result.output
            and "record time went backwards" in result.output), result.output
    for moment in (last + dt.timedelta(seconds=1),  # after the last true event
                   last - dt.timedelta(hours=12)):  # between the forgery's time and it
        result = audited("replay", "--to", moment.isoformat(), "--checkpoint", old,
                         "--key", pub, ok=False)
        assert result.exit_code == 1
        assert f"CHECK FAILED: position {forged}: recorded_at" in result.output, result.output
        assert "no track state is shown" in result.output


def test_a_writer_that_signs_every_append(audited: Cli, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    key, pub = str(tmp_path / "auditor.key"), str(tmp_path / "auditor.key.pub")
    unsigned = json.loads(audited("audit", "verify", "--key", pub, "--format", "json").output)
    assert unsigned["signed"] == {"size": unsigned["events"], "unsigned_events": 0,
                                  "trusted_keys": True}
    audited(*STATEMENT)  # no key: the tail is not signed
    out = audited("audit", "verify", "--key", pub).output
    assert "the last 1 event(s) are covered by none" in out
    result = audited("audit", "verify", "--key", pub, "--require-signed", ok=False)
    assert result.exit_code == 1
    assert "1 event(s) at the log's end" in result.output
    assert "--require-signed needs --key" in audited.refused("audit", "verify",
                                                             "--require-signed")
    audited(*STATEMENT, "--sign-key", key)  # signed: the whole log is covered again
    monkeypatch.setenv("EVENTSTORE_SIGN_KEY", key)
    audited("append", "--file", audited.file("two.jsonl", "\n".join(json.dumps({
        "type": "statement.made", "track": "RUS-USA", "date": "2018-08-23",
        "data": {"speaker": {"name": "John Bolton", "country": "USA"}, "stance": "warning",
                 "content": f"mise en garde {n}"},
        "citations": [{"source": "7c3a6282", "quote": "une rencontre à Genève"}]})
        for n in range(2)) + "\n"))
    report = json.loads(audited("audit", "verify", "--key", pub, "--require-signed",
                                "--format", "json").output)
    assert report["ok"] and report["signed"]["unsigned_events"] == 0
    # One checkpoint per append transaction: the first, the signed single, the file of two.
    assert [c["size"] for c in report["checkpoints"]] == [
        report["events"] - 4, report["events"] - 2, report["events"]]
    monkeypatch.setenv("EVENTSTORE_SIGN_KEY", str(tmp_path / "missing.key"))
    err = audited.refused(*STATEMENT)
    assert "missing.key: cannot read the key file" in err


def test_an_export_that_is_not_strict_json_is_refused_naming_its_line(
        audited: Cli, tmp_path: Path) -> None:
    export = tmp_path / "log.jsonl"
    audited("export", "--out", str(export))
    lines = export.read_bytes().split(b"\n")
    at = next(i for i, line in enumerate(lines) if b'"kind":"event"' in line)
    record = json.loads(lines[at])
    record["payload"] = '{"key": "a", "key": "a"}'
    cases = {
        "deep": (lines[:2] + [b"[" * 1000 + b"]" * 1000] + lines[2:],
                 "line 3: arrays and objects nested deeper than the limit of 64 levels"),
        # The same value twice: json alone would let it through.
        "twice": ([lines[0][:-1] + b',"format":"eventstore-export/1"}'] + lines[1:],
                  "line 1: format: the key 'format' is given twice in one object"),
        "payload": (lines[:at] + [json.dumps(record).encode()] + lines[at + 1:],
                    f"line {at + 1}: payload: key: the key 'key' is given twice"),
        "latin1": (lines[:2] + [b'{"kind": "caf\xe9"}'] + lines[2:],
                   "line 3: not valid UTF-8"),
    }
    copy = Cli(f"sqlite:///{tmp_path / 'copy.db'}", tmp_path)
    copy("init")
    for name, (content, words) in cases.items():
        path = audited.file(f"{name}.jsonl", b"\n".join(content))
        result = no_db(audited, "audit", "verify", "--file", path, ok=False)
        assert result.exit_code == 1 and f"{path}: {words}" in result.stderr, name
        assert f"{path}: {words}" in copy.refused("import", path), name
    crlf = audited.file("crlf.jsonl", b"\r\n".join(lines))
    assert "ok:" in no_db(audited, "audit", "verify", "--file", crlf).output
    deep = audited.file("deep.proof", "[" * 1000 + "]" * 1000)
    result = no_db(audited, "audit", "check-proof", deep, "--key",
                   str(tmp_path / "auditor.key.pub"), ok=False)
    assert f"{deep}: arrays and objects nested deeper than the limit of 64" in result.stderr
