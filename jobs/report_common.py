"""What the report's sections share: the run's file names, number formats, markdown tables, the
lenient reader of the run's files and the figures (``jobs.report`` assembles the sections)."""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import platform
import posixpath
import re
import shutil
import subprocess
from datetime import datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

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
