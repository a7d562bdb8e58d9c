"""Building RFC 9162 Merkle proofs from stored perfect subtrees: pure code, no I/O.

The tree over the log is stored as its **perfect subtrees** (nodes). A node
``(level, index)`` is the perfect subtree over leaves ``[index * 2**level,
(index + 1) * 2**level)``; level 0 holds the leaf hashes. Node ``(l, i)`` is complete once
leaf ``(i + 1) * 2**l - 1`` is appended, that is at log position ``p = (i + 1) << l``
(positions count from 1, leaf index = position - 1). The storage keeps one row per
position *p*: the hashes of every node completed by that append, levels
``0 .. tz(p)`` (``tz``: the number of trailing zero bits), 32 bytes each, level 0 first
(:func:`node_slot`, :func:`completed_levels`, :meth:`Frontier.append`).

Any subtree of the RFC tree, and so any root and any element of an inclusion or
consistency proof, is the right fold (``node(a, node(b, c))``) of at most log2(n)
perfect subtrees (:func:`decompose`). A proof is built in three steps, so that the
storage can fetch every node it needs in one query::

    parts = inclusion_parts(index, size)        # or consistency_parts(size1, size2)
    hashes = fetch(needed(parts))               # {node: hash}
    proof = assemble(parts, hashes)

The proofs are checked by :mod:`.verifier`, which specifies the hashing.
``eventstore.storage.tree`` keeps the rows beside the log; :class:`Frontier` is also what
the log checker (:mod:`.checker`) rebuilds the tree with.

May import: the standard library and :mod:`.verifier`; nothing from ``storage/`` or
``cli/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .verifier import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash

__all__ = ["Node", "node_slot", "completed_levels", "decompose", "fold", "root_nodes",
           "inclusion_parts", "consistency_parts", "needed", "assemble", "Frontier"]

#: ``(level, index)``: the perfect subtree over leaves [index * 2**level, (index+1) * 2**level).
Node = tuple[int, int]


def node_slot(node: Node) -> tuple[int, int]:
    """``(position, level)``: node ``(l, i)`` is in the row of position ``(i + 1) << l``, at
    byte offset ``l * 32``."""
    level, index = node
    if level < 0 or index < 0:
        raise ValueError(f"no such node {node}: level and index are non-negative")
    return (index + 1) << level, level


def completed_levels(position: int) -> int:
    """How many hashes the row of ``position`` holds: trailing zero bits of it, plus one."""
    if position < 1:
        raise ValueError(f"positions start at 1, not {position}")
    return (position & -position).bit_length()


def decompose(start: int, end: int) -> list[Node]:
    """The perfect subtrees covering leaves ``[start, end)``, left to right (largest first).

    The RFC 9162 root of those leaves (MTH(D[start:end])) is the right fold of their
    hashes. Every range that arises in an RFC tree qualifies: ``start`` must be a
    multiple of the largest power of two not above ``end - start`` (otherwise the first
    piece would not be a node); ``ValueError`` otherwise. ``[]`` for an empty range.
    """
    count = end - start
    if start < 0 or count < 0:
        raise ValueError(f"no such range of leaves [{start}, {end})")
    if count == 0:
        return []
    if start & ((1 << (count.bit_length() - 1)) - 1):
        raise ValueError(f"leaves [{start}, {end}) are not a subtree of an RFC 9162 tree: "
                         f"{start} is not a multiple of "
                         f"{1 << (count.bit_length() - 1)}")
    nodes = []
    for level in range(count.bit_length() - 1, -1, -1):
        if count >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """``node(h0, node(h1, ... node(h[-2], h[-1])))``; :data:`EMPTY_ROOT` for no hashes."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for value in reversed(hashes[:-1]):
        result = node_hash(value, result)
    return result


def root_nodes(size: int) -> list[Node]:
    """The perfect subtrees whose fold is the root of the tree of ``size`` leaves."""
    return decompose(0, size)


def _split(count: int) -> int:
    """The largest power of two below ``count`` (count > 1): RFC 9162's k."""
    return 1 << ((count - 1).bit_length() - 1)


