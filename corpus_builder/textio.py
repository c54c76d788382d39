"""Plain-text input shared by the parallel and the monolingual jobs: streaming line reading of plain,
gz, bz2 or xz files (with the stored file's sha256), decoding with rejects for bytes that do not
decode, and the cleaning rules (length, ratio, identical sides).

Nothing here needs Spark.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import hashlib
import io
import lzma
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from xlkit_core.errors import ConfigError, CorruptInputError
from xlkit_core.fsio import open_binary
from xlkit_core.parts import Reject

EXCERPT = 200
READ_BUFFER = 1 << 20

# Drop reasons, in the order in which they are checked (the first that applies is counted).
EMPTY, IDENTICAL, TOO_LONG, RATIO, DUPLICATE = "empty", "identical", "too_long", "ratio", "duplicate"
# Reject reasons (the line goes to the rejects table with its position).
UNDECODABLE, TSV_COLUMNS = "undecodable", "tsv_columns"


# ---- configuration --------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class CleanConfig:
    """The cleaning rules. Lengths are counted in `length_unit`: characters or whitespace tokens."""

    max_length: int = 1000
    length_unit: str = "chars"
    max_ratio: float = 9.0      # longer side / shorter side; 0 turns the check off
    drop_identical: bool = True
    dedup: bool = True

    def __post_init__(self) -> None:
        if self.length_unit not in ("chars", "tokens"):
            raise ConfigError(f"--length-unit {self.length_unit}: use chars or tokens")
        if self.max_length < 1:
            raise ConfigError(f"--max-length {self.max_length}: use a positive number, e.g. 1000")
        if self.max_ratio and self.max_ratio < 1:
            raise ConfigError(f"--max-ratio {self.max_ratio}: use a ratio of at least 1 (e.g. 9), or 0 for none")

    def length(self, text: str) -> int:
        return len(text) if self.length_unit == "chars" else len(text.split())


def check_encoding(encoding: str) -> str:
    """The codec's canonical name; an unknown codec or one that is not ASCII-compatible is a ConfigError."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ConfigError(f"--encoding {encoding}: unknown encoding; use e.g. utf-8 or latin-1") from None
    try:
        ok = "\n\t".encode(name) == b"\n\t"
    except (UnicodeError, LookupError):
        ok = False
    if not ok:
        raise ConfigError(f"--encoding {encoding}: lines are split at the byte 0x0A, so the encoding must be "
                          "ASCII-compatible; convert the file first, e.g. iconv -f utf-16 -t utf-8")
    return name


# ---- cleaning --------------------------------------------------------------------------------

def pair_drop_reason(src: str, tgt: str, cfg: CleanConfig) -> str | None:
    """Why a pair is dropped (empty, identical, too_long, ratio), or None to keep it."""
    if not src or not tgt:
        return EMPTY
    if cfg.drop_identical and src == tgt:
        return IDENTICAL
    a, b = cfg.length(src), cfg.length(tgt)
    if max(a, b) > cfg.max_length:
        return TOO_LONG
    if cfg.max_ratio and max(a, b) > cfg.max_ratio * max(min(a, b), 1):
        return RATIO
    return None


def text_drop_reason(text: str, cfg: CleanConfig) -> str | None:
    """Why a monolingual text is dropped (empty, too_long), or None to keep it."""
    if not text:
        return EMPTY
    if cfg.length(text) > cfg.max_length:
        return TOO_LONG
    return None


# ---- reading text files ------------------------------------------------------------------------

class _Hashing(io.RawIOBase):
    """A raw file that hashes the bytes read through it (the file as stored, before decompression)."""

    def __init__(self, f: BinaryIO):
        self.f = f
        self.sha = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.f.read(len(b))
        n = len(data)
        b[:n] = data
        self.sha.update(data)
        self.size += n
        return n

    def drain(self) -> None:
        while data := self.f.read(READ_BUFFER):
            self.sha.update(data)
            self.size += len(data)

    def close(self) -> None:
        self.f.close()
        super().close()


def sniff(head: bytes) -> str:
    if head[:2] == b"\x1f\x8b":
        return "gz"
    if head[:3] == b"BZh":
        return "bz2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    return "none"


class LineReader:
    """Iterate (line number, byte offset, raw bytes) over a plain, gz, bz2 or xz text file, streaming.

    Line numbers start at 1; the offset is in the decompressed file; the line end (LF or CRLF) is
    removed. A final line without a newline is still a line, so the count matches `wc -l` for
    files that end with a newline. After iteration: `lines`, `codec`, `size`, `sha256` (of the
    file as stored).
    """

    def __init__(self, path: str):
        self.path = path
        self.lines = 0
        self.codec = "none"
        self.size = 0
        self.sha256 = ""

    def __iter__(self) -> Iterator[tuple[int, int, bytes]]:
        raw = _Hashing(open_binary(self.path))
        try:
            head = raw.f.read(6)
            raw.f.seek(0)
            self.codec = sniff(head)
            buffered = io.BufferedReader(raw, READ_BUFFER)
            openers: dict[str, Callable] = {"gz": lambda f: gzip.GzipFile(fileobj=f), "bz2": bz2.BZ2File,
                                            "xz": lzma.LZMAFile, "none": lambda f: f}
            stream = openers[self.codec](buffered)
            offset = 0
            try:
                for line in stream:
                    self.lines += 1
                    n = len(line)
                    if line.endswith(b"\n"):
                        line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
                    yield self.lines, offset, line
                    offset += n
            except (EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
                raise CorruptInputError(self.path, f"{self.codec} data is truncated or corrupt after line "
                                        f"{self.lines}: {exc}") from None
            raw.drain()
            self.size = raw.size
            self.sha256 = raw.sha.hexdigest()
        finally:
            raw.close()

    def info(self) -> dict:
        return {"path": self.path, "size": self.size, "sha256": self.sha256, "codec": self.codec,
                "lines": self.lines}


def decode_line(raw: bytes, encoding: str, line_no: int) -> str:
    """The line as text (without a UTF-8 byte order mark on line 1).

    Raises UnicodeDecodeError for bytes that are not valid in `encoding`.
    """
    if line_no == 1 and raw.startswith(codecs.BOM_UTF8) and encoding == "utf-8":
        raw = raw[3:]
    return raw.decode(encoding)


def excerpt(raw: bytes, encoding: str) -> str:
    return raw.decode(encoding, errors="backslashreplace")[:EXCERPT]


def undecodable(path: str, line_no: int, offset: int, raw: bytes, encoding: str, exc: UnicodeDecodeError) -> Reject:
    where = f"[{encoding}: cannot decode byte 0x{raw[exc.start]:02x} at column {exc.start + 1}] "
    return Reject(UNDECODABLE, (where + excerpt(raw, encoding))[:EXCERPT], path, line_no, offset)


@dataclass
class ReadStats:
    counters: Counter = field(default_factory=Counter)
    files: list[dict] = field(default_factory=list)
