"""Parallel reading of one bzip2 file: find block boundaries, decompress blocks independently.

A bzip2 stream is ``BZh<level>`` then blocks, each starting with the 48-bit magic 0x314159265359
(not byte-aligned), then the end-of-stream magic 0x177245385090 and a 32-bit combined CRC.
Pipelines that compress in parallel (pbzip2, lbzip2) concatenate several such streams.

A split of the compressed file [start, end) owns the blocks whose magic begins inside it. Each
block is rewritten as a complete one-block stream (header + the block's bits + end-of-stream
magic + CRC) and handed to libbz2, which checks the block's CRC. This runs at libbz2 speed,
unlike the pure-Java Hadoop codec (see bench/RESULTS.md).

A 48-bit magic can occur by chance inside compressed data (about once per 35 TB). A block that
fails to decode is therefore first merged with the following piece and retried; only when that
fails too is the file reported as corrupt.
"""

from __future__ import annotations

import bz2
from collections.abc import Iterator
from typing import BinaryIO

from .errors import CorruptInputError

BLOCK_MAGIC = 0x314159265359
EOS_MAGIC = 0x177245385090
_MASK48 = (1 << 48) - 1
SCAN_CHUNK = 4 << 20        # bytes read per scan step
MAX_MERGE = 3               # pieces merged before a failing block is called corrupt


def _patterns(magic: int) -> list[tuple[int, bytes, int, bytes, bytes]]:
    """For each bit shift s, the byte run to search for plus masks for the partial edge bytes."""
    out = []
    for s in range(8):
        value = (magic << (8 - s)).to_bytes(7, "big")
        mask = (_MASK48 << (8 - s)).to_bytes(7, "big")
        if s == 0:
            out.append((s, value[0:6], 0, b"", b""))
        else:
            out.append((s, value[1:6], 1, bytes([value[0], mask[0], value[6], mask[6]]), b""))
    return out


_PATTERNS = {BLOCK_MAGIC: _patterns(BLOCK_MAGIC), EOS_MAGIC: _patterns(EOS_MAGIC)}


def find_magic_bits(buf: bytes, magic: int, base_bit: int = 0) -> list[int]:
    """Absolute bit positions (base_bit + offset) of every occurrence of a 48-bit magic in buf."""
    hits: list[int] = []
    n = len(buf)
    for s, run, lead, edges, _ in _PATTERNS[magic]:
        pos = buf.find(run, lead)
        while pos >= 0:
            b = pos - lead
            if s == 0:
                hits.append(base_bit + 8 * b)
            elif b + 6 < n:
                v0, m0, v6, m6 = edges
                if (buf[b] & m0) == v0 and (buf[b + 6] & m6) == v6:
                    hits.append(base_bit + 8 * b + s)
            pos = buf.find(run, pos + 1)
    hits.sort()
    return hits


def _bits(f: BinaryIO, start_bit: int, end_bit: int) -> int:
    """The bits [start_bit, end_bit) of the file as an integer."""
    first, last = start_bit // 8, (end_bit + 7) // 8
    f.seek(first)
    data = f.read(last - first)
    value = int.from_bytes(data, "big")
    value >>= 8 * len(data) - (end_bit - 8 * first)
    return value & ((1 << (end_bit - start_bit)) - 1)


def one_block_stream(f: BinaryIO, start_bit: int, end_bit: int) -> bytes:
    """A complete bzip2 stream holding only the block that occupies [start_bit, end_bit)."""
    block = _bits(f, start_bit, end_bit)
    nbits = end_bit - start_bit
    crc = (block >> (nbits - 80)) & 0xFFFFFFFF  # the 32 bits right after the block magic
    value = (block << 80) | (EOS_MAGIC << 32) | crc
    total = nbits + 80
    pad = (-total) % 8
    return b"BZh9" + (value << pad).to_bytes((total + pad) // 8, "big")


class Bz2Blocks:
    """Block boundaries of one bz2 file, discovered lazily from a starting byte onwards."""

    def __init__(self, f: BinaryIO, path: str, size: int, lenient_tail: bool = False):
        """``lenient_tail``: a file cut off after its last complete block ends the data quietly
        (``truncated_at`` then holds the byte where the lost block began) instead of raising."""
        self.f, self.path, self.size = f, path, size
        self.lenient_tail = lenient_tail
        self.truncated_at: int | None = None

    def boundaries(self, from_byte: int) -> Iterator[tuple[int, str]]:
        """Yield (bit position, "block" | "eos") in file order, starting at from_byte."""
        pos = from_byte
        overlap = 7  # a magic spans at most 7 bytes
        last_emitted = -1
        while pos < self.size:
            self.f.seek(pos)
            buf = self.f.read(SCAN_CHUNK + overlap)
            if not buf:
                break
            hits = [(b, "block") for b in find_magic_bits(buf, BLOCK_MAGIC, 8 * pos)]
            hits += [(b, "eos") for b in find_magic_bits(buf, EOS_MAGIC, 8 * pos)]
            for bit, kind in sorted(hits):
                if bit > last_emitted:
                    last_emitted = bit
                    yield bit, kind
            pos += SCAN_CHUNK

    def decompressed_blocks(self, start: int, end: int) -> Iterator[tuple[bytes, bool]]:
        """Yield (data, owned) for each block from the first one starting in [start, end).

        Blocks that start at or after ``end`` come with owned=False; the caller stops pulling
        once it has what it needs. Raises CorruptInputError naming the file on bad data.
        """
        end_bit = 8 * end
        bounds = self.boundaries(start)
        pending: list[tuple[int, str]] = []

        def nxt() -> tuple[int, str] | None:
            if pending:
                return pending.pop(0)
            return next(bounds, None)

        cur = nxt()
        while cur is not None and cur[1] != "block":
            cur = nxt()
        while cur is not None:
            bit, _ = cur
            data = None
            follow = nxt()
            for _attempt in range(MAX_MERGE):
                if follow is None:
                    if self.lenient_tail:
                        self.truncated_at = bit // 8
                        return
                    raise CorruptInputError(
                        self.path,
                        f"bzip2 data is truncated: no end-of-stream marker after the block at byte "
                        f"{bit // 8} (file size {self.size}); the file was probably cut off in transfer",
                    )
                try:
                    data = bz2.decompress(one_block_stream(self.f, bit, follow[0]))
                    break
                except (OSError, ValueError, EOFError):
                    if follow[1] == "eos":
                        break  # cannot merge across a stream end: it is corrupt
                    follow = nxt()
            if data is None:
                raise CorruptInputError(
                    self.path, f"corrupt bzip2 block at byte {bit // 8} (CRC or data error)"
                )
            yield data, bit < end_bit
            # skip end-of-stream markers (and the next stream's header) to the next block
            while follow is not None and follow[1] != "block":
                follow = nxt()
            cur = follow
