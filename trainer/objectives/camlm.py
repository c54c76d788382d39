"""CAMLM (Ernie-M): cross-attention masked LM on parallel pairs, TLM's layout.

The paper's loss is L_src + L_tgt on every pair. Each pair therefore becomes two rows, one per
direction (DESIGN.md). In the row that predicts a sentence, tokens are masked in that sentence
only; its positions attend to themselves and to the other sentence, and the other sentence attends
to itself only (:func:`trainer.attention_masks.directed_cross_mask`). So p(x_m | M_m, Y) never sees the rest
of x, at any depth, and likewise p(y_m | X, M_m). A batch of B pairs is 2B rows: CAMLM costs twice
TLM's forward per pair, and its loss averages over the masked tokens of both directions.
"""

from __future__ import annotations

import torch

from ..attention_masks import FIRST, PAD_SEGMENT, SECOND, directed_cross_mask
from ..token_noise import IGNORE
from .base import Batch, Example, noised
from .tlm import TLM, layout, lengths


class CAMLM(TLM):
    """TLM's layout and loss; only the masking, the attention and the two directions differ."""

    name = "camlm"
    needs = ("pairs",)

    @classmethod
    def config_problems(cls, cfg, run) -> list[str]:
        if cfg.mode != "directed":
            return [f"objectives.camlm.mode={cfg.mode}: only directed exists (the symmetric per-layer mask leaks the "
                    "predicted sentence from the second layer on; DESIGN.md)"]
        return []

    def make_batch(self, examples: list[Example]) -> Batch:
        ctx = self.ctx
        rows = [e for e in examples for _ in (FIRST, SECOND)]
        pb = layout(ctx, rows)
        # one generator per (pair, direction): the source direction keeps the pair's own stream
        rngs = [ctx.rng(self.name if d == FIRST else self.name + "/tgt", e.key)
                for e in examples for d in (FIRST, SECOND)]
        predict = torch.tensor([FIRST, SECOND] * len(examples))
        real = (pb.segment != PAD_SEGMENT) & ~ctx.specials(pb.input_ids)
        maskable = real & (pb.segment == predict[:, None])
        masked, labels = noised(ctx, self.name, rows, pb.input_ids, maskable, lengths(rows), self.cfg.mask_prob, rngs)
        return Batch({"input_ids": masked, "attention_mask": directed_cross_mask(pb.segment, predict),
                      "position_ids": pb.position_ids, "lang_ids": pb.lang_ids, "labels": labels},
                     int((labels != IGNORE).sum()), int((pb.segment != PAD_SEGMENT).sum()))
