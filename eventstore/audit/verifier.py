"""Checking eventstore's Merkle proofs and signed checkpoints: the auditor's module.

This file needs only the Python standard library and ``cryptography`` (for Ed25519). It
imports nothing from eventstore, so an auditor can copy it alone and check what a log
hands out without trusting the log's code. Everything it accepts is specified below,
precisely enough to re-implement it in another language. Every refusal is a
:class:`VerificationError` whose message says what is wrong.

May import: the standard library, and ``cryptography`` where a key is made, read or
used; nothing of eventstore (``tests/test_layout.py`` checks).

Hashing (RFC 9162, section 2.1)
===============================

The log is a Merkle tree whose leaves are the events in position order; the leaf data
of the event at position *p* (leaf index *p - 1*) is its canonical envelope, the bytes
whose SHA-256 is the event's ``hash`` (``docs/integrity.md``).

* leaf hash: ``SHA-256(0x00 || data)``;
* interior node: ``SHA-256(0x01 || left || right)``;
* the root of the empty tree is ``SHA-256("")`` (``e3b0c442…b855``);
* the root of one leaf is its leaf hash; the root of *n > 1* leaves ``D[0:n]`` is
  ``node(MTH(D[0:k]), MTH(D[k:n]))`` where *k* is the largest power of two below *n*.

Every hash is 32 bytes. An inclusion proof of the leaf at index *i* in the tree of size
*n* is RFC 9162's ``PATH(i, D[0:n])`` (the sibling hashes from the leaf up), checked by
the algorithm of section 2.1.3.2 (:func:`root_from_inclusion_proof`). A consistency
proof from size *m* to size *n* is ``PROOF(m, D[0:n])`` (section 2.1.4.1), checked by the
algorithm of section 2.1.4.2 (:func:`verify_consistency`), with these rules on top,
which are those of the transparency-dev/merkle reference:

* a consistency proof from size 0 is refused, even from 0 to 0 (it proves nothing);
* size1 > size2 is refused;
* size1 == size2 needs an empty proof and root1 == root2 (compared as given, whatever
  their length, as the reference vectors expect).

Checkpoints (C2SP tlog-checkpoint, inside a C2SP signed note)
=============================================================

A checkpoint states the size and root of the log's tree. Its **body** is UTF-8 text::

    <origin>\\n
    <size>\\n
    <root>\\n
    <extension line>\\n      (zero or more, each non-empty)

* ``origin`` names the log; it is non-empty;
* ``size`` is the number of leaves in ASCII decimal, without leading zeros (the empty
  tree is ``0``), at most 2**64 - 1;
* ``root`` is the standard base64 (RFC 4648 section 4, with padding) of the 32-byte root
  hash of the tree of that size; it must be the canonical encoding of 32 bytes.

The **signed note** is the body, then one blank line (``\\n``), then one or more
signature lines::

    \u2014 <key name> <base64(key id || signature)>\\n

that is U+2014 EM DASH, a space, the key name, a space, and the standard base64 of the
4-byte key id followed by the 64-byte Ed25519 signature (RFC 8032) of the body bytes:
the text up to and including the body's last newline, without the blank line. The body
is separated from the signatures by the *last* blank line of the note. The note is
valid UTF-8 with no control character other than newline. Signatures by keys the
reader does not know are ignored; a note is accepted when the wanted key (same name
*and* same key id) signed it and every signature line of that key verifies. At most
100 signature lines are read (the spec asks for at least 16).

Keys (the ``golang.org/x/mod/sumdb/note`` text forms, Ed25519)
===============================================================

* key name: non-empty, no white space, no ``+``;
* key id: the first 4 bytes of ``SHA-256(key name || 0x0A || 0x01 || public key)``,
  where the public key is the 32-byte Ed25519 public key and ``0x01`` says Ed25519;
* verifier (public) key: ``<name>+<key id, 8 hex digits>+<base64(0x01 || public key)>``;
* signer (private) key:
  ``PRIVATE+KEY+<name>+<key id, 8 hex digits>+<base64(0x01 || 32-byte private seed)>``.

The hex key id is written in lower case; reading accepts either case, like the Go code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography is imported where keys are made, read or checked
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = [
    "HASH_SIZE", "EMPTY_ROOT", "VerificationError", "KeyFormatError",
    "leaf_hash", "node_hash", "root_of_leaves", "root_from_inclusion_proof",
    "verify_inclusion", "verify_consistency",
    "Checkpoint", "parse_checkpoint_body", "VerifierKey", "SignerKey", "generate_key",
    "parse_signer_key", "parse_verifier_key", "sign_note", "open_note", "sign_checkpoint",
    "checkpoint_of_note", "open_checkpoint",
]

#: The size of every hash: SHA-256.
HASH_SIZE = 32

#: The root of the empty tree: SHA-256 of no bytes (RFC 9162 section 2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


class VerificationError(ValueError):
    """A proof, checkpoint, note or key that does not check out; the message says why."""


class KeyFormatError(VerificationError):
    """Text that is not a key of the kind asked for."""


# --- hashing ------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of a leaf."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an interior node."""
    return _sha256(b"\x01" + left + right).digest()


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise VerificationError(f"{what} is {len(value)} bytes long; a SHA-256 hash is "
                                f"{HASH_SIZE}")


