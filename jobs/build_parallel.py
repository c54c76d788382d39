"""Add the `parallel` table (and `parallel_rejects`) to a corpus directory, from parallel corpora.

    spark-submit jobs/build_parallel.py --parallel "de-en=corpus.de,corpus.en fr-en=pairs.tsv" --out runs/corpus
    python jobs/build_parallel.py --parallel /data/multi30k/task1-raw --parallel /data/tatoeba --out runs/corpus

Pass 1 runs one Spark task per input (a pair of aligned files or one TSV file): it streams the
lines, rejects undecodable ones with their position, applies the per-pair filters and stages the
kept pairs. Spark then finds exact duplicates across all inputs (the first in input order is
kept). Pass 2 writes OUT/parallel/part-<input>.parquet, with word alignments under --align.
Everything goes to OUT/.parallel.tmp-<id> first and is renamed into place on success.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobs import _spark  # noqa: E402
from jobs._text_job import (  # noqa: E402
    by_prefix,
    check_rejects,
    dedup_and_publish,
    finish_tables,
    read_pass,
    run_job,
    versions,
)
from xlkit_core.environment import check_environment  # noqa: E402
from xlkit_core.errors import ConfigError  # noqa: E402
from xlkit_core.step import check_fraction_option, write_manifest  # noqa: E402

TABLE, REJECTS = "parallel", "parallel_rejects"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="build_parallel.py",
        description="Parallel corpora (aligned file pairs, TSV, or directories of them; plain, gz, bz2 or xz) -> "
        "the Parquet tables OUT/parallel (src_lang, tgt_lang, src, tgt, source, split, alignment) and "
        "OUT/parallel_rejects, with OUT/parallel/_manifest.json.")
    p.add_argument("--parallel", "-p", action="append", required=True, metavar="SPEC",
                   help="repeatable, or several separated by spaces. src-tgt=A,B: aligned files (line i of A "
                   "translates line i of B); src-tgt=F: a TSV file; src-tgt=DIR or DIR: the pairs found in a "
                   "directory by their names (corpus.de + corpus.en, tatoeba.deu-eng.deu + .eng, train.de.gz + "
                   "train.en.gz, ja-en.tsv). Codes may be ISO 639-3 (deu-eng); they are normalised to Wikipedia "
                   "codes (de-en)")
    p.add_argument("--out", "-o", required=True, help="the corpus directory; the job adds OUT/parallel and "
                   "OUT/parallel_rejects to it")
    p.add_argument("--encoding", default="utf-8",
                   help="text encoding of the inputs (default utf-8; e.g. latin-1). Lines that do not decode go "
                   "to parallel_rejects")
    p.add_argument("--max-length", type=int, default=1000,
                   help="drop a pair when a side is longer than this (default 1000, in --length-unit)")
    p.add_argument("--length-unit", choices=("chars", "tokens"), default="chars",
                   help="count lengths in characters or whitespace-separated tokens (default chars)")
    p.add_argument("--max-ratio", type=float, default=9.0,
                   help="drop a pair when the longer side is more than this many times the shorter one "
                   "(default 9, in --length-unit; 0 = no check)")
    p.add_argument("--keep-identical", action="store_true",
                   help="keep pairs whose two sides are the same text (dropped by default)")
    p.add_argument("--no-dedup", action="store_true",
                   help="keep exact duplicates (by default a repeated (src_lang, tgt_lang, src, tgt) is dropped; "
                   "the first in input order stays)")
    p.add_argument("--tsv-columns", default="1,2", metavar="I,J",
                   help="the source and target columns of TSV inputs, 1-based (default 1,2; Tatoeba's "
                   "exported sentence pairs: 2,4)")
    p.add_argument("--pivot", default="en",
                   help="in a directory with more than two languages per file name, pair each with this one, "
                   "which becomes the target (default en)")
    p.add_argument("--eval-source", action="append", default=[], metavar="NAME",
                   help="mark a source as evaluation data (repeatable; glob patterns like 'multi30k/test*' work). "
                   "tatoeba.* files always are. Its rows are written and listed under evaluation_sources in "
                   "the manifest, so that the shard builder refuses them")
    p.add_argument("--train-source", action="append", default=[], metavar="NAME",
                   help="mark a source as training data although its file name names a test or dev split "
                   "(e.g. 'multi30k/test_2017_flickr'; repeatable, globs work): its rows get split train, so the "
                   "tokenizer and the shard builder use them. Tatoeba files always stay evaluation data")
    p.add_argument("--align", action="store_true",
                   help="fill the alignment column with corpus_builder.align.align_corpus, per language pair")
    p.add_argument("--align-iterations", type=int, default=5, help="aligner iterations (default 5)")
    p.add_argument("--align-seed", type=int, default=0, help="aligner seed (default 0)")
    p.add_argument("--max-reject-fraction", type=float, default=0.001,
                   help="fail if more than this fraction of the pairs read is rejected (default 0.001)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT/parallel")
    p.add_argument("--master", default=None, help="Spark master (default local[*] or spark-submit's)")
    p.add_argument("--ui", action="store_true", help="enable the Spark web UI")
    return p.parse_args(argv)


def clean_config(args) -> dict:
    from corpus_builder.parallel import CleanConfig

    cfg = CleanConfig(max_length=args.max_length, length_unit=args.length_unit, max_ratio=args.max_ratio,
                      drop_identical=not args.keep_identical, dedup=not getattr(args, "no_dedup", False))
    return {k: getattr(cfg, k) for k in ("max_length", "length_unit", "max_ratio", "drop_identical", "dedup")}


def tsv_columns(value: str) -> tuple[int, int]:
    try:
        i, j = (int(x) for x in value.split(","))
    except ValueError:
        i = j = 0
    if i < 1 or j < 1 or i == j:
        raise ConfigError(f"--tsv-columns {value}: give two different 1-based column numbers, e.g. 1,2")
    return i - 1, j - 1


def check_options(args) -> None:
    check_fraction_option(args.max_reject_fraction)
    if args.align:
        if args.align_iterations < 1:
            raise ConfigError(f"--align-iterations {args.align_iterations}: use a positive number, e.g. 5")
        try:
            from corpus_builder.align import align_corpus  # noqa: F401
        except ImportError as exc:
            raise ConfigError(f"--align needs corpus_builder.align.align_corpus, which cannot be imported ({exc}); "
                              "run without --align to leave the alignment column null") from None


def build(spark, args, inputs: list, tmp: str) -> dict:
    from corpus_builder.parallel import DEDUP_KEY, PARALLEL, publish_task, stage_task
    from xlkit_core.parts import REJECTS as REJECTS_SCHEMA

    sc = spark.sparkContext
    t_start = time.perf_counter()
    cfg = clean_config(args)
    cols = tsv_columns(args.tsv_columns)
    stage, losers = os.path.join(tmp, "_stage"), os.path.join(tmp, "_losers")
    encoding = args.encoding
    cores = sc.defaultParallelism
    pairs = sorted({p.pair for p in inputs})
    print(f"build_parallel: {len(inputs)} input(s), {len(pairs)} language pair(s) ({', '.join(pairs)}) "
          f"[{sc.master}]", file=sys.stderr)

    items = [(i, p.as_dict()) for i, p in enumerate(inputs)]
    summaries, c, t_read = read_pass(
        sc, "build_parallel", items, lambda it: stage_task(it[0], it[1], cfg, encoding, cols, stage, tmp, REJECTS),
        "pairs")
    read, rejected = c["read"], c["rejected"]
    pps = read / t_read if t_read else 0.0
    fraction = check_rejects(REJECTS, read, rejected, by_prefix(c, "rejects"), args.max_reject_fraction, "pairs")

    t1 = time.perf_counter()
    align = {"iterations": args.align_iterations, "seed": args.align_seed} if args.align else None
    if align:  # one task per language pair: the aligner learns from all of its pairs
        groups: dict[str, list] = {}
        for i, p in enumerate(inputs):
            groups.setdefault(p.pair, []).append((i, p.as_dict()))
        units = list(groups.values())
    else:
        units = [[it] for it in items]
    published = dedup_and_publish(spark, os.path.join(stage, "pairs"), DEDUP_KEY, losers, units,
                                  lambda g, losers_dir: publish_task(g, stage, losers_dir, tmp, align), stage,
                                  dedup=cfg["dedup"])
    t_publish = _spark.since(t1)
    n_dup = sum(r["duplicates"] for g in published for r in g)
    n_rows = sum(r["rows"] for g in published for r in g)
    print(f"build_parallel: dropped {n_dup:,} duplicates{' and aligned' if align else ''}, wrote {n_rows:,} pairs in "
          f"{t_publish:.1f} s", file=sys.stderr)
    finish_tables(tmp, {TABLE: PARALLEL, REJECTS: REJECTS_SCHEMA})

    final = {r["task"]: r for group in published for r in group}
    manifest = {
        "job": "build_parallel",
        "schema_version": 1,
        "inputs": [{"source": p.source, "src_lang": p.src_lang, "tgt_lang": p.tgt_lang, "split": p.split,
                    "format": p.fmt, "evaluation": p.evaluation, "files": s["files"]}
                   | ({"tsv_swapped": True} if p.swap else {}) for p, s in zip(inputs, summaries, strict=True)],
        "config": cfg | {"encoding": encoding, "tsv_columns": [x + 1 for x in cols], "pivot": args.pivot,
                         "eval_source": args.eval_source, "train_source": args.train_source, "align": align,
                         "max_reject_fraction": args.max_reject_fraction},
        "evaluation_sources": sorted({p.source for p in inputs if p.evaluation}),
        **source_counts(inputs, summaries, final),
        "rejects": {"pairs": rejected, "lines": sum(s["reject_lines"] for s in summaries), "pairs_read": read,
                    "fraction": fraction, "max_fraction": args.max_reject_fraction,
                    "by_reason": by_prefix(c, "rejects")},
        "versions": versions(),
        "durations_s": {"read": t_read, "dedup_and_write": t_publish, "total": _spark.since(t_start)},
        "throughput": {"cores": cores, "pairs_per_s": round(pps, 1), "pairs_per_s_per_core": round(pps / cores, 1)},
    }
    write_manifest(os.path.join(tmp, TABLE, "_manifest.json"), manifest)
    return manifest


def source_counts(inputs: list, summaries: list, final: dict) -> dict:
    """Rows and drop reasons per source and per language pair, for the manifest."""
    sources: dict[str, dict] = {}
    by_pair: Counter = Counter()
    dropped_by_pair: dict[str, Counter] = {}
    total_dropped: Counter = Counter()
    for i, (p, s) in enumerate(zip(inputs, summaries, strict=True)):
        c = Counter(s["counters"])
        dropped = Counter(by_prefix(c, "dropped"))
        if final[i]["duplicates"]:
            dropped["duplicate"] += final[i]["duplicates"]
        src = sources.setdefault(p.source, {"evaluation": False, "splits": [], "rows": 0, "read": 0, "rejected": 0,
                                            "dropped": Counter(), "by_pair": {}})
        src["evaluation"] |= p.evaluation
        if p.split not in src["splits"]:
            src["splits"].append(p.split)
        pair = src["by_pair"].setdefault(p.pair, {"rows": 0, "read": 0, "rejected": 0, "dropped": Counter()})
        for d in (src, pair):
            d["rows"] += final[i]["rows"]
            d["read"] += c["read"]
            d["rejected"] += c["rejected"]
            d["dropped"].update(dropped)
        by_pair[p.pair] += final[i]["rows"]
        dropped_by_pair.setdefault(p.pair, Counter()).update(dropped)
        total_dropped.update(dropped)
    for src in sources.values():
        src["dropped"] = dict(sorted(src["dropped"].items()))
        for pair in src["by_pair"].values():
            pair["dropped"] = dict(sorted(pair["dropped"].items()))
    rows = sum(by_pair.values())
    return {
        "tables": {TABLE: {"rows": rows, "by_pair": dict(sorted(by_pair.items())),
                           "by_source": {k: v["rows"] for k, v in sources.items()}},
                   REJECTS: {"rows": sum(s["reject_lines"] for s in summaries)}},
        "sources": sources,
        "dropped": {"total": sum(total_dropped.values()), "by_reason": dict(sorted(total_dropped.items())),
                    "by_pair": {k: dict(sorted(v.items())) for k, v in sorted(dropped_by_pair.items())}},
    }


def summary_table(manifest: dict) -> str:
    """Rows per source, printed at the end of both jobs."""
    lines = [f"{'source':<28}{'rows':>10}{'read':>10}{'dropped':>10}{'rejected':>10}  eval", "-" * 74]
    for name, s in manifest["sources"].items():
        lines.append(f"{name:<28}{s['rows']:>10,}{s['read']:>10,}{sum(s['dropped'].values()):>10,}"
                     f"{s['rejected']:>10,}  {'yes' if s['evaluation'] else ''}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    check_environment()
    args = parse_args(argv)

    def plan():
        from corpus_builder.parallel import check_encoding, plan_inputs
        from xlkit_core.langs import normalise

        check_options(args)
        args.encoding = check_encoding(args.encoding)
        clean_config(args)
        tsv_columns(args.tsv_columns)
        return plan_inputs(args.parallel, normalise(args.pivot), tuple(args.eval_source), tuple(args.train_source))

    return run_job("build_parallel", args, plan, build, (TABLE, REJECTS), summary_table)


if __name__ == "__main__":
    sys.exit(main())
