"""The assembly: the report's sections in order (:data:`SECTIONS`), :func:`build` (the markdown),
:func:`write_report` (RUN/report, built in RUN/report.tmp and renamed into place when complete) and
the command line, :func:`main` (``python -m jobs.report``)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from jobs.report import cost, data, evaluation, overview, repro, training
from jobs.report.context import METRICS, REAL_COMPARE, STAGES_LOG, ReportContext, Section, render_sections
from xlkit_core.environment import check_environment

REPORT_DIR = "report"
DEFAULT_TOP_LANGS = 12
DESCRIPTION = "The end-to-end report of a run directory (what ``make demo`` builds): cost, data, training, evaluation."

SECTIONS = [
    Section(None, "the header", overview.render),
    Section("## Cost per stage", f"`{STAGES_LOG}`", cost.render),
    Section("## Data statistics per stage", "the data statistics", data.render),
    Section("## Training", f"`{METRICS}`", training.render),
    Section("## Evaluation", "the evaluation", evaluation.render),
    Section("## From the real init (multilingual-e5-small)", f"`{REAL_COMPARE}`", evaluation.render_real_init),
    Section(None, "the reproduction", repro.render),
]


def build(ctx: ReportContext, sections: list[Section] = SECTIONS) -> str:
    """The report's markdown: the title, then every section in order."""
    return "\n".join([f"# {ctx.title}", ""] + render_sections(ctx, sections)).rstrip() + "\n"


def write_report(run: str, title: str | None = None, top: int = DEFAULT_TOP_LANGS, repro: str | None = None) -> str:
    """Build RUN/report (via RUN/report.tmp) and return the path of report.md."""
    run = os.path.abspath(run)
    final = os.path.join(run, REPORT_DIR)
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        text = build(ReportContext(run, tmp, title, top, repro))
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
    p = argparse.ArgumentParser(prog="python -m jobs.report", description=DESCRIPTION)
    p.add_argument("run", metavar="RUN", help="the run directory (what make demo writes into DEMO_OUT)")
    p.add_argument("--title", default=None, help="the report's title (default: 'xlkit run report: <RUN name>')")
    p.add_argument("--top-langs", type=int, default=DEFAULT_TOP_LANGS, metavar="N",
                   help=f"languages shown by name in tables and figures; the rest are summed (default "
                        f"{DEFAULT_TOP_LANGS})")
    p.add_argument("--repro", default=None, metavar="DIR",
                   help="make repro's directory (its table.md and repro.png); default RUN/repro when it exists")
    args = p.parse_args(argv)
    if not os.path.isdir(args.run):
        print(f"report: error: {args.run} is not a directory: pass the run directory (e.g. runs/demo)",
              file=sys.stderr)
        return 2
    if args.top_langs < 1:
        p.error("--top-langs must be at least 1")
    path = write_report(args.run, args.title, args.top_langs, args.repro)
    print(f"report: wrote {path}", file=sys.stderr)
    return 0
