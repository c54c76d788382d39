"""Loader benchmark: shard bytes per token, TaskStream throughput on one core, trainer consumption.

    .venv/bin/python bench/bench_loader.py [--shards runs/demo/shards] [--repeat 3] [--out bench/results]

Shard sets:

* demo   the shards of ``make demo`` (``--shards``; build them first with ``make demo``)
* real   built in a temporary directory from the real Multi30K de-en training pairs (29,000;
         ../shared/data/multi30k/task1-raw/train.{de,en}.gz): jobs/build_parallel.py (the parallel
         table), jobs/build_monolingual.py on the same two files (the monolingual table: one
         document per file, so mlm rows are full 128-token sequences), jobs/train_tokenizer.py
         --vocab-size 8000, jobs/build_shards.py --tasks pairs,mono,mlm --max-len 128

Measured:

1. bytes per token of every task of both sets, from the manifests (sum of file bytes / tokens);
   the in-memory share of each column (Arrow buffer sizes) goes to the JSON.
2. loader throughput, each in a subprocess pinned to ONE CPU (torch with one thread), for real
   pairs, real mlm and demo mlm: ``TaskStream`` rows alone; rows + collate into padded LongTensor
   batches of 32 (input_ids and attention_mask, padded to the batch max; pairs laid out as XLM-R
   pairs ``<s> src </s></s> tgt </s>``) -- the headline figure; and, for comparison, a prototype
   of a columnar fix that gathers the same rows from zero-copy numpy views of the Arrow buffers
   (checked to give identical batches). ``--repeat`` children per set, round robin; the fastest
   run counts.
3. trainer consumption: masked-LM training steps (forward + backward + AdamW) of
   ``transformers.XLMRobertaForMaskedLM`` built from a config (no download), vocabulary 8000,
   sequence length 128, ``torch.set_num_threads(2)`` (the whole machine): tiny (2 layers, hidden
   128, 2 heads, intermediate 512, batch 32) and small (6 layers, hidden 768, 12 heads,
   intermediate 3072, batch 8). The fastest step counts; all are reported.

Headroom = loader examples/s (one core) / trainer examples/s; the goal is at least 20x, which is
reported, never asserted. Also reported: how many loader cores a GPU trainer would need (two
stated assumptions; nothing is measured on a GPU). Writes OUT/loader.json and OUT/loader.md; exits
non-zero only on errors (a failed build or step, or prototype batches that differ).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from bench_kg import NOISY_SPREAD, ROOT, BenchError, _md_table, environment, run_child

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MULTI30K = Path(os.environ.get("XLKIT_SHARED_DATA", ROOT.parent / "shared" / "data")) / "multi30k" / "task1-raw"
BATCH = 32                      # loader batch size, as a trainer would collate
SEQ_LEN = 128                   # shard --max-len and trainer sequence length
VOCAB = 8000
SEED = 0
BOS, PAD, EOS = 0, 1, 2         # corpus_builder.tokenizer's XLM-R layout
CHECK_BATCHES = 50              # batches compared between the TaskStream path and the prototype
LOADER_ROUNDS = 3               # passes of each mode per loader child, round robin
GOAL_HEADROOM = 20.0
GPU_SPEEDUP = 50.0              # scenario 1: a GPU step rate this many times the CPU rate
GPU_TFLOPS = 100.0              # scenario 2: sustained training TFLOP/s (~10% of an H100's bf16 dense peak)
LOADER_CASES = (("real", "pairs"), ("real", "mlm"), ("demo", "mlm"))


# ---- collate: rows -> padded LongTensor batches -----------------------------------------------------


def mlm_sequence(row: dict) -> list[int]:
    """An mlm row is already a ``<s> ... </s>`` sequence."""
    return row["input_ids"]


def pairs_sequence(row: dict) -> list[int]:
    """A translation pair as one XLM-R pair sequence: ``<s> src </s></s> tgt </s>``."""
    return [BOS, *row["src_ids"], EOS, EOS, *row["tgt_ids"], EOS]


SEQUENCES: dict[str, Callable[[dict], list[int]]] = {"mlm": mlm_sequence, "pairs": pairs_sequence}


def collate(seqs: list) -> tuple[dict, int]:
    """Pad sequences (lists or int arrays) to the batch max: LongTensors input_ids and attention_mask,
    and the number of real (non-pad) tokens."""
    import numpy as np
    import torch

    lengths = [len(s) for s in seqs]
    ids = np.full((len(seqs), max(lengths)), PAD, dtype=np.int64)
    mask = np.zeros_like(ids)
    for i, (s, n) in enumerate(zip(seqs, lengths, strict=True)):
        ids[i, :n] = s
        mask[i, :n] = 1
    return {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}, sum(lengths)


# ---- prototype of the fix: gather id columns from zero-copy numpy views ----------------------------------


def index_batches(n_rows: int, seed: int, batch: int) -> Iterator:
    """Global row indices in TaskStream's order (rank 0 of 1): epoch e is permutation([seed, e])."""
    import numpy as np

    epoch, buf = 0, np.empty(0, dtype=np.int64)
    while True:
        while len(buf) < batch:
            buf = np.concatenate([buf, np.random.default_rng([seed, epoch]).permutation(n_rows)])
            epoch += 1
        yield buf[:batch]
        buf = buf[batch:]


