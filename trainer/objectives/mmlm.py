"""MMLM: masked language modelling on packed monolingual sequences (``mlm`` shards), 80/10/10."""

from __future__ import annotations

import torch

from ..token_noise import IGNORE
from .base import Batch, Example, Objective, mlm_loss, noised, pad_rows


class MMLM(Objective):
    name = "mmlm"
    needs = ("mlm",)

    def make_batch(self, examples: list[Example]) -> Batch:
        ctx = self.ctx
        rows = [e.row["input_ids"] for e in examples]
        ids = pad_rows(rows, ctx.pad)
        real = ids != ctx.pad
        langs = torch.tensor([ctx.lang_id(e.row["lang"]) for e in examples])[:, None].expand_as(ids) * real
        masked, labels = noised(ctx, self.name, examples, ids, ~ctx.specials(ids), [len(r) for r in rows],
                                self.cfg.mask_prob)
        return Batch({"input_ids": masked, "attention_mask": real.long(), "lang_ids": langs.contiguous(),
                      "labels": labels}, int((labels != IGNORE).sum()), int(real.sum()))

    def __call__(self, model, batch: Batch):
        hidden, _ = model.encode(batch["input_ids"], batch["attention_mask"], lang_ids=batch["lang_ids"])
        loss, metrics = mlm_loss(model, hidden, batch["labels"])
        return loss, metrics
