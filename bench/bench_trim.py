"""Continual MLM on the e5 init: the untrimmed model (250,002 ids) against the same model trimmed to a
corpus (``python -m trainer.trim``), in one process, on the CPU.

    .venv/bin/python bench/bench_trim.py [--init DIR] [--corpus DIR] [--steps 5] [--warmup 1]
                                         [--batch-size 16] [--seq-len 128] [--threads 2] [--out bench/results]

Setup (not in the step times): ``--init``, or ``trainer.e5init.convert`` into a temporary directory;
``--corpus``, or one written there from ../shared/data in the layout of our jobs: every Tatoeba line
(``monolingual``, 75 languages) and Multi30K cs/de/fr-en train and val (``parallel``); then
``trainer.trim.trim`` of the init to that corpus (its time and throughput are reported).

Batches: the corpus texts encoded with the init's ``XlmrTokenizer``, ``<s> ids </s>`` packed and cut
into rows of ``--seq-len`` tokens, ``--batch-size`` rows a step, a new batch every round. 15% of the
positions holding a piece (not ``<s>``/``</s>``) are masked, all with ``<mask>``, from a seeded
generator. The trimmed arm gets the same batch through ``vocab_map.json`` (checked: every id is
kept), so both arms compute the same function of the same tokens.

Step (the headline): what ``trainer.train`` does for MMLM: ``Encoder.encode`` (trainer/model.py,
``build_model`` with ``init_from``, sdpa attention, dropout 0.1, train mode), ``mlm_loss``
(trainer/objectives/base.py: the vocabulary projection at the masked positions only), backward,
gradient clipping at 1.0, AdamW with the trainer's groups (``build_optimizer``; lr 5e-5, weight
decay 0.01), scheduler step and ``zero_grad``, timed as a whole with ``time.perf_counter`` (and
process CPU time beside it). The arms alternate, the order swapping every round (A B, B A, ...);
the first ``--warmup`` rounds are dropped; the median step time of each arm and their ratio count.
Each step is also split into forward (encoder and loss), backward and optimizer (clip, AdamW,
scheduler, zero_grad).

Prints the vocabulary kept and both parameter counts; writes OUT/trim.json and OUT/trim.md. The
load average before and after is recorded: on a shared machine, read the ratio, not the seconds.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("XLKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--init", help="an init directory (default: trainer.e5init into a temporary directory)")
    p.add_argument("--corpus", help="a corpus directory (default: Tatoeba + Multi30K, written into a "
                   "temporary directory)")
    p.add_argument("--top-k", type=int, default=0, help="trim's --top-k (default 0)")
    p.add_argument("--steps", type=int, default=5, help="measured rounds (one step of each arm a round)")
    p.add_argument("--warmup", type=int, default=1, help="rounds dropped first")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--mask-prob", type=float, default=0.15)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2: the machine's cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "bench" / "results"))
    return p.parse_args(argv)


# ---- setup ------------------------------------------------------------------------------------------------


def multi30k(split: str, lang: str) -> list[str]:
    with gzip.open(SHARED / "multi30k" / "task1-raw" / f"{split}.{lang}.gz", "rt", encoding="utf-8") as f:
        return [line.strip() for line in f]


def write_corpus(root: Path) -> Path:
    """Every Tatoeba line as ``monolingual``, Multi30K cs/de/fr-en train and val as ``parallel``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [(f.name.split(".")[-1], t) for f in sorted((SHARED / "tatoeba-laser").glob("tatoeba.*"))
            for t in f.read_text(encoding="utf-8").splitlines()]
    (root / "monolingual").mkdir(parents=True)
    pq.write_table(pa.table({"lang": [r[0] for r in rows], "text": [r[1] for r in rows],
                             "source": ["tatoeba"] * len(rows)}), root / "monolingual" / "part-00000.parquet")
    pairs = [(lang, split, s, t) for lang in ("cs", "de", "fr") for split in ("train", "val")
             for s, t in zip(multi30k(split, lang), multi30k(split, "en"), strict=True)]
    (root / "parallel").mkdir()
    pq.write_table(pa.table({"src_lang": [p[0] for p in pairs], "tgt_lang": ["en"] * len(pairs),
                             "src": [p[2] for p in pairs], "tgt": [p[3] for p in pairs],
                             "source": ["multi30k"] * len(pairs), "split": [p[1] for p in pairs]}),
                   root / "parallel" / "part-00000.parquet")
    return root


