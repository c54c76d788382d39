"""What MEP and OE share: FIFO queues of detached vectors and the bidirectional InfoNCE.

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
