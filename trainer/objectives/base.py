"""What every objective shares: the context, the batch type and the masked-LM loss.

An objective is a class with one call signature (DESIGN.md, STYLE.md practice 8):

    batch = objective.make_batch(examples)        # rows of its shard streams -> tensors (CPU)
    loss, metrics = objective(model, batch)       # batch -> (scalar loss, detached metric tensors)

``make_batch`` draws all its randomness from one generator per example, keyed by the example's
place in its stream (:meth:`Context.rng`), so a batch does not depend on the batch size, the
number of ranks, or a restart.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from ..masking import IGNORE, apply_noise, row_noise


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
    name = ""
    needs: tuple[str, ...] = ()      # shard tasks it reads; the first one is its stream

    def __init__(self, cfg, ctx: Context):
        self.cfg, self.ctx = cfg, ctx

    def heads(self, hidden: int) -> dict[str, int]:
        return {}

    def active(self, step: int, steps: int) -> bool:
        """Whether the task mix may draw this objective at ``step`` of a ``steps``-step run."""
        return True

    def make_batch(self, examples: list[Example]) -> Batch:
        raise NotImplementedError

    def __call__(self, model, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        raise NotImplementedError

    # state that a checkpoint must keep (the MEP/OE queues)
    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        pass