def _check_size(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise VerificationError(f"{what} must be a non-negative integer, not {value!r}")


def root_of_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """The root (RFC 9162 MTH) of the tree whose leaves have these hashes.

    Pairs neighbours level by level, carrying an odd last node up unchanged, which gives
    the same tree as the RFC's split at the largest power of two. O(n): for tests and
    small exports.
    """
    level = list(leaf_hashes)
    for i, value in enumerate(level):
        _check_hash(value, f"leaf hash {i}")
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


# --- proofs -------------------------------------------------------------------------


def _inclusion_length(index: int, size: int) -> int:
    """How many hashes PATH(index, D[0:size]) has (0 <= index < size)."""
    inner = (index ^ (size - 1)).bit_length()  # levels where the path has a sibling subtree
    return inner + (index >> inner).bit_count()  # + the perfect subtrees on the left border


def root_from_inclusion_proof(index: int, size: int, leaf: bytes,
                              proof: Sequence[bytes]) -> bytes:
    """The root that an inclusion proof of ``leaf`` at ``index`` gives (RFC 9162 2.1.3.2).

    Raises :class:`VerificationError` when the index is outside the tree, the proof has
    the wrong number of hashes for that index and size, or a hash is not 32 bytes.
    """
    _check_size(index, "the leaf index")
    _check_size(size, "the tree size")
    if index >= size:
        raise VerificationError(f"leaf index {index} is outside the tree of size {size}")
    _check_hash(leaf, "the leaf hash")
    want = _inclusion_length(index, size)
    if len(proof) != want:
        raise VerificationError(f"the inclusion proof has {len(proof)} hashes; that of leaf "
                                f"{index} in a tree of size {size} has {want}")
    for i, value in enumerate(proof):
        _check_hash(value, f"inclusion proof hash {i}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # not reachable after the length check; kept as the RFC's own test
        raise VerificationError("the inclusion proof is too short")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes],
                     root: bytes) -> None:
    """Check that ``leaf`` is at ``index`` in the tree of ``size`` with ``root``."""
    _check_hash(root, "the root")
    got = root_from_inclusion_proof(index, size, leaf, proof)
    if got != root:
        raise VerificationError(f"the inclusion proof of leaf {index} in the tree of size "
                                f"{size} gives the root {got.hex()}, not {root.hex()}")


