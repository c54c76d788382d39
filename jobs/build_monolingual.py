"""Add the `monolingual` table (and `monolingual_rejects`) to a corpus directory.

    spark-submit jobs/build_monolingual.py --out runs/corpus                      # from OUT/sentences
    python jobs/build_monolingual.py --text "sw=sw.txt.xz yo=yo.txt.gz" --out runs/corpus --overwrite

Inputs: the corpus job's `sentences` table in OUT (one row per sentence, source `wikipedia`,
doc_id = page_id) and plain-text files in the CC-100 style (a paragraph per line, a blank line
between documents). One Spark task per sentences part or text file streams its rows, drops empty
and over-long ones, and writes OUT/monolingual/part-<input>.parquet. With --dedup, exact repeats of
(lang, text) are found with Spark first and only the first in input order is kept.
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
from xlkit_core.errors import InputError  # noqa: E402
from xlkit_core.step import check_fraction_option, write_manifest  # noqa: E402

TABLE, REJECTS = "monolingual", "monolingual_rejects"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="build_monolingual.py",
        description="The corpus sentences table and/or CC-100 style text files -> the Parquet tables "
        "OUT/monolingual (lang, text, source, doc_id) and OUT/monolingual_rejects, with "
        "OUT/monolingual/_manifest.json.")
    p.add_argument("--text", "-t", action="append", default=[], metavar="[LANG=]PATH",
                   help="a text file (plain, gz, bz2 or xz), directory or glob: one paragraph per line, a blank line "
                   "between documents; repeatable, or several separated by spaces. Without LANG= the language "
                   "comes from the file name (sw.txt.xz)")
    p.add_argument("--out", "-o", required=True,
                   help="the corpus directory; its sentences table (if any) is read, and the job adds "
                   "OUT/monolingual and OUT/monolingual_rejects")
    p.add_argument("--no-sentences", action="store_true", help="do not read OUT/sentences")
    p.add_argument("--encoding", default="utf-8",
                   help="text encoding of the files (default utf-8; e.g. latin-1). Lines that do not decode go "
                   "to monolingual_rejects")
    p.add_argument("--max-length", type=int, default=20_000,
                   help="drop a text longer than this (default 20000, in --length-unit)")
    p.add_argument("--length-unit", choices=("chars", "tokens"), default="chars",
                   help="count lengths in characters or whitespace-separated tokens (default chars)")
    p.add_argument("--dedup", action="store_true",
                   help="drop exact repeats of (lang, text), keeping the first in input order (default: keep all, "
                   "so that documents stay whole)")
    p.add_argument("--max-reject-fraction", type=float, default=0.001,
                   help="fail if more than this fraction of the lines read is rejected (default 0.001)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT/monolingual")
    p.add_argument("--master", default=None, help="Spark master (default local[*] or spark-submit's)")
    p.add_argument("--ui", action="store_true", help="enable the Spark web UI")
    return p.parse_args(argv)


def plan(args) -> list:
    from corpus_builder.monolingual import sentence_inputs, text_inputs
    from corpus_builder.parallel import CleanConfig, check_encoding

    check_fraction_option(args.max_reject_fraction)
    args.encoding = check_encoding(args.encoding)
    CleanConfig(max_length=args.max_length, length_unit=args.length_unit)
    sentences = [] if args.no_sentences else sentence_inputs(os.path.abspath(args.out))
    texts = text_inputs(args.text)
    if not sentences and not args.no_sentences and texts:
        print(f"build_monolingual: {os.path.join(os.path.abspath(args.out), 'sentences')} does not exist; reading "
              "the --text files only", file=sys.stderr)
    inputs = sentences + texts
    if not inputs:
        raise InputError(f"nothing to read: {args.out} has no sentences table (build it with make corpus) and no "
                         "--text file was given, e.g. --text sw=sw.txt.xz")
    return inputs


def build(spark, args, inputs: list, tmp: str) -> dict:
    from corpus_builder.monolingual import DEDUP_KEY, MONOLINGUAL, publish_mono_task, stage_mono_task
    from xlkit_core.parts import REJECTS as REJECTS_SCHEMA

    sc = spark.sparkContext
    t_start = time.perf_counter()
    cfg = {"max_length": args.max_length, "length_unit": args.length_unit, "max_ratio": 0.0,
           "drop_identical": False, "dedup": args.dedup}
    stage = os.path.join(tmp, "_stage") if args.dedup else None
    losers = os.path.join(tmp, "_losers")
    encoding = args.encoding
    cores = sc.defaultParallelism
    n_sent = sum(1 for i in inputs if i.kind == "sentences")
    print(f"build_monolingual: {n_sent} part(s) of the sentences table, {len(inputs) - n_sent} text file(s) "
          f"[{sc.master}]", file=sys.stderr)

    items = [(i, p.as_dict()) for i, p in enumerate(inputs)]
    summaries, c, t_read = read_pass(sc, "build_monolingual", items,
                                     lambda it: stage_mono_task(it[0], it[1], cfg, encoding, stage, tmp), "texts")
    read, rejected = c["read"], c["rejected"]
    rps = read / t_read if t_read else 0.0
    fraction = check_rejects(REJECTS, read, rejected, by_prefix(c, "rejects"), args.max_reject_fraction,
                             "lines")

    t1 = time.perf_counter()
    final = {s["task"]: {"rows": s["rows"], "duplicates": 0, "by_lang": s["by_lang"]} for s in summaries}
    if args.dedup:
        published = dedup_and_publish(spark, os.path.join(stage, "mono"), DEDUP_KEY, losers, items,
                                      lambda it, losers_dir: publish_mono_task(it[0], it[1], stage, losers_dir, tmp),
                                      stage)
        final = {r["task"]: r for r in published}
        print(f"build_monolingual: dropped {sum(r['duplicates'] for r in published):,} duplicates in "
              f"{_spark.since(t1):.1f} s", file=sys.stderr)
    t_dedup = _spark.since(t1)
    finish_tables(tmp, {TABLE: MONOLINGUAL, REJECTS: REJECTS_SCHEMA})

    sources: dict[str, dict] = {}
    by_lang: Counter = Counter()
    total_dropped: Counter = Counter()
    for i, (inp, s) in enumerate(zip(inputs, summaries, strict=True)):
        sc_ = Counter(s["counters"])
        d = Counter(by_prefix(sc_, "dropped"))
        if final[i]["duplicates"]:
            d["duplicate"] += final[i]["duplicates"]
        src = sources.setdefault(inp.source, {"kind": inp.kind, "rows": 0, "read": 0, "rejected": 0,
                                              "documents": 0, "dropped": Counter(), "by_lang": Counter()})
        src["rows"] += final[i]["rows"]
        src["read"] += sc_["read"]
        src["rejected"] += sc_["rejected"]
        src["documents"] += sc_["documents"]
        src["dropped"].update(d)
        src["by_lang"].update(final[i]["by_lang"])
        by_lang.update(final[i]["by_lang"])
        total_dropped.update(d)
    for src in sources.values():
        src["dropped"] = dict(sorted(src["dropped"].items()))
        src["by_lang"] = dict(sorted(src["by_lang"].items()))
        if src["kind"] == "sentences":
            del src["documents"]
    manifest = {
        "job": "build_monolingual",
        "schema_version": 1,
        "inputs": [inp.as_dict() | {"files": s["files"]} for inp, s in zip(inputs, summaries, strict=True)],
        "config": cfg | {"encoding": encoding, "sentences": not args.no_sentences,
                         "max_reject_fraction": args.max_reject_fraction},
        "tables": {TABLE: {"rows": sum(by_lang.values()), "by_lang": dict(sorted(by_lang.items())),
                           "by_source": {k: v["rows"] for k, v in sources.items()}},
                   REJECTS: {"rows": sum(s["reject_lines"] for s in summaries)}},
        "sources": sources,
        "dropped": {"total": sum(total_dropped.values()), "by_reason": dict(sorted(total_dropped.items()))},
        "rejects": {"lines": rejected, "read": read, "fraction": fraction, "max_fraction": args.max_reject_fraction,
                    "by_reason": by_prefix(c, "rejects")},
        "versions": versions(),
        "durations_s": {"read": t_read, "dedup": t_dedup, "total": _spark.since(t_start)},
        "throughput": {"cores": cores, "texts_per_s": round(rps, 1), "texts_per_s_per_core": round(rps / cores, 1)},
    }
    write_manifest(os.path.join(tmp, TABLE, "_manifest.json"), manifest)
    return manifest


def summary_table(manifest: dict) -> str:
    lines = [f"{'source':<28}{'rows':>12}{'read':>12}{'dropped':>10}{'rejected':>10}", "-" * 72]
    for name, s in manifest["sources"].items():
        lines.append(f"{name:<28}{s['rows']:>12,}{s['read']:>12,}{sum(s['dropped'].values()):>10,}"
                     f"{s['rejected']:>10,}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    check_environment()
    args = parse_args(argv)
    return run_job("build_monolingual", args, lambda: plan(args), build, (TABLE, REJECTS), summary_table)


if __name__ == "__main__":
    sys.exit(main())
