"""Parquet part files written by one task: a streaming writer that commits by rename, empty tables
that still carry their schema, and the published reject table that every job shares.

A part is ``part-NNNNN.parquet`` under its table's directory; it appears under that name only
when complete, so a killed or retried task never leaves half a file behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

# A malformed input record as every job publishes it: source file, 1-based line and byte offset in the decompressed file.
REJECTS = pa.schema([
    ("source", pa.string()), ("line", pa.int64()), ("offset", pa.int64()),
    ("reason", pa.string()), ("excerpt", pa.string()),
])


@dataclass(frozen=True, slots=True)
class Reject:
    """A malformed input record, the one reject record of every job: why (``reason``), an excerpt,
    and where, as far as it is known where it is found (``source`` file, 1-based ``line``, byte
    ``offset`` in the decompressed input, page ``title``)."""

    reason: str
    excerpt: str
    source: str | None = None
    line: int | None = None
    offset: int | None = None
    title: str | None = None

    def row(self) -> tuple:
        """The record in the layout of :data:`REJECTS`."""
        return (self.source, self.line, self.offset, self.reason, self.excerpt)


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

    def extend(self, columns: Sequence[Sequence]) -> None:
        """Add rows given as columns (one sequence per column of the table, in its order, all of
        one length): the same rows as ``append`` of each, without a Python tuple per row."""
        if len(columns) != len(self.cols):
            raise ValueError(f"{len(columns)} columns for a table of {len(self.cols)}")
        n = len(columns[0])
        for col, values in zip(self.cols.values(), columns, strict=True):
            if len(values) != n:
                raise ValueError("columns of different lengths")
            col.extend(values)
        self.rows += n
        if self.rows >= BATCH_ROWS:
            self._to_arrow()

    def append_batch(self, batch: pa.RecordBatch) -> None:
        """Add an Arrow batch of the table's columns (cast to the schema)."""
        if not batch.num_rows:
            return
        self._to_arrow()
        self.batches.append(batch.select(self.schema.names).cast(self.schema))
        self.buffered_rows += batch.num_rows
        self.buffered_bytes += batch.nbytes
        if self.buffered_rows >= ROW_GROUP_ROWS or self.buffered_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def _to_arrow(self) -> None:
        if not self.rows:
            return
        batch = pa.RecordBatch.from_arrays(
            [_column(self.cols[f.name], f.type) for f in self.schema], schema=self.schema)
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


def _column(values: list, typ: pa.DataType) -> pa.Array:
    """Python values -> an Arrow array. A map column given as lists of (key, item) pairs is built
    from its flat keys and items (about 6x faster than pa.array on nested pairs, same array)."""
    if pa.types.is_map(typ) and values and all(type(v) is list for v in values):
        offsets, keys, items = [0], [], []
        for pairs in values:
            for k, v in pairs:
                keys.append(k)
                items.append(v)
            offsets.append(len(keys))
        return pa.MapArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(keys, typ.key_type),
                                       pa.array(items, typ.item_type), type=typ)
    return pa.array(values, type=typ)


def write_empty(directory: str, name: str, schema: pa.Schema) -> None:
    """An empty table still gets one file, so that readers learn its schema."""
    os.makedirs(os.path.join(directory, name), exist_ok=True)
    pq.write_table(schema.empty_table(), os.path.join(directory, name, part_name(0)), **PARQUET_OPTS)
