"""The report's evaluation sections: "Evaluation" (RUN/eval/results.md embedded below the section,
``transfer_gap.png`` from results.json) and "From the real init" (:func:`render_real_init`:
``make demo-real``'s comparison table, RUN/real/compare.md)."""

from __future__ import annotations

import os

from jobs.report.common import bar_labels, dig, embed_markdown, error_line, fmt_int, num, plt, save_figure
from jobs.report.context import EVAL_JSON, EVAL_MD, EXPORT, REAL_COMPARE, ReportContext


def render(ctx: ReportContext) -> list[str]:
    lines: list[str] = []
    res, err = ctx.io.json(EVAL_JSON)
    if err:
        lines += [error_line(err + f" with {ctx.hint['eval']}."), ""]
    if not ctx.io.exists(EVAL_MD):
        lines += [f"_Not run:_ `{EVAL_MD}` does not exist. Run {ctx.hint['eval']}"
                  + (" (the export is missing too: " + ctx.hint["model"] + " first)"
                     if not ctx.io.exists(EXPORT) else "") + ".", ""]
    else:
        try:
            with open(ctx.io.path(EVAL_MD), encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as exc:
            lines += [error_line(f"`{EVAL_MD}` cannot be read: {exc}"), ""]
        else:
            lines += [f"From [`{EVAL_MD}`](../{EVAL_MD})"
                      + (f" (numbers in [`{EVAL_JSON}`](../{EVAL_JSON}))" if res else "") + ":", "",
                      embed_markdown(text, "../eval").strip() or "_(the file is empty)_", ""]
    gap = res.get("transfer_gap") if res else None
    if isinstance(gap, dict):
        lines += ctx.figure(plot_transfer_gap(gap, ctx.out), "transfer gap per task",
                            "`transfer_gap` in results.json holds no number")
    return lines


def render_real_init(ctx: ReportContext) -> list[str]:
    """``make demo-real``'s table: the trimmed init and the model trained from it, side by side."""
    if not ctx.io.exists(REAL_COMPARE):
        return [f"_Not run:_ `{REAL_COMPARE}` does not exist. Run make demo-real (make demo runs it unless "
                "DEMO_REAL=0).", ""]
    with open(ctx.io.path(REAL_COMPARE), encoding="utf-8") as f:
        table = f.read().strip()
    card, _ = ctx.io.json("real/init/vocab_map.json")
    kept = dig(card or {}, "counts", "kept")
    return ["multilingual-e5-small (`make init`), trimmed to this run's corpus plus the best-scoring pieces"
            + (f" ({fmt_int(kept)} ids kept)" if kept else "") + ", trained briefly with the Ernie-M recipe "
            "(`real/train`) and evaluated with quick sizes beside the init itself "
            f"([`{REAL_COMPARE}`](../{REAL_COMPARE}); scores in %). The init's MLM head is new, so its "
            "probing starts at zero.", "", table, ""]


def plot_transfer_gap(gap: dict, out: str) -> str | None:
    # results.json holds fractions (F1, accuracy); the figure shows points, as the tables do
    items = [(str(k), 100 * num(v)) for k, v in gap.items() if num(v) is not None]
    if not items:
        return None
    names, vals = zip(*items, strict=True)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(items) + 1.8))
    bars = ax.barh(names, vals, color=["C2" if v <= 0 else "C0" for v in vals], height=0.6)
    bar_labels(ax, bars, [f"{v:+.1f}" for v in vals])
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
    return save_figure(fig, os.path.join(out, "transfer_gap.png"))
