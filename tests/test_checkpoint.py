"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, Ed25519 keys in
the golang.org/x/mod/sumdb/note text forms (eventstore.audit.verifier)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstore import Checkpoint, SignerKey, generate_key, parse_signer_key, parse_verifier_key
from eventstore.audit.verifier import (
    EMPTY_ROOT,
    KeyFormatError,
    VerificationError,
    open_checkpoint,
    open_note,
    parse_checkpoint_body,
    sign_checkpoint,
    sign_note,
)

NAME = "facts.example/log"
SEED = bytes(range(32))
ROOT = hashlib.sha256(b"root").digest()
ROOT64 = "SBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I="
DASH = "\u2014"
ED25519 = b"\x01"  # the algorithm byte of an Ed25519 key


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def fixed_key() -> SignerKey:
    """The key of seed 00 01 .. 1f named NAME, built without the module's parsers."""
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    public = private.public_key().public_bytes_raw()
    key_id = hashlib.sha256(NAME.encode() + b"\n" + b"\x01" + public).digest()[:4]
    return SignerKey(NAME, key_id, private)


@pytest.fixture(scope="module")
def key() -> SignerKey:
    return generate_key("facts.example/test")


@pytest.fixture(scope="module")
def other() -> SignerKey:
    return generate_key("witness.example/w1")


# --- the format, byte for byte ------------------------------------------------------

def test_fixed_key_texts_and_key_id() -> None:
    k = fixed_key()
    public = k.private.public_key().public_bytes_raw()
    # key id = SHA-256(name || 0x0A || 0x01 || public key)[:4]
    assert k.key_id == hashlib.sha256(b"facts.example/log\n\x01" + public).digest()[:4]
    assert k.key_id.hex() == "bd150f2f"
    assert k.text() == f"PRIVATE+KEY+{NAME}+bd150f2f+{b64(ED25519 + SEED)}"
    assert k.text() == ("PRIVATE+KEY+facts.example/log+bd150f2f+"
                        "AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f")
    assert k.verifier().text() == f"{NAME}+bd150f2f+{b64(ED25519 + public)}"
    assert k.verifier().text() == ("facts.example/log+bd150f2f+"
                                   "AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4")
    assert parse_signer_key(k.text()) == k
    assert parse_verifier_key(k.verifier().text()) == k.verifier()


def test_fixed_checkpoint_bytes() -> None:
    k = fixed_key()
    checkpoint = Checkpoint(NAME, 42, ROOT)
    body = b"facts.example/log\n42\n" + ROOT64.encode() + b"\n"
    assert checkpoint.body() == body
    note = sign_checkpoint(checkpoint, k)
    signature = k.private.sign(body)  # Ed25519 is deterministic
    assert note == body.decode() + "\n" + f"{DASH} {NAME} {b64(k.key_id + signature)}\n"
    assert note == (
        "facts.example/log\n42\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n\n"
        "\u2014 facts.example/log vRUPLwZdWBQsbU6XeD4DTGkxbk7PwMUo6KysPEDj3o/6wDE2D/Ga91S36v1N"
        "8WU9RXz5rD3GT3VYelvRfaH0TRYNvww=\n")
    # the signature line: em dash, space, name, space, base64(4-byte key id || 64 bytes)
    line = note.split("\n")[-2]
    match = re.fullmatch(r"\u2014 (\S+) ([A-Za-z0-9+/]+=*)", line)
    assert match and match.group(1) == NAME
    raw = base64.b64decode(match.group(2))
    assert len(raw) == 68 and raw[:4] == k.key_id
    assert open_checkpoint(note, k.verifier(), origin=NAME) == checkpoint
    assert open_checkpoint(note.encode(), k.verifier()) == checkpoint


def test_fixed_checkpoint_with_extension_lines() -> None:
    checkpoint = Checkpoint(NAME, 42, ROOT, ("ext one",))
    note = sign_checkpoint(checkpoint, fixed_key())
    assert note.startswith(f"{NAME}\n42\n{ROOT64}\next one\n\n{DASH} {NAME} vRUPLy")
    assert open_checkpoint(note, fixed_key().verifier()) == checkpoint


# --- round trips --------------------------------------------------------------------

_no_controls = st.characters(codec="utf-8", min_codepoint=0x20)
origins = st.text(_no_controls, min_size=1, max_size=40)
extension_lines = st.lists(st.text(_no_controls, min_size=1, max_size=30), max_size=3)


