"""Monolingual text -> the `monolingual` table (lang, text, source, doc_id). No Spark needed here.

Two kinds of input (`MonoInput`):
- plain-text files in the CC-100 style: one paragraph per line, a blank line between documents,
  plain, gz, bz2 or xz. Each non-blank line is a row; `doc_id` counts the documents of the file
  from 0; `source` is the file stem (`sw.txt.xz` -> `sw`);
- the `sentences` table of a corpus directory (jobs/build_corpus.py): one row per sentence,
  `doc_id` = page_id, `source` = `wikipedia`, one task per Parquet part.

The line reader, decoding, rejects and the length filter are corpus_builder/textio.py's, and the
stage -> deduplicate -> publish passes corpus_builder/staging.py's, as for the parallel table.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from xlkit_core.errors import ConfigError, InputError
from xlkit_core.fsio import list_inputs
from xlkit_core.langs import is_code, normalise
from xlkit_core.parts import REJECTS, Reject
from xlkit_core.step import Outcome, Parts, run_task

from .parallel_inputs import strip_compression
from .staging import read_losers, staged_batches
from .textio import CleanConfig, LineReader, ReadStats, decode_line, text_drop_reason, undecodable

MONOLINGUAL = pa.schema([("lang", pa.string()), ("text", pa.string()), ("source", pa.string()),
                         ("doc_id", pa.int64())])
STAGE_MONO = pa.schema([("task", pa.int32()), ("row", pa.int64()), ("lang", pa.string()), ("text", pa.string()),
                        ("doc_id", pa.int64())])
DEDUP_KEY = ("lang", "text")
WIKIPEDIA = "wikipedia"
TEXT_EXTS = (".txt", ".text")


@dataclass(frozen=True)
class MonoInput:
    kind: str              # "text" | "sentences"
    path: str
    source: str
    lang: str | None       # None for sentences: each row carries its language

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(slots=True)
class MonoRecord:
    lang: str
    text: str
    source: str
    doc_id: int
    row: int               # line number (text files) or row number (sentences), from 1


def file_stem(path: str) -> str:
    name = strip_compression(os.path.basename(path))
    for ext in TEXT_EXTS:
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def text_inputs(values: list[str]) -> list[MonoInput]:
    """--text values: `sw=file`, `file` (language from a name like sw.txt.xz), a directory or a glob."""
    out: list[MonoInput] = []
    for value in values:
        for item in value.split():
            lang, sep, path = item.partition("=")
            if not sep or "/" in lang:
                lang, path = None, item
            try:
                files = [f.path for f in list_inputs(path)]
            except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
                raise InputError(f"--text {item}: {exc}") from None
            for f in files:
                code = lang if lang is not None else file_stem(f)
                if lang is None and not is_code(code):
                    raise ConfigError(f"cannot tell the language of {f} from its name: write it in front, "
                                      f"e.g. --text sw={f}")
                out.append(MonoInput("text", f, file_stem(f), normalise(code)))
    return out


def sentence_inputs(corpus_dir: str) -> list[MonoInput]:
    """One input per Parquet part of OUT/sentences, in file-name order (the table's sort order)."""
    d = os.path.join(corpus_dir, "sentences")
    if not os.path.isdir(d):
        return []
    parts = sorted(n for n in os.listdir(d) if n.endswith(".parquet") and not n.startswith((".", "_")))
    return [MonoInput("sentences", os.path.join(d, n), WIKIPEDIA, None) for n in parts]


def read_documents(inp: MonoInput, cfg: CleanConfig, encoding: str, stats: ReadStats,
                   reject: Callable[[Reject], None]) -> Iterator[MonoRecord]:
    """The kept paragraphs of a CC-100 style file, in order.

    A blank (or whitespace-only) line ends a document; several blank lines in a row end one.
    Counts `lines`, `documents`, `read` (non-blank lines), `dropped.<reason>`, `rejected`.
    An undecodable line is rejected and its document goes on.
    """
    c = stats.counters
    reader = LineReader(inp.path)
    doc, in_doc = 0, False
    for line_no, offset, raw in reader:
        try:
            text = decode_line(raw, encoding, line_no).strip()
        except UnicodeDecodeError as exc:
            reject(undecodable(inp.path, line_no, offset, raw, encoding, exc))
            c["read"] += 1
            c["rejected"] += 1
            c["rejects.undecodable"] += 1
            c["documents"] += 0 if in_doc else 1
            in_doc = True
            continue
        if not text:
            if in_doc:
                doc += 1
                in_doc = False
            continue
        if not in_doc:
            c["documents"] += 1
            in_doc = True
        c["read"] += 1
        reason = text_drop_reason(text, cfg)
        if reason:
            c[f"dropped.{reason}"] += 1
            continue
        yield MonoRecord(inp.lang, text, inp.source, doc, line_no)
    c["lines"] += reader.lines
    stats.files = [reader.info()]


def read_sentences(inp: MonoInput, cfg: CleanConfig, stats: ReadStats) -> Iterator[MonoRecord]:
    """The kept sentences of one part of the corpus `sentences` table, in its order."""
    c = stats.counters
    f = pq.ParquetFile(inp.path)
    row = 0
    for batch in f.iter_batches(columns=["lang", "page_id", "text"], batch_size=8192):
        for lang, page_id, text in zip(*(batch.column(n).to_pylist() for n in ("lang", "page_id", "text")), strict=True):
            row += 1
            c["read"] += 1
            reason = text_drop_reason(text if text and text.strip() else "", cfg)
            if reason:
                c[f"dropped.{reason}"] += 1
                continue
            yield MonoRecord(lang, text, inp.source, page_id, row)
    stats.files = [{"path": inp.path, "size": os.path.getsize(inp.path), "rows": row}]


def stage_mono_task(task: int, inp_dict: dict, cfg_dict: dict, encoding: str, stage_dir: str | None,
                    out_dir: str) -> dict:
    """Spark task body, pass 1: read one input and write its kept rows.

    With `stage_dir` (duplicates are to be dropped) the rows are staged for pass 2; without it they
    go straight to the final part of `monolingual`.
    """
    inp, cfg = MonoInput(**inp_dict), CleanConfig(**cfg_dict)

    def body(parts: Parts) -> dict:
        if stage_dir:
            w = parts.open(stage_dir, "mono", STAGE_MONO, task, key="rows")
            row_of = lambda r: (task, r.row, r.lang, r.text, r.doc_id)  # noqa: E731
        else:
            w = parts.open(out_dir, "monolingual", MONOLINGUAL, task, key="rows")
            row_of = lambda r: (r.lang, r.text, r.source, r.doc_id)  # noqa: E731
        rejects = parts.open(out_dir, "monolingual_rejects", REJECTS, task)
        stats = ReadStats()
        if inp.kind == "sentences":
            records = read_sentences(inp, cfg, stats)
        else:
            records = read_documents(inp, cfg, encoding, stats, lambda r: rejects.append(r.row()))
        langs: dict[str, int] = {}
        for r in records:
            w.append(row_of(r))
            langs[r.lang] = langs.get(r.lang, 0) + 1
        rows = parts.close()
        return Outcome(task, stats.counters, {"files": stats.files, "rows": rows["rows"], "by_lang": langs,
                                              "reject_lines": rows["monolingual_rejects"]}).as_dict()

    return run_task(inp.path, body)


def publish_mono_task(task: int, inp_dict: dict, stage_dir: str, losers_dir: str | None, out_dir: str) -> dict:
    """Spark task body, pass 2: the staged rows of one input without the duplicates -> its final part."""
    inp = MonoInput(**inp_dict)

    def body(parts: Parts) -> dict:
        w = parts.open(out_dir, "monolingual", MONOLINGUAL, task)
        langs: dict[str, int] = {}
        losers = read_losers(losers_dir, task)
        for batch in staged_batches(stage_dir, "mono", task, losers):
            cols = (batch.column(n).to_pylist() for n in ("lang", "text", "doc_id"))
            for lang, text, doc_id in zip(*cols, strict=True):
                w.append((lang, text, inp.source, doc_id))
                langs[lang] = langs.get(lang, 0) + 1
        rows = parts.close()
        return {"task": task, "rows": rows["monolingual"], "duplicates": int(len(losers)), "by_lang": langs}

    return run_task(inp.path, body)
