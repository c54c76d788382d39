"""Corpus benchmark: jobs/build_corpus.py vs wikiextractor, memory as the input grows, core-hours.

    .venv/bin/python bench/bench_corpus.py [--repeat 2] [--marginal-k 1,24] [--out bench/results]

Inputs: two real dump excerpts, enwiki (gensim's test file, ids 10-30302: 106 long, old articles)
and jawiki (the head of the 2023-05-01 multistream dump), and the 2014 Wikidata test dump for
the KG that the corpus job needs (built once with jobs/build_kg.py into the temporary directory).

The headline, first: the whole job against wikiextractor's whole process on the enwiki pages
repeated 1 and 24 times (``--marginal-k 1,24``; one bz2 stream each; 40.6 MB at 24x), ``--repeat``
times round robin; the marginal rate between the two sizes (extra articles / extra seconds)
cancels the fixed costs. The rate of each round alone is reported beside it, as a measure of the
machine's noise.
Ours runs with its default options on local[2]; per core is that rate over 2.

Then, each in its own subprocess, ``--repeat`` times round robin (the fastest run counts):

* wikiextractor  3.1.0, ``--processes 1 --links``, from its own venv bench/.cache/wxenv (created
                 on first use with this interpreter, never the project venv); whole process
* pass 1         ``corpus_builder.extract.process_split`` over the job's default splits of the file,
                 one after another in one Python process without Spark: the per-core conversion rate
* job            ``jobs/build_corpus.py`` with local[2] and its default splits: wall clock and
                 the manifest's durations (pages pass, resolve_and_write)

Then, once each: the job on the jawiki pages repeated k = 1, 4, 8 times (fixed split size, so
the number of splits grows; peak RSS per process type, polled every 0.2 s), and cProfile of
pass 1 on enwiki. Per-page agreement (articles, text characters, links) between wikiextractor
and pass 1 is reported, never asserted, as are all ratios. Writes OUT/corpus.json and
OUT/corpus.md; exits non-zero only when a step fails. MB means 10^6 bytes, MiB 2^20.
"""

from __future__ import annotations

import argparse
import bz2
import cProfile
import html
import json
import math
import os
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench_kg import MB, MIB, NOISY_SPREAD, ROOT, BenchError, ChildRun, environment, run_child

from xlkit_core.mdtable import md_lines  # noqa: E402

DATA = Path("/work/shared/data")
DUMPS = {
    "en": DATA / "wikipedia-gensim-testdata" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
    "ja": DATA / "wikipedia-xztextfilter-2023" / "jawiki-20230501-pages-articles-multistream.head.xml.bz2",
}
WIKIDATA = DATA / "wikidata-wikibrain-testdump" / "wikidata-testdump-2014.shared.json.bz2"
CORES = 2
ONE_SPLIT_BYTES = 1 << 40          # pass 1 alone: every sample is one split
WX_VERSION = "3.1.0"
WX_ENV = ROOT / "bench" / ".cache" / "wxenv"
MARGINAL_LANG = "en"               # the headline: the whole job's marginal rate between two sizes
MARGINAL_K = (1, 24)               # of this dump, its pages repeated k times (--marginal-k)
GROWTH_LANG = "ja"
GROWTH_K = (1, 4, 8)
GROWTH_SPLIT_MB = 1.0
ID_STRIDE = 100_000_000            # copy c of a page gets page id + c * ID_STRIDE
PAGE_RE = re.compile(rb"[ \t]*<page>.*?</page>\n?", re.S)
PAGE_ID_RE = re.compile(rb"<id>(\d+)</id>")   # the first <id> of a page is the page's own
TITLE_RE = re.compile(rb"<title>(.*?)</title>", re.S)
WX_DOC_RE = re.compile(r'<doc id="(\d+)"[^>]*>\n(.*?)\n</doc>', re.S)
WX_LINK_RE = re.compile(r'<a href="[^"]*">(.*?)</a>', re.S)
AGREE = (0.8, 1.25)                # ours / wikiextractor within this range: "agrees roughly"
PROFILE_TOP = 15

# Main-namespace articles per Wikipedia, approximate, 2024 (rounded; from the List of Wikipedias).
ARTICLES_2024 = {
    "en": 6.8e6, "fr": 2.6e6, "es": 1.95e6, "de": 2.9e6, "el": 0.23e6, "bg": 0.30e6, "ru": 2.0e6,
    "tr": 0.60e6, "ar": 1.2e6, "vi": 1.3e6, "th": 0.17e6, "zh": 1.4e6, "hi": 0.16e6, "sw": 0.08e6,
    "ur": 0.21e6,
}
# Which measured sample stands in for a language: en for Latin, Cyrillic and Greek scripts
# (space-separated words, the same sentence-splitting path); ja for the other scripts.
RATE_BASIS = {lang: "ja" if lang in ("ar", "th", "zh", "hi", "ur") else "en" for lang in ARTICLES_2024}
ENWIKI_XML_BYTES = 90e9            # enwiki pages-articles, decompressed, approximate (2024: ~21 GB bz2)
ENWIKI_MEAN_TEXT_CHARS = 4_000     # ~4.5 G words / 6.8 M articles ~ 660 words, approximate


# ---- steps that run in a child process (--step) ------------------------------------------------


def _pass1(path: str, out_dir: str) -> Callable[[], tuple[str, int, list[dict]]]:
    """Import pass 1's modules and plan the splits as the job does; the call returned runs pass 1.

    Imports and planning stay outside what is timed or profiled: a Spark worker imports once, and
    the job plans in the driver. So does pyarrow's first ``pa.array``, which imports pandas (a
    one-off ~0.3 s). The call returns (lang, number of splits, split summaries).
    """
    import pyarrow as pa

    from corpus_builder.extract import process_split
    from corpus_builder.xmldump import inspect_dump, plan_xml_splits

    pa.array([""])
    dump = inspect_dump(path, os.path.getsize(path), None)
    splits = plan_xml_splits([dump], ONE_SPLIT_BYTES)

    def run() -> tuple[str, int, list[dict]]:
        return dump.lang, len(splits), [process_split(s, {0: dump.namespaces}, {0: dump.case}, out_dir)
                                        for s in splits]

    return run