@settings(max_examples=60, deadline=None)
@given(origins, st.integers(0, 2**64 - 1), st.binary(min_size=32, max_size=32),
       extension_lines)
def test_sign_open_round_trip(origin: str, size: int, root: bytes,
                              extensions: list[str]) -> None:
    k = fixed_key()
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert parse_checkpoint_body(checkpoint.body()) == checkpoint
    assert parse_checkpoint_body(checkpoint.body().decode()) == checkpoint
    note = sign_checkpoint(checkpoint, k)
    assert open_checkpoint(note, k.verifier(), origin=origin) == checkpoint


def test_generated_keys_round_trip(key: SignerKey) -> None:
    assert parse_signer_key(key.text()) == key
    assert parse_verifier_key(key.verifier().text()) == key.verifier()
    assert parse_verifier_key(" " + key.verifier().text() + "\n") == key.verifier()
    assert hash(parse_verifier_key(key.verifier().text())) == hash(key.verifier())
    assert len({key.verifier(), parse_verifier_key(key.verifier().text())}) == 1
    assert key != generate_key(key.name)
    # PRIVATE+KEY+<name>+<key id>+<base64>: the base64 may itself hold a "+".
    secret = key.text().split("+", 4)[4]
    assert len(secret) == 44 and secret not in repr(key)
    empty = Checkpoint("facts.example/test", 0, EMPTY_ROOT)
    assert open_checkpoint(sign_checkpoint(empty, key), key.verifier()) == empty


def test_other_signatures_are_ignored(key: SignerKey, other: SignerKey) -> None:
    checkpoint = Checkpoint("facts.example/test", 7, ROOT)
    ours = sign_checkpoint(checkpoint, key)
    theirs = sign_checkpoint(checkpoint, other)
    cosigned = ours + theirs.split("\n\n")[1]
    assert cosigned.count(DASH) == 2
    assert open_checkpoint(cosigned, key.verifier()) == checkpoint
    assert open_checkpoint(cosigned, other.verifier()) == checkpoint
    # A signature line whose algorithm we do not know (here a short blob) is ignored too.
    unknown = ours + f"{DASH} someone.example/else {b64(b'1234' + b'x' * 10)}\n"
    assert open_checkpoint(unknown, key.verifier()) == checkpoint
    # The same signature twice is fine.
    twice = ours + ours.split("\n\n")[1]
    assert open_checkpoint(twice, key.verifier()) == checkpoint


# --- refusals -----------------------------------------------------------------------

