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
import fnmatch
import gzip
import hashlib
import io
import lzma
import os
import re
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from kg_pipeline.errors import ConfigError, CorruptInputError, InputError, KGError, tagged
from kg_pipeline.fsio import list_inputs, open_binary
from kg_pipeline.tables import REJECTS, PartWriter, part_name

from .langcodes import is_code, normalise

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

COMPRESSED = (".gz", ".bz2", ".xz")
SPLITS = {"train": "train", "val": "val", "valid": "val", "dev": "val", "test": "test"}
# File prefixes of the Multi30K release (data/task1/raw): their source is multi30k/<prefix>.
MULTI30K = ("train", "val", "test_2016_flickr", "test_2017_flickr", "test_2017_mscoco", "test_2018_flickr")


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


# ---- inputs and their layouts ------------------------------------------------------------------

@dataclass(frozen=True)
class PairInput:
    """One unit of work: a pair of aligned files or one TSV file, in one language pair."""

    src_lang: str
    tgt_lang: str
    source: str
    split: str
    fmt: str                      # "aligned" | "tsv"
    paths: tuple[str, ...]
    evaluation: bool = False
    swap: bool = False            # TSV only: the two columns are read the other way round

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def pair(self) -> str:
        return f"{self.src_lang}-{self.tgt_lang}"


@dataclass(slots=True)
class ParallelPair:
    src_lang: str
    tgt_lang: str
    src: str
    tgt: str
    source: str
    split: str
    line: int                      # 1-based line of the pair in its file(s)
    alignment: list[list[int]] | None = None


def strip_compression(name: str) -> str:
    for ext in COMPRESSED:
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def split_of(prefix: str) -> str | None:
    """train / val / test when a file prefix names a split (`train`, `valid`, `test_2016_flickr`)."""
    p = prefix.lower()
    if p in SPLITS:
        return SPLITS[p]
    if p.startswith(("test_", "test-", "test.", "newstest", "tst")):
        return "test"
    if p.startswith(("dev_", "dev-", "dev.", "val_", "val-", "valid_", "valid-", "newsdev")):
        return "val"
    return None


def name_source(path: str, prefix: str) -> tuple[str, str, bool]:
    """(source, split, evaluation) for an input file whose name without language and codec is `prefix`.

    - `tatoeba.*` files: source `tatoeba`, split `test`, evaluation data;
    - a prefix that names a split (train, val, test_2016_flickr, ...): `<dataset>/<prefix>` with the
      split it names. The dataset is `multi30k` when the path has a directory named like it or the
      prefix is one of Multi30K's files, else the name of the file's directory;
    - anything else: the prefix itself (the file stem), split `train`.
    """
    base = os.path.basename(path)
    if base.lower().startswith("tatoeba."):
        return "tatoeba", "test", True
    split = split_of(prefix)
    if split is None:
        return prefix, "train", False
    parts = [p for p in os.path.dirname(os.path.abspath(path)).split(os.sep) if p]
    if any("multi30k" in p.lower() for p in parts) or prefix in MULTI30K[2:]:
        dataset = "multi30k"
    else:
        dataset = parts[-1] if parts else "data"
    return f"{dataset}/{prefix}", split, False


FILE_LANG_RE = re.compile(r"^(?P<prefix>.+)\.(?P<lang>[A-Za-z]{2,3}(?:[-_][A-Za-z]{2,4})?)$")
PAIR_IN_NAME_RE = re.compile(r"(?:^|[._-])(?P<a>[A-Za-z]{2,3})[-_](?P<b>[A-Za-z]{2,3})$")
TSV_RE = re.compile(r"^(?P<stem>.+)\.tsv$", re.I)


def file_lang(path: str) -> tuple[str, str] | None:
    """(`train`, `de`) for train.de.gz; (`tatoeba.deu-eng`, `deu`) for tatoeba.deu-eng.deu; else None."""
    m = FILE_LANG_RE.match(strip_compression(os.path.basename(path)))
    if not m or not is_code(m["lang"]) or m["lang"].lower() in ("tsv", "txt", "csv", "md", "json", "xml"):
        return None
    return m["prefix"], m["lang"]