def prepare(args: argparse.Namespace, work: Path) -> dict:
    """The init, the corpus and the trimmed directory, with trim's result."""
    from trainer import e5init, trim

    init = args.init or e5init.convert(work / "init")["out"]
    corpus = args.corpus or str(write_corpus(work / "corpus"))
    res = trim.trim(init, corpus, work / "trimmed", top_k=args.top_k)
    return {"init": init, "corpus": corpus, "trimmed": res["out"], "trim": res}


def packed_batches(init: str, corpus: str, n: int, rows: int, width: int) -> list[list[list[int]]]:
    """``n`` batches of ``rows`` x ``width`` init ids: the corpus texts as <s> ids </s>, packed."""
    from trainer import trim
    from xlkit_core import tokenizer as tk

    need, stream = n * rows * width, []
    tok = tk.XlmrTokenizer.load(init)
    for inp in trim.corpus_tables(corpus):
        for texts in trim.table_texts(inp):
            stream += [i for ids in tok.encode_batch(texts) for i in (tk.BOS_ID, *ids, tk.EOS_ID)]
            if len(stream) >= need:
                flat = stream[:need]
                return [[flat[(b * rows + r) * width:(b * rows + r + 1) * width] for r in range(rows)]
                        for b in range(n)]
    raise SystemExit(f"bench_trim: {corpus} holds fewer than {need:,} tokens")


def masked(batch: list[list[int]], mask_id: int, prob: float, seed: int):
    """(input ids, labels) with ``prob`` of the piece positions masked."""
    import numpy as np
    import torch

    from trainer.token_noise import IGNORE

    ids = torch.tensor(batch)
    draw = torch.from_numpy(np.random.default_rng(seed).random(ids.shape) < prob) & (ids > 3)
    return ids.masked_fill(draw, mask_id), torch.where(draw, ids, torch.full_like(ids, IGNORE))


# ---- the arms -------------------------------------------------------------------------------------------


class Arm:
    """One model with the trainer's optimizer, and the step time records."""

    def __init__(self, name: str, directory: str, args: argparse.Namespace):
        import torch

        from trainer.config import ModelConfig, OptimConfig, TrainConfig
        from trainer.model import build_model
        from trainer.train import build_optimizer

        with open(os.path.join(directory, "config.json"), encoding="utf-8") as f:
            self.vocab_size = json.load(f)["vocab_size"]
        cfg = TrainConfig(steps=10_000, model=ModelConfig(init_from=directory),
                          optim=OptimConfig(lr=args.lr, warmup_steps=0))
        self.name = name
        self.model = build_model(cfg.model, self.vocab_size, [], {}).train()
        self.opt, self.sched = build_optimizer(self.model, cfg, torch.device("cpu"))
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.parameters = sum(p.numel() for p in self.params)
        self.records: list[dict] = []

    def step(self, ids, labels) -> dict:
        import torch

        from trainer.objectives.base import mlm_loss

        t0, c0 = time.perf_counter(), time.process_time()
        hidden, _ = self.model.encode(ids, torch.ones_like(ids))
        loss, _ = mlm_loss(self.model, hidden, labels)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad(set_to_none=True)
        t3 = time.perf_counter()
        rec = {"step_s": t3 - t0, "cpu_s": time.process_time() - c0, "forward_s": t1 - t0,
               "backward_s": t2 - t1, "optimizer_s": t3 - t2, "loss": float(loss.detach())}
        self.records.append(rec)
        return rec


