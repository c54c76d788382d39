"""Parallel corpora -> the `parallel` table: input layouts, line reading, cleaning, per-task work.

Nothing here needs Spark. jobs/build_parallel.py plans the inputs with :func:`plan_inputs`, runs
:func:`stage_task` once per input (a file pair or a TSV file), finds the duplicates across all
inputs with Spark, and runs :func:`publish_task` to write the final parts.

Layouts (`PairInput`):
- aligned files: line i of one file translates line i of the other (`corpus.de` / `corpus.en`,
  `tatoeba.deu-eng.deu` / `tatoeba.deu-eng.eng`, `train.de.gz` / `train.en.gz`);
- TSV: two text columns per line (by default the first two);
- a directory: the pairs inside it are found by those file names (:func:`discover`).

The plain-text reader and the cleaning rules are :mod:`corpus_builder.textio`; the stage ->
deduplicate -> publish passes are :mod:`corpus_builder.staging`; both are shared with
corpus_builder/monolingual.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyarrow as pa

from xlkit_core.errors import InputError
from xlkit_core.parts import REJECTS, Reject
from xlkit_core.step import Outcome, Parts, run_task

from .parallel_inputs import PairInput, ParallelPair, discover, parse_spec, plan_inputs  # noqa: F401 (re-exported)
from .staging import read_losers, staged_batches
from .textio import (  # noqa: F401 (re-exported: the parallel job's reading and cleaning)
    EXCERPT,
    TSV_COLUMNS,
    UNDECODABLE,
    CleanConfig,
    LineReader,
    ReadStats,
    check_encoding,
    decode_line,
    pair_drop_reason,
    undecodable,
)

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


# ---- the work of one input ---------------------------------------------------------------------

class LineCountMismatch(InputError):
    """Aligned files whose line counts differ: never truncated silently."""

    exit_code = 1


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
                reject(Reject(TSV_COLUMNS, f"[{len(cols)} column(s), need {need}] {text}"[:EXCERPT],
                              inp.paths[0], line_no, off))
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


def stage_task(task: int, inp_dict: dict, cfg_dict: dict, encoding: str, tsv_columns: tuple[int, int],
               stage_dir: str, out_dir: str, rejects_table: str = "parallel_rejects") -> dict:
    """Spark task body, pass 1: read one input, filter, stage the kept pairs, write its rejects."""
    inp, cfg = PairInput(**inp_dict), CleanConfig(**cfg_dict)

    def body(parts: Parts) -> dict:
        stage = parts.open(stage_dir, "pairs", STAGE_PARALLEL, task)
        rejects = parts.open(out_dir, rejects_table, REJECTS, task)
        stats = ReadStats()
        for p in read_pairs(inp, cfg, encoding, tsv_columns, stats, lambda r: rejects.append(r.row())):
            stage.append((task, p.line, p.src_lang, p.tgt_lang, p.src, p.tgt))
        rows = parts.close()
        return Outcome(task, stats.counters, {"files": stats.files, "staged": rows["pairs"],
                                              "reject_lines": rows[rejects_table]}).as_dict()

    return run_task(", ".join(inp.paths), body)


def publish_task(group: list[tuple[int, dict]], stage_dir: str, losers_dir: str | None, out_dir: str,
                 align: dict | None) -> list[dict]:
    """Spark task body, pass 2: write part-<task>.parquet of `parallel` for each (task, input) of the group.

    With `align` (iterations, seed), the group is one language pair: all its pairs are aligned
    together with corpus_builder.align.align_corpus before they are written.
    """
    def body(parts: Parts) -> list[dict]:
        alignments = align_group(group, stage_dir, losers_dir, align) if align is not None else {}
        results = []
        for task, inp_dict in group:
            inp = PairInput(**inp_dict)
            losers = read_losers(losers_dir, task)
            w = parts.open(out_dir, "parallel", PARALLEL, task, key=str(task))
            links = iter(alignments.get(task, ()))
            for batch in staged_batches(stage_dir, "pairs", task, losers):
                for src, tgt in zip(batch.column("src").to_pylist(), batch.column("tgt").to_pylist(), strict=True):
                    a = next(links, None) if align is not None else None
                    w.append((inp.src_lang, inp.tgt_lang, src, tgt, inp.source, inp.split,
                              [[int(i), int(j)] for i, j in a] if a is not None else None))
            results.append({"task": task, "duplicates": int(len(losers))})
        rows = parts.close()
        return [r | {"rows": rows[str(r["task"])]} for r in results]

    return run_task(f"publishing {', '.join(PairInput(**d).pair for _, d in group)}", body)


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
