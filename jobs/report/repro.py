"""The report's reproduction section: ``make repro``'s table from the real init (``table.md``) and its
figure (``repro.png``: every seed's value and each arm's mean per metric), from the repro directory given
with ``--repro DIR`` or found at RUN/repro. Without one the section is left out."""

from __future__ import annotations

import os
import shutil

from jobs.report.common import error_line
from jobs.report.context import ReportContext

HEADING = "## The reproduction from the real init (`make repro`)"
FIGURE = "repro.png"


def render(ctx: ReportContext) -> list[str]:
    src = ctx.repro or (os.path.join(ctx.run, "repro") if os.path.isdir(os.path.join(ctx.run, "repro")) else None)
    if not src:
        return []
    lines = [HEADING, ""]
    table = os.path.join(src, "table.md")
    if not os.path.exists(table):
        return lines + [f"_Not run yet:_ `{table}` does not exist. Run `make repro` (its cache is that directory)"
                        ", or pass the directory that holds its table.md.", ""]
    try:
        with open(table, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        return lines + [error_line(f"`{table}` cannot be read: {exc}"), ""]
    body = text.split("\n", 1)[1].lstrip() if text.startswith("# ") else text
    lines += [f"From `{table}`:", "", body.rstrip(), ""]
    png = os.path.join(src, FIGURE)
    if os.path.exists(png):
        shutil.copy(png, os.path.join(ctx.out, FIGURE))
        lines += ctx.figure(FIGURE, "each arm's mean with every seed's value", "")
    else:
        lines += ctx.figure(None, "", f"`{png}` does not exist")
    return lines
