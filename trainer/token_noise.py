"""Token noise, MMLM's masking of input tokens (DESIGN.md): 15% of the maskable tokens are selected;
of those, 80% become ``<mask>``, 10% a random ordinary token and 10% stay unchanged. The loss is
taken on the selected tokens only (labels are :data:`IGNORE`, -100, elsewhere).

:func:`row_noise` draws the uniforms with one generator per row and :func:`apply_noise` applies
the rule to them (every objective goes through :func:`trainer.objectives.base.noised`). The
attention masks of the pair objectives are another thing: :mod:`trainer.attention_masks`."""

from __future__ import annotations

import numpy as np
import torch

IGNORE = -100


def row_noise(rngs: list[np.random.Generator], lengths: list[int], width: int, *, first_piece: int,
              mask_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The draws of :func:`apply_noise`, one generator per row.

    Row b's draws depend only on its own generator and length, never on the batch it lands in,
    so an example is masked the same way whatever the batch size or the number of ranks (that is
    what makes 2 ranks equal 1 rank with the doubled batch). Positions past a row's length get
    draws of 1.0, which select nothing."""
    draw = np.ones((len(rngs), width), dtype=np.float32)
    kind = np.ones((len(rngs), width), dtype=np.float32)
    rand = np.full((len(rngs), width), first_piece, dtype=np.int64)
    for b, (rng, n) in enumerate(zip(rngs, lengths, strict=True)):
        draw[b, :n] = rng.random(n, dtype=np.float32)
        kind[b, :n] = rng.random(n, dtype=np.float32)
        rand[b, :n] = rng.integers(first_piece, mask_id, n)
    return torch.from_numpy(draw), torch.from_numpy(kind), torch.from_numpy(rand)


def apply_noise(input_ids: torch.Tensor, maskable: torch.Tensor, draw: torch.Tensor, kind: torch.Tensor,
                random_ids: torch.Tensor, *, mask_id: int, prob: float = 0.15) -> tuple[torch.Tensor, torch.Tensor]:
    """The 80/10/10 rule on given uniform draws: ``draw < prob`` selects, ``kind`` picks the fate."""
    if not 0.0 < prob < 1.0:
        raise ValueError(f"masking probability {prob} must be in (0, 1)")
    selected = (draw < prob) & maskable
    to_mask = selected & (kind < 0.8)
    to_random = selected & (kind >= 0.8) & (kind < 0.9)
    out = torch.where(to_mask, torch.full_like(input_ids, mask_id), input_ids)
    out = torch.where(to_random, random_ids, out)
    labels = torch.where(selected, input_ids, torch.full_like(input_ids, IGNORE))
    return out, labels
