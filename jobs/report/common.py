"""What every section of the report shares: number formats, the report's markdown tables (a thin
wrapper over :func:`xlkit_core.mdtable.md_table`), lenient lookups in the run's JSON, the error and
"not available" lines, :func:`embed_markdown` and the figure helpers (each section draws its own
figures; :mod:`jobs.report.context` holds the run's files and the section plumbing)."""

from __future__ import annotations

import math
import os
import posixpath
import re
from datetime import datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (the sections take plt from here, after the backend is set)

from xlkit_core.mdtable import md_table as shared_md_table  # noqa: E402

DPI = 110

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


def _report_cell(v) -> str:
    return fmt_int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


def md_table(header: list[str], rows: list[list], right: set[int] | None = None) -> str:
    """The report's tables (:func:`xlkit_core.mdtable.md_table`): numbers by :func:`fmt_int`, cells
    escaped, and the columns in ``right`` (default: every column but the first) right-aligned."""
    right = set(range(1, len(header))) if right is None else right
    return shared_md_table(header, rows, right=right, fmt=_report_cell, escape=True)


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


# ---- lenient reading of the run's JSON -----------------------------------------------------------------


def num(v) -> float | None:
    """``v`` as a finite float, or None (bools, strings and NaN are not numbers here)."""
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def dig(d, *keys, default=None):
    """``d[k1][k2]...``, or ``default`` as soon as a level is not a dict or lacks the key."""
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return d


def mean_last(rs: list[dict], key: str, k: int) -> float:
    vals = [v for v in (num(r.get(key)) for r in rs[-k:]) if v is not None]
    return sum(vals) / len(vals) if vals else float("nan")


def parse_time(s) -> datetime | None:
    try:
        t = datetime.fromisoformat(str(s))
    except ValueError:
        return None
    return t if t.tzinfo else t.astimezone()


def error_line(msg: str) -> str:
    return f"**Error:** {msg}"


def missing_line(what: str, rel: str, hint: str) -> str:
    return f"_Not available:_ {what} (`{rel}`) does not exist. Produce it with {hint}."


# ---- embedding another markdown file -------------------------------------------------------------------

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


# ---- figure helpers ------------------------------------------------------------------------------------


def save_figure(fig, path: str) -> str:
    """Write ``fig`` as a PNG, close it, and return the file's name (what the markdown links to)."""
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return os.path.basename(path)


def bar_labels(ax, bars, texts: list[str]) -> None:
    """Write each value just right of its horizontal bar."""
    for bar, text in zip(bars, texts, strict=True):
        neg = bar.get_width() < 0
        ax.annotate(text, (bar.get_x() + bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    xytext=(-3 if neg else 3, 0), textcoords="offset points", va="center",
                    ha="right" if neg else "left", fontsize=8)
