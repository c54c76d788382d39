"""What MEP and OE share: the :class:`Contrastive` base (projection heads, entity-document keys,
config and data checks), FIFO queues of detached vectors and the bidirectional InfoNCE.

The key side of both is the ``<s>`` state of an entity's document (the ``docs`` task, a
:class:`trainer.data.DocStore` in :attr:`Context.docs`), in a language drawn from those available,
through the ``<name>_k`` head; the query side is each objective's own (:mod:`.mep`, :mod:`.oe`),
through ``<name>_q``.

InfoNCE as XLM-K's released loss code builds it (microsoft/Unicoder, ``pretraining/xlmk/``):
queries q_i and keys k_i are L2-normalised, and each direction has its own queue. For q -> k,

    L_q->k = mean_i CE( q_i . [k_1..k_B, q_1..q_B (without q_i), Z_k] / tau, i )

so the negatives of a query are the other in-batch keys (the other side), the other in-batch
queries (the same side, itself masked out) and the keys queue Z_k. For k -> q the roles swap and
the queue Z_q holds past queries. After the step the batch's keys enter Z_k and its queries Z_q
(word -> doc keeps keys, doc -> word keeps queries, as in the released code). A negative that
belongs to the positive's own entity (the same QID twice in a batch, or in a queue) is masked out
rather than pushed away.
"""

from __future__ import annotations

import zlib

import torch
import torch.nn.functional as F

from .. import dist
from .base import Batch, Example, Objective, pad_rows


def entity_id(qid: str) -> int:
    return zlib.crc32(qid.encode())


class KeyQueue:
    """A ring buffer of the last ``size`` keys of all ranks, oldest overwritten first."""

    def __init__(self, size: int, dim: int):
        self.size, self.dim = size, dim
        self.keys = torch.zeros(size, dim)
        self.ids = torch.full((size,), -1, dtype=torch.long)
        self.ptr = 0
        self.filled = 0

    def to(self, device) -> KeyQueue:
        self.keys, self.ids = self.keys.to(device), self.ids.to(device)
        return self

    def contents(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.keys[: self.filled].clone(), self.ids[: self.filled].clone()

    @torch.no_grad()
    def push(self, keys: torch.Tensor, ids: torch.Tensor) -> None:
        """Enqueue the keys of every rank (gathered, in rank order), detached."""
        if self.size == 0:
            return
        keys, ids = keys.detach().float(), ids.long()
        if dist.active():   # ranks may hold different counts: pad to the largest, drop the padding after
            counts = dist.all_gather_cat(torch.tensor([keys.shape[0]], device=keys.device))
            most = int(counts.max())
            keys = torch.cat([keys, keys.new_zeros(most - keys.shape[0], keys.shape[1])])
            ids = torch.cat([ids, ids.new_full((most - ids.shape[0],), -1)])
            keys, ids = dist.all_gather_cat(keys), dist.all_gather_cat(ids)
            keys, ids = keys[ids != -1], ids[ids != -1]
        keys, ids = keys[-self.size:], ids[-self.size:]
        n = keys.shape[0]
        idx = (self.ptr + torch.arange(n, device=self.keys.device)) % self.size
        self.keys[idx] = keys.to(self.keys.device)
        self.ids[idx] = ids.to(self.ids.device)
        self.ptr = (self.ptr + n) % self.size
        self.filled = min(self.size, self.filled + n)

    def state(self, prefix: str) -> dict[str, torch.Tensor]:
        return {f"{prefix}.keys": self.keys.cpu(), f"{prefix}.ids": self.ids.cpu(),
                f"{prefix}.ptr_filled": torch.tensor([self.ptr, self.filled])}

    def load(self, prefix: str, tensors: dict[str, torch.Tensor]) -> None:
        dev = self.keys.device
        self.keys, self.ids = tensors[f"{prefix}.keys"].to(dev), tensors[f"{prefix}.ids"].to(dev)
        self.ptr, self.filled = (int(x) for x in tensors[f"{prefix}.ptr_filled"])


def _direction(a: torch.Tensor, b: torch.Tensor, queue: torch.Tensor, ids: torch.Tensor, queue_ids: torch.Tensor,
               tau: float) -> torch.Tensor:
    """CE over [other side in batch | same side in batch, self masked | queue], the positive first-block diagonal."""
    n = a.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=a.device)
    logits = torch.cat([a @ b.T, a @ a.T, a @ queue.T], dim=1) / tau
    same_id = ids[:, None] == ids[None, :]
    drop = torch.cat([same_id & ~eye, same_id, ids[:, None] == queue_ids[None, :]], dim=1)
    logits = logits.masked_fill(drop, float("-inf"))
    return F.cross_entropy(logits, torch.arange(n, device=a.device))


