"""The auditor's commands: keys, checkpoints, proofs, verify, replay, export and import.

Parse, call the library, render: the checking itself lives in the pure audit package
(``eventstore.audit``: ``checker``, ``proofs``, ``verifier``). Like every command module,
it imports the library (and with it cryptography) inside the commands.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import AuditError, ValidationError
from ..jsonl import loads
from . import render
from .base import Group, open_store
from .options import actor_option, common, db_option, format_option, parse_moment

if TYPE_CHECKING:
    from .. import EventStore
    from ..audit.checker import Report
    from ..audit.verifier import Checkpoint, SignerKey, VerifierKey
    from ..storage.store import Replay, StoredCheckpoint

DEFAULT_KEY = "eventstore.key"
KEY_ENV = "EVENTSTORE_KEY"


def _read_text(name: str, what: str) -> str:
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as err:
        raise AuditError(f"{name}: cannot read the {what} ({err.strerror or err})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise AuditError(f"{name}: not a {what} (not UTF-8 text)") from None


def _signer(name: str | None) -> SignerKey:
    path = name or os.environ.get(KEY_ENV) or DEFAULT_KEY
    if not Path(path).exists():
        raise AuditError(f"{path}: no such key file (make one with `eventstore audit keygen`, "
                         f"or give --key / ${KEY_ENV})")
    return signer_key(path)


def signer_key(path: str) -> SignerKey:
    """The private key in the file ``path`` (an ``AuditError`` that names the file)."""
    from ..audit.verifier import VerificationError, parse_signer_key

    try:
        return parse_signer_key(_read_text(path, "key file").strip())
    except VerificationError as err:
        raise AuditError(f"{path}: {err}") from None


def _verifier(name: str) -> VerifierKey:
    from ..audit.verifier import VerificationError, parse_verifier_key

    try:
        return parse_verifier_key(_read_text(name, "verifier key file").strip())
    except VerificationError as err:
        raise AuditError(f"{name}: {err}") from None


def _write(out: str | None, text: str) -> None:
    if out is None or out == "-":
        click.echo(text, nl=not text.endswith("\n"))
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as err:
        raise AuditError(f"{out}: cannot write ({err.strerror or err})") from None


def _checkpoint_note(name: str) -> str:
    from ..audit.verifier import VerificationError, checkpoint_of_note

    note = _read_text(name, "checkpoint")
    try:
        checkpoint_of_note(note)
    except VerificationError as err:
        raise AuditError(f"{name}: not a checkpoint: {err}") from None
    return note


def _key_for(store: EventStore, note: str, key_file: str | None, where: str) -> VerifierKey:
    """The verifier key of a checkpoint: the one given, or the one the store signed it with."""
    from ..audit.verifier import parse_verifier_key

    if key_file is not None:
        return _verifier(key_file)
    for stored in store.checkpoints():
        if stored.note == note:
            return parse_verifier_key(stored.verifier_key)
    raise AuditError(f"{where}: the store did not issue this checkpoint; give the verifier "
                     "key that signed it (--key FILE.pub)")


def _open_note(note: str, key: VerifierKey, origin: str, where: str) -> Checkpoint:
    from ..audit.verifier import VerificationError, open_checkpoint

    try:
        return open_checkpoint(note, key, origin=origin)
    except VerificationError as err:
        raise AuditError(f"{where}: {err}") from None


@click.group("audit", cls=Group)
def audit() -> None:
    """Signed checkpoints, inclusion and consistency proofs, and verifying the whole log."""


@audit.command("keygen")
@click.option("--name", default="eventstore", show_default=True,
              help="The key's name, shown in signatures (no spaces or '+').")
@click.option("--out", default=DEFAULT_KEY, show_default=True, type=click.Path(dir_okay=False),
              help="The private key file; the verifier key goes beside it as FILE.pub.")
@format_option("table", "json")
def keygen(name: str, out: str, fmt: str) -> None:
    """Make an Ed25519 key pair for signing checkpoints."""
    from ..audit.verifier import VerificationError, generate_key

    try:
        key = generate_key(name)
    except (VerificationError, ValueError) as err:
        raise AuditError(f"--name: {err}") from None
    public = f"{out}.pub"
    for path in (out, public):
        if Path(path).exists():
            raise AuditError(f"{path} exists already: a key is never overwritten (move it "
                             "away, or give --out)")
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key.text() + "\n")
        Path(public).write_text(key.verifier().text() + "\n", encoding="utf-8")
    except OSError as err:
        raise AuditError(f"{out}: cannot write the key ({err.strerror or err})") from None
    doc = {"name": key.name, "key_id": key.key_id.hex(), "private_key_file": out,
           "verifier_key_file": public, "verifier_key": key.verifier().text()}
    render.emit(fmt, doc, lambda d: (
        f"{d['private_key_file']}: private key {d['name']} ({d['key_id']}); keep it secret\n"
        f"{d['verifier_key_file']}: verifier key, give it to auditors:\n  {d['verifier_key']}"))


@audit.command("checkpoint")
@click.option("--key", "key_file", metavar="FILE",
              help=f"The private key (default ${KEY_ENV}, else ./{DEFAULT_KEY}).")
@click.option("--out", metavar="FILE", help="Write the signed checkpoint here (default stdout).")
@common
@actor_option
def checkpoint(key_file: str | None, out: str | None, db: str | None, fmt: str,
               actor: str | None) -> None:
    """Sign the current tree head; keep it in the database and give it to auditors."""
    key = _signer(key_file)
    with open_store(db, actor) as store:
        stored = store.checkpoint(key)
    if fmt == "json":
        render.emit(fmt, _checkpoint_doc(stored), str)
        if out:
            _write(out, stored.note)
        return
    _write(out, stored.note)
    if out:
        click.echo(f"checkpoint of size {stored.checkpoint.size:,} signed by {key.name}, "
                   f"written to {out}")


def _checkpoint_doc(stored: StoredCheckpoint) -> dict[str, Any]:
    c = stored.checkpoint
    return {"origin": c.origin, "size": c.size, "root": c.root.hex(), "key": stored.key_name,
            "key_id": stored.key_id, "created_at": stored.created_at.isoformat(),
            "note": stored.note}


@audit.command("prove")
@click.argument("event_id", metavar="EVENT_ID|POSITION")
@click.option("--checkpoint", "checkpoint_file", metavar="FILE",
              help="Prove against this checkpoint (default: the current tree, unsigned).")
@click.option("--key", "key_file", metavar="FILE.pub",
              help="The verifier key of the checkpoint (default: the store's, if it issued it).")
@click.option("--out", metavar="FILE", help="Write the proof here (default stdout).")
@db_option
def prove(event_id: str, checkpoint_file: str | None, key_file: str | None, out: str | None,
          db: str | None) -> None:
    """An inclusion proof: this event is in the log a checkpoint signed."""
    from ..audit.chain import envelope_of
    from ..audit.proofs import inclusion_document

    with open_store(db) as store:
        origin = store.origin()
        note, size = None, None
        if checkpoint_file is not None:
            note, signed = _kept_checkpoint(store, checkpoint_file, key_file, origin)
            size = signed.size
        wanted: str | int = int(event_id) if event_id.isdigit() else event_id
        event, proof = store.inclusion_proof(wanted, size)
    doc = inclusion_document(origin=origin, size=proof.size, root=proof.root,
                             index=proof.index, leaf=proof.leaf_hash, proof=proof.proof,
                             event={**envelope_of(event), "hash": event.hash}, checkpoint=note)
    _write(out, json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    click.echo(f"inclusion of position {event.position} in the tree of size {proof.size:,}: "
               f"{len(proof.proof)} hashes" + (f", written to {out}" if out else ""), err=True)


def _kept_checkpoint(store: EventStore, name: str, key_file: str | None,
                     origin: str) -> tuple[str, Checkpoint]:
    """A checkpoint file an auditor kept: its note, and its checkpoint once the signature
    is checked (the key given, or the store's) and the log shown to extend it."""
    note = _checkpoint_note(name)
    signed = _open_note(note, _key_for(store, note, key_file, name), origin, name)
    _check_against(store, signed, name)
    return note, signed


def _check_against(store: EventStore, signed: Checkpoint, where: str) -> None:
    """The library's rule (:func:`eventstore.audit.checker.check_prefix`), said of the file."""
    from ..audit.checker import check_prefix

    try:
        check_prefix(signed, store.head()[0], lambda size: store.tree_head(size).root)
    except AuditError as err:
        raise AuditError(f"{where}: {err}") from None


@audit.command("consistency")
@click.option("--from", "from_file", required=True, metavar="OLD",
              help="The older checkpoint, as an auditor kept it.")
@click.option("--to", "to_file", metavar="NEW",
              help="The newer checkpoint (default: the current tree, unsigned).")
@click.option("--key", "key_file", metavar="FILE.pub",
              help="The verifier key (default: the store's, if it issued the checkpoints).")
@click.option("--out", metavar="FILE", help="Write the proof here (default stdout).")
@db_option
def consistency(from_file: str, to_file: str | None, key_file: str | None, out: str | None,
                db: str | None) -> None:
    """A consistency proof: the log of the newer head only extends the older checkpoint."""
    from ..audit.proofs import consistency_document

    with open_store(db) as store:
        origin = store.origin()
        old_note, old = _kept_checkpoint(store, from_file, key_file, origin)
        new_note, size2 = None, None
        if to_file is not None:
            new_note, new = _kept_checkpoint(store, to_file, key_file, origin)
            size2 = new.size
        proof = store.consistency_proof(old.size, size2)
    doc = consistency_document(origin=origin, size1=proof.size1, size2=proof.size2,
                               root1=proof.root1, root2=proof.root2, proof=proof.proof,
                               from_checkpoint=old_note, to_checkpoint=new_note)
    _write(out, json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    click.echo(f"consistency of size {proof.size1:,} with size {proof.size2:,}: "
               f"{len(proof.proof)} hashes" + (f", written to {out}" if out else ""), err=True)


@audit.command("check-proof")
@click.argument("proof_file", metavar="PROOF")
@click.option("--key", "key_file", required=True, metavar="FILE.pub",
              help="The verifier key that signed the checkpoint(s).")
@format_option("table", "json")
def check_proof_command(proof_file: str, key_file: str, fmt: str) -> None:
    """Check an inclusion or consistency proof, with no database (exit 0: it holds)."""
    from ..audit.proofs import check_proof
    from ..audit.verifier import VerificationError

    key = _verifier(key_file)
    text = _read_text(proof_file, "proof")
    try:
        doc = loads(text, proof_file)
    except ValidationError as err:
        raise AuditError(f"{err}; not a proof document") from None
    try:
        summary = check_proof(doc, key)
    except VerificationError as err:
        raise AuditError(f"{proof_file}: the proof does not hold: {err}") from None
    render.emit(fmt, {"ok": True, "proved": summary}, lambda d: f"ok: {d['proved']}")


@audit.command("verify")
@click.option("--key", "key_files", multiple=True, metavar="FILE.pub",
              help="A verifier key you trust (repeatable): every checkpoint must be signed by one.")
@click.option("--file", "export_file", metavar="EXPORT",
              help="Check an export file instead of a database (no database needed).")
@click.option("--require-signed", is_flag=True,
              help="Fail if any event at the log's end is covered by no checkpoint signed by "
                   "a --key you trust.")
@common
def verify_command(key_files: Sequence[str], export_file: str | None, require_signed: bool,
                   db: str | None, fmt: str) -> None:
    """Check the whole log: chain, record times, versions, payloads, citations, tree,
    checkpoints, triggers."""
    from ..storage.transfer import verify_export

    if require_signed and not key_files:
        raise click.UsageError("--require-signed needs --key: only a key you trust tells a "
                               "checkpoint the writer signed from one forged beside the log")
    keys = [_verifier(name) for name in key_files]
    if export_file is not None:
        report = verify_export(_lines(export_file), export_file, keys,
                               require_signed=require_signed)
        where = export_file
    else:
        with open_store(db) as store:
            report = store.verify(keys, require_signed=require_signed)
            where = store.url
    render.emit(fmt, report.to_dict(), lambda _: _report_text(report, where))
    if not report.ok:
        sys.exit(1)


def _report_text(report: Report, where: str) -> str:
    lines = []
    if report.ok:
        lines.append(f"ok: {where}: {report.events:,} events in {report.tracks:,} streams, "
                     f"{report.citations:,} citations against {report.sources:,} sources, "
                     f"{len(report.checkpoints)} checkpoint(s); root {report.root.hex()}")
    else:
        lines.append(f"FAILED: {where}: {report.problem_count:,} problem(s); the first: "
                     f"{report.first}")
        lines += [f"  {problem}" for problem in report.problems[1:20]]
    if report.trusted_keys and report.events:
        lines.append(_signed_text(report))
    if report.erased_payloads or report.erased_sources or report.erasures:
        lines.append(f"erased for legal reasons (not tampering): {len(report.erased_payloads)} "
                     f"payload(s), {len(report.erased_sources)} source text(s) and the quotes "
                     f"of {report.erased_citations} fact(s) citing them")
        for erasure in report.erasures:
            target = (f"source {erasure.target[:16]}" if erasure.kind == "source"
                      else f"payload at position {erasure.target}")
            lines.append(f"  position {erasure.position}: {target}, by {erasure.erased_by} on "
                         f"{erasure.erased_at}: {erasure.reason}")
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)


def _signed_text(report: Report) -> str:
    if report.unsigned == 0:
        return f"signed: checkpoints signed by a key you trust cover all {report.events:,} events"
    covered = (f"cover positions 1–{report.signed:,}" if report.signed
               else "cover no event")
    return (f"unsigned: checkpoints signed by a key you trust {covered}; the last "
            f"{report.unsigned:,} event(s) are covered by none (--require-signed fails on "
            "them)")


def _lines(name: str) -> Iterator[bytes]:
    """The export's lines, split on ``\\n`` only (decoded, and refused, line by line)."""
    try:
        with open(name, "rb") as handle:  # noqa: PTH123
            yield from handle
    except OSError as err:
        raise AuditError(f"{name}: cannot read the export ({err.strerror or err})") from None


@click.command("replay")
@click.option("--to", "to", required=True, metavar="TIME",
              help="The record time to go back to (UTC; a bare day means its end).")
@click.option("--track", help="Only this track.")
@click.option("--checkpoint", "checkpoint_file", metavar="FILE",
              help="Check the log up to there against this checkpoint first.")
@click.option("--key", "key_file", metavar="FILE.pub",
              help="The verifier key of the checkpoint.")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="Changes since listed one by one (all are counted).")
