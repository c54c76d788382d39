"""Sorted tables written by pyarrow inside Spark tasks.

A published table is sorted by its keys and cut into a number of files that depends on the input's
size alone, so a rerun, or a run on another cluster, gives the same bytes. Each task writes its
range of the sort with pyarrow (``xlkit_core.parts.PartWriter``: row groups of 64k rows, zstd,
write then rename) and returns its row count and a small tally (rows per language, say), so the
manifest's counts need no second pass over the written files. Spark's own Parquet writer is not
used: it needs a sampling job per global sort, and its files are not byte-stable across JVMs.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from jobs._output import publish_spark_parts

FILE_BYTES = 512 << 20           # staged (compressed) input bytes per output file

Tally = Callable[["object"], Counter]   # pyarrow.RecordBatch -> Counter of tuple keys


def file_count(hint_bytes: int) -> int:
    """Output files for a table whose input holds ``hint_bytes`` of staged Parquet."""
    return max(1, -(-int(hint_bytes) // FILE_BYTES))


def dir_bytes(path: str) -> int:
    """Bytes of the Parquet files under a (local) staging directory; 0 when it does not exist."""
    if not os.path.isdir(path):
        return 0
    return sum(e.stat().st_size for e in os.scandir(path) if e.name.endswith(".parquet"))


def count_by(*columns: str) -> Tally:
    """A tally of rows per value of ``columns`` (nulls included)."""
    def tally(batch) -> Counter:
        import pyarrow as pa

        t = pa.Table.from_batches([batch.select(list(columns))])
        return Counter({tuple(r[c] for c in columns): r["count_all"]
                        for r in t.group_by(list(columns), use_threads=False).aggregate([([], "count_all")]).to_pylist()})
    return tally


@dataclass
class Written:
    rows: int = 0
    tally: Counter = field(default_factory=Counter)
    files: int = 0


RANGE_COLUMN = "_xlkit_range"
SAMPLES_PER_FILE = 200            # sampled keys per output file, for the range bounds


def _task(directory: str, name: str, schema, tally: Tally | None):
    """The write of one task's rows, sorted by (range, keys): one part per range, named by it."""
    def write(batches):
        import pyarrow as pa
        import pyarrow.compute as pc
        from pyspark import TaskContext

        from xlkit_core.parts import PartWriter

        ctx = TaskContext.get()
        attempt = f"a{ctx.taskAttemptId()}"
        writers: list = []
        counts: Counter = Counter()
        current = None
        try:
            for batch in batches:
                if not batch.num_rows:
                    continue
                ranges = batch[RANGE_COLUMN]
                # the batch is sorted by range first: cut it where the range changes
                for r in pc.unique(ranges).to_pylist():
                    mask = pc.equal(ranges, r)
                    part = batch.filter(mask).drop_columns([RANGE_COLUMN])
                    if r != current:
                        current = r
                        writers.append(PartWriter(directory, name, schema, r, attempt))
                    writers[-1].append_batch(part)
                    if tally is not None:
                        counts.update(tally(part))
            rows = sum(w.close() for w in writers)
        except BaseException:
            for w in writers:
                w.abort()
            raise
        yield pa.RecordBatch.from_pylist(
            [{"rows": rows, "tally": json.dumps([[list(k), v] for k, v in counts.items()])}],
            schema=pa.schema([("rows", pa.int64()), ("tally", pa.string())]))
    return write


def _ranges(df, order: list[str], files: int):
    """A column numbering the ``files`` key ranges of ``df`` (0 .. files-1), with bounds from a
    sample that depends on the data alone. Spark's own range partitioning samples with a seed
    that depends on the RDD's id, so its bounds, and the files, change from run to run."""
    from pyspark.sql import functions as F

    if files <= 1:
        return F.lit(0)
    rows = df.count()
    every = max(1, rows // (files * SAMPLES_PER_FILE))
    keys = F.struct(*order)
    sample = (df.select(*order).where(F.pmod(F.xxhash64(*order), F.lit(every)) == 0)
              .orderBy(*order).collect())
    if not sample:
        return F.lit(0)
    types = {f.name: f.dataType for f in df.schema.fields}
    expr = F.lit(0)
    for i in range(1, files):
        bound = sample[min(len(sample) - 1, i * len(sample) // files)]
        lit = F.struct(*[F.lit(bound[c]).cast(types[c]).alias(c) for c in order])
        expr = expr + F.coalesce((keys > lit).cast("int"), F.lit(0))
    return expr


def write_sorted(df, path: str, order: list[str], files: int = 1, tally: Tally | None = None) -> Written:
    """Write ``df`` sorted by ``order`` into ``files`` Parquet files (part-00000.parquet, ...; fewer
    when ranges are empty) under ``path``; returns the row count and the merged tally."""
    from pyspark.sql.pandas.types import to_arrow_schema

    from xlkit_core.parts import write_empty

    schema = to_arrow_schema(df.schema)
    ranged = (df.withColumn(RANGE_COLUMN, _ranges(df, order, files)).repartition(files, RANGE_COLUMN)
              .sortWithinPartitions(RANGE_COLUMN, *order))
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(path, exist_ok=True)
    out = Written()
    for r in ranged.mapInArrow(_task(directory, name, schema, tally), "rows long, tally string").collect():
        out.rows += r["rows"]
        out.tally.update({tuple(k): v for k, v in json.loads(r["tally"])})
    out.files = len(publish_spark_parts(path))
    if not out.files:
        write_empty(directory, name, schema)
        out.files = 1
    return out
