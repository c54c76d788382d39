"""Trainer benchmark (issue 5): our Trainer against a bare transformers loop and the HF Trainer on CPU,
and the cost of every objective relative to MMLM.

    .venv/bin/python bench/bench_trainer.py [--sizes tiny,small] [--steps N] [--warmup N] [--batch-size N]
                                            [--threads 1] [--repeat 1] [--shards DIR] [--out bench/results]

Shards: ``--shards DIR`` (a ``make shards`` output with the mlm, pairs, mono, mep, oe and docs
tasks); by default runs/demo/shards when ``make demo`` wrote it, else bench/.cache/demo/shards,
built on first use with the calls of the ``demo_shards`` fixture (tests/conftest.py): the embedded
samples of five languages -> KG, corpus, parallel, monolingual -> a 1000-piece tokenizer ->
shards with --max-len 128 (needs Java for Spark; a few minutes).

Every model is an ``XLMRobertaForMaskedLM`` of the named size (trainer/model.py SIZES) with the
shards' vocabulary, built from a config (random weights, nothing downloaded). Our trainer runs with
the ``tiny`` preset's optimiser and objective settings (lr 1e-3, MEP/OE queues of 16) and
``model.size`` overridden, fp32, dropout 0.1. Each part runs in its own child process, with
``--threads`` torch threads (default 1: on a shared 2-core machine two OpenMP threads spin at
their barriers whenever the other one is descheduled, which makes both wall and CPU time far
noisier).

a. bare   ``Trainer.train_step`` on MMLM (rows -> per-example masking -> collate -> forward with
          the vocabulary projection at masked positions only -> backward -> clip -> AdamW ->
          scheduler -> metrics) against two bare loops on the SAME batches, pre-collated by our
          MMLM objective from a second stream with the same seed (checked: step k of every arm has
          the same tokens and targets), with the same initial weights and AdamW settings:
          ``bare``: ``model(input_ids, attention_mask, labels).loss``, backward, ``opt.step()``,
          ``zero_grad`` (the vocabulary projection at every position, as transformers does);
          ``bare-masked``: the same loop, projection at the masked positions only (our forward).
          The arms rotate every step (A B C, B C A, ...); ``--warmup`` steps are dropped; the
          median step counts. Ratio ours/bare: the goal is <= 1.05. Ours/bare-masked isolates
          our per-step overhead. Each step is split into phases (data, forward, backward, clip,
          optimizer, rest) by timing wrappers installed in the child.
b. hf     tokens/s of our trainer against ``transformers.Trainer`` + ``DataCollatorForLanguageModeling``
          (mlm_probability 0.15) on the same mlm shard rows in the same order (a torch Dataset of
          ``{"input_ids": list}``, ``train_sampling_strategy="sequential"``), the same model config,
          initial weights, batch size, lr, betas, eps, weight decay, clipping and warm-up; no eval,
          no saving, no logging, report_to none, dataloader_num_workers 0, use_cpu. The two run
          interleaved: a TrainerCallback runs one step of ours in HF's ``on_step_end``; an HF step
          is the time from the end of our previous step to HF's next ``on_step_end`` (its data
          loading and collation included). Steady state: the first ``--warmup`` steps are dropped.
          Tokens are real (non-padding) tokens. Goal: ours faster (ratio > 1).
c. objectives  one trainer with the six objectives (recipe=all's weights); each step is forced to one task,
          the tasks rotate (``--steps`` rounds after ``--warmup``); median step time, tokens per
          step (MEP/OE count their entity documents' tokens too, as the trainer does), and time per
          token; ratios to MMLM per step and per token, and the Ernie-M (mmlm, tlm, camlm, btmlm
          1:1:1:1), XLM-K and ``all`` mixes computed from them. Ernie-M reports 1.075x for its full
          recipe against XLM-R.
profile   cProfile of ``--profile-steps`` MMLM steps of ours: the functions with the most own time,
          and the time by source (trainer, transformers, torch, numpy/pyarrow).

Writes OUT/trainer.json, OUT/trainer.md and OUT/trainer_profile.txt; prints the summary. Exits non-zero
only on errors (a failed child, or arms that did not see the same batches); goals are reported,
never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_kg import ROOT, BenchError, _md_table, environment, run_child

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from jobs.sample_pipeline import steps  # noqa: E402 (needs ROOT on sys.path)

CACHE = ROOT / "bench" / ".cache" / "demo"
DEMO = ROOT / "runs" / "demo" / "shards"
TASKS = ("mmlm", "tlm", "camlm", "btmlm", "mep", "oe")
SHARD_TASKS = ("mlm", "pairs", "mono", "mep", "oe", "docs")
MIXES = {"ernie-m": ("mmlm", "tlm", "camlm", "btmlm"), "xlm-k": ("mmlm", "mep", "oe"), "all": TASKS}
# per size: (batch size, measured steps per arm, warm-up steps, profiled steps); --batch-size, --steps,
# --warmup and --profile-steps override them
SIZE_DEFAULTS = {"tiny": (16, 60, 5, 10), "small": (8, 10, 1, 3), "base": (8, 4, 1, 2), "large": (4, 3, 1, 2)}
GOAL_BARE = 1.05
ERNIE_M_REPORTED = 1.075
PHASES = ("data", "forward", "backward", "clip", "optimizer", "rest")


# ---- shards -----------------------------------------------------------------------------------------------


def complete(shards: Path) -> bool:
    return all((shards / t / "manifest.json").is_file() for t in SHARD_TASKS)


def build_demo_shards(log_dir: Path) -> Path:
    """The demo pipeline (jobs/sample_pipeline.py, as the demo_shards fixture runs it), each job in its own process, into
    bench/.cache/demo; built in a scratch directory and renamed, so a failed build is never reused."""
    scratch = CACHE.with_name("demo.building")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    jobs, out = steps(scratch)
    shards = out["shards"]
    for name, args in jobs:
        print(f"bench_trainer: building the demo shards: {name} ...", file=sys.stderr, flush=True)
        run_child([sys.executable, str(ROOT / "jobs" / f"{name}.py"), *args], log_dir / f"{name}.log")
    # the shards' manifest names the tokenizer by its absolute path: rewrite it for the final place
    for manifest in shards.rglob("manifest.json"):
        text = manifest.read_text()
        manifest.write_text(text.replace(str(scratch), str(CACHE)))
    shutil.rmtree(CACHE, ignore_errors=True)
    scratch.rename(CACHE)
    return CACHE / "shards"


def resolve_shards(arg: str | None, log_dir: Path) -> Path:
    if arg:
        shards = Path(arg).resolve()
        if not complete(shards):
            raise BenchError(f"{shards} lacks one of the {', '.join(SHARD_TASKS)} shard tasks: build them with "
                             "make shards (all tasks), or leave out --shards to use the demo shards")
        return shards
    if complete(DEMO):
        return DEMO
    if complete(CACHE / "shards"):
        return CACHE / "shards"
    return build_demo_shards(log_dir)


# ---- child helpers ----------------------------------------------------------------------------------------


def offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def build_trainer(args: argparse.Namespace, tasks: tuple[str, ...], out: str):
    """Our Trainer on CPU (fp32) with the tiny preset's settings, model.size=args.size and weight 1 on
    each of ``tasks`` (0 on every other objective)."""
    import torch

    from trainer import dist
    from trainer.config import load_config
    from trainer.train import build

    torch.set_num_threads(args.threads)
    cfg = load_config("tiny", [f"shards={args.shards}", f"out={out}", "recipe=mmlm", f"model.size={args.size}",
                               f"batch_size={args.batch_size}", "steps=100000", "device=cpu", "precision=fp32",
                               "progress=false", "objectives.mmlm.weight=0"]
                      + [f"objectives.{t}.weight=1" for t in tasks])
    return build(cfg, dist.Env())


class Phases:
    """Accumulates the seconds of wrapped callables into the current step's record."""

    def __init__(self):
        self.current: dict | None = None

    def wrap(self, name: str, fn):
        def timed(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                if self.current is not None:
                    self.current[name] = self.current.get(name, 0.0) + time.perf_counter() - t0
        return timed


class TimedObjective:
    """Delegates to an objective; its call (forward + loss) is timed as 'forward'."""

    def __init__(self, obj, phases: Phases):
        self._obj = obj
        self._call = phases.wrap("forward", obj.__call__)

    def __call__(self, *a, **k):
        return self._call(*a, **k)

    def __getattr__(self, name):
        return getattr(self._obj, name)


def instrument(tr, phases: Phases) -> None:
    """Phase timers around our step's parts (this child process only): data = stream + make_batch,
    forward = the objective's call, backward = Tensor.backward, clip, optimizer = AdamW step."""
    import torch

    tr.micro_batches = phases.wrap("data", tr.micro_batches)
    for name in list(tr.objectives):
        tr.objectives[name] = TimedObjective(tr.objectives[name], phases)
    torch.Tensor.backward = phases.wrap("backward", torch.Tensor.backward)
    torch.nn.utils.clip_grad_norm_ = phases.wrap("clip", torch.nn.utils.clip_grad_norm_)
    tr.opt.step = phases.wrap("optimizer", tr.opt.step)


def timed_run(phases: Phases, fn) -> tuple[object, dict]:
    rec: dict = {}
    phases.current = rec
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        out = fn()
    finally:
        rec["wall"], rec["cpu"] = time.perf_counter() - t0, time.process_time() - c0
        phases.current = None
    rec["rest"] = max(0.0, rec["wall"] - sum(rec.get(p, 0.0) for p in PHASES if p != "rest"))
    return out, rec


def same_batches(tr, n: int) -> list:
    """The first n MMLM batches our trainer will draw, collated by our objective from a second stream."""
    from trainer.data import TaskStream
    from trainer.objectives import Example

    s = tr.streams["mmlm"]
    clone = TaskStream(s.shards, seed=s.seed, rank=s.rank, world_size=s.world_size)
    obj = tr.objectives["mmlm"]
    return [obj.make_batch([Example(k, r) for k, r in clone.take_keyed(tr.cfg.batch_size)]) for _ in range(n)]


def copy_mlm(tr):
    from transformers import XLMRobertaForMaskedLM

    m = XLMRobertaForMaskedLM(tr.model.mlm.config)
    m.load_state_dict(tr.model.mlm.state_dict())
    m.train()
    return m


def adamw(model, cfg):
    import torch

    o = cfg.optim
    return torch.optim.AdamW(model.parameters(), lr=o.lr, betas=tuple(o.betas), eps=o.eps, weight_decay=o.weight_decay)


# ---- child: a. ours against bare loops ----------------------------------------------------------------------


def step_bare(args: argparse.Namespace) -> dict:
    import torch
    import torch.nn.functional as F

    with tempfile.TemporaryDirectory() as out:
        tr = build_trainer(args, ("mmlm",), out)
        n = args.warmup + args.steps
        batches = same_batches(tr, n)
        bare, masked = copy_mlm(tr), copy_mlm(tr)
        opt_bare, opt_masked = adamw(bare, tr.cfg), adamw(masked, tr.cfg)
        phases = Phases()
        instrument(tr, phases)

        def ours(k: int):
            r = tr.train_step()
            return r.tokens, r.n_targets

        def plain(k: int):
            b = batches[k].tensors
            t0 = time.perf_counter()
            loss = bare(input_ids=b["input_ids"], attention_mask=b["attention_mask"], labels=b["labels"]).loss
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            opt_bare.step()
            t3 = time.perf_counter()
            opt_bare.zero_grad(set_to_none=True)
            phases.current.update(forward=t1 - t0, optimizer=t3 - t2)   # backward: the Tensor.backward timer
            return batches[k].tokens, batches[k].n_targets

        def plain_masked(k: int):
            b = batches[k].tensors
            t0 = time.perf_counter()
            hidden = masked.roberta(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).last_hidden_state
            sel = b["labels"] != -100
            loss = F.cross_entropy(masked.lm_head(hidden[sel]).float(), b["labels"][sel])
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            opt_masked.step()
            t3 = time.perf_counter()
            opt_masked.zero_grad(set_to_none=True)
            phases.current.update(forward=t1 - t0, optimizer=t3 - t2)
            return batches[k].tokens, batches[k].n_targets

        arms = {"ours": ours, "bare": plain, "bare-masked": plain_masked}
        names = list(arms)
        records: dict[str, list[dict]] = {a: [] for a in names}
        for k in range(n):
            order = names[k % len(names):] + names[:k % len(names)]
            seen = {}
            for a in order:
                seen[a], rec = timed_run(phases, lambda a=a, k=k: arms[a](k))
                rec["tokens"], rec["targets"] = seen[a]
                records[a].append(rec)
            if len(set(seen.values())) != 1:
                raise BenchError(f"step {k}: the arms saw different batches (tokens, targets): {seen}")
        widths = [int(b["input_ids"].shape[1]) for b in batches]
        return {"arms": records, "warmup": args.warmup, "widths": widths,
                "params": sum(p.numel() for p in bare.parameters()), "threads": torch.get_num_threads()}


# ---- child: b. ours against the HF Trainer ------------------------------------------------------------------


def step_hf(args: argparse.Namespace) -> dict:
    import torch
    from transformers import (
        AutoTokenizer,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    from trainer.data import TaskStream

    with tempfile.TemporaryDirectory() as out:
        tr = build_trainer(args, ("mmlm",), out)
        n, bs = args.warmup + args.steps, tr.cfg.batch_size
        s = tr.streams["mmlm"]
        clone = TaskStream(s.shards, seed=s.seed, rank=s.rank, world_size=s.world_size)
        rows = [r["input_ids"] for r in clone.take(n * bs)]          # our stream's order, step by step

        class Rows(torch.utils.data.Dataset):
            def __len__(self):
                return len(rows)

            def __getitem__(self, i):
                return {"input_ids": rows[i]}

        o = tr.cfg.optim
        targs = TrainingArguments(
            output_dir=os.path.join(out, "hf"), max_steps=n, per_device_train_batch_size=bs, learning_rate=o.lr,
            weight_decay=o.weight_decay, adam_beta1=o.betas[0], adam_beta2=o.betas[1], adam_epsilon=o.eps,
            max_grad_norm=o.clip_norm, warmup_steps=o.warmup_steps, lr_scheduler_type="linear", optim="adamw_torch",
            logging_strategy="no", save_strategy="no", eval_strategy="no", report_to="none", disable_tqdm=True,
            dataloader_num_workers=0, dataloader_pin_memory=False, use_cpu=True, seed=tr.cfg.seed,
            train_sampling_strategy="sequential")
        hf_model = copy_mlm(tr)
        collator = DataCollatorForLanguageModeling(AutoTokenizer.from_pretrained(tr.tok.path), mlm=True,
                                                   mlm_probability=0.15)
        records: dict[str, list[dict]] = {"ours": [], "hf": []}

        class Interleave(TrainerCallback):
            def __init__(self):
                self.mark = self.cpu_mark = None

            def on_train_begin(self, *a, **k):
                torch.set_num_threads(args.threads)
                self.mark, self.cpu_mark = time.perf_counter(), time.process_time()

            def on_step_end(self, a, state, control, **k):
                now, cpu = time.perf_counter(), time.process_time()
                step = len(records["hf"])
                tokens = sum(len(r) for r in rows[step * bs:(step + 1) * bs])
                records["hf"].append({"wall": now - self.mark, "cpu": cpu - self.cpu_mark, "tokens": tokens})
                t0, c0 = time.perf_counter(), time.process_time()
                r = tr.train_step()
                records["ours"].append({"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                                        "tokens": r.tokens})
                if r.tokens != tokens:
                    raise BenchError(f"step {step}: ours took {r.tokens} tokens, HF {tokens}: not the same rows")
                self.mark, self.cpu_mark = time.perf_counter(), time.process_time()

        hf = Trainer(model=hf_model, args=targs, train_dataset=Rows(), data_collator=collator,
                     callbacks=[Interleave()])
        torch.set_num_threads(args.threads)
        hf.train()
        if len(records["hf"]) != n:
            raise BenchError(f"the HF Trainer ran {len(records['hf'])} steps, not {n}")
        return {"arms": records, "warmup": args.warmup, "threads": torch.get_num_threads()}


# ---- child: c. every objective -------------------------------------------------------------------------------


def step_objectives(args: argparse.Namespace) -> dict:
    import torch

    with tempfile.TemporaryDirectory() as out:
        tr = build_trainer(args, TASKS, out)
        phases = Phases()
        instrument(tr, phases)
        forced = {"task": "mmlm"}
        tr.draw_task = lambda step: forced["task"]         # this instance only: a single-task step on demand
        positions = {}
        inner = tr.micro_batches

        def counted(task):
            batches = inner(task)
            positions[task] = sum(int(b.tensors[k].numel()) for b in batches
                                  for k in ("input_ids", "key_ids", "stage1_ids") if k in b.tensors)
            return batches

        tr.micro_batches = counted
        records: dict[str, list[dict]] = {t: [] for t in TASKS}
        for k in range(args.warmup + args.steps):
            order = TASKS[k % len(TASKS):] + TASKS[:k % len(TASKS)]
            for task in order:
                forced["task"] = task
                r, rec = timed_run(phases, tr.train_step)
                if r.task != task:
                    raise BenchError(f"asked for a {task} step, the trainer ran {r.task}")
                rec |= {"tokens": r.tokens, "targets": r.n_targets, "positions": positions[task]}
                records[task].append(rec)
        return {"arms": records, "warmup": args.warmup, "threads": torch.get_num_threads()}


# ---- child: profile ---------------------------------------------------------------------------------------------


def step_profile(args: argparse.Namespace) -> dict:
    import cProfile
    import io
    import pstats

    import torch

    with tempfile.TemporaryDirectory() as out:
        tr = build_trainer(args, ("mmlm",), out)
        for _ in range(args.warmup):
            tr.train_step()
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        for _ in range(args.steps):
            tr.train_step()
        prof.disable()
        wall = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    total = sum(v[2] for v in stats.stats.values())                      # own time of every function
    by_source: dict[str, float] = {}
    rows = []
    for (path, line, func), (_cc, ncalls, own, cum, _callers) in stats.stats.items():
        src = source_of(path, func)
        by_source[src] = by_source.get(src, 0.0) + own
        rows.append({"function": f"{short(path)}:{line}({func})", "calls": ncalls, "own_s": own, "cum_s": cum})
    rows.sort(key=lambda r: -r["own_s"])
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(30)
    cum_rows = sorted(rows, key=lambda r: -r["cum_s"])
    return {"steps": args.steps, "wall_s": wall, "own_total_s": total, "threads": torch.get_num_threads(),
            "by_source": {k: v / total for k, v in sorted(by_source.items(), key=lambda kv: -kv[1])},
            "top_own": rows[:20], "top_cum_trainer": [r for r in cum_rows if "trainer/" in r["function"]][:15],
            "text": buf.getvalue()}


def short(path: str) -> str:
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def source_of(path: str, func: str) -> str:
    p = path.replace("\\", "/")
    if "/trainer/" in p and "site-packages" not in p:
        return "trainer (ours)"
    for lib in ("transformers", "torch", "numpy", "pyarrow"):
        if f"site-packages/{lib}/" in p:
            return lib
    if path == "~":                          # builtins: C functions, torch ops show up here
        if "torch" in func or "_C" in func or "method 'backward'" in func or "run_backward" in func:
            return "torch (C ops)"
        return "builtins (C ops)"
    return "other python"


CHILD_STEPS = {"bare": step_bare, "hf": step_hf, "objectives": step_objectives, "profile": step_profile}


def run_step(args: argparse.Namespace) -> int:
    offline()
    result = CHILD_STEPS[args.step](args)
    print(json.dumps(result))
    return 0


def run_step_child(step: str, work: Path, tag: str, **opts) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--step", step]
    for key, value in opts.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    print(f"bench_trainer: {step} {tag} ...", file=sys.stderr, flush=True)
    run = run_child(cmd, work / f"{step}-{tag}.log")
    return json.loads(run.stdout.strip().splitlines()[-1]) | {"child_wall_s": run.wall_s}


# ---- summaries ------------------------------------------------------------------------------------------------


def measured(records: list[dict], warmup: int) -> list[dict]:
    return records[warmup:] or records


def med(records: list[dict], key: str) -> float:
    return statistics.median(r.get(key, 0.0) for r in records)


def spread(values: list[float]) -> list[float]:
    """[first quartile, third quartile] (of per-step ratios)."""
    if len(values) < 2:
        return [values[0], values[0]] if values else [float("nan")] * 2
    q = statistics.quantiles(values, n=4)
    return [q[0], q[2]]


def summarize_bare(res: dict) -> dict:
    arms = {a: measured(r, res["warmup"]) for a, r in res["arms"].items()}
    out = {"steps": len(arms["ours"]), "tokens_per_step": med(arms["ours"], "tokens"), "params": res["params"],
           "threads": res["threads"], "mean_width": statistics.mean(res["widths"])}
    for a, recs in arms.items():
        out[a] = {"step_s": med(recs, "wall"), "cpu_s": med(recs, "cpu"),
                  "phases_s": {p: med(recs, p) for p in PHASES},
                  "all_s": [round(r["wall"], 4) for r in recs]}
    for base in ("bare", "bare-masked"):
        pair = [o["wall"] / b["wall"] for o, b in zip(arms["ours"], arms[base], strict=True)]
        out[f"ratio_{base}"] = out["ours"]["step_s"] / out[base]["step_s"]
        out[f"ratio_{base}_cpu"] = out["ours"]["cpu_s"] / out[base]["cpu_s"]
        out[f"ratio_{base}_pairs_median"] = statistics.median(pair)
        out[f"ratio_{base}_pairs_iqr"] = spread(pair)
    out["goal_met"] = out["ratio_bare"] <= GOAL_BARE
    return out


def summarize_hf(res: dict) -> dict:
    arms = {a: measured(r, res["warmup"]) for a, r in res["arms"].items()}
    out = {"steps": len(arms["ours"])}
    for a, recs in arms.items():
        tokens, wall, cpu = (sum(r[k] for r in recs) for k in ("tokens", "wall", "cpu"))
        out[a] = {"tokens_per_s": tokens / wall, "tokens_per_cpu_s": tokens / cpu, "step_s": med(recs, "wall"),
                  "median_tokens_per_s": statistics.median(r["tokens"] / r["wall"] for r in recs),
                  "all_s": [round(r["wall"], 4) for r in recs]}
    pair = [h["wall"] / o["wall"] for o, h in zip(arms["ours"], arms["hf"], strict=True)]
    out["ratio"] = out["ours"]["tokens_per_s"] / out["hf"]["tokens_per_s"]
    out["ratio_cpu"] = out["ours"]["tokens_per_cpu_s"] / out["hf"]["tokens_per_cpu_s"]
    out["ratio_pairs_median"] = statistics.median(pair)
    out["ratio_pairs_iqr"] = spread(pair)
    out["goal_met"] = out["ratio"] > 1.0
    return out


def summarize_objectives(res: dict) -> dict:
    arms = {t: measured(r, res["warmup"]) for t, r in res["arms"].items()}
    rows = {}
    for t, recs in arms.items():
        rows[t] = {"step_s": med(recs, "wall"), "cpu_s": med(recs, "cpu"), "tokens": med(recs, "tokens"),
                   "positions": med(recs, "positions"), "targets": med(recs, "targets"),
                   "s_per_token": statistics.median(r["wall"] / r["tokens"] for r in recs),
                   "phases_s": {p: med(recs, p) for p in PHASES}}
    base = rows["mmlm"]
    for r in rows.values():
        r["ratio_step"] = r["step_s"] / base["step_s"]
        r["ratio_token"] = r["s_per_token"] / base["s_per_token"]
        r["ratio_position"] = (r["step_s"] / r["positions"]) / (base["step_s"] / base["positions"])
    mixes = {}
    for name, tasks in MIXES.items():
        step = statistics.mean(rows[t]["step_s"] for t in tasks)
        per_token = sum(rows[t]["step_s"] for t in tasks) / sum(rows[t]["tokens"] for t in tasks)
        mixes[name] = {"tasks": list(tasks), "step_s": step, "s_per_token": per_token,
                       "ratio_step": step / base["step_s"], "ratio_token": per_token / base["s_per_token"]}
    return {"steps": len(arms["mmlm"]), "tasks": rows, "mixes": mixes}


# ---- report ---------------------------------------------------------------------------------------------------


def ms(x: float) -> float:
    return x * 1000.0


def render_markdown(report: dict) -> str:
    env = report["environment"]
    out = ["# Trainer benchmark (issue 5)", "",
           f"{env['date']} on {env['cpu']} ({env['cpus']} CPUs, {report['threads']} torch thread(s)), Python "
           f"{env['python']}, torch {env['torch']}, transformers {env['transformers']}, accelerate "
           f"{env['accelerate']}; load average {env['loadavg_start']} at the start, {env['loadavg_end']} at the "
           f"end (a shared machine: timings are noisy, so every comparison is interleaved in one process).", "",
           f"Shards: `{report['shards']}` (vocabulary {report['vocab']}, max_len {report['max_len']}).", "",
           "## a. Trainer.train_step on MMLM against a bare transformers loop on the same batches", ""]
    rows = []
    for size, r in report["sizes"].items():
        a = r["bare"]
        rows.append([size, r["batch_size"], a["steps"], a["tokens_per_step"], ms(a["ours"]["step_s"]),
                     ms(a["bare"]["step_s"]), ms(a["bare-masked"]["step_s"]), a["ratio_bare"],
                     a["ratio_bare_pairs_iqr"], a["ratio_bare_cpu"], a["ratio_bare-masked"],
                     a["ratio_bare-masked_cpu"], "yes" if a["goal_met"] else "no"])
    out += _md_table(["size", "batch", "steps", "tokens/step", "ours ms", "bare ms", "bare-masked ms",
                      "ours/bare", "per-step IQR", "ours/bare CPU", "ours/bare-masked", "ours/bare-masked CPU",
                      f"≤ {GOAL_BARE}"], rows)
    out += ["", "Median step phases, ms (data = stream + make_batch; rest = scheduler, zero_grad, metrics, ...):",
            ""]
    prow = []
    for size, r in report["sizes"].items():
        for arm in ("ours", "bare", "bare-masked"):
            ph = r["bare"][arm]["phases_s"]
            prow.append([size, arm, ms(r["bare"][arm]["step_s"])] + [ms(ph[p]) for p in PHASES])
    out += _md_table(["size", "arm", "step"] + list(PHASES), prow)
    out += ["", "## b. Tokens/s against the HF Trainer + DataCollatorForLanguageModeling (steady state)", ""]
    out += _md_table(["size", "batch", "steps", "ours tokens/s", "HF tokens/s", "ours/HF", "per-step IQR",
                      "ours/HF by CPU time", "faster"],
                     [[size, r["batch_size"], r["hf"]["steps"], r["hf"]["ours"]["tokens_per_s"],
                       r["hf"]["hf"]["tokens_per_s"], r["hf"]["ratio"], r["hf"]["ratio_pairs_iqr"], r["hf"]["ratio_cpu"],
                       "yes" if r["hf"]["goal_met"] else "no"] for size, r in report["sizes"].items()])
    out += ["", "## c. Cost of each objective relative to MMLM (same batch size)", ""]
    for size, r in report["sizes"].items():
        c = r["objectives"]
        out += [f"{size}, batch {r['batch_size']}, {c['steps']} rounds:", ""]
        trows = [[t, ms(x["step_s"]), x["tokens"], x["positions"], x["targets"], ms(x["s_per_token"]) * 1000,
                  ms(x["phases_s"]["data"]), x["ratio_step"], x["ratio_token"], x["ratio_position"]]
                 for t, x in c["tasks"].items()]
        trows += [[f"mix {name} ({':'.join(m['tasks'])})", ms(m["step_s"]), None, None, None,
                   ms(m["s_per_token"]) * 1000, None, m["ratio_step"], m["ratio_token"], None]
                  for name, m in c["mixes"].items()]
        out += _md_table(["objective", "step ms", "tokens/step", "positions/step", "targets/step",
                          "µs/token", "data ms", "vs MMLM per step", "vs MMLM per token",
                          "vs MMLM per position"], trows)
        out += [""]
    out += ["Tokens are real tokens (MEP/OE include their entity documents); positions are the padded "
            "positions every forward pass runs over (BTMLM: stage 1 and stage 2; MEP/OE: sentence and documents).",
            "", f"Ernie-M reports {ERNIE_M_REPORTED}x for its full recipe against XLM-R.", "",
            "## Profile: ours, MMLM steps (cProfile own time by source)", ""]
    for size, r in report["sizes"].items():
        p = r["profile"]
        out += [f"{size}: {p['steps']} steps, {p['wall_s']:.2f} s under the profiler: "
                + ", ".join(f"{k} {v:.0%}" for k, v in p["by_source"].items() if v >= 0.005), ""]
        out += _md_table(["function (most own time)", "calls", "own s", "cum s"],
                         [[x["function"], x["calls"], x["own_s"], x["cum_s"]] for x in p["top_own"][:12]])
        out += ["", "Trainer functions by cumulative time:", ""]
        out += _md_table(["function", "calls", "own s", "cum s"],
                         [[x["function"], x["calls"], x["own_s"], x["cum_s"]] for x in p["top_cum_trainer"][:10]])
        out += [""]
    return "\n".join(out)


def summary_lines(report: dict) -> list[str]:
    lines = []
    for size, r in report["sizes"].items():
        a, h, c = r["bare"], r["hf"], r["objectives"]
        lines.append(f"{size} (batch {r['batch_size']}): ours/bare {a['ratio_bare']:.3f} (goal <= {GOAL_BARE}: "
                     f"{'met' if a['goal_met'] else 'NOT met'}), ours/bare-masked {a['ratio_bare-masked']:.3f}; "
                     f"ours/HF Trainer tokens/s {h['ratio']:.2f}x ({'faster' if h['goal_met'] else 'NOT faster'}); "
                     + "; ".join(f"{t} {x['ratio_step']:.2f}x/step {x['ratio_token']:.2f}x/token"
                                 for t, x in c["tasks"].items() if t != "mmlm")
                     + f"; ernie-m mix {c['mixes']['ernie-m']['ratio_step']:.2f}x/step "
                       f"{c['mixes']['ernie-m']['ratio_token']:.2f}x/token")
    return lines


# ---- main -----------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="tiny", help="comma-separated model sizes: tiny, small, base, large "
                                                   "(default tiny)")
    p.add_argument("--steps", type=int, help="measured steps per arm (default per size: tiny 60, small 10, base 4)")
    p.add_argument("--warmup", type=int, help="warm-up steps per arm, dropped (default per size: tiny 5, small 1)")
    p.add_argument("--batch-size", type=int, help="sequences per step (default per size: tiny 16, small 8, base 8)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per child (default 1)")
    p.add_argument("--repeat", type=int, default=1, help="children per part and size, round robin; their steps "
                                                         "are pooled (default 1)")
    p.add_argument("--profile-steps", type=int, help="MMLM steps under cProfile (default per size: tiny 10, "
                                                    "small 3)")
    p.add_argument("--parts", default="bare,hf,objectives,profile", help="which parts to run (default all)")
    p.add_argument("--shards", help="a shard directory with every task (default: runs/demo/shards, else "
                                    "bench/.cache/demo/shards, built on first use)")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"), help="directory for trainer.json/.md")
    p.add_argument("--step", choices=sorted(CHILD_STEPS), help=argparse.SUPPRESS)
    p.add_argument("--size", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.step:
        return args
    from trainer.model import SIZES

    args.size_list = [s.strip() for s in args.sizes.split(",") if s.strip()]
    bad = [s for s in args.size_list if s not in SIZES]
    if bad or not args.size_list:
        p.error(f"--sizes: unknown size(s) {', '.join(bad) or '(none)'}; known: {', '.join(SIZES)}")
    args.part_list = [s.strip() for s in args.parts.split(",") if s.strip()]
    if not set(args.part_list) <= set(CHILD_STEPS):
        p.error(f"--parts: choose from {', '.join(CHILD_STEPS)}")
    for name in ("steps", "batch_size", "threads", "repeat", "profile_steps"):
        v = getattr(args, name)
        if v is not None and v < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup is not None and args.warmup < 0:
        p.error("--warmup must be at least 0")
    return args


def versions() -> dict:
    import accelerate
    import torch
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__, "accelerate": accelerate.__version__}


def pooled(results: list[dict]) -> dict:
    """Children of one part: their measured steps pooled (each child's warm-up dropped first)."""
    first = dict(results[0])
    arms = {a: [] for a in first["arms"]}
    for r in results:
        for a, recs in r["arms"].items():
            arms[a] += measured(recs, r["warmup"])
    first["arms"], first["warmup"] = arms, 0
    if "widths" in first:
        first["widths"] = [w for r in results for w in r["widths"]]
    return first


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.step:
        return run_step(args)
    try:
        import accelerate  # noqa: F401
    except ImportError:
        print("bench_trainer: the HF Trainer needs accelerate: .venv/bin/pip install --no-deps accelerate",
              file=sys.stderr)
        return 2
    env = environment() | versions()
    t0 = time.perf_counter()
    report: dict = {"environment": env, "threads": args.threads, "repeat": args.repeat, "sizes": {}}
    try:
        with tempfile.TemporaryDirectory(prefix="xlkit-bench-trainer-") as tmp:
            work = Path(tmp)
            shards = resolve_shards(args.shards, work)
            mlm = json.loads((shards / "mlm" / "manifest.json").read_text())
            report |= {"shards": str(shards), "max_len": mlm.get("max_len"),
                       "vocab": vocab_size(shards, mlm)}
            for size in args.size_list:
                bs, steps, warm, prof = SIZE_DEFAULTS[size]
                bs, steps, prof = args.batch_size or bs, args.steps or steps, args.profile_steps or prof
                warm = warm if args.warmup is None else args.warmup
                common = {"shards": shards, "size": size, "batch_size": bs, "threads": args.threads}
                raw: dict[str, list[dict]] = {p: [] for p in args.part_list}
                for rep in range(args.repeat):
                    for part in args.part_list:
                        n = prof if part == "profile" else steps
                        raw[part].append(run_step_child(part, work, f"{size}-{rep}", steps=n, warmup=warm,
                                                        **common))
                entry = {"batch_size": bs, "steps": steps, "warmup": warm}
                if "bare" in raw:
                    entry["bare"] = summarize_bare(pooled(raw["bare"]))
                if "hf" in raw:
                    entry["hf"] = summarize_hf(pooled(raw["hf"]))
                if "objectives" in raw:
                    entry["objectives"] = summarize_objectives(pooled(raw["objectives"]))
                if "profile" in raw:
                    entry["profile"] = raw["profile"][0]
                entry["raw_child_wall_s"] = {p: [r["child_wall_s"] for r in rs] for p, rs in raw.items()}
                report["sizes"][size] = entry
    except BenchError as exc:
        print(f"bench_trainer: error: {exc}", file=sys.stderr)
        return 1
    env["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    report["total_wall_s"] = time.perf_counter() - t0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    profile_text = "\n\n".join(f"== {size} ==\n{r['profile'].pop('text')}" for size, r in report["sizes"].items()
                               if "profile" in r)
    (out / "trainer.json").write_text(json.dumps(report, indent=2) + "\n")
    if set(args.part_list) == set(CHILD_STEPS):
        md = render_markdown(report)
        (out / "trainer.md").write_text(md)
        (out / "trainer_profile.txt").write_text(profile_text)
        print(md)
    for line in summary_lines(report) if set(args.part_list) == set(CHILD_STEPS) else []:
        print(line)
    print(f"bench_trainer: wrote {out / 'trainer.json'} in {report['total_wall_s']:.0f} s", file=sys.stderr)
    return 0


def vocab_size(shards: Path, manifest: dict) -> int | None:
    top = shards / "manifest.json"
    tok = json.loads(top.read_text()).get("tokenizer") if top.is_file() else None
    try:
        from transformers import AutoTokenizer

        return len(AutoTokenizer.from_pretrained(tok)) if tok else None
    except (OSError, ValueError):
        return None


if __name__ == "__main__":
    sys.exit(main())