@db_option
@format_option("table", "json", "markdown")
def replay(to: str, track: str | None, checkpoint_file: str | None, key_file: str | None,
           limit: int, db: str | None, fmt: str) -> None:
    """What the store knew at a past moment, and what it learned since."""
    when = parse_moment(to, "--to")
    assert when is not None  # --to is required
    with open_store(db) as store:
        note = key = None
        if checkpoint_file is not None:
            note = _checkpoint_note(checkpoint_file)
            key = _key_for(store, note, key_file, checkpoint_file)
        result = store.replay(when, track=track, checkpoint=note, key=key,
                              changes_limit=limit)
    render.emit("json" if fmt == "json" else "table", _replay_doc(result),
                lambda _: _replay_text(result, markdown=fmt == "markdown"))
    if result.check is not None and not result.check.ok:
        sys.exit(1)


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "plover"]), default="jsonl",
              show_default=True,
              help="jsonl: the whole log, for an auditor or an import (docs/auditing.md). "
                   "plover: one PLOVER event record a line for each fact PLOVER codes, as "
                   "the store folds it now (docs/plover.md).")
@click.option("--out", metavar="FILE", help="Write here (default stdout).")
@click.option("--track", "tracks", multiple=True, metavar="TRACK",
              help="plover: only this track (repeatable; default every track).")
