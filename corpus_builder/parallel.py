"""Parallel corpora -> the `parallel` table: input layouts, line reading, cleaning, per-task work.

Nothing here needs Spark. jobs/build_parallel.py plans the inputs with :func:`plan_inputs`, runs
:func:`stage_task` once per input (a file pair or a TSV file), finds the duplicates across all
inputs with Spark, and runs :func:`publish_task` to write the final parts.

Layouts (`PairInput`):
- aligned files: line i of one file translates line i of the other (`corpus.de` / `corpus.en`,
  `tatoeba.deu-eng.deu` / `tatoeba.deu-eng.eng`, `train.de.gz` / `train.en.gz`);
- TSV: two text columns per line (by default the first two);
- a directory: the pairs inside it are found by those file names (:func:`discover`).

The plain-text reader (:class:`LineReader`, :func:`decode_line`) and the length filter are shared
with corpus_builder/monolingual.py.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import hashlib
import io
import lzma
import os
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from kg_pipeline.errors import ConfigError, CorruptInputError, InputError, KGError, tagged
from kg_pipeline.fsio import open_binary
from kg_pipeline.tables import REJECTS, PartWriter, part_name

from .parallel_inputs import PairInput, ParallelPair, discover, parse_spec, plan_inputs  # noqa: F401 (re-exported)

EXCERPT = 200
READ_BUFFER = 1 << 20

# Drop reasons, in the order in which they are checked (the first that applies is counted).
EMPTY, IDENTICAL, TOO_LONG, RATIO, DUPLICATE = "empty", "identical", "too_long", "ratio", "duplicate"
# Reject reasons (the line goes to the rejects table with its position).
UNDECODABLE, TSV_COLUMNS = "undecodable", "tsv_columns"

PARALLEL = pa.schema([
    ("src_lang", pa.string()), ("tgt_lang", pa.string()), ("src", pa.string()), ("tgt", pa.string()),
    ("source", pa.string()), ("split", pa.string()), ("alignment", pa.list_(pa.list_(pa.int32()))),
])
# Kept pairs of one input before the duplicates of the whole job are known.
STAGE_PARALLEL = pa.schema([
    ("task", pa.int32()), ("row", pa.int64()), ("src_lang", pa.string()), ("tgt_lang", pa.string()),
    ("src", pa.string()), ("tgt", pa.string()),
])
DEDUP_KEY = ("src_lang", "tgt_lang", "src", "tgt")



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


@dataclass(frozen=True, slots=True)
class Reject:
    source: str
    line: int
    offset: int
    reason: str
    excerpt: str


def undecodable(path: str, line_no: int, offset: int, raw: bytes, encoding: str, exc: UnicodeDecodeError) -> Reject:
    where = f"[{encoding}: cannot decode byte 0x{raw[exc.start]:02x} at column {exc.start + 1}] "
    return Reject(path, line_no, offset, UNDECODABLE, (where + excerpt(raw, encoding))[:EXCERPT])


# ---- the work of one input ---------------------------------------------------------------------

class LineCountMismatch(InputError):
    """Aligned files whose line counts differ: never truncated silently."""

    exit_code = 1


@dataclass
class ReadStats:
    counters: Counter = field(default_factory=Counter)
    files: list[dict] = field(default_factory=list)


def _count_rest(it: Iterator) -> int:
    return sum(1 for _ in it)


def aligned_lines(src: str, tgt: str) -> tuple[Iterator[tuple[int, tuple, tuple]], list[LineReader]]:
    """Lines of two aligned files in lockstep: (line number, (offset, raw) of src, (offset, raw) of tgt).

    Raises LineCountMismatch, naming both files and both counts, when one file ends first.
    """
    ra, rb = LineReader(src), LineReader(tgt)

    def gen():
        ia, ib = iter(ra), iter(rb)
        while True:
            a, b = next(ia, None), next(ib, None)
            if a is None or b is None:
                if a is None and b is None:
                    return
                if a is not None:
                    _count_rest(ia)
                if b is not None:
                    _count_rest(ib)
                raise LineCountMismatch(
                    f"{src} has {ra.lines:,} lines but {tgt} has {rb.lines:,}: aligned files must have the same "
                    "number of lines (line i of one translates line i of the other); nothing was written")
            yield a[0], (a[1], a[2]), (b[1], b[2])

    return gen(), [ra, rb]


def _decode(path: str, line_no: int, offset: int, raw: bytes, encoding: str, stats: ReadStats,
            reject: Callable[[Reject], None]) -> str | None:
    try:
        return decode_line(raw, encoding, line_no)
    except UnicodeDecodeError as exc:
        reject(undecodable(path, line_no, offset, raw, encoding, exc))
        stats.counters[f"rejects.{UNDECODABLE}"] += 1
        return None


def read_pairs(inp: PairInput, cfg: CleanConfig, encoding: str, tsv_columns: tuple[int, int],
               stats: ReadStats, reject: Callable[[Reject], None]) -> Iterator[ParallelPair]:
    """The pairs of one input that pass the per-pair filters, in input order.

    Counts `read`, `dropped.<reason>`, `rejected` (pairs) and `rejects.<reason>` (lines) in stats;
    every undecodable line or short TSV line is handed to `reject` with its position. Surrounding
    whitespace of each side is removed.
    """
    c = stats.counters
    if inp.fmt == "aligned":
        lines, readers = aligned_lines(*inp.paths)
    else:
        reader = LineReader(inp.paths[0])
        lines, readers = ((n, (off, raw), None) for n, off, raw in reader), [reader]
    need = max(tsv_columns) + 1
    for line_no, (off, raw), other in lines:
        c["read"] += 1
        if other is not None:
            src = _decode(inp.paths[0], line_no, off, raw, encoding, stats, reject)
            tgt = _decode(inp.paths[1], line_no, *other, encoding, stats, reject)
            if src is None or tgt is None:
                c["rejected"] += 1
                continue
        else:
            text = _decode(inp.paths[0], line_no, off, raw, encoding, stats, reject)
            cols = text.split("\t") if text is not None else []
            if text is not None and len(cols) < need:
                reject(Reject(inp.paths[0], line_no, off, TSV_COLUMNS,
                              f"[{len(cols)} column(s), need {need}] {text}"[:EXCERPT]))
                c[f"rejects.{TSV_COLUMNS}"] += 1
            if len(cols) < need:
                c["rejected"] += 1
                continue
            src, tgt = cols[tsv_columns[0]], cols[tsv_columns[1]]
            if inp.swap:
                src, tgt = tgt, src
        src, tgt = src.strip(), tgt.strip()
        reason = pair_drop_reason(src, tgt, cfg)
        if reason:
            c[f"dropped.{reason}"] += 1
            continue
        yield ParallelPair(inp.src_lang, inp.tgt_lang, src, tgt, inp.source, inp.split, line_no)
    stats.files = [r.info() for r in readers]


def raise_task_errors(summaries: list[dict]) -> None:
    """Bad input found by the tasks (returned, not raised, so that Spark logs no stack trace)."""
    errors = [s["error"] for s in summaries if "error" in s]
    if errors:
        more = f" (and {len(errors) - 1} more input(s) with errors)" if len(errors) > 1 else ""
        raise KGError(errors[0] + more)


def task_error(where: str, exc: BaseException) -> RuntimeError:
    """A task failure as one tagged line that the driver shows (kg_pipeline.errors.tagged)."""
    if isinstance(exc, KGError):
        return RuntimeError(tagged(str(exc)))
    return RuntimeError(tagged(f"{where}: {type(exc).__name__}: {exc}"))


def write_rejects(out_dir: str, table: str, task: int, attempt: str) -> PartWriter:
    return PartWriter(out_dir, table, REJECTS, task, attempt)


def stage_task(task: int, inp_dict: dict, cfg_dict: dict, encoding: str, tsv_columns: tuple[int, int],
               stage_dir: str, out_dir: str, rejects_table: str = "parallel_rejects") -> dict:
    """Spark task body, pass 1: read one input, filter, stage the kept pairs, write its rejects."""
    inp, cfg = PairInput(**inp_dict), CleanConfig(**cfg_dict)
    attempt = uuid.uuid4().hex[:8]
    stage = PartWriter(stage_dir, "pairs", STAGE_PARALLEL, task, attempt)
    rejects = write_rejects(out_dir, rejects_table, task, attempt)
    stats = ReadStats()
    try:
        for p in read_pairs(inp, cfg, encoding, tsv_columns, stats,
                            lambda r: rejects.append((r.source, r.line, r.offset, r.reason, r.excerpt))):
            stage.append((task, p.line, p.src_lang, p.tgt_lang, p.src, p.tgt))
        staged = stage.close()
        rejected_lines = rejects.close()
    except KGError as exc:  # bad input (unequal files, corrupt gzip): reported by the driver as one line
        stage.abort()
        rejects.abort()
        return {"task": task, "error": str(exc)}
    except BaseException as exc:
        stage.abort()
        rejects.abort()
        if isinstance(exc, Exception):
            raise task_error(", ".join(inp.paths), exc) from None
        raise
    return {"task": task, "counters": dict(stats.counters), "files": stats.files, "staged": staged,
            "reject_lines": rejected_lines}


# ---- pass 2: drop the duplicates, align, write the final parts ---------------------------------

def read_losers(losers_dir: str | None, task: int):
    """The staged rows of one task that repeat an earlier row (written by Spark, partitioned by task)."""
    import numpy as np

    d = os.path.join(losers_dir, f"task={task}") if losers_dir else None
    if not d or not os.path.isdir(d):
        return np.empty(0, dtype=np.int64)
    parts = [pq.read_table(os.path.join(d, n), columns=["row"]).column("row").to_numpy()
             for n in sorted(os.listdir(d)) if n.endswith(".parquet")]
    return np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)


def staged_batches(stage_dir: str, table: str, task: int, losers) -> Iterator[pa.RecordBatch]:
    """The staged rows of one task, in order, without the losers."""
    import numpy as np

    path = os.path.join(stage_dir, table, part_name(task))
    if not os.path.exists(path):
        return
    f = pq.ParquetFile(path)
    for batch in f.iter_batches(batch_size=8192):
        if len(losers):
            keep = ~np.isin(batch.column("row").to_numpy(), losers, assume_unique=True)
            batch = batch.filter(pa.array(keep))
        if batch.num_rows:
            yield batch


def publish_task(group: list[tuple[int, dict]], stage_dir: str, losers_dir: str | None, out_dir: str,
                 align: dict | None) -> list[dict]:
    """Spark task body, pass 2: write part-<task>.parquet of `parallel` for each (task, input) of the group.

    With `align` (iterations, seed), the group is one language pair: all its pairs are aligned
    together with corpus_builder.align.align_corpus before they are written.
    """
    attempt = uuid.uuid4().hex[:8]
    results = []
    try:
        alignments: dict[int, list] = {}
        if align is not None:
            alignments = align_group(group, stage_dir, losers_dir, align)
        for task, inp_dict in group:
            inp = PairInput(**inp_dict)
            losers = read_losers(losers_dir, task)
            w = PartWriter(out_dir, "parallel", PARALLEL, task, attempt)
            try:
                links = iter(alignments.get(task, ()))
                for batch in staged_batches(stage_dir, "pairs", task, losers):
                    for src, tgt in zip(batch.column("src").to_pylist(), batch.column("tgt").to_pylist(), strict=True):
                        a = next(links, None) if align is not None else None
                        w.append((inp.src_lang, inp.tgt_lang, src, tgt, inp.source, inp.split,
                                  [[int(i), int(j)] for i, j in a] if a is not None else None))
                rows = w.close()
            except BaseException:
                w.abort()
                raise
            results.append({"task": task, "rows": rows, "duplicates": int(len(losers))})
    except Exception as exc:
        raise task_error(f"publishing {', '.join(PairInput(**d).pair for _, d in group)}", exc) from None
    return results


def align_group(group: list[tuple[int, dict]], stage_dir: str, losers_dir: str | None, align: dict) -> dict[int, list]:
    """Word alignments of every kept pair of the group, per task, in row order."""
    from corpus_builder.align import align_corpus

    src: list[str] = []
    tgt: list[str] = []
    bounds = []
    for task, _ in group:
        start = len(src)
        for batch in staged_batches(stage_dir, "pairs", task, read_losers(losers_dir, task)):
            src += batch.column("src").to_pylist()
            tgt += batch.column("tgt").to_pylist()
        bounds.append((task, start, len(src)))
    links = align_corpus(src, tgt, iterations=align.get("iterations", 5), seed=align.get("seed", 0)) if src else []
    if len(links) != len(src):
        raise ValueError(f"align_corpus returned {len(links)} alignments for {len(src)} pairs")
    return {task: links[a:b] for task, a, b in bounds}
