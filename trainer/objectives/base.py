"""What every objective shares: the interface, the context, the batch type and the masked-LM loss.

An objective is a class with one call signature (DESIGN.md, STYLE.md practice 8):

    batch = objective.make_batch(examples)        # rows of its shard streams -> tensors (CPU)
    loss, metrics = objective(model, batch)       # batch -> (scalar loss, detached metric tensors)

``make_batch`` draws all its randomness from one generator per example, keyed by the example's
place in its stream (:meth:`Context.rng`), so a batch does not depend on the batch size, the
number of ranks, or a restart.

Everything else the trainer needs to know about an objective, it asks the :class:`Objective`
(``trainer/train.py`` and ``trainer/config.py`` never branch on a name). Before the objective
exists, given its config section (``cfg``, e.g. ``objectives.btmlm``) and the whole run config:
the checks that need no data (:meth:`~Objective.config_problems`), the shard tasks it reads and
where they are (:meth:`~Objective.shard_tasks`, :meth:`~Objective.shard_dir`,
:meth:`~Objective.missing_hint`), the checks against the opened shards
(:meth:`~Objective.data_problems`), the languages its rows carry (:meth:`~Objective.languages`)
and what a recipe sets beside its weight (:attr:`~Objective.recipe_settings`). Once built: the
parameters it adds to the model (:meth:`~Objective.heads`, :meth:`~Objective.modules`), whether
the task mix may draw it yet (:meth:`~Objective.active`) and the state a checkpoint keeps
(:meth:`~Objective.state_tensors`).
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..token_noise import IGNORE, apply_noise, row_noise


@dataclass
class Example:
    key: int        # unique per (epoch, row) of its stream
    row: dict


@dataclass
class Context:
    bos: int
    eos: int
    pad: int
    mask: int
    vocab_size: int
    seed: int = 0
    first_piece: int = 4            # ids below are <s> <pad> </s> <unk>
    head_dim: int = 128             # MEP/OE projection width
    docs: object | None = None      # trainer.data.DocStore for MEP and OE keys
    lang_id: object = field(default=lambda lang: 0)

    def rng(self, objective: str, key: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(objective.encode()), key])

    def specials(self, ids: torch.Tensor) -> torch.Tensor:
        return (ids == self.bos) | (ids == self.eos) | (ids == self.pad)


@dataclass
class Batch:
    tensors: dict[str, torch.Tensor]
    n_targets: int                   # what the loss averages over (masked tokens, or queries)
    tokens: int                      # real (non-padding) tokens, for throughput
    extra: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.tensors[name]

    def to(self, device) -> Batch:
        moved = {k: v.to(device, non_blocking=True) for k, v in self.tensors.items()}
        return Batch(moved, self.n_targets, self.tokens, self.extra)


def pad_rows(rows: list[list[int]], fill: int) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [fill] * (width - len(r)) for r in rows], dtype=torch.long)


def noised(ctx: Context, name: str, examples: list[Example], ids: torch.Tensor, maskable: torch.Tensor,
           lengths: list[int], prob: float, rngs: list[np.random.Generator] | None = None):
    """MMLM's 80/10/10 masking with per-example draws: (masked ids, labels)."""
    rngs = rngs or [ctx.rng(name, e.key) for e in examples]
    draw, kind, rand = row_noise(rngs, lengths, ids.shape[1], first_piece=ctx.first_piece, mask_id=ctx.mask)
    return apply_noise(ids, maskable, draw, kind, rand, mask_id=ctx.mask, prob=prob)


def mlm_loss(model, hidden: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Cross-entropy on the labelled positions only (the vocabulary projection runs on those alone)."""
    sel = labels != IGNORE
    if not bool(sel.any()):
        zero = hidden.sum() * 0.0
        return zero, {"mlm_acc": zero.detach()}
    logits = model.logits(hidden[sel]).float()
    target = labels[sel]
    loss = F.cross_entropy(logits, target)
    return loss, {"mlm_acc": (logits.argmax(-1) == target).float().mean().detach()}


class Objective:
    """The base of every objective; the defaults fit an objective that reads one shard task under
    ``shards/`` and adds nothing to the model. Class-level methods take the objective's own config
    section ``cfg`` and answer before any objective is built (no tokenizer, no model, no teacher)."""

    name = ""
    needs: tuple[str, ...] = ()      # shard tasks it reads; the first one is its stream
    # config keys (under objectives.<name>.) that a recipe turning this objective on also sets
    recipe_settings: dict[str, str] = {}

    def __init__(self, cfg, ctx: Context):
        self.cfg, self.ctx = cfg, ctx
        self.needs = self.shard_tasks(cfg)

    # ---- before the run: config, shards, languages ----

    @classmethod
    def config_problems(cls, cfg, run) -> list[str]:
        """What is wrong with ``cfg`` (``run`` is the whole TrainConfig), one line with the fix each;
        checked for every objective, enabled or not, before any data is opened."""
        return []

    @classmethod
    def shard_tasks(cls, cfg) -> tuple[str, ...]:
        """The shard tasks it reads with this config (the first is its stream): :attr:`needs`."""
        return cls.needs

    @classmethod
    def shard_dir(cls, cfg, task: str, shards: str) -> str:
        """Where the shards of ``task`` are; ``shards`` is the run's ``shards`` directory."""
        return os.path.join(shards, task)

    @classmethod
    def missing_hint(cls, cfg, task: str) -> str:
        """How to make the shards of ``task`` when they are missing."""
        return f"build them with make shards TASKS={task}"

    @classmethod
    def data_problems(cls, cfg, data) -> list[str]:
        """What is wrong with ``cfg`` given the opened shards (``data``: :class:`trainer.train.Data`)."""
        return []

    @classmethod
    def languages(cls, cfg, shards: dict) -> set[str]:
        """The languages of its rows, given the opened shards by task: those their manifests list."""
        return {lang for task in cls.shard_tasks(cfg) for lang in shards[task].manifest.get("languages", [])}

    # ---- the built objective ----

    @property
    def stream_task(self) -> str:
        """The shard task whose rows :meth:`make_batch` takes."""
        return self.needs[0]

    def heads(self, hidden: int) -> dict[str, int]:
        """Projection heads (:class:`trainer.model.ProjectionHead`) it needs: name -> output width."""
        return {}

    def modules(self, hidden_size: int) -> dict[str, nn.Module]:
        """Other modules it trains (MMKD's projections), made after the model; they join ``model.heads``."""
        return {}

    def active(self, step: int, steps: int) -> bool:
        """Whether the task mix may draw this objective at ``step`` of a ``steps``-step run."""
        return True

    def make_batch(self, examples: list[Example]) -> Batch:
        raise NotImplementedError

    def __call__(self, model, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        raise NotImplementedError

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """State that a checkpoint must keep (the MEP/OE queues); called at every checkpoint (MMKD
        persists its new teacher states then)."""
        return {}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        pass


def pair_target_langs(shards) -> set[str]:
    """The target languages of a pairs shard set (its manifest lists the source side only)."""
    import pyarrow.compute as pc

    return {x for b in shards.batches for x in pc.unique(b.column("tgt_lang")).to_pylist()}