class ColumnGather:
    """Zero-copy (offsets, values) numpy views of list<int32> columns, per record batch of a ShardSet."""

    def __init__(self, shards, columns: tuple[str, ...]):
        self.starts = shards.offsets
        self.views = {c: [(b.column(c).offsets.to_numpy(), b.column(c).values.to_numpy()) for b in shards.batches]
                      for c in columns}

    def rows(self, indices) -> list[dict]:
        """For each global index, {column: int32 array view} (no Python lists, no copy)."""
        import numpy as np

        which = np.searchsorted(self.starts, indices, side="right") - 1
        local = indices - self.starts[which]
        out: list[dict] = [{} for _ in indices]
        for col, views in self.views.items():
            for k, (b, i) in enumerate(zip(which.tolist(), local.tolist(), strict=True)):
                offsets, values = views[b]
                out[k][col] = values[offsets[i]:offsets[i + 1]]
        return out


def gather_sequences(task: str, rows: list[dict]) -> list:
    """The same sequences as SEQUENCES[task], from ColumnGather rows."""
    import numpy as np

    if task == "mlm":
        return [r["input_ids"] for r in rows]
    head, mid, tail = np.array([BOS]), np.array([EOS, EOS]), np.array([EOS])
    return [np.concatenate((head, r["src_ids"], mid, r["tgt_ids"], tail)) for r in rows]


GATHER_COLUMNS = {"mlm": ("input_ids",), "pairs": ("src_ids", "tgt_ids")}


# ---- child step: loader on one core -------------------------------------------------------------------


def pin_one_core() -> int:
    """Pin this process to the first CPU it may use; return that CPU."""
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def _time_batches(make_batch: Callable[[], tuple[int, int]], n_batches: int) -> dict:
    """Wall and CPU seconds for n_batches calls of make_batch, with the real tokens and padded positions
    they returned."""
    tokens = positions = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n_batches):
        t, p = make_batch()
        tokens, positions = tokens + t, positions + p
    return {"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "tokens": tokens,
            "positions": positions}


def check_prototype(shards, task: str, gather: ColumnGather) -> None:
    """The prototype must produce exactly the TaskStream + collate batches; BenchError otherwise."""
    import torch

    from trainer.data import TaskStream

    stream, order = TaskStream(shards, seed=SEED), index_batches(len(shards), SEED, BATCH)
    seq = SEQUENCES[task]
    for k in range(CHECK_BATCHES):
        a, _ = collate([seq(r) for r in stream.take(BATCH)])
        b, _ = collate(gather_sequences(task, gather.rows(next(order))))
        if not torch.equal(a["input_ids"], b["input_ids"]):
            raise BenchError(f"{shards.directory}: prototype batch {k} differs from TaskStream + collate")


