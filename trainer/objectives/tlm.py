"""TLM (XLM): ``<s> src </s></s> tgt </s>`` with full attention, positions and language ids per
segment, MLM over both sentences."""

from __future__ import annotations

from ..attention_masks import PAD_SEGMENT, full_mask, pair_batch
from ..token_noise import IGNORE
from .base import Batch, Example, Objective, mlm_loss, noised, pair_target_langs


def layout(ctx, examples: list[Example]):
    r = [e.row for e in examples]
    return pair_batch([x["src_ids"] for x in r], [x["tgt_ids"] for x in r], [ctx.lang_id(x["src_lang"]) for x in r],
                      [ctx.lang_id(x["tgt_lang"]) for x in r], bos_id=ctx.bos, eos_id=ctx.eos, pad_id=ctx.pad)


def lengths(examples: list[Example]) -> list[int]:
    return [len(e.row["src_ids"]) + len(e.row["tgt_ids"]) + 4 for e in examples]


class TLM(Objective):
    name = "tlm"
    needs = ("pairs",)

    @classmethod
    def languages(cls, cfg, shards: dict) -> set[str]:
        return super().languages(cfg, shards) | pair_target_langs(shards[cls.needs[0]])

    def make_batch(self, examples: list[Example]) -> Batch:
        ctx = self.ctx
        pb = layout(ctx, examples)
        maskable = (pb.segment != PAD_SEGMENT) & ~ctx.specials(pb.input_ids)
        masked, labels = noised(ctx, self.name, examples, pb.input_ids, maskable, lengths(examples),
                                self.cfg.mask_prob)
        return Batch({"input_ids": masked, "attention_mask": full_mask(pb.segment), "position_ids": pb.position_ids,
                      "lang_ids": pb.lang_ids, "labels": labels},
                     int((labels != IGNORE).sum()), int((pb.segment != PAD_SEGMENT).sum()))

    def __call__(self, model, batch: Batch):
        hidden, _ = model.encode(batch["input_ids"], batch["attention_mask"], batch["position_ids"], batch["lang_ids"])
        return mlm_loss(model, hidden, batch["labels"])



