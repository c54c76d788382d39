"""The pre-training objectives, one file each, collected in one explicit dict."""

from __future__ import annotations

from .base import Batch, Context, Example, Objective
from .btmlm import BTMLM
from .camlm import CAMLM
from .mep import MEP
from .mmkd import MMKD
from .mmlm import MMLM
from .oe import OE
from .tlm import TLM

REGISTRY: dict[str, type[Objective]] = {"mmlm": MMLM, "tlm": TLM, "camlm": CAMLM, "btmlm": BTMLM, "mep": MEP,
                                        "oe": OE, "mmkd": MMKD}

__all__ = ["REGISTRY", "Batch", "Context", "Example", "Objective"]
