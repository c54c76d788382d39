"""The driver shared by the two text jobs (jobs/build_parallel.py, jobs/build_monolingual.py).

Both are the same composition of steps: plan the inputs -> pass 1, one task per input (read,
clean, stage or write, rejects) -> the reject threshold -> with deduplication, find the
duplicates with Spark and pass 2, one task per input (publish without them) -> empty tables get
their schema -> manifest -> commit. The tasks are corpus_builder's (their shape:
:mod:`xlkit_core.step`); the staging layout is :mod:`corpus_builder.staging`.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import time
from collections import Counter

from jobs import _spark
from jobs._output import commit, discard, fail, prepare_out
from xlkit_core import __version__
from xlkit_core.errors import XlkitError
from xlkit_core.step import by_prefix, check_reject_fraction, merge_counters

__all__ = ["by_prefix", "check_rejects", "dedup_and_publish", "finish_tables", "read_pass", "run_job", "versions"]


def check_rejects(table: str, read: int, rejected: int, reasons: dict, max_fraction: float, what: str) -> float:
    """The text jobs' reject threshold (:func:`xlkit_core.step.check_reject_fraction`)."""
    return check_reject_fraction(
        rejected, read, max_fraction, reasons, f"{what} were rejected",
        "If the text is not UTF-8, pass its --encoding (e.g. --encoding latin-1); otherwise raise "
        f"MAX_REJECT_FRACTION to keep the good lines (the bad ones then go to {table})")


def dedup_and_publish(spark, staged: str, key: tuple[str, ...], losers: str, units: list, publish, stage_root: str,
                      dedup: bool = True) -> list:
    """Find the duplicates of the staged table (when ``dedup``) and run the publishing tasks, one per
    unit; then remove the staging and the losers. Returns the tasks' results in unit order."""
    if dedup and os.path.isdir(staged):
        find_duplicates(spark, staged, key, losers)
    losers_dir = losers if os.path.isdir(losers) else None
    published = _spark.run_tasks(spark.sparkContext, units, lambda u: publish(u, losers_dir), "publish", unit="input")
    shutil.rmtree(stage_root, ignore_errors=True)
    shutil.rmtree(losers, ignore_errors=True)
    return published


def find_duplicates(spark, staged: str, key: tuple[str, ...], losers: str) -> None:
    """Write (task, row) of every staged row that repeats an earlier one (by task, then row) to `losers`,
    partitioned by task: pass 2 reads only its own task's losers."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    first = Window.partitionBy(*key).orderBy("task", "row")
    dup = (spark.read.parquet(staged).select("task", "row", *key)
           .withColumn("n", F.row_number().over(first)).where(F.col("n") > 1).select("task", "row"))
    dup.repartition("task").sortWithinPartitions("task", "row").write.partitionBy("task").parquet(losers)


def versions() -> dict:
    import pyarrow
    import pyspark

    return {"xlkit": __version__, "python": platform.python_version(), "pyspark": pyspark.__version__,
            "pyarrow": pyarrow.__version__, "java": _spark.java_version(_spark.check_java())}


def finish_tables(tmp: str, names: dict) -> None:
    """An empty table still gets one file, so that readers learn its schema."""
    from xlkit_core.parts import write_empty

    for name, schema in names.items():
        d = os.path.join(tmp, name)
        if not os.path.isdir(d) or not any(n.endswith(".parquet") for n in os.listdir(d)):
            write_empty(tmp, name, schema)


def commit_tables(tmp: str, out_dir: str, names: tuple[str, ...]) -> None:
    for name in names:
        commit(os.path.join(tmp, name), os.path.join(out_dir, name))
    shutil.rmtree(tmp, ignore_errors=True)


def read_pass(sc, job: str, items: list, task, noun: str) -> tuple[list[dict], Counter, float]:
    """Run the reading tasks of a text job; print its throughput and drop counts; return
    (summaries, summed counters, seconds)."""
    t0 = time.perf_counter()
    summaries = _spark.run_tasks(sc, items, task, noun, unit="input")
    seconds = _spark.since(t0)
    c = merge_counters(summaries)
    rate = c["read"] / seconds if seconds else 0.0
    dropped = by_prefix(c, "dropped")
    print(f"{job}: read {c['read']:,} {noun} in {seconds:.1f} s: {rate:,.0f} {noun}/s, "
          f"{rate / sc.defaultParallelism:,.0f} per core; {sum(dropped.values()):,} dropped "
          f"({', '.join(f'{k}: {v:,}' for k, v in dropped.items()) or 'none'}), {c['rejected']:,} rejected",
          file=sys.stderr)
    return summaries, c, seconds


def run_job(job: str, args, plan, build_fn, names: tuple[str, ...], summary) -> int:
    """The driver of both text jobs: plan the inputs, check OUT, build into OUT/.<table>.tmp-<id>, commit.

    names[0] is the main table: its existence needs --overwrite, and its directory holds the manifest.
    """
    tmp = None
    out_dir = os.path.abspath(args.out)
    out_existed = os.path.exists(out_dir)
    try:
        inputs = plan()
        table_out, tmp = prepare_out(os.path.join(args.out, names[0]), args.overwrite)
        _spark.check_java()
        spark = _spark.make_session(f"xlkit-{job.replace('_', '-')}", args.master, shuffle_partitions=8, ui=args.ui)
        spark.conf.set("spark.sql.parquet.compression.codec", "zstd")
        os.makedirs(tmp)
        with _spark.user_errors():
            manifest = build_fn(spark, args, inputs, tmp)
        commit_tables(tmp, out_dir, names)
        tmp = None
        print(summary(manifest), file=sys.stderr)
        print(f"{job}: wrote {table_out} (manifest: {table_out}/_manifest.json) in "
              f"{manifest['durations_s']['total']:.1f} s", file=sys.stderr)
        return 0
    except XlkitError as exc:
        return fail(job, exc)
    finally:
        if tmp and os.path.exists(tmp):
            discard(tmp)
            if not out_existed and not os.listdir(out_dir):
                os.rmdir(out_dir)  # a failed run leaves no trace, not even the OUT it created