def step_pass1(path: str, out_dir: str) -> dict:
    """Time pass 1 (wall and CPU); the staged tables stay in out_dir for the agreement check."""
    t_setup = time.perf_counter()
    run = _pass1(path, out_dir)
    t0, c0 = time.perf_counter(), time.process_time()
    lang, splits, summaries = run()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    c: Counter = Counter()
    for s in summaries:
        c.update(s["counters"])
    return {"lang": lang, "splits": splits, "articles": c[f"pages.{lang}"], "pages_read": c["pages_read"],
            "redirects": c[f"redirects.{lang}"], "xml_bytes": sum(s["owned_bytes"] for s in summaries),
            "seconds": seconds, "loop_cpu_s": cpu, "setup_s": t0 - t_setup}


def _func_label(func: tuple[str, int, str]) -> str:
    """A pstats key as 'file:line(name)', the file relative to the checkout or as its last two parts."""
    file, line, name = func
    if file == "~":
        return name
    p = Path(file)
    short = p.relative_to(ROOT) if p.is_relative_to(ROOT) else Path(*p.parts[-2:])
    return f"{short}:{line}({name})"


def _top(stats: pstats.Stats, key: int, n: int) -> list[dict]:
    """The n functions with the largest stats tuple entry `key` (2: tottime, 3: cumtime)."""
    own = Path(__file__).resolve()
    items = [(f, v) for f, v in stats.stats.items() if Path(f[0]).resolve() != own]  # not our wrapper
    rows = sorted(items, key=lambda kv: kv[1][key], reverse=True)[:n]
    return [{"function": _func_label(f), "ncalls": nc, "tottime_s": round(tt, 3), "cumtime_s": round(ct, 3)}
            for f, (_, nc, tt, ct, _) in rows]


def step_profile(path: str, out_dir: str) -> dict:
    """cProfile of pass 1: the top functions by cumulative and by own time."""
    run = _pass1(path, out_dir)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.runcall(run)
    seconds = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    return {"seconds_profiled": seconds, "top_cumulative": _top(stats, 3, PROFILE_TOP),
            "top_tottime": _top(stats, 2, PROFILE_TOP)}


def run_step(args: argparse.Namespace) -> int:
    """Child-process entry point: run one step, print its result as one JSON line."""
    steps: dict[str, Callable[[str, str], dict]] = {"pass1": step_pass1, "profile": step_profile}
    if args.step not in steps:
        raise BenchError(f"unknown step {args.step}")
    result = steps[args.step](args.input, args.step_out)
    result["self_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result))
    return 0


# ---- running the measured programs ---------------------------------------------------------------


def run_timed(cmd: list[str], log: Path) -> tuple[ChildRun, float]:
    """bench_kg.run_child, plus the CPU seconds of the child and the descendants it waited for."""
    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    before = cpu()
    run = run_child(cmd, log)
    return run, cpu() - before


def run_step_child(step: str, dump: Path, out_dir: Path, log: Path) -> dict:
    """Run `bench_corpus.py --step STEP` into a fresh out_dir; its JSON result plus wall, CPU and RSS."""
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--step", step, "--input", str(dump),
           "--step-out", str(out_dir)]
    run, cpu = run_timed(cmd, log)
    result = json.loads(run.stdout.strip().splitlines()[-1])
    return result | {"process_wall_s": run.wall_s, "process_cpu_s": cpu, "tree_peaks_mib": run.peaks_mib}


def _wx_version(python: Path) -> str | None:
    if not python.exists():
        return None
    probe = "import importlib.metadata as m; print(m.version('wikiextractor'))"
    r = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def ensure_wikiextractor(log: Path) -> Path:
    """The python of bench/.cache/wxenv holding wikiextractor==WX_VERSION; created on first use."""
    python = WX_ENV / "bin" / "python"
    if _wx_version(python) == WX_VERSION:
        return python
    print(f"bench_corpus: installing wikiextractor=={WX_VERSION} into {WX_ENV}", file=sys.stderr, flush=True)
    with open(log, "wb") as err:
        for cmd in ([sys.executable, "-m", "venv", "--clear", str(WX_ENV)],
                    [str(python), "-m", "pip", "install", "--quiet", f"wikiextractor=={WX_VERSION}"]):
            if subprocess.run(cmd, stdout=err, stderr=err).returncode != 0:
                tail = log.read_text(errors="replace").splitlines()[-10:]
                raise BenchError(f"{' '.join(cmd)} failed:\n" + "\n".join(tail))
    if _wx_version(python) != WX_VERSION:
        raise BenchError(f"{WX_ENV} still lacks wikiextractor=={WX_VERSION}; see {log}")
    return python


def wx_pages(out_dir: Path) -> dict[int, tuple[int, int]]:
    """page id -> (text characters, links) of wikiextractor's <doc> output.

    The first line of a doc (the title) is dropped; entities are decoded (its --links output
    escapes the <a> tags); each <a href> counts as a link and is replaced by its anchor text.
    """
    pages = {}
    for f in sorted(out_dir.rglob("wiki_*")):
        for m in WX_DOC_RE.finditer(f.read_text(encoding="utf-8")):
            body = html.unescape(m[2].partition("\n")[2])
            text, links = WX_LINK_RE.subn(r"\1", body)
            pages[int(m[1])] = (len(text.strip()), links)
    return pages


def run_wikiextractor(python: Path, dump: Path, out_dir: Path, log: Path) -> dict:
    """One wikiextractor run; seconds = the whole process (its template pre-pass included)."""
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = [str(python), "-m", "wikiextractor.WikiExtractor", "--processes", "1", "--links", "-o", str(out_dir),
           str(dump)]
    run, cpu = run_timed(cmd, log)
    articles = len(wx_pages(out_dir))
    if not articles:
        raise BenchError(f"wikiextractor wrote no <doc> for {dump}; see {log}")
    return {"articles": articles, "seconds": run.wall_s, "process_wall_s": run.wall_s, "process_cpu_s": cpu,
            "tree_peaks_mib": run.peaks_mib}


def run_pass1(dump: Path, out_dir: Path, log: Path) -> dict:
    result = run_step_child("pass1", dump, out_dir, log)
    if not result["articles"]:
        raise BenchError(f"pass 1 converted no article of {dump}; see {log}")
    return result


def build_kg(work: Path) -> Path:
    """The KG from the Wikidata test dump (once per benchmark run)."""
    kg = work / "kg"
    run_child([sys.executable, str(ROOT / "jobs" / "build_kg.py"), "--input", str(WIKIDATA), "--out", str(kg),
               "--master", f"local[{CORES}]"], work / "build_kg.log")
    return kg


