"""Attention masks and pair layouts against a naive reference built position by position."""

from __future__ import annotations

import random

import torch

from trainer.attention_masks import (
    FIRST,
    PAD_SEGMENT,
    SECOND,
    directed_cross_mask,
    full_mask,
    pair_batch,
    placeholder_mask,
)

BOS, PAD, EOS = 0, 1, 2


def naive(segment: list[int], rule) -> list[list[bool]]:
    """mask[i][j] from the rule, position by position; padding rows see only themselves."""
    n = len(segment)
    out = []
    for i in range(n):
        row = []
        for j in range(n):
            if segment[i] == PAD_SEGMENT:
                row.append(i == j)
            elif segment[j] == PAD_SEGMENT:
                row.append(False)
            else:
                row.append(rule(segment[i], segment[j], i == j))
        out.append(row)
    return out


RULES = {
    "full": (full_mask, lambda a, b, same: True),
    "placeholder": (placeholder_mask, lambda a, b, same: b == FIRST if a == FIRST else (b == FIRST or same)),
}


def random_batch(rng: random.Random):
    src = [[rng.randrange(5, 50) for _ in range(rng.randint(1, 7))] for _ in range(4)]
    tgt = [[rng.randrange(5, 50) for _ in range(rng.randint(1, 7))] for _ in range(4)]
    return pair_batch(src, tgt, [3] * 4, [7] * 4, bos_id=BOS, eos_id=EOS, pad_id=PAD), src, tgt


def test_masks_equal_the_naive_reference_with_padding():
    rng = random.Random(0)
    for _ in range(30):
        batch, _, _ = random_batch(rng)
        assert (batch.segment == PAD_SEGMENT).any()  # lengths differ, so there is padding
        for name, (fn, rule) in RULES.items():
            mask = fn(batch.segment)
            assert mask.shape == (4, 1, batch.segment.shape[1], batch.segment.shape[1]) and mask.dtype == torch.bool
            for b in range(4):
                assert mask[b, 0].tolist() == naive(batch.segment[b].tolist(), rule), name


def test_pair_layout_positions_and_languages_restart():
    batch = pair_batch([[11, 12]], [[21, 22, 23]], [3], [7], bos_id=BOS, eos_id=EOS, pad_id=PAD)
    assert batch.input_ids.tolist() == [[BOS, 11, 12, EOS, EOS, 21, 22, 23, EOS]]
    assert batch.position_ids.tolist() == [[2, 3, 4, 5, 2, 3, 4, 5, 6]]
    assert batch.lang_ids.tolist() == [[3, 3, 3, 3, 7, 7, 7, 7, 7]]
    assert batch.segment.tolist() == [[FIRST] * 4 + [SECOND] * 5]
    two = pair_batch([[11], [11, 12, 13]], [[21], [21]], [3, 3], [7, 7], bos_id=BOS, eos_id=EOS, pad_id=PAD)
    assert two.input_ids[0].tolist() == [BOS, 11, EOS, EOS, 21, EOS, PAD, PAD]
    assert two.position_ids[0].tolist() == [2, 3, 4, 2, 3, 4, 1, 1]
    assert two.lang_ids[0, -2:].tolist() == [0, 0] and two.segment[0, -2:].tolist() == [0, 0]


def directed_rule(predict: int):
    """Directed CAMLM: the predicted segment sees itself (the position only) and the other
    segment; the other segment sees its own segment only."""
    def rule(a, b, same):
        if a == predict:
            return same or b != a
        return b == a
    return rule


def test_directed_cross_mask_equals_the_naive_reference_with_padding():
    rng = random.Random(1)
    seen = set()
    for _ in range(30):
        batch, _, _ = random_batch(rng)
        predict = [rng.choice([FIRST, SECOND]) for _ in range(4)]
        seen |= set(predict)
        mask = directed_cross_mask(batch.segment, torch.tensor(predict))
        assert mask.shape == (4, 1, batch.segment.shape[1], batch.segment.shape[1]) and mask.dtype == torch.bool
        for b in range(4):
            assert mask[b, 0].tolist() == naive(batch.segment[b].tolist(), directed_rule(predict[b])), predict[b]
    assert seen == {FIRST, SECOND}


def test_directed_cross_mask_by_hand():
    batch = pair_batch([[11, 12], [11]], [[21], [21]], [3, 3], [7, 7], bos_id=BOS, eos_id=EOS, pad_id=PAD)
    m = directed_cross_mask(batch.segment, torch.tensor([FIRST, SECOND]))[:, 0]
    # row 0 predicts the source: source token 11 (position 1) sees itself and the target (4..6)
    assert m[0, 1].tolist() == [False, True, False, False, True, True, True]
    # ... and target token 21 (position 5) sees the target segment only
    assert m[0, 5].tolist() == [False, False, False, False, True, True, True]
    # row 1 predicts the target: layout <s> 11 </s> </s> 21 </s> <pad>
    assert m[1, 1].tolist() == [True, True, True, False, False, False, False]
    assert m[1, 4].tolist() == [True, True, True, False, True, False, False]
    assert m[1, 6].tolist() == [False] * 6 + [True]   # padding sees only itself
