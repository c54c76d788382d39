"""Batch layouts and 4-D attention masks of the Ernie-M objectives (DESIGN.md, "Objectives"): which
position may attend to which. (Which input tokens are replaced by ``<mask>`` is
:mod:`trainer.token_noise`.)

Every mask is a boolean tensor ``[B, 1, S, S]``: ``mask[b, 0, i, j]`` is True when position i
may attend to position j (transformers 5.x takes 4-D masks; it rejects 3-D ones). A padding
position attends only to itself, so that no softmax row is empty; no real position attends to
padding.

Segments: ``segment[b, i]`` is 0 for padding, 1 for the first segment (``<s> src </s>``, or the
source sentence in BTMLM) and 2 for the second (``</s> tgt </s>``, or BTMLM's placeholders).
Special tokens belong to the segment they delimit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

PAD_SEGMENT, FIRST, SECOND = 0, 1, 2


@dataclass
class PairBatch:
    """``<s> src </s></s> tgt </s>`` per row, right-padded."""

    input_ids: torch.Tensor      # [B, S] long
    position_ids: torch.Tensor   # [B, S] long: restart at the second segment; padding_idx on padding
    lang_ids: torch.Tensor       # [B, S] long: the language of each segment (0 on padding)
    segment: torch.Tensor        # [B, S] long: 0 pad, 1 first, 2 second


def pair_batch(src: list[list[int]], tgt: list[list[int]], src_lang: list[int], tgt_lang: list[int], *,
               bos_id: int, eos_id: int, pad_id: int, padding_idx: int = 1) -> PairBatch:
    """Lay out TLM/CAMLM inputs. Positions follow RoBERTa: the first real position is
    ``padding_idx + 1`` and padding gets ``padding_idx``; the second segment starts again."""
    rows = []
    for s, t, ls, lt in zip(src, tgt, src_lang, tgt_lang, strict=True):
        a = [bos_id, *s, eos_id]
        b = [eos_id, *t, eos_id]
        rows.append((a + b, [padding_idx + 1 + i for i in range(len(a))] + [padding_idx + 1 + i for i in range(len(b))],
                     [ls] * len(a) + [lt] * len(b), [FIRST] * len(a) + [SECOND] * len(b)))
    width = max(len(r[0]) for r in rows)

    def padded(k: int, fill: int) -> torch.Tensor:
        return torch.tensor([r[k] + [fill] * (width - len(r[k])) for r in rows], dtype=torch.long)

    return PairBatch(padded(0, pad_id), padded(1, padding_idx), padded(2, 0), padded(3, PAD_SEGMENT))


def _pad_diagonal(segment: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """Let padding rows see themselves only, and no row see padding."""
    real = segment != PAD_SEGMENT
    allowed = allowed & real[:, None, :] & real[:, :, None]
    eye = torch.eye(segment.shape[1], dtype=torch.bool, device=segment.device)[None]
    return (allowed | (eye & ~real[:, :, None]))[:, None]


def full_mask(segment: torch.Tensor) -> torch.Tensor:
    """TLM (and MMLM on a pair): every real position attends to every real position."""
    s = segment.shape[1]
    return _pad_diagonal(segment, torch.ones(segment.shape[0], s, s, dtype=torch.bool, device=segment.device))


def directed_cross_mask(segment: torch.Tensor, predict: torch.Tensor) -> torch.Tensor:
    """CAMLM, our leak-free formulation: one direction per row.

    ``predict[b]`` is the segment (FIRST or SECOND) whose masked tokens row b predicts. A position
    of that segment attends to itself and to the other segment; a position of the other segment
    attends to its own segment only. The other segment's states then never depend on the
    predicted sentence, so after any number of layers p(x_m | M_m, Y) sees only its own position
    and Y, as DESIGN.md intends. (The paper's single symmetric mask, where every position sees itself
    and the other sentence, leaks from the second layer on: a masked source position reads target
    positions that read the rest of the source in the layer below.)
    """
    q, k = segment[:, :, None], segment[:, None, :]
    p = predict.to(segment.device)[:, None, None]
    eye = torch.eye(segment.shape[1], dtype=torch.bool, device=segment.device)[None]
    allowed = torch.where(q == p, (k != q) | eye, k == q)
    return _pad_diagonal(segment, allowed)


def placeholder_mask(segment: torch.Tensor) -> torch.Tensor:
    """BTMLM stage 1: CAMLM's directed mask predicting the second segment (the placeholders and
    their ``</s>``), so that stage 1 sees what CAMLM trained: source positions attend to the source
    only; each second-segment position attends to the source and to itself."""
    return directed_cross_mask(segment, torch.full((segment.shape[0],), SECOND, dtype=torch.long))
