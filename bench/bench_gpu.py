"""GPU training throughput and MFU of our encoder (issue 5): small and base at sequence length 512.

    .venv/bin/python bench/bench_gpu.py [--sizes small,base] [--seq-len 512] [--batch-size 32] [--steps 30]
                                        [--warmup 5] [--vocab 250002] [--compile] [--shards DIR] [--out bench/results]
    .venv/bin/python bench/bench_gpu.py --cpu-dry-run        # no GPU: checks the code path and the FLOP formula

Needs CUDA: without it the benchmark exits 2 with a message (unless ``--cpu-dry-run``).

What runs (per size, each in this process one after the other):

* synthetic (default): our encoder (trainer.model.build_model: ``XLMRobertaForMaskedLM`` with SDPA
  attention, random weights, no download), random token batches of ``--batch-size`` x
  ``--seq-len`` (ids uniform over the ordinary pieces, no padding), 15% of the positions masked
  as targets. One step = bf16 autocast forward (trainer.model.Encoder.encode, then our
  ``mlm_loss``: the vocabulary projection at the masked positions only), backward, gradient
  clipping at 1.0, fused AdamW (lr 1e-4, betas 0.9/0.98), zero_grad. ``--compile`` compiles the
  encoder stack as ``model.compile=true`` does. Batches are generated on the GPU before timing and
  cycled.
* ``--shards DIR``: our whole ``Trainer.train_step`` on MMLM (``trainer.train.build`` with the tiny
  preset's settings, ``model.size``, ``batch_size``, device=cuda, precision=bf16, which uses
  fused AdamW), so data loading, per-example masking and collation are included; the sequence
  length is whatever the shards hold (``make shards MAX_LEN=512`` for 512) and the FLOPs count the
  real tokens of every batch (below, with T = real tokens, M = targets, and sum_i len_i^2 instead
  of B * S^2); the "seq" column then shows the widest padded batch.

Timing: ``--warmup`` steps (compilation included) are dropped; then ``--steps`` steps run back to back
between two ``torch.cuda.synchronize()``: tokens/s = tokens / that wall time. Per-step times
(CUDA events) give the median and spread.

Model FLOPs per step (forward + backward; the usual 2 FLOPs per multiply-add, backward = 2 x forward):

    F = 6 * N_enc * T  +  6 * N_head * M  +  12 * L * H * S^2 * B

* T = B * S tokens (every position is a real token in the synthetic batches); M = masked target
  positions (about 0.15 T); L layers, H hidden size, S sequence length, B sequences.
* N_enc = the parameters of the L transformer layers (attention Q, K, V, output, the two
  feed-forward matrices, their biases and LayerNorms); embeddings are lookups and are excluded.
* N_head = the LM head's dense (H x H + H) and decoder (H x V + V) parameters: our objective
  projects only the M masked positions onto the vocabulary, so the head counts M tokens, not T.
* 12 * L * H * S^2 per sequence: Q K^T and attention x V are 2 * S^2 * H FLOPs each per layer
  forward (4 S^2 H), times 3 for forward + backward.

MFU = achieved model FLOP/s / the device's MEASURED dense bf16 peak: the best of ``--peak-repeats``
timed 8192 x 8192 x 8192 bf16 matmuls (2 * 8192^3 FLOPs each) after a warm-up. The vendor's
nominal peak, where this script knows the GPU, is reported beside it for reference only.

``--cpu-dry-run`` runs the same code on the CPU with a tiny config (the tiny size, seq 64, batch 2,
vocab 1000, 2 steps, a 512^3 "peak" matmul) and cross-checks the formula above against
``torch.utils.flop_counter.FlopCounterMode`` on one forward + backward (they must agree within 5%;
the counter ignores biases and LayerNorms, the formula counts them as parameters). Nothing it times
means anything.

Writes OUT/gpu.json and OUT/gpu.md (OUT/gpu-dry-run.* for the dry run).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from xlkit_core.mdtable import md_lines  # noqa: E402

PEAK_N = 8192
DRY_PEAK_N = 512
XLMR_VOCAB = 250002
MASK_PROB = 0.15
FIRST_PIECE = 4                       # ids below are <s> <pad> </s> <unk>
# vendor dense bf16 peaks (TFLOP/s, without sparsity), for reference only: MFU uses the measured peak
NOMINAL_BF16_TFLOPS = {"H100 SXM": 989.4, "H100 NVL": 835.0, "H100 PCIe": 756.0, "H100": 989.4, "H200": 989.4,
                       "A100": 312.0, "L40S": 362.0, "A10G": 70.0, "L4": 121.0}
FLOP_CHECK_TOLERANCE = 0.05


def nominal_peak(name: str) -> float | None:
    for key in sorted(NOMINAL_BF16_TFLOPS, key=len, reverse=True):
        if key.lower() in name.lower():
            return NOMINAL_BF16_TFLOPS[key]
    return None


# ---- FLOPs ------------------------------------------------------------------------------------------------


def param_counts(encoder) -> dict[str, int]:
    """N_enc (the transformer layers) and N_head (the LM head's dense + decoder, tied or not)."""
    mlm = encoder.mlm
    n_enc = sum(p.numel() for p in mlm.roberta.encoder.layer.parameters())
    head = mlm.lm_head
    n_head = sum(p.numel() for p in head.dense.parameters()) + head.decoder.weight.numel() + head.bias.numel()
    return {"n_enc": n_enc, "n_head": n_head, "n_total": sum(p.numel() for p in encoder.parameters())}


def model_flops(n_enc: int, n_head: int, layers: int, hidden: int, tokens: int, targets: int,
                sq_lengths: int) -> float:
    """6 N_enc T + 6 N_head M + 12 L H sum_i(len_i^2); sum_i len_i^2 = B S^2 for full batches."""
    return 6.0 * n_enc * tokens + 6.0 * n_head * targets + 12.0 * layers * hidden * sq_lengths


# ---- device ----------------------------------------------------------------------------------------------


def measured_peak(device, n: int, repeats: int) -> dict:
    """Best TFLOP/s of n x n x n bf16 matmuls (2 n^3 FLOPs each)."""
    import torch

    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        c = a @ b
    sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        c = a @ b
        sync(device)
        times.append(time.perf_counter() - t0)
    best = min(times)
    return {"n": n, "repeats": repeats, "best_s": best, "tflops": 2.0 * n ** 3 / best / 1e12,
            "all_tflops": [round(2.0 * n ** 3 / t / 1e12, 1) for t in times], "check": float(c[0, 0])}


def sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ---- synthetic mode ---------------------------------------------------------------------------------------------


def build_encoder(size: str, vocab: int, seq_len: int, device, compile_: bool):
    import torch

    from trainer.config import ModelConfig
    from trainer.model import build_model

    torch.manual_seed(0)
    mcfg = ModelConfig(size=size, language_embedding=False, attention="sdpa", dropout=0.1, compile=compile_)
    enc = build_model(mcfg, vocab, ["xx"], {}, max_positions=max(514, seq_len + 2)).to(device)
    if compile_:
        enc.mlm.roberta.compile()
    enc.train()
    return enc


def synthetic_batches(n: int, batch: int, seq_len: int, vocab: int, device, seed: int = 0) -> list[dict]:
    import torch

    g = torch.Generator(device=device).manual_seed(seed)
    mask_id = vocab - 1
    out = []
    for _ in range(n):
        ids = torch.randint(FIRST_PIECE, mask_id, (batch, seq_len), device=device, generator=g)
        ids[:, 0], ids[:, -1] = 0, 2                                   # <s> ... </s>
        chosen = torch.rand(ids.shape, device=device, generator=g) < MASK_PROB
        chosen[:, 0] = chosen[:, -1] = False
        labels = torch.where(chosen, ids, torch.full_like(ids, -100))
        inputs = torch.where(chosen, torch.full_like(ids, mask_id), ids)
        out.append({"input_ids": inputs, "attention_mask": torch.ones_like(ids), "labels": labels,
                    "targets": int(chosen.sum())})
    return out


def run_synthetic(size: str, args, device) -> dict:
    import torch

    from trainer.objectives.base import mlm_loss

    enc = build_encoder(size, args.vocab, args.seq_len, device, args.compile)
    counts = param_counts(enc)
    params = [p for p in enc.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01,
                            fused=device.type == "cuda")
    batches = synthetic_batches(min(8, args.warmup + args.steps), args.batch_size, args.seq_len, args.vocab, device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16)

    def step(b: dict) -> torch.Tensor:
        with autocast:
            hidden, _ = enc.encode(b["input_ids"], b["attention_mask"])
            loss, _ = mlm_loss(enc, hidden, b["labels"])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.detach()

    per_step = []
    for k in range(args.warmup):
        step(batches[k % len(batches)])
    sync(device)
    t0 = time.perf_counter()
    flops = tokens = 0.0
    loss = None
    cfg = enc.config
    for k in range(args.steps):
        b = batches[(args.warmup + k) % len(batches)]
        e0 = event(device)
        loss = step(b)
        per_step.append((e0, event(device)))
        tokens += b["input_ids"].numel()
        flops += model_flops(counts["n_enc"], counts["n_head"], cfg.num_hidden_layers, cfg.hidden_size,
                             b["input_ids"].numel(), b["targets"], args.batch_size * args.seq_len ** 2)
    sync(device)
    wall = time.perf_counter() - t0
    return {"mode": "synthetic", "size": size, **counts, "layers": cfg.num_hidden_layers, "hidden": cfg.hidden_size,
            "vocab": args.vocab, "seq_len": args.seq_len, "batch_size": args.batch_size, "steps": args.steps,
            "warmup": args.warmup, "compile": args.compile, "wall_s": wall, "tokens": tokens, "flops": flops,
            "step_s": [elapsed(a, b) for a, b in per_step], "last_loss": float(loss) if loss is not None else None,
            "peak_mem_gib": peak_mem(device)}


# ---- shards mode: our whole Trainer.train_step -----------------------------------------------------------------


def run_shards(size: str, args, device) -> dict:

    from trainer import dist
    from trainer.config import load_config
    from trainer.train import build

    with tempfile.TemporaryDirectory() as out:
        cfg = load_config("tiny", [f"shards={args.shards}", f"out={out}", "recipe=mmlm", f"model.size={size}",
                                   f"batch_size={args.batch_size}", "steps=100000", f"device={device.type}",
                                   "precision=bf16", f"model.compile={str(args.compile).lower()}", "progress=false"])
        env = dist.Env(device=device) if device.type == "cpu" else dist.setup(str(device))
        tr = build(cfg, env)
        counts = param_counts(tr.model)
        mcfg = tr.model.config
        sq: list[int] = []

        def watch(task):                      # the batches' row lengths, for the attention term
            batches = inner(task)
            for b in batches:
                sq.append(int((b["attention_mask"].sum(1).double() ** 2).sum()))
                widths.append(int(b["input_ids"].shape[1]))
            return batches

        inner = tr.micro_batches
        tr.micro_batches = watch
        widths: list[int] = []
        for _ in range(args.warmup):
            tr.train_step()
        sync(device)
        sq.clear()
        t0 = time.perf_counter()
        flops = tokens = 0.0
        per_step: list = []
        widths.clear()
        r = None
        for _ in range(args.steps):
            before = len(sq)
            e0 = event(device)
            r = tr.train_step()
            per_step.append((e0, event(device)))
            tokens += r.tokens
            flops += model_flops(counts["n_enc"], counts["n_head"], mcfg.num_hidden_layers, mcfg.hidden_size,
                                 r.tokens, r.n_targets, sum(sq[before:]))
        sync(device)
        wall = time.perf_counter() - t0
    return {"mode": f"shards {args.shards}", "size": size, **counts, "layers": mcfg.num_hidden_layers,
            "hidden": mcfg.hidden_size, "vocab": mcfg.vocab_size, "seq_len": max(widths) if widths else None, "batch_size": args.batch_size,
            "steps": args.steps, "warmup": args.warmup, "compile": args.compile, "wall_s": wall, "tokens": tokens,
            "flops": flops, "step_s": [elapsed(a, b) for a, b in per_step],
            "last_loss": r.loss if r else None, "peak_mem_gib": peak_mem(device), "widths": widths}


# ---- timing helpers ---------------------------------------------------------------------------------------------


def event(device):
    import torch

    if device.type == "cuda":
        e = torch.cuda.Event(enable_timing=True)
        e.record()
        return e
    return time.perf_counter()


def elapsed(a, b) -> float:
    if isinstance(a, float):
        return b - a
    b.synchronize()
    return a.elapsed_time(b) / 1000.0


def peak_mem(device) -> float | None:
    import torch

    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None


# ---- FLOP cross-check (dry run) -----------------------------------------------------------------------------------


def check_flops(args, device) -> dict:
    """The formula against FlopCounterMode on one forward + backward of the tiny config."""
    from torch.utils.flop_counter import FlopCounterMode

    from trainer.objectives.base import mlm_loss

    enc = build_encoder("tiny", args.vocab, args.seq_len, device, False)
    counts = param_counts(enc)
    b = synthetic_batches(1, args.batch_size, args.seq_len, args.vocab, device, seed=1)[0]
    with FlopCounterMode(display=False) as fc:
        hidden, _ = enc.encode(b["input_ids"], b["attention_mask"])
        loss, _ = mlm_loss(enc, hidden, b["labels"])
        loss.backward()
    counted = float(fc.get_total_flops())
    cfg = enc.config
    formula = model_flops(counts["n_enc"], counts["n_head"], cfg.num_hidden_layers, cfg.hidden_size,
                          b["input_ids"].numel(), b["targets"], args.batch_size * args.seq_len ** 2)
    return {"counted": counted, "formula": formula, "ratio": formula / counted,
            "ok": abs(formula / counted - 1) <= FLOP_CHECK_TOLERANCE}


# ---- report -------------------------------------------------------------------------------------------------------


def summarize(r: dict, peak: float, nominal: float | None) -> dict:
    achieved = r["flops"] / r["wall_s"]
    steps = r["step_s"]
    return r | {"tokens_per_s": r["tokens"] / r["wall_s"], "tflops": achieved / 1e12, "mfu": achieved / (peak * 1e12),
                "mfu_nominal": achieved / (nominal * 1e12) if nominal else None,
                "median_step_s": statistics.median(steps), "min_step_s": min(steps), "max_step_s": max(steps),
                "flops_per_token": r["flops"] / r["tokens"]}


def render(report: dict) -> str:
    env, peak = report["environment"], report["peak"]
    nominal = report["nominal_peak_tflops"]
    out = ["# GPU benchmark" + (" (CPU DRY RUN: the numbers mean nothing)" if report["dry_run"] else ""), "",
           f"{env['date']} on {env['device']}, torch {env['torch']} (CUDA {env['cuda']}), transformers "
           f"{env['transformers']}, Python {env['python']}.", "",
           f"Measured bf16 peak: {peak['tflops']:.1f} TFLOP/s (best of {peak['repeats']} {peak['n']}^3 matmuls; all: "
           f"{', '.join(map(str, peak['all_tflops']))})"
           + (f"; nominal {nominal:.0f} TFLOP/s (reference only)." if nominal else "."), "",
           "FLOPs/step = 6 N_enc T + 6 N_head M + 12 L H S^2 B (see the docstring of bench/bench_gpu.py).", ""]
    rows = [[r["size"], r["mode"], "yes" if r["compile"] else "no", r["seq_len"], r["batch_size"], r["steps"],
             r["n_enc"] / 1e6, r["n_total"] / 1e6, r["tokens_per_s"], r["median_step_s"] * 1000, r["tflops"],
             r["mfu"], r["mfu_nominal"], r["peak_mem_gib"]] for r in report["runs"]]
    out += md_lines(["size", "mode", "compile", "seq", "batch", "steps", "N_enc M", "params M", "tokens/s",
                     "median step ms", "model TFLOP/s", "MFU (measured peak)", "MFU (nominal)", "peak mem GiB"], rows)
    if report.get("flop_check"):
        c = report["flop_check"]
        out += ["", f"FLOP formula vs FlopCounterMode (tiny, one forward + backward): formula {c['formula']:.4g}, "
                f"counted {c['counted']:.4g}, ratio {c['ratio']:.4f} ({'ok' if c['ok'] else 'MISMATCH'})."]
    return "\n".join(out) + "\n"


def environment(device) -> dict:
    import torch
    import transformers

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({platform.processor() or 'cpu'})"
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "device": name, "torch": torch.__version__,
            "cuda": torch.version.cuda, "transformers": transformers.__version__, "python": platform.python_version(),
            "hostname": platform.node()}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="small,base", help="comma-separated sizes (default small,base)")
    p.add_argument("--seq-len", type=int, default=512, help="sequence length of the synthetic batches (default 512)")
    p.add_argument("--batch-size", type=int, default=32, help="sequences per step (default 32)")
    p.add_argument("--steps", type=int, default=30, help="timed steps (default 30)")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5; more with --compile)")
    p.add_argument("--vocab", type=int, default=XLMR_VOCAB, help=f"vocabulary size (default {XLMR_VOCAB}, XLM-R's)")
    p.add_argument("--compile", action="store_true", help="torch.compile the encoder stack")
    p.add_argument("--shards", help="time our whole Trainer.train_step on these shards' MMLM rows instead")
    p.add_argument("--peak-repeats", type=int, default=10, help="timed 8192^3 bf16 matmuls (default 10)")
    p.add_argument("--cpu-dry-run", action="store_true", help="no GPU: tiny config, 2 steps, FLOP formula check")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"), help="directory for gpu.json and gpu.md")
    args = p.parse_args(argv)
    if args.cpu_dry_run:
        args.sizes, args.seq_len, args.batch_size, args.steps, args.warmup, args.vocab = "tiny", 64, 2, 2, 0, 1000
        args.peak_repeats = 2
    args.size_list = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if min(args.seq_len, args.batch_size, args.steps, args.vocab, args.peak_repeats) < 1 or args.warmup < 0:
        p.error("--seq-len, --batch-size, --steps, --vocab and --peak-repeats must be at least 1, --warmup at least 0")
    if args.shards and not os.path.isfile(os.path.join(args.shards, "mlm", "manifest.json")):
        p.error(f"--shards {args.shards}: no mlm/manifest.json there (make shards TASKS=mlm MAX_LEN=512)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    from trainer.model import SIZES

    bad = [s for s in args.size_list if s not in SIZES]
    if bad:
        print(f"bench_gpu: unknown size(s) {', '.join(bad)}; known: {', '.join(SIZES)}", file=sys.stderr)
        return 2
    if args.cpu_dry_run:
        device = torch.device("cpu")
    elif not torch.cuda.is_available():
        print("bench_gpu: no CUDA device: torch " + torch.__version__ + " sees no GPU (torch.cuda.is_available() is "
              "False). Run it on a machine with an NVIDIA GPU and a CUDA build of torch, or pass --cpu-dry-run to "
              "check the code path on the CPU.", file=sys.stderr)
        return 2
    else:
        device = torch.device("cuda", torch.cuda.current_device())
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    env = environment(device)
    report: dict = {"environment": env, "dry_run": args.cpu_dry_run, "args": {k: v for k, v in vars(args).items()}}
    flop_check = None
    if args.cpu_dry_run:
        flop_check = check_flops(args, device)
        report["flop_check"] = flop_check
    print(f"bench_gpu: {env['device']}: measuring the bf16 matmul peak ...", file=sys.stderr, flush=True)
    peak = measured_peak(device, DRY_PEAK_N if args.cpu_dry_run else PEAK_N, args.peak_repeats)
    nominal = None if args.cpu_dry_run else nominal_peak(env["device"])
    report |= {"peak": peak, "nominal_peak_tflops": nominal, "runs": []}
    for size in args.size_list:
        print(f"bench_gpu: {size} ...", file=sys.stderr, flush=True)
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        run = run_shards(size, args, device) if args.shards else run_synthetic(size, args, device)
        if run["last_loss"] is not None and not math.isfinite(run["last_loss"]):
            print(f"bench_gpu: {size}: the loss is {run['last_loss']}", file=sys.stderr)
            return 1
        report["runs"].append(summarize(run, peak["tflops"], nominal))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "gpu-dry-run" if args.cpu_dry_run else "gpu"
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    md = render(report)
    (out / f"{stem}.md").write_text(md)
    print(md)
    print(f"bench_gpu: wrote {out / (stem + '.json')} and {out / (stem + '.md')}", file=sys.stderr)
    if flop_check and not flop_check["ok"]:
        print(f"bench_gpu: the FLOP formula is off by {flop_check['ratio'] - 1:+.1%} against FlopCounterMode",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