def step_loader(directory: str, task: str, examples: int, rounds: int) -> dict:
    """``rounds`` measured passes of each loader mode, round robin, each over the same rows from the
    start of the stream (after a warm-up pass)."""
    cpu = pin_one_core()
    import torch

    from trainer.data import TaskStream
    from xlkit_core.shards import ShardSet

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    shards = ShardSet.open(directory)            # sha256 of every file included
    open_s = time.perf_counter() - t0
    gather = ColumnGather(shards, GATHER_COLUMNS[task])
    check_prototype(shards, task, gather)
    seq, n_batches = SEQUENCES[task], max(1, examples // BATCH)

    def modes() -> dict[str, Callable[[], tuple[int, int]]]:
        stream, stream2 = TaskStream(shards, seed=SEED), TaskStream(shards, seed=SEED)
        order = index_batches(len(shards), SEED, BATCH)

        def rows_only() -> tuple[int, int]:
            return sum(len(seq(r)) for r in stream.take(BATCH)), 0

        def rows_collate() -> tuple[int, int]:
            batch, n = collate([seq(r) for r in stream2.take(BATCH)])
            return n, batch["input_ids"].numel()

        def gather_collate() -> tuple[int, int]:
            batch, n = collate(gather_sequences(task, gather.rows(next(order))))
            return n, batch["input_ids"].numel()

        return {"rows": rows_only, "rows_collate": rows_collate, "gather_collate": gather_collate}

    for fn in modes().values():                  # warm-up: first touch of the mapped pages, allocator
        _time_batches(fn, max(1, n_batches // 10))
    result: dict = {"cpu": cpu, "rows_in_set": len(shards), "open_s": open_s, "examples": n_batches * BATCH}
    for _ in range(rounds):
        for name, fn in modes().items():         # fresh streams: every pass reads the same rows
            result.setdefault(name, []).append(_time_batches(fn, n_batches))
    return result


# ---- child step: trainer on the whole machine -----------------------------------------------------------


@dataclass(frozen=True)
class TrainConfig:
    name: str
    layers: int
    hidden: int
    heads: int
    intermediate: int
    batch: int
    warmup: int
    steps: int


TRAIN_CONFIGS = {
    "tiny": TrainConfig("tiny", 2, 128, 2, 512, 32, warmup=2, steps=20),
    "small": TrainConfig("small", 6, 768, 12, 3072, 8, warmup=1, steps=8),
}


def build_model(cfg: TrainConfig):
    """XLMRobertaForMaskedLM from a config (random weights, nothing downloaded) and its AdamW."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

    config = XLMRobertaConfig(vocab_size=VOCAB, hidden_size=cfg.hidden, num_hidden_layers=cfg.layers,
                              num_attention_heads=cfg.heads, intermediate_size=cfg.intermediate,
                              max_position_embeddings=SEQ_LEN + 2, type_vocab_size=1,
                              bos_token_id=BOS, pad_token_id=PAD, eos_token_id=EOS)
    model = XLMRobertaForMaskedLM(config)
    model.train()
    return model, torch.optim.AdamW(model.parameters(), lr=1e-4)


def mlm_batch(batch: int, generator) -> dict:
    """Random ids with 15% of the positions masked as MLM targets (80/10/10 does not change the cost)."""
    import torch

    ids = torch.randint(EOS + 2, VOCAB - 1, (batch, SEQ_LEN), generator=generator)
    chosen = torch.rand(ids.shape, generator=generator) < 0.15
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    ids = torch.where(chosen, torch.full_like(ids, VOCAB - 1), ids)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}


def flops_per_token(model, cfg: TrainConfig) -> float:
    """Training FLOPs per token: 6 x (matmul weights incl. the tied output projection) + attention."""
    n = sum(p.numel() for p in model.parameters())
    embed = (VOCAB + SEQ_LEN + 2 + 1) * cfg.hidden        # word, position, token type embeddings
    return 6.0 * (n - embed + VOCAB * cfg.hidden) + 12.0 * cfg.layers * SEQ_LEN * cfg.hidden


def step_train(name: str, threads: int) -> dict:
    """Time warm-up + measured training steps of one config; every step's seconds are returned."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(SEED)
    cfg = TRAIN_CONFIGS[name]
    model, opt = build_model(cfg)
    gen = torch.Generator().manual_seed(SEED)
    times, cpu, losses = [], [], []
    for k in range(cfg.warmup + cfg.steps):
        batch = mlm_batch(cfg.batch, gen)
        t0, c0 = time.perf_counter(), time.process_time()
        loss = model(**batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if k >= cfg.warmup:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            losses.append(float(loss.detach()))
    return {"config": asdict(cfg), "threads": torch.get_num_threads(), "vocab": VOCAB, "seq_len": SEQ_LEN,
            "params": sum(p.numel() for p in model.parameters()), "flops_per_token": flops_per_token(model, cfg),
            "step_s": times, "step_cpu_s": cpu, "losses": losses}


def run_step(args: argparse.Namespace) -> int:
    """Child-process entry point: run one step, print its result as one JSON line."""
    if args.step == "loader":
        result = step_loader(args.dir, args.task, args.examples, args.rounds)
    elif args.step == "train":
        result = step_train(args.config, args.threads)
    else:
        raise BenchError(f"unknown step {args.step}")
    result["self_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result))
    return 0


def run_step_child(step: str, work: Path, tag: str, **opts: str | int) -> dict:
    """Run `bench_loader.py --step STEP` in a subprocess; its JSON result plus wall time."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--step", step]
    for key, value in opts.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    run = run_child(cmd, work / f"{step}-{tag}.log")
    return json.loads(run.stdout.strip().splitlines()[-1]) | {"wall_s": run.wall_s}


# ---- building the real shard set ------------------------------------------------------------------------


def _job(name: str, args: list[str], work: Path) -> float:
    """Run jobs/<name>.py as a user does (its own process, local Spark); return its wall seconds."""
    print(f"bench_loader: {name} ...", file=sys.stderr, flush=True)
    return run_child([sys.executable, str(ROOT / "jobs" / f"{name}.py"), *args], work / f"{name}.log").wall_s


def build_real_shards(work: Path) -> tuple[Path, dict[str, float]]:
    """Multi30K de-en train -> corpus (parallel + monolingual) -> 8k tokenizer -> pairs, mono, mlm shards."""
    de, en = MULTI30K / "train.de.gz", MULTI30K / "train.en.gz"
    corpus, tok, shards = work / "corpus", work / "tokenizer", work / "shards"
    walls = {
        "build_parallel": _job("build_parallel", ["--parallel", f"de-en={de},{en}", "--out", str(corpus)], work),
        "build_monolingual": _job("build_monolingual", ["--text", f"de={de} en={en}", "--out", str(corpus)], work),
        "train_tokenizer": _job("train_tokenizer", ["--corpus", str(corpus), "--out", str(tok),
                                                    "--vocab-size", str(VOCAB)], work),
        "build_shards": _job("build_shards", ["--corpus", str(corpus), "--tokenizer", str(tok), "--out", str(shards),
                                              "--tasks", "pairs,mono,mlm", "--max-len", str(SEQ_LEN)], work),
    }
    return shards, walls


# ---- measuring -----------------------------------------------------------------------------------------


def column_shares(directory: Path) -> dict[str, float]:
    """Each column's share of the in-memory Arrow buffer bytes of one task."""
    from xlkit_core.shards import ShardSet

    shards = ShardSet.open(str(directory), verify=False)
    sizes: dict[str, int] = {}
    for b in shards.batches:
        for name, col in zip(b.schema.names, b.columns, strict=True):
            sizes[name] = sizes.get(name, 0) + col.nbytes
    total = sum(sizes.values()) or 1
    return {k: round(v / total, 3) for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])}


def bytes_per_token(set_name: str, root: Path) -> list[dict]:
    """One row per task of a shard set, from the task manifests."""
    out = []
    for manifest_path in sorted(root.glob("*/manifest.json")):
        m = json.loads(manifest_path.read_text())
        size = sum(f["bytes"] for f in m["files"])
        out.append({"set": set_name, "task": m["task"], "rows": m["rows"], "tokens": m["tokens"],
                    "files": len(m["files"]), "bytes": size,
                    "bytes_per_token": size / m["tokens"] if m["tokens"] else None,
                    "bytes_per_row": size / m["rows"] if m["rows"] else None,
                    "tokens_per_row": m["tokens"] / m["rows"] if m["rows"] else None,
                    "column_shares": column_shares(manifest_path.parent)})
    if not out:
        raise BenchError(f"{root} holds no <task>/manifest.json")
    return out


def measure_loader(sets: dict[str, Path], examples: int, repeat: int, work: Path) -> dict[str, list[dict]]:
    """Each loader case `repeat` times in its own pinned child, round robin."""
    runs: dict[str, list[dict]] = {f"{s}/{t}": [] for s, t in LOADER_CASES}
    for r in range(repeat):
        for set_name, task in LOADER_CASES:
            key = f"{set_name}/{task}"
            print(f"bench_loader: loader run {r + 1}/{repeat}: {key} ...", file=sys.stderr, flush=True)
            runs[key].append(run_step_child("loader", work, f"{set_name}-{task}", dir=sets[set_name] / task,
                                            task=task, examples=examples, rounds=LOADER_ROUNDS))
    return runs


def measure_trainer(work: Path, threads: int) -> dict[str, dict]:
    """Each trainer config once, in its own child using ``threads`` torch threads."""
    out = {}
    for name in TRAIN_CONFIGS:
        print(f"bench_loader: trainer {name} ...", file=sys.stderr, flush=True)
        out[name] = run_step_child("train", work, name, config=name, threads=threads)
    return out


# ---- report --------------------------------------------------------------------------------------------


MODES = {"rows": "TaskStream rows", "rows_collate": "TaskStream + collate", "gather_collate": "prototype gather + collate"}


def loader_rows(runs: dict[str, list[dict]]) -> list[dict]:
    """Fastest pass (by wall clock) per case and mode over all children: examples/s, tokens/s, µs per
    example, and examples/s by the CPU time of that pass (what a contended core hides)."""
    rows = []
    for key, results in runs.items():
        examples = results[0]["examples"]
        for mode, label in MODES.items():
            passes = [p for r in results for p in r[mode]]
            best = min(passes, key=lambda p: p["seconds"])
            secs = [p["seconds"] for p in passes]
            rows.append({"case": key, "mode": label, "examples": examples,
                         "examples_per_s": examples / best["seconds"],
                         "tokens_per_s": best["tokens"] / best["seconds"],
                         "us_per_example": best["seconds"] / examples * 1e6,
                         "examples_per_cpu_s": examples / best["cpu_s"],
                         "padding_share": 1 - best["tokens"] / best["positions"] if best["positions"] else None,
                         "all_runs_s": [round(x, 3) for x in secs],
                         "noisy": max(secs) > NOISY_SPREAD * best["seconds"]})
    return rows


def trainer_rows(trainer: dict[str, dict]) -> list[dict]:
    """Fastest step per config: examples/s, tokens/s (positions), achieved GFLOP/s, cores busy."""
    rows = []
    for name, r in trainer.items():
        cfg, best = r["config"], min(r["step_s"])
        k = r["step_s"].index(best)
        tokens = cfg["batch"] * r["seq_len"]
        rows.append({"config": name, "layers": cfg["layers"], "hidden": cfg["hidden"], "heads": cfg["heads"],
                     "intermediate": cfg["intermediate"], "vocab": r["vocab"], "seq_len": r["seq_len"],
                     "batch": cfg["batch"], "params_m": r["params"] / 1e6, "threads": r["threads"],
                     "best_step_s": best, "cores_busy": r["step_cpu_s"][k] / best,
                     "median_step_s": statistics.median(r["step_s"]),
                     "examples_per_s": cfg["batch"] / best, "tokens_per_s": tokens / best,
                     "gflops_per_s": r["flops_per_token"] * tokens / best / 1e9,
                     "flops_per_token": r["flops_per_token"], "all_steps_s": [round(s, 3) for s in r["step_s"]]})
    return rows


def headroom_rows(loader: list[dict], trainer: list[dict]) -> list[dict]:
    """Loader (one core, TaskStream + collate) over trainer, in examples and in token positions."""
    feeds = [r for r in loader if r["mode"] == MODES["rows_collate"]]
    out = []
    for t in trainer:
        for f in feeds:
            x = f["examples_per_s"] / t["examples_per_s"]
            out.append({"trainer": t["config"], "loader": f["case"], "loader_examples_per_s": f["examples_per_s"],
                        "trainer_examples_per_s": t["examples_per_s"], "headroom_examples": x,
                        "headroom_tokens": f["tokens_per_s"] / t["tokens_per_s"], "goal_met": x >= GOAL_HEADROOM})
    return out


def gpu_rows(loader: list[dict], trainer: list[dict]) -> list[dict]:
    """Loader cores per GPU to merely keep up, for two assumed GPU step rates (nothing measured on a GPU)."""
    feeds = [r for r in loader if r["mode"] == MODES["rows_collate"]]
    proto = {r["case"]: r for r in loader if r["mode"] == MODES["gather_collate"]}
    out = []
    for t in trainer:
        scenarios = {f"{GPU_SPEEDUP:.0f}x CPU step rate": GPU_SPEEDUP * t["examples_per_s"],
                     f"{GPU_TFLOPS:.0f} TFLOP/s sustained":
                         GPU_TFLOPS * 1e12 / t["flops_per_token"] / t["seq_len"]}
        for scenario, rate in scenarios.items():
            for f in feeds:
                out.append({"trainer": t["config"], "scenario": scenario, "gpu_examples_per_s": rate,
                            "loader": f["case"], "cores_taskstream": rate / f["examples_per_s"],
                            "cores_prototype": rate / proto[f["case"]]["examples_per_s"]})
    return out


def _spread(runs: list[float]) -> str:
    return f"{min(runs):.3f}-{max(runs):.3f} ({len(runs)})"


def worst_gpu_rows(rows: list[dict]) -> list[dict]:
    """Per trainer and scenario, the loader case that needs the most cores."""
    worst: dict[tuple[str, str], dict] = {}
    for r in rows:
        key = (r["trainer"], r["scenario"])
        if key not in worst or r["cores_taskstream"] > worst[key]["cores_taskstream"]:
            worst[key] = r
    return list(worst.values())


def render_markdown(report: dict) -> str:
    env = report["environment"]
    out = ["# Loader benchmark", "",
           f"{env['date']} on {env['cpu']} ({env['cpus']} CPUs), Python {env['python']}, torch {env['torch']}, "
           f"transformers {env['transformers']}, pyarrow {env['pyarrow']}; load average {env['loadavg_start']} at "
           f"the start, {env['loadavg_end']} at the end (a shared machine: timings are noisy).", "",
           f"Shard sets: demo = `{report['sets']['demo']}`; real = Multi30K de-en train (29,000 pairs) built in a "
           f"temporary directory: parallel + monolingual tables, an {VOCAB}-piece tokenizer, --max-len {SEQ_LEN} "
           f"(job wall seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in report["build_wall_s"].items()) + ").", "",
           "## Shard bytes per token (manifest file bytes / manifest tokens)", ""]
    out += _md_table(["set", "task", "rows", "tokens", "files", "bytes", "bytes/token", "bytes/row", "tokens/row",
                      "largest columns (share of Arrow buffers)"],
                     [[r["set"], r["task"], r["rows"], r["tokens"], r["files"], r["bytes"], r["bytes_per_token"],
                       r["bytes_per_row"], r["tokens_per_row"],
                       ", ".join(f"{k} {v:.0%}" for k, v in list(r["column_shares"].items())[:2])]
                      for r in report["bytes_per_token"]])
    out += ["", f"## Loader on one core (batches of {BATCH}; fastest of {report['repeat']} pinned children x "
            f"{LOADER_ROUNDS} passes, each of {report['loader'][0]['examples']:,} examples)", ""]
    out += _md_table(["case", "mode", "examples/s", "tokens/s", "µs/example", "examples/CPU-s", "padding share",
                      "runs s: min-max (n)"],
                     [[r["case"], r["mode"], r["examples_per_s"], r["tokens_per_s"], r["us_per_example"],
                       r["examples_per_cpu_s"], r["padding_share"], _spread(r["all_runs_s"])] for r in report["loader"]])
    out += ["", "Tokens are real tokens (specials included, padding excluded). The prototype is not in "
            "trainer/data.py: it gathers the same rows (checked equal) from numpy views of the Arrow buffers.", "",
            f"## Trainer: MLM training step on CPU (forward + backward + AdamW), vocab {VOCAB}, seq len {SEQ_LEN}", ""]
    out += _md_table(["config", "layers", "hidden", "heads", "inter.", "batch", "params M", "threads",
                      "best step s", "cores busy", "median step s", "examples/s", "tokens/s", "GFLOP/s",
                      "steps s: min-max (n)"],
                     [[r["config"], r["layers"], r["hidden"], r["heads"], r["intermediate"], r["batch"],
                       r["params_m"], r["threads"], r["best_step_s"], r["cores_busy"], r["median_step_s"],
                       r["examples_per_s"], r["tokens_per_s"], r["gflops_per_s"], _spread(r["all_steps_s"])]
                      for r in report["trainer"]])
    out += ["", "Cores busy = CPU seconds / wall seconds of the best step (2.0 = both cores the whole step; "
            "less = other work on the machine took them).", "",
            "XLM-R's 250,002-piece vocabulary would add ~192M parameters (768 x 250k embedding and the "
            "tied output projection over every position) and make small much slower; 8,000 is used here.", "",
            f"## Headroom = loader examples/s (one core, TaskStream + collate) / trainer examples/s (goal ≥ "
            f"{GOAL_HEADROOM:.0f}x)", ""]
    out += _md_table(["trainer", "loader", "loader ex/s", "trainer ex/s", "headroom (examples)",
                      "headroom (tokens)", f"≥ {GOAL_HEADROOM:.0f}x"],
                     [[r["trainer"], r["loader"], r["loader_examples_per_s"], r["trainer_examples_per_s"],
                       r["headroom_examples"], r["headroom_tokens"], "yes" if r["goal_met"] else "no"]
                      for r in report["headroom"]])
    out += ["", "Headroom in tokens compares real loader tokens with the trainer's 128 positions per example: "
            "the conservative figure for short rows (pairs) that a trainer would pack to 128.", "",
            "## GPU estimate (assumptions, nothing measured on a GPU): loader cores per GPU to keep up", "",
            "The most demanding loader case per row (all cases in loader.json).", ""]
    out += _md_table(["trainer", "assumed GPU rate", "GPU ex/s", "loader", "cores (TaskStream)", "cores (prototype)"],
                     [[r["trainer"], r["scenario"], r["gpu_examples_per_s"], r["loader"], r["cores_taskstream"],
                       r["cores_prototype"]] for r in worst_gpu_rows(report["gpu"])])
    out += ["", f"{GPU_TFLOPS:.0f} TFLOP/s is ~10% of an H100's dense bf16 peak, plausible for small at a larger "
            "batch; tiny would be bound by kernel launches long before that, so its FLOP-based row is an "
            "upper bound.", ""]
    if report["notes"]:
        out += ["## Notes", "", *(f"- {n}" for n in report["notes"]), ""]
    return "\n".join(out)


def notes(loader: list[dict]) -> list[str]:
    """Observations computed from the loader rows: where the time goes, what the prototype gains."""
    by = {(r["case"], r["mode"]): r for r in loader}
    out = []
    for case in dict.fromkeys(r["case"] for r in loader):
        rows, full, proto = (by[(case, MODES[m])] for m in MODES)
        out.append(f"{case}: TaskStream iteration (ShardSet.row per example, plus the sequence layout) takes "
                   f"{rows['us_per_example']:.1f} of the {full['us_per_example']:.1f} µs/example with collate; "
                   f"the prototype gather + collate takes {proto['us_per_example']:.1f} µs "
                   f"({full['us_per_example'] / proto['us_per_example']:.1f}x faster).")
    noisy = sorted({f"{r['case']} {r['mode']}" for r in loader if r["noisy"]})
    if noisy:
        out.append(f"Runs differ by more than {NOISY_SPREAD - 1:.0%}: " + "; ".join(noisy) + ".")
    return out


def versions() -> dict[str, str]:
    import pyarrow
    import torch
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__, "pyarrow": pyarrow.__version__}


def build_report(env: dict, sets: dict[str, Path], walls: dict[str, float], sizes: list[dict],
                 loader_runs: dict[str, list[dict]], trainer: dict[str, dict], repeat: int) -> dict:
    env["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    loader, train = loader_rows(loader_runs), trainer_rows(trainer)
    return {"environment": env, "repeat": repeat, "batch": BATCH, "seq_len": SEQ_LEN, "vocab": VOCAB,
            "sets": {"demo": str(sets["demo"]), "real": "Multi30K de-en train (temporary)"},
            "build_wall_s": walls, "bytes_per_token": sizes, "loader": loader, "trainer": train,
            "headroom": headroom_rows(loader, train), "gpu": gpu_rows(loader, train), "notes": notes(loader),
            "raw": {"loader": loader_runs, "trainer": trainer}}


# ---- main ----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shards", default=str(ROOT / "runs" / "demo" / "shards"),
                   help="the demo shard directory (make demo writes runs/demo/shards)")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"), help="directory for loader.json and loader.md")
    p.add_argument("--repeat", type=int, default=3, help="loader children per case; the fastest counts (default 3)")
    p.add_argument("--examples", type=int, default=32_000, help="examples per loader pass (default 32000)")
    p.add_argument("--threads", type=int, default=2, help="torch threads of the trainer (default 2)")
    # internal: run one measured step in this (child) process
    p.add_argument("--step", help=argparse.SUPPRESS)
    p.add_argument("--dir", help=argparse.SUPPRESS)
    p.add_argument("--task", help=argparse.SUPPRESS)
    p.add_argument("--config", help=argparse.SUPPRESS)
    p.add_argument("--rounds", type=int, default=LOADER_ROUNDS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if min(args.repeat, args.examples, args.threads) < 1:
        p.error("--repeat, --examples and --threads must be at least 1")
    return args


def check_inputs(demo: Path) -> str | None:
    """Why the benchmark cannot run, or None."""
    if not (demo / "mlm" / "manifest.json").is_file():
        return f"{demo} has no mlm shards: build them with make demo (or pass --shards DIR)"
    missing = [p for p in (MULTI30K / "train.de.gz", MULTI30K / "train.en.gz") if not p.is_file()]
    if missing:
        return f"Multi30K missing (is the shared data folder mounted?): {', '.join(map(str, missing))}"
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.step:
        return run_step(args)
    demo = Path(args.shards).resolve()
    if problem := check_inputs(demo):
        print(f"bench_loader: {problem}", file=sys.stderr)
        return 2
    env = environment() | versions()
    t0 = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="xlkit-bench-loader-") as tmp:
            work = Path(tmp)
            real, walls = build_real_shards(work)
            sets = {"demo": demo, "real": real}
            sizes = bytes_per_token("demo", demo) + bytes_per_token("real", real)
            loader_runs = measure_loader(sets, args.examples, args.repeat, work)
            trainer = measure_trainer(work, args.threads)
    except BenchError as exc:
        print(f"bench_loader: error: {exc}", file=sys.stderr)
        return 1
    report = build_report(env, sets, walls, sizes, loader_runs, trainer, args.repeat)
    report["total_wall_s"] = time.perf_counter() - t0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "loader.json").write_text(json.dumps(report, indent=2) + "\n")
    md = render_markdown(report)
    (out / "loader.md").write_text(md)
    print(md)
    print(f"bench_loader: wrote {out / 'loader.json'} and {out / 'loader.md'} in {report['total_wall_s']:.0f} s "
          f"(peak RSS of the children: {max_rss(report):.0f} MiB)", file=sys.stderr)
    return 0


def max_rss(report: dict) -> float:
    raw = report["raw"]
    rss = [r["self_peak_rss_mib"] for runs in raw["loader"].values() for r in runs]
    return float(max(rss + [r["self_peak_rss_mib"] for r in raw["trainer"].values()]))


if __name__ == "__main__":
    sys.exit(main())
