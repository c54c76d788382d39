"""The pre-training objectives, one file each, collected in one explicit dict (:data:`REGISTRY`, the
names of the ``objectives.<name>`` config sections).

:mod:`.base` holds the :class:`Objective` interface that the trainer asks everything it needs to
know about an objective, and what all objectives share; :mod:`.contrastive` what MEP and OE share
(the base class, the queues and InfoNCE). MMLM, TLM, CAMLM, BTMLM (Ernie-M), MEP, OE (XLM-K) and
MMKD are in the files of their names.
"""

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
