"""The end-to-end report of a run directory (what ``make demo`` builds): cost, data, training, evaluation.

    python -m jobs.report RUN [--title TITLE] [--top-langs N]

Reads what the stages left in RUN (RUN/stages.jsonl from ``python -m jobs.stage``, the manifests of kg/,
corpus/, corpus/parallel/, corpus/monolingual/, tokenizer/ and shards/, train/metrics.jsonl, model/ and
eval/results.md) and writes RUN/report/report.md with its PNGs beside it. The report is built in
RUN/report.tmp and renamed into place when complete. A missing input makes its section say what is missing
and which command produces it; an unreadable or corrupt file is named in an error line of its section.
Nothing here needs Spark or torch.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import posixpath
import re
import shutil
import subprocess
import sys
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from xlkit_core.environment import check_environment

STAGES_LOG = "stages.jsonl"
REPORT_DIR = "report"
DEFAULT_TOP_LANGS = 12
DPI = 110

# The files each part of the report reads, relative to RUN.
KG = "kg/_manifest.json"
CORPUS = "corpus/_manifest.json"
CORPUS_REPORT = "corpus/report/report.md"
PARALLEL = "corpus/parallel/_manifest.json"
MONO = "corpus/monolingual/_manifest.json"
TOKENIZER = "tokenizer/xlkit_tokenizer.json"
SHARDS = "shards/manifest.json"
METRICS = "train/metrics.jsonl"
EXPORT = "model/xlkit_export.json"
MODEL_CONFIG = "model/config.json"
MODEL_WEIGHTS = "model/model.safetensors"
EVAL_MD = "eval/results.md"
EVAL_JSON = "eval/results.json"
REAL_COMPARE = "real/compare.md"


def _hints(run: str) -> dict[str, str]:
    """How to produce each input (shown when it is missing)."""
    return {
        "stages": f"`python -m jobs.stage --log {run}/{STAGES_LOG} --name NAME -- CMD ...` around each stage "
                  "(`make demo` does this; pass `--reset` to the first stage)",
        "kg": f"`python jobs/build_kg.py --input WIKIDATA_DUMP --out {run}/kg`",
        "corpus": f"`python jobs/build_corpus.py --wikipedia DUMP ... --kg {run}/kg --out {run}/corpus`",
        "parallel": f"`python jobs/build_parallel.py --parallel SPEC --out {run}/corpus --align`",
        "mono": f"`python jobs/build_monolingual.py --out {run}/corpus`",
        "tokenizer": f"`python jobs/train_tokenizer.py --corpus {run}/corpus --out {run}/tokenizer`",
        "shards": f"`python jobs/build_shards.py --corpus {run}/corpus --tokenizer {run}/tokenizer "
                  f"--out {run}/shards`",
        "train": f"`python -m trainer.train tiny shards={run}/shards out={run}/train`",
        "model": f"`python -m trainer.export {run}/train {run}/model`",
        "eval": f"`make eval MODEL={run}/model OUT={run}/eval`",
    }


# ---- formatting ----------------------------------------------------------------------------------------


def fmt_int(v) -> str:
    if isinstance(v, bool) or v is None:
        return "-" if v is None else str(v)
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer()):
        return f"{int(v):,}"
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def fmt_s(s) -> str:
    """A duration: 0.84 s, 12.3 s, 4 min 05 s, 2 h 03 min."""
    if not isinstance(s, (int, float)) or isinstance(s, bool) or math.isnan(s):
        return "-"
    if s < 10:
        return f"{s:.2f} s"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(round(s % 60)):02d} s"
    return f"{int(s // 3600)} h {int(round(s % 3600 / 60)):02d} min"


def fmt_mib(mb) -> str:
    if not isinstance(mb, (int, float)) or isinstance(mb, bool):
        return "-"
    return f"{mb / 1024:.2f} GiB" if mb >= 10240 else f"{mb:,.0f} MiB"


def fmt_bytes(n) -> str:
    if not isinstance(n, (int, float)):
        return "-"
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n} GB"


def pct(part, whole) -> str:
    return f"{100.0 * part / whole:.1f}%" if isinstance(part, (int, float)) and whole else "-"


def _cell(v) -> str:
    s = fmt_int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)
    return s.replace("|", "\\|").replace("\n", " ")


def md_table(header: list[str], rows: list[list], right: set[int] | None = None) -> str:
    """A markdown table; columns in ``right`` (default: every column but the first) are right-aligned."""
    right = set(range(1, len(header))) if right is None else right
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
             "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def counts(d) -> str:
    """``{"a": 3, "b": 1}`` -> "a 3, b 1" (largest first); "none" when empty."""
    if not isinstance(d, dict) or not d:
        return "none"
    items = sorted(((k, v) for k, v in d.items() if isinstance(v, (int, float))), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{k} {fmt_int(v)}" for k, v in items) or "none"


def top_n(d: dict, n: int) -> list[tuple[str, float]]:
    """The ``n`` largest entries of a {name: count} dict, then one "other (k)" bucket for the rest."""
    items = sorted(((str(k), v) for k, v in d.items() if isinstance(v, (int, float))), key=lambda kv: (-kv[1], kv[0]))
    if len(items) <= n + 1:
        return items
    rest = items[n:]
    return items[:n] + [(f"other ({len(rest)})", sum(v for _, v in rest))]


def _num(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _get(d, *keys, default=None):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return d


# ---- inputs --------------------------------------------------------------------------------------------


class Inputs:
    """Reads RUN's files once; remembers which were missing and which were damaged."""

    def __init__(self, run: str):
        self.run = run
        self.cache: dict[str, tuple[object, str | None]] = {}

    def path(self, rel: str) -> str:
        return os.path.join(self.run, rel)

    def exists(self, rel: str) -> bool:
        return os.path.exists(self.path(rel))

    def json(self, rel: str) -> tuple[dict | None, str | None]:
        """(object, None) when readable; (None, None) when absent; (None, error line) when damaged."""
        if rel in self.cache:
            return self.cache[rel]  # type: ignore[return-value]
        path = self.path(rel)
        out: tuple[dict | None, str | None]
        if not os.path.exists(path):
            out = (None, None)
        else:
            try:
                with open(path, encoding="utf-8") as f:
                    data = json.load(f)
            except json.JSONDecodeError as exc:
                out = (None, f"`{rel}` is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                             "the file is damaged: rebuild it")
            except (OSError, UnicodeDecodeError) as exc:
                out = (None, f"`{rel}` cannot be read: {exc}")
            else:
                out = (data, None) if isinstance(data, dict) else \
                    (None, f"`{rel}` holds a JSON {type(data).__name__}, not the object that was expected")
        self.cache[rel] = out  # type: ignore[assignment]
        return out

    def jsonl(self, rel: str) -> tuple[list[dict] | None, list[str]]:
        """(records, error lines); records is None when the file is absent. Bad lines are named and skipped."""
        path = self.path(rel)
        if not os.path.exists(path):
            return None, []
        records, errors = [], []
        try:
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        r = json.loads(line)
                    except json.JSONDecodeError as exc:
                        errors.append(f"`{rel}` line {n} is not valid JSON ({exc.msg}); it was skipped")
                        continue
                    if isinstance(r, dict):
                        records.append(r)
                    else:
                        errors.append(f"`{rel}` line {n} is a JSON {type(r).__name__}, not an object; it was skipped")
        except (OSError, UnicodeDecodeError) as exc:
            return [], [f"`{rel}` cannot be read: {exc}"]
        return records, errors


def error_line(msg: str) -> str:
    return f"**Error:** {msg}"


def missing_line(what: str, rel: str, hint: str) -> str:
    return f"_Not available:_ {what} (`{rel}`) does not exist. Produce it with {hint}."


# ---- figures -------------------------------------------------------------------------------------------


def _save(fig, path: str) -> str:
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return os.path.basename(path)


def _bar_labels(ax, bars, texts: list[str]) -> None:
    """Write each value just right of its horizontal bar."""
    for bar, text in zip(bars, texts, strict=True):
        neg = bar.get_width() < 0
        ax.annotate(text, (bar.get_x() + bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    xytext=(-3 if neg else 3, 0), textcoords="offset points", va="center",
                    ha="right" if neg else "left", fontsize=8)


def plot_cost(stages: list[dict], labels: list[str], out: str) -> str | None:
    """Two horizontal bar charts side by side: wall time and peak memory per stage (run order, top down)."""
    walls = [_num(s.get("wall_s")) for s in stages]
    peaks = [_num(s.get("peak_rss_mb")) for s in stages]
    if not any(walls) and not any(peaks):
        return None
    n = len(stages)
    minutes = max((w or 0) for w in walls) > 300
    gib = max((p or 0) for p in peaks) > 4096
    tvals = [(w or 0) / (60 if minutes else 1) for w in walls]
    mvals = [(p or 0) / (1024 if gib else 1) for p in peaks]
    failed = [s.get("rc") not in (0, None) for s in stages]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 0.42 * n + 1.9), sharey=True)
    y = list(range(n))
    for ax, vals, color, xlabel, title, texts in (
        (ax1, tvals, "C0", f"wall time ({'min' if minutes else 's'})", "Wall time per stage",
         [fmt_s(w) for w in walls]),
        (ax2, mvals, "C1", f"peak RSS of the process tree ({'GiB' if gib else 'MiB'})", "Peak memory per stage",
         [fmt_mib(p) for p in peaks]),
    ):
        colors = ["C3" if f else color for f in failed]
        bars = ax.barh(y, vals, color=colors, height=0.65)
        _bar_labels(ax, bars, texts)
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        ax.set_xlim(0, max(max(vals), 1e-9) * 1.22)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 10 else f"{v:g}"))
        ax.grid(True, axis="x", alpha=0.3)
        ax.set_axisbelow(True)
    ax1.set_yticks(y, labels)
    ax1.set_ylabel("stage (run order)")
    ax1.invert_yaxis()
    if any(failed):
        fig.text(0.01, 0.005, "red: the stage failed (non-zero exit code)", fontsize=8, color="C3")
    fig.tight_layout()
    return _save(fig, os.path.join(out, "cost_per_stage.png"))


