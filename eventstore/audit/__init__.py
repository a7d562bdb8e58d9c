"""Auditing a log: pure code, no I/O. One module per concern, each saying in its opening
docstring what it owns and what it may import:

* :mod:`.verifier` — the auditor's module: RFC 9162 hashing, checking inclusion and
  consistency proofs, checkpoints, signed notes and keys. Standard library and
  ``cryptography`` only, nothing of eventstore: an auditor can copy it alone;
* :mod:`.proofs` — the proof documents ``audit prove`` and ``audit consistency`` write,
  and checking one; imports only :mod:`.verifier`, so the two files can be copied out
  together;
* :mod:`.merkle` — the tree's arithmetic: its perfect subtrees, the nodes a proof is made
  of, and :class:`Frontier`, the right edge that leaves are appended to;
* :mod:`.chain` — the hash chain: an event's envelope and leaf bytes, and
  :func:`chain_problems`, every way a stream of events breaks the chain;
* :mod:`.checker` — checking a whole log, event by event (:class:`LogChecker`), into a
  :class:`Report`; :func:`check_prefix`, what a checkpoint must be of a log.

Nothing here imports from ``storage/`` or ``cli/`` (``tests/test_layout.py`` checks):
``eventstore.storage`` keeps the tree beside the log, and feeds the checker a stored log
or an export. This module only re-exports the names callers use, each imported from its
module when first used (:mod:`eventstore.lazy`): importing the verifier alone must not
load the checker's dependencies.

May import: :mod:`eventstore.lazy`, and its own modules for types only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .chain import chain_problems, envelope_of, leaf_bytes
    from .checker import (
        CheckedCheckpoint,
        LogChecker,
        Problem,
        Report,
        SeenErasure,
        check_prefix,
    )
    from .merkle import Frontier
    from .proofs import PROOF_FORMAT, check_proof, consistency_document, inclusion_document
    from .verifier import (
        EMPTY_ROOT,
        HASH_SIZE,
        Checkpoint,
        KeyFormatError,
        SignerKey,
        VerificationError,
        VerifierKey,
        checkpoint_of_note,
        generate_key,
        leaf_hash,
        node_hash,
        open_checkpoint,
        open_note,
        parse_checkpoint_body,
        parse_signer_key,
        parse_verifier_key,
        root_from_inclusion_proof,
        root_of_leaves,
        sign_checkpoint,
        sign_note,
        verify_consistency,
        verify_inclusion,
    )

_MODULES = {
    "chain": ("chain_problems", "envelope_of", "leaf_bytes"),
    "checker": ("CheckedCheckpoint", "LogChecker", "Problem", "Report", "SeenErasure",
                "check_prefix"),
    "merkle": ("Frontier",),
    "proofs": ("PROOF_FORMAT", "check_proof", "consistency_document", "inclusion_document"),
    "verifier": ("EMPTY_ROOT", "HASH_SIZE", "Checkpoint", "KeyFormatError", "SignerKey",
                 "VerificationError", "VerifierKey", "checkpoint_of_note", "generate_key",
                 "leaf_hash", "node_hash", "open_checkpoint", "open_note",
                 "parse_checkpoint_body", "parse_signer_key", "parse_verifier_key",
                 "root_from_inclusion_proof", "root_of_leaves", "sign_checkpoint",
                 "sign_note", "verify_consistency", "verify_inclusion"),
}

if not TYPE_CHECKING:  # mypy sees the imports above; a typo stays an error there
    from ..lazy import lazy_exports

    __getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
    del lazy_exports

__all__ = [
    "chain_problems", "envelope_of", "leaf_bytes",
    "CheckedCheckpoint", "LogChecker", "Problem", "Report", "SeenErasure", "check_prefix",
    "Frontier",
    "PROOF_FORMAT", "check_proof", "consistency_document", "inclusion_document",
    "EMPTY_ROOT", "HASH_SIZE", "Checkpoint", "KeyFormatError", "SignerKey",
    "VerificationError", "VerifierKey", "checkpoint_of_note", "generate_key", "leaf_hash",
    "node_hash", "open_checkpoint", "open_note", "parse_checkpoint_body", "parse_signer_key",
    "parse_verifier_key", "root_from_inclusion_proof", "root_of_leaves", "sign_checkpoint",
    "sign_note", "verify_consistency", "verify_inclusion",
]
