"""OE (XLM-K's object entailment; DESIGN.md gives no equations, so this is OUR formulation).

The query encodes ``<s> subject text </s> relation label </s>`` in the row's language (the shard
builder writes the subject's context sentence with its mention, else its entity document, then
``</s>`` and the property label); its ``<s>`` state at layer ``layer`` goes through the ``oe_q``
head. The key is the ``<s>`` state of the object's entity document in a sampled language, through
``oe_k``. InfoNCE in both directions, in-batch negatives and a FIFO queue, as for MEP but with
their own heads and queue; no MLM term.
"""

from __future__ import annotations

import torch

from .base import Batch, Example, pad_rows
from .contrastive import Contrastive, doc_inputs, entity_id


class OE(Contrastive):
    name = "oe"
    needs = ("oe", "docs")

    def make_batch(self, examples: list[Example]) -> Batch:
        ctx = self.ctx
        examples, docs = self.key_docs(examples, "object")
        ids = pad_rows([[ctx.bos, *e.row["query_ids"], ctx.eos] for e in examples], ctx.pad)
        real = ids != ctx.pad
        langs = torch.tensor([ctx.lang_id(e.row["lang"]) for e in examples])[:, None] * real
        t = {"input_ids": ids, "attention_mask": real.long(), "lang_ids": langs,
             "entity_ids": torch.tensor([entity_id(e.row["object"]) for e in examples])} | doc_inputs(ctx, docs)
        return Batch(t, len(examples), int(real.sum() + t["key_mask"].sum()))

    def __call__(self, model, batch: Batch):
        _, states = model.encode(batch["input_ids"], batch["attention_mask"], lang_ids=batch["lang_ids"],
                                 layer=self.cfg.layer)
        nce, metrics = self.contrast(model, states[:, 0], batch)
        return self.cfg.lam * nce, metrics