def _consistency_length(size1: int, size2: int) -> int:
    """How many hashes PROOF(size1, D[0:size2]) has (0 < size1 < size2)."""
    shift = (size1 & -size1).bit_length() - 1  # the trailing zeros of size1
    index = size1 - 1
    inner = (index ^ (size2 - 1)).bit_length()
    border = (index >> inner).bit_count()
    seed = 0 if size1 == 1 << shift else 1  # the root of the old perfect subtree is given
    return seed + inner - shift + border


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes,
                       root2: bytes) -> None:
    """Check that the tree of ``size1`` with ``root1`` is a prefix of that of ``size2``.

    RFC 9162 2.1.4.2, plus: size1 == 0 is refused (even 0 -> 0), size1 > size2 is refused,
    and size1 == size2 needs an empty proof and equal roots.
    """
    _check_size(size1, "size1")
    _check_size(size2, "size2")
    if size1 == 0:
        raise VerificationError("a consistency proof from the empty tree (size1 0) proves "
                                "nothing and is refused")
    if size1 > size2:
        raise VerificationError(f"size1 {size1} is larger than size2 {size2}: a log "
                                "does not shrink")
    if size1 == size2:
        if proof:
            raise VerificationError(f"the consistency proof between equal sizes ({size1}) "
                                    f"must be empty, but has {len(proof)} hashes")
        if root1 != root2:
            raise VerificationError(f"the trees have the same size {size1} but different "
                                    f"roots: {root1.hex()} and {root2.hex()}")
        return
    _check_hash(root1, "root1")
    _check_hash(root2, "root2")
    want = _consistency_length(size1, size2)
    if len(proof) != want:
        raise VerificationError(f"the consistency proof has {len(proof)} hashes; that from "
                                f"size {size1} to size {size2} has {want}")
    for i, value in enumerate(proof):
        _check_hash(value, f"consistency proof hash {i}")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: its root starts the path
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:  # not reachable after the length check; kept as the RFC's own test
            raise VerificationError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("the consistency proof is too short")
    if fr != root1:
        raise VerificationError(f"the consistency proof from size {size1} to {size2} gives "
                                f"root1 {fr.hex()}, not {root1.hex()}")
    if sr != root2:
        raise VerificationError(f"the consistency proof from size {size1} to {size2} gives "
                                f"root2 {sr.hex()}, not {root2.hex()}")


# --- checkpoints --------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_DIGITS = re.compile(r"(?:0|[1-9][0-9]*)", re.ASCII)
_MAX_SIZE = 2**64 - 1


