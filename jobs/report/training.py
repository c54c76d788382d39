"""The report's "Training" section: steps, tokens and throughput from RUN/train/metrics.jsonl, the
first and final loss and accuracy per objective, ``loss_curves.png`` (drawn by :mod:`trainer.plot`)
and the exported model in RUN/model ("### Exported model")."""

from __future__ import annotations

import json
import math
import os
import shutil

from jobs.report.common import dig, error_line, fmt_int, fmt_s, md_table, mean_last, missing_line, num, pct
from jobs.report.context import EXPORT, METRICS, MODEL_CONFIG, MODEL_WEIGHTS, ReportContext


def render(ctx: ReportContext) -> list[str]:
    records, err = ctx.metrics()
    if err:
        return [error_line(err), ""] + _model_lines(ctx)
    if records is None:
        return [missing_line("the training log", METRICS, ctx.hint["train"]), ""] + _model_lines(ctx)
    steps = [int(r["step"]) for r in records if num(r.get("step")) is not None]
    tokens = sum(num(r.get("tokens")) or 0 for r in records)
    elapsed = num(records[-1].get("elapsed_s"))
    by_task: dict[str, list[dict]] = {}
    for r in records:
        by_task.setdefault(str(r.get("task", "loss")), []).append(r)
    step_s = [num(r.get("step_s")) for r in records if num(r.get("step_s")) is not None]
    lines = [f"From `{METRICS}`: **{fmt_int(max(steps) if steps else len(records))} steps**, "
             f"{fmt_int(tokens)} tokens, {fmt_s(elapsed)} of training"
             + (f", **{tokens / elapsed:,.0f} tokens/s**" if elapsed else "")
             + (f", median step {sorted(step_s)[len(step_s) // 2] * 1000:.0f} ms" if step_s else "")
             + f"; {len(by_task)} objective(s), one per step, drawn in turn."
             + _config_text(ctx), ""]
    rows = []
    for task, rs in sorted(by_task.items()):
        losses = [num(r.get("loss")) for r in rs]
        losses = [v for v in losses if v is not None]
        k = max(1, min(50, len(losses) // 10))
        first = sum(losses[:k]) / len(losses[:k]) if losses else None
        final = sum(losses[-k:]) / len(losses[-k:]) if losses else None
        accs = sorted(key for r in rs[-1:] for key in r if key.startswith(f"{task}.") and key.endswith("_acc"))
        acc = ", ".join(f"{key.split('.', 1)[1]} {mean_last(rs, key, k):.3f}" for key in accs)
        rows.append([task, len(rs), sum(num(r.get("tokens")) or 0 for r in rs),
                     f"{first:.3f}" if first is not None else "-", f"{final:.3f}" if final is not None else "-",
                     pct(final - first, abs(first)) if first and final is not None else "-", acc or "-"])
    lines += ["Loss per objective (first and final: mean over the first and last k steps of the objective, "
              "k = a tenth of its steps, 1 to 50; accuracy: mean over the last k steps):", "",
              md_table(["objective", "steps", "tokens", "first loss", "final loss", "change", "final accuracy"],
                       rows, right={1, 2, 3, 4, 5}), ""]
    lines += ctx.figure(_loss_png(ctx), "loss curves", "the loss curves could not be drawn")
    return lines + _model_lines(ctx)


def _config_text(ctx: ReportContext) -> str:
    latest = ctx.io.path("train/checkpoints/latest")
    try:
        with open(latest, encoding="utf-8") as f:
            name = f.read().strip()
        with open(ctx.io.path(f"train/checkpoints/{name}/state.json"), encoding="utf-8") as f:
            cfg = json.load(f).get("config") or {}
    except (OSError, ValueError, AttributeError):
        return ""
    size = dig(cfg, "model", "size")
    return (f" Config (from the last checkpoint, `{name}`): {size} model, batch {cfg.get('batch_size', '?')}, "
            f"peak learning rate {dig(cfg, 'optim', 'lr', default='?')}, device {cfg.get('device', '?')}, "
            f"precision {cfg.get('precision', '?')}.")


def _loss_png(ctx: ReportContext) -> str | None:
    from trainer.plot import PlotError, plot

    try:
        return os.path.basename(plot(ctx.io.path("train"), os.path.join(ctx.out, "loss_curves.png")))
    except PlotError:
        src = ctx.io.path("train/loss_curves.png")
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(ctx.out, "loss_curves.png"))
            return "loss_curves.png"
        return None


def _model_lines(ctx: ReportContext) -> list[str]:
    export, err = ctx.io.json(EXPORT)
    if err:
        return ["### Exported model", "", error_line(err + f" with {ctx.hint['model']}."), ""]
    if export is None:
        return ["### Exported model", "", missing_line("the exported model", EXPORT, ctx.hint["model"]), ""]
    cfg, cerr = ctx.io.json(MODEL_CONFIG)
    params = _safetensors_params(ctx.io.path(MODEL_WEIGHTS))
    text = (f"`{os.path.dirname(EXPORT)}/` holds step {fmt_int(export.get('step'))} as a Hugging Face "
            f"{', '.join(dig(cfg, 'architectures', default=[]) or ['?'])}")
    if cfg:
        text += (f": {cfg.get('num_hidden_layers', '?')} layers, hidden size {cfg.get('hidden_size', '?')}, "
                 f"{cfg.get('num_attention_heads', '?')} heads, vocabulary {fmt_int(cfg.get('vocab_size'))}")
    if params:
        text += f", {params / 1e6:.2f} M parameters"
    text += (f"; languages {', '.join(map(str, export.get('langs') or []))} (as {export.get('language_ids', '?')})"
             f"; pre-training heads left out: {', '.join(map(str, export.get('not_exported') or [])) or 'none'}.")
    return ["### Exported model", "", text, ""] + ([error_line(cerr), ""] if cerr else [])


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
