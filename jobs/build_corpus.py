"""Build the Wikipedia corpus: plain text, sentences, mentions resolved to Wikidata, knowledge tasks.

    spark-submit jobs/build_corpus.py --wikipedia en=enwiki.xml.bz2 --wikipedia de=dewiki.xml.bz2 \\
        --kg runs/kg --out runs/corpus
    python jobs/build_corpus.py --wikipedia "en=a.xml.bz2 de=b.xml.bz2" --kg runs/kg --out runs/corpus

Pass 1 (one Spark task per split of each dump) converts wikitext to plain text, splits sentences
and records every link with its exact span. Pass 2 (Spark DataFrames) follows redirects, maps
titles to QIDs through the KG's sitelinks, and derives entity_docs, candidates, mep_examples and
oe_examples. Output goes to a temporary directory and is renamed into place on success.
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
from functools import partial
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobs import _spark  # noqa: E402
from jobs._output import commit, discard, fail, prepare_out, publish_spark_parts  # noqa: E402
from xlkit_core import __version__  # noqa: E402
from xlkit_core.environment import check_environment  # noqa: E402
from xlkit_core.errors import ConfigError, InputError, XlkitError  # noqa: E402
from xlkit_core.fsio import list_inputs, split_step  # noqa: E402
from xlkit_core.step import (  # noqa: E402
    by_prefix,
    check_fraction_option,
    check_reject_fraction,
    merge_counters,
    write_manifest,
)

KG_TABLES = ("entities", "sitelinks", "triples", "properties")
MAX_REDIRECT_HOPS = 8


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="build_corpus.py",
        description="Wikipedia XML dumps + a KG directory (from build_kg.py) -> Parquet tables pages, redirects, "
        "sentences, mentions, entity_docs, candidates, mep_examples, oe_examples, rejects, a report and "
        "_manifest.json.")
    p.add_argument("--wikipedia", "-w", action="append", required=True, metavar="[LANG=]PATH",
                   help="a dump, optionally paired with its language (de=dewiki.xml.bz2); repeatable, or several "
                   "separated by spaces. Without a pair the language comes from the dump's <dbname>, else from "
                   "the file name (dewiki-...)")
    p.add_argument("--kg", required=True, help="the output directory of build_kg.py")
    p.add_argument("--out", "-o", required=True, help="output directory")
    p.add_argument("--top-n", type=int, default=32_000, help="size of the candidate list (default 32000)")
    p.add_argument("--max-reject-fraction", type=float, default=0.001,
                   help="fail if more than this fraction of pages is rejected (default 0.001)")
    p.add_argument("--page-seconds", type=float, default=10.0,
                   help="time limit for converting one page; a slower page is rejected (default 10)")
    p.add_argument("--split-mb", type=float, default=64.0, help="compressed megabytes per task (default 64)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--master", default=None, help="Spark master (default local[*] or spark-submit's)")
    p.add_argument("--ui", action="store_true", help="enable the Spark web UI")
    return p.parse_args(argv)


def dump_args(values: list[str]) -> list[tuple[str | None, str]]:
    """"de=path", "path", or several of them separated by spaces -> [(lang or None, path)]."""
    out: list[tuple[str | None, str]] = []
    for value in values:
        for item in value.split():
            lang, sep, path = item.partition("=")
            out.append((lang, path) if sep and "/" not in lang else (None, item))
    if not out:
        raise ConfigError("no dump given: --wikipedia de=dewiki-latest-pages-articles.xml.bz2")
    return out


def check_kg(kg: str) -> str:
    path = os.path.abspath(kg)
    missing = [t for t in KG_TABLES if not os.path.isdir(os.path.join(path, t))]
    if not os.path.isdir(path) or missing or not os.path.exists(os.path.join(path, "_manifest.json")):
        what = "does not exist" if not os.path.isdir(path) else f"lacks {', '.join(missing) or '_manifest.json'}"
        raise InputError(f"KG directory {path} {what}: build it first, e.g. make kg WIKIDATA=<dump> OUT={kg}")
    return path


def corpus_task(split: dict, namespaces: dict, cases: dict, stage: str, page_seconds: float) -> dict:
    from corpus_builder.extract import process_split
    from corpus_builder.xmldump import XmlSplit

    return process_split(XmlSplit(**split), namespaces, cases, stage, page_seconds=page_seconds)


def materialized(df):
    """df cached and computed: the planner then knows its true size and broadcasts it into a join
    when it is small (a checkpoint or an uncomputed cache leaves it to guess, and it shuffles)."""
    df = df.cache()
    df.count()
    return df


def resolve(spark, stage: str, kg: str, langs: list[str]):
    """DataFrames: the pages with their QID and lead (no text; cached), the pages table as published,
    the redirects and the mentions as published (not yet written)."""
    from pyspark.sql import functions as F

    from corpus_builder.tables import STAGED
    from kg_pipeline.tables import SITELINKS

    read = lambda name: _spark.read_parquet(spark, os.path.join(stage, name), STAGED[name])  # noqa: E731
    pages_s, redirects_s, mentions_s = read("_pages"), read("_redirects"), read("_mentions")
    sitelinks = (_spark.read_parquet(spark, os.path.join(kg, "sitelinks"), SITELINKS).where(F.col("lang").isin(langs))
                 .groupBy("lang", "title").agg(F.min("qid").alias("qid")))

    # Redirects: one target per title, then follow chains until none moves; a chain that still
    # ends on a redirect after MAX_REDIRECT_HOPS is a loop.
    redirects = redirects_s.groupBy("lang", "from_title").agg(F.min("to_title").alias("to_title")).cache()
    step = redirects.select("lang", F.col("from_title").alias("final"), F.col("to_title").alias("next"))
    chain = redirects.select("lang", "from_title", F.col("to_title").alias("final")).localCheckpoint()
    for _ in range(MAX_REDIRECT_HOPS):
        if chain.join(step, ["lang", "final"], "left_semi").limit(1).count() == 0:
            break
        chain = (chain.join(step, ["lang", "final"], "left")
                 .select("lang", "from_title", F.coalesce("next", "final").alias("final")).localCheckpoint())
    open_ends = redirects.select("lang", F.col("from_title").alias("final"), F.lit(True).alias("loop"))
    chain = materialized(chain.join(open_ends, ["lang", "final"], "left").fillna(False, ["loop"]))

    # Every title a link can resolve to, with its QID (if the KG has a sitelink) and whether the dump
    # has the page: one table, materialized, so that the joins below broadcast it when it is small
    # rather than shuffle the mentions and the page text to meet it.
    titles = pages_s.select("lang", F.col("title").alias("resolved"), F.lit(True).alias("exists")).distinct()
    targets = materialized(sitelinks.withColumnRenamed("title", "resolved").join(titles, ["lang", "resolved"], "full"))
    with_qid = pages_s.join(targets.select("lang", F.col("resolved").alias("title"), "qid"), ["lang", "title"], "left")
    pages = with_qid.select("lang", "page_id", "title", "qid", "lead").cache()
    full_pages = with_qid.select("lang", "page_id", "title", "qid", "text")
    m = (mentions_s.join(chain.withColumnRenamed("from_title", "target_title"), ["lang", "target_title"], "left")
         .withColumn("resolved", F.coalesce("final", "target_title")))
    m = m.join(targets, ["lang", "resolved"], "left")
    reason = (F.when(F.col("unresolved_reason").isNotNull(), F.col("unresolved_reason"))
              .when(F.col("loop"), F.lit("redirect_loop"))
              .when(F.col("qid").isNotNull(), F.lit(None))
              .when(F.col("exists"), F.lit("no_sitelink"))
              .otherwise(F.lit("red_link")))
    # resolved_title (the title after following redirects) extends DESIGN.md's columns: it makes a
    # redirect's effect visible even where the KG has no sitelink for the target.
    mentions = m.select("lang", "page_id", "sentence_id", "start", "end", "surface", "target_title",
                        F.when(F.col("target_title").isNotNull(), F.col("resolved")).alias("resolved_title"),
                        F.when(F.col("loop"), F.lit(None)).otherwise(F.col("qid")).alias("qid"),
                        reason.alias("unresolved_reason"))
    return pages, full_pages, redirects, mentions


def knowledge_tables(spark, kg: str, langs: list[str], pages, sentences, mentions, top_n: int):
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    from kg_pipeline.tables import ENTITIES, PROPERTIES, TRIPLES

    linked = mentions.where(F.col("qid").isNotNull())
    per_qid = linked.groupBy("qid").agg(F.count("*").alias("mentions"), F.countDistinct("lang").alias("langs")).cache()
    candidates = per_qid.orderBy(F.desc("mentions"), "qid").limit(top_n)
    candidates = candidates.withColumn("rank", F.row_number().over(Window.orderBy(F.desc("mentions"), "qid")))

    linked_qids = per_qid.select("qid")
    wiki = (pages.where(F.col("qid").isNotNull() & (F.length("lead") > 0))
            .groupBy("qid", "lang").agg(F.min_by("lead", "page_id").alias("text"))
            .join(linked_qids, "qid").withColumn("source", F.lit("wikipedia")))
    ents = (_spark.read_parquet(spark, os.path.join(kg, "entities"), ENTITIES)
            .select("qid", "labels", "descriptions").join(linked_qids, "qid"))
    lang_col = F.explode(F.array(*[F.lit(x) for x in langs])).alias("lang")
    kgdocs = (ents.select("qid", "labels", "descriptions", lang_col)
              .select("qid", "lang", F.element_at("labels", F.col("lang")).alias("label"),
                      F.element_at("descriptions", F.col("lang")).alias("desc"))
              .where(F.col("label").isNotNull())
              .select("qid", "lang", F.when(F.col("desc").isNotNull(), F.concat_ws(": ", "label", "desc"))
                      .otherwise(F.col("label")).alias("text"), F.lit("wikidata").alias("source")))
    # Cached: oe_examples reads it three times and it is written itself.
    entity_docs = wiki.unionByName(kgdocs.join(wiki.select("qid", "lang"), ["qid", "lang"], "left_anti")).cache()

    mep = (linked.join(candidates.select("qid"), "qid")
           .join(sentences, ["lang", "page_id", "sentence_id"])
           .select("lang", "page_id", "sentence_id", "text", "start", "end", "surface", "qid"))

    doc_qids = entity_docs.select("qid").distinct()
    triples = (_spark.read_parquet(spark, os.path.join(kg, "triples"), TRIPLES)
               .join(doc_qids.withColumnRenamed("qid", "subject"), "subject")
               .join(doc_qids.withColumnRenamed("qid", "object"), "object"))
    q_langs = entity_docs.select(F.col("qid").alias("subject"), "lang")
    props = (_spark.read_parquet(spark, os.path.join(kg, "properties"), PROPERTIES)
             .select(F.col("pid").alias("property"), "labels"))
    # The context of a subject in a language: its first mention there, by (page_id, sentence_id,
    # start), which is unique per mention; only subjects of some triple need one.
    subjects = triples.select(F.col("subject").alias("qid")).distinct()
    first = (linked.join(subjects, "qid", "left_semi").groupBy("qid", "lang")
             .agg(F.min(F.struct("page_id", "sentence_id", "start", "end")).alias("m"))
             .select("qid", "lang", "m.page_id", "m.sentence_id", "m.start", "m.end"))
    context = (first.join(sentences, ["lang", "page_id", "sentence_id"])
               .select(F.col("qid").alias("subject"), "lang", F.col("text").alias("context"),
                       F.col("start").alias("context_start"), F.col("end").alias("context_end")))
    oe = (triples.join(q_langs, "subject").join(props, "property", "left")
          .select("subject", "property", "object", "lang",
                  F.coalesce(F.element_at("labels", F.col("lang")), F.element_at("labels", F.lit("en")),
                             F.col("property")).alias("relation_label"))
          .join(context, ["subject", "lang"], "left")
          .select("subject", "property", "object", "lang", "relation_label", "context", "context_start", "context_end"))
    return entity_docs, candidates.select("qid", "mentions", "langs", "rank"), mep, oe, per_qid


def build(spark, args, dumps: list, tmp: str, kg: str) -> dict:
    """The job as named steps, into tmp; returns the manifest."""
    from corpus_builder.xmldump import plan_xml_splits

    sc = spark.sparkContext
    t_start = time.perf_counter()
    splits = plan_xml_splits(dumps, int(args.split_mb * 2**20))
    langs = sorted({d.lang for d in dumps})
    stage = os.path.join(tmp, "_stage")
    print(f"build_corpus: {len(dumps)} dump(s) in {len(langs)} language(s) ({', '.join(langs)}), "
          f"{sum(d.size for d in dumps) / 2**20:,.1f} MiB, {len(splits)} split(s) [{sc.master}]", file=sys.stderr)
    parsed = parse_pass(sc, dumps, splits, stage, args.page_seconds)
    rejects = sum(by_prefix(parsed.counters, "rejects").values())
    fraction = check_reject_fraction(rejects, parsed.counters["pages_read"], args.max_reject_fraction,
                                     by_prefix(parsed.counters, "rejects"), "pages were rejected",
                                     "Raise MAX_REJECT_FRACTION to keep the good pages")
    t1 = time.perf_counter()
    stats = resolve_and_write(spark, stage, kg, langs, dumps, parsed.summaries, tmp, args.top_n)
    t_resolve = _spark.since(t1)
    shutil.rmtree(stage, ignore_errors=True)
    manifest = corpus_manifest(args, dumps, kg, langs, parsed, stats, fraction, sc.defaultParallelism,
                               {"pages": parsed.seconds, "resolve_and_write": t_resolve, "total": _spark.since(t_start)})
    write_manifest(os.path.join(tmp, "_manifest.json"), manifest)
    from corpus_builder.report import write_report

    write_report(manifest, os.path.join(tmp, "report"))
    return manifest


@dataclass
class Pass:
    summaries: list[dict]
    counters: Counter
    seconds: float
    truncated: list[str]


def parse_pass(sc, dumps: list, splits: list, stage: str, page_seconds: float) -> Pass:
    """Pass 1: every split converts its pages into the staging tables (corpus_builder.extract)."""
    from corpus_builder.tables import STAGED
    from xlkit_core.parts import write_empty

    namespaces = {i: d.namespaces for i, d in enumerate(dumps)}
    cases = {i: d.case for i, d in enumerate(dumps)}
    t0 = time.perf_counter()
    summaries = _spark.run_tasks(sc, [s.as_dict() for s in splits],
                                 lambda s: corpus_task(s, namespaces, cases, stage, page_seconds), "pages")
    seconds = _spark.since(t0)
    c = merge_counters(summaries)
    n_pages = sum(by_prefix(c, "pages").values())
    cores = sc.defaultParallelism
    pps = n_pages / seconds if seconds else 0.0
    print(f"build_corpus: {n_pages:,} articles, {sum(by_prefix(c, 'sentences').values()):,} sentences, "
          f"{sum(by_prefix(c, 'links').values()):,} links in {seconds:.1f} s: {pps:,.1f} pages/s, "
          f"{pps / cores:,.1f} per core; {sum(by_prefix(c, 'rejects').values()):,} rejected", file=sys.stderr)
    truncated = sorted({dumps[s["file_idx"]].path for s in summaries if s["truncated"]})
    for path in truncated:
        print(f"build_corpus: warning: {path} ends in the middle of a page (cut off); the pages before the cut "
              "were kept and the broken page is in rejects", file=sys.stderr)
    for name, schema in STAGED.items():
        if not os.path.isdir(os.path.join(stage, name)):
            write_empty(stage, name, schema)
    return Pass(summaries, c, seconds, truncated)


# Published tables: sort keys, and the staged tables whose size sets their number of files.
ORDER = {
    "pages": (["lang", "page_id"], ("_pages",)),
    "redirects": (["lang", "from_title"], ("_redirects",)),
    "sentences": (["lang", "page_id", "sentence_id"], ("sentences",)),
    "mentions": (["lang", "page_id", "sentence_id", "start"], ("_mentions",)),
    "entity_docs": (["qid", "lang"], ("_pages",)),
    "candidates": (["rank"], ()),
    "mep_examples": (["lang", "page_id", "sentence_id", "start"], ("_mentions", "sentences")),
    "oe_examples": (["subject", "property", "object", "lang"], ("_pages",)),
    "rejects": (["source", "offset"], ("_rejects_local",)),
}
WRITERS = 3   # tables written at once: a small table's tasks fill the cores a big one leaves idle


def mention_tally(batch):
    """Mentions per (lang, linked, unresolved_reason) in one Arrow batch."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from jobs._sorted import count_by

    keys = pa.RecordBatch.from_arrays([batch["lang"], pc.is_valid(batch["qid"]), batch["unresolved_reason"]],
                                      names=["lang", "linked", "reason"])
    return count_by("lang", "linked", "reason")(keys)


