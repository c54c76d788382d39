"""Build the knowledge-graph tables from a Wikidata JSON dump (or wbgetentities responses).

    spark-submit jobs/build_kg.py --input latest-all.json.bz2 --out kg/ [--langs en,de]
    python jobs/build_kg.py --input dump.json.gz --out kg/          # local[*]

Writes OUT/{entities,sitelinks,triples,properties,rejects}/part-*.parquet and OUT/_manifest.json.
Everything is first written to a temporary directory beside OUT and renamed into place at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobs import _spark  # noqa: E402
from jobs._output import commit, discard, fail, prepare_out  # noqa: E402
from kg_pipeline import __version__  # noqa: E402
from kg_pipeline.config import DEFAULT_SPLIT_BYTES, KGConfig  # noqa: E402
from kg_pipeline.errors import InputError, KGError, RejectThresholdError  # noqa: E402
from kg_pipeline.fsio import FileInfo, list_inputs  # noqa: E402
from kg_pipeline.reader import plan_splits  # noqa: E402
from kg_pipeline.tables import PUBLISHED, write_empty  # noqa: E402
from xlkit_core.environment import check_environment

MAX_DUPLICATES = 5_000_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="build_kg.py",
        description="Wikidata JSON dump (.json, .json.bz2, .json.gz, one file or many; or wbgetentities "
        "API responses) -> Parquet tables entities, sitelinks, triples, properties, rejects + _manifest.json.",
    )
    p.add_argument("--input", "-i", action="append", required=True, metavar="PATH",
                   help="dump file, directory of files, or glob; repeat for several. Local paths or any "
                   "pyarrow filesystem URI (s3://, gs://, hdfs://)")
    p.add_argument("--out", "-o", required=True, help="output directory (a shared filesystem on a cluster)")
    p.add_argument("--langs", default=None,
                   help="comma-separated Wikipedia language codes to keep in labels, descriptions, aliases "
                   "and sitelinks (default: all languages)")
    p.add_argument("--max-reject-fraction", type=float, default=0.001,
                   help="fail if more than this fraction of entity lines is malformed (default 0.001)")
    p.add_argument("--split-mb", type=float, default=DEFAULT_SPLIT_BYTES / 2**20,
                   help="compressed megabytes per task for bz2 and plain files (default 64)")
    p.add_argument("--dedup", choices=("auto", "always", "never"), default="auto",
                   help="drop repeated entity ids, keeping the highest lastrevid; auto = only when there is "
                   "more than one input file or an API response (a single dump has unique ids)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--master", default=None,
                   help="Spark master (default: local[*], or whatever spark-submit was given)")
    p.add_argument("--ui", action="store_true", help="enable the Spark web UI")
    return p.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> KGConfig:
    return KGConfig(
        inputs=tuple(args.input), out=args.out, langs=KGConfig.langs_from(args.langs),
        max_reject_fraction=args.max_reject_fraction, split_bytes=int(args.split_mb * 2**20),
        dedup=args.dedup, overwrite=args.overwrite, master=args.master,
    )


def resolve_inputs(cfg: KGConfig) -> list[FileInfo]:
    files: list[FileInfo] = []
    for path in cfg.inputs:
        try:
            files.extend(list_inputs(path))
        except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
            raise InputError(f"cannot read input: {exc}") from None
    return files


def _input_record(info: FileInfo, splits: list[dict], split_bytes: int) -> dict:
    hashes = [s["raw_sha256"] for s in splits]
    rec = {"path": info.path, "size": info.size}
    if len(hashes) == 1:
        rec["sha256"] = hashes[0]
    else:
        rec["sha256_of_splits"] = hashlib.sha256("".join(hashes).encode()).hexdigest()
        rec["split_bytes"] = split_bytes
    return rec


def _by_prefix(counters: Counter, prefix: str) -> dict[str, int]:
    n = len(prefix) + 1
    return dict(sorted((k[n:], v) for k, v in counters.items() if k.startswith(prefix + ".")))


def find_duplicates(sc, splits: list, tmp: str) -> dict[int, set[int]]:
    """Split -> record indices that lose to another copy of the same entity id."""
    from kg_pipeline.extract import duplicate_losers, read_keys

    def keys(split: dict):
        return [(qid, (split["split_idx"], idx, rev)) for qid, idx, rev in read_keys(tmp, split["split_idx"])]

    rdd = sc.parallelize(splits, len(splits)).flatMap(keys)
    dup = rdd.groupByKey().mapValues(list).filter(lambda kv: len(kv[1]) > 1)
    losers = dup.flatMap(lambda kv: duplicate_losers(kv[1]))
    n = losers.count()
    if n > MAX_DUPLICATES:
        raise InputError(f"the inputs repeat {n:,} entity ids; deduplicate them first or pass --dedup never")
    out: dict[int, set[int]] = {}
    for split_idx, record_idx in losers.collect():
        out.setdefault(split_idx, set()).add(record_idx)
    return out


def build(spark, cfg: KGConfig, files: list[FileInfo], tmp: str) -> dict:
    """Run every pass into tmp; return the manifest. Raises KGError subclasses on bad input."""
    from kg_pipeline.extract import finalize_rejects, run_split_task

    sc = spark.sparkContext
    t_start = time.perf_counter()
    plan = plan_splits(files, cfg.split_bytes)
    split_dicts = [s.as_dict() for s in plan]
    dedup = cfg.dedup == "always" or (cfg.dedup == "auto" and (len(files) > 1 or any(s.layout == "api" for s in plan)))
    langs = list(cfg.langs) if cfg.langs else None
    total_mb = sum(f.size for f in files) / 2**20
    cores = sc.defaultParallelism
    print(f"build_kg: {len(files)} file(s), {total_mb:,.1f} MiB, {len(plan)} split(s) on {cores} core(s) "
          f"[{sc.master}]", file=sys.stderr)

    # Pass 1: every split parses its lines and writes its parts.
    t0 = time.perf_counter()
    summaries = _spark.run_tasks(sc, split_dicts, lambda s: run_split_task(s, tmp, langs, keys=dedup), "parse")
    t_parse = _spark.since(t0)
    counters: Counter = Counter()
    for s in summaries:
        counters.update(s["counters"])
    entities = counters["entities.item"] + counters["entities.property"]
    rejects = sum(v for k, v in counters.items() if k.startswith("rejects."))
    records = entities + rejects + sum(v for k, v in counters.items() if k.startswith("entity_skipped."))
    decompressed = sum(s["owned_bytes"] for s in summaries)
    eps = entities / t_parse if t_parse else 0.0
    print(f"build_kg: parsed {entities:,} entities ({decompressed / 2**20:,.1f} MiB of JSON) in {t_parse:.1f} s: "
          f"{eps:,.0f} entities/s, {eps / cores:,.0f} per core; {rejects:,} rejected", file=sys.stderr)
    fraction = rejects / records if records else 0.0
    if fraction > cfg.max_reject_fraction:
        reasons = ", ".join(f"{k}: {v:,}" for k, v in _by_prefix(counters, "rejects").items())
        raise RejectThresholdError(
            f"{rejects:,} of {records:,} entity lines are malformed ({fraction:.4%} > MAX_REJECT_FRACTION="
            f"{cfg.max_reject_fraction}); reasons: {reasons}. Check the input, or raise MAX_REJECT_FRACTION "
            "to keep the good lines (the bad ones then go to the rejects table)"
        )

    # Pass 2 (only with several inputs or API files): keep one copy of each entity id.
    duplicates = 0
    if dedup:
        losers = find_duplicates(sc, split_dicts, tmp)
        if losers:
            duplicates = sum(len(v) for v in losers.values())
            redo = [s for s in split_dicts if s["split_idx"] in losers]
            for s in redo:
                for table in ("entities", "sitelinks", "triples", "properties", "_rejects_local"):
                    part = os.path.join(tmp, table, f"part-{s['split_idx']:05d}.parquet")
                    if os.path.exists(part):
                        os.remove(part)
            fresh = _spark.run_tasks(
                sc, redo, lambda s: run_split_task(s, tmp, langs, drop=frozenset(losers[s["split_idx"]])), "dedup")
            by_idx = {s["split_idx"]: s for s in fresh}
            summaries = [by_idx.get(s["split_idx"], s) for s in summaries]
            counters = Counter()
            for s in summaries:
                counters.update(s["counters"])
            print(f"build_kg: dropped {duplicates:,} repeated entity ids (kept the highest lastrevid)", file=sys.stderr)

    # Pass 3: rejects get their line number and byte offset in the whole decompressed file.
    jobs, base_line, base_off, prev_file = [], 0, 0, None
    for s, d in zip(summaries, split_dicts, strict=True):
        if d["file_idx"] != prev_file:
            base_line, base_off, prev_file = 0, 0, d["file_idx"]
        if s["rows"].get("_rejects_local"):
            jobs.append((d["split_idx"], d["path"], base_line, base_off, d["start"] == 0))
        base_line += s["newlines"]
        base_off += s["owned_bytes"]
    _spark.run_tasks(sc, jobs, lambda j: finalize_rejects(tmp, *j), "rejects")

    for internal in ("_rejects_local", "_keys"):
        shutil.rmtree(os.path.join(tmp, internal), ignore_errors=True)
    rows = Counter()
    for s in summaries:
        rows.update({k: v for k, v in s["rows"].items() if not k.startswith("_")})
    rows["rejects"] = rejects
    for table in PUBLISHED:
        d = os.path.join(tmp, table)
        if not os.path.isdir(d) or not os.listdir(d):
            write_empty(tmp, table)

    by_file: dict[int, list[dict]] = {}
    for s in summaries:
        by_file.setdefault(s["file_idx"], []).append(s)
    import pyarrow
    import pyspark

    manifest = {
        "job": "build_kg",
        "schema_version": 1,
        "inputs": [_input_record(f, by_file.get(i, []), cfg.split_bytes) | {
            "codec": next((s.codec for s in plan if s.file_idx == i), None),
            "layout": next((s.layout for s in plan if s.file_idx == i), None)} for i, f in enumerate(files)],
        "config": cfg.as_dict() | {"dedup_active": dedup},
        "tables": {
            "entities": {"rows": rows["entities"], "by_kind": _by_prefix(counters, "entities"),
                         "labels_by_lang": _by_prefix(counters, "labels")},
            "sitelinks": {"rows": rows["sitelinks"], "by_lang": _by_prefix(counters, "sitelinks")},
            "triples": {"rows": rows["triples"], "by_rank": _by_prefix(counters, "triples")},
            "properties": {"rows": rows["properties"], "by_datatype": _by_prefix(counters, "properties")},
            "rejects": {"rows": rejects, "by_reason": _by_prefix(counters, "rejects")},
        },
        "skipped": {
            "entities": _by_prefix(counters, "entity_skipped") | ({"duplicate": duplicates} if duplicates else {}),
            "sitelinks": _by_prefix(counters, "sitelink_skipped"),
            "snaks": _by_prefix(counters, "snak_skipped"),
            "statements_deprecated": counters["triple_dropped.deprecated"],
            "redirected_api_entities": counters["entity_redirected"],
        },
        "rejects": {"count": rejects, "records": records, "fraction": fraction,
                    "max_fraction": cfg.max_reject_fraction},
        "versions": {"xlkit": __version__, "python": platform.python_version(), "pyspark": pyspark.__version__,
                     "pyarrow": pyarrow.__version__, "java": _spark.java_version(_spark.check_java())},
        "durations_s": {"parse": t_parse, "total": _spark.since(t_start)},
        "throughput": {"cores": cores, "entities_per_s": round(eps, 1),
                       "entities_per_s_per_core": round(eps / cores, 1),
                       "decompressed_mb_per_s": round(decompressed / 2**20 / t_parse, 2) if t_parse else None},
    }
    with open(os.path.join(tmp, "_manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False, sort_keys=False)
        f.write("\n")
    return manifest


def summary_table(manifest: dict) -> str:
    t = manifest["tables"]
    lines = [f"{'table':<12}{'rows':>14}", "-" * 26]
    lines += [f"{name:<12}{t[name]['rows']:>14,}" for name in PUBLISHED]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    check_environment()
    args = parse_args(argv)
    tmp = None
    try:
        cfg = config_from_args(args)
        files = resolve_inputs(cfg)
        out, tmp = prepare_out(cfg.out, cfg.overwrite)
        _spark.check_java()
        spark = _spark.make_session("xlkit-build-kg", cfg.master, ui=args.ui)
        os.makedirs(tmp)
        with _spark.user_errors():
            manifest = build(spark, cfg, files, tmp)
        commit(tmp, out)
        tmp = None
        print(summary_table(manifest), file=sys.stderr)
        print(f"build_kg: wrote {out} in {manifest['durations_s']['total']:.1f} s", file=sys.stderr)
        return 0
    except KGError as exc:
        return fail("build_kg", exc)
    finally:
        discard(tmp)


if __name__ == "__main__":
    sys.exit(main())