def plot_shard_tokens(tasks: dict, top: int, out: str) -> str | None:
    """Stacked horizontal bars: tokens per shard task, split by language (top languages, then "other")."""
    rows = {t: v.get("tokens_by_lang") for t, v in tasks.items() if isinstance(v, dict)}
    rows = {t: {k: x for k, x in (d or {}).items() if _num(x)} for t, d in rows.items() if isinstance(d, dict)}
    rows = {t: d for t, d in rows.items() if d}
    if not rows:
        return None
    totals: dict[str, float] = {}
    for d in rows.values():
        for lang, v in d.items():
            totals[lang] = totals.get(lang, 0) + v
    keep = [k for k, _ in top_n(totals, min(top, 10))]
    other_label = next((k for k in keep if k.startswith("other (")), None)
    langs = sorted(k for k in keep if k != other_label)
    order = sorted(rows, key=lambda t: -sum(rows[t].values()))
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(order) + 2.2))
    left = [0.0] * len(order)
    series = [(lang, [rows[t].get(lang, 0) for t in order]) for lang in langs]
    if other_label:
        series.append((f"other languages ({other_label[7:-1]})",
                       [sum(v for k, v in rows[t].items() if k not in langs) for t in order]))
    # at most 10 named languages: tab10 without its grey, plus a dark blue; "other" is grey
    palette = [plt.get_cmap("tab10")(i) for i in (0, 1, 2, 3, 4, 5, 6, 8, 9)] + ["#393b79"]
    for i, (name, vals) in enumerate(series):
        color = "0.65" if name.startswith("other languages") else palette[i % len(palette)]
        ax.barh(order, vals, left=left, label=name, color=color, height=0.65, edgecolor="white", linewidth=0.5)
        left = [a + b for a, b in zip(left, vals, strict=True)]
    for i, total in enumerate(left):
        ax.annotate(f"{total:,.0f}", (total, i), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_xlim(0, max(left) * 1.12)
    ax.invert_yaxis()
    ax.set_xlabel("tokens")
    ax.set_ylabel("shard task")
    ax.set_title("Tokens per shard task, by language")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(title="language", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    fig.tight_layout()
    return _save(fig, os.path.join(out, "shard_tokens_by_lang.png"))


def plot_transfer_gap(gap: dict, out: str) -> str | None:
    # results.json holds fractions (F1, accuracy); the figure shows points, as the tables do
    items = [(str(k), 100 * _num(v)) for k, v in gap.items() if _num(v) is not None]
    if not items:
        return None
    names, vals = zip(*items, strict=True)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(items) + 1.8))
    bars = ax.barh(names, vals, color=["C2" if v <= 0 else "C0" for v in vals], height=0.6)
    _bar_labels(ax, bars, [f"{v:+.1f}" for v in vals])
    ax.axvline(0, color="black", lw=0.8)
    lo, hi = min(0.0, *vals), max(0.0, *vals)
    span = (hi - lo) or 1.0
    ax.set_xlim(lo - 0.2 * span if lo < 0 else 0, hi + 0.2 * span if hi > 0 else 0.05 * span)
    ax.invert_yaxis()
    ax.set_xlabel("transfer gap, points (source-language score minus the mean of the others; smaller = better)")
    ax.set_ylabel("task")
    ax.set_title("Cross-lingual transfer gap per task")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    fig.tight_layout()
    return _save(fig, os.path.join(out, "transfer_gap.png"))


# ---- the report ----------------------------------------------------------------------------------------


