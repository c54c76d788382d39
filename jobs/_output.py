"""Job output: Spark part names made stable, and the one-line error of a job. The atomic-output
helpers live in :mod:`xlkit_core.output` (the trainer writes through them too) and are imported here
for the jobs."""

from __future__ import annotations

import os
import sys

from xlkit_core.errors import XlkitError
from xlkit_core.output import commit, discard, prepare_out

__all__ = ["commit", "discard", "fail", "prepare_out", "publish_spark_parts"]


def publish_spark_parts(directory: str) -> list[str]:
    """Rename Spark's part-NNNNN-<uuid>-c000.zstd.parquet to part-NNNNN.parquet and drop the
    _SUCCESS marker and checksum files, so that reruns give the same file names and bytes."""
    names = sorted(os.listdir(directory))
    parts = [n for n in names if n.startswith("part-") and n.endswith(".parquet")]
    for n in names:
        if n.startswith(("_", ".")) or n.endswith(".crc"):
            os.remove(os.path.join(directory, n))
    out = []
    for i, n in enumerate(parts):
        new = f"part-{i:05d}.parquet"
        os.replace(os.path.join(directory, n), os.path.join(directory, new))
        out.append(new)
    return out


def fail(prog: str, exc: XlkitError) -> int:
    """Print a job's one-line error and return its exit code."""
    print(f"{prog}: error: {exc.user_message()}", file=sys.stderr)
    return exc.exit_code


