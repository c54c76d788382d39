"""Loss curves of a training run, drawn from its metrics.jsonl (DESIGN.md, "Checkpoints and runs").

    python -m trainer.plot RUN_DIR [--out PNG]         # default PNG: RUN_DIR/loss_curves.png

Top panel: the loss of every objective against the step, the raw values as faint points and a
centred moving average as a line (a step trains one objective, so each objective's average runs
over its own steps only); the y axis is logarithmic when the losses span more than a factor
of 20. Bottom panel: throughput (tokens/s) and the learning rate on a second axis.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from xlkit_core.environment import check_environment
from xlkit_core.errors import XlkitError

METRICS = "metrics.jsonl"
DEFAULT_PNG = "loss_curves.png"


class PlotError(XlkitError):
    """A run that cannot be plotted; the message says what to do."""


def read_metrics(run_dir: str) -> list[dict]:
    path = os.path.join(run_dir, METRICS)
    if not os.path.isfile(path):
        raise PlotError(f"{path} does not exist: pass a run directory that trainer.train wrote (out=...)")
    records = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                raise PlotError(f"{path}:{n} is not JSON: the file is damaged; rerun or resume the training") from None
            if "step" in r and "loss" in r:
                records.append(r)
    if not records:
        raise PlotError(f"{path} holds no step records: train at least one step first")
    return records


def smooth(values: list[float], window: int | None = None) -> np.ndarray:
    """A centred moving average (no lag) over ``window`` points, about n/20 by default (1 to 51);
    near the ends it averages the points that exist."""
    v = np.asarray(values, dtype=np.float64)
    w = window or min(51, max(1, len(v) // 20) | 1)
    kernel = np.ones(w)
    return np.convolve(v, kernel, mode="same") / np.convolve(np.ones_like(v), kernel, mode="same")


def plot(run_dir: str, out_png: str | None = None) -> str:
    """Draw the loss curves of ``run_dir`` into ``out_png`` (default RUN_DIR/loss_curves.png); returns its path."""
    records = read_metrics(run_dir)
    by_task: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for r in records:
        by_task[r.get("task", "loss")].append((int(r["step"]), float(r["loss"])))
    out_png = out_png or os.path.join(run_dir, DEFAULT_PNG)
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(12, 7.5), sharex=True, gridspec_kw={"height_ratios": [3, 1.2]})
    positive = [v for pts in by_task.values() for _, v in pts if v > 0]
    log_y = bool(positive) and max(positive) / min(positive) > 20
    for i, (task, pts) in enumerate(sorted(by_task.items())):
        color = f"C{i % 10}"
        steps, losses = zip(*pts, strict=True)
        ax.scatter(steps, losses, s=10, color=color, alpha=0.35, linewidths=0)
        line = smooth(list(losses))
        ax.plot(steps, line, color=color, lw=1.8, marker="o" if len(pts) < 30 else None, ms=3, label=f"{task}\n{len(pts)} steps, last {line[-1]:.3g}")
    if log_y:
        ax.set_yscale("log")
    ax.set_ylabel("loss" + (" (log scale)" if log_y else ""))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, title="objective\n(points: raw,\nline: moving\naverage)",
              title_fontsize=9, labelspacing=0.9)
    name = os.path.basename(os.path.normpath(os.path.abspath(run_dir)))
    ax.set_title(f"{name}: loss per objective, {len(records)} steps")
    _throughput(ax2, records)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out_png)), exist_ok=True)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png


def _throughput(ax, records: list[dict]) -> None:
    steps = [int(r["step"]) for r in records]
    if any("tok_s" in r for r in records):
        ax.plot(steps, [r.get("tok_s", float("nan")) for r in records], color="C0", lw=1.2)
        ax.set_ylabel("tokens/s\n(run average)", color="C0")
    ax.set_xlabel("step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    if any("lr" in r for r in records):
        lr_ax = ax.twinx()
        lr_ax.plot(steps, [r.get("lr", float("nan")) for r in records], color="C3", lw=1.2, ls="--")
        lr_ax.set_ylabel("learning rate", color="C3")
        lr_ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))


def main(argv: list[str] | None = None) -> int:
    check_environment()
    p = argparse.ArgumentParser(prog="python -m trainer.plot", description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (holds metrics.jsonl)")
    p.add_argument("--out", metavar="PNG", default=None, help=f"the image to write (default RUN_DIR/{DEFAULT_PNG})")
    args = p.parse_args(argv)
    try:
        out = plot(args.run_dir, args.out)
    except PlotError as exc:
        print(f"plot: error: {exc}", file=sys.stderr)
        return 2
    print(f"plot: wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