def run_job(dump: Path, kg: Path, split_bytes: int | None, work: Path, tag: str, events: Path | None = None) -> dict:
    """jobs/build_corpus.py as a user runs it (split_bytes None: the job's default splits); the
    manifest gives the pass durations. With ``events``, Spark writes its event log there."""
    from xlkit_core.fsio import byte_ranges

    out = work / f"job-{tag}"
    cmd = [sys.executable, str(ROOT / "jobs" / "build_corpus.py"), "--wikipedia", str(dump), "--kg", str(kg),
           "--out", str(out), "--master", f"local[{CORES}]", "--overwrite"]
    if split_bytes is not None:
        cmd += ["--split-mb", repr(split_bytes / MIB)]
    env = None
    if events is not None:
        events.mkdir(parents=True, exist_ok=True)
        env = {"PYSPARK_SUBMIT_ARGS": "--conf spark.eventLog.enabled=true --conf spark.eventLog.compress=false "
                                      f"--conf spark.eventLog.dir={events.as_uri()} pyspark-shell"}
    run = run_child(cmd, work / f"job-{tag}.log", env)
    manifest = json.loads((out / "_manifest.json").read_text())
    shutil.rmtree(out)
    d = manifest["durations_s"]
    splits = len(byte_ranges(dump.stat().st_size, split_bytes or int(manifest["config"]["split_mb"] * MIB)))
    return {"articles": sum(manifest["per_lang"]["pages"].values()), "splits": splits,
            "seconds": run.wall_s, "wall_s": run.wall_s, "pages_s": d["pages"],
            "resolve_and_write_s": d["resolve_and_write"], "job_s": d["total"],
            "pages_per_s_per_core": manifest["throughput"]["pages_per_s_per_core"], "peaks_mib": run.peaks_mib}


# ---- bigger inputs ---------------------------------------------------------------------------------


def copy_page(raw: bytes, copy: int) -> bytes:
    """A <page> element as copy `copy`: page id + copy * ID_STRIDE, title + ' (copy N)'; copy 0 as is."""
    if copy == 0:
        return raw
    raw = PAGE_ID_RE.sub(lambda m: b"<id>%d</id>" % (int(m[1]) + copy * ID_STRIDE), raw, count=1)
    return TITLE_RE.sub(lambda m: b"<title>%s (copy %d)</title>" % (m[1], copy), raw, count=1)


def grown_dump(xml: bytes, k: int, path: Path) -> dict:
    """Write the dump with its <page> elements repeated k times (header and footer once), one bz2 stream."""
    pages = list(PAGE_RE.finditer(xml))
    if not pages:
        raise BenchError("the dump has no <page> element")
    head, tail = xml[:pages[0].start()], xml[pages[-1].end():]
    comp = bz2.BZ2Compressor(9)
    xml_bytes = len(head) + len(tail)
    with open(path, "wb") as f:
        f.write(comp.compress(head))
        for copy in range(k):
            for m in pages:
                page = copy_page(m[0], copy)
                xml_bytes += len(page)
                f.write(comp.compress(page))
        f.write(comp.compress(tail))
        f.write(comp.flush())
    return {"k": k, "pages": len(pages) * k, "xml_bytes": xml_bytes, "bz2_bytes": path.stat().st_size}


def measure_growth(kg: Path, work: Path) -> list[dict]:
    """The job with local[CORES] and GROWTH_SPLIT_MB on the GROWTH_LANG dump repeated k times."""
    xml = bz2.decompress(DUMPS[GROWTH_LANG].read_bytes())
    rows = []
    for k in GROWTH_K:
        path = work / f"{GROWTH_LANG}wiki-x{k}.xml.bz2"
        inp = grown_dump(xml, k, path)
        print(f"bench_corpus: growth k={k}: {inp['bz2_bytes'] / MB:,.1f} MB bz2 ...", file=sys.stderr, flush=True)
        job = run_job(path, kg, int(GROWTH_SPLIT_MB * MIB), work, f"growth-x{k}")
        rows.append(inp | job)
        path.unlink()
    return rows


def measure_marginal(wx_python: Path, kg: Path, work: Path, repeat: int) -> dict:
    """The headline: our whole job (default options, local[CORES]) and wikiextractor's whole process
    on MARGINAL_LANG's dump repeated k = MARGINAL_K times, `repeat` times round robin; the fastest
    run of each counts."""
    xml = bz2.decompress(DUMPS[MARGINAL_LANG].read_bytes())
    sizes, runs = {}, {}
    for k in MARGINAL_K:
        path = work / f"{MARGINAL_LANG}wiki-marginal-x{k}.xml.bz2"
        sizes[k] = grown_dump(xml, k, path) | {"path": path}
        runs[f"ours_x{k}"], runs[f"wx_x{k}"] = [], []
    for r in range(repeat):
        for k in MARGINAL_K:
            path = sizes[k]["path"]
            print(f"bench_corpus: marginal run {r + 1}/{repeat}: x{k} ({sizes[k]['bz2_bytes'] / MB:.1f} MB bz2) ...",
                  file=sys.stderr, flush=True)
            runs[f"ours_x{k}"].append(run_job(path, kg, None, work, f"marginal-x{k}"))
            runs[f"wx_x{k}"].append(run_wikiextractor(wx_python, path, work / f"wx-marginal-x{k}",
                                                      work / f"wx-marginal-x{k}.log"))
    profiles = {}
    for k in MARGINAL_K:  # once more each, with Spark's event log, for where the time goes
        print(f"bench_corpus: profiling the job on x{k} (Spark event log) ...", file=sys.stderr, flush=True)
        events = work / f"events-x{k}"
        job = run_job(sizes[k]["path"], kg, None, work, f"profile-x{k}", events)
        profiles[k] = task_seconds(events) | {"wall_s": job["wall_s"], "pages_s": job["pages_s"],
                                              "resolve_and_write_s": job["resolve_and_write_s"]}
    for k in MARGINAL_K:
        sizes[k]["path"].unlink()
        sizes[k]["path"] = str(sizes[k]["path"])
    best = {name: min(rs, key=lambda x: x["seconds"]) | {"all_runs": rs} for name, rs in runs.items()}
    return {"sizes": sizes, "runs": best, "profiles": profiles}


