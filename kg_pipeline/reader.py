"""Splitting dump files into independent pieces, and reading the lines each piece owns.

A split is a byte range [start, end) of one input file. For an uncompressed or bzip2 file many
splits run in parallel; a gzip file or an API response is one split.

Ownership of lines (the Hadoop convention, in decompressed coordinates): a split owns the data
of its range (for bzip2: of the blocks that begin in its range), and a line belongs to the split
whose data holds the newline just before it; the file's first line belongs to split 0. A split
reads past its range only to finish its last line. Every line is therefore read exactly once,
whatever the split size.
"""

from __future__ import annotations

import bz2
import gzip
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import BinaryIO

from xlkit_core.bz2split import Bz2Blocks
from xlkit_core.codecs import READ_CHUNK, plain_chunks, sniff_codec
from xlkit_core.errors import CorruptInputError, InputError
from xlkit_core.fsio import FileInfo, byte_ranges, open_binary


@dataclass(frozen=True)
class Split:
    file_idx: int
    split_idx: int    # global index over all files, in input order
    path: str
    size: int
    start: int
    end: int
    codec: str        # "none" | "bz2" | "gz"
    layout: str       # "lines" (dump) | "api" (wbgetentities response)

    def as_dict(self) -> dict:
        return asdict(self)


def _decompressed_head(f: BinaryIO, codec: str, path: str) -> bytes:
    f.seek(0)
    raw = f.read(2 << 20)
    try:
        if codec == "bz2":
            return bz2.BZ2Decompressor().decompress(raw, 65536)
        if codec == "gz":
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, 65536)
    except (OSError, ValueError, zlib.error) as exc:
        raise CorruptInputError(path, f"cannot decompress the start of the file as {codec}: {exc}") from None
    return raw[:65536]


def sniff_layout(head: bytes) -> str:
    """"lines" for the dump layout (or one entity per line), "api" for a JSON document."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "lines"
    if text.startswith(b"{"):
        first = text.split(b"\n", 1)[0].strip().rstrip(b",")
        try:
            import orjson

            obj = orjson.loads(first)
        except ValueError:
            return "api"
        if isinstance(obj, dict) and "id" in obj and "type" in obj:
            return "lines"
        return "api"
    return "unknown"


def plan_splits(files: list[FileInfo], split_bytes: int) -> list[Split]:
    """Inspect each file's first bytes (on the driver) and cut it into splits."""
    splits: list[Split] = []
    for file_idx, info in enumerate(files):
        with open_binary(info.path) as f:
            head = f.read(4)
            codec = sniff_codec(head)
            layout = sniff_layout(_decompressed_head(f, codec, info.path)) if info.size else "lines"
        if layout == "unknown":
            raise InputError(
                f"{info.path}: not a Wikidata JSON dump (expected '[' or a JSON object at the start, "
                f"after {codec} decompression)"
            )
        if codec == "gz" or layout == "api" or info.size == 0:
            ranges = [(0, info.size)]
        else:
            ranges = byte_ranges(info.size, split_bytes)
        for start, end in ranges:
            splits.append(Split(file_idx, len(splits), info.path, info.size, start, end, codec, layout))
    return splits


def _gz_chunks(f: BinaryIO, path: str) -> Iterator[tuple[bytes, bool]]:
    f.seek(0)
    try:
        with gzip.GzipFile(fileobj=f) as gz:
            while data := gz.read(READ_CHUNK):
                yield data, True
    except (EOFError, OSError, zlib.error) as exc:
        raise CorruptInputError(path, f"gzip data is truncated or corrupt: {exc}") from None


def chunks(f: BinaryIO, split: Split) -> Iterator[tuple[bytes, bool]]:
    """Decompressed data from the split's start: (bytes, owned) pieces."""
    if split.codec == "bz2":
        return Bz2Blocks(f, split.path, split.size).decompressed_blocks(split.start, split.end)
    if split.codec == "gz":
        return _gz_chunks(f, split.path)
    return plain_chunks(f, split.start, split.end)


class OwnedLines:
    """Iterate (line_idx, offset, line) over the lines a split owns; then read the totals.

    ``offset`` is relative to the start of the split's owned data. After iteration,
    ``owned_bytes`` is the length of the owned data and ``newlines`` the number of newlines in it.
    """

    def __init__(self, pieces: Iterator[tuple[bytes, bool]], first_split: bool):
        self.pieces = pieces
        self.first_split = first_split
        self.owned_bytes = 0
        self.newlines = 0

    def __iter__(self) -> Iterator[tuple[int, int, bytes]]:
        buf = b""
        buf_pos = 0            # position of buf[0] relative to the owned start
        owned_end: int | None = None
        seen = 0               # bytes pulled so far
        started = self.first_split
        idx = 0
        for data, owned in self.pieces:
            if not owned and owned_end is None:
                owned_end = seen
            seen += len(data)
            buf = buf + data if buf else data
            cut = 0
            while True:
                nl = buf.find(b"\n", cut)
                if nl < 0:
                    break
                if not started:
                    if owned_end is not None and buf_pos + nl >= owned_end:
                        buf = b""
                        break
                    started = True
                    cut = nl + 1
                    continue
                line_pos = buf_pos + cut
                if owned_end is not None and line_pos > owned_end:
                    buf = b""
                    break
                yield idx, line_pos, buf[cut:nl]
                idx += 1
                cut = nl + 1
            if buf:
                buf_pos += cut
                buf = buf[cut:]
            if owned_end is not None and (not buf or buf_pos > owned_end):
                break
        if owned_end is None:
            owned_end = seen
        if buf and started and buf_pos <= owned_end:
            yield idx, buf_pos, buf
            idx += 1
        self.owned_bytes = owned_end
        self.newlines = idx - (1 if self.first_split and idx else 0)