@pytest.mark.parametrize(("body", "message"), [
    ("", "does not end with a newline"),
    (f"{NAME}\n42\n{ROOT64}", "does not end with a newline"),
    (f"{NAME}\n42\n", "has 2 lines; it needs at least 3"),
    ("\n", "has 1 line;"),
    (f"\n42\n{ROOT64}\n", r"line 1 \(origin\): the origin is empty"),
    (f"{NAME}\n\n{ROOT64}\n", r"line 2 \(tree size\): '' is not a decimal number"),
    (f"{NAME}\n042\n{ROOT64}\n", r"line 2 \(tree size\): '042' has a leading zero"),
    (f"{NAME}\n00\n{ROOT64}\n", "has a leading zero"),
    (f"{NAME}\n-1\n{ROOT64}\n", "'-1' is not a decimal number"),
    (f"{NAME}\n+1\n{ROOT64}\n", "'\\+1' is not a decimal number"),
    (f"{NAME}\n 1\n{ROOT64}\n", "is not a decimal number"),
    (f"{NAME}\n1_0\n{ROOT64}\n", "is not a decimal number"),
    (f"{NAME}\n\u0664\u0662\n{ROOT64}\n", "is not a decimal number"),
    (f"{NAME}\n0x10\n{ROOT64}\n", "is not a decimal number"),
    (f"{NAME}\n18446744073709551616\n{ROOT64}\n", r"larger than 2\*\*64 - 1"),
    (f"{NAME}\n42\n\n", r"line 3 \(root hash\): the root is 0 bytes long"),
    (f"{NAME}\n42\n{ROOT64[:-1]}\n", r"line 3 \(root hash\) is not standard base64"),
    (f"{NAME}\n42\n{ROOT64[:-2]}J=\n", "not the canonical base64"),  # unused bits set
    (f"{NAME}\n42\n{ROOT64.replace('+', '-')}\n", "is not standard base64"),
    (f"{NAME}\n42\n {ROOT64}\n", "is not standard base64"),
    (f"{NAME}\n42\n{b64(ROOT[:31])}\n", "the root is 31 bytes long"),
    (f"{NAME}\n42\n{b64(ROOT + b'!')}\n", "the root is 33 bytes long"),
    (f"{NAME}\n42\n{ROOT64}\n\nmore\n", r"line 4 \(extension\): an extension line is empty"),
    (f"{NAME}\n42\n{ROOT64}\nok\n\n", r"line 5 \(extension\): an extension line is empty"),
    (f"{NAME}\r\n42\n{ROOT64}\n", "control character U\\+000D"),
    (f"{NAME}\t\n42\n{ROOT64}\n", "control character U\\+0009"),
])
def test_malformed_bodies_are_refused(body: str, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        parse_checkpoint_body(body)


def test_body_that_is_not_utf8() -> None:
    with pytest.raises(VerificationError, match="not valid UTF-8"):
        parse_checkpoint_body(b"\xff\n42\n" + ROOT64.encode() + b"\n")


@pytest.mark.parametrize(("fields", "message"), [
    (("", 1, ROOT, ()), "the origin is empty"),
    (("a\nb", 1, ROOT, ()), "the origin contains a newline"),
    (("a\x00", 1, ROOT, ()), "control character"),
    (("a\udc80", 1, ROOT, ()), "lone surrogate"),
    (("a", -1, ROOT, ()), "non-negative integer"),
    (("a", True, ROOT, ()), "non-negative integer"),
    (("a", 2**64, ROOT, ()), "larger than"),
    (("a", 1, ROOT[:-1], ()), "31 bytes long"),
    (("a", 1, ROOT, ("",)), "extension line is empty"),
    (("a", 1, ROOT, ("x\ny",)), "extension line contains a newline"),
])
def test_checkpoint_refuses_what_it_cannot_write(fields: tuple[str, int, bytes, tuple[str]],
                                                 message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        Checkpoint(*fields)


def test_malformed_notes(key: SignerKey) -> None:
    note = sign_checkpoint(Checkpoint("facts.example/test", 3, ROOT), key)
    body, signature = note.split("\n\n")
    vk = key.verifier()
    cases = [
        (body + "\n" + signature, "no blank line between the text and the signature"),
        (body + "\n\n", "no signature line after the last blank line"),
        (note[:-1], "the last signature line does not end with a newline"),
        (body + "\n\n" + signature.replace(DASH, "-"), "signature line 1 does not start "
                                                       "with an em dash"),
        (body + "\n\n" + signature.replace(DASH + " ", DASH), "does not start with an em"),
        (note + "\n", "no signature line after the last blank line"),
        (note + "extra\n", "signature line 2 does not start with an em dash"),
        (body + "\n\n" + f"{DASH} a+b {b64(bytes(68))}\n", "contains white space or '\\+'"),
        (body + "\n\n" + f"{DASH}  {b64(bytes(68))}\n", "the key name is empty"),
        (body + "\n\n" + f"{DASH} name\n", "the signature is 0 bytes long"),
        (body + "\n\n" + f"{DASH} name AAAA\n", "the signature is 3 bytes long"),
        (body + "\n\n" + f"{DASH} name %%%%\n", "is not standard base64"),
        (note.replace("\n", "\r\n"), "control character U\\+000D"),
        (note + signature * 100, "101 signature lines"),
    ]
    for text, message in cases:
        with pytest.raises(VerificationError, match=message):
            open_checkpoint(text, vk)
    with pytest.raises(VerificationError, match="not valid UTF-8"):
        open_checkpoint(note.encode()[:5] + b"\xc3" + note.encode()[5:], vk)


def test_note_signed_by_other_keys(key: SignerKey, other: SignerKey) -> None:
    checkpoint = Checkpoint("facts.example/test", 3, ROOT)
    theirs = sign_checkpoint(checkpoint, other)
    with pytest.raises(VerificationError,
                       match=r"not signed by the key facts\.example/test \(key id [0-9a-f]{8}\); "
                             r"signed by other keys: witness\.example/w1$"):
        open_checkpoint(theirs, key.verifier())
    third = generate_key("witness.example/w2")
    both = theirs + sign_checkpoint(checkpoint, third).split("\n\n")[1]
    with pytest.raises(VerificationError,
                       match="signed by other keys: witness.example/w1, witness.example/w2$"):
        open_checkpoint(both, key.verifier())
    # Same name, another key: its signature is not ours (the key id differs), and says so.
    impostor = generate_key(key.name)
    with pytest.raises(VerificationError, match=rf"signed by other keys: facts\.example/test "
                                                rf"\(key id {impostor.key_id.hex()}\)"):
        open_checkpoint(sign_checkpoint(checkpoint, impostor), key.verifier())


def test_changed_body_or_signature_is_refused(key: SignerKey) -> None:
    note = sign_checkpoint(Checkpoint("facts.example/test", 1234, ROOT, ("x",)), key)
    vk = key.verifier()
    body, signature = note.split("\n\n")
    for i, char in enumerate(body):
        if char == "\n":
            continue
        changed = body[:i] + ("B" if char != "B" else "C") + body[i + 1:]
        with pytest.raises(VerificationError, match="does not verify"):
            open_checkpoint(changed + "\n\n" + signature, vk)
    name, sig64 = signature[2:-1].split(" ")
    raw = base64.b64decode(sig64)
    for byte in range(4, 68, 7):
        damaged = bytearray(raw)
        damaged[byte] ^= 0x40
        line = f"{DASH} {name} {b64(bytes(damaged))}\n"
        with pytest.raises(VerificationError, match="does not verify"):
            open_checkpoint(body + "\n\n" + line, vk)
    # A flipped key id makes it another key's signature.
    damaged = bytearray(raw)
    damaged[0] ^= 1
    with pytest.raises(VerificationError, match="not signed by the key"):
        open_checkpoint(body + "\n\n" + f"{DASH} {name} {b64(bytes(damaged))}\n", vk)
    # A good signature of ours beside a bad one of ours: the note is refused.
    bad = bytearray(raw)
    bad[10] ^= 1
    with pytest.raises(VerificationError, match="does not verify"):
        open_checkpoint(note + f"{DASH} {name} {b64(bytes(bad))}\n", vk)
    # A shorter signature (truncated) does not verify either.
    with pytest.raises(VerificationError, match="does not verify"):
        open_checkpoint(body + "\n\n" + f"{DASH} {name} {b64(raw[:40])}\n", vk)


def test_origin_mismatch(key: SignerKey) -> None:
    note = sign_checkpoint(Checkpoint("facts.example/test", 3, ROOT), key)
    with pytest.raises(VerificationError,
                       match="the checkpoint is for the log 'facts.example/test', not "
                             "'facts.example/prod'"):
        open_checkpoint(note, key.verifier(), origin="facts.example/prod")


def test_signed_note_that_is_not_a_checkpoint(key: SignerKey) -> None:
    note = sign_note("hello\n", key)
    assert open_note(note, key.verifier()) == "hello\n"
    with pytest.raises(VerificationError, match="has 1 line"):
        open_checkpoint(note, key.verifier())
    with pytest.raises(VerificationError, match="does not end with a newline"):
        sign_note("hello", key)


# --- key texts ----------------------------------------------------------------------

def test_key_of_the_wrong_kind(key: SignerKey) -> None:
    with pytest.raises(KeyFormatError, match="this is a private key; give the verifier key"):
        parse_verifier_key(key.text())
    with pytest.raises(KeyFormatError,
                       match=r"this is a verifier \(public\) key; give the signer key"):
        parse_signer_key(key.verifier().text())


@pytest.mark.parametrize(("text", "message"), [
    ("", "not a verifier key: expected <name>\\+<key id>\\+<key>"),
    ("hello", "not a verifier key"),
    ("a+b", "not a verifier key"),
    ("name+c74f20a3+", "not a verifier key"),
    ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "the verifier key's name is "
                                                               "empty"),
    ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
     "contains white space"),
    ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
     "the key id 'c74f20a' is not 8 hex digits"),
    ("PeterNeumann+c74f20ax+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "not 8 hex"),
    ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
     "key part is not standard base64"),
    ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW!",
     "key part is not standard base64"),
    ("PeterNeumann+c74f20a3+AhpjZA==", "algorithm byte is 0x02; only Ed25519 \\(0x01\\)"),
    ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA==",
     "Ed25519 key is 33 bytes long, not 32"),
    ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
     "id c74f20a4 does not match its name and key \\(they give c74f20a3\\)"),
    ("PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
     "does not match its name and key"),
])
def test_bad_verifier_keys(text: str, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message):
        parse_verifier_key(text)


