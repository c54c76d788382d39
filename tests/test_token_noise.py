"""Token noise (trainer.token_noise): MMLM's 15% selection and 80/10/10 split hold statistically for
the per-example draws the objectives use (row_noise + apply_noise); random replacements are ordinary
pieces; an example is masked the same whatever batch it lands in; specials are never touched; TLM
batches restart positions and language ids per segment."""

from __future__ import annotations

import math

import numpy as np
import torch

from trainer.config import MMLMConfig, TLMConfig
from trainer.objectives import Context, Example
from trainer.objectives.mmlm import MMLM
from trainer.objectives.tlm import TLM
from trainer.token_noise import IGNORE, apply_noise, row_noise

MASK, FIRST_PIECE, VOCAB = 999, 4, 1000


def within(observed: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    return abs(observed - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


# ---- per-example draws (row_noise + apply_noise), as the objectives use them ----


def rows_noised(keys: list[int], lengths: list[int], width: int, ids: torch.Tensor, prob: float = 0.15):
    rngs = [np.random.default_rng([0, k]) for k in keys]
    draw, kind, rand = row_noise(rngs, lengths, width, first_piece=FIRST_PIECE, mask_id=MASK)
    maskable = torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]
    return apply_noise(ids, maskable, draw, kind, rand, mask_id=MASK, prob=prob)


def test_row_noise_selection_and_80_10_10_split():
    g = torch.Generator().manual_seed(1)
    lengths = [int(x) for x in torch.randint(100, 512, (256,), generator=g)]
    ids = torch.randint(FIRST_PIECE, MASK, (256, 512), generator=g)
    out, labels = rows_noised(list(range(256)), lengths, 512, ids)
    inside = torch.arange(512)[None, :] < torch.tensor(lengths)[:, None]
    selected = labels != IGNORE
    n, k = sum(lengths), int(selected.sum())
    assert not selected[~inside].any() and torch.equal(out[~inside], ids[~inside])
    assert within(k, n, 0.15)
    became_mask = int((out[selected] == MASK).sum())
    unchanged = int((out[selected] == ids[selected]).sum())
    assert within(became_mask, k, 0.8)
    assert within(unchanged, k, 0.1 + 0.1 / (MASK - FIRST_PIECE))
    assert within(k - became_mask - unchanged, k, 0.1 * (1 - 1 / (MASK - FIRST_PIECE)))
    assert torch.equal(labels[selected], ids[selected]) and torch.equal(out[~selected], ids[~selected])
    replaced = out[selected & (out != MASK) & (out != ids)]
    assert int(replaced.min()) >= FIRST_PIECE and int(replaced.max()) < MASK


def test_row_noise_same_example_same_mask_whatever_the_batch():
    g = torch.Generator().manual_seed(2)
    length = {7: 30, 8: 12, 9: 45, 10: 3}
    tokens = {k: torch.randint(FIRST_PIECE, MASK, (n,), generator=g) for k, n in length.items()}

    def batch(keys: list[int], width: int):
        ids = torch.full((len(keys), width), 1)
        for b, k in enumerate(keys):
            ids[b, :length[k]] = tokens[k]
        return rows_noised(keys, [length[k] for k in keys], width, ids, prob=0.3)

    a_out, a_lab = batch([7, 8, 9], 45)
    b_out, b_lab = batch([9, 10, 7], 64)    # another order, another width, another neighbour
    c_out, c_lab = batch([7], 30)           # alone
    assert torch.equal(a_out[0, :30], b_out[2, :30]) and torch.equal(a_out[0, :30], c_out[0])
    assert torch.equal(a_lab[0, :30], b_lab[2, :30]) and torch.equal(a_lab[0, :30], c_lab[0])
    assert torch.equal(a_lab[2], b_lab[0, :45]) and (b_lab[0, 45:] == IGNORE).all()
    assert 0 < int((a_lab[0] != IGNORE).sum()) < 30   # something was masked, not everything
    assert not torch.equal(a_lab[0, :12] != IGNORE, a_lab[1, :12] != IGNORE)   # rows differ


def ctx() -> Context:
    return Context(bos=0, eos=2, pad=1, mask=MASK, vocab_size=VOCAB, first_piece=FIRST_PIECE,
                   lang_id=lambda lang: {"de": 3, "en": 4, "fr": 5}[lang])


def test_mmlm_batch_masks_an_example_the_same_in_any_batch():
    rows = {k: {"input_ids": [0, *range(100 + 10 * k, 140 + 10 * k), 2], "lang": "de"} for k in range(4)}
    obj = MMLM(MMLMConfig(mask_prob=0.3), ctx())
    a = obj.make_batch([Example(k, rows[k]) for k in (0, 1, 2)])
    b = obj.make_batch([Example(k, rows[k]) for k in (3, 1)])
    assert torch.equal(a["input_ids"][1], b["input_ids"][1]) and torch.equal(a["labels"][1], b["labels"][1])
    assert not torch.equal(a["labels"][0] != IGNORE, a["labels"][1] != IGNORE)
    assert (a["labels"][:, [0, -1]] == IGNORE).all()          # <s> and </s> never selected
    assert a["lang_ids"][0].tolist() == [3] * 42


def test_tlm_batch_positions_and_languages_restart_per_segment():
    rows = [{"src_ids": [10, 11, 12], "tgt_ids": [20, 21], "src_lang": "de", "tgt_lang": "en"},
            {"src_ids": [30], "tgt_ids": [40], "src_lang": "fr", "tgt_lang": "en"}]
    batch = TLM(TLMConfig(mask_prob=0.5), ctx()).make_batch([Example(k, r) for k, r in enumerate(rows)])
    # <s> 10 11 12 </s> | </s> 20 21 </s>            and   <s> 30 </s> | </s> 40 </s> | pad pad pad
    assert batch["position_ids"].tolist() == [[2, 3, 4, 5, 6, 2, 3, 4, 5], [2, 3, 4, 2, 3, 4, 1, 1, 1]]
    assert batch["lang_ids"].tolist() == [[3] * 5 + [4] * 4, [5] * 3 + [4] * 3 + [0] * 3]
    labels = batch["labels"]
    selected = labels != IGNORE
    specials = torch.tensor([[1, 0, 0, 0, 1, 1, 0, 0, 1], [1, 0, 1, 1, 0, 1, 1, 1, 1]], dtype=torch.bool)
    assert not selected[specials].any() and selected.any()
    original = torch.tensor([[0, 10, 11, 12, 2, 2, 20, 21, 2], [0, 30, 2, 2, 40, 2, 1, 1, 1]])
    assert torch.equal(labels[selected], original[selected])
    assert torch.equal(batch["input_ids"][~selected], original[~selected])
    mask = batch["attention_mask"][:, 0]
    assert mask[0].all() and mask[1, :6, :6].all() and not mask[1, :6, 6:].any()
    assert batch.n_targets == int(selected.sum()) and batch.tokens == 15