@click.option("--dyadic", is_flag=True,
              help="plover: CAMEO's dyadic form, one directed record per pair of countries, "
                   "instead of PLOVER's actor lists.")
@click.option("--uncoded", type=click.Choice(["omit", "include"]), default=None,
              help="plover: leave out the facts PLOVER does not code (omit, the default), or "
                   "write them with has_event false and the reason in not_coded (include). "
                   "Either way the facts not coded are listed on stderr.")
@db_option
def export(fmt: str, out: str | None, tracks: Sequence[str], dyadic: bool,
           uncoded: str | None, db: str | None) -> None:
    """Write the whole log (events, payloads, citations, sources, checkpoints), or the
    facts as PLOVER event records (--format plover)."""
    if fmt != "plover":
        given = [name for name, value in (("--track", tracks), ("--dyadic", dyadic),
                                          ("--uncoded", uncoded)) if value]
        if given:
            raise ValidationError(f"{given[0]} applies to --format plover only (the jsonl "
                                  "export is the whole log)", where="export")
    with open_store(db) as store:
        if fmt == "plover":
            from ..plover import plover_export

            result = plover_export(store, tracks, dyadic=dyadic,
                                   uncoded="include" if uncoded == "include" else "omit")
            lines: Iterable[str] = result.lines()
            note = result.summary()
        else:
            lines = store.export()
            note = None
        _write_lines(lines, out)
    if note is not None:
        click.echo(note, err=True)
    if out is not None:
        click.echo(f"exported to {out}", err=True)