def task_seconds(events: Path) -> dict:
    """Task-seconds per step of the job (Spark's job description: the pages pass, 'write <table>',
    ...) and the number of Spark jobs, from an uncompressed event log."""
    by, jobs = Counter(), Counter()
    stage_step: dict[int, str] = {}
    for f in sorted(events.rglob("events_*")):
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                e = json.loads(line)
                kind = e["Event"]
                if kind == "SparkListenerJobStart":
                    props = e.get("Properties") or {}
                    step = props.get("spark.job.description") or "other"
                    step = "pages pass" if step == "pages" else step
                    jobs[step] += 1
                    for sid in e["Stage IDs"]:
                        stage_step[sid] = step
                elif kind == "SparkListenerTaskEnd":
                    info = e["Task Info"]
                    by[stage_step.get(e["Stage ID"], "other")] += (info["Finish Time"] - info["Launch Time"]) / 1000
    return {"task_s": {k: round(v, 2) for k, v in by.most_common()}, "spark_jobs": dict(jobs)}


def marginal(m: dict) -> dict:
    """Articles per second per core between the two sizes (fixed costs cancel), ours against
    wikiextractor, and where our job's extra time goes (the manifest's two passes)."""
    lo, hi = MARGINAL_K
    o_lo, o_hi, w_lo, w_hi = (m["runs"][f"{t}_x{k}"] for t in ("ours", "wx") for k in (lo, hi))
    d_art = o_hi["articles"] - o_lo["articles"]
    d_ours, d_wx = o_hi["wall_s"] - o_lo["wall_s"], w_hi["seconds"] - w_lo["seconds"]
    d_wx_cpu = w_hi["process_cpu_s"] - w_lo["process_cpu_s"]
    d_pages, d_pass2 = o_hi["pages_s"] - o_lo["pages_s"], o_hi["resolve_and_write_s"] - o_lo["resolve_and_write_s"]
    ours = d_art / d_ours / CORES if d_ours > 0 else None
    wx_wall = d_art / d_wx if d_wx > 0 else None
    wx_cpu = d_art / d_wx_cpu if d_wx_cpu > 0 else None
    return {
        "articles": [o_lo["articles"], o_hi["articles"]], "wx_articles": [w_lo["articles"], w_hi["articles"]],
        "ours_wall_s": [o_lo["wall_s"], o_hi["wall_s"]], "wx_wall_s": [w_lo["seconds"], w_hi["seconds"]],
        "wx_cpu_s": [w_lo["process_cpu_s"], w_hi["process_cpu_s"]],
        "ours_splits": [o_lo["splits"], o_hi["splits"]],
        "ours_pages_s": [o_lo["pages_s"], o_hi["pages_s"]],
        "ours_resolve_and_write_s": [o_lo["resolve_and_write_s"], o_hi["resolve_and_write_s"]],
        "ours_per_core": round(ours, 1) if ours else None,
        "wx_per_process": round(wx_wall, 1) if wx_wall else None,
        "wx_per_cpu_s": round(wx_cpu, 1) if wx_cpu else None,
        "ratio_vs_wx_process": round(ours / wx_wall, 2) if ours and wx_wall else None,
        "ratio_vs_wx_cpu": round(ours / wx_cpu, 2) if ours and wx_cpu else None,
        "ours_parse_per_core": round(d_art / d_pages / CORES, 1) if d_pages > 0 else None,
        "pass2_over_parse_at_largest": round(o_hi["resolve_and_write_s"] / o_hi["pages_s"], 2),
        "pass2_over_parse_marginal": round(d_pass2 / d_pages, 2) if d_pages > 0 else None,
        "all_runs_wall_s": {name: _all_runs(r, "seconds") for name, r in m["runs"].items()},
        "per_round": per_round(m, d_art),
    }


def per_round(m: dict, d_art: int) -> dict:
    """The marginal rates of each round alone (its two sizes ran one after the other), to show how
    much the headline, fastest against fastest, could move with the machine's noise."""
    lo, hi = MARGINAL_K
    runs = {name: [r["seconds"] for r in m["runs"][name]["all_runs"]] for name in m["runs"]}
    ours = [d_art / (b - a) / CORES if b > a else None for a, b in zip(runs[f"ours_x{lo}"], runs[f"ours_x{hi}"], strict=True)]
    wx = [d_art / (b - a) if b > a else None for a, b in zip(runs[f"wx_x{lo}"], runs[f"wx_x{hi}"], strict=True)]
    ratio = [round(o / w, 2) if o and w else None for o, w in zip(ours, wx, strict=True)]
    return {"ours_per_core": [round(o, 1) if o else None for o in ours],
            "wx_per_process": [round(w, 1) if w else None for w in wx], "ratio_vs_wx_process": ratio}


# ---- measuring -----------------------------------------------------------------------------------


def measure(wx_python: Path, kg: Path, work: Path, repeat: int) -> dict:
    """wikiextractor, pass 1 and the job on every dump, `repeat` times round robin; fastest run kept."""
    plan: dict[str, Callable[[], dict]] = {}
    for lang, dump in DUMPS.items():
        plan[f"wikiextractor_{lang}"] = partial(run_wikiextractor, wx_python, dump, work / f"wx-{lang}",
                                                work / f"wx-{lang}.log")
        plan[f"pass1_{lang}"] = partial(run_pass1, dump, work / f"pass1-{lang}", work / f"pass1-{lang}.log")
        plan[f"job_{lang}"] = partial(run_job, dump, kg, None, work, lang)
    runs: dict[str, list[dict]] = {name: [] for name in plan}
    for r in range(repeat):
        for name, fn in plan.items():
            print(f"bench_corpus: run {r + 1}/{repeat}: {name} ...", file=sys.stderr, flush=True)
            runs[name].append(fn())
    return {name: min(results, key=lambda res: res["seconds"]) | {"all_runs": results} for name, results in runs.items()}


def _all_runs(result: dict, key: str) -> list[float]:
    """One measure of every run of a step, e.g. _all_runs(raw["job_en"], "pages_s")."""
    return [round(run[key], 2) for run in result["all_runs"]]


# ---- analysis ------------------------------------------------------------------------------------


def our_pages(stage: Path) -> dict[int, tuple[int, int, int]]:
    """page id -> (text characters, links, main-namespace links) of pass 1's staged tables."""
    import pyarrow.parquet as pq

    pages = pq.read_table(stage / "_pages", columns=["page_id", "text"]).to_pydict()
    mentions = pq.read_table(stage / "_mentions", columns=["page_id", "target_title"]).to_pydict()
    links = Counter(mentions["page_id"])
    main = Counter(p for p, t in zip(mentions["page_id"], mentions["target_title"], strict=True) if t is not None)
    return {p: (len(t), links[p], main[p]) for p, t in zip(pages["page_id"], pages["text"], strict=True)}