def run_rounds(arms: list[Arm], batches: list, inverse, args: argparse.Namespace) -> None:
    """Round k: both arms on batch k (the trimmed one through ``inverse``), the order swapping."""
    import torch

    for k, batch in enumerate(batches):
        ids, labels = masked(batch, arms[0].vocab_size - 1, args.mask_prob, args.seed + k)
        small = torch.from_numpy(inverse[ids.numpy()]), torch.where(labels >= 0, torch.from_numpy(
            inverse[labels.clamp(min=0).numpy()]), labels)
        if (small[0] < 0).any():
            raise SystemExit("bench_trim: a batch holds an id that the trimmed vocabulary lacks")
        order = [(arms[0], (ids, labels)), (arms[1], small)]
        for arm, (x, y) in order[::-1] if k % 2 else order:
            rec = arm.step(x, y)
            print(f"round {k} {arm.name:9s} {rec['step_s']:7.2f} s  loss {rec['loss']:.3f}", file=sys.stderr)


# ---- summary ----------------------------------------------------------------------------------------------


def summary(arm: Arm, warmup: int) -> dict:
    recs = arm.records[warmup:]
    steps = sorted(r["step_s"] for r in recs)
    q = statistics.quantiles(steps, n=4) if len(steps) > 1 else [steps[0]] * 3
    med = {k: statistics.median(r[k] for r in recs) for k in ("step_s", "cpu_s", "forward_s", "backward_s",
                                                              "optimizer_s")}
    return {"vocab_size": arm.vocab_size, "parameters": arm.parameters, "steps": len(recs), **med,
            "iqr_s": [q[0], q[2]], "all_step_s": [r["step_s"] for r in arm.records]}


def markdown(res: dict) -> str:
    full, small = res["arms"]["untrimmed"], res["arms"]["trimmed"]
    t, c = res["trim"], res["trim"]["corpus"]
    rows = "\n".join(f"| {name} | {a['vocab_size']:,} | {a['parameters']:,} | **{a['step_s']:.2f}** | "
                     f"{a['iqr_s'][0]:.2f}-{a['iqr_s'][1]:.2f} | {a['cpu_s']:.2f} | {a['forward_s']:.2f} | "
                     f"{a['backward_s']:.2f} | {a['optimizer_s']:.2f} |"
                     for name, a in res["arms"].items())
    o = res["args"]
    return f"""## Vocabulary trimming (`bench/bench_trim.py`)

- corpus: {res['corpus']}, {c['texts']:,} texts, {c['tokens']:,} tokens
- trim: kept {t['vocab_size']:,} of {t['init_vocab_size']:,} ids ({t['kept']['used']:,} used,
  top_k {t['top_k']}), {t['seconds']:.1f} s in all, encoding {c['texts_per_s']:,} texts/s
  ({c['mchars_per_s']} M characters/s)
- continual MLM: batch {o['batch_size']} x {o['seq_len']}, {o['threads']} threads, {full['steps']} measured
  steps per arm after {o['warmup']} warm-up round(s), the arms alternating
- load average before and after: {res['load_before']} -> {res['load_after']}

| arm | vocab | parameters | median step s | IQR | CPU s | forward | backward | optimizer |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
{rows}

Step time trimmed / untrimmed: **{small['step_s'] / full['step_s']:.3f}** (saving
{100 * (1 - small['step_s'] / full['step_s']):.1f}%).
"""


def main(argv: list[str] | None = None) -> int:
    import torch

    from trainer import trim

    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-trim-") as work:
        setup = prepare(args, Path(work))
        batches = packed_batches(setup["init"], setup["corpus"], args.warmup + args.steps, args.batch_size,
                                 args.seq_len)
        m = trim.load_vocab_map(setup["trimmed"])
        inverse = trim.old_to_new(m["new_to_old"], m["init_vocab_size"])
        arms = [Arm("untrimmed", setup["init"], args), Arm("trimmed", setup["trimmed"], args)]
        load_before = [round(x, 2) for x in os.getloadavg()]
        run_rounds(arms, batches, inverse, args)
    res = {"args": vars(args), "corpus": setup["corpus"] if args.corpus else "Tatoeba + Multi30K (temporary)",
           "trim": {k: v for k, v in setup["trim"].items() if k != "files"}, "load_before": load_before,
           "load_after": [round(x, 2) for x in os.getloadavg()],
           "arms": {a.name: summary(a, args.warmup) for a in arms}}
    res["ratio"] = res["arms"]["trimmed"]["step_s"] / res["arms"]["untrimmed"]["step_s"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "trim.json").write_text(json.dumps(res, indent=1) + "\n")
    (out / "trim.md").write_text(markdown(res))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