def langs_in_name(stem: str) -> tuple[str, str] | None:
    """(`ja`, `en`) for `ja-en`, `sample.jpn-eng`, `corpus_de_en`; else None."""
    m = PAIR_IN_NAME_RE.search(stem)
    if not m or not (is_code(m["a"]) and is_code(m["b"])):
        return None
    return m["a"], m["b"]


def aligned_input(src: str, tgt: str, src_lang: str | None = None, tgt_lang: str | None = None) -> PairInput:
    fa, fb = file_lang(src), file_lang(tgt)
    if src_lang is None or tgt_lang is None:
        if fa is None or fb is None:
            raise ConfigError(f"cannot tell the languages of {src},{tgt} from their names: write them "
                              f"in front, e.g. de-en={src},{tgt}")
        src_lang, tgt_lang = normalise(fa[1]), normalise(fb[1])
    prefix = fa[0] if fa else strip_compression(os.path.basename(src)).rsplit(".", 1)[0]
    source, split, evaluation = name_source(src, prefix)
    return PairInput(src_lang, tgt_lang, source, split, "aligned", (src, tgt), evaluation)


def tsv_input(path: str, src_lang: str | None = None, tgt_lang: str | None = None) -> PairInput:
    name = strip_compression(os.path.basename(path))
    m = TSV_RE.match(name)
    stem = m["stem"] if m else name.rsplit(".", 1)[0]
    if src_lang is None or tgt_lang is None:
        langs = langs_in_name(stem)
        if langs is None:
            raise ConfigError(f"cannot tell the languages of {path} from its name: write them in front, "
                              f"e.g. ja-en={path}")
        src_lang, tgt_lang = normalise(langs[0]), normalise(langs[1])
    source, split, evaluation = name_source(path, stem)
    return PairInput(src_lang, tgt_lang, source, split, "tsv", (path,), evaluation)


def discover(directory: str, pivot: str = "en", want: tuple[str, str] | None = None) -> list[PairInput]:
    """The pairs inside a directory, found by their file names (see the module docstring).

    Files `<prefix>.<lang>[.gz]` with the same prefix are parallel. When the prefix names the
    order (`tatoeba.deu-eng`), that order is used; otherwise every language is paired with the
    pivot (English by default), which is the target: train.{de,fr,cs,en} gives cs-en, de-en and
    fr-en. `*.tsv[.gz]` files are TSV inputs whose name carries the pair (`ja-en.tsv`). With
    `want`, only that language pair is kept, in that order.
    """
    try:
        files = [f.path for f in list_inputs(directory)]
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        raise InputError(f"cannot read {directory}: {exc}") from None
    groups: dict[str, dict[str, str]] = {}
    found: list[PairInput] = []
    for path in files:
        name = strip_compression(os.path.basename(path))
        if TSV_RE.match(name):
            langs = langs_in_name(TSV_RE.match(name)["stem"])
            if langs:
                found.append(tsv_input(path))
            continue
        fl = file_lang(path)
        if fl:
            groups.setdefault(fl[0], {})[fl[1]] = path
    for prefix in sorted(groups):
        by_lang = groups[prefix]
        if len(by_lang) < 2:
            continue
        norm = {normalise(code): path for code, path in sorted(by_lang.items())}
        named = langs_in_name(prefix)
        if named and named[0] in by_lang and named[1] in by_lang:
            pairs = [(by_lang[named[0]], by_lang[named[1]], normalise(named[0]), normalise(named[1]))]
        elif pivot in norm:
            pairs = [(norm[lang], norm[pivot], lang, pivot) for lang in sorted(norm) if lang != pivot]
        elif len(norm) == 2:
            a, b = sorted(norm)
            pairs = [(norm[a], norm[b], a, b)]
        else:
            raise ConfigError(f"{directory}: {prefix}.* has {len(norm)} languages ({', '.join(sorted(norm))}) and "
                              f"none is the pivot {pivot}: name the pairs, e.g. "
                              f"{sorted(norm)[0]}-{sorted(norm)[1]}={directory}, or pass --pivot")
        found += [aligned_input(s, t, sl, tl) for s, t, sl, tl in pairs]
    found.sort(key=lambda p: (p.paths[0], p.pair))
    if want is not None:
        found = [_oriented(p, want) for p in found if {p.src_lang, p.tgt_lang} == set(want)]
    if not found:
        what = f" for {want[0]}-{want[1]}" if want else ""
        raise InputError(f"{directory}: no parallel files found{what} (expected corpus.de + corpus.en, "
                         "tatoeba.deu-eng.deu + tatoeba.deu-eng.eng, train.de.gz + train.en.gz, or xx-yy.tsv)")
    return found


