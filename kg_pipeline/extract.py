"""The work of one split: read the lines it owns, parse them, write its Parquet parts.

``process_split`` is what a Spark task runs (see jobs/build_kg.py); it needs no SparkSession and
is unit-tested directly.
"""

from __future__ import annotations

import bz2
import gzip
import time
import zlib
from collections import Counter
from collections.abc import Iterable

from xlkit_core.codecs import raw_sha256
from xlkit_core.errors import CorruptInputError
from xlkit_core.fsio import open_binary
from xlkit_core.parts import Reject
from xlkit_core.step import Outcome, Parts, run_task

from .parse import parse_api_document, parse_line
from .reader import OwnedLines, Split, chunks
from .records import EntityRecord
from .tables import SplitTables


def _count_entity(e: EntityRecord, c: Counter) -> None:
    for lang in e.labels:
        c[f"labels.{lang}"] += 1
    for s in e.sitelinks:
        c[f"sitelinks.{s.lang}"] += 1
    for t in e.triples:
        c[f"triples.{t.rank}"] += 1
    if e.kind == "property":
        c[f"properties.{e.datatype}"] += 1


def _api_bytes(f, split: Split) -> bytes:
    data = f.read()
    try:
        if split.codec == "bz2":
            return bz2.decompress(data)
        if split.codec == "gz":
            return gzip.decompress(data)
    except (OSError, ValueError, EOFError, zlib.error) as exc:
        raise CorruptInputError(split.path, f"{split.codec} data is truncated or corrupt: {exc}") from None
    return data


def process_split(split: Split, out_dir: str, langs: Iterable[str] | None = None,
                  drop: frozenset[int] = frozenset(), keys: bool = False) -> dict:
    """Parse one split and write its parts under out_dir/<table>/part-<split_idx>.parquet.

    ``drop`` holds record indices to leave out (duplicates that lost to another copy); ``keys``
    also writes ``_keys`` (qid, record index, lastrevid) for duplicate detection. Returns a
    summary: counters, owned_bytes, newlines, raw bytes and sha256, rows per table, seconds.
    Errors are raised as they are; :func:`run_split_task` is the Spark task around it.
    """
    parts = Parts()
    try:
        return _split_body(parts, split, out_dir, langs, drop, keys)
    except BaseException:
        parts.abort()
        raise


def run_split_task(split_dict: dict, out_dir: str, langs: list[str] | None,
                   drop: frozenset[int] = frozenset(), keys: bool = False) -> dict:
    """Spark task body: one split through :func:`xlkit_core.step.run_task`."""
    split = Split(**split_dict)
    return run_task(f"{split.path} (bytes {split.start}-{split.end})",
                    lambda parts: _split_body(parts, split, out_dir, langs, drop, keys))


def _split_body(parts: Parts, split: Split, out_dir: str, langs: Iterable[str] | None, drop: frozenset[int],
                keys: bool) -> dict:
    t0 = time.perf_counter()
    lang_set = frozenset(langs) if langs else None
    counters: Counter = Counter()
    tables = SplitTables(parts, out_dir, split.split_idx, keys=keys)
    owned_bytes = newlines = 0
    with open_binary(split.path) as f:
        if split.layout == "api":
            data = _api_bytes(f, split)
            records = ((i, None, r) for i, r in enumerate(parse_api_document(data, lang_set, counters)))
            owned_bytes = len(data)
        else:
            lines = OwnedLines(chunks(f, split), first_split=split.start == 0)
            records = ((i, off, parse_line(line, lang_set, counters)) for i, off, line in lines)
        for idx, off, rec in records:
            if rec is None:
                continue
            if isinstance(rec, Reject):
                counters[f"rejects.{rec.reason}"] += 1
                tables.add_reject(idx, off, rec)
            elif idx in drop:
                counters["entity_skipped.duplicate"] += 1
            else:
                _count_entity(rec, counters)
                tables.add_entity(rec, idx)
        if split.layout != "api":
            owned_bytes, newlines = lines.owned_bytes, lines.newlines
        sha = raw_sha256(f, split.start, split.end)
    rows = parts.close()
    return Outcome(split.split_idx, counters, {
        "file_idx": split.file_idx, "owned_bytes": owned_bytes, "newlines": newlines,
        "raw_bytes": split.end - split.start, "raw_sha256": sha, "rows": rows,
        "seconds": time.perf_counter() - t0}).as_dict("split_idx")


def read_keys(out_dir: str, split_idx: int) -> list[tuple[str, int, int | None]]:
    """(qid, record index, lastrevid) of every entity a split wrote."""
    import os

    import pyarrow.parquet as pq

    from xlkit_core.parts import part_name

    path = os.path.join(out_dir, "_keys", part_name(split_idx))
    if not os.path.exists(path):
        return []
    t = pq.read_table(path)
    return list(zip(t.column("qid").to_pylist(), t.column("record_idx").to_pylist(),
                    t.column("lastrevid").to_pylist(), strict=True))


def duplicate_losers(entries: list[tuple[int, int, int | None]]) -> list[tuple[int, int]]:
    """Given every (split_idx, record_idx, lastrevid) of one qid, the copies to drop.

    The copy with the highest lastrevid wins; on a tie the first in input order wins.
    """
    ranked = sorted(entries, key=lambda e: (-(e[2] if e[2] is not None else -1), e[0], e[1]))
    return [(s, r) for s, r, _ in ranked[1:]]


def finalize_rejects(out_dir: str, split_idx: int, source: str, base_line: int, base_offset: int,
                     first_split: bool) -> int:
    """Rewrite a split's local rejects with positions in the whole decompressed file.

    A split's k-th owned line is line ``base_line + k + 2`` of the file (``k + 1`` for split 0,
    which owns the first line), where base_line counts the newlines owned by earlier splits.
    """
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    from xlkit_core.parts import PARQUET_OPTS, REJECTS, part_name

    src = os.path.join(out_dir, "_rejects_local", part_name(split_idx))
    if not os.path.exists(src):
        return 0
    t = pq.read_table(src)
    k = t.column("line_idx").to_pylist()
    off = t.column("offset").to_pylist()
    shift = 1 if first_split else 2
    lines = [None if v is None or o is None else base_line + v + shift for v, o in zip(k, off, strict=True)]
    offsets = [None if o is None else base_offset + o for o in off]
    out = pa.Table.from_arrays(
        [pa.array([source] * t.num_rows, pa.string()), pa.array(lines, pa.int64()),
         pa.array(offsets, pa.int64()), t.column("reason"), t.column("excerpt")], schema=REJECTS)
    dst = os.path.join(out_dir, "rejects", part_name(split_idx))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    pq.write_table(out, dst + ".inprogress", **PARQUET_OPTS)
    os.replace(dst + ".inprogress", dst)
    return t.num_rows