class Report:
    def __init__(self, run: str, out: str, title: str | None, top: int):
        self.run = os.path.abspath(run)
        self.label = os.path.relpath(self.run) if not os.path.relpath(self.run).startswith("..") else self.run
        self.out = out
        self.title = title or f"xlkit run report: {os.path.basename(self.run)}"
        self.top = top
        self.io = Inputs(self.run)
        self.hint = _hints(self.label)
        self.pngs: list[str] = []
        self.stages: list[dict] | None = None
        self.stage_errors: list[str] = []

    # -- helpers

    def guarded(self, what: str, fn: Callable[[], list[str]]) -> list[str]:
        """Run one section builder; an unexpected failure becomes an error line instead of a crash."""
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 (a report must never crash on odd inputs)
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            return [error_line(f"could not summarise {what}: {type(exc).__name__}: {exc} "
                               f"(jobs/report.py line {tb.lineno})"), ""]

    def load(self, rel: str, what: str, hint_key: str) -> tuple[dict | None, list[str]]:
        data, err = self.io.json(rel)
        if err:
            return None, [error_line(err + f" with {self.hint[hint_key]}."), ""]
        if data is None:
            return None, [missing_line(what, rel, self.hint[hint_key]), ""]
        return data, []

    def figure(self, name: str | None, alt: str, none_msg: str) -> list[str]:
        if name:
            self.pngs.append(name)
            return [f"![{alt}]({name})", ""]
        return [f"_No figure: {none_msg}._", ""]

    # -- sections

    def build(self) -> str:
        self.stages, self.stage_errors = self.io.jsonl(STAGES_LOG)
        body: list[str] = []
        body += ["## Cost per stage", ""] + self.guarded(f"`{STAGES_LOG}`", self.cost)
        body += ["## Data statistics per stage", ""] + self.guarded("the data statistics", self.data)
        body += ["## Training", ""] + self.guarded(f"`{METRICS}`", self.training)
        body += ["## Evaluation", ""] + self.guarded("the evaluation", self.evaluation)
        body += ["## From the real init (multilingual-e5-small)", ""] + self.guarded(f"`{REAL_COMPARE}`",
                                                                                 self.real_init)
        head = self.guarded("the header", self.header)
        return "\n".join([f"# {self.title}", ""] + head + body).rstrip() + "\n"

    def header(self) -> list[str]:
        lines = ["An end-to-end xlkit run: Wikidata dump → knowledge graph → Wikipedia corpus (with parallel and "
                 "monolingual text) → tokenizer → Arrow shards → pre-training → exported encoder → evaluation.", ""]
        rows = [["run directory", f"`{self.run}`"]]
        inputs = self._inputs_summary()
        if inputs:
            rows.append(["inputs", inputs])
        stages = self.stages or []
        starts = [(_parse_time(s.get("started")), _num(s.get("wall_s"))) for s in stages]
        starts = [(t, w) for t, w in starts if t is not None]
        if starts:
            first = min(t for t, _ in starts)
            last = max(t + timedelta(seconds=w or 0) for t, w in starts)
            total = sum(_num(s.get("wall_s")) or 0 for s in stages)
            rows.append(["when", f"{first:%Y-%m-%d %H:%M:%S %z} to {last:%Y-%m-%d %H:%M:%S %z}"])
            rows.append(["total wall time", f"**{fmt_s((last - first).total_seconds())}** from the first stage's "
                                            f"start to the last one's end ({len(stages)} stage(s), which sum to "
                                            f"{fmt_s(total)})"])
            failed = [s.get("name", "?") for s in stages if s.get("rc") not in (0, None)]
            rows.append(["outcome", "every stage exited with 0" if not failed
                         else f"**failed stage(s): {', '.join(failed)}**"])
        else:
            when = self._mtime_span()
            if when:
                rows.append(["when", f"outputs written {when} (file times; `{STAGES_LOG}` absent)"])
            jobs = self._job_durations()
            rows.append(["total wall time", "not measured (no `stages.jsonl`)"
                         + (f"; the jobs' own timers sum to {fmt_s(sum(v for _, v in jobs))}" if jobs else "")])
        rows.append(["machine", _machine()])
        rows.append(["software", self._software()])
        rows.append(["report", f"generated {datetime.now().astimezone():%Y-%m-%d %H:%M:%S %z} by "
                               f"`python -m jobs.report {self.label}`"])
        lines += [md_table(["", ""], rows, right=set()), ""]
        status = self._status()
        lines += ["Outputs found:", "", md_table(["stage", "output", "status"], status, right=set()), ""]
        if any(row[2] != "ok" for row in status):
            lines += [f"`make demo DEMO_OUT={self.label}` builds every stage on the embedded sample; each section "
                      "below names the command for its own part.", ""]
        return lines

    def _status(self) -> list[list[str]]:
        rows = []
        for stage, rel in (("cost log", STAGES_LOG), ("KG", KG), ("corpus", CORPUS), ("parallel", PARALLEL),
                           ("monolingual", MONO), ("tokenizer", TOKENIZER), ("shards", SHARDS),
                           ("training", METRICS), ("export", EXPORT), ("evaluation", EVAL_MD)):
            if not self.io.exists(rel):
                status = "missing"
            elif rel.endswith(".json"):
                status = "damaged" if self.io.json(rel)[1] else "ok"
            elif rel == STAGES_LOG:
                status = "ok" if not self.stage_errors else f"{len(self.stage_errors)} bad line(s)"
            else:
                status = "ok"
            rows.append([stage, f"`{rel}`", status])
        return rows

    def _inputs_summary(self) -> str:
        parts = []
        kg, _ = self.io.json(KG)
        if kg and isinstance(kg.get("inputs"), list):
            size = sum(_num(i.get("size")) or 0 for i in kg["inputs"] if isinstance(i, dict))
            parts.append(f"{len(kg['inputs'])} Wikidata dump file(s) ({fmt_bytes(size)})")
        corpus, _ = self.io.json(CORPUS)
        if corpus and isinstance(corpus.get("inputs"), list):
            langs = sorted({str(i.get("lang")) for i in corpus["inputs"] if isinstance(i, dict)})
            parts.append(f"{len(corpus['inputs'])} Wikipedia dump(s) ({', '.join(langs)})")
        par, _ = self.io.json(PARALLEL)
        if par and isinstance(par.get("inputs"), list):
            srcs = [str(i.get("source")) for i in par["inputs"] if isinstance(i, dict)]
            parts.append(f"{len(srcs)} parallel source(s) ({', '.join(srcs)})")
        export, _ = self.io.json(EXPORT)
        cfg, _ = self.io.json(MODEL_CONFIG)
        if export:
            size = _get(export, "config", "model", "size")
            objs = sorted(_get(export, "objectives", default={}) or {})
            parts.append(f"model: {size or '?'} encoder, {fmt_int(export.get('step'))} steps, objectives "
                         f"{', '.join(objs) or '?'}" + (f", {cfg.get('num_hidden_layers')} layers × "
                                                        f"{cfg.get('hidden_size')} hidden" if cfg else ""))
        return "; ".join(parts)

    def _mtime_span(self) -> str | None:
        times = [os.path.getmtime(self.io.path(r)) for r in (KG, CORPUS, PARALLEL, MONO, TOKENIZER, SHARDS, METRICS,
                                                              EXPORT, EVAL_MD) if self.io.exists(r)]
        if not times:
            return None
        a, b = datetime.fromtimestamp(min(times)).astimezone(), datetime.fromtimestamp(max(times)).astimezone()
        return f"{a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M %z}"

    def _software(self) -> str:
        here = ", ".join(f"{p} {_version(p)}" for p in ("torch", "pyspark", "pyarrow", "transformers", "matplotlib"))
        text = f"python {platform.python_version()}, {here}"
        for rel in (KG, CORPUS):
            data, _ = self.io.json(rel)
            v = _get(data, "versions")
            if isinstance(v, dict):
                java = v.get("java")
                text += (f"; the Spark jobs ran pyspark {v.get('pyspark', '?')} on python {v.get('python', '?')}"
                         + (f", {java}" if java else ""))
                break
        return text

    # -- cost

    def _labels(self, stages: list[dict]) -> list[str]:
        seen: dict[str, int] = {}
        out = []
        for s in stages:
            name = str(s.get("name", "?"))
            seen[name] = seen.get(name, 0) + 1
            out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
        return out

    def cost(self) -> list[str]:
        lines = [error_line(e) for e in self.stage_errors]
        lines += [""] if lines else []
        stages = self.stages
        if stages is None:
            lines += [missing_line("the stage cost log", STAGES_LOG, self.hint["stages"]), ""]
        elif not stages:
            lines += [f"_Not available:_ `{STAGES_LOG}` holds no stage record. Produce it with "
                      f"{self.hint['stages']}.", ""]
        else:
            labels = self._labels(stages)
            if len({str(s.get("name")) for s in stages}) < len(stages):
                lines += ["Note: stage names repeat, so the log holds more than one run (numbered in order); pass "
                          "`--reset` to the first stage to start a fresh log.", ""]
            rows = []
            for i, (s, label) in enumerate(zip(stages, labels, strict=True), 1):
                wall, cpu = _num(s.get("wall_s")), _num(s.get("cpu_s"))
                rc = s.get("rc")
                rc_text = "-" if rc is None else str(rc) if rc == 0 else \
                    f"**{rc}**" + (f" ({s['signal']})" if s.get("signal") else "")
                if s.get("interrupted"):
                    rc_text += f", interrupted by {s['interrupted']}"
                rows.append([i, f"`{label}`", fmt_s(wall), fmt_mib(_num(s.get("peak_rss_mb"))), fmt_s(cpu),
                             f"{cpu / wall:.2f}" if cpu is not None and wall else "-", s.get("max_procs", "-"),
                             rc_text])
            walls = [_num(s.get("wall_s")) or 0 for s in stages]
            cpus = [_num(s.get("cpu_s")) or 0 for s in stages]
            peaks = [_num(s.get("peak_rss_mb")) or 0 for s in stages]
            rows.append(["", "**total**", f"**{fmt_s(sum(walls))}**", f"max {fmt_mib(max(peaks))}",
                         f"**{fmt_s(sum(cpus))}**", f"{sum(cpus) / sum(walls):.2f}" if sum(walls) else "-", "", ""])
            lines += [md_table(["#", "stage", "wall time", "peak memory", "CPU time", "CPU / wall", "processes",
                                "exit code"], rows, right={0, 2, 3, 4, 5, 6}), ""]
            lines += ["Wall time runs until the stage's whole process tree has exited. Peak memory is the peak of the "
                      "summed resident memory (RSS) of the tree (the Spark JVM included), sampled every 0.15 s; "
                      "memory shared between processes counts once per process. CPU time is user + system time "
                      "of the tree; CPU / wall is the mean number of busy cores; processes is the most seen at "
                      "once.", ""]
            lines += self.figure(plot_cost(stages, labels, self.out), "wall time and peak memory per stage",
                                 "no stage has a wall time or a peak memory")
        jobs = self._job_durations()
        if jobs:
            measured = {}
            for s in stages or []:
                if _num(s.get("wall_s")) is not None:
                    measured[str(s.get("name"))] = s["wall_s"]
            rows = []
            for name, secs in jobs:
                wall = measured.get(name) or (measured.get("mono") if name == "monolingual" else None)
                rows.append([name, fmt_s(secs), fmt_s(wall) if wall else "-",
                             fmt_s(wall - secs) if wall and wall >= secs else "-"])
            header = ["job", "job's own timer", "stage wall time", "start-up and other overhead"]
            if not measured:
                header, rows = header[:2], [r[:2] for r in rows]
            lines += ["Durations the jobs timed themselves (from their manifests and `metrics.jsonl`; they leave out "
                      "interpreter, JVM and SparkSession start-up" + (", which the stage wall time includes):"
                                                                      if measured else "):"), "",
                      md_table(header, rows), ""]
        return lines

    def _job_durations(self) -> list[tuple[str, float]]:
        out = []
        for name, rel, keys in (("kg", KG, ("durations_s", "total")), ("corpus", CORPUS, ("durations_s", "total")),
                                ("parallel", PARALLEL, ("durations_s", "total")),
                                ("monolingual", MONO, ("durations_s", "total")),
                                ("tokenizer", TOKENIZER, ("durations_s", "total")),
                                ("shards", SHARDS, ("duration_s",))):
            data, _ = self.io.json(rel)
            v = _num(_get(data, *keys))
            if v is not None:
                out.append((name, v))
        train = self._metrics()[0]
        if train:
            v = _num(train[-1].get("elapsed_s"))
            if v is not None:
                out.append(("train", v))
        return out

    # -- data

    def data(self) -> list[str]:
        lines: list[str] = []
        lines += self.guarded("the per-language overview", self.overview)
        lines += ["### Knowledge graph", ""] + self.guarded(f"`{KG}`", self.kg)
        lines += ["### Corpus", ""] + self.guarded(f"`{CORPUS}`", self.corpus)
        lines += ["### Parallel text", ""] + self.guarded(f"`{PARALLEL}`", self.parallel)
        lines += ["### Monolingual text", ""] + self.guarded(f"`{MONO}`", self.monolingual)
        lines += ["### Tokenizer", ""] + self.guarded(f"`{TOKENIZER}`", self.tokenizer)
        lines += ["### Shards", ""] + self.guarded(f"`{SHARDS}`", self.shards)
        return lines

    def overview(self) -> list[str]:
        kg, _ = self.io.json(KG)
        corpus, _ = self.io.json(CORPUS)
        par, _ = self.io.json(PARALLEL)
        mono, _ = self.io.json(MONO)
        tok, _ = self.io.json(TOKENIZER)
        shards, _ = self.io.json(SHARDS)
        pl = _get(corpus, "per_lang", default={}) or {}
        shard_tokens: dict[str, float] = {}
        for t in (_get(shards, "tasks", default={}) or {}).values():
            for lang, v in (_get(t, "tokens_by_lang", default={}) or {}).items():
                shard_tokens[lang] = shard_tokens.get(lang, 0) + (_num(v) or 0)
        pairs_by_lang: dict[str, float] = {}
        for pair, v in (_get(par, "tables", "parallel", "by_pair", default={}) or {}).items():
            for lang in set(str(pair).split("-")):
                pairs_by_lang[lang] = pairs_by_lang.get(lang, 0) + (_num(v) or 0)
        mono_by = _get(mono, "tables", "monolingual", "by_lang", default={}) or {}
        tok_langs = _get(tok, "languages", default={}) or {}
        langs = set(_get(corpus, "config", "languages", default=[]) or []) | set(pl.get("pages", {}) or {}) \
            | set(mono_by) | set(shard_tokens) | set(tok_langs)
        langs = {str(x) for x in langs}
        if not langs:
            return []

        def vol(lang):
            return (shard_tokens.get(lang, 0), _num((pl.get("sentences") or {}).get(lang)) or 0)

        order = sorted(langs)
        more = ""
        if len(order) > self.top:
            order = sorted(sorted(langs, key=vol, reverse=True)[:self.top])
            more = f" The {len(langs) - self.top} languages with the fewest shard tokens are left out."
        labels = _get(kg, "tables", "entities", "labels_by_lang", default={}) or {}
        sitelinks = _get(kg, "tables", "sitelinks", "by_lang", default={}) or {}
        rows = []
        for lang in order:
            links = (pl.get("links") or {}).get(lang)
            res = (pl.get("links_resolved") or {}).get(lang)
            rows.append([lang, labels.get(lang, "-"), sitelinks.get(lang, "-"), (pl.get("pages") or {}).get(lang, "-"),
                         (pl.get("sentences") or {}).get(lang, "-"), links if links is not None else "-",
                         pct(res, links), mono_by.get(lang, "-"), pairs_by_lang.get(lang, "-"),
                         pct(_get(tok_langs, lang, "sampled_share"), 1.0), shard_tokens.get(lang, "-")])
        return ["Per language, across the stages (KG labels and sitelinks from the KG; pages, sentences and links "
                "from the corpus; resolved = links resolved to a Wikidata entity; parallel = pairs the language is "
                "in; tokenizer = its share of the tokenizer's training sample; shard tokens summed over tasks)."
                + more, "",
                md_table(["lang", "KG labels", "sitelinks", "pages", "sentences", "links", "resolved",
                          "monolingual", "parallel pairs", "tokenizer sample", "shard tokens"], rows), ""]

    def kg(self) -> list[str]:
        m, lines = self.load(KG, "the KG manifest", "kg")
        if m is None:
            return lines
        t = m.get("tables") or {}
        ent = t.get("entities") or {}
        rej = m.get("rejects") or {}
        skipped = m.get("skipped") or {}
        snaks = skipped.get("snaks") if isinstance(skipped.get("snaks"), dict) else {}
        rows = [
            ["entities", ent.get("rows", "-"), f"by kind: {counts(ent.get('by_kind'))}"],
            ["labels", sum(v for v in (ent.get("labels_by_lang") or {}).values() if _num(v)),
             f"in {len(ent.get('labels_by_lang') or {})} languages"],
            ["triples", _get(t, "triples", "rows", default="-"), f"by rank: {counts(_get(t, 'triples', 'by_rank'))}"],
            ["sitelinks", _get(t, "sitelinks", "rows", default="-"),
             f"to {len(_get(t, 'sitelinks', 'by_lang', default={}) or {})} wikis; skipped: "
             f"{counts(skipped.get('sitelinks'))}"],
            ["properties", _get(t, "properties", "rows", default="-"),
             f"by datatype: {counts(_get(t, 'properties', 'by_datatype'))}"],
            ["rejected records", _get(t, "rejects", "rows", default=rej.get("count", "-")),
             f"{pct(rej.get('count'), rej.get('records'))} of {fmt_int(rej.get('records'))} records "
             f"(limit {pct(rej.get('max_fraction'), 1.0)}); by reason: {counts(_get(t, 'rejects', 'by_reason'))}"],
            ["skipped statements", skipped.get("statements_deprecated", "-"), "deprecated rank"],
            ["skipped snaks", sum(v for v in snaks.values() if _num(v)), f"by cause: {counts(snaks)}"],
        ]
        lines = [f"From `{KG}`:", "", md_table(["", "count", "detail"], rows, right={1}), ""]
        labels = ent.get("labels_by_lang") or {}
        sitelinks = _get(t, "sitelinks", "by_lang", default={}) or {}
        if labels or sitelinks:
            langs = top_n({k: (_num(labels.get(k)) or 0) + (_num(sitelinks.get(k)) or 0)
                           for k in set(labels) | set(sitelinks)}, self.top)
            rows = []
            for lang, _ in langs:
                if lang.startswith("other ("):
                    rest = set(labels) | set(sitelinks)
                    shown = {k for k, _ in langs}
                    rest -= shown
                    rows.append([lang, sum(_num(labels.get(k)) or 0 for k in rest),
                                 sum(_num(sitelinks.get(k)) or 0 for k in rest)])
                else:
                    rows.append([lang, labels.get(lang, 0), sitelinks.get(lang, 0)])
            lines += [f"Labels and sitelinks per language (the {min(len(rows), self.top)} largest"
                      + (", the rest as other" if len(langs) > self.top else "") + "):", "",
                      md_table(["language / wiki", "labels", "sitelinks"], rows), ""]
        return lines

    def corpus(self) -> list[str]:
        m, lines = self.load(CORPUS, "the corpus manifest", "corpus")
        if m is None:
            return lines
        t = m.get("tables") or {}
        pl = m.get("per_lang") or {}
        links = sum(_num(v) or 0 for v in (pl.get("links") or {}).values())
        resolved = sum(_num(v) or 0 for v in (pl.get("links_resolved") or {}).values())
        rej = m.get("rejects") or {}
        unresolved: dict[str, float] = {}
        for reasons in (pl.get("unresolved_reasons") or {}).values():
            for k, v in (reasons or {}).items():
                unresolved[k] = unresolved.get(k, 0) + (_num(v) or 0)
        desc = {"pages": "articles kept (main namespace, not redirects)", "redirects": "redirect pages",
                "sentences": "sentences of the article text", "mentions": "links kept as entity mentions",
                "entity_docs": "entity description documents", "candidates": "entity candidates (top-N)",
                "mep_examples": "masked entity prediction examples", "oe_examples": "object entity examples",
                "rejects": "rejected pages"}
        rows = [[k, _get(v, "rows", default="-"), desc.get(k, "")] for k, v in t.items()]
        lines = [f"From `{CORPUS}`. The corpus job's own report, with its figures: "
                 f"[corpus/report/report.md](../{CORPUS_REPORT})"
                 + ("" if self.io.exists(CORPUS_REPORT) else " (**missing**)") + ".", "",
                 md_table(["table", "rows", "what"], rows, right={1}), "",
                 f"Mentions: {fmt_int(resolved)} of {fmt_int(links)} links resolved to a Wikidata entity "
                 f"(**{pct(resolved, links)}**); unresolved by reason: {counts(unresolved)}.", "",
                 f"Rejected pages: {fmt_int(rej.get('count', 0))} of {fmt_int(rej.get('pages_read'))} read "
                 f"({pct(rej.get('count', 0), rej.get('pages_read'))}, limit {pct(rej.get('max_fraction'), 1.0)}); "
                 f"by reason: {counts(rej.get('by_reason'))}"
                 + (f"; truncated inputs: {', '.join(map(str, rej['truncated_inputs']))}"
                    if rej.get("truncated_inputs") else "") + ". "
                 f"Pages skipped: {counts(_get(m, 'skipped', 'pages_other_namespaces'))}.", ""]
        return lines

    def parallel(self) -> list[str]:
        m, lines = self.load(PARALLEL, "the parallel-text manifest", "parallel")
        if m is None:
            return lines
        rows = []
        for name, s in (m.get("sources") or {}).items():
            for pair, p in (_get(s, "by_pair", default={}) or {name: s}).items():
                rows.append([name, pair, "evaluation" if s.get("evaluation") else "training", p.get("read", "-"),
                             p.get("rows", "-"), counts(p.get("dropped")), p.get("rejected", "-")])
        if not rows:
            rows = [["-", pair, "", "-", v, "", ""]
                    for pair, v in (_get(m, "tables", "parallel", "by_pair", default={}) or {}).items()]
        rej = m.get("rejects") or {}
        lines = [f"From `{PARALLEL}`: **{fmt_int(_get(m, 'tables', 'parallel', 'rows'))} sentence pairs** "
                 f"({'word-aligned' if _get(m, 'config', 'align') else 'not aligned'}).", "",
                 md_table(["source", "pair", "split", "read", "kept", "dropped", "rejected"], rows,
                          right={3, 4, 6}), "",
                 f"Rejected: {fmt_int(rej.get('pairs', 0))} pairs of {fmt_int(rej.get('pairs_read'))} read; by reason: "
                 f"{counts(rej.get('by_reason'))}. Evaluation sources kept apart: "
                 f"{', '.join(map(str, m.get('evaluation_sources') or [])) or 'none'}.", ""]
        return lines

    def monolingual(self) -> list[str]:
        m, lines = self.load(MONO, "the monolingual-text manifest", "mono")
        if m is None:
            return lines
        rows = [[name, s.get("kind", "-"), s.get("read", "-"), s.get("rows", "-"), counts(s.get("dropped")),
                 s.get("rejected", "-")] for name, s in (m.get("sources") or {}).items() if isinstance(s, dict)]
        by_lang = _get(m, "tables", "monolingual", "by_lang", default={}) or {}
        rej = m.get("rejects") or {}
        lines = [f"From `{MONO}`: **{fmt_int(_get(m, 'tables', 'monolingual', 'rows'))} texts** in {len(by_lang)} "
                 f"language(s) ({counts(dict(top_n(by_lang, self.top)))}).", ""]
        if rows:
            lines += [md_table(["source", "kind", "read", "kept", "dropped", "rejected"], rows, right={2, 3, 5}), ""]
        lines += [f"Dropped: {counts(_get(m, 'dropped', 'by_reason'))}. Rejected: {fmt_int(rej.get('lines', 0))} of "
                  f"{fmt_int(rej.get('read'))} read; by reason: {counts(rej.get('by_reason'))}.", ""]
        return lines

    def tokenizer(self) -> list[str]:
        m, lines = self.load(TOKENIZER, "the tokenizer manifest", "tokenizer")
        if m is None:
            return lines
        opts = m.get("sentencepiece_options") or {}
        sample = m.get("sample") or {}
        files = m.get("files") or {}
        sizes = []
        for name in files:
            p = self.io.path(os.path.join("tokenizer", name))
            sizes.append(f"`{name}` ({fmt_bytes(os.path.getsize(p))})" if os.path.exists(p) else f"`{name}` (missing)")
        ver = _get(m, "verification", "languages", default={}) or {}
        texts = sum(_num(v.get("texts")) or 0 for v in ver.values() if isinstance(v, dict))
        equal = sum(_num(v.get("equal")) or 0 for v in ver.values() if isinstance(v, dict))
        lines = [f"From `{TOKENIZER}`: a {m.get('kind', '?')} {opts.get('model_type', '?')} SentencePiece model, "
                 f"**vocabulary {fmt_int(m.get('vocab_size'))}** ({fmt_int(opts.get('vocab_size'))} pieces plus "
                 f"special tokens), character coverage {opts.get('character_coverage', '-')}, language sampling "
                 f"exponent α = {_get(m, 'config', 'alpha', default='-')}. Trained on a sample of "
                 f"{fmt_int(sample.get('rows'))} lines ({fmt_int(sample.get('chars'))} characters, "
                 f"{fmt_int(sample.get('distinct_lines'))} distinct) in {fmt_s(_num(_get(m, 'durations_s', 'total')))}."
                 f" The transformers tokenizer ({_get(m, 'verification', 'transformers_class', default='?')}) gives "
                 f"the same ids as SentencePiece on {fmt_int(equal)} of {fmt_int(texts)} check texts.", "",
                 f"Files: {', '.join(sizes) or 'none listed'}.", ""]
        langs = m.get("languages") or {}
        if langs:
            rows = []
            chosen = top_n({k: _num(_get(v, "corpus_chars")) or 0 for k, v in langs.items()}, self.top)
            named = {k for k, _ in chosen}
            for lang, _ in chosen:
                d = langs.get(lang) if lang in langs else {  # the "other" bucket: sums over the rest
                    f: sum(_num(_get(langs[k], f)) or 0 for k in langs if k not in named)
                    for f in ("corpus_rows", "corpus_chars", "p", "q", "sampled_rows", "sampled_share")}
                d = d if isinstance(d, dict) else {}
                rows.append([lang, d.get("corpus_rows", "-"), d.get("corpus_chars", "-"), pct(d.get("p"), 1.0),
                             pct(d.get("q"), 1.0), d.get("sampled_rows", "-"), pct(d.get("sampled_share"), 1.0)])
            lines += ["Language sampling (p = share of the corpus, q = target share after α smoothing):", "",
                      md_table(["lang", "corpus rows", "corpus chars", "p", "q", "sampled rows", "sampled share"],
                               rows), ""]
        return lines

    def shards(self) -> list[str]:
        m, lines = self.load(SHARDS, "the shard manifest", "shards")
        if m is None:
            return lines
        tasks = m.get("tasks") or {}
        rows = []
        for name, t in tasks.items():
            if not isinstance(t, dict):
                continue
            r, tok = _num(t.get("rows")), _num(t.get("tokens"))
            rows.append([name, t.get("rows", "-"), t.get("tokens", "-"), f"{tok / r:.1f}" if r and tok else "-",
                         len(t.get("tokens_by_lang") or {}), t.get("files", "-"), counts(t.get("dropped"))])
        total_rows = sum(_num(t.get("rows")) or 0 for t in tasks.values() if isinstance(t, dict))
        total_tok = sum(_num(t.get("tokens")) or 0 for t in tasks.values() if isinstance(t, dict))
        rows.append(["**total**", total_rows, total_tok, f"{total_tok / total_rows:.1f}" if total_rows else "-",
                     "", "", ""])
        lines = [f"From `{SHARDS}`: sequences of at most {fmt_int(m.get('max_len'))} tokens, at most "
                 f"{fmt_int(m.get('max_rows'))} rows per file; the MLM task reads `{m.get('mlm_source_table', '?')}`; "
                 f"excluded sources: {', '.join(map(str, m.get('excluded_sources') or [])) or 'none'}; built in "
                 f"{fmt_s(_num(m.get('duration_s')))}.", "",
                 md_table(["task", "rows", "tokens", "tokens / row", "languages", "files", "dropped"], rows,
                          right={1, 2, 3, 4, 5}), ""]
        langs: dict[str, float] = {}
        for t in tasks.values():
            for lang, v in (_get(t, "tokens_by_lang", default={}) or {}).items():
                langs[lang] = langs.get(lang, 0) + (_num(v) or 0)
        if langs:
            shown = sorted(k for k, _ in top_n(langs, self.top) if not k.startswith("other ("))
            has_other = len(shown) < len(langs)
            trows = []
            for name, t in tasks.items():
                by = _get(t, "tokens_by_lang", default={}) or {}
                row = [name] + [by.get(k, "-") for k in shown]
                if has_other:
                    row.append(sum(_num(v) or 0 for k, v in by.items() if k not in shown))
                trows.append(row)
            header = ["task"] + shown + ([f"other ({len(langs) - len(shown)})"] if has_other else [])
            lines += ["Tokens by language and task (a pair counts the tokens of both sides: `pairs` under its "
                      "source language, `distill` under its non-English language):"
                      if {"pairs", "distill"} & set(tasks) else "Tokens by language and task:", "",
                      md_table(header, trows), ""]
        lines += self.figure(plot_shard_tokens(tasks, self.top, self.out), "tokens per shard task and language",
                             "no task records tokens by language")
        return lines

    # -- training

    def _metrics(self) -> tuple[list[dict] | None, str | None]:
        if not hasattr(self, "_metrics_cache"):
            from trainer.plot import PlotError, read_metrics

            if not self.io.exists(METRICS):
                self._metrics_cache = (None, None)
            else:
                try:
                    self._metrics_cache = (read_metrics(self.io.path("train")), None)
                except PlotError as exc:
                    self._metrics_cache = (None, str(exc).replace(self.io.path(METRICS), f"`{METRICS}`"))
                except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
                    self._metrics_cache = (None, f"`{METRICS}` cannot be read: {exc}")
        return self._metrics_cache

    def training(self) -> list[str]:
        records, err = self._metrics()
        if err:
            return [error_line(err), ""] + self._model_lines()
        if records is None:
            return [missing_line("the training log", METRICS, self.hint["train"]), ""] + self._model_lines()
        steps = [int(r["step"]) for r in records if _num(r.get("step")) is not None]
        tokens = sum(_num(r.get("tokens")) or 0 for r in records)
        elapsed = _num(records[-1].get("elapsed_s"))
        by_task: dict[str, list[dict]] = {}
        for r in records:
            by_task.setdefault(str(r.get("task", "loss")), []).append(r)
        step_s = [_num(r.get("step_s")) for r in records if _num(r.get("step_s")) is not None]
        lines = [f"From `{METRICS}`: **{fmt_int(max(steps) if steps else len(records))} steps**, "
                 f"{fmt_int(tokens)} tokens, {fmt_s(elapsed)} of training"
                 + (f", **{tokens / elapsed:,.0f} tokens/s**" if elapsed else "")
                 + (f", median step {sorted(step_s)[len(step_s) // 2] * 1000:.0f} ms" if step_s else "")
                 + f"; {len(by_task)} objective(s), one per step, drawn in turn."
                 + self._config_text(), ""]
        rows = []
        for task, rs in sorted(by_task.items()):
            losses = [_num(r.get("loss")) for r in rs]
            losses = [v for v in losses if v is not None]
            k = max(1, min(50, len(losses) // 10))
            first = sum(losses[:k]) / len(losses[:k]) if losses else None
            final = sum(losses[-k:]) / len(losses[-k:]) if losses else None
            accs = sorted(key for r in rs[-1:] for key in r if key.startswith(f"{task}.") and key.endswith("_acc"))
            acc = ", ".join(f"{key.split('.', 1)[1]} {_mean_last(rs, key, k):.3f}" for key in accs)
            rows.append([task, len(rs), sum(_num(r.get("tokens")) or 0 for r in rs),
                         f"{first:.3f}" if first is not None else "-", f"{final:.3f}" if final is not None else "-",
                         pct(final - first, abs(first)) if first and final is not None else "-", acc or "-"])
        lines += ["Loss per objective (first and final: mean over the first and last k steps of the objective, "
                  "k = a tenth of its steps, 1 to 50; accuracy: mean over the last k steps):", "",
                  md_table(["objective", "steps", "tokens", "first loss", "final loss", "change", "final accuracy"],
                           rows, right={1, 2, 3, 4, 5}), ""]
        lines += self.figure(self._loss_png(), "loss curves", "the loss curves could not be drawn")
        return lines + self._model_lines()

    def _config_text(self) -> str:
        latest = self.io.path("train/checkpoints/latest")
        try:
            with open(latest, encoding="utf-8") as f:
                name = f.read().strip()
            with open(self.io.path(f"train/checkpoints/{name}/state.json"), encoding="utf-8") as f:
                cfg = json.load(f).get("config") or {}
        except (OSError, ValueError, AttributeError):
            return ""
        size = _get(cfg, "model", "size")
        return (f" Config (from the last checkpoint, `{name}`): {size} model, batch {cfg.get('batch_size', '?')}, "
                f"peak learning rate {_get(cfg, 'optim', 'lr', default='?')}, device {cfg.get('device', '?')}, "
                f"precision {cfg.get('precision', '?')}.")

    def _loss_png(self) -> str | None:
        from trainer.plot import PlotError, plot

        try:
            return os.path.basename(plot(self.io.path("train"), os.path.join(self.out, "loss_curves.png")))
        except PlotError:
            src = self.io.path("train/loss_curves.png")
            if os.path.exists(src):
                shutil.copyfile(src, os.path.join(self.out, "loss_curves.png"))
                return "loss_curves.png"
            return None

    def _model_lines(self) -> list[str]:
        export, err = self.io.json(EXPORT)
        if err:
            return ["### Exported model", "", error_line(err + f" with {self.hint['model']}."), ""]
        if export is None:
            return ["### Exported model", "", missing_line("the exported model", EXPORT, self.hint["model"]), ""]
        cfg, cerr = self.io.json(MODEL_CONFIG)
        params = _safetensors_params(self.io.path(MODEL_WEIGHTS))
        text = (f"`{os.path.dirname(EXPORT)}/` holds step {fmt_int(export.get('step'))} as a Hugging Face "
                f"{', '.join(_get(cfg, 'architectures', default=[]) or ['?'])}")
        if cfg:
            text += (f": {cfg.get('num_hidden_layers', '?')} layers, hidden size {cfg.get('hidden_size', '?')}, "
                     f"{cfg.get('num_attention_heads', '?')} heads, vocabulary {fmt_int(cfg.get('vocab_size'))}")
        if params:
            text += f", {params / 1e6:.2f} M parameters"
        text += (f"; languages {', '.join(map(str, export.get('langs') or []))} (as {export.get('language_ids', '?')})"
                 f"; pre-training heads left out: {', '.join(map(str, export.get('not_exported') or [])) or 'none'}.")
        return ["### Exported model", "", text, ""] + ([error_line(cerr), ""] if cerr else [])

    # -- evaluation

    def real_init(self) -> list[str]:
        """``make demo-real``'s table: the trimmed init and the model trained from it, side by side."""
        if not self.io.exists(REAL_COMPARE):
            return [f"_Not run:_ `{REAL_COMPARE}` does not exist. Run make demo-real (make demo runs it unless "
                    "DEMO_REAL=0).", ""]
        with open(self.io.path(REAL_COMPARE), encoding="utf-8") as f:
            table = f.read().strip()
        card, _ = self.io.json("real/init/vocab_map.json")
        kept = _get(card or {}, "counts", "kept")
        return ["multilingual-e5-small (`make init`), trimmed to this run's corpus plus the best-scoring pieces"
                + (f" ({fmt_int(kept)} ids kept)" if kept else "") + ", trained briefly with the Ernie-M recipe "
                "(`real/train`) and evaluated with quick sizes beside the init itself "
                f"([`{REAL_COMPARE}`](../{REAL_COMPARE}); scores in %). The init's MLM head is new, so its "
                "probing starts at zero.", "", table, ""]

    def evaluation(self) -> list[str]:
        lines: list[str] = []
        res, err = self.io.json(EVAL_JSON)
        if err:
            lines += [error_line(err + f" with {self.hint['eval']}."), ""]
        if not self.io.exists(EVAL_MD):
            lines += [f"_Not run:_ `{EVAL_MD}` does not exist. Run {self.hint['eval']}"
                      + (" (the export is missing too: " + self.hint["model"] + " first)"
                         if not self.io.exists(EXPORT) else "") + ".", ""]
        else:
            try:
                with open(self.io.path(EVAL_MD), encoding="utf-8") as f:
                    text = f.read()
            except (OSError, UnicodeDecodeError) as exc:
                lines += [error_line(f"`{EVAL_MD}` cannot be read: {exc}"), ""]
            else:
                lines += [f"From [`{EVAL_MD}`](../{EVAL_MD})"
                          + (f" (numbers in [`{EVAL_JSON}`](../{EVAL_JSON}))" if res else "") + ":", "",
                          embed_markdown(text, "../eval").strip() or "_(the file is empty)_", ""]
        gap = res.get("transfer_gap") if res else None
        if isinstance(gap, dict):
            lines += self.figure(plot_transfer_gap(gap, self.out), "transfer gap per task",
                                 "`transfer_gap` in results.json holds no number")
        return lines


def _mean_last(rs: list[dict], key: str, k: int) -> float:
    vals = [v for v in (_num(r.get(key)) for r in rs[-k:]) if v is not None]
    return sum(vals) / len(vals) if vals else float("nan")


def _parse_time(s) -> datetime | None:
    try:
        t = datetime.fromisoformat(str(s))
    except ValueError:
        return None
    return t if t.tzinfo else t.astimezone()


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


def _safetensors_params(path: str) -> int | None:
    """The parameter count from a safetensors header (no tensor is loaded)."""
    try:
        with open(path, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            if not 0 < n < 100 * 2**20:
                return None
            header = json.loads(f.read(n))
    except (OSError, ValueError):
        return None
    return sum(math.prod(v.get("shape", [])) for k, v in header.items() if k != "__metadata__" and isinstance(v, dict))


_HEADING = re.compile(r"^(#{1,6})(\s)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"(\]\()([^)\s]+)")


def embed_markdown(text: str, base: str, top_level: int = 3) -> str:
    """Embed a markdown document as a subsection: its headings move down so the shallowest becomes
    ``top_level``, and relative link targets are rewritten to stay valid from the report directory."""
    lines = text.splitlines()
    fence, levels = False, []
    for line in lines:
        if _FENCE.match(line):
            fence = not fence
        elif not fence and (h := _HEADING.match(line)):
            levels.append(len(h.group(1)))
    shift = max(0, top_level - min(levels)) if levels else 0

    def relink(m: re.Match) -> str:
        target = m.group(2)
        if re.match(r"^([a-z][a-z0-9+.-]*:|/|#)", target, re.I):
            return m.group(0)
        return m.group(1) + posixpath.normpath(posixpath.join(base, target))

    out, fence = [], False
    for line in lines:
        if _FENCE.match(line):
            fence = not fence
            out.append(line)
            continue
        if not fence:
            if shift and (h := _HEADING.match(line)):
                line = "#" * min(6, len(h.group(1)) + shift) + line[len(h.group(1)):]
            line = _LINK.sub(relink, line)
        out.append(line)
    return "\n".join(out)


def write_report(run: str, title: str | None = None, top: int = DEFAULT_TOP_LANGS) -> str:
    """Build RUN/report (via RUN/report.tmp) and return the path of report.md."""
    run = os.path.abspath(run)
    final = os.path.join(run, REPORT_DIR)
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        rep = Report(run, tmp, title, top)
        text = rep.build()
        with open(os.path.join(tmp, "report.md"), "w", encoding="utf-8") as f:
            f.write(text)
        old = final + ".old"
        shutil.rmtree(old, ignore_errors=True)
        if os.path.exists(final):
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return os.path.join(final, "report.md")


def main(argv: list[str] | None = None) -> int:
    check_environment()
    p = argparse.ArgumentParser(prog="python -m jobs.report", description=__doc__.split("\n\n")[0])
    p.add_argument("run", metavar="RUN", help="the run directory (what make demo writes into DEMO_OUT)")
    p.add_argument("--title", default=None, help="the report's title (default: 'xlkit run report: <RUN name>')")
    p.add_argument("--top-langs", type=int, default=DEFAULT_TOP_LANGS, metavar="N",
                   help=f"languages shown by name in tables and figures; the rest are summed (default "
                        f"{DEFAULT_TOP_LANGS})")
    args = p.parse_args(argv)
    if not os.path.isdir(args.run):
        print(f"report: error: {args.run} is not a directory: pass the run directory (e.g. runs/demo)",
              file=sys.stderr)
        return 2
    if args.top_langs < 1:
        p.error("--top-langs must be at least 1")
    path = write_report(args.run, args.title, args.top_langs)
    print(f"report: wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