def _b64decode(text: str, what: str) -> bytes:
    """Strict standard base64: padded, nothing outside the alphabet, canonical."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise VerificationError(f"{what} is not standard base64: {_shorten(text)!r}") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise VerificationError(f"{what} is not the canonical base64 of its bytes: "
                                f"{_shorten(text)!r}")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _check_text(text: str, what: str) -> None:
    """UTF-8-encodable, and no control character other than newline (signed-note rule)."""
    match = _CONTROL.search(text)
    if match:
        raise VerificationError(f"{what} contains the control character "
                                f"U+{ord(match.group()):04X}, which a signed note forbids")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise VerificationError(f"{what} contains a lone surrogate code point, which is not "
                                "valid Unicode text") from None


def _check_origin(origin: str, where: str) -> None:
    if not isinstance(origin, str) or not origin:
        raise VerificationError(f"{where}: the origin is empty")
    if "\n" in origin:
        raise VerificationError(f"{where}: the origin contains a newline")
    _check_text(origin, f"{where}: the origin")


def _check_extension(line: str, where: str) -> None:
    if not isinstance(line, str) or not line:
        raise VerificationError(f"{where}: an extension line is empty (a checkpoint's "
                                "extension lines must be non-empty)")
    if "\n" in line:
        raise VerificationError(f"{where}: the extension line contains a newline")
    _check_text(line, f"{where}: the extension line")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: the ``root`` of its first ``size`` leaves, named by ``origin``."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_origin(self.origin, "checkpoint")
        _check_size(self.size, "the checkpoint's tree size")
        if self.size > _MAX_SIZE:
            raise VerificationError(f"the checkpoint's tree size {self.size} is larger "
                                    "than 2**64 - 1")
        _check_hash(self.root, "the checkpoint's root")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for i, line in enumerate(self.extensions):
            _check_extension(line, f"checkpoint extension {i + 1}")

    def body(self) -> bytes:
        """The note text: origin, size, base64 root and extension lines, each ending ``\\n``."""
        lines = [self.origin, str(self.size), _b64encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines).encode("utf-8")


def parse_checkpoint_body(body: bytes | str) -> Checkpoint:
    """Read a checkpoint body strictly; :class:`VerificationError` names the bad line."""
    text = _decode_note(body, "the checkpoint body")
    if not text.endswith("\n"):
        raise VerificationError("the checkpoint body does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise VerificationError(f"the checkpoint body has {len(lines)} line"
                                f"{'' if len(lines) == 1 else 's'}; it needs at least 3 "
                                "(origin, tree size, root hash)")
    origin, size_text, root_text, *extensions = lines
    _check_origin(origin, "checkpoint line 1 (origin)")
    where = "checkpoint line 2 (tree size)"
    if not _DIGITS.fullmatch(size_text):
        if size_text.isascii() and size_text.isdigit():
            raise VerificationError(f"{where}: {size_text!r} has a leading zero")
        raise VerificationError(f"{where}: {_shorten(size_text)!r} is not a decimal number")
    if len(size_text) > 20 or int(size_text) > _MAX_SIZE:
        raise VerificationError(f"{where}: {_shorten(size_text)} is larger than 2**64 - 1")
    where = "checkpoint line 3 (root hash)"
    root = _b64decode(root_text, where)
    if len(root) != HASH_SIZE:
        raise VerificationError(f"{where}: the root is {len(root)} bytes long; a SHA-256 "
                                f"hash is {HASH_SIZE}")
    for i, line in enumerate(extensions):
        _check_extension(line, f"checkpoint line {i + 4} (extension)")
    return Checkpoint(origin=origin, size=int(size_text), root=root,
                      extensions=tuple(extensions))


# --- keys ---------------------------------------------------------------------------

_ALG_ED25519 = 0x01
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_HEX8 = re.compile(r"[0-9a-fA-F]{8}", re.ASCII)


def _check_name(name: str, what: str = "the key name", *, secret: bool = False) -> None:
    if not isinstance(name, str) or not name:
        raise KeyFormatError(f"{what} is empty")
    if "+" in name or any(c.isspace() for c in name):
        shown = "" if secret else f" {name!r}"
        raise KeyFormatError(f"{what}{shown} contains white space or '+', which a key name "
                             "may not")
    _check_text(name, what)


def _raw_public(public: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _key_id(name: str, public: Ed25519PublicKey) -> bytes:
    """First 4 bytes of ``SHA-256(name || 0x0A || 0x01 || 32-byte public key)``."""
    return _sha256(name.encode("utf-8") + b"\n" + bytes([_ALG_ED25519])
                   + _raw_public(public)).digest()[:4]


@dataclass(frozen=True, eq=False)
class VerifierKey:
    """The public half of a log's Ed25519 key, with its name and key id."""

    name: str
    key_id: bytes
    public: Ed25519PublicKey

    def __post_init__(self) -> None:
        _check_name(self.name)
        want = _key_id(self.name, self.public)
        if self.key_id != want:
            raise KeyFormatError(f"the key id {self.key_id.hex()} is not that of key "
                                 f"{self.name!r} ({want.hex()})")

    def _identity(self) -> tuple[str, bytes, bytes]:
        return self.name, self.key_id, _raw_public(self.public)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VerifierKey):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def text(self) -> str:
        """``<name>+<8 hex key id>+<base64(0x01 || public key)>``."""
        raw = bytes([_ALG_ED25519]) + _raw_public(self.public)
        return f"{self.name}+{self.key_id.hex()}+{_b64encode(raw)}"


@dataclass(frozen=True, eq=False)
class SignerKey:
    """A log's Ed25519 signing key, with its name and key id. Keep its text secret."""

    name: str
    key_id: bytes
    private: Ed25519PrivateKey

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.key_id != _key_id(self.name, self.private.public_key()):
            raise KeyFormatError(f"the key id {self.key_id.hex()} is not that of key "
                                 f"{self.name!r}")

    def __repr__(self) -> str:
        return f"SignerKey(name={self.name!r}, key_id={self.key_id.hex()!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SignerKey):
            return NotImplemented
        return self.verifier() == other.verifier()

    def __hash__(self) -> int:
        return hash(self.verifier())

    def verifier(self) -> VerifierKey:
        """The public key that checks this key's signatures."""
        return VerifierKey(self.name, self.key_id, self.private.public_key())

    def text(self) -> str:
        """``PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>``."""
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
        )

        seed = self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return (f"{_PRIVATE_PREFIX}{self.name}+{self.key_id.hex()}+"
                f"{_b64encode(bytes([_ALG_ED25519]) + seed)}")