def _write_lines(lines: Iterable[str], out: str | None) -> None:
    """Each line to stdout, or to ``out`` whole (a partial file renamed when complete)."""
    if out is None:
        for line in lines:
            click.echo(line)
        return
    temporary = f"{out}.partial"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:  # noqa: PTH123
            for line in lines:
                handle.write(line + "\n")
        os.replace(temporary, out)
    except OSError as err:
        Path(temporary).unlink(missing_ok=True)
        raise AuditError(f"{out}: cannot write ({err.strerror or err})") from None


@click.command("import")
@click.argument("export_file", metavar="EXPORT")
@click.option("--key", "key_files", multiple=True, metavar="FILE.pub",
              help="A verifier key you trust for the export's checkpoints (repeatable).")
@common
def import_command(export_file: str, key_files: Sequence[str], db: str | None,
                   fmt: str) -> None:
    """Load an export into an empty database, after checking all of it."""
    keys = [_verifier(name) for name in key_files]
    with open_store(db) as store:
        report = store.import_export(lambda: _lines(export_file), export_file, keys)
    render.emit(fmt, {"imported": report.events, "root": report.root.hex(),
                      "checkpoints": len(report.checkpoints)},
                lambda d: f"imported {d['imported']:,} events; root {d['root']}")


def _replay_doc(result: Replay) -> dict[str, Any]:
    return {
        "known_at": result.known_at.isoformat(), "position": result.position,
        "size": result.size, "tracks": [state.to_dict() for state in result.states],
        "since": {"counts": result.counts,
                  "changes": [change.to_dict() for change in result.changes]},
        "check": None if result.check is None else result.check.to_dict(),
    }


def _replay_text(result: Replay, *, markdown: bool) -> str:
    out = [f"{'# ' if markdown else ''}The store as known at {result.known_at.isoformat()}: "
           f"positions 1–{result.position:,} of {result.size:,}"]
    check = result.check
    if check is not None:
        out.append(("checked against the checkpoint: ok, " if check.ok else
                    f"CHECK FAILED: {check.first}; ") + f"{check.events:,} events checked")
        if not check.ok:
            out.append("no track state is shown: the log does not check out "
                       "(run `eventstore audit verify`)")
    for state in result.states:
        out += ["", render.state_text(state, markdown=markdown)]
    counts = result.counts
    out += ["", f"{'## ' if markdown else ''}Since then: {counts['added']:,} added, "
                f"{counts['retracted']:,} retracted, {counts['corrected']:,} corrected, "
                f"{counts['erased']:,} erased"]
    for change in result.changes:
        target = f" → {change.target}" if change.target else ""
        out.append(f"{'- ' if markdown else '  '}{change.position}  {change.kind:<9} "
                   f"{change.track}  {change.type}{target}  "
                   f"({change.recorded_at.isoformat()})")
    return "\n".join(out)


__all__ = ["audit", "export", "import_command", "replay"]
