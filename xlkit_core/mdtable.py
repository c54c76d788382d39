"""Markdown tables, one writer for the report, the corpus report and the benchmarks.

    md_table(["lang", "pages"], [["de", 1200], ["fr", 950]])
    | lang | pages |
    |---|---|
    | de | 1,200 |
    | fr | 950 |

A cell is formatted by ``fmt`` (default :func:`cell`); ``right`` names the columns that are
right-aligned (``---:``); ``escape`` protects ``|`` and line breaks inside cells.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


def bench_float(v: float) -> str:
    """Three decimals below 1, two below 100, none above (the benchmarks' convention)."""
    return f"{v:.3f}" if abs(v) < 1 else f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"


def short_float(v: float) -> str:
    """Three decimals below 10, one above."""
    return f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}"


def cell(v, floats: Callable[[float], str] = bench_float) -> str:
    """``None`` -> "-", ints with thousands separators, floats by ``floats``, lists joined by " / "."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return floats(v)
    if isinstance(v, list):
        return " / ".join(cell(x, floats) for x in v)
    return str(v)


def md_table(header: list[str], rows: Iterable[Iterable], *, right: set[int] = frozenset(),
             fmt: Callable[[object], str] = cell, escape: bool = False) -> str:
    """The table as one string without a final newline."""
    def show(v) -> str:
        s = fmt(v)
        return s.replace("|", "\\|").replace("\n", " ") if escape else s

    lines = ["| " + " | ".join(show(h) if escape else str(h) for h in header) + " |",
             "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(show(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def md_lines(header: list[str], rows: Iterable[Iterable], floats: Callable[[float], str] = bench_float) -> list[str]:
    """The table as a list of lines, cells by :func:`cell` with ``floats`` (the benchmarks' form)."""
    return md_table(header, rows, fmt=lambda v: cell(v, floats)).split("\n")
