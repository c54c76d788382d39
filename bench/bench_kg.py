"""Throughput benchmark of the knowledge-graph job (jobs/build_kg.py), in one run on two inputs.

    .venv/bin/python bench/bench_kg.py [--copies N] [--cores 2] [--repeat 2] [--out bench/results]

Input: the real 2014 test dump (1,137 entities), its entity lines repeated ``--copies`` times with
unique leading ids, written in the dump layout and compressed to a single bz2 stream (level 9);
and the same with a quarter of the copies. The headline is the whole job's marginal rate per
core between the two (extra entities over extra wall seconds, so the fixed costs cancel),
against the one-core ceiling; the baseline's is taken the same way.

Measured, each step in its own subprocess (for isolation and peak RSS):

* ceiling    one core: ``bz2.open`` + ``json.loads`` of every entity line (also orjson, informative)
* libbz2     one core: ``bz2.open(...).read()`` in chunks, decompression alone
* baseline   one core: qwikidata (``WikidataJsonDump``, ``WikidataItem``/``WikidataProperty``) to the
             same four tables, written with the same Parquet writer as ours; both inputs
* ours       ``jobs/build_kg.py`` with its default options, local[CORES] on both inputs and local[1]
             on the large one: the parse pass (from the manifest) and the whole job (wall clock,
             JVM start included); peak RSS per process type
* hadoop     ``spark.read.text(path).count()`` on the bz2 file (Hadoop's Java BZip2Codec, split)
             and on the decompressed file, local[CORES]

Every step runs ``--repeat`` times, round robin, and the fastest run counts (all are reported).
Writes OUT/kg.json and OUT/kg.md. Exits non-zero only when a step fails or counts disagree (the
baseline's rows vs ours, lines read by Spark vs the input); ratios are reported, never asserted.
MB means 10^6 bytes throughout.
"""

from __future__ import annotations

import argparse
import bz2
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from xlkit_core.mdtable import md_lines  # noqa: E402

SAMPLE = Path("/work/shared/data/wikidata-wikibrain-testdump/wikidata-testdump-2014.shared.json.bz2")
TARGET_BZ2_BYTES = 35_000_000     # default --copies makes the bz2 about this big
SMALL_FRACTION = 4                # the second input, for the marginal rate: copies // this
ID_STRIDE = 10_000_000            # copy k gets ids Q(n + k * ID_STRIDE), P(n + k * ID_STRIDE)
ID_RE = re.compile(rb'^\{"id":"([QP])([0-9]+)"')
READ_CHUNK = 8 << 20
POLL_S = 0.2
NOISY_SPREAD = 1.10               # slowest / fastest run above this: flagged as noisy
MB = 1e6
MIB = 2**20
TABLES = ("entities", "sitelinks", "triples", "properties")
# The full Wikidata dump, for the extrapolation.
FULL_ENTITIES = 110e6
FULL_JSON_BYTES = 1.5e12
FULL_BZ2_BYTES = 100e9


class BenchError(Exception):
    """A step failed or produced inconsistent results."""


# ---- input --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchInput:
    bz2: str
    plain: str
    copies: int
    entities: int
    json_bytes: int
    bz2_bytes: int
    sample_bytes_per_entity: float


def sample_entity_lines(sample: Path) -> list[bytes]:
    """The entity lines of a dump, without whitespace and trailing commas."""
    with bz2.open(sample, "rb") as f:
        lines = [line.strip() for line in f]
    lines = [line[:-1] if line.endswith(b",") else line for line in lines]
    return [line for line in lines if line not in (b"[", b"]", b"")]


def copy_lines(lines: list[bytes], copy: int) -> list[bytes]:
    """The lines with every leading entity id shifted by copy * ID_STRIDE."""
    if copy == 0:
        return lines
    shift = copy * ID_STRIDE

    def rewrite(m: re.Match) -> bytes:
        return b'{"id":"%s%d"' % (m[1], int(m[2]) + shift)

    out = []
    for line in lines:
        new, n = ID_RE.subn(rewrite, line, count=1)
        if n != 1:
            raise BenchError(f"entity line does not start with an id: {line[:60]!r}")
        out.append(new)
    return out


