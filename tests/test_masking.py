"""MMLM's 15% selection and 80/10/10 split hold statistically; specials are never touched."""

from __future__ import annotations

import math

import torch

from trainer.masking import IGNORE, mask_tokens

MASK, FIRST_PIECE, VOCAB = 999, 4, 1000


def within(observed: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    return abs(observed - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


def test_selection_and_80_10_10_split():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(FIRST_PIECE, MASK, (256, 512), generator=g)
    maskable = torch.ones_like(ids, dtype=torch.bool)
    maskable[:, 0] = maskable[:, -1] = False  # <s> and </s>
    out, labels = mask_tokens(ids, maskable, mask_id=MASK, first_piece=FIRST_PIECE, generator=g)
    n = int(maskable.sum())
    selected = labels != IGNORE
    k = int(selected.sum())
    assert within(k, n, 0.15)
    became_mask = int((out[selected] == MASK).sum())
    unchanged = int((out[selected] == ids[selected]).sum())
    # a random replacement equals the original with probability 1/995: count those as unchanged
    assert within(became_mask, k, 0.8)
    assert within(unchanged, k, 0.1 + 0.1 / (MASK - FIRST_PIECE))
    assert within(k - became_mask - unchanged, k, 0.1 * (1 - 1 / (MASK - FIRST_PIECE)))
    assert torch.equal(labels[selected], ids[selected])
    assert torch.equal(out[~selected], ids[~selected]) and not selected[~maskable].any()


def test_random_tokens_are_ordinary_pieces_and_determinism():
    ids = torch.full((64, 256), 500)
    maskable = torch.ones_like(ids, dtype=torch.bool)
    a = mask_tokens(ids, maskable, mask_id=MASK, first_piece=FIRST_PIECE, generator=torch.Generator().manual_seed(3))
    b = mask_tokens(ids, maskable, mask_id=MASK, first_piece=FIRST_PIECE, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    replaced = a[0][(a[0] != 500) & (a[0] != MASK)]
    assert replaced.numel() > 0 and int(replaced.min()) >= FIRST_PIECE and int(replaced.max()) < MASK
