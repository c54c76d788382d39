"""Tokenize the corpus tables into Arrow training shards, one directory per task.

    python jobs/build_shards.py --corpus runs/corpus --tokenizer runs/tokenizer --out runs/shards
    spark-submit jobs/build_shards.py --corpus /shared/corpus --tokenizer /shared/tok --out /shared/shards

Writes OUT/<task>/part-*.arrow + OUT/<task>/manifest.json for mlm, pairs, mono, mep, oe, docs and
distill (those whose tables exist), and OUT/manifest.json. A parallel source that the corpus marks
as evaluation data (Tatoeba) is refused.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobs import _spark  # noqa: E402
from jobs._output import commit, discard, fail, prepare_out, publish_spark_parts  # noqa: E402
from xlkit_core import __version__  # noqa: E402
from xlkit_core.environment import check_environment
from xlkit_core.errors import ConfigError, InputError, XlkitError  # noqa: E402
from xlkit_core.shards import write_manifests  # noqa: E402  (the shard contract; re-exported)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="build_shards.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", required=True, help="a corpus directory (build_corpus.py, build_parallel.py, "
                   "build_monolingual.py outputs)")
    p.add_argument("--tokenizer", required=True, help="a tokenizer directory (train_tokenizer.py or XLM-R)")
    p.add_argument("--out", "-o", required=True, help="output directory")
    p.add_argument("--tasks", default="mlm,pairs,mono,mep,oe,docs,distill",
                   help="comma-separated tasks to build (default: all whose tables exist)")
    p.add_argument("--langs", default=None, help="keep only these languages (comma-separated); each must have text")
    p.add_argument("--max-len", type=int, default=512, help="longest sequence in tokens, specials included (default 512)")
    p.add_argument("--max-rows", type=int, default=100_000, help="rows per shard file at most (default 100000)")
    p.add_argument("--exclude-source", action="append", default=[], metavar="NAME",
                   help="leave out parallel rows of this source (repeatable); needed for evaluation sources")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--master", default=None, help="Spark master (default local[*] or spark-submit's)")
    return p.parse_args(argv)


def _parts(corpus: str, table: str) -> list[str]:
    from corpus_builder.shards import parquet_parts

    return parquet_parts(os.path.join(corpus, table)) if os.path.isdir(os.path.join(corpus, table)) else []


def check_eval_guard(corpus: str, excluded: set[str]) -> dict[str, str]:
    """Refuse parallel sources that the corpus marks as evaluation data, unless excluded."""
    import pyarrow.parquet as pq

    from corpus_builder.corpus_text import evaluation_sources

    marked = evaluation_sources(corpus)
    present: set[str] = set()
    for part in _parts(corpus, "parallel"):
        present |= set(pq.read_table(part, columns=["source"]).column("source").unique().to_pylist())
    bad = sorted((present & set(marked)) - excluded)
    if bad:
        where = marked[bad[0]]
        raise InputError(
            f"parallel source(s) {', '.join(bad)} are marked as evaluation data in {where}: they must never reach "
            f"training shards. Rebuild the parallel table without them, or pass "
            + " ".join(f"--exclude-source {b}" for b in bad))
    return marked


def stage_joins(spark, corpus: str, stage: str, tasks: list[str]) -> dict[str, list[str]]:
    """mep needs each QID's candidate index, oe the text of its query; Spark joins them once."""
    from pyspark.sql import functions as F

    read = lambda t: spark.read.parquet(os.path.join(corpus, t))  # noqa: E731
    out: dict[str, list[str]] = {}
    if "mep" in tasks and _parts(corpus, "mep_examples") and _parts(corpus, "candidates"):
        cands = read("candidates").select("qid", (F.col("rank") - 1).cast("int").alias("candidate"))
        df = read("mep_examples").join(F.broadcast(cands), "qid")
        path = os.path.join(stage, "mep")
        df.orderBy("lang", "page_id", "sentence_id", "start").write.parquet(path)
        publish_spark_parts(path)
        out["mep"] = _parts(stage, "mep")
    if "oe" in tasks and _parts(corpus, "oe_examples") and _parts(corpus, "entity_docs"):
        docs = read("entity_docs").select(F.col("qid").alias("subject"), "lang", F.col("text").alias("doc"))
        df = (read("oe_examples").join(docs, ["subject", "lang"], "left")
              .select("subject", "property", "object", "lang", "relation_label",
                      F.coalesce("context", "doc").alias("query_text"))
              .where(F.col("query_text").isNotNull()))
        path = os.path.join(stage, "oe")
        df.orderBy("subject", "property", "object", "lang").write.parquet(path)
        publish_spark_parts(path)
        out["oe"] = _parts(stage, "oe")
    return out


