"""The training loop: one task per step, gradient accumulation, explicit all-reduce, checkpoints.

    python -m trainer.train tiny shards=runs/demo/shards out=runs/train recipe=ernie-m
    torchrun --nproc-per-node 2 -m trainer.train tiny shards=... out=...

Each step draws one objective with probability proportional to its weight (single-task batches,
as in XLM-K; the draw depends only on the seed and the step, so every rank draws the same). The
rank takes ``grad_accum`` micro-batches of ``batch_size`` rows from that objective's stream,
scales each micro-batch loss by its share of the global target count, backpropagates, and then
the gradients are summed over ranks, clipped, and AdamW steps. Dropout is reseeded from (seed,
step, rank) at every step and all other randomness comes from per-example generators, so a run
resumed from a checkpoint repeats the uninterrupted run exactly.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import torch

from xlkit_core.environment import check_environment
from xlkit_core.errors import ConfigError
from xlkit_core.shards import ShardFormatError, ShardSet

from . import checkpoint, dist
from .config import RESUMABLE_KEYS, TrainConfig, check_values, flatten, from_dict, load_config, to_dict
from .data import DocStore, TaskStream
from .model import Encoder, build_model
from .objectives import REGISTRY, Batch, Context, Example, Objective

METRICS = "metrics.jsonl"
DOCS = "docs"        # the entity-document shards, read by key (DocStore), never streamed


# ---- setup -------------------------------------------------------------------------------------------


@dataclass
class TokenizerInfo:
    path: str
    bos: int
    eos: int
    pad: int
    mask: int
    vocab_size: int
    checksum: str | None


def load_tokenizer_info(path: str) -> TokenizerInfo:
    from transformers import AutoTokenizer

    if not os.path.isdir(path):
        raise ConfigError(f"tokenizer {path} does not exist; pass tokenizer=<dir> (make tokenizer writes one)")
    tok = AutoTokenizer.from_pretrained(path)
    checksum = None
    if os.path.exists(os.path.join(path, "sentencepiece.bpe.model")):
        from xlkit_core.tokenizer import XlmrTokenizer

        checksum = XlmrTokenizer.load(path).checksum()
    ids = (tok.bos_token_id, tok.eos_token_id, tok.pad_token_id, tok.mask_token_id)
    if None in ids:
        raise ConfigError(f"tokenizer {path} lacks one of <s> </s> <pad> <mask>; use an XLM-R-style tokenizer")
    return TokenizerInfo(path, *ids, len(tok), checksum)


@dataclass
class Data:
    shards: dict[str, ShardSet]
    langs: list[str]
    max_len: int
    docs: DocStore | None = None
    tokenizer_sha256: str | None = None


def open_data(cfg: TrainConfig, objectives: dict[str, type[Objective]]) -> Data:
    """Open (and verify) every shard directory the enabled objectives need."""
    shards: dict[str, ShardSet] = {}
    for name, cls in objectives.items():
        ocfg = getattr(cfg.objectives, name)
        for task in cls.shard_tasks(ocfg):
            path = cls.shard_dir(ocfg, task, cfg.shards)
            if task in shards:
                continue
            if not os.path.exists(os.path.join(path, "manifest.json")):
                raise ConfigError(f"objectives.{name} needs the {task} shards, but {path} has none: "
                                  f"{cls.missing_hint(ocfg, task)}, or set objectives.{name}.weight=0")
            try:
                shards[task] = ShardSet.open(path)
            except ShardFormatError as exc:
                raise ConfigError(str(exc)) from None
            if len(shards[task]) == 0:
                raise ConfigError(f"objectives.{name}: {path} holds no rows; rebuild the shards with more data "
                                  f"or set objectives.{name}.weight=0")
    langs = sorted(set().union(*(cls.languages(getattr(cfg.objectives, name), shards)
                                 for name, cls in objectives.items())))
    sums = {s.manifest.get("tokenizer_sha256") for s in shards.values()}
    if len(sums) > 1:
        raise ConfigError(f"the shards were built with {len(sums)} different tokenizers; rebuild them with one")
    max_len = max(int(s.manifest.get("max_len", 512)) for s in shards.values())
    docs = DocStore(shards[DOCS]) if DOCS in shards else None
    return Data(shards, langs, max_len, docs, sums.pop())


def validate(cfg: TrainConfig, data: Data, tok: TokenizerInfo, env: dist.Env,
             objectives: dict[str, type[Objective]]) -> None:
    """Everything that would fail later, as one clear line each, before the first step."""
    problems = []
    if tok.checksum and data.tokenizer_sha256 and tok.checksum != data.tokenizer_sha256:
        problems.append(f"the shards were built with tokenizer {data.tokenizer_sha256[:12]}, but {tok.path} is "
                        f"{tok.checksum[:12]}: pass tokenizer=<the dir make shards used> or rebuild the shards")
    for name, cls in objectives.items():
        problems += cls.data_problems(getattr(cfg.objectives, name), data)
    streamed = {cls.shard_tasks(getattr(cfg.objectives, name))[0] for name, cls in objectives.items()}
    for task, s in data.shards.items():
        if task in streamed and len(s) < env.world:
            problems.append(f"{s.directory} has {len(s)} rows, fewer than the {env.world} ranks")
    if problems:
        raise ConfigError("; ".join(problems))


def enabled_objectives(cfg: TrainConfig) -> dict[str, type[Objective]]:
    return {name: REGISTRY[name] for name in sorted(cfg.objectives.enabled())}


# ---- the trainer -------------------------------------------------------------------------------------


def lr_lambda(warmup: int, total: int):
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))
    return f


def build_optimizer(model: torch.nn.Module, cfg: TrainConfig, device: torch.device):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "LayerNorm" in name or "bias" in name else decay).append(p)
    o = cfg.optim
    groups = [{"params": decay, "weight_decay": o.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=o.lr, betas=tuple(o.betas), eps=o.eps, fused=device.type == "cuda")
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(o.warmup_steps, cfg.steps))
    return opt, sched


@dataclass
class StepResult:
    task: str
    loss: float
    metrics: dict[str, float]
    tokens: int
    n_targets: int
    lr: float
    seconds: float


@dataclass
class Trainer:
    cfg: TrainConfig
    env: dist.Env
    model: Encoder
    objectives: dict[str, Objective]
    streams: dict[str, TaskStream]
    opt: torch.optim.Optimizer
    sched: object
    tok: TokenizerInfo
    data: Data
    step: int = 0
    totals: dict = field(default_factory=lambda: defaultdict(float))

    @property
    def autocast(self):
        use_bf16 = self.cfg.precision == "bf16" or (self.cfg.precision == "auto" and self.env.device.type == "cuda")
        return torch.autocast(self.env.device.type, dtype=torch.bfloat16, enabled=use_bf16)

    def draw_task(self, step: int) -> str:
        names = sorted(self.objectives)
        w = np.array([getattr(self.cfg.objectives, n).weight * self.objectives[n].active(step, self.cfg.steps)
                      for n in names], dtype=np.float64)
        return names[int(np.random.default_rng([self.cfg.seed, step, 7]).choice(len(names), p=w / w.sum()))]

    def micro_batches(self, task: str) -> list[Batch]:
        obj, stream = self.objectives[task], self.streams[task]
        return [obj.make_batch([Example(k, r) for k, r in stream.take_keyed(self.cfg.batch_size)])
                for _ in range(self.cfg.grad_accum)]

    def train_step(self) -> StepResult:
        t0 = time.perf_counter()
        step, cfg, env = self.step, self.cfg, self.env
        task = self.draw_task(step)
        torch.manual_seed(cfg.seed * 1_000_003 + step * 1_009 + env.rank)
        obj = self.objectives[task]
        batches = self.micro_batches(task)
        total = dist.all_reduce_sum(torch.tensor([float(sum(b.n_targets for b in batches))]))
        n_global = float(total[0])
        self.model.train()
        sums: dict[str, torch.Tensor] = {}     # stay on the device: one host sync per step, at the end
        loss_sum = torch.zeros((), device=env.device, dtype=torch.float64)
        for batch in batches:
            batch = batch.to(env.device)
            with self.autocast:
                loss, metrics = obj(self.model, batch)
            share = batch.n_targets / n_global if n_global > 0 else 0.0
            (loss * share).backward()
            loss_sum += loss.detach().double() * batch.n_targets
            for k, v in metrics.items():
                sums[k] = sums.get(k, 0) + v.detach().double().to(env.device) * batch.n_targets
        params = [p for p in self.model.parameters() if p.requires_grad]
        dist.all_reduce_grads(params)
        if cfg.optim.clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(params, cfg.optim.clip_norm)
        lr = self.sched.get_last_lr()[0]
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad(set_to_none=True)
        keys = sorted(sums)
        packed = torch.stack([loss_sum, torch.tensor(float(sum(b.tokens for b in batches)), dtype=torch.float64,
                                                     device=env.device)] + [torch.as_tensor(sums[k]) for k in keys])
        packed = dist.all_reduce_sum(packed).cpu()
        denom = max(n_global, 1.0)
        self.step += 1
        return StepResult(task, float(packed[0]) / denom, {k: float(packed[2 + i]) / denom for i, k in enumerate(keys)},
                          int(packed[1]), int(n_global), lr, time.perf_counter() - t0)

    # ---- checkpoints ----

    def extra_tensors(self) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        for obj in self.objectives.values():
            out |= obj.state_tensors()
        rngs = dist.all_gather_object(torch.get_rng_state().numpy().tolist())
        for r, state in enumerate(rngs):
            out[f"rng.torch.{r}"] = torch.tensor(state, dtype=torch.uint8)
        return out

    def save(self) -> str | None:
        streams = dist.all_gather_object({k: s.state_dict() for k, s in self.streams.items()})
        pyrng = dist.all_gather_object(list(random.getstate()[1]))
        extra = self.extra_tensors()
        path = None
        if self.env.main:
            state = {"config": to_dict(self.cfg), "world_size": self.env.world, "streams": streams,
                     "python_rng": pyrng, "langs": self.model.langs, "tokenizer": self.tok.path,
                     "totals": dict(self.totals)}
            path = checkpoint.save(self.cfg.out, self.step, self.model, self.opt, self.sched, state, extra,
                                   self.cfg.keep_checkpoints)
        dist.barrier()
        return path

    def restore(self, path: str) -> None:
        state, extra = checkpoint.load(path, self.model, self.opt, self.sched)
        if state["world_size"] != self.env.world:
            raise ConfigError(f"{path} was written by {state['world_size']} ranks; resume with the same number "
                              f"(changing the data-parallel size mid-run is not supported)")
        for k, s in self.streams.items():
            if k not in state["streams"][self.env.rank]:
                raise ConfigError(f"{path} has no data position for objective {k}; resume with the checkpoint's "
                                  "objectives")
            try:
                s.load_state_dict(state["streams"][self.env.rank][k])
            except ValueError as exc:
                raise ConfigError(f"{path}: {exc}; resume with the checkpoint's seed") from None
        random.setstate((3, tuple(state["python_rng"][self.env.rank]), None))
        for obj in self.objectives.values():
            obj.load_state_tensors({k: v.to(self.env.device) for k, v in extra.items()})
        torch.set_rng_state(extra[f"rng.torch.{self.env.rank}"])
        self.step = int(state["step"])
        self.totals = defaultdict(float, state.get("totals", {}))


def config_differences(saved: dict, cfg: TrainConfig) -> list[str]:
    """Keys whose values differ; keys newer than the checkpoint count with their defaults."""
    try:
        a = flatten(to_dict(from_dict(saved)))
    except ConfigError as exc:
        return [f"a key this version no longer knows ({exc})"]
    b = flatten(to_dict(cfg))
    return sorted(k for k in set(a) | set(b) if k not in RESUMABLE_KEYS and _norm(a.get(k)) != _norm(b.get(k)))


def _norm(v):
    return list(v) if isinstance(v, tuple) else v


def build(cfg: TrainConfig, env: dist.Env) -> Trainer:
    check_values(cfg)
    objective_classes = enabled_objectives(cfg)
    data = open_data(cfg, objective_classes)
    tok = load_tokenizer_info(cfg.tokenizer or _manifest_tokenizer(cfg))
    validate(cfg, data, tok, env, objective_classes)
    if cfg.resume:
        path = checkpoint.resolve(cfg.resume)
        saved = checkpoint.read_state(path)
        diff = config_differences(saved["config"], cfg)
        if diff:
            raise ConfigError(f"{path} was trained with another config ({', '.join(diff[:6])} differ); resume with "
                              "the same CONFIG and overrides (only steps, save_every and paths may change)")
        langs = saved["langs"]
    else:
        langs = data.langs
    ctx = Context(bos=tok.bos, eos=tok.eos, pad=tok.pad, mask=tok.mask, vocab_size=tok.vocab_size, seed=cfg.seed,
                  docs=data.docs, head_dim=cfg.model.head_dim)
    objectives = {name: cls(getattr(cfg.objectives, name), ctx) for name, cls in objective_classes.items()}
    heads: dict[str, int] = {}
    for obj in objectives.values():
        heads |= obj.heads(0)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, tok.vocab_size, langs, heads)
    for obj in objectives.values():   # plain modules of an objective (MMKD's projections) join the heads
        model.heads.update(obj.modules(model.config.hidden_size))
    if model.config.max_position_embeddings < data.max_len + 2:
        raise ConfigError(f"the shards hold sequences of up to {data.max_len} tokens, more than the model's "
                          f"{model.config.max_position_embeddings - 2} positions; rebuild the shards with "
                          "MAX_LEN at most that")
    ctx.lang_id = model.lang_id
    if cfg.model.freeze_encoder:      # the head's decoder is the word embedding (tied): it stays frozen too
        words = model.mlm.get_input_embeddings().weight
        for name, p in model.named_parameters():
            p.requires_grad_(name.startswith("mlm.lm_head.") and p is not words)
    model.to(env.device)
    if cfg.model.compile:
        model.mlm.roberta.compile()
    opt, sched = build_optimizer(model, cfg, env.device)
    streams = {}
    for name, obj in objectives.items():
        streams[name] = TaskStream(data.shards[obj.stream_task], seed=cfg.seed * 2**32 + zlib.crc32(name.encode()),
                                   rank=env.rank, world_size=env.world)
    tr = Trainer(cfg, env, model, objectives, streams, opt, sched, tok, data)
    if cfg.resume:
        tr.restore(checkpoint.resolve(cfg.resume))
    return tr


def _manifest_tokenizer(cfg: TrainConfig) -> str:
    path = os.path.join(cfg.shards, "manifest.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            tok = json.load(f).get("tokenizer")
        if tok:
            return tok
    raise ConfigError(f"{cfg.shards} has no manifest.json naming its tokenizer; pass tokenizer=<dir>")


# ---- logging -----------------------------------------------------------------------------------------


def _step_of(line: str) -> int | None:
    """The step of a metrics line; None for a blank or cut line (a crash mid-write)."""
    try:
        return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return None


class MetricsLog:
    """metrics.jsonl, one line per step; on resume the lines after the checkpoint are dropped."""

    def __init__(self, out: str, start: int, enabled: bool):
        self.path = os.path.join(out, METRICS)
        self.enabled = enabled
        if not enabled:
            return
        os.makedirs(out, exist_ok=True)
        kept = []
        if start > 0 and os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as f:
                kept = [line for line in f if _step_of(line) is not None and _step_of(line) <= start]
        with open(self.path + ".tmp", "w", encoding="utf-8") as f:
            f.writelines(kept)
        os.replace(self.path + ".tmp", self.path)
        self.f = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())

    def write(self, record: dict) -> None:
        if self.enabled:
            self.f.write(json.dumps(record, sort_keys=True) + "\n")
            self.f.flush()

    def close(self) -> None:
        if self.enabled:
            self.f.close()


def run(cfg: TrainConfig) -> dict:
    env = dist.setup(cfg.device)
    try:
        tr = build(cfg, env)
        return loop(tr)
    finally:
        dist.cleanup()


class EtaLines:
    """Plain lines with the planned steps and the time left: once the first steps are timed, then every
    tenth of the run when stderr is not a terminal (logs, make demo), where a progress bar is unreadable.
    The rate leaves out the first ``WARM`` steps (model and teacher loading, first allocations)."""

    WARM, FIRST = 5, 20  # steps left out of the rate, then steps timed before the first estimate

    def __init__(self, start: int, steps: int, main: bool, plain: bool):
        self.start, self.steps, self.main, self.plain = start, steps, main, plain
        self.every = max(1, (steps - start) // 10)
        self.told = False
        self.mark: tuple[int, float] | None = None

    def update(self, step: int, elapsed: float, bar) -> None:
        done = step - self.start
        if not self.main or step >= self.steps:
            return
        if self.mark is None:
            if done >= min(self.WARM, self.steps - self.start - 1):
                self.mark = (step, elapsed)
            return
        timed = step - self.mark[0]
        first = not self.told and (timed >= self.FIRST or elapsed - self.mark[1] > 30)
        if not (first or (self.plain and self.told and done % self.every == 0)) or timed == 0:
            return
        self.told = True
        per_step = (elapsed - self.mark[1]) / timed
        left = per_step * (self.steps - step)
        finish = time.strftime("%H:%M:%S", time.localtime(time.time() + left))
        bar.write(f"step {step:,}/{self.steps:,}: {per_step:.3f} s/step, about {format_seconds(left)} left "
                  f"(done near {finish})", file=sys.stderr)


def format_seconds(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def loop(tr: Trainer) -> dict:
    from tqdm import tqdm

    cfg, env = tr.cfg, tr.env
    start = tr.step
    log = MetricsLog(cfg.out, start, env.main)
    if env.main:
        n_params = sum(p.numel() for p in tr.model.parameters())
        print(f"training {', '.join(tr.objectives)} | {n_params / 1e6:.2f}M parameters | {len(tr.model.languages)} "
              f"languages | {env.world} rank(s) on {env.device} | {cfg.steps - start:,} steps planned "
              f"({start}->{cfg.steps})", file=sys.stderr)
    bar = tqdm(total=cfg.steps, initial=start, disable=not (env.main and cfg.progress), dynamic_ncols=True,
               unit="step", file=sys.stderr)
    ema: dict[str, float] = {}
    t_start, tokens_run = time.perf_counter(), 0
    last = None
    eta = EtaLines(start, cfg.steps, env.main, plain=not (cfg.progress and sys.stderr.isatty()))
    try:
        while tr.step < cfg.steps:
            r = tr.train_step()
            last = r
            if not math.isfinite(r.loss):
                raise FloatingPointError(f"step {tr.step}: {r.task} loss is {r.loss}; lower optim.lr or check "
                                         "the shards")
            tokens_run += r.tokens
            tr.totals["tokens"] += r.tokens
            tr.totals[f"steps.{r.task}"] += 1
            elapsed = time.perf_counter() - t_start
            tok_s = tokens_run / max(elapsed, 1e-9)
            ema[r.task] = r.loss if r.task not in ema else 0.9 * ema[r.task] + 0.1 * r.loss
            log.write({"step": tr.step, "task": r.task, "loss": r.loss, "lr": r.lr, "tokens": r.tokens,
                       "targets": r.n_targets, "step_s": r.seconds, "tok_s": tok_s, "elapsed_s": elapsed}
                      | {f"{r.task}.{k}": v for k, v in r.metrics.items()})
            bar.set_postfix({k: f"{v:.3f}" for k, v in sorted(ema.items())} | {"tok/s": f"{tok_s:,.0f}"},
                            refresh=False)
            bar.update(1)
            eta.update(tr.step, elapsed, bar)
            if tr.step % cfg.save_every == 0 or tr.step == cfg.steps:
                tr.save()
    finally:
        bar.close()
        log.close()
    elapsed = time.perf_counter() - t_start
    summary = {"steps": tr.step, "tokens": tokens_run, "seconds": elapsed,
               "tokens_per_s": tokens_run / max(elapsed, 1e-9), "last_loss": last.loss if last else None,
               "last_task": last.task if last else None}
    if env.main:
        print(f"done: {tr.step} steps, {tokens_run:,} tokens in {elapsed:.1f} s ({summary['tokens_per_s']:,.0f} "
              f"tokens/s); run in {cfg.out}", file=sys.stderr)
    return summary


def main(argv: list[str] | None = None) -> int:
    check_environment()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        print("usage: python -m trainer.train CONFIG [key=value ...]   (CONFIG: tiny, small, base, large or a "
              "YAML file)")
        return 0 if argv else 2
    try:
        cfg = load_config(argv[0], argv[1:])
        run(cfg)
    except (ConfigError, checkpoint.CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