SECRET = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"


@pytest.mark.parametrize(("text", "message"), [
    ("", "not a signer key: expected PRIVATE\\+KEY\\+"),
    ("hello", "not a signer key"),
    ("PRIVATE+KEY+", "not a signer key"),
    (f"PRIVATE+KEY+{SECRET}", "not a signer key"),
    (f"PRIVATE+KEY+PeterNeumann+{SECRET}", "the key id is not 8 hex digits"),
    (f"PRIVATE+KEY+Peter Neumann+c74f20a3+{SECRET}", "contains white space"),
    (f"PRIVATE+KEY+PeterNeumann+c74f20a3+{SECRET[:-1]}", "key part is not standard base64"),
    (f"PRIVATE+KEY+PeterNeumann+c74f20a3+{b64(bytes([2]) + bytes(32))}", "algorithm byte is 0x02"),
    (f"PRIVATE+KEY+PeterNeumann+c74f20a3+{b64(ED25519 + bytes(31))}", "31 bytes long, not 32"),
    (f"PRIVATE+KEY+PeterNeumann+c74f20a4+{SECRET}", "id does not match its name and key"),
    (f"private+key+PeterNeumann+c74f20a3+{SECRET}", "not a signer key"),
])
def test_bad_signer_keys_never_repeat_the_secret(text: str, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message) as caught:
        parse_signer_key(text)
    for part in (SECRET, SECRET[:12], SECRET[-12:]):
        assert part not in str(caught.value)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\there", "nbsp\u00a0here"])