def generate_key(name: str) -> SignerKey:
    """A new random Ed25519 key named ``name``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _check_name(name)
    private = Ed25519PrivateKey.generate()
    return SignerKey(name, _key_id(name, private.public_key()), private)


def _split_key(text: str, kind: str) -> tuple[str, bytes, bytes]:
    """``name+hex+base64`` -> (name, key id, raw key without its algorithm byte).

    For a signer key no part of the text is repeated in a message (it is a secret).
    """
    secret = kind == "signer"
    shape = "PRIVATE+KEY+<name>+<key id>+<key>" if secret else "<name>+<key id>+<key>"
    name, _, rest = text.partition("+")
    id_hex, _, key64 = rest.partition("+")
    if not key64:
        raise KeyFormatError(f"not a {kind} key: expected {shape}")
    _check_name(name, f"the {kind} key's name", secret=secret)
    if not _HEX8.fullmatch(id_hex):
        shown = "" if secret else f" {_shorten(id_hex, 20)!r}"
        raise KeyFormatError(f"not a {kind} key: the key id{shown} is not 8 hex digits "
                             f"(expected {shape})")
    try:
        raw = _b64decode(key64, f"the {kind} key's key part")
    except VerificationError as err:
        message = ("the signer key's key part is not standard base64" if secret
                   else str(err))
        raise KeyFormatError(message) from None
    if not raw:
        raise KeyFormatError(f"not a {kind} key: its key part is empty")
    if raw[0] != _ALG_ED25519:
        raise KeyFormatError(f"the {kind} key's algorithm byte is 0x{raw[0]:02x}; only "
                             f"Ed25519 (0x{_ALG_ED25519:02x}) is supported")
    if len(raw) != 1 + 32:
        raise KeyFormatError(f"the {kind} key's Ed25519 key is {len(raw) - 1} bytes long, "
                             "not 32")
    return name, bytes.fromhex(id_hex), raw[1:]


def parse_verifier_key(text: str) -> VerifierKey:
    """Read ``<name>+<key id>+<base64(0x01 || public key)>``; white space around is ignored."""
    text = text.strip()
    if text.startswith(_PRIVATE_PREFIX):
        raise KeyFormatError("this is a private key; give the verifier key "
                             "(<name>+<key id>+<key>, without PRIVATE+KEY+)")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    name, id_, raw = _split_key(text, "verifier")
    public = Ed25519PublicKey.from_public_bytes(raw)
    want = _key_id(name, public)
    if id_ != want:
        raise KeyFormatError(f"the verifier key's id {id_.hex()} does not match its name and "
                             f"key (they give {want.hex()}): the key text is damaged")
    return VerifierKey(name, id_, public)


def parse_signer_key(text: str) -> SignerKey:
    """Read ``PRIVATE+KEY+<name>+<key id>+<base64(0x01 || seed)>``; white space around is
    ignored. Messages never repeat any part of the text."""
    text = text.strip()
    if not text.startswith(_PRIVATE_PREFIX):
        try:
            parse_verifier_key(text)
        except VerificationError:
            raise KeyFormatError("not a signer key: expected PRIVATE+KEY+<name>+<key id>+"
                                 "<key>") from None
        raise KeyFormatError("this is a verifier (public) key; give the signer key "
                             "(PRIVATE+KEY+<name>+<key id>+<key>)")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    name, id_, raw = _split_key(text[len(_PRIVATE_PREFIX):], "signer")
    private = Ed25519PrivateKey.from_private_bytes(raw)
    if id_ != _key_id(name, private.public_key()):
        raise KeyFormatError("the signer key's id does not match its name and key: the key "
                             "text is damaged")
    return SignerKey(name, id_, private)


# --- signed notes -------------------------------------------------------------------

_DASH = "\u2014 "
_MAX_SIGNATURES = 100


def _decode_note(note: bytes | str, what: str) -> str:
    if isinstance(note, bytes):
        try:
            text = note.decode("utf-8")
        except UnicodeDecodeError as err:
            raise VerificationError(f"{what} is not valid UTF-8 (byte {err.start})") from None
    else:
        text = note
    _check_text(text, what)
    return text


def sign_note(text: str | bytes, key: SignerKey) -> str:
    """A signed note: ``text`` (ending in a newline), a blank line, ``key``'s signature line."""
    body = _decode_note(text, "the note text")
    if not body.endswith("\n"):
        raise VerificationError("the note text does not end with a newline")
    signature = key.private.sign(body.encode("utf-8"))
    return f"{body}\n{_DASH}{key.name} {_b64encode(key.key_id + signature)}\n"


