"""The report's "Cost per stage" section: wall time, peak memory, CPU time and processes of every
stage from RUN/stages.jsonl (``python -m jobs.stage``), ``cost_per_stage.png``, and beside them the
durations the jobs timed themselves (:func:`job_durations`, which the opening section uses too)."""

from __future__ import annotations

import os

from matplotlib.ticker import FuncFormatter

from jobs.report.common import (
    bar_labels,
    dig,
    error_line,
    fmt_mib,
    fmt_s,
    md_table,
    missing_line,
    num,
    plt,
    save_figure,
)
from jobs.report.context import CORPUS, KG, MONO, PARALLEL, SHARDS, STAGES_LOG, TOKENIZER, ReportContext


def render(ctx: ReportContext) -> list[str]:
    lines = [error_line(e) for e in ctx.stage_errors]
    lines += [""] if lines else []
    stages = ctx.stages
    if stages is None:
        lines += [missing_line("the stage cost log", STAGES_LOG, ctx.hint["stages"]), ""]
    elif not stages:
        lines += [f"_Not available:_ `{STAGES_LOG}` holds no stage record. Produce it with "
                  f"{ctx.hint['stages']}.", ""]
    else:
        labels = _labels(stages)
        if len({str(s.get("name")) for s in stages}) < len(stages):
            lines += ["Note: stage names repeat, so the log holds more than one run (numbered in order); pass "
                      "`--reset` to the first stage to start a fresh log.", ""]
        rows = []
        for i, (s, label) in enumerate(zip(stages, labels, strict=True), 1):
            wall, cpu = num(s.get("wall_s")), num(s.get("cpu_s"))
            rc = s.get("rc")
            rc_text = "-" if rc is None else str(rc) if rc == 0 else \
                f"**{rc}**" + (f" ({s['signal']})" if s.get("signal") else "")
            if s.get("interrupted"):
                rc_text += f", interrupted by {s['interrupted']}"
            rows.append([i, f"`{label}`", fmt_s(wall), fmt_mib(num(s.get("peak_rss_mb"))), fmt_s(cpu),
                         f"{cpu / wall:.2f}" if cpu is not None and wall else "-", s.get("max_procs", "-"),
                         rc_text])
        walls = [num(s.get("wall_s")) or 0 for s in stages]
        cpus = [num(s.get("cpu_s")) or 0 for s in stages]
        peaks = [num(s.get("peak_rss_mb")) or 0 for s in stages]
        rows.append(["", "**total**", f"**{fmt_s(sum(walls))}**", f"max {fmt_mib(max(peaks))}",
                     f"**{fmt_s(sum(cpus))}**", f"{sum(cpus) / sum(walls):.2f}" if sum(walls) else "-", "", ""])
        lines += [md_table(["#", "stage", "wall time", "peak memory", "CPU time", "CPU / wall", "processes",
                            "exit code"], rows, right={0, 2, 3, 4, 5, 6}), ""]
        lines += ["Wall time runs until the stage's whole process tree has exited. Peak memory is the peak of the "
                  "summed resident memory (RSS) of the tree (the Spark JVM included), sampled every 0.15 s; "
                  "memory shared between processes counts once per process. CPU time is user + system time "
                  "of the tree; CPU / wall is the mean number of busy cores; processes is the most seen at "
                  "once.", ""]
        lines += ctx.figure(plot_cost(stages, labels, ctx.out), "wall time and peak memory per stage",
                            "no stage has a wall time or a peak memory")
    jobs = job_durations(ctx)
    if jobs:
        measured = {}
        for s in stages or []:
            if num(s.get("wall_s")) is not None:
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


def _labels(stages: list[dict]) -> list[str]:
    """Stage names, numbered from the second time a name repeats."""
    seen: dict[str, int] = {}
    out = []
    for s in stages:
        name = str(s.get("name", "?"))
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def job_durations(ctx: ReportContext) -> list[tuple[str, float]]:
    """(job, seconds) as each job timed itself: the data jobs' manifests, then the trainer's last step."""
    out = []
    for name, rel, keys in (("kg", KG, ("durations_s", "total")), ("corpus", CORPUS, ("durations_s", "total")),
                            ("parallel", PARALLEL, ("durations_s", "total")),
                            ("monolingual", MONO, ("durations_s", "total")),
                            ("tokenizer", TOKENIZER, ("durations_s", "total")),
                            ("shards", SHARDS, ("duration_s",))):
        data, _ = ctx.io.json(rel)
        v = num(dig(data, *keys))
        if v is not None:
            out.append((name, v))
    train = ctx.metrics()[0]
    if train:
        v = num(train[-1].get("elapsed_s"))
        if v is not None:
            out.append(("train", v))
    return out


def plot_cost(stages: list[dict], labels: list[str], out: str) -> str | None:
    """Two horizontal bar charts side by side: wall time and peak memory per stage (run order, top down)."""
    walls = [num(s.get("wall_s")) for s in stages]
    peaks = [num(s.get("peak_rss_mb")) for s in stages]
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
        bar_labels(ax, bars, texts)
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
    return save_figure(fig, os.path.join(out, "cost_per_stage.png"))