def build_input(sample: Path, copies: int, work: Path, name: str = "bench-wikidata") -> BenchInput:
    """Write work/NAME.json (dump layout) and its single-stream bz2 (level 9)."""
    lines = sample_entity_lines(sample)
    plain, packed = work / f"{name}.json", work / f"{name}.json.bz2"
    comp = bz2.BZ2Compressor(9)
    with open(plain, "wb") as fp, open(packed, "wb") as fz:
        for k in range(copies):
            data = (b"[\n" if k == 0 else b",\n") + b",\n".join(copy_lines(lines, k))
            fp.write(data)
            fz.write(comp.compress(data))
        fp.write(b"\n]\n")
        fz.write(comp.compress(b"\n]\n"))
        fz.write(comp.flush())
    json_bytes = plain.stat().st_size
    return BenchInput(bz2=str(packed), plain=str(plain), copies=copies, entities=len(lines) * copies,
                      json_bytes=json_bytes, bz2_bytes=packed.stat().st_size,
                      sample_bytes_per_entity=json_bytes / copies / len(lines))


# ---- steps that run in a child process (--step) ------------------------------------------------


def _entity_bodies(path: str) -> Iterator[bytes]:
    with bz2.open(path, "rb") as f:
        for line in f:
            body = line.strip()
            if body.endswith(b","):
                body = body[:-1]
            if body not in (b"[", b"]", b""):
                yield body


def step_ceiling(path: str, loads: Callable[[bytes], object]) -> dict:
    """Decompress and decode every entity line; nothing else."""
    t0 = time.perf_counter()
    n = 0
    for body in _entity_bodies(path):
        loads(body)
        n += 1
    return {"entities": n, "seconds": time.perf_counter() - t0}


def step_libbz2(path: str) -> dict:
    """Decompression alone, through Python's bz2 module (libbz2)."""
    t0 = time.perf_counter()
    total = 0
    with bz2.open(path, "rb") as f:
        while data := f.read(READ_CHUNK):
            total += len(data)
    return {"bytes": total, "seconds": time.perf_counter() - t0}


def _languages(d: dict, key: str) -> list[str]:
    value = d.get(key)
    return list(value) if isinstance(value, dict) else []


def _qwikidata_entity(d: dict):
    """A WikidataItem / WikidataProperty, or None for other entity types.

    qwikidata insists on keys that the 2014 dump omits (a property has no "claims", many entities
    no "aliases", a novalue/somevalue qualifier no "datatype"), so those are filled in first.
    """
    from qwikidata.entity import WikidataItem, WikidataProperty

    for key in ("labels", "descriptions", "aliases", "claims", "sitelinks"):
        d.setdefault(key, {})
    for statements in d["claims"].values():
        for st in statements:
            for qualifiers in st.get("qualifiers", {}).values():
                for q in qualifiers:
                    q.setdefault("datatype", None)
    cls = {"item": WikidataItem, "property": WikidataProperty}.get(d.get("type"))
    return cls(d) if cls else None


def _item_triples(entity) -> list[tuple[str, str, str]]:
    """(property, object QID, rank) of the non-deprecated item-valued main snaks."""
    from qwikidata.datavalue import WikibaseEntityId

    out = []
    for group in entity.get_claim_groups().values():
        for claim in group:
            snak = claim.mainsnak
            if claim.rank == "deprecated" or not isinstance(snak.datavalue, WikibaseEntityId):
                continue
            value = snak.datavalue.value
            if value.get("entity-type") == "item":
                out.append((snak.property_id, value.get("id") or f"Q{value['numeric-id']}", claim.rank))
    return out


def _wikipedia_sitelinks(entity) -> list[tuple[str, str, str]]:
    from xlkit_core.langs import site_to_lang

    if entity.entity_type != "item":
        return []
    out = []
    for site, link in entity.get_sitelinks(prefix="").items():
        lang, _ = site_to_lang(site)
        if lang is not None:
            out.append((site, lang, link["title"]))
    return out


def step_baseline(path: str, out_dir: str) -> dict:
    """qwikidata reader -> entities, sitelinks, triples, properties (our schemas and Parquet writer)."""
    from qwikidata.json_dump import WikidataJsonDump

    from kg_pipeline.tables import ENTITIES, PROPERTIES, SITELINKS, TRIPLES
    from xlkit_core.parts import PartWriter

    schemas = dict(zip(TABLES, (ENTITIES, SITELINKS, TRIPLES, PROPERTIES), strict=True))
    w = {name: PartWriter(out_dir, name, schema, 0, "baseline") for name, schema in schemas.items()}
    t0 = time.perf_counter()
    n = 0
    for d in WikidataJsonDump(path):
        e = _qwikidata_entity(d)
        if e is None:
            continue
        n += 1
        qid = e.entity_id
        labels = [(lang, e.get_label(lang)) for lang in _languages(d, "labels")]
        descriptions = [(lang, e.get_description(lang)) for lang in _languages(d, "descriptions")]
        aliases = [(lang, e.get_aliases(lang)) for lang in _languages(d, "aliases")]
        triples = _item_triples(e)
        sitelinks = _wikipedia_sitelinks(e)
        instance_of = [obj for prop, obj, _ in triples if prop == "P31"]
        w["entities"].append((qid, e.entity_type, labels, descriptions, aliases, len(sitelinks), instance_of))
        for site, lang, title in sitelinks:
            w["sitelinks"].append((qid, site, lang, title))
        for prop, obj, rank in triples:
            w["triples"].append((qid, prop, obj, rank))
        if e.entity_type == "property":
            w["properties"].append((qid, labels, d.get("datatype")))
    rows = {name: writer.close() for name, writer in w.items()}
    return {"entities": n, "seconds": time.perf_counter() - t0, "rows": rows}