def plan_inputs(corpus: str, staged: dict[str, list[str]], tasks: list[str]) -> tuple[dict[str, list[str]], str]:
    mono_table = "monolingual" if _parts(corpus, "monolingual") else "sentences"
    sources = {"mlm": _parts(corpus, mono_table), "mono": _parts(corpus, mono_table),
               "pairs": _parts(corpus, "parallel"), "distill": _parts(corpus, "parallel"),
               "docs": _parts(corpus, "entity_docs"), "mep": staged.get("mep", []), "oe": staged.get("oe", [])}
    return {t: sources[t] for t in tasks if sources[t]}, mono_table


def corpus_langs(corpus: str, table: str) -> list[str]:
    import pyarrow.parquet as pq

    langs: set[str] = set()
    for part in _parts(corpus, table):
        langs |= set(pq.read_table(part, columns=["lang"]).column("lang").unique().to_pylist())
    return sorted(langs)


def build(spark, args, corpus: str, tokenizer: str, tmp: str) -> dict:
    from corpus_builder.shards import build_part
    from xlkit_core.shards import TASKS
    from xlkit_core.tokenizer import XlmrTokenizer

    t0 = time.perf_counter()
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ConfigError(f"unknown task(s) {', '.join(unknown)}; choose from {', '.join(TASKS)}")
    excluded = set(args.exclude_source)
    marked = check_eval_guard(corpus, excluded)
    tok = XlmrTokenizer.load(tokenizer)
    stage = os.path.join(tmp, "_stage")
    staged = stage_joins(spark, corpus, stage, tasks)
    inputs, mono_table = plan_inputs(corpus, staged, tasks)
    if not inputs:
        raise InputError(f"{corpus} has none of the tables the tasks {', '.join(tasks)} need: build the corpus first")
    langs = corpus_langs(corpus, mono_table)
    wanted = [x.strip() for x in args.langs.split(",")] if args.langs else None
    cfg = {"max_len": args.max_len, "max_rows": args.max_rows, "excluded_sources": sorted(excluded | set(marked)),
           "mlm_table": mono_table, "langs": langs, "keep_langs": wanted}
    jobs = [(task, path, i) for task, paths in inputs.items() for i, path in enumerate(paths)]
    print(f"build_shards: {len(jobs)} input part(s) for task(s) {', '.join(inputs)}; languages {', '.join(langs)}",
          file=sys.stderr)
    results = _spark.run_tasks(spark.sparkContext, jobs,
                               lambda j: build_part(j[0], j[1], j[2], tmp, tokenizer, cfg), "shards", unit="part")
    shutil.rmtree(stage, ignore_errors=True)
    meta = {"corpus": corpus, "tokenizer": tokenizer, "tokenizer_sha256": tok.checksum(), "max_len": args.max_len,
            "max_rows": args.max_rows, "excluded_sources": cfg["excluded_sources"],
            "evaluation_sources_refused": sorted(marked), "mlm_source_table": mono_table,
            "versions": {"xlkit": __version__, "python": platform.python_version()},
            "duration_s": _spark.since(t0)}
    manifest = write_manifests(tmp, results, meta)
    if wanted:
        have = set(manifest["tasks"].get("mlm", {}).get("tokens_by_lang", {}))
        empty = [x for x in wanted if x not in have]
        if empty:
            raise InputError(f"no text for requested language(s) {', '.join(empty)} in {corpus}: add text for them "
                             "(make monolingual TEXT=\"xx=<file>\") or drop them from LANGS")
    return manifest


def main(argv: list[str] | None = None) -> int:
    check_environment()
    args = parse_args(argv)
    tmp = None
    try:
        corpus = os.path.abspath(args.corpus)
        if not os.path.isdir(corpus):
            raise InputError(f"corpus directory {corpus} does not exist: build it with make corpus")
        tokenizer = os.path.abspath(args.tokenizer)
        if not os.path.isdir(tokenizer):
            raise InputError(f"tokenizer directory {tokenizer} does not exist: train one with make tokenizer")
        if args.max_len < 16 or args.max_rows < 1:
            raise ConfigError("--max-len must be at least 16 and --max-rows at least 1")
        out, tmp = prepare_out(args.out, args.overwrite)
        _spark.check_java()
        spark = _spark.make_session("xlkit-build-shards", args.master, shuffle_partitions=8)
        spark.conf.set("spark.sql.parquet.compression.codec", "zstd")
        os.makedirs(tmp)
        with _spark.user_errors():
            manifest = build(spark, args, corpus, tokenizer, tmp)
        commit(tmp, out)
        tmp = None
        for task, t in manifest["tasks"].items():
            print(f"{task:<9}{t['rows']:>10,} rows {t['tokens']:>12,} tokens  {t['files']} file(s)", file=sys.stderr)
        print(f"build_shards: wrote {out} in {manifest['duration_s']:.1f} s", file=sys.stderr)
        return 0
    except XlkitError as exc:
        return fail("build_shards", exc)
    finally:
        discard(tmp)


if __name__ == "__main__":
    sys.exit(main())
