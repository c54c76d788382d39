"""No leakage through a real XLM-R encoder (transformers, 4-D boolean masks): under BTMLM stage 1
the source ignores the placeholders, and each placeholder ignores the others.

CAMLM is not tested here yet: with the per-layer mask of DESIGN.md, a masked source position
sees the other source tokens after two layers, through the target positions that attended to
them (measured: a change of 1.3e-5 in the logits against 6e-4 under full attention). The
trainer issue must settle that, e.g. with one pass per direction."""

from __future__ import annotations

import torch
from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

from trainer.masks import FIRST, SECOND, placeholder_mask

BOS, PAD, EOS, MASK = 0, 1, 2, 99


def tiny_model() -> XLMRobertaForMaskedLM:
    torch.manual_seed(0)
    cfg = XLMRobertaConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                           intermediate_size=64, max_position_embeddings=64, pad_token_id=PAD)
    return XLMRobertaForMaskedLM(cfg).eval()


def logits(model, batch, mask) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=batch.input_ids, position_ids=batch.position_ids, attention_mask=mask).logits


def test_btmlm_source_ignores_placeholders_and_placeholders_ignore_each_other():
    model = tiny_model()
    segment = torch.tensor([[FIRST] * 5 + [SECOND] * 3])

    class B:  # input_ids / position_ids as a stage-1 batch lays them out
        def __init__(self, ids):
            self.input_ids = torch.tensor([ids])
            self.position_ids = torch.tensor([[2, 3, 4, 5, 6, 7, 8, 9]])

    a = B([BOS, 10, 11, 12, EOS, MASK, MASK, MASK])
    b = B([BOS, 10, 11, 12, EOS, 30, 31, 32])  # different placeholder tokens
    mask = placeholder_mask(segment)
    la, lb = logits(model, a, mask), logits(model, b, mask)
    assert torch.allclose(la[0, :5], lb[0, :5], atol=1e-6)       # the source never sees the placeholders
    c = B([BOS, 10, 11, 12, EOS, MASK, 33, 34])                  # change placeholders 2 and 3 only
    assert torch.allclose(logits(model, c, mask)[0, 5], la[0, 5], atol=1e-6)
