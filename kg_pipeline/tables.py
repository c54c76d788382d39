"""The published Parquet tables (DESIGN.md) and a streaming per-split writer for them."""

from __future__ import annotations

import os
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from .records import ALIAS_MAP, STR_MAP, EntityRecord, Reject

ENTITIES = pa.schema([
    ("qid", pa.string()), ("kind", pa.string()), ("labels", STR_MAP), ("descriptions", STR_MAP),
    ("aliases", ALIAS_MAP), ("sitelink_count", pa.int32()), ("instance_of", pa.list_(pa.string())),
])
SITELINKS = pa.schema([("qid", pa.string()), ("site", pa.string()), ("lang", pa.string()), ("title", pa.string())])
TRIPLES = pa.schema([("subject", pa.string()), ("property", pa.string()), ("object", pa.string()), ("rank", pa.string())])
PROPERTIES = pa.schema([("pid", pa.string()), ("labels", STR_MAP), ("datatype", pa.string())])
# Rejects as a split writes them (positions relative to the split) ...
LOCAL_REJECTS = pa.schema([
    ("split_idx", pa.int32()), ("line_idx", pa.int64()), ("offset", pa.int64()),
    ("reason", pa.string()), ("excerpt", pa.string()),
])
# Identity of every entity record, written only when duplicates must be looked for.
KEYS = pa.schema([("qid", pa.string()), ("record_idx", pa.int64()), ("lastrevid", pa.int64())])
# ... and as published: source file, 1-based line and byte offset in the decompressed file.
REJECTS = pa.schema([
    ("source", pa.string()), ("line", pa.int64()), ("offset", pa.int64()),
    ("reason", pa.string()), ("excerpt", pa.string()),
])
SCHEMAS = {"entities": ENTITIES, "sitelinks": SITELINKS, "triples": TRIPLES, "properties": PROPERTIES,
           "rejects": REJECTS}
PUBLISHED = ("entities", "sitelinks", "triples", "properties", "rejects")

ROW_GROUP_ROWS = 64_000
ROW_GROUP_BYTES = 96 << 20   # Arrow bytes buffered before a row group is written
BATCH_ROWS = 1024            # Python rows turned into a compact Arrow batch at a time
PARQUET_OPTS = {"compression": "zstd", "write_statistics": True}


def part_name(split_idx: int) -> str:
    return f"part-{split_idx:05d}.parquet"


class PartWriter:
    """Buffers rows for one table of one split and writes row groups of up to ROW_GROUP_ROWS rows.

    Rows are held as Python objects only BATCH_ROWS at a time, then as Arrow batches, so memory
    stays near ROW_GROUP_BYTES even for large Wikidata entities. The file appears under its final
    name only when closed (write, then rename), so a killed or retried task never leaves a
    half-written part behind.
    """

    def __init__(self, directory: str, name: str, schema: pa.Schema, split_idx: int, attempt: str):
        self.final = os.path.join(directory, name, part_name(split_idx))
        self.tmp = f"{self.final}.{attempt}.inprogress"
        self.schema = schema
        self.cols: dict[str, list] = {f.name: [] for f in schema}
        self.rows = 0
        self.batches: list[pa.RecordBatch] = []
        self.buffered_rows = 0
        self.buffered_bytes = 0
        self.total = 0
        self._writer: pq.ParquetWriter | None = None

    def append(self, values: Iterable) -> None:
        for col, value in zip(self.cols.values(), values, strict=True):
            col.append(value)
        self.rows += 1
        if self.rows >= BATCH_ROWS:
            self._to_arrow()

    def _to_arrow(self) -> None:
        if not self.rows:
            return
        batch = pa.RecordBatch.from_arrays(
            [pa.array(self.cols[f.name], type=f.type) for f in self.schema], schema=self.schema)
        self.batches.append(batch)
        self.buffered_rows += batch.num_rows
        self.buffered_bytes += batch.nbytes
        self.cols = {f.name: [] for f in self.schema}
        self.rows = 0
        if self.buffered_rows >= ROW_GROUP_ROWS or self.buffered_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self.batches:
            return
        if self._writer is None:
            os.makedirs(os.path.dirname(self.tmp), exist_ok=True)
            self._writer = pq.ParquetWriter(self.tmp, self.schema, **PARQUET_OPTS)
        self._writer.write_table(pa.Table.from_batches(self.batches, self.schema), row_group_size=ROW_GROUP_ROWS)
        self.total += self.buffered_rows
        self.batches, self.buffered_rows, self.buffered_bytes = [], 0, 0

    def close(self) -> int:
        """Commit the part; return its row count (no file is written for zero rows)."""
        self._to_arrow()
        self._flush()
        if self._writer is not None:
            self._writer.close()
            os.replace(self.tmp, self.final)
        return self.total

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if os.path.exists(self.tmp):
            os.remove(self.tmp)


class SplitTables:
    """The four entity-derived tables plus local rejects, for one split."""

    def __init__(self, directory: str, split_idx: int, attempt: str, keys: bool = False):
        self.split_idx = split_idx
        mk = lambda name, schema: PartWriter(directory, name, schema, split_idx, attempt)  # noqa: E731
        self.entities = mk("entities", ENTITIES)
        self.sitelinks = mk("sitelinks", SITELINKS)
        self.triples = mk("triples", TRIPLES)
        self.properties = mk("properties", PROPERTIES)
        self.rejects = mk("_rejects_local", LOCAL_REJECTS)
        self.keys = mk("_keys", KEYS) if keys else None
        self.names = ("entities", "sitelinks", "triples", "properties", "_rejects_local") + (("_keys",) if keys else ())
        self.all = (self.entities, self.sitelinks, self.triples, self.properties, self.rejects) + (
            (self.keys,) if keys else ())

    def add_entity(self, e: EntityRecord, record_idx: int) -> None:
        if self.keys is not None:
            self.keys.append((e.qid, record_idx, e.lastrevid))
        labels = list(e.labels.items())
        self.entities.append((e.qid, e.kind, labels, list(e.descriptions.items()), list(e.aliases.items()),
                              e.sitelink_count, e.instance_of))
        for s in e.sitelinks:
            self.sitelinks.append((e.qid, s.site, s.lang, s.title))
        for t in e.triples:
            self.triples.append((e.qid, t.property, t.object, t.rank))
        if e.kind == "property":
            self.properties.append((e.qid, labels, e.datatype))

    def add_reject(self, line_idx: int | None, offset: int | None, r: Reject) -> None:
        self.rejects.append((self.split_idx, line_idx, offset, r.reason, r.excerpt))

    def close(self) -> dict[str, int]:
        return {n: w.close() for n, w in zip(self.names, self.all, strict=True)}

    def abort(self) -> None:
        for w in self.all:
            w.abort()


def write_empty(directory: str, name: str, schema: pa.Schema | None = None) -> None:
    """An empty table still gets one file, so that readers learn its schema."""
    os.makedirs(os.path.join(directory, name), exist_ok=True)
    schema = schema if schema is not None else SCHEMAS[name]
    pq.write_table(schema.empty_table(), os.path.join(directory, name, part_name(0)), **PARQUET_OPTS)
