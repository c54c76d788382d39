"""Stage, deduplicate, publish: the two passes that the parallel and the monolingual jobs share.

Pass 1 (one task per input) writes the kept rows of input ``task`` to a staging part, each row
with its ``task`` and ``row`` (its position in the input). The driver then finds, with Spark,
every staged row that repeats an earlier one by the table's key (``jobs/_text_job.py``:
``find_duplicates``) and writes their (task, row) to ``losers``, partitioned by task. Pass 2 (one
task per input again) reads its staged rows in order without its losers and writes the final
part: the first copy in input order is the one kept, so a rerun gives the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from xlkit_core.parts import part_name


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
