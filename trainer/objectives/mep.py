"""MEP (XLM-K): masked entity prediction, contrasting a masked mention with its entity's document.

Every token of the linked mention is replaced by ``<mask>``. The query is the hidden state at the
mention's first token (layer ``layer``), through the ``mep_q`` head; the key is the ``<s>`` state
of the entity's document, in a language drawn from those available (so often another language
than the sentence's), encoded in a separate forward pass, through the ``mep_k`` head. The loss is
MLM on the unmasked part of the sentence plus ``lam`` times the bidirectional InfoNCE, with the
negatives of the released code (both sides of the batch) and one FIFO queue per direction, filled
from all ranks (:mod:`.contrastive`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..masking import IGNORE
from .base import Batch, Example, Objective, mlm_loss, noised, pad_rows
from .contrastive import KeyQueue, entity_id, info_nce


def doc_inputs(ctx, docs: list[dict]) -> dict[str, torch.Tensor]:
    ids = pad_rows([[ctx.bos, *d["ids"], ctx.eos] for d in docs], ctx.pad)
    real = ids != ctx.pad
    langs = torch.tensor([ctx.lang_id(d["lang"]) for d in docs])[:, None] * real
    return {"key_ids": ids, "key_mask": real.long(), "key_langs": langs}


class Contrastive(Objective):
    """The parts MEP and OE share: heads, doc keys, queue, InfoNCE."""

    def __init__(self, cfg, ctx):
        super().__init__(cfg, ctx)
        self.queue: KeyQueue | None = None          # past keys, the negatives of q -> k
        self.query_queue: KeyQueue | None = None    # past queries, the negatives of k -> q

    def heads(self, hidden: int) -> dict[str, int]:
        return {f"{self.name}_q": self.head_dim, f"{self.name}_k": self.head_dim}

    @property
    def head_dim(self) -> int:
        return self.ctx.head_dim

    def key_docs(self, examples: list[Example], qid_field: str) -> tuple[list[Example], list[dict]]:
        """The examples whose entity has a document, and one document each (a seeded language draw)."""
        kept, docs = [], []
        for e in examples:
            doc = self.ctx.docs.sample(e.row[qid_field], self.ctx.rng(self.name + "/doc", e.key))
            if doc is not None:
                kept.append(e)
                docs.append(doc)
        return kept, docs

    def contrast(self, model, q_state: torch.Tensor, batch: Batch) -> tuple[torch.Tensor, dict]:
        _, k_states = model.encode(batch["key_ids"], batch["key_mask"], lang_ids=batch["key_langs"],
                                   layer=self.cfg.layer)
        q = model.heads[f"{self.name}_q"](q_state)
        k = model.heads[f"{self.name}_k"](k_states[:, 0])
        if self.queue is None:
            self.queue = KeyQueue(self.cfg.queue_size, k.shape[1]).to(k.device)
            self.query_queue = KeyQueue(self.cfg.queue_size, q.shape[1]).to(q.device)
        zk, zk_ids = self.queue.contents()
        zq, zq_ids = self.query_queue.contents()
        ids = batch["entity_ids"]
        l_qk, l_kq = info_nce(q, k, self.cfg.temperature, zk, ids, zk_ids, zq, zq_ids)
        with torch.no_grad():
            qn, kn = F.normalize(q.float(), dim=-1), F.normalize(k.float(), dim=-1)
            acc = ((qn @ kn.T).argmax(1) == torch.arange(len(qn), device=qn.device)).float().mean()
        self.queue.push(kn, ids)
        self.query_queue.push(qn, ids)
        return l_qk + l_kq, {"nce": (l_qk + l_kq).detach(), "nce_acc": acc, "queue": torch.tensor(
            float(self.queue.filled))}

    def state_tensors(self) -> dict[str, torch.Tensor]:
        if self.queue is None:
            return {}
        return self.queue.state(self.name) | self.query_queue.state(f"{self.name}.query")

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        for prefix, attr in ((self.name, "queue"), (f"{self.name}.query", "query_queue")):
            if f"{prefix}.keys" in tensors:
                keys = tensors[f"{prefix}.keys"]
                setattr(self, attr, KeyQueue(keys.shape[0], keys.shape[1]).to(keys.device))
                getattr(self, attr).load(prefix, tensors)


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