def inclusion_parts(index: int, size: int) -> list[list[Node]]:
    """RFC 9162 ``PATH(index, D[0:size])``, each element as its :func:`decompose`.

    Leaf side first, as the proof is sent. At most one element is not a perfect subtree.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside the tree of size {size}")
    parts = []
    start, end = 0, size
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            parts.append(decompose(middle, end))
            end = middle
        else:
            parts.append(decompose(start, middle))
            start = middle
    parts.reverse()
    return parts


def consistency_parts(size1: int, size2: int) -> list[list[Node]]:
    """RFC 9162 ``PROOF(size1, D[0:size2])``, each element as its :func:`decompose`.

    ``0 < size1 <= size2``; equal sizes give ``[]``.
    """
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2} "
                         "(0 < size1 <= size2)")
    parts = []
    start, end, m = 0, size2, size1  # SUBPROOF(m, D[start:end], whole)
    whole = True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            parts.append(decompose(start + k, end))
            end = start + k
        else:
            parts.append(decompose(start, start + k))
            start += k
            m -= k
            whole = False
    if not whole:
        parts.append(decompose(start, end))
    parts.reverse()
    return parts


def needed(parts: Iterable[Sequence[Node]]) -> set[Node]:
    """Every node the parts are made of (what to fetch)."""
    return {node for part in parts for node in part}


def assemble(parts: Sequence[Sequence[Node]], hashes: Mapping[Node, bytes]) -> list[bytes]:
    """The proof: each part's fold, from the hashes of :func:`needed` (KeyError if missing)."""
    return [fold([hashes[node] for node in part]) for part in parts]


class Frontier:
    """The right edge of a tree: the roots of root_nodes(size), enough to append leaves and
    give the root."""

    __slots__ = ("size", "_hashes")

    size: int

    def __init__(self, size: int = 0,
                 hashes: Mapping[Node, bytes] | Sequence[bytes] = ()) -> None:
        """``hashes``: those of :func:`root_nodes` of ``size``, in that order, or a mapping
        holding them."""
        nodes = root_nodes(size)
        if isinstance(hashes, Mapping):
            missing = [node for node in nodes if node not in hashes]
            if missing:
                raise ValueError(f"the frontier of size {size} needs the node {missing[0]} "
                                 "(level, index)")
            edge = [bytes(hashes[node]) for node in nodes]
        else:
            edge = [bytes(value) for value in hashes]
            if len(edge) != len(nodes):
                raise ValueError(f"the frontier of size {size} has {len(nodes)} hashes, "
                                 f"not {len(edge)}")
        for node, value in zip(nodes, edge, strict=True):
            if len(value) != HASH_SIZE:
                raise ValueError(f"the hash of node {node} is {len(value)} bytes, not "
                                 f"{HASH_SIZE}")
        self.size = size
        self._hashes = edge

    def append(self, leaf_hash: bytes) -> list[bytes]:
        """Add a leaf; the hashes it completes, level 0 first: the row of the new position."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, not {len(leaf_hash)}")
        row = [leaf_hash]
        edge = self._hashes
        carry = self.size
        value = leaf_hash
        while carry & 1:  # each trailing one bit of the old size is a node to merge with
            value = node_hash(edge.pop(), value)
            row.append(value)
            carry >>= 1
        edge.append(value)
        self.size += 1
        return row

    def append_leaf(self, leaf: bytes) -> bytes:
        """Add the leaf with these bytes; its stored tree row (the hashes concatenated)."""
        return b"".join(self.append(leaf_hash(leaf)))

    def copy(self) -> Frontier:
        """An independent frontier at the same place (appends to one leave the other)."""
        twin = Frontier.__new__(Frontier)
        twin.size = self.size
        twin._hashes = list(self._hashes)
        return twin

    def root(self) -> bytes:
        """The root of the tree of :attr:`size` leaves."""
        return fold(self._hashes)

    def nodes(self) -> list[tuple[Node, bytes]]:
        """``(node, hash)`` for each node of :func:`root_nodes` of :attr:`size`."""
        return list(zip(root_nodes(self.size), self._hashes, strict=True))

    def __repr__(self) -> str:
        return f"Frontier(size={self.size}, root={self.root().hex()})"