def resolve_and_write(spark, stage: str, kg: str, langs: list[str], dumps: list, summaries: list[dict], tmp: str,
                      top_n: int) -> dict:
    """Pass 2: resolve the links to QIDs, derive the knowledge tables, write every published table;
    returns the manifest's statistics, tallied while writing."""
    from concurrent.futures import ThreadPoolExecutor

    from pyspark.sql import functions as F

    from corpus_builder.tables import SENTENCES, STAGE_REJECTS
    from jobs._sorted import count_by, dir_bytes, file_count, write_sorted

    spark.sparkContext.setJobDescription("resolve")
    pages, full_pages, redirects, mentions = resolve(spark, stage, kg, langs)
    mentions = mentions.cache()
    in_order = split_order(summaries, dumps)
    if in_order is not None:
        # The splits wrote their sentences in published order: the table is their parts, joined.
        done_sentences = publish_in_order(spark, "sentences", in_order, stage, tmp)
    sentences = _spark.read_parquet(spark, os.path.join(tmp if in_order is not None else stage, "sentences"),
                                    SENTENCES)
    entity_docs, candidates, mep, oe, per_qid = knowledge_tables(spark, kg, langs, pages, sentences, mentions, top_n)
    base, bases = 0, {}
    prev = None
    for s in summaries:
        if s["file_idx"] != prev:
            base, prev = 0, s["file_idx"]
        bases[s["split_idx"]] = (dumps[s["file_idx"]].path, base)
        base += s["owned_bytes"]
    base_df = spark.createDataFrame([(k, v[0], v[1]) for k, v in bases.items()], "split_idx int, source string, base long")
    rejects_df = (_spark.read_parquet(spark, os.path.join(stage, "_rejects_local"), STAGE_REJECTS).join(F.broadcast(base_df), "split_idx")
                  .select("source", (F.col("base") + F.col("offset")).alias("offset"), "title", "reason", "excerpt"))
    frames = {"pages": full_pages, "redirects": redirects,
              "sentences": sentences, "mentions": mentions, "entity_docs": entity_docs, "candidates": candidates,
              "mep_examples": mep, "oe_examples": oe, "rejects": rejects_df}

    def write(name: str):
        order, staged = ORDER[name]
        df = frames[name]
        tally = mention_tally if name == "mentions" else count_by("lang") if "lang" in df.columns else None
        t_w = time.perf_counter()
        spark.sparkContext.setJobDescription(f"write {name}")
        done = write_sorted(df, os.path.join(tmp, name), order, file_count(sum(dir_bytes(os.path.join(stage, t))
                                                                              for t in staged)), tally)
        print(f"build_corpus: wrote {name} ({done.rows:,} rows, {done.files} file(s)) in {_spark.since(t_w):.1f} s",
              file=sys.stderr)
        return done

    writers = {name: partial(write, name) for name in frames}
    if in_order is not None:
        del writers["sentences"]
        # Pages too: each split's staged pages get their QID from a narrow (lang, page_id, qid) table.
        writers["pages"] = partial(publish_in_order, spark, "pages", in_order, stage, tmp, pages)
    with ThreadPoolExecutor(WRITERS) as pool:
        futures = {name: pool.submit(fn) for name, fn in writers.items()}
        written = {name: f.result() for name, f in futures.items()}
    if in_order is not None:
        written["sentences"] = done_sentences
    written = {name: written[name] for name in ORDER}
    spark.sparkContext.setJobDescription("statistics")
    fof = per_qid.groupBy("mentions").agg(F.count("*").alias("entities")).collect()
    return table_stats(written, fof)