def _ratio(ours: float, theirs: float) -> float | None:
    return round(ours / theirs, 3) if theirs else None


def _share_agreeing(pairs: list[tuple[int, int]]) -> float | None:
    """Fraction of (ours, wikiextractor) pairs whose ratio lies within AGREE (0/0 agrees)."""
    if not pairs:
        return None
    ok = sum(1 for o, w in pairs if (o == w == 0) or (w and AGREE[0] <= o / w <= AGREE[1]))
    return round(ok / len(pairs), 3)


def agreement(wx: dict[int, tuple[int, int]], ours: dict[int, tuple[int, int, int]]) -> dict:
    """Totals side by side and per-page agreement on the articles both wrote."""
    both = sorted(wx.keys() & ours.keys())
    chars = [(ours[p][0], wx[p][0]) for p in both]
    links = [(ours[p][2], wx[p][1]) for p in both]
    char_ratios = [o / w for o, w in chars if w]
    worst = sorted(both, key=lambda p: abs(math.log((ours[p][0] + 1) / (wx[p][0] + 1))), reverse=True)[:3]
    return {
        "articles": {"wikiextractor": len(wx), "ours": len(ours), "both": len(both)},
        "text_chars": {"wikiextractor": sum(c for c, _ in wx.values()), "ours": sum(v[0] for v in ours.values())},
        "links": {"wikiextractor": sum(n for _, n in wx.values()), "ours": sum(v[1] for v in ours.values()),
                  "ours_main_namespace": sum(v[2] for v in ours.values())},
        "per_page": {
            "median_chars_ratio": round(statistics.median(char_ratios), 3) if char_ratios else None,
            "share_chars_agree": _share_agreeing(chars),
            "median_main_links_ratio": round(statistics.median([o / w for o, w in links if w]), 3)
            if any(w for _, w in links) else None,
            "share_main_links_agree": _share_agreeing(links),
            "most_different": [{"page_id": p, "chars_wx": wx[p][0], "chars_ours": ours[p][0], "links_wx": wx[p][1],
                                "main_links_ours": ours[p][2]} for p in worst],
        },
        "ours_mean_text_chars": round(sum(v[0] for v in ours.values()) / len(ours)) if ours else None,
    }


def _single_core_row(lang: str, tool: str, r: dict, peak_mib: int | None) -> dict:
    return {"lang": lang, "tool": tool, "articles": r["articles"], "seconds": round(r["seconds"], 2),
            "pages_per_s_per_core": round(r["articles"] / r["seconds"], 1),
            "process_wall_s": round(r["process_wall_s"], 2), "process_cpu_s": round(r["process_cpu_s"], 2),
            "pages_per_cpu_s": round(r["articles"] / r["process_cpu_s"], 1), "peak_rss_mib": peak_mib,
            "all_runs_s": _all_runs(r, "seconds")}


def throughput(raw: dict) -> list[dict]:
    """Per dump: wikiextractor, pass 1 and the job's pages pass, in articles per second per core."""
    rows = []
    for lang in DUMPS:
        wx, p1, job = raw[f"wikiextractor_{lang}"], raw[f"pass1_{lang}"], raw[f"job_{lang}"]
        rows.append(_single_core_row(lang, "wikiextractor --processes 1 (whole process)", wx,
                                     wx["tree_peaks_mib"].get("tree sum")))
        rows.append(_single_core_row(lang, "ours pass 1, no Spark (process_split loop)", p1, p1["self_peak_rss_mib"]))
        rows.append({"lang": lang, "tool": f"ours job local[{CORES}], pages pass ({job['splits']} splits)",
                     "articles": job["articles"], "seconds": round(job["pages_s"], 2),
                     "pages_per_s_per_core": job["pages_per_s_per_core"], "process_wall_s": round(job["wall_s"], 2),
                     "process_cpu_s": None, "pages_per_cpu_s": None,
                     "peak_rss_mib": job["peaks_mib"].get("python worker"), "all_runs_s": _all_runs(job, "pages_s")})
    return rows


def ratios(raw: dict) -> list[dict]:
    """ours / wikiextractor, articles per second per core, three ways."""
    out = []
    for lang in DUMPS:
        wx, p1, job = raw[f"wikiextractor_{lang}"], raw[f"pass1_{lang}"], raw[f"job_{lang}"]
        wx_rate = wx["articles"] / wx["seconds"]
        out.append({
            "lang": lang,
            "pass1_loop_vs_wx_process": round(p1["articles"] / p1["seconds"] / wx_rate, 2),
            "pass1_process_vs_wx_process": round(p1["articles"] / p1["process_wall_s"] / wx_rate, 2),
            "pass1_cpu_vs_wx_cpu": round((p1["articles"] / p1["process_cpu_s"]) / (wx["articles"] / wx["process_cpu_s"]), 2),
            "job_pages_pass_per_core_vs_wx": round(job["pages_per_s_per_core"] / wx_rate, 2),
        })
    return out


def extrapolate(raw: dict, mean_chars: dict[str, int | None], whole: dict) -> dict:
    """Core-hours of our whole job and of wikiextractor for the XNLI Wikipedias.

    Per language the in-process pass-1 rate of its stand-in sample (RATE_BASIS), scaled by the
    whole job's marginal rate over pass 1's on MARGINAL_LANG: what pass 2, Spark and the
    scheduling cost per article on top of the conversion, measured once and assumed alike for
    every language."""
    def rate(name: str, lang: str) -> float:
        r = raw[f"{name}_{lang}"]
        return r["articles"] / r["seconds"]

    factor = whole["ours_per_core"] / rate("pass1", MARGINAL_LANG) if whole["ours_per_core"] else None
    rows = []
    for lang, articles in ARTICLES_2024.items():
        basis = RATE_BASIS[lang]
        p1, wx = rate("pass1", basis), rate("wikiextractor", basis)
        ours = p1 * factor if factor else None
        rows.append({"lang": lang, "articles_approx": articles, "rate_from": basis,
                     "ours_pages_per_s_per_core": round(ours, 1) if ours else None,
                     "ours_core_hours": round(articles / ours / 3600, 1) if ours else None,
                     "pass1_core_hours": round(articles / p1 / 3600, 1),
                     "wx_core_hours": round(articles / wx / 3600, 1)})
    en = raw["pass1_en"]
    xml_mb_per_s = en["xml_bytes"] / MB / en["seconds"] * (factor or 1.0)
    return {
        "whole_job_over_pass1": round(factor, 3) if factor else None,
        "rows": rows,
        "total_ours_core_hours": round(sum(r["ours_core_hours"] or 0 for r in rows), 1),
        "total_pass1_core_hours": round(sum(r["pass1_core_hours"] for r in rows), 1),
        "total_wx_core_hours": round(sum(r["wx_core_hours"] for r in rows), 1),
        "en_by_xml_volume": {"xml_bytes_approx": ENWIKI_XML_BYTES, "sample_xml_mb_per_s_per_core": round(xml_mb_per_s, 2),
                             "core_hours": round(ENWIKI_XML_BYTES / MB / xml_mb_per_s / 3600, 1)},
        "en_by_text_length": {"enwiki_mean_text_chars_approx": ENWIKI_MEAN_TEXT_CHARS,
                              "sample_mean_text_chars": mean_chars["en"],
                              "core_hours": round(ARTICLES_2024["en"] / (rate("pass1", "en") * (factor or 1.0)) / 3600
                                                  * ENWIKI_MEAN_TEXT_CHARS / mean_chars["en"], 1)
                              if mean_chars["en"] else None},
    }


