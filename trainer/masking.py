"""MMLM token masking (DESIGN.md): 15% of the maskable tokens are selected; of those, 80% become
``<mask>``, 10% a random ordinary token and 10% stay unchanged. The loss is taken on the
selected tokens only (labels are -100 elsewhere)."""

from __future__ import annotations

import torch

IGNORE = -100


def mask_tokens(input_ids: torch.Tensor, maskable: torch.Tensor, *, mask_id: int, first_piece: int,
                prob: float = 0.15, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (masked input ids, labels).

    ``maskable`` is a boolean tensor of the same shape (False on specials, padding and anything
    an objective keeps visible). Random replacements are drawn from the ordinary pieces
    ``[first_piece, mask_id)``, so never a special token or ``<mask>`` itself.
    """
    if not 0.0 < prob < 1.0:
        raise ValueError(f"masking probability {prob} must be in (0, 1)")
    draw = torch.rand(input_ids.shape, generator=generator, device=input_ids.device)
    selected = (draw < prob) & maskable
    kind = torch.rand(input_ids.shape, generator=generator, device=input_ids.device)
    to_mask = selected & (kind < 0.8)
    to_random = selected & (kind >= 0.8) & (kind < 0.9)
    random_ids = torch.randint(first_piece, mask_id, input_ids.shape, generator=generator, device=input_ids.device)
    out = torch.where(to_mask, torch.full_like(input_ids, mask_id), input_ids)
    out = torch.where(to_random, random_ids, out)
    labels = torch.where(selected, input_ids, torch.full_like(input_ids, IGNORE))
    return out, labels