def split_order(summaries: list[dict], dumps: list) -> list[tuple] | None:
    """The splits that converted pages, as (lang, first page id, last page id, split_idx) in published
    order (lang, page_id), when every split met its pages in ascending page id and the splits of one
    language cover disjoint id ranges (as a Wikipedia dump does); None when the tables must be sorted."""
    spans = []
    for s in summaries:
        if not s.get("pages_in_order", False):
            return None
        if s["page_ids"] is not None:
            spans.append((dumps[s["file_idx"]].lang, *s["page_ids"], s["split_idx"]))
    spans.sort()
    if any(a[0] == b[0] and a[2] >= b[1] for a, b in zip(spans, spans[1:], strict=False)):
        return None
    return spans


def _in_order_schema(table: str):
    """The schema of a table that publish_in_order writes: pages or sentences."""
    from corpus_builder.tables import PAGES, SENTENCES

    return PAGES if table == "pages" else SENTENCES


def concat_task(job: dict) -> dict:
    """One published file: the staged parts of consecutive splits, in order, their rows regrouped;
    for pages, each page gets its QID from the (lang, page_id) range of the page-QID table that its
    split covers."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from corpus_builder.tables import PAGES
    from xlkit_core.parts import PartWriter

    writer = PartWriter(job["out"], job["table"], _in_order_schema(job["table"]), job["rank"], job["attempt"])
    tally: Counter = Counter()
    try:
        for part in job["parts"]:
            if job["table"] == "pages":
                f = ds.field
                qids = ds.dataset(job["qids"], format="parquet").to_table(
                    columns=["page_id", "qid"], filter=(f("lang") == part["lang"]) & (f("page_id") >= part["first"])
                    & (f("page_id") <= part["last"]))
                ids, values = qids["page_id"].combine_chunks(), qids["qid"].combine_chunks()
            for batch in pq.ParquetFile(part["path"]).iter_batches(
                    columns=["lang", "page_id", "title", "text"] if job["table"] == "pages" else None):
                if job["table"] == "pages":
                    qid = pc.take(values, pc.index_in(batch["page_id"], value_set=ids))
                    batch = pa.RecordBatch.from_arrays(
                        [batch["lang"], batch["page_id"], batch["title"], qid, batch["text"]], schema=PAGES)
                writer.append_batch(batch)
                tally[part["lang"]] += batch.num_rows
        rows = writer.close()
    except BaseException:
        writer.abort()
        raise
    return {"rows": rows, "tally": dict(tally)}


def publish_in_order(spark, table: str, in_order: list[tuple], stage: str, tmp: str, pages=None):
    """Publish ``sentences`` or ``pages`` from the splits' staged parts, which are in published order
    (see split_order), without a sort: one task per output file (one per FILE_BYTES of staged parts,
    as write_sorted cuts a table), each joining its consecutive parts. Pages first get a narrow,
    sorted (lang, page_id, qid) table to take their QIDs from: the page text is never shuffled."""
    import uuid

    from jobs._sorted import FILE_BYTES, Written, dir_bytes, file_count, write_sorted
    from xlkit_core.parts import part_name, write_empty

    t_w = time.perf_counter()
    spark.sparkContext.setJobDescription(f"write {table}")
    staged = "_pages" if table == "pages" else "sentences"
    qids_dir = os.path.join(stage, "_page_qids")
    if table == "pages":
        write_sorted(pages.where(pages.qid.isNotNull()).select("lang", "page_id", "qid"), qids_dir,
                     ["lang", "page_id"], file_count(dir_bytes(os.path.join(stage, staged)) // 50))
    groups: list[list[dict]] = [[]]
    size = 0
    for lang, first, last, split in in_order:
        path = os.path.join(stage, staged, part_name(split))
        if not os.path.exists(path):
            continue
        n = os.path.getsize(path)
        if groups[-1] and size + n > FILE_BYTES:
            groups.append([])
            size = 0
        groups[-1].append({"path": path, "lang": lang, "first": first, "last": last})
        size += n
    attempt = uuid.uuid4().hex[:8]
    jobs = [{"table": table, "parts": g, "qids": qids_dir, "out": tmp, "rank": rank, "attempt": attempt}
            for rank, g in enumerate(groups) if g]
    done = Written()
    for r in _spark.run_tasks(spark.sparkContext, jobs, concat_task, f"publish {table}"):
        done.rows += r["rows"]
        done.tally.update({(k,): v for k, v in r["tally"].items()})
    directory = os.path.join(tmp, table)
    os.makedirs(directory, exist_ok=True)
    done.files = len(publish_spark_parts(directory))
    if not done.files:
        write_empty(tmp, table, _in_order_schema(table))
        done.files = 1
    print(f"build_corpus: wrote {table} ({done.rows:,} rows, {done.files} file(s)) from the splits' parts, "
          f"already in order, in {_spark.since(t_w):.1f} s", file=sys.stderr)
    return done


def table_stats(written: dict, fof: list) -> dict:
    """The manifest's table counts, resolved and unresolved links per language, and the
    mentions-per-entity distribution, from the writers' tallies."""
    tables = {}
    for name, w in written.items():
        if w.tally:
            by_lang = Counter()
            for key, n in w.tally.items():
                by_lang[key[0]] += n
            tables[name] = {"rows": w.rows, "by_lang": dict(sorted(by_lang.items()))}
        else:
            tables[name] = {"rows": w.rows}
    resolved: Counter = Counter()
    unresolved: dict[str, Counter] = {}
    for (lang, linked, reason), n in written["mentions"].tally.items():
        if linked:
            resolved[lang] += n
        else:
            unresolved.setdefault(lang, Counter())[reason] += n
    return {"tables": tables, "resolved": dict(sorted(resolved.items())),
            "unresolved": {k: dict(sorted(v.items(), key=lambda kv: str(kv[0]))) for k, v in sorted(unresolved.items())},
            "freq_of_freq": {str(r["mentions"]): r["entities"] for r in sorted(fof, key=lambda r: r["mentions"])}}