def build_report(raw: dict, growth: list[dict], profile: dict, work: Path, repeat: int, env: dict,
                 marginal_raw: dict) -> dict:
    env["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    agree = {lang: agreement(wx_pages(work / f"wx-{lang}"), our_pages(work / f"pass1-{lang}")) for lang in DUMPS}
    whole = marginal(marginal_raw)
    return {
        "whole_job": whole,
        "whole_job_inputs": marginal_raw["sizes"],
        "whole_job_profiles": marginal_raw["profiles"],
        "environment": env,
        "cores": CORES,
        "repeat": repeat,
        "inputs": {lang: {"path": str(p), "bz2_bytes": p.stat().st_size, "xml_bytes": raw[f"pass1_{lang}"]["xml_bytes"],
                          "pages_read": raw[f"pass1_{lang}"]["pages_read"], "redirects": raw[f"pass1_{lang}"]["redirects"],
                          "articles": raw[f"pass1_{lang}"]["articles"]} for lang, p in DUMPS.items()},
        "wikiextractor": {"version": WX_VERSION, "venv": str(WX_ENV), "python": env["python"],
                          "note": "runs unmodified on this Python; no workaround needed"},
        "throughput": throughput(raw),
        "ratios": ratios(raw),
        "agreement": agree,
        "growth": growth,
        "profile_en_pass1": profile,
        "extrapolation": extrapolate(raw, {lang: a["ours_mean_text_chars"] for lang, a in agree.items()}, whole),
        "raw": raw,
        "raw_whole_job": marginal_raw["runs"],
    }


# ---- report --------------------------------------------------------------------------------------


def _md_whole_job(report: dict) -> list[str]:
    w, sizes = report["whole_job"], report["whole_job_inputs"]
    lo, hi = MARGINAL_K
    out = [f"## Headline: the whole job, marginal articles/s per core ({MARGINAL_LANG}wiki x{lo} -> x{hi})", ""]
    rows = [[f"x{k}", sizes[k]["pages"], round(sizes[k]["bz2_bytes"] / MB, 2), art, split, wall, pages, pass2, wx, cpu]
            for k, art, split, wall, pages, pass2, wx, cpu in zip(
                MARGINAL_K, w["articles"], w["ours_splits"], w["ours_wall_s"], w["ours_pages_s"],
                w["ours_resolve_and_write_s"], w["wx_wall_s"], w["wx_cpu_s"], strict=True)]
    out += md_lines(["input", "pages", "bz2 MB", "articles", "our splits", f"ours local[{CORES}] wall s",
                      "pages pass s", "resolve_and_write s", "wikiextractor wall s", "wikiextractor CPU s"], rows)
    table = md_lines(["measure", "value"], [
        [f"**ours, whole job, per core** (articles / extra wall s / {CORES})", f"**{w['ours_per_core']}**"],
        ["wikiextractor --processes 1 --links, whole process (per process)", w["wx_per_process"]],
        ["wikiextractor, per CPU-second of its processes", w["wx_per_cpu_s"]],
        ["**ours / wikiextractor, per core vs per process**", f"**{w['ratio_vs_wx_process']}**"],
        ["ours / wikiextractor, per core vs per CPU-second", w["ratio_vs_wx_cpu"]],
        ["ours, pages pass alone, per core (manifest)", w["ours_parse_per_core"]],
        [f"pass 2 (resolve_and_write) / pages pass, at x{hi}", w["pass2_over_parse_at_largest"]],
        ["pass 2 / pages pass, marginal (extra s over extra s)", w["pass2_over_parse_marginal"]],
    ])
    out += [""] + table
    runs = "; ".join(f"{name} {v}" for name, v in w["all_runs_wall_s"].items())
    pr = w["per_round"]
    out += ["", f"Each round alone (its x{lo} and x{hi} runs back to back): ours {pr['ours_per_core']} articles/s "
            f"per core, wikiextractor {pr['wx_per_process']} per process, ratio {pr['ratio_vs_wx_process']}."]
    return out + ["", f"Fastest of {report['repeat']} runs per size (all runs, s: {runs}). The rate is the extra "
                  "articles over the extra seconds between the two sizes, so JVM start, imports and pass 2's fixed "
                  "cost per table cancel; ours runs with the default options, as a user runs it. wikiextractor's "
                  "CPU counts its reader, extractor and writer processes."]


def _md_profile_pass2(report: dict) -> list[str]:
    prof = report["whole_job_profiles"]
    lo, hi = MARGINAL_K
    a, b = prof[lo], prof[hi]
    steps = sorted(set(a["task_s"]) | set(b["task_s"]), key=lambda k: -(b["task_s"].get(k, 0) - a["task_s"].get(k, 0)))
    rows = [[k, a["task_s"].get(k, 0), b["task_s"].get(k, 0), round(b["task_s"].get(k, 0) - a["task_s"].get(k, 0), 2),
             f"{a['spark_jobs'].get(k, 0)} / {b['spark_jobs'].get(k, 0)}"] for k in steps]
    busy = [round(sum(p["task_s"].values()), 1) for p in (a, b)]
    rows.append(["all tasks", busy[0], busy[1], round(busy[1] - busy[0], 2), ""])
    idle = [round(p["wall_s"] * CORES - t, 1) for p, t in zip((a, b), busy, strict=True)]
    rows.append([f"cores idle (wall x {CORES} - task-s): JVM start, driver planning, scheduling", idle[0], idle[1],
                 round(idle[1] - idle[0], 2), ""])
    out = [f"## Where the job's time goes (task-seconds from Spark's event log, one run each of x{lo} and x{hi})", ""]
    out += md_lines(["step (Spark job description)", f"x{lo} task-s", f"x{hi} task-s", "extra", "Spark jobs"], rows)
    return out + ["", f"Wall: x{lo} {a['wall_s']:.1f} s (pages pass {a['pages_s']:.1f}, pass 2 "
                  f"{a['resolve_and_write_s']:.1f}); x{hi} {b['wall_s']:.1f} s (pages pass {b['pages_s']:.1f}, pass 2 "
                  f"{b['resolve_and_write_s']:.1f}). 'resolve' is the link resolution and the caches it fills "
                  "before the writers start; each 'write' holds the joins that derive its table."]


def _md_throughput(report: dict) -> list[str]:
    rows = report["throughput"]
    out = ["## Throughput (articles per second per core; fastest run)", ""]
    out += md_lines(["lang", "tool", "articles", "seconds", "pages/s per core", "process wall s", "process CPU s",
                      "pages per CPU-s", "peak RSS MiB", "all runs s"], [list(r.values()) for r in rows])
    noisy = [f"{r['lang']} {r['tool']}" for r in rows if max(r["all_runs_s"]) > NOISY_SPREAD * min(r["all_runs_s"])]
    setup = ", ".join(f"{lang} {report['raw'][f'pass1_{lang}']['setup_s']:.2f} s" for lang in DUMPS)
    out += ["", "seconds: wikiextractor's whole process (its template pre-pass over the dump included); pass 1: "
            "the process_split loop only ('process wall s' adds interpreter start, imports and planning: a "
            f"one-off setup of {setup} in the fastest runs, pandas pulled in by pyarrow included); the job: "
            "the manifest's pages pass over 2 x cores splits, rate divided by the cores. CPU: the process and the "
            "children it waited for (wikiextractor runs a reader, one extractor and a writer process). Peak RSS: "
            "wikiextractor all processes summed; pass 1 the process; the job the largest Python worker."]
    if noisy:
        out += ["", f"Runs differ by more than {NOISY_SPREAD - 1:.0%} (noisy machine?): " + "; ".join(noisy) + "."]
    out += ["", "### ours / wikiextractor (articles per second per core)", ""]
    out += md_lines(["lang", "pass 1 loop vs wx process", "pass 1 process vs wx process", "pass 1 CPU vs wx CPU",
                      f"job pages pass (local[{CORES}], per core) vs wx"], [list(r.values()) for r in report["ratios"]])
    return out


def _md_jobs(report: dict) -> list[str]:
    out = [f"## The whole job, local[{CORES}] (fastest run by wall clock; JVM start included)", ""]
    rows = [[lang, j["splits"], j["articles"], j["wall_s"], j["job_s"], j["pages_s"], j["resolve_and_write_s"],
             j["pages_per_s_per_core"], j["peaks_mib"].get("python worker"), j["peaks_mib"].get("driver JVM"),
             _all_runs(j, "wall_s")] for lang, j in ((lang, report["raw"][f"job_{lang}"]) for lang in DUMPS)]
    out += md_lines(["lang", "splits", "articles", "wall s", "manifest total s", "pages pass s",
                      "resolve_and_write s", "pages/s per core", "peak worker MiB", "peak JVM MiB",
                      "all runs wall s"], rows)
    return out + ["", "On inputs this small both passes are mostly fixed cost (Python workers starting and "
                  "importing, task scheduling, a few uneven splits per core; pass 2 sorts and writes nine tables): "
                  "the growth table below shows the pages pass approaching the in-process rate as splits add up."]


def _md_agreement(report: dict) -> list[str]:
    out = ["## wikiextractor vs ours (pass 1), side by side", ""]
    rows = []
    for lang, a in report["agreement"].items():
        pp = a["per_page"]
        rows.append([lang, f"{a['articles']['wikiextractor']:,} / {a['articles']['ours']:,} / {a['articles']['both']:,}",
                     f"{a['text_chars']['wikiextractor']:,} / {a['text_chars']['ours']:,}",
                     f"{a['links']['wikiextractor']:,} / {a['links']['ours']:,} / {a['links']['ours_main_namespace']:,}",
                     pp["median_chars_ratio"], pp["share_chars_agree"], pp["median_main_links_ratio"],
                     pp["share_main_links_agree"]])
    out += md_lines(["lang", "articles wx / ours / both", "text chars wx / ours", "links wx / ours all / ours main ns",
                      "median chars ours/wx", "pages chars agree", "median links ours main/wx", "pages links agree"], rows)
    out += ["", f"Per page: articles both wrote; 'agree' = ours / wx within {AGREE[0]}..{AGREE[1]}. wikiextractor "
            "(without --html) drops list items (lines starting with * # ;) with their links, and keeps section "
            "headings; ours keeps list items and drops headings. Its links are its <a href> tags (main namespace "
            "and wikt:/w: links); ours 'all' also counts interwiki and other-namespace links kept as unresolved "
            "mentions. Most different pages (by characters; list pages, typically):", ""]
    rows = [[lang, w["page_id"], w["chars_wx"], w["chars_ours"], w["links_wx"], w["main_links_ours"]]
            for lang, a in report["agreement"].items() for w in a["per_page"]["most_different"]]
    return out + md_lines(["lang", "page id", "chars wx", "chars ours", "links wx", "main links ours"], rows)


def _md_growth(report: dict) -> list[str]:
    out = [f"## Peak memory as the input grows ({GROWTH_LANG}wiki pages repeated k times, local[{CORES}], "
           f"--split-mb {GROWTH_SPLIT_MB:g})", ""]
    rows = [[g["k"], g["pages"], round(g["xml_bytes"] / MB, 1), round(g["bz2_bytes"] / MB, 1), g["splits"],
             g["pages_s"], g["pages_per_s_per_core"], g["wall_s"], g["peaks_mib"].get("python worker"),
             g["peaks_mib"].get("pyspark daemon"), g["peaks_mib"].get("driver JVM"),
             g["peaks_mib"].get("driver python")] for g in report["growth"]]
    out += md_lines(["k", "pages", "XML MB", "bz2 MB", "splits", "pages pass s", "pages/s per core", "job wall s",
                      "peak worker MiB", "peak daemon MiB", "peak JVM MiB", "peak driver python MiB"], rows)
    return out + ["", "One run per k. Peak RSS polled every 0.2 s over the driver's process tree (a worker's RSS "
                  "includes pages shared with the daemon it forked from); reported, not asserted."]


def _md_profile(report: dict) -> list[str]:
    p = report["profile_en_pass1"]
    out = [f"## Where pass 1's time goes (cProfile, enwiki, {p['seconds_profiled']:.1f} s under the profiler)", ""]
    cols = ["function", "ncalls", "tottime_s", "cumtime_s"]
    out += ["Top by cumulative time:", ""] + md_lines(cols, [[r[c] for c in cols] for r in p["top_cumulative"]])
    return out + ["", "Top by own time:", ""] + md_lines(cols, [[r[c] for c in cols] for r in p["top_tottime"]])


def _md_extrapolation(report: dict) -> list[str]:
    x = report["extrapolation"]
    out = ["## Core-hours for the whole job on the 15 XNLI Wikipedias (extrapolated)", ""]
    rows = [list(r.values()) for r in x["rows"]]
    rows.append(["total", sum(r["articles_approx"] for r in x["rows"]), "", "", x["total_ours_core_hours"],
                 x["total_pass1_core_hours"], x["total_wx_core_hours"]])
    out += md_lines(["lang", "articles (approx., 2024)", "rate from", "ours whole job pages/s per core",
                      "ours whole job core-hours", "ours pass 1 alone core-hours", "wikiextractor core-hours"], rows)
    v, t = x["en_by_xml_volume"], x["en_by_text_length"]
    out += ["", f"The whole job's rate is the stand-in sample's pass-1 rate times {x['whole_job_over_pass1']}: the "
            f"whole job's marginal rate on {MARGINAL_LANG} (headline) over pass 1's in-process rate on the same "
            "pages, i.e. what Spark, pass 2 and the scheduling add per article, assumed alike for every language. "
            "Article counts are approximate (2024, rounded). Rates: en's sample for Latin, Cyrillic and Greek "
            "scripts, ja's for the others (ar th zh hi ur): an assumption, as is the article count itself. Average "
            "article length differs a lot per language and these samples are not average: the enwiki excerpt "
            "holds the oldest, longest articles, so the page-based figures are upper bounds. Cross-checks for en:",
            "",
            f"- by XML volume: ~{v['xml_bytes_approx'] / 1e9:.0f} GB decompressed pages-articles at "
            f"{v['sample_xml_mb_per_s_per_core']:.2f} MB/s per core -> **{v['core_hours']:,.0f} core-hours**",
            f"- by text length: enwiki's mean article ~{t['enwiki_mean_text_chars_approx']:,} characters vs "
            f"{t['sample_mean_text_chars']:,} in the sample -> **{t['core_hours']:,.0f} core-hours**"]
    return out


def render_markdown(report: dict) -> str:
    env = report["environment"]
    inputs = [f"- {lang}: {i['path']}: {i['bz2_bytes'] / MB:.2f} MB bz2, {i['xml_bytes'] / MB:.2f} MB XML, "
              f"{i['pages_read']:,} pages, {i['redirects']:,} redirects, {i['articles']:,} articles"
              for lang, i in report["inputs"].items()]
    out = ["# Corpus benchmark: build_corpus vs wikiextractor", "",
           f"{env['date']} on {env['cpu']} ({env['cpus']} CPUs), Python {env['python']}; load average "
           f"{env['loadavg_start']} at the start, {env['loadavg_end']} at the end "
           "(other work on the machine makes timings noisy).", "",
           f"Every throughput step ran {report['repeat']} time(s), round robin; the fastest run counts. "
           f"wikiextractor {report['wikiextractor']['version']} from {report['wikiextractor']['venv']}: "
           f"{report['wikiextractor']['note']}.", "", *inputs, ""]
    for part in (_md_whole_job, _md_profile_pass2, _md_throughput, _md_jobs, _md_agreement, _md_growth, _md_profile, _md_extrapolation):
        out += part(report) + [""]
    return "\n".join(out)


# ---- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=2,
                   help="runs of every throughput step; the fastest counts, all are reported (default 2)")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"), help="directory for corpus.json and corpus.md")
    p.add_argument("--marginal-k", default="1,24", metavar="LO,HI",
                   help="the headline's two sizes: the enwiki pages repeated LO and HI times (default 1,24: at 1,8 "
                        "the extra seconds are no larger than the run-to-run noise of the job's fixed cost)")
    # internal: run one measured step in this (child) process
    p.add_argument("--step", help=argparse.SUPPRESS)
    p.add_argument("--input", help=argparse.SUPPRESS)
    p.add_argument("--step-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    try:
        lo, hi = (int(x) for x in args.marginal_k.split(","))
    except ValueError:
        p.error("--marginal-k takes two integers, LO,HI")
    if not 1 <= lo < hi:
        p.error("--marginal-k needs 1 <= LO < HI")
    args.marginal_k = (lo, hi)
    return args


def main(argv: list[str] | None = None) -> int:
    global MARGINAL_K
    args = parse_args(argv)
    MARGINAL_K = args.marginal_k
    if args.step:
        return run_step(args)
    missing = [str(p) for p in (*DUMPS.values(), WIKIDATA) if not p.is_file()]
    if missing:
        print(f"bench_corpus: input missing (is the shared data folder mounted?): {', '.join(missing)}", file=sys.stderr)
        return 2
    env = environment()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="xlkit-bench-corpus-") as tmp:
        work = Path(tmp)
        try:
            wx_python = ensure_wikiextractor(work / "wxenv.log")
            kg = build_kg(work)
            marginal_raw = measure_marginal(wx_python, kg, work, args.repeat)
            raw = measure(wx_python, kg, work, args.repeat)
            growth = measure_growth(kg, work)
            print("bench_corpus: profiling pass 1 on enwiki ...", file=sys.stderr, flush=True)
            profile = run_step_child("profile", DUMPS["en"], work / "profile", work / "profile.log")
            report = build_report(raw, growth, profile, work, args.repeat, env, marginal_raw)
        except BenchError as exc:
            print(f"bench_corpus: error: {exc}", file=sys.stderr)
            return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "corpus.json").write_text(json.dumps(report, indent=2) + "\n")
    md = render_markdown(report)
    (out / "corpus.md").write_text(md)
    print(md)
    print(f"bench_corpus: wrote {out / 'corpus.json'} and {out / 'corpus.md'} in {time.perf_counter() - t0:.0f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