def info_nce(q: torch.Tensor, k: torch.Tensor, tau: float, key_queue: torch.Tensor | None = None,
             ids: torch.Tensor | None = None, key_queue_ids: torch.Tensor | None = None,
             query_queue: torch.Tensor | None = None,
             query_queue_ids: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(L_q->k, L_k->q) for q, k of shape [B, d]; the queues hold normalised keys and queries."""
    q, k = F.normalize(q.float(), dim=-1), F.normalize(k.float(), dim=-1)
    if ids is None:
        ids = torch.arange(q.shape[0], device=q.device)

    def queue_or_empty(z, z_ids):
        z = q.new_zeros(0, q.shape[1]) if z is None else z.to(q.dtype)
        z_ids = torch.full((z.shape[0],), -2, dtype=torch.long, device=q.device) if z_ids is None else z_ids
        return z, z_ids

    zk, zk_ids = queue_or_empty(key_queue, key_queue_ids)
    zq, zq_ids = queue_or_empty(query_queue, query_queue_ids)
    return _direction(q, k, zk, ids, zk_ids, tau), _direction(k, q, zq, ids, zq_ids, tau)


def doc_inputs(ctx, docs: list[dict]) -> dict[str, torch.Tensor]:
    """The key encoder's inputs: ``<s> doc </s>`` per document, with its language id."""
    ids = pad_rows([[ctx.bos, *d["ids"], ctx.eos] for d in docs], ctx.pad)
    real = ids != ctx.pad
    langs = torch.tensor([ctx.lang_id(d["lang"]) for d in docs])[:, None] * real
    return {"key_ids": ids, "key_mask": real.long(), "key_langs": langs}


class Contrastive(Objective):
    """The parts MEP and OE share: heads, doc keys, queue, InfoNCE, and their checks. A subclass
    reads its own stream and the ``docs`` task (``needs = (<its task>, "docs")``)."""

    def __init__(self, cfg, ctx):
        super().__init__(cfg, ctx)
        self.queue: KeyQueue | None = None          # past keys, the negatives of q -> k
        self.query_queue: KeyQueue | None = None    # past queries, the negatives of k -> q

    @classmethod
    def config_problems(cls, cfg, run) -> list[str]:
        problems = []
        if cfg.weight > 0 and run.batch_size < 2:
            problems.append(f"objectives.{cls.name} needs batch_size >= 2 (its heads use BatchNorm and in-batch "
                            "negatives)")
        if cfg.weight > 0 and cfg.temperature <= 0:
            problems.append(f"objectives.{cls.name}.temperature must be above 0")
        return problems

    @classmethod
    def data_problems(cls, cfg, data) -> list[str]:
        n = len(data.docs.by_qid) if data.docs else 0
        if cfg.queue_size > n:
            return [f"objectives.{cls.name}.queue_size={cfg.queue_size} is larger than the {n} candidate entities "
                    f"with documents in {data.shards['docs'].directory}: set objectives.{cls.name}.queue_size to at "
                    f"most {n} (a larger queue would hold positives as negatives)"]
        return []

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
