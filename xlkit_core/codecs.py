"""Compressed and plain byte streams: which codec a file uses, raw chunks of a byte range, and the
checksum of a range. Shared by the Wikidata reader and the Wikipedia dump reader."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO

READ_CHUNK = 8 << 20


def sniff_codec(head: bytes) -> str:
    if head[:3] == b"BZh":
        return "bz2"
    if head[:2] == b"\x1f\x8b":
        return "gz"
    return "none"


def plain_chunks(f: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, bool]]:
    """Raw bytes from ``start`` to the end of the file: (bytes, owned), owned while before ``end``."""
    f.seek(start)
    pos = start
    while True:
        data = f.read(READ_CHUNK)
        if not data:
            return
        if pos < end < pos + len(data):
            cut = end - pos
            yield data[:cut], True
            yield data[cut:], False
        else:
            yield data, pos < end
        pos += len(data)


def raw_sha256(f: BinaryIO, start: int, end: int) -> str:
    h = hashlib.sha256()
    f.seek(start)
    left = end - start
    while left > 0:
        data = f.read(min(READ_CHUNK, left))
        if not data:
            break
        h.update(data)
        left -= len(data)
    return h.hexdigest()
