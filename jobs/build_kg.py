"""Build the knowledge-graph tables from a Wikidata JSON dump (or wbgetentities responses).

    spark-submit jobs/build_kg.py --input latest-all.json.bz2 --out kg/ [--langs en,de]
    python jobs/build_kg.py --input dump.json.gz --out kg/          # local[*]

Writes OUT/{entities,sitelinks,triples,properties,rejects}/part-*.parquet and OUT/_manifest.json.
Everything is first written to a temporary directory beside OUT and renamed into place at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobs import _spark  # noqa: E402
from jobs._output import commit, discard, fail, prepare_out  # noqa: E402
from kg_pipeline.config import DEFAULT_SPLIT_BYTES, KGConfig  # noqa: E402
from kg_pipeline.reader import plan_splits  # noqa: E402
from kg_pipeline.tables import PUBLISHED, SCHEMAS  # noqa: E402
from xlkit_core import __version__  # noqa: E402
from xlkit_core.environment import check_environment
from xlkit_core.errors import InputError, XlkitError  # noqa: E402
from xlkit_core.fsio import FileInfo, list_inputs, split_step  # noqa: E402
from xlkit_core.parts import write_empty  # noqa: E402
from xlkit_core.step import by_prefix, check_reject_fraction, merge_counters, write_manifest  # noqa: E402

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
        rec["split_bytes"] = split_step(info.size, split_bytes)
    return rec


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


@dataclass
class Pass:
    """The split summaries of the parse pass (replaced by the dedup pass's where it reran a split)."""

    splits: list[dict]
    summaries: list[dict]
    counters: Counter
    seconds: float
    parsed_entities: int = 0       # entities of the parse pass, the throughput's numerator

    def totals(self) -> tuple[int, int, int]:
        """(entities, rejected lines, records read)."""
        c = self.counters
        entities = c["entities.item"] + c["entities.property"]
        rejects = sum(v for k, v in c.items() if k.startswith("rejects."))
        return entities, rejects, entities + rejects + sum(v for k, v in c.items() if k.startswith("entity_skipped."))


def build(spark, cfg: KGConfig, files: list[FileInfo], tmp: str) -> dict:
    """The job as named steps, into tmp; returns the manifest. Raises XlkitError subclasses on bad input."""
    sc = spark.sparkContext
    t_start = time.perf_counter()
    plan = plan_splits(files, cfg.split_bytes)
    dedup = cfg.dedup == "always" or (cfg.dedup == "auto" and (len(files) > 1 or any(s.layout == "api" for s in plan)))
    langs = list(cfg.langs) if cfg.langs else None
    print(f"build_kg: {len(files)} file(s), {sum(f.size for f in files) / 2**20:,.1f} MiB, {len(plan)} split(s) on "
          f"{sc.defaultParallelism} core(s) [{sc.master}]", file=sys.stderr)
    parsed = parse_pass(sc, [s.as_dict() for s in plan], tmp, langs, keys=dedup)
    fraction = check_rejects(parsed, cfg)
    duplicates = dedup_pass(sc, parsed, tmp, langs) if dedup else 0
    publish_rejects(sc, parsed, tmp)
    finish_tables(tmp)
    manifest = kg_manifest(cfg, files, plan, parsed, dedup, duplicates, fraction, sc.defaultParallelism, t_start)
    write_manifest(os.path.join(tmp, "_manifest.json"), manifest)
    return manifest


def parse_pass(sc, splits: list[dict], tmp: str, langs: list[str] | None, keys: bool) -> Pass:
    """Pass 1: every split parses its lines and writes its parts (with ``keys`` its entity ids too)."""
    from kg_pipeline.extract import run_split_task

    t0 = time.perf_counter()
    summaries = _spark.run_tasks(sc, splits, lambda s: run_split_task(s, tmp, langs, keys=keys), "parse")
    parsed = Pass(splits, summaries, merge_counters(summaries), _spark.since(t0))
    entities, rejects, _ = parsed.totals()
    parsed.parsed_entities = entities
    decompressed = sum(s["owned_bytes"] for s in summaries)
    eps = entities / parsed.seconds if parsed.seconds else 0.0
    print(f"build_kg: parsed {entities:,} entities ({decompressed / 2**20:,.1f} MiB of JSON) in {parsed.seconds:.1f} s: "
          f"{eps:,.0f} entities/s, {eps / sc.defaultParallelism:,.0f} per core; {rejects:,} rejected", file=sys.stderr)
    return parsed


def check_rejects(parsed: Pass, cfg: KGConfig) -> float:
    _, rejects, records = parsed.totals()
    return check_reject_fraction(
        rejects, records, cfg.max_reject_fraction, by_prefix(parsed.counters, "rejects"), "entity lines are malformed",
        "Check the input, or raise MAX_REJECT_FRACTION to keep the good lines (the bad ones then go to the "
        "rejects table)")


def dedup_pass(sc, parsed: Pass, tmp: str, langs: list[str] | None) -> int:
    """Pass 2 (several inputs or API files): keep one copy of each entity id; rerun the splits that
    held a losing copy without it. Updates ``parsed``; returns the number of copies dropped."""
    from kg_pipeline.extract import run_split_task

    losers = find_duplicates(sc, parsed.splits, tmp)
    if not losers:
        return 0
    redo = [s for s in parsed.splits if s["split_idx"] in losers]
    for s in redo:
        for table in ("entities", "sitelinks", "triples", "properties", "_rejects_local"):
            part = os.path.join(tmp, table, f"part-{s['split_idx']:05d}.parquet")
            if os.path.exists(part):
                os.remove(part)
    fresh = _spark.run_tasks(
        sc, redo, lambda s: run_split_task(s, tmp, langs, drop=frozenset(losers[s["split_idx"]])), "dedup")
    by_idx = {s["split_idx"]: s for s in fresh}
    parsed.summaries = [by_idx.get(s["split_idx"], s) for s in parsed.summaries]
    parsed.counters = merge_counters(parsed.summaries)
    duplicates = sum(len(v) for v in losers.values())
    print(f"build_kg: dropped {duplicates:,} repeated entity ids (kept the highest lastrevid)", file=sys.stderr)
    return duplicates


def publish_rejects(sc, parsed: Pass, tmp: str) -> None:
    """Pass 3: rejects get their line number and byte offset in the whole decompressed file."""
    from kg_pipeline.extract import finalize_rejects

    jobs, base_line, base_off, prev_file = [], 0, 0, None
    for s, d in zip(parsed.summaries, parsed.splits, strict=True):
        if d["file_idx"] != prev_file:
            base_line, base_off, prev_file = 0, 0, d["file_idx"]
        if s["rows"].get("_rejects_local"):
            jobs.append((d["split_idx"], d["path"], base_line, base_off, d["start"] == 0))
        base_line += s["newlines"]
        base_off += s["owned_bytes"]
    _spark.run_tasks(sc, jobs, lambda j: finalize_rejects(tmp, *j), "rejects")
    for internal in ("_rejects_local", "_keys"):
        shutil.rmtree(os.path.join(tmp, internal), ignore_errors=True)


def finish_tables(tmp: str) -> None:
    """An empty table still gets one file, so that readers learn its schema."""
    for table in PUBLISHED:
        d = os.path.join(tmp, table)
        if not os.path.isdir(d) or not os.listdir(d):
            write_empty(tmp, table, SCHEMAS[table])


def kg_manifest(cfg: KGConfig, files: list[FileInfo], plan: list, parsed: Pass, dedup: bool, duplicates: int,
                fraction: float, cores: int, t_start: float) -> dict:
    import pyarrow
    import pyspark

    counters, summaries = parsed.counters, parsed.summaries
    _, rejects, records = parsed.totals()
    entities = parsed.parsed_entities
    rows = Counter()
    for s in summaries:
        rows.update({k: v for k, v in s["rows"].items() if not k.startswith("_")})
    by_file: dict[int, list[dict]] = {}
    for s in summaries:
        by_file.setdefault(s["file_idx"], []).append(s)
    t_parse = parsed.seconds
    decompressed = sum(s["owned_bytes"] for s in summaries)
    eps = entities / t_parse if t_parse else 0.0
    return {
        "job": "build_kg",
        "schema_version": 1,
        "inputs": [_input_record(f, by_file.get(i, []), cfg.split_bytes) | {
            "codec": next((s.codec for s in plan if s.file_idx == i), None),
            "layout": next((s.layout for s in plan if s.file_idx == i), None)} for i, f in enumerate(files)],
        "config": cfg.as_dict() | {"dedup_active": dedup},
        "tables": {
            "entities": {"rows": rows["entities"], "by_kind": by_prefix(counters, "entities"),
                         "labels_by_lang": by_prefix(counters, "labels")},
            "sitelinks": {"rows": rows["sitelinks"], "by_lang": by_prefix(counters, "sitelinks")},
            "triples": {"rows": rows["triples"], "by_rank": by_prefix(counters, "triples")},
            "properties": {"rows": rows["properties"], "by_datatype": by_prefix(counters, "properties")},
            "rejects": {"rows": rejects, "by_reason": by_prefix(counters, "rejects")},
        },
        "skipped": {
            "entities": by_prefix(counters, "entity_skipped") | ({"duplicate": duplicates} if duplicates else {}),
            "sitelinks": by_prefix(counters, "sitelink_skipped"),
            "snaks": by_prefix(counters, "snak_skipped"),
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
    except XlkitError as exc:
        return fail("build_kg", exc)
    finally:
        discard(tmp)


if __name__ == "__main__":
    sys.exit(main())
