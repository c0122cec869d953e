#!/usr/bin/env python3
# gst-hangout — the Merkle tree test vectors of docs/protocol.md §4.11 and
# tests/unit/test-merkle.c, computed with hashlib alone, apart from the C
# code they check (BEP 52's construction, written out level by level).
#
#   python3 tests/unit/merkle-vectors.py        # the table for the doc
#   python3 tests/unit/merkle-vectors.py --c    # the #defines for the test
#   python3 tests/unit/merkle-vectors.py --check FILE...
#       # exit 1 unless every hash above is in every FILE (the unit suite
#       # runs it on the doc and the test, so neither drifts from here)
#
# SPDX-License-Identifier: LGPL-2.1-or-later
import hashlib
import sys

BLOCK = 16384
ZERO = bytes(32)


def data(size):
    """The test file: byte i is i mod 251 (a prime, so no block repeats)."""
    return bytes(i % 251 for i in range(size))


def leaves(content):
    """One SHA-256 per 16 KiB block, the last one as short as it is; the
    empty file has one leaf, the hash of no bytes."""
    if not content:
        return [hashlib.sha256(b"").digest()]
    return [hashlib.sha256(content[i:i + BLOCK]).digest()
            for i in range(0, len(content), BLOCK)]


def levels(content):
    """Every level, leaves first, each padded to a power of two: zero
    hashes for the leaves, and the hash of two pads above."""
    row = leaves(content)
    width = 1
    while width < len(row):
        width *= 2
    row = row + [ZERO] * (width - len(row))
    tree = [row]
    while len(row) > 1:
        row = [hashlib.sha256(row[i] + row[i + 1]).digest()
               for i in range(0, len(row), 2)]
        tree.append(row)
    return tree


def proof(tree, level, index):
    """The uncle hashes of node index of level, bottom up."""
    out = []
    for row in tree[level:-1]:
        out.append(row[index ^ 1])
        index //= 2
    return out


ROOTS = [0, 1000, 16384, 49152, 65536, 70000, 1048576]
# A file of 5 leaves (the last one short) in 32 KiB pieces (level 1): three
# pieces, the last one of 4464 bytes padded with one zero leaf.
PIECE_FILE, PIECE_SIZE, PIECE_LEVEL = 70000, 32768, 1


def vectors():
    """(size, root) for each file, then (piece, hash, uncles) for the
    pieces of PIECE_FILE."""
    roots = [(size, levels(data(size))[-1][0].hex()) for size in ROOTS]
    tree = levels(data(PIECE_FILE))
    pieces = (PIECE_FILE + PIECE_SIZE - 1) // PIECE_SIZE
    return roots, [(i, tree[PIECE_LEVEL][i].hex(),
                    [h.hex() for h in proof(tree, PIECE_LEVEL, i)])
                   for i in range(pieces)]


def check(paths):
    roots, pieces = vectors()
    hashes = [root for _, root in roots]
    for _, piece, uncles in pieces:
        hashes += [piece] + uncles
    missing = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for h in hashes:
            if h not in text:
                print(f"{path}: {h} missing")
                missing += 1
    return 1 if missing else 0


def main():
    if sys.argv[1:2] == ["--check"]:
        return check(sys.argv[2:])
    c = "--c" in sys.argv[1:]
    roots, pieces = vectors()
    for size, root in roots:
        if c:
            print(f'  {{ {size}, "{root}" }},')
        else:
            print(f"root {size:>7}  {root}")
    for i, piece, uncles in pieces:
        if c:
            print(f'#define PIECE{i}_HASH "{piece}"')
            print(f'#define PIECE{i}_PROOF "' + '" \\\n    "'.join(uncles) + '"')
        else:
            print(f"piece {i}    {piece}")
            for n, uncle in enumerate(uncles):
                print(f"  proof[{n}] {uncle}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