def test_bad_key_names(name: str) -> None:
    with pytest.raises(KeyFormatError):
        generate_key(name)


def test_key_errors_are_verification_errors() -> None:
    assert issubclass(KeyFormatError, VerificationError)
    assert issubclass(VerificationError, ValueError)


# --- interoperability with the Go and C2SP reference examples -----------------------

# golang.org/x/mod/sumdb/note package documentation (and its TestSign / ExampleOpen).
PN_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PN_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PN_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
PN_NOTE = (PN_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
           "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")


def test_go_note_example() -> None:
    signer = parse_signer_key(PN_SIGNER)
    verifier = parse_verifier_key(PN_VERIFIER)
    assert signer.name == verifier.name == "PeterNeumann"
    assert signer.key_id.hex() == verifier.key_id.hex() == "c74f20a3"
    assert signer.verifier() == verifier
    assert signer.text() == PN_SIGNER
    assert verifier.text() == PN_VERIFIER
    assert sign_note(PN_TEXT, signer) == PN_NOTE
    assert open_note(PN_NOTE, verifier) == PN_TEXT
    assert open_note(PN_NOTE.encode(), verifier) == PN_TEXT
    with pytest.raises(VerificationError, match="does not verify"):
        open_note(PN_NOTE.replace("answer", "answers"), verifier)


def test_c2sp_signed_note_example() -> None:
    # The example of c2sp.org/signed-note at C2SP/C2SP commit d4c16da5e7687a016619074e78dad84b2c.
    verifier = parse_verifier_key(
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
    note = ("This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1"
            "YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")
    assert open_note(note, verifier) == "This is an example message.\n"


def test_go_checksum_database_checkpoint() -> None:
    # A signed tree head served by sum.golang.org: a real C2SP checkpoint. The key is the
    # Go checksum database's, built into cmd/go; that the signature verifies under it is
    # what makes this a known-good note.
    verifier = parse_verifier_key(
        "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
    note = ("go.sum database tree\n31700353\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n\n"
            "\u2014 sum.golang.org Az3grnmrIUEDFqHzAElIQCPNoRFRAAdFo47fooyWKMHb89k11GJh5zHIfNCOB"
            "mwn/C3YI8oW9/C8DJ87F61QqspBYwM=\n")
    checkpoint = open_checkpoint(note, verifier, origin="go.sum database tree")
    assert checkpoint.size == 31700353
    assert checkpoint.root == base64.b64decode("qINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=")
    assert checkpoint.extensions == ()
    with pytest.raises(VerificationError, match="does not verify"):
        open_checkpoint(note.replace("31700353", "31700354"), verifier)