def _oriented(p: PairInput, want: tuple[str, str]) -> PairInput:
    if (p.src_lang, p.tgt_lang) == want:
        return p
    if p.fmt == "aligned":
        return replace(p, src_lang=want[0], tgt_lang=want[1], paths=p.paths[::-1])
    return replace(p, src_lang=want[0], tgt_lang=want[1], swap=not p.swap)


def parse_spec(item: str, pivot: str = "en") -> list[PairInput]:
    """One item of --parallel: `de-en=a.de,b.en`, `fr-en=x.tsv`, `de-en=DIR`, `DIR`, `a.de,b.en` or `ja-en.tsv`."""
    langs, sep, rest = item.partition("=")
    want = None
    if sep and "/" not in langs and "," not in langs:
        codes = re.split(r"[-_]", langs, maxsplit=1) if re.fullmatch(r"[A-Za-z]{2,3}[-_][A-Za-z]{2,3}", langs) else []
        if len(codes) != 2:
            raise ConfigError(f"--parallel {item}: {langs!r} is not a language pair; write src-tgt=FILES, e.g. "
                              "de-en=corpus.de,corpus.en")
        want = (normalise(codes[0]), normalise(codes[1]))
        if want[0] == want[1]:
            raise ConfigError(f"--parallel {item}: both sides are {want[0]}")
    else:
        rest = item
    paths = [p if "://" in p else os.path.abspath(p) for p in rest.split(",") if p]
    for p in paths:
        if "://" not in p and not os.path.exists(p):
            raise InputError(f"--parallel {item}: {p} does not exist")
    if len(paths) == 2:
        return [aligned_input(paths[0], paths[1], *(want or (None, None)))]
    if len(paths) != 1:
        raise ConfigError(f"--parallel {item}: give two aligned files (a,b), one TSV file or one directory")
    if os.path.isdir(paths[0]):
        return discover(paths[0], pivot, want)
    return [tsv_input(paths[0], *(want or (None, None)))]


def plan_inputs(values: list[str], pivot: str = "en", eval_sources: tuple[str, ...] = (),
                train_sources: tuple[str, ...] = ()) -> list[PairInput]:
    """All inputs of the job, in order, with the marks of --eval-source and --train-source applied.

    --train-source makes a source whose file name names a test or dev split (Multi30K's
    ``test_2017_flickr``) training data: split ``train``. Tatoeba files stay evaluation data."""
    inputs: list[PairInput] = []
    for value in values:
        for item in value.split():
            inputs += parse_spec(item, pivot)
    if not inputs:
        raise ConfigError("no parallel input given: --parallel de-en=corpus.de,corpus.en")
    seen: dict[tuple, PairInput] = {}
    for p in inputs:
        key = (p.paths, p.pair)
        if key in seen:
            raise ConfigError(f"{', '.join(p.paths)} is given twice for {p.pair}")
        seen[key] = p
    for flag, patterns in (("--eval-source", eval_sources), ("--train-source", train_sources)):
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(p.source, pattern) for p in inputs):
                known = ", ".join(sorted({p.source for p in inputs}))
                raise ConfigError(f"{flag} {pattern} matches no source; the sources are: {known}")
    out = []
    for p in inputs:
        evaluation = p.evaluation or any(fnmatch.fnmatchcase(p.source, pat) for pat in eval_sources)
        if any(fnmatch.fnmatchcase(p.source, pat) for pat in train_sources):
            if evaluation:
                why = "Tatoeba is the retrieval benchmark" if p.source == "tatoeba" else "--eval-source marks it too"
                raise ConfigError(f"--train-source cannot make {p.source} training data: {why}")
            p = replace(p, split="train")
        out.append(replace(p, evaluation=evaluation))
    return out


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
