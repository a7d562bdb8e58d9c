"""RFC 9162 Merkle trees: eventstore.audit.merkle builds proofs, eventstore.audit.verifier checks.

Checked against three independent references: the transparency-dev/merkle golden
vectors (read from ``../shared``), the CT example tree of RFC 6962 / RFC 9162 test data
(hard-coded below), and a naive recursive transcription of the RFC written here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore.audit.merkle import (
    Frontier,
    Node,
    assemble,
    completed_levels,
    consistency_parts,
    decompose,
    fold,
    inclusion_parts,
    needed,
    node_slot,
    root_nodes,
)
from eventstore.audit.verifier import (
    EMPTY_ROOT,
    HASH_SIZE,
    VerificationError,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_of_leaves,
    verify_consistency,
    verify_inclusion,
)

VECTORS = (Path(__file__).resolve().parents[1].parent / "shared" / "test-vectors"
           / "transparency-dev-merkle")
MISSING = ("../shared/test-vectors/transparency-dev-merkle not found: the Merkle golden "
           "vectors are not checked")

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


# --- a naive reference: RFC 9162 sections 2.1.1, 2.1.3.1 and 2.1.4.1, word for word ---

def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    """MTH over leaf hashes."""
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return _node(mth(d[:k]), mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [mth(d)]
    k = _k(len(d))
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def proof(m: int, d: list[bytes]) -> list[bytes]:
    return subproof(m, d, True)


def perfect_nodes(leaves: list[bytes]) -> dict[Node, bytes]:
    """Every perfect subtree of the tree over ``leaves``, computed level by level."""
    nodes: dict[Node, bytes] = {}
    level, height = list(leaves), 0
    while level:
        nodes.update(((height, i), h) for i, h in enumerate(level))
        level = [_node(level[2 * i], level[2 * i + 1]) for i in range(len(level) // 2)]
        height += 1
    return nodes


MAX_SIZE = 2000
LEAVES = [_leaf(i.to_bytes(4, "big")) for i in range(2048)]
NODES = perfect_nodes(LEAVES)


def _in_tree(node: Node, size: int) -> bool:
    level, index = node
    return (index + 1) << level <= size


def flip(value: bytes, bit: int) -> bytes:
    bit %= len(value) * 8
    changed = bytearray(value)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


# --- the golden vectors of transparency-dev/merkle -----------------------------------

def _vector_files(kind: str) -> list[Any]:
    folder = VECTORS / kind
    if not folder.is_dir():
        return [pytest.param(None, id="missing", marks=pytest.mark.skip(reason=MISSING))]
    return [pytest.param(p, id=str(p.relative_to(folder)))
            for p in sorted(folder.rglob("*.json"))]


def _load(file: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(file.read_text())
    for key in ("root", "root1", "root2", "leafHash"):
        if key in data:
            data[key] = base64.b64decode(data[key])
    data["proof"] = [base64.b64decode(p) for p in data["proof"] or []]
    return data


@pytest.mark.parametrize("file", _vector_files("inclusion"))
def test_inclusion_golden_vector(file: Path) -> None:
    v = _load(file)
    def check() -> None:
        verify_inclusion(v["leafIdx"], v["treeSize"], v["leafHash"], v["proof"], v["root"])

    if v["wantErr"]:
        with pytest.raises(VerificationError):
            check()
    else:
        check()


@pytest.mark.parametrize("file", _vector_files("consistency"))
def test_consistency_golden_vector(file: Path) -> None:
    v = _load(file)
    def check() -> None:
        verify_consistency(v["size1"], v["size2"], v["proof"], v["root1"], v["root2"])

    if v["wantErr"]:
        with pytest.raises(VerificationError):
            check()
    else:
        check()


def test_golden_vectors_are_all_read() -> None:
    if not VECTORS.is_dir():
        pytest.skip(MISSING)
    files = list(VECTORS.rglob("*.json"))
    assert len(files) >= 196, "SOURCE.md lists 196 files"
    happy = [f for f in files if not json.loads(f.read_text())["wantErr"]]
    assert len(happy) >= 10


# --- the CT example tree (RFC 6962 test data) ----------------------------------------

# The leaf inputs, node hashes, roots and compact trees below are those of
# transparency-dev/merkle testonly/constants.go (LeafInputs, NodeHashes, RootHashes,
# CompactTrees), which come from certificate-transparency's
# cpp/merkletree/merkle_tree_test.cc; certificate-transparency-go merkletree tests use
# the same roots.
CT_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
CT_NODES = [[bytes.fromhex(h) for h in level] for level in (
    ("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",),
)]
# CompactTrees: the right edge of the tree at each size, as (level, index) in NodeHashes.
CT_COMPACT: list[list[Node]] = [
    [], [(0, 0)], [(1, 0)], [(1, 0), (0, 2)], [(2, 0)], [(2, 0), (0, 4)],
    [(2, 0), (1, 2)], [(2, 0), (1, 2), (0, 6)], [(3, 0)]]


def test_empty_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT == CT_ROOTS[0] == hashlib.sha256(b"").digest()
    assert root_of_leaves([]) == fold([]) == EMPTY_ROOT == Frontier().root()
    assert HASH_SIZE == 32


def test_ct_example_tree_roots() -> None:
    hashes = [leaf_hash(data) for data in CT_LEAVES]
    edge = Frontier()
    for size in range(9):
        assert root_of_leaves(hashes[:size]) == CT_ROOTS[size], size
        assert mth(hashes[:size]) == CT_ROOTS[size], size
        assert edge.root() == CT_ROOTS[size], size
        assert edge.nodes() == [(n, CT_NODES[n[0]][n[1]]) for n in CT_COMPACT[size]]
        assert root_nodes(size) == CT_COMPACT[size]
        if size < 8:
            edge.append(hashes[size])


def test_ct_example_tree_rows_hold_the_node_hashes() -> None:
    edge = Frontier()
    stored: dict[tuple[int, int], bytes] = {}
    for index, data in enumerate(CT_LEAVES):
        for level, value in enumerate(edge.append(leaf_hash(data))):
            stored[(index + 1, level)] = value
    expected = {node_slot((level, i)): value
                for level, row in enumerate(CT_NODES) for i, value in enumerate(row)}
    assert stored == expected


def test_ct_example_tree_proofs() -> None:
    table = {(level, i): value for level, row in enumerate(CT_NODES)
             for i, value in enumerate(row)}
    hashes = [leaf_hash(data) for data in CT_LEAVES]
    # The audit path of leaf 0 in the tree of 8 (certificate-transparency test data).
    assert assemble(inclusion_parts(0, 8), table) == [table[(0, 1)], table[(1, 1)],
                                                       table[(2, 1)]]
    for size in range(1, 9):
        for index in range(size):
            got = assemble(inclusion_parts(index, size), table)
            assert got == path(index, hashes[:size])
            verify_inclusion(index, size, hashes[index], got, CT_ROOTS[size])
        for size1 in range(1, size + 1):
            got = assemble(consistency_parts(size1, size), table)
            assert got == proof(size1, hashes[:size])
            verify_consistency(size1, size, got, CT_ROOTS[size1], CT_ROOTS[size])


# --- proofs from stored nodes, against the naive RFC ----------------------------------

@pytest.mark.parametrize("size", range(1, 34))
def test_small_trees_exhaustively(size: int) -> None:
    d = LEAVES[:size]
    root = mth(d)
    assert fold([NODES[n] for n in root_nodes(size)]) == root
    for index in range(size):
        parts = inclusion_parts(index, size)
        assert all(_in_tree(n, size) for n in needed(parts))
        got = assemble(parts, NODES)
        assert got == path(index, d)
        assert root_from_inclusion_proof(index, size, d[index], got) == root
    for size1 in range(1, size + 1):
        parts = consistency_parts(size1, size)
        assert all(_in_tree(n, size) for n in needed(parts))
        got = assemble(parts, NODES)
        assert got == proof(size1, d)
        verify_consistency(size1, size, got, mth(d[:size1]), root)


@st.composite
def size_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, MAX_SIZE))
    return size, draw(st.integers(0, size - 1))


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    size2 = draw(st.integers(1, MAX_SIZE))
    return draw(st.integers(1, size2)), size2


@FAST
@given(size_and_index(), st.data())
def test_inclusion_proofs(case: tuple[int, int], data: st.DataObject) -> None:
    size, index = case
    d = LEAVES[:size]
    parts = inclusion_parts(index, size)
    assert all(_in_tree(n, size) for n in needed(parts))
    got = assemble(parts, NODES)
    assert got == path(index, d)
    root = fold([NODES[n] for n in root_nodes(size)])
    assert root == mth(d) == root_of_leaves(d)
    verify_inclusion(index, size, d[index], got, root)
    assert root_from_inclusion_proof(index, size, d[index], got) == root
    # Any single flipped bit, in the leaf, a proof hash or the root, is refused.
    target = data.draw(st.integers(-2, len(got) - 1), label="target")
    bit = data.draw(st.integers(0, 255), label="bit")
    leaf, damaged, wanted = d[index], list(got), root
    if target == -2:
        leaf = flip(leaf, bit)
    elif target == -1:
        wanted = flip(root, bit)
    else:
        damaged[target] = flip(damaged[target], bit)
    with pytest.raises(VerificationError, match="gives the root"):
        verify_inclusion(index, size, leaf, damaged, wanted)


@FAST
@given(two_sizes(), st.data())
def test_consistency_proofs(case: tuple[int, int], data: st.DataObject) -> None:
    size1, size2 = case
    d = LEAVES[:size2]
    parts = consistency_parts(size1, size2)
    assert all(_in_tree(n, size2) for n in needed(parts))
    got = assemble(parts, NODES)
    assert got == proof(size1, d)
    root1, root2 = mth(d[:size1]), mth(d)
    verify_consistency(size1, size2, got, root1, root2)
    target = data.draw(st.integers(-2, len(got) - 1), label="target")
    bit = data.draw(st.integers(0, 255), label="bit")
    damaged = list(got)
    if target == -2:
        root1 = flip(root1, bit)
    elif target == -1:
        root2 = flip(root2, bit)
    else:
        damaged[target] = flip(damaged[target], bit)
    with pytest.raises(VerificationError):
        verify_consistency(size1, size2, damaged, root1, root2)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 2**62), st.data())
def test_proofs_need_few_nodes_in_huge_trees(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    size1 = data.draw(st.integers(1, size))
    bound = 2 * size.bit_length() + 1
    assert len(needed(inclusion_parts(index, size))) <= bound
    assert len(needed(consistency_parts(size1, size))) <= bound
    assert len(root_nodes(size)) == size.bit_count()


@FAST
@given(st.integers(0, 2047), st.integers(1, 2048))
def test_decompose_folds_to_the_rfc_root_of_the_range(start: int, count: int) -> None:
    end = min(start + count, 2048)
    count = end - start
    if start % (1 << (count.bit_length() - 1)):
        with pytest.raises(ValueError, match="not a subtree"):
            decompose(start, end)
        return
    nodes = decompose(start, end)
    assert [level for level, _ in nodes] == sorted((level for level, _ in nodes),
                                                   reverse=True)
    covered = [leaf for level, i in nodes for leaf in range(i << level, (i + 1) << level)]
    assert covered == list(range(start, end))
    assert fold([NODES[n] for n in nodes]) == mth(LEAVES[start:end])


def test_decompose_edges() -> None:
    assert decompose(5, 5) == []
    assert decompose(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert decompose(2, 5) == [(1, 1), (0, 4)]
    for start, end in [(-1, 3), (4, 3), (1, 3), (3, 7)]:
        with pytest.raises(ValueError):
            decompose(start, end)


def test_node_slots() -> None:
    assert node_slot((0, 0)) == (1, 0)
    assert node_slot((0, 6)) == (7, 0)
    assert node_slot((3, 0)) == (8, 3)
    assert node_slot((2, 2)) == (12, 2)
    assert [completed_levels(p) for p in range(1, 17)] == [
        1, 2, 1, 3, 1, 2, 1, 4, 1, 2, 1, 3, 1, 2, 1, 5]
    for p in range(1, 300):  # the row of p holds exactly the nodes whose slot is p
        row = [(level, (p >> level) - 1) for level in range(completed_levels(p))]
        assert [node_slot(n) for n in row] == [(p, level) for level in range(len(row))]
    with pytest.raises(ValueError):
        completed_levels(0)
    with pytest.raises(ValueError):
        node_slot((0, -1))


def test_parts_refuse_impossible_requests() -> None:
    for index, size in [(0, 0), (3, 3), (-1, 4)]:
        with pytest.raises(ValueError, match="outside the tree"):
            inclusion_parts(index, size)
    for size1, size2 in [(0, 0), (0, 5), (6, 5), (-1, 2)]:
        with pytest.raises(ValueError, match="no consistency proof"):
            consistency_parts(size1, size2)
    assert consistency_parts(5, 5) == []
    with pytest.raises(KeyError):
        assemble(inclusion_parts(0, 2), {})


# --- the verifier's refusals and messages --------------------------------------------

def test_inclusion_refusals_say_what_is_wrong() -> None:
    d = LEAVES[:5]
    good = path(2, d)
    root = mth(d)
    cases: list[tuple[tuple[Any, ...], str]] = [
        ((5, 5, d[0], good, root), "leaf index 5 is outside the tree of size 5"),
        ((0, 0, d[0], [], root), "outside the tree of size 0"),
        ((-1, 5, d[0], good, root), "must be a non-negative integer"),
        ((2, 5, d[2][:31], good, root), "the leaf hash is 31 bytes long"),
        ((2, 5, d[2], good[:-1], root), "has 2 hashes; that of leaf 2 in a tree of size 5 "
                                        "has 3"),
        ((2, 5, d[2], [*good, root], root), "has 4 hashes"),
        ((2, 5, d[2], [good[0], good[1] + b"x", good[2]], root),
         "inclusion proof hash 1 is 33 bytes long"),
        ((2, 5, d[2], good, root[:16]), "the root is 16 bytes long"),
        ((3, 5, d[2], good, root), "gives the root"),
    ]
    for args, message in cases:
        with pytest.raises(VerificationError, match=message):
            verify_inclusion(*args)


def test_consistency_refusals_say_what_is_wrong() -> None:
    d = LEAVES[:7]
    good = proof(3, d)
    r3, r7 = mth(d[:3]), mth(d)
    cases: list[tuple[tuple[Any, ...], str]] = [
        ((0, 0, [], EMPTY_ROOT, EMPTY_ROOT), "from the empty tree"),
        ((0, 7, good, EMPTY_ROOT, r7), "from the empty tree"),
        ((7, 3, good, r7, r3), "size1 7 is larger than size2 3"),
        ((3, 3, [r3], r3, r3), "must be empty, but has 1"),
        ((3, 3, [], r3, r7), "same size 3 but different roots"),
        ((3, 7, [], r3, r7), "has 0 hashes; that from size 3 to size 7 has 4"),
        ((3, 7, good[:-1], r3, r7), "has 3 hashes"),
        ((3, 7, [*good[:-1], b"short"], r3, r7), "consistency proof hash 3 is 5 bytes"),
        ((3, 7, good, r7, r7), "gives root1"),
        ((3, 7, good, r3, r3), "gives root2"),
        ((3, 7, good, r3[:5], r7), "root1 is 5 bytes long"),
    ]
    for args, message in cases:
        with pytest.raises(VerificationError, match=message):
            verify_consistency(*args)
    verify_consistency(7, 7, [], r7, r7)
    verify_consistency(3, 7, good, r3, r7)


def test_root_of_leaves_checks_leaf_hashes() -> None:
    with pytest.raises(VerificationError, match="leaf hash 1 is 3 bytes"):
        root_of_leaves([LEAVES[0], b"abc"])
    assert leaf_hash(b"") == CT_NODES[0][0]
    assert node_hash(CT_NODES[0][0], CT_NODES[0][1]) == CT_NODES[1][0]


# --- Frontier: the append path -------------------------------------------------------

def _random_leaves(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(32) for _ in range(count)]


@settings(max_examples=25, deadline=None)
@given(st.integers(1, MAX_SIZE), st.integers(0, 2**32))
def test_frontier_rows_are_the_perfect_nodes(count: int, seed: int) -> None:
    leaves = _random_leaves(seed, count)
    reference = perfect_nodes(leaves)
    edge = Frontier()
    placed: dict[tuple[int, int], bytes] = {}
    for position, value in enumerate(leaves, 1):
        row = edge.append(value)
        assert edge.size == position
        assert len(row) == completed_levels(position)
        for level, h in enumerate(row):
            placed[(position, level)] = h
    assert placed == {node_slot(node): h for node, h in reference.items()}
    assert edge.root() == mth(leaves) == root_of_leaves(leaves)
    assert edge.nodes() == [(n, reference[n]) for n in root_nodes(count)]


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 160), st.integers(0, 2**32))
def test_frontier_root_at_every_size(count: int, seed: int) -> None:
    leaves = _random_leaves(seed, count)
    edge = Frontier()
    for size, value in enumerate(leaves, 1):
        edge.append(value)
        assert edge.root() == root_of_leaves(leaves[:size]), size


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 600), st.integers(0, 2**32), st.data())
def test_frontier_resumes_from_stored_roots(count: int, seed: int,
                                            data: st.DataObject) -> None:
    leaves = _random_leaves(seed, count)
    reference = perfect_nodes(leaves)
    split = data.draw(st.integers(0, count), label="split")
    whole = Frontier()
    rows = [whole.append(value) for value in leaves]
    nodes = root_nodes(split)
    for resumed in (Frontier(split, [reference[n] for n in nodes]),
                    Frontier(split, {n: reference[n] for n in nodes}),
                    Frontier(split, reference)):
        assert resumed.size == split
        assert resumed.root() == mth(leaves[:split])
        assert [resumed.append(value) for value in leaves[split:]] == rows[split:]
        assert resumed.root() == whole.root()
        assert resumed.nodes() == whole.nodes()


def test_frontier_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="has 2 hashes, not 1"):
        Frontier(5, [LEAVES[0]])
    with pytest.raises(ValueError, match="needs the node"):
        Frontier(5, {(2, 0): LEAVES[0]})
    with pytest.raises(ValueError, match="is 3 bytes"):
        Frontier(1, [b"abc"])
    edge = Frontier()
    with pytest.raises(ValueError, match="a leaf hash is 32 bytes"):
        edge.append(b"short")
    assert edge.size == 0
    assert "size=0" in repr(edge)