def corpus_manifest(args, dumps: list, kg: str, langs: list[str], parsed: Pass, stats: dict, fraction: float,
                    cores: int, durations: dict) -> dict:
    import pyarrow
    import pyspark

    c, summaries = parsed.counters, parsed.summaries
    rejects = sum(by_prefix(c, "rejects").values())
    pps = sum(by_prefix(c, "pages").values()) / parsed.seconds if parsed.seconds else 0.0
    by_file: dict[int, list] = {}
    for s in summaries:
        by_file.setdefault(s["file_idx"], []).append(s["raw_sha256"])
    return {
        "job": "build_corpus",
        "schema_version": 1,
        "inputs": [d.as_dict() | ({"sha256": h[0]} if len(h) == 1 else {
            "sha256_of_splits": hashlib.sha256("".join(h).encode()).hexdigest(),
            "split_bytes": split_step(d.size, int(args.split_mb * 2**20))}) for d, h in ((d, by_file.get(i, [])) for i, d in enumerate(dumps))],
        "kg": {"path": kg, "manifest_sha256": hashlib.sha256(Path(kg, "_manifest.json").read_bytes()).hexdigest()},
        "config": {"top_n": args.top_n, "max_reject_fraction": args.max_reject_fraction,
                   "page_seconds": args.page_seconds, "split_mb": args.split_mb, "languages": langs},
        "tables": stats["tables"],
        "per_lang": {
            "pages": by_prefix(c, "pages"), "redirects": by_prefix(c, "redirects"),
            "sentences": by_prefix(c, "sentences"), "links": by_prefix(c, "links"),
            "links_dropped_cross_sentence": by_prefix(c, "links_dropped.cross_sentence"),
            "links_resolved": stats["resolved"], "unresolved_reasons": stats["unresolved"],
        },
        "skipped": {"pages_other_namespaces": by_prefix(c, "skipped")},
        "rejects": {"count": rejects, "pages_read": c["pages_read"], "fraction": fraction,
                    "max_fraction": args.max_reject_fraction, "by_reason": by_prefix(c, "rejects"),
                    "truncated_inputs": parsed.truncated},
        "mentions_per_entity": stats["freq_of_freq"],
        "versions": {"xlkit": __version__, "python": platform.python_version(), "pyspark": pyspark.__version__,
                     "pyarrow": pyarrow.__version__, "java": _spark.java_version(_spark.check_java())},
        "durations_s": durations,
        "throughput": {"cores": cores, "pages_per_s": round(pps, 2), "pages_per_s_per_core": round(pps / cores, 2)},
    }