def step_hadoop(bz2_path: str, plain_path: str, cores: int) -> dict:
    """spark.read.text(...).count() on the bz2 file and on the plain file, each split >= 4 * cores ways."""
    from jobs._spark import make_session

    spark = make_session("xlkit-bench-hadoop-bz2", f"local[{cores}]")

    def count(path: str) -> dict:
        split = max(1 << 20, os.path.getsize(path) // (4 * cores))
        spark.conf.set("spark.sql.files.maxPartitionBytes", str(split))
        df = spark.read.text(path)
        parts = df.rdd.getNumPartitions()
        t0 = time.perf_counter()
        lines = df.count()
        return {"seconds": time.perf_counter() - t0, "lines": lines, "partitions": parts}

    try:
        count(plain_path)  # warm-up: JVM, JIT, page cache
        return {"bz2": count(bz2_path), "plain": count(plain_path)}
    finally:
        spark.stop()


def run_step(args: argparse.Namespace) -> int:
    """Child-process entry point: run one step, print its result as one JSON line."""
    import resource

    if args.step == "ceiling-json":
        result = step_ceiling(args.input, json.loads)
    elif args.step == "ceiling-orjson":
        import orjson

        result = step_ceiling(args.input, orjson.loads)
    elif args.step == "libbz2":
        result = step_libbz2(args.input)
    elif args.step == "baseline":
        result = step_baseline(args.input, args.step_out)
    elif args.step == "hadoop":
        result = step_hadoop(args.input, args.plain, args.cores)
    else:
        raise BenchError(f"unknown step {args.step}")
    result["self_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))
    return 0


# ---- running and watching child processes --------------------------------------------------------


class TreePeaks:
    """Polls a process and its descendants every POLL_S seconds; keeps the peak RSS per process kind.

    Kinds: "driver python" (the process started), "driver JVM" (java), "pyspark daemon" (a python
    child of the JVM), "python worker" (a python process forked by the daemon), "tree sum" (all
    processes together, shared pages counted once per process).
    """

    def __init__(self, pid: int):
        self.pid = pid
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreePeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self._sample()
            if self._stop.wait(POLL_S):
                return

    def _snapshot(self) -> list[tuple[int, int, str, int]]:
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return []
        out = []
        for p in procs:
            try:
                out.append((p.pid, p.ppid(), p.name(), p.memory_info().rss))
            except psutil.Error:
                continue
        return out

    def _sample(self) -> None:
        snap = self._snapshot()
        java = {pid for pid, _, name, _ in snap if name.startswith("java")}
        total = 0
        for pid, ppid, name, rss in snap:
            if pid == self.pid:
                kind = "driver python"
            elif pid in java:
                kind = "driver JVM"
            elif name.startswith("python"):
                kind = "pyspark daemon" if ppid in java else "python worker"
            else:
                kind = "other"
            self.peaks[kind] = max(self.peaks.get(kind, 0.0), rss / MIB)
            total += rss
        if snap:
            self.peaks["tree sum"] = max(self.peaks.get("tree sum", 0.0), total / MIB)


@dataclass
class ChildRun:
    stdout: str
    wall_s: float
    peaks_mib: dict[str, float]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    env.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def run_child(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> ChildRun:
    """Run cmd (stderr to log; ``env`` added to the environment), timing it and watching its process
    tree; raise BenchError on failure."""
    with open(log, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env() | (env or {}), stdout=subprocess.PIPE, stderr=err)
        with TreePeaks(proc.pid) as peaks:
            out, _ = proc.communicate()
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise BenchError(f"{' '.join(cmd[:4])} ... exited with {proc.returncode}:\n" + "\n".join(tail))
    return ChildRun(out.decode(), wall, {k: round(v) for k, v in peaks.peaks.items()})


def run_step_child(step: str, work: Path, **opts: str | int) -> dict:
    """Run `bench_kg.py --step STEP` in a subprocess; return its JSON result plus wall time."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--step", step]
    for key, value in opts.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    run = run_child(cmd, work / f"{step}.log")
    result = json.loads(run.stdout.strip().splitlines()[-1])
    return result | {"wall_s": run.wall_s, "tree_peaks_mib": run.peaks_mib}


def run_ours(inp: BenchInput, cores: int, work: Path, tag: str = "") -> dict:
    """jobs/build_kg.py as a user runs it (default options); the manifest gives the parse pass and
    the row counts."""
    from xlkit_core.fsio import byte_ranges

    out = work / f"ours-local{cores}{tag}"
    cmd = [sys.executable, str(ROOT / "jobs" / "build_kg.py"), "--input", inp.bz2, "--out", str(out),
           "--master", f"local[{cores}]", "--overwrite"]
    run = run_child(cmd, work / f"ours-local{cores}{tag}.log")
    manifest = json.loads((out / "_manifest.json").read_text())
    return {
        "cores": manifest["throughput"]["cores"],
        "splits": len(byte_ranges(inp.bz2_bytes, int(manifest["config"]["split_bytes"]))),
        "parse_s": manifest["durations_s"]["parse"],
        "job_s": manifest["durations_s"]["total"],
        "wall_s": run.wall_s,
        "manifest_entities_per_s_per_core": manifest["throughput"]["entities_per_s_per_core"],
        "rows": {t: manifest["tables"][t]["rows"] for t in (*TABLES, "rejects")},
        "peaks_mib": run.peaks_mib,
    }


# ---- measuring ---------------------------------------------------------------------------------


def _ranking_seconds(name: str, result: dict) -> float:
    """The time by which the repeats of a step are ranked."""
    if name.startswith("ours_"):
        return result["parse_s"]
    if name == "hadoop":
        return result["bz2"]["seconds"]
    return result["seconds"]


def measure(inp: BenchInput, small: BenchInput, cores: int, work: Path, repeat: int) -> dict:
    """Run all steps `repeat` times, round robin; keep each step's fastest run, with all runs attached.

    Round robin rather than back to back, so that a burst of other work on the machine does not
    hit every run of the same step.
    """
    plan: dict[str, Callable[[], dict]] = {  # with --cores 1 the two "ours" entries are one
        "ceiling_json": lambda: run_step_child("ceiling-json", work, input=inp.bz2),
        "ceiling_orjson": lambda: run_step_child("ceiling-orjson", work, input=inp.bz2),
        "libbz2": lambda: run_step_child("libbz2", work, input=inp.bz2),
        "baseline": lambda: run_step_child("baseline", work, input=inp.bz2, step_out=work / "baseline"),
        "baseline_small": lambda: run_step_child("baseline", work, input=small.bz2, step_out=work / "baseline-small"),
        f"ours_local{cores}": lambda: run_ours(inp, cores, work),
        f"ours_local{cores}_small": lambda: run_ours(small, cores, work, "-small"),
        "ours_local1": lambda: run_ours(inp, 1, work),
        "hadoop": lambda: run_step_child("hadoop", work, input=inp.bz2, plain=inp.plain, cores=cores),
    }
    runs: dict[str, list[dict]] = {name: [] for name in plan}
    for r in range(repeat):
        for name, fn in plan.items():
            print(f"bench_kg: run {r + 1}/{repeat}: {name} ...", file=sys.stderr, flush=True)
            runs[name].append(fn())
    return {name: min(results, key=lambda res, n=name: _ranking_seconds(n, res)) | {"all_runs": results}
            for name, results in runs.items()}


def check(inp: BenchInput, small: BenchInput, raw: dict, cores: int) -> list[str]:
    """Consistency problems: entity and line counts, baseline vs ours row counts. Empty when all agree."""
    problems = []
    if raw["baseline_small"]["entities"] != small.entities:
        problems.append(f"baseline_small read {raw['baseline_small']['entities']:,} entities, not {small.entities:,}")
    for name in ("ceiling_json", "ceiling_orjson", "baseline"):
        if raw[name]["entities"] != inp.entities:
            problems.append(f"{name} read {raw[name]['entities']:,} entities, the input has {inp.entities:,}")
    for name, base in [(n, "baseline") for n in sorted({f"ours_local{cores}", "ours_local1"})] + [
            (f"ours_local{cores}_small", "baseline_small")]:
        ours = raw[name]["rows"]
        if ours["rejects"]:
            problems.append(f"{name} rejected {ours['rejects']:,} lines")
        for t in TABLES:
            if ours[t] != raw[base]["rows"][t]:
                problems.append(f"{t}: {base} {raw[base]['rows'][t]:,} rows, {name} {ours[t]:,}")
    for kind in ("bz2", "plain"):
        lines = raw["hadoop"][kind]["lines"]
        if lines != inp.entities + 2:
            problems.append(f"spark.read.text on the {kind} file counted {lines:,} lines, not {inp.entities + 2:,}")
    return problems


# ---- report --------------------------------------------------------------------------------------


def _runs(raw: dict, name: str, *keys: str) -> list[float]:
    """One timing from every run of a step, e.g. _runs(raw, "hadoop", "bz2", "seconds")."""
    out = []
    for run in raw[name]["all_runs"]:
        for key in keys:
            run = run[key]
        out.append(run)
    return out


def _row(step: str, cores: int, runs: list[float], inp: BenchInput, ceiling_per_core: float,
         peak_mib: float | None) -> dict:
    seconds = min(runs)
    eps = inp.entities / seconds
    return {"step": step, "cores": cores, "seconds": round(seconds, 2), "entities_per_s": round(eps, 1),
            "entities_per_s_per_core": round(eps / cores, 1),
            "json_mb_per_s_per_core": round(inp.json_bytes / MB / seconds / cores, 2),
            "vs_ceiling_per_core": round(eps / cores / ceiling_per_core, 3),
            "peak_rss_mib": peak_mib, "all_runs_s": [round(v, 2) for v in runs]}


def throughput_rows(inp: BenchInput, raw: dict, cores: int) -> list[dict]:
    """One row per measured step; seconds are the fastest run's, entities/s follow from them."""
    ceiling = inp.entities / min(_runs(raw, "ceiling_json", "seconds"))

    def single(step: str, name: str) -> dict:
        rss = round(raw[name]["self_peak_rss_mib"])
        return _row(step, 1, _runs(raw, name, "seconds"), inp, ceiling, rss)

    rows = [single("ceiling: bz2.open + json.loads", "ceiling_json"),
            single("ceiling: bz2.open + orjson.loads (informative)", "ceiling_orjson"),
            single("baseline B: qwikidata -> Parquet", "baseline")]
    for n in sorted({1, cores}):
        name = f"ours_local{n}"
        peaks = raw[name]["peaks_mib"]
        rows.append(_row(f"ours local[{n}]: parse pass", n, _runs(raw, name, "parse_s"), inp, ceiling,
                         peaks.get("python worker")))
        rows.append(_row(f"ours local[{n}]: whole job incl. JVM start", n, _runs(raw, name, "wall_s"), inp,
                         ceiling, peaks.get("tree sum")))
    return rows


def whole_job(inp: BenchInput, small: BenchInput, raw: dict, cores: int) -> dict:
    """The headline: entities per second per core between the two input sizes (extra entities over
    extra seconds, so JVM start and the fixed costs cancel), for our whole job (wall clock), its
    parse pass (manifest) and the baseline's whole process, against the one-core ceilings."""
    d_ent, d_json = inp.entities - small.entities, inp.json_bytes - small.json_bytes
    big, sm = f"ours_local{cores}", f"ours_local{cores}_small"

    def extra(name_big: str, name_small: str, *keys: str) -> float:
        return min(_runs(raw, name_big, *keys)) - min(_runs(raw, name_small, *keys))

    d_wall, d_parse = extra(big, sm, "wall_s"), extra(big, sm, "parse_s")
    d_base = extra("baseline", "baseline_small", "wall_s")
    ceiling = inp.entities / min(_runs(raw, "ceiling_json", "seconds"))
    ceiling_orjson = inp.entities / min(_runs(raw, "ceiling_orjson", "seconds"))
    ours = d_ent / d_wall / cores if d_wall > 0 else None
    parse = d_ent / d_parse / cores if d_parse > 0 else None
    base = d_ent / d_base if d_base > 0 else None

    def share(v: float | None, of: float) -> float | None:
        return round(v / of, 3) if v else None

    return {
        "entities": [small.entities, inp.entities], "bz2_bytes": [small.bz2_bytes, inp.bz2_bytes],
        "splits": [raw[sm]["splits"], raw[big]["splits"]],
        "ours_wall_s": [min(_runs(raw, sm, "wall_s")), min(_runs(raw, big, "wall_s"))],
        "ours_parse_s": [min(_runs(raw, sm, "parse_s")), min(_runs(raw, big, "parse_s"))],
        "baseline_wall_s": [min(_runs(raw, "baseline_small", "wall_s")), min(_runs(raw, "baseline", "wall_s"))],
        "ceiling_json_per_core": round(ceiling, 1), "ceiling_orjson_per_core": round(ceiling_orjson, 1),
        "ours_per_core": round(ours, 1) if ours else None,
        "ours_json_mb_per_s_per_core": round(d_json / MB / d_wall / cores, 2) if d_wall > 0 else None,
        "ours_vs_ceiling": share(ours, ceiling), "ours_vs_orjson_ceiling": share(ours, ceiling_orjson),
        "parse_per_core": round(parse, 1) if parse else None, "parse_vs_ceiling": share(parse, ceiling),
        "baseline_per_core": round(base, 1) if base else None, "baseline_vs_ceiling": share(base, ceiling),
        "ours_over_baseline": round(ours / base, 2) if ours and base else None,
    }


def bz2_comparison(inp: BenchInput, raw: dict, cores: int) -> dict:
    """Hadoop's Java BZip2Codec (through Spark) vs libbz2, decompressed MB/s per core (fastest runs)."""
    h = raw["hadoop"]
    mb = inp.json_bytes / MB
    bz2_runs, plain_runs = _runs(raw, "hadoop", "bz2", "seconds"), _runs(raw, "hadoop", "plain", "seconds")
    t_bz2, t_plain = min(bz2_runs), min(plain_runs)
    libbz2 = raw["libbz2"]["bytes"] / MB / min(_runs(raw, "libbz2", "seconds"))
    java = mb / t_bz2 / cores
    return {
        "cores": cores,
        "spark_text_count_bz2_s": round(t_bz2, 2),
        "spark_text_count_plain_s": round(t_plain, 2),
        "all_runs_bz2_s": [round(v, 2) for v in bz2_runs],
        "all_runs_plain_s": [round(v, 2) for v in plain_runs],
        "partitions_bz2": h["bz2"]["partitions"], "partitions_plain": h["plain"]["partitions"],
        "lines_bz2": h["bz2"]["lines"], "lines_plain": h["plain"]["lines"], "lines_expected": inp.entities + 2,
        "java_bz2_mb_per_s_per_core": round(java, 2),
        "java_bz2_mb_per_s_per_core_net_of_line_reading":
            round(mb / (t_bz2 - t_plain) / cores, 2) if t_bz2 > t_plain else None,
        "libbz2_mb_per_s_per_core": round(libbz2, 2),
        "libbz2_over_java": round(libbz2 / java, 2),
        "jvm_peak_rss_mib": h["tree_peaks_mib"].get("driver JVM"),
    }


def extrapolate(inp: BenchInput, whole: dict) -> dict:
    """Core-hours for the full dump from the whole job's marginal rate per core, two ways."""
    eps_core, mbps_core = whole["ours_per_core"], whole["ours_json_mb_per_s_per_core"]
    return {
        "full_dump": {"entities": FULL_ENTITIES, "json_bytes": FULL_JSON_BYTES, "bz2_bytes": FULL_BZ2_BYTES,
                      "bytes_per_entity": round(FULL_JSON_BYTES / FULL_ENTITIES)},
        "sample_bytes_per_entity": round(inp.sample_bytes_per_entity),
        "entities_per_s_per_core": eps_core,
        "json_mb_per_s_per_core": mbps_core,
        "core_hours_by_entities": round(FULL_ENTITIES / eps_core / 3600, 1) if eps_core else None,
        "core_hours_by_json_mb": round(FULL_JSON_BYTES / MB / mbps_core / 3600, 1) if mbps_core else None,
    }


def render_markdown(report: dict) -> str:
    inp, env, cores = report["input"], report["environment"], report["cores"]
    out = ["# Knowledge-graph throughput benchmark", "",
           f"{env['date']} on {env['cpu']} ({env['cpus']} CPUs), Python {env['python']}; load average "
           f"{env['loadavg_start']} at the start, {env['loadavg_end']} at the end "
           "(other work on the machine makes timings noisy).", "",
           f"Every step ran {report['repeat']} time(s), round robin; the fastest run counts, all are listed.", "",
           f"Input: {inp['copies']} copies of the 2014 test dump: {inp['entities']:,} entities, "
           f"{inp['json_bytes'] / MB:,.1f} MB JSON, {inp['bz2_bytes'] / MB:,.1f} MB bz2 (one stream, level 9), "
           f"{inp['sample_bytes_per_entity']:,.0f} bytes/entity; and a smaller input of "
           f"{report['small_input']['copies']} copies ({report['small_input']['entities']:,} entities) for the "
           "marginal rates.", ""]
    w = report["whole_job"]
    out += [f"## Headline: the whole job, marginal entities/s per core ({w['entities'][0]:,} -> "
            f"{w['entities'][1]:,} entities, local[{cores}], default options)", ""]
    out += md_lines(["measure", "value"], [
        ["ours: splits (small / large)", f"{w['splits'][0]} / {w['splits'][1]}"],
        ["ours: whole job wall s (small / large, fastest)", f"{w['ours_wall_s'][0]:.2f} / {w['ours_wall_s'][1]:.2f}"],
        ["ours: parse pass s (small / large)", f"{w['ours_parse_s'][0]:.2f} / {w['ours_parse_s'][1]:.2f}"],
        ["baseline: whole process wall s (small / large)",
         f"{w['baseline_wall_s'][0]:.2f} / {w['baseline_wall_s'][1]:.2f}"],
        ["ceiling per core: bz2 + json.loads / bz2 + orjson.loads",
         f"{w['ceiling_json_per_core']:,} / {w['ceiling_orjson_per_core']:,}"],
        [f"**ours, whole job, per core** (extra entities / extra wall s / {cores})", f"**{w['ours_per_core']:,}**"],
        ["**ours whole job / ceiling (json.loads)**", f"**{w['ours_vs_ceiling']}**"],
        ["ours whole job / ceiling (orjson)", w["ours_vs_orjson_ceiling"]],
        ["ours, parse pass, per core / vs ceiling", f"{w['parse_per_core']:,} / {w['parse_vs_ceiling']}"],
        ["baseline (qwikidata), whole process, one core / vs ceiling",
         f"{w['baseline_per_core']:,} / {w['baseline_vs_ceiling']}"],
        ["ours per core / baseline per core", w["ours_over_baseline"]],
    ])
    out += ["", "The marginal rate (extra entities over extra seconds between the two inputs) cancels JVM start, "
            "imports and the fixed per-job passes; both inputs run with the job's default split size.", "",
            "## Throughput, large input", ""]
    headers = ["step", "cores", "seconds", "entities/s", "entities/s per core", "JSON MB/s per core",
               "vs ceiling (per core)", "peak RSS MiB", "all runs s"]
    out += md_lines(headers, [list(r.values()) for r in report["throughput"]])
    noisy = [r["step"] for r in report["throughput"] if max(r["all_runs_s"]) > NOISY_SPREAD * min(r["all_runs_s"])]
    if noisy:
        out += ["", f"Runs differ by more than {NOISY_SPREAD - 1:.0%} (noisy machine?): " + "; ".join(noisy) + "."]
    out += ["", "Peak RSS: one process for the single-core steps; the largest Python worker for a parse "
            "pass; the sum over the whole process tree for a whole job.", "", "## Ours: peak RSS per process type (MiB)", ""]
    kinds = ["driver python", "driver JVM", "pyspark daemon", "python worker", "tree sum"]
    out += md_lines(["run", *kinds], [[name, *(p.get(k) for k in kinds)] for name, p in report["ours_peaks_mib"].items()])
    out += ["", "## Row counts", ""]
    out += md_lines(["table", "baseline B", *report["ours_rows"]],
                     [[t, report["baseline_rows"][t], *(r[t] for r in report["ours_rows"].values())] for t in TABLES])
    b = report["bz2"]
    out += ["", f"## bzip2: Hadoop's Java codec vs libbz2 (decompressed MB/s per core, local[{cores}])", ""]
    out += md_lines(["measure", "value"], [
        ["spark.read.text(bz2).count() s", b["spark_text_count_bz2_s"]],
        ["spark.read.text(plain).count() s", b["spark_text_count_plain_s"]],
        ["all runs s, bz2", b["all_runs_bz2_s"]],
        ["all runs s, plain", b["all_runs_plain_s"]],
        ["partitions bz2 / plain", f"{b['partitions_bz2']} / {b['partitions_plain']}"],
        ["lines bz2 / plain / expected", f"{b['lines_bz2']:,} / {b['lines_plain']:,} / {b['lines_expected']:,}"],
        ["Java BZip2Codec MB/s per core", b["java_bz2_mb_per_s_per_core"]],
        ["Java BZip2Codec MB/s per core, net of line reading", b["java_bz2_mb_per_s_per_core_net_of_line_reading"]],
        ["libbz2 (Python bz2) MB/s per core", b["libbz2_mb_per_s_per_core"]],
        ["libbz2 / Java", b["libbz2_over_java"]],
    ])
    x = report["extrapolation"]
    out += ["", "## Full dump extrapolation (ours, whole job, marginal per core)", "",
            f"~{x['full_dump']['entities'] / 1e6:,.0f}M entities, ~{x['full_dump']['json_bytes'] / 1e12:,.1f} TB JSON, "
            f"~{x['full_dump']['bz2_bytes'] / 1e9:,.0f} GB bz2.", "",
            f"- by entities: {x['entities_per_s_per_core']:,.0f} entities/s per core -> "
            f"**{x['core_hours_by_entities']:,.0f} core-hours**",
            f"- by JSON volume: {x['json_mb_per_s_per_core']:,.2f} MB/s per core -> "
            f"**{x['core_hours_by_json_mb']:,.0f} core-hours**", "",
            f"Modern entities are larger than 2014 ones (~{x['full_dump']['bytes_per_entity'] / 1000:,.1f} KB vs "
            f"~{x['sample_bytes_per_entity'] / 1000:,.1f} KB per entity here), so the MB/s-based estimate is the "
            "more reliable one."]
    if report["problems"]:
        out += ["", "## Problems", "", *(f"- {p}" for p in report["problems"])]
    return "\n".join(out) + "\n"


def environment() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "cpu": cpu, "cpus": os.cpu_count(),
            "python": platform.python_version(), "loadavg_start": [round(v, 2) for v in os.getloadavg()]}


def build_report(inp: BenchInput, small: BenchInput, raw: dict, cores: int, repeat: int, env: dict) -> dict:
    env["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    whole = whole_job(inp, small, raw, cores)
    return {
        "environment": env,
        "cores": cores,
        "repeat": repeat,
        "input": {k: v for k, v in asdict(inp).items() if k not in ("bz2", "plain")},  # temporary files
        "small_input": {k: v for k, v in asdict(small).items() if k not in ("bz2", "plain")},
        "whole_job": whole,
        "throughput": throughput_rows(inp, raw, cores),
        "ours_peaks_mib": {f"local[{n}]": raw[f"ours_local{n}"]["peaks_mib"] for n in sorted({1, cores})},
        "ours_rows": {f"local[{n}]": raw[f"ours_local{n}"]["rows"] for n in sorted({1, cores})},
        "baseline_rows": raw["baseline"]["rows"],
        "bz2": bz2_comparison(inp, raw, cores),
        "extrapolation": extrapolate(inp, whole),
        "problems": check(inp, small, raw, cores),
        "raw": raw,
    }


# ---- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--copies", type=int, default=None,
                   help=f"copies of the sample's entity lines (default: bz2 of ~{TARGET_BZ2_BYTES / MB:.0f} MB)")
    p.add_argument("--cores", type=int, default=2, help="Spark local[N] for ours and the Hadoop codec (default 2)")
    p.add_argument("--repeat", type=int, default=2,
                   help="runs of every step; the fastest counts, all are reported (default 2)")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"), help="directory for kg.json and kg.md")
    p.add_argument("--sample", default=str(SAMPLE), help="the Wikidata test dump (.json.bz2)")
    # internal: run one measured step in this (child) process
    p.add_argument("--step", help=argparse.SUPPRESS)
    p.add_argument("--input", help=argparse.SUPPRESS)
    p.add_argument("--plain", help=argparse.SUPPRESS)
    p.add_argument("--step-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if min(args.cores, args.repeat, args.copies or 1) < 1:
        p.error("--cores, --copies and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.step:
        return run_step(args)
    sample = Path(args.sample)
    if not sample.is_file():
        print(f"bench_kg: the Wikidata test dump {sample} is missing (the shared data folder is not "
              "mounted); pass --sample PATH to another copy", file=sys.stderr)
        return 2
    env = environment()
    copies = args.copies or max(1, round(TARGET_BZ2_BYTES / sample.stat().st_size))
    with tempfile.TemporaryDirectory(prefix="xlkit-bench-kg-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        inp = build_input(sample, copies, work)
        small = build_input(sample, max(1, copies // SMALL_FRACTION), work, "bench-wikidata-small")
        print(f"bench_kg: input {inp.entities:,} entities ({copies} copies), {inp.json_bytes / MB:,.1f} MB JSON, "
              f"{inp.bz2_bytes / MB:,.1f} MB bz2, and {small.entities:,} ({small.copies} copies), built in "
              f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
        try:
            raw = measure(inp, small, args.cores, work, args.repeat)
        except BenchError as exc:
            print(f"bench_kg: error: {exc}", file=sys.stderr)
            return 1
    report = build_report(inp, small, raw, args.cores, args.repeat, env)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "kg.json").write_text(json.dumps(report, indent=2) + "\n")
    md = render_markdown(report)
    (out / "kg.md").write_text(md)
    print(md)
    print(f"bench_kg: wrote {out / 'kg.json'} and {out / 'kg.md'}", file=sys.stderr)
    for problem in report["problems"]:
        print(f"bench_kg: error: {problem}", file=sys.stderr)
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
