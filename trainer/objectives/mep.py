"""MEP (XLM-K): masked entity prediction, contrasting a masked mention with its entity's document.

Every token of the linked mention is replaced by ``<mask>``. The query is the hidden state at the
mention's first token (layer ``layer``), through the ``mep_q`` head; the key is the ``<s>`` state
of the entity's document, in a language drawn from those available (so often another language
than the sentence's), encoded in a separate forward pass, through the ``mep_k`` head. The loss is
MLM on the unmasked part of the sentence plus ``lam`` times the bidirectional InfoNCE, with the
negatives of the released code (both sides of the batch) and one FIFO queue per direction, filled
from all ranks (:class:`.contrastive.Contrastive`).
"""

from __future__ import annotations

import torch

from ..token_noise import IGNORE
from .base import Batch, Example, mlm_loss, noised, pad_rows
from .contrastive import Contrastive, doc_inputs, entity_id


class MEP(Contrastive):
    name = "mep"
    needs = ("mep", "docs")

    def make_batch(self, examples: list[Example]) -> Batch:
        ctx = self.ctx
        n_in = len(examples)
        examples, docs = self.key_docs(examples, "qid")
        rows = [[ctx.bos, *e.row["ids"], ctx.eos] for e in examples]
        ids = pad_rows(rows, ctx.pad)
        real = ids != ctx.pad
        mention = torch.zeros_like(ids, dtype=torch.bool)
        for b, e in enumerate(examples):
            mention[b, e.row["mention_start"] + 1: e.row["mention_end"] + 1] = True
        maskable = ~ctx.specials(ids) & ~mention
        if self.cfg.mlm:
            masked, labels = noised(ctx, self.name, examples, ids, maskable, [len(r) for r in rows], self.cfg.mask_prob)
        else:
            masked, labels = ids, torch.full_like(ids, IGNORE)
        masked = masked.masked_fill(mention, ctx.mask)
        langs = torch.tensor([ctx.lang_id(e.row["lang"]) for e in examples])[:, None] * real
        t = {"input_ids": masked, "attention_mask": real.long(), "lang_ids": langs, "labels": labels,
             "query_pos": torch.tensor([e.row["mention_start"] + 1 for e in examples]),
             "entity_ids": torch.tensor([entity_id(e.row["qid"]) for e in examples])} | doc_inputs(ctx, docs)
        return Batch(t, len(examples), int(real.sum() + t["key_mask"].sum()), {"dropped": n_in - len(examples)})

    def __call__(self, model, batch: Batch):
        last, states = model.encode(batch["input_ids"], batch["attention_mask"], lang_ids=batch["lang_ids"],
                                    layer=self.cfg.layer)
        q_state = states[torch.arange(states.shape[0], device=states.device), batch["query_pos"]]
        nce, metrics = self.contrast(model, q_state, batch)
        mlm, m2 = mlm_loss(model, last, batch["labels"])
        metrics |= m2 | {"mlm": mlm.detach()}
        return mlm + self.cfg.lam * nce, metrics