def resolve_dumps(pairs: list[tuple[str | None, str]]) -> list:
    from corpus_builder.xmldump import inspect_dump

    dumps = []
    for lang, path in pairs:
        try:
            files = list_inputs(path)
        except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
            raise InputError(f"cannot read dump: {exc}") from None
        dumps += [inspect_dump(f.path, f.size, lang) for f in files]
    return dumps


def main(argv: list[str] | None = None) -> int:
    check_environment()
    args = parse_args(argv)
    tmp = None
    try:
        check_fraction_option(args.max_reject_fraction)
        if args.top_n < 1:
            raise ConfigError(f"--top-n {args.top_n}: use a positive number, e.g. 32000")
        dumps = resolve_dumps(dump_args(args.wikipedia))
        kg = check_kg(args.kg)
        out, tmp = prepare_out(args.out, args.overwrite)
        _spark.check_java()
        spark = _spark.make_session("xlkit-build-corpus", args.master, shuffle_partitions=8, ui=args.ui)
        spark.conf.set("spark.sql.parquet.compression.codec", "zstd")
        os.makedirs(tmp)
        with _spark.user_errors():
            manifest = build(spark, args, dumps, tmp, kg)
        commit(tmp, out)
        tmp = None
        t = manifest["tables"]
        print("\n".join(f"{name:<14}{t[name]['rows']:>12,}" for name in t), file=sys.stderr)
        print(f"build_corpus: wrote {out} (report: {out}/report/report.md) in {manifest['durations_s']['total']:.1f} s",
              file=sys.stderr)
        return 0
    except XlkitError as exc:
        return fail("build_corpus", exc)
    finally:
        discard(tmp)


if __name__ == "__main__":
    sys.exit(main())
