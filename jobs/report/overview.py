"""The report's opening section (no heading of its own): what the run is and its inputs, when it
ran and for how long, whether every stage succeeded, the machine and the software, and the table of
the outputs found per stage."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
from datetime import datetime, timedelta

from jobs.report.common import dig, fmt_bytes, fmt_int, fmt_s, md_table, num, parse_time
from jobs.report.context import (
    CORPUS,
    EVAL_MD,
    EXPORT,
    KG,
    METRICS,
    MODEL_CONFIG,
    MONO,
    PARALLEL,
    SHARDS,
    STAGES_LOG,
    TOKENIZER,
    ReportContext,
)
from jobs.report.cost import job_durations


def render(ctx: ReportContext) -> list[str]:
    lines = ["An end-to-end xlkit run: Wikidata dump → knowledge graph → Wikipedia corpus (with parallel and "
             "monolingual text) → tokenizer → Arrow shards → pre-training → exported encoder → evaluation.", ""]
    rows = [["run directory", f"`{ctx.run}`"]]
    inputs = _inputs_summary(ctx)
    if inputs:
        rows.append(["inputs", inputs])
    stages = ctx.stages or []
    starts = [(parse_time(s.get("started")), num(s.get("wall_s"))) for s in stages]
    starts = [(t, w) for t, w in starts if t is not None]
    if starts:
        first = min(t for t, _ in starts)
        last = max(t + timedelta(seconds=w or 0) for t, w in starts)
        total = sum(num(s.get("wall_s")) or 0 for s in stages)
        rows.append(["when", f"{first:%Y-%m-%d %H:%M:%S %z} to {last:%Y-%m-%d %H:%M:%S %z}"])
        rows.append(["total wall time", f"**{fmt_s((last - first).total_seconds())}** from the first stage's "
                                        f"start to the last one's end ({len(stages)} stage(s), which sum to "
                                        f"{fmt_s(total)})"])
        failed = [s.get("name", "?") for s in stages if s.get("rc") not in (0, None)]
        rows.append(["outcome", "every stage exited with 0" if not failed
                     else f"**failed stage(s): {', '.join(failed)}**"])
    else:
        when = _mtime_span(ctx)
        if when:
            rows.append(["when", f"outputs written {when} (file times; `{STAGES_LOG}` absent)"])
        jobs = job_durations(ctx)
        rows.append(["total wall time", "not measured (no `stages.jsonl`)"
                     + (f"; the jobs' own timers sum to {fmt_s(sum(v for _, v in jobs))}" if jobs else "")])
    rows.append(["machine", _machine()])
    rows.append(["software", _software(ctx)])
    rows.append(["report", f"generated {datetime.now().astimezone():%Y-%m-%d %H:%M:%S %z} by "
                           f"`python -m jobs.report {ctx.label}`"])
    lines += [md_table(["", ""], rows, right=set()), ""]
    status = _status(ctx)
    lines += ["Outputs found:", "", md_table(["stage", "output", "status"], status, right=set()), ""]
    if any(row[2] != "ok" for row in status):
        lines += [f"`make demo DEMO_OUT={ctx.label}` builds every stage on the embedded sample; each section "
                  "below names the command for its own part.", ""]
    return lines


def _status(ctx: ReportContext) -> list[list[str]]:
    rows = []
    for stage, rel in (("cost log", STAGES_LOG), ("KG", KG), ("corpus", CORPUS), ("parallel", PARALLEL),
                       ("monolingual", MONO), ("tokenizer", TOKENIZER), ("shards", SHARDS),
                       ("training", METRICS), ("export", EXPORT), ("evaluation", EVAL_MD)):
        if not ctx.io.exists(rel):
            status = "missing"
        elif rel.endswith(".json"):
            status = "damaged" if ctx.io.json(rel)[1] else "ok"
        elif rel == STAGES_LOG:
            status = "ok" if not ctx.stage_errors else f"{len(ctx.stage_errors)} bad line(s)"
        else:
            status = "ok"
        rows.append([stage, f"`{rel}`", status])
    return rows


def _inputs_summary(ctx: ReportContext) -> str:
    parts = []
    kg, _ = ctx.io.json(KG)
    if kg and isinstance(kg.get("inputs"), list):
        size = sum(num(i.get("size")) or 0 for i in kg["inputs"] if isinstance(i, dict))
        parts.append(f"{len(kg['inputs'])} Wikidata dump file(s) ({fmt_bytes(size)})")
    corpus, _ = ctx.io.json(CORPUS)
    if corpus and isinstance(corpus.get("inputs"), list):
        langs = sorted({str(i.get("lang")) for i in corpus["inputs"] if isinstance(i, dict)})
        parts.append(f"{len(corpus['inputs'])} Wikipedia dump(s) ({', '.join(langs)})")
    par, _ = ctx.io.json(PARALLEL)
    if par and isinstance(par.get("inputs"), list):
        srcs = [str(i.get("source")) for i in par["inputs"] if isinstance(i, dict)]
        parts.append(f"{len(srcs)} parallel source(s) ({', '.join(srcs)})")
    export, _ = ctx.io.json(EXPORT)
    cfg, _ = ctx.io.json(MODEL_CONFIG)
    if export:
        size = dig(export, "config", "model", "size")
        objs = sorted(dig(export, "objectives", default={}) or {})
        parts.append(f"model: {size or '?'} encoder, {fmt_int(export.get('step'))} steps, objectives "
                     f"{', '.join(objs) or '?'}" + (f", {cfg.get('num_hidden_layers')} layers × "
                                                    f"{cfg.get('hidden_size')} hidden" if cfg else ""))
    return "; ".join(parts)


def _mtime_span(ctx: ReportContext) -> str | None:
    times = [os.path.getmtime(ctx.io.path(r)) for r in (KG, CORPUS, PARALLEL, MONO, TOKENIZER, SHARDS, METRICS,
                                                         EXPORT, EVAL_MD) if ctx.io.exists(r)]
    if not times:
        return None
    a, b = datetime.fromtimestamp(min(times)).astimezone(), datetime.fromtimestamp(max(times)).astimezone()
    return f"{a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M %z}"


def _software(ctx: ReportContext) -> str:
    here = ", ".join(f"{p} {_version(p)}" for p in ("torch", "pyspark", "pyarrow", "transformers", "matplotlib"))
    text = f"python {platform.python_version()}, {here}"
    for rel in (KG, CORPUS):
        data, _ = ctx.io.json(rel)
        v = dig(data, "versions")
        if isinstance(v, dict):
            java = v.get("java")
            text += (f"; the Spark jobs ran pyspark {v.get('pyspark', '?')} on python {v.get('python', '?')}"
                     + (f", {java}" if java else ""))
            break
    return text


def _version(pkg: str) -> str:
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _machine() -> str:
    import psutil

    logical, physical = os.cpu_count(), psutil.cpu_count(logical=False)
    text = (f"{platform.system()} {platform.release()} {platform.machine()}, {logical} logical cores"
            + (f" ({physical} physical)" if physical and physical != logical else "")
            + f", {psutil.virtual_memory().total / 2**30:.1f} GiB memory")
    try:
        affinity = len(os.sched_getaffinity(0))
        if affinity != logical:
            text += f", {affinity} cores usable by this process"
    except (AttributeError, OSError):
        pass
    gpus = []
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=10, check=False).stdout
            gpus = [g.strip() for g in out.splitlines() if g.strip()]
        except (OSError, subprocess.SubprocessError):
            pass
    text += f", GPU: {'; '.join(gpus)}" if gpus else ", no NVIDIA GPU"
    return text + " (the machine that generated this report)"
