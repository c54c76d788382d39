"""CAMLM (Ernie-M): cross-attention masked LM on parallel pairs, TLM's layout.

``mode=directed`` (the default, our formulation): each row predicts one sentence, drawn with
probability 1/2 from its example's generator. Tokens are masked in that sentence only; its
positions attend to themselves and to the other sentence, and the other sentence attends to
itself only (:func:`trainer.masks.directed_cross_mask`). So p(x_m | M_m, Y) never sees the rest
of x, at any depth. ``mode=symmetric`` is DESIGN.md's per-layer rule, masking both sentences in
one pass; with two or more layers it leaks the own sentence through the other one
(tests/test_mask_leakage.py measures the leak).
"""

from __future__ import annotations

import torch

from ..masking import IGNORE
from ..masks import FIRST, PAD_SEGMENT, SECOND, cross_mask, directed_cross_mask
from .base import Batch, Example, noised
from .tlm import TLM, layout, lengths


class CAMLM(TLM):
    """TLM's layout and loss; only the masking and the attention differ."""

    name = "camlm"
    needs = ("pairs",)

    def make_batch(self, examples: list[Example]) -> Batch:
        ctx = self.ctx
        pb = layout(ctx, examples)
        rngs = [ctx.rng(self.name, e.key) for e in examples]
        real = (pb.segment != PAD_SEGMENT) & ~ctx.specials(pb.input_ids)
        if self.cfg.mode == "directed":
            predict = torch.tensor([FIRST if r.random() < 0.5 else SECOND for r in rngs])
            maskable = real & (pb.segment == predict[:, None])
            attention = directed_cross_mask(pb.segment, predict)
        else:
            maskable, attention = real, cross_mask(pb.segment)
        masked, labels = noised(ctx, self.name, examples, pb.input_ids, maskable, lengths(examples),
                                self.cfg.mask_prob, rngs)
        return Batch({"input_ids": masked, "attention_mask": attention, "position_ids": pb.position_ids,
                      "lang_ids": pb.lang_ids, "labels": labels},
                     int((labels != IGNORE).sum()), int((pb.segment != PAD_SEGMENT).sum()))