def open_note(note: str | bytes, key: VerifierKey) -> str:
    """The text of a signed note, once ``key``'s signature on it is verified.

    Signatures by other keys are ignored (C2SP signed-note). Refused: a malformed note, a
    note that ``key`` (same name and key id) did not sign, and a signature line of
    ``key`` that does not verify.
    """
    text = _decode_note(note, "the note")
    split = text.rfind("\n\n")
    if split < 0:
        raise VerificationError("malformed note: there is no blank line between the text "
                                "and the signature lines")
    body, signatures = text[:split + 1], text[split + 2:]
    if not signatures:
        raise VerificationError("malformed note: there is no signature line after the last "
                                "blank line")
    if not signatures.endswith("\n"):
        raise VerificationError("malformed note: the last signature line does not end with "
                                "a newline")
    lines = signatures[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise VerificationError(f"malformed note: {len(lines)} signature lines; at most "
                                f"{_MAX_SIGNATURES} are read")
    ours: list[bytes] = []
    others: list[str] = []
    for number, line in enumerate(lines, 1):
        where = f"malformed note: signature line {number}"
        if not line.startswith(_DASH):
            raise VerificationError(f"{where} does not start with an em dash (U+2014) and "
                                    f"a space: {_shorten(line)!r}")
        name, _, sig64 = line[len(_DASH):].partition(" ")
        try:
            _check_name(name)
            raw = _b64decode(sig64, "its signature")
        except VerificationError as err:
            raise VerificationError(f"{where}: {err}") from None
        if len(raw) < 5:
            raise VerificationError(f"{where}: the signature is {len(raw)} bytes long; it "
                                    "needs a 4-byte key id and a signature")
        if name == key.name and raw[:4] == key.key_id:
            ours.append(raw[4:])
        else:
            others.append(name if name != key.name else f"{name} (key id {raw[:4].hex()})")
    wanted = f"{key.name} (key id {key.key_id.hex()})"
    if not ours:
        raise VerificationError(f"the note is not signed by the key {wanted}; signed by "
                                f"other keys: {', '.join(dict.fromkeys(others))}")
    from cryptography.exceptions import InvalidSignature

    body_bytes = body.encode("utf-8")
    for signature in ours:
        try:
            key.public.verify(signature, body_bytes)
        except InvalidSignature:
            raise VerificationError(f"the signature by {wanted} does not verify: the note "
                                    "was changed after it was signed, or the signature is "
                                    "damaged") from None
    return body


def sign_checkpoint(checkpoint: Checkpoint, key: SignerKey) -> str:
    """The signed note of a checkpoint: its body, a blank line, ``key``'s signature line."""
    return sign_note(checkpoint.body(), key)


def checkpoint_of_note(note: str | bytes) -> Checkpoint:
    """The checkpoint a signed note carries, its signatures NOT checked (for reading a
    note already checked, or before checking it: :func:`open_checkpoint` checks them)."""
    text = _decode_note(note, "the note")
    body, blank, _ = text.partition("\n\n")
    checkpoint = parse_checkpoint_body(body + "\n")
    if not blank:
        raise VerificationError("not a signed note (no signature after a blank line)")
    return checkpoint


def open_checkpoint(note: str | bytes, key: VerifierKey, *,
                    origin: str | None = None) -> Checkpoint:
    """The checkpoint of a signed note, once ``key``'s signature on it is verified.

    Refused as by :func:`open_note`, and also: a body that is not a checkpoint, and a
    checkpoint for another log than ``origin`` when it is given.
    """
    checkpoint = parse_checkpoint_body(open_note(note, key))
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError(f"the checkpoint is for the log {checkpoint.origin!r}, not "
                                f"{origin!r}")
    return checkpoint
