"""The encoder: an XLM-R masked LM from ``transformers`` plus a language embedding and the objectives'
heads (``heads``: MEP/OE's projection heads, MMKD's projections).

The language embedding reuses XLM-R's token-type embedding table (language ids go in as
``token_type_ids``), so an exported model is a plain ``XLMRobertaForMaskedLM`` that
``AutoModelForMaskedLM`` loads. Row 0 is **no language** (:data:`NO_LANGUAGE`, first in the
language list): it is what every row starts from and what a language the model never trained on
gets, so zero-shot evaluation reads a pretrained model as it was before any language row moved.
Rows 1..n are the training languages. A pretrained checkpoint with one token-type row (XLM-R,
multilingual-e5) is widened with copies of row 0 (zero-initialised language deltas), so its
outputs do not change until training moves the rows. A model trained from scratch draws every
row at random, as transformers does (tried: rows that start equal kept MMKD's structure level
from learning in the 60-step Multi30K test); its row 0 stays at its initial value. (Exports
written before row 0 was reserved have no ``<none>`` entry and keep their layout: an unknown
language then gets the first language's row.) :func:`xlkit_core.langs.lang_index` holds these rules.
"""

from __future__ import annotations

import json
import os

import torch
from torch import nn
from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

from xlkit_core.langs import NO_LANGUAGE, lang_index

SIZES = {
    "tiny": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 128},
    "small": {"hidden_size": 768, "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 3072},
    "base": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072},
    "large": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096},
}
LANGS_FILE = "xlkit_langs.json"


class ProjectionHead(nn.Module):
    """Linear -> BatchNorm -> ReLU -> Linear -> BatchNorm without affine (XLM-K's heads)."""

    def __init__(self, hidden: int, out: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                                 nn.Linear(hidden, out), nn.BatchNorm1d(out, affine=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.float() if x.dtype != self.net[0].weight.dtype else x)


class Encoder(nn.Module):
    def __init__(self, mlm: XLMRobertaForMaskedLM, langs: list[str], heads: dict[str, int] | None = None,
                 use_langs: bool = True):
        super().__init__()
        self.mlm = mlm
        self.use_langs = use_langs and mlm.config.type_vocab_size > 1
        self.langs = list(langs)
        hidden = mlm.config.hidden_size
        self.heads = nn.ModuleDict({name: ProjectionHead(hidden, dim) for name, dim in (heads or {}).items()})
        self.additive_mask = mlm.config._attn_implementation == "eager"

    @property
    def config(self) -> XLMRobertaConfig:
        return self.mlm.config

    def lang_id(self, lang: str) -> int:
        """The row of ``lang``; a language the model never trained on gets row 0, no language
        (:func:`xlkit_core.langs.lang_index`, ``unknown="row0"``)."""
        if not self.use_langs:
            return 0
        row = lang_index(self.langs, lang, unknown="row0")
        return 0 if row is None else row

    @property
    def languages(self) -> list[str]:
        """The training languages, without the no-language row."""
        return [x for x in self.langs if x != NO_LANGUAGE]

    def prepare_mask(self, mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """Our masks are boolean (True = may attend). SDPA takes them as they are; the eager path
        adds the mask to the scores, so it gets 0 / a very negative number instead."""
        if mask.dim() == 4 and mask.dtype == torch.bool and self.additive_mask:
            return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(~mask, torch.finfo(dtype).min)
        return mask

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, position_ids: torch.Tensor | None = None,
               lang_ids: torch.Tensor | None = None, layer: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(last hidden states, hidden states of ``layer``) for a batch; ``layer`` counts like
        ``output_hidden_states`` (0 = embeddings, -1 = last)."""
        if not self.use_langs or lang_ids is None:
            lang_ids = torch.zeros_like(input_ids)
        dtype = self.mlm.roberta.embeddings.word_embeddings.weight.dtype
        want = layer is not None and layer not in (-1, self.config.num_hidden_layers)
        out = self.mlm.roberta(input_ids=input_ids, attention_mask=self.prepare_mask(attention_mask, dtype),
                               position_ids=position_ids, token_type_ids=lang_ids, output_hidden_states=want)
        last = out.last_hidden_state
        return last, (out.hidden_states[layer] if want else last)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.mlm.lm_head(hidden)

    def forward(self, input_ids, attention_mask, position_ids=None, lang_ids=None) -> torch.Tensor:
        last, _ = self.encode(input_ids, attention_mask, position_ids, lang_ids)
        return self.logits(last)


def size_config(size: str, vocab_size: int, n_types: int, dropout: float, attention: str,
                max_positions: int = 514) -> XLMRobertaConfig:
    return XLMRobertaConfig(vocab_size=vocab_size, type_vocab_size=n_types, max_position_embeddings=max_positions,
                            hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout, pad_token_id=1,
                            bos_token_id=0, eos_token_id=2, attn_implementation=attention, **SIZES[size])


def widen_language_embedding(mlm: XLMRobertaForMaskedLM, n: int) -> None:
    """Give the token-type table ``n`` rows; new rows copy row 0."""
    old = mlm.roberta.embeddings.token_type_embeddings
    if old.num_embeddings >= n:
        return
    new = nn.Embedding(n, old.embedding_dim).to(old.weight.device, old.weight.dtype)
    with torch.no_grad():
        new.weight[: old.num_embeddings] = old.weight
        new.weight[old.num_embeddings:] = old.weight[0]
    mlm.roberta.embeddings.token_type_embeddings = new
    mlm.config.type_vocab_size = n
    if getattr(mlm.roberta.embeddings, "token_type_ids", None) is not None:
        mlm.roberta.embeddings.register_buffer(
            "token_type_ids", torch.zeros_like(mlm.roberta.embeddings.token_type_ids), persistent=False)


def with_no_language(langs: list[str]) -> list[str]:
    return list(langs) if langs[:1] == [NO_LANGUAGE] else [NO_LANGUAGE, *langs]


def checkpoint_langs(directory: str) -> list[str]:
    path = os.path.join(directory, LANGS_FILE)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)["langs"]
    return []


def build_model(mcfg, vocab_size: int, langs: list[str], heads: dict[str, int],
                max_positions: int = 514) -> Encoder:
    """A new encoder of a named size, or one initialised from ``mcfg.init_from``.

    With ``init_from``, the checkpoint's language list comes first (so its rows keep their
    meaning) and the shards' other languages are appended."""
    if mcfg.init_from:
        mlm = XLMRobertaForMaskedLM.from_pretrained(mcfg.init_from, attn_implementation=mcfg.attention,
                                                    hidden_dropout_prob=mcfg.dropout,
                                                    attention_probs_dropout_prob=mcfg.dropout)
        if mlm.config.vocab_size < vocab_size:
            raise ValueError(f"{mcfg.init_from} has {mlm.config.vocab_size} token embeddings, fewer than the "
                             f"tokenizer's {vocab_size}; build the shards with this checkpoint's tokenizer "
                             f"(make tokenizer FROM_PRETRAINED={mcfg.init_from})")
        base = checkpoint_langs(mcfg.init_from) or ([NO_LANGUAGE] if mcfg.language_embedding else [])
        langs = base + [x for x in langs if x not in base and x != NO_LANGUAGE]
        if mcfg.language_embedding:
            widen_language_embedding(mlm, len(langs))
    else:
        if mcfg.language_embedding:
            langs = with_no_language(langs)
        n_types = len(langs) if mcfg.language_embedding else 1
        mlm = XLMRobertaForMaskedLM(size_config(mcfg.size, vocab_size, max(n_types, 1), mcfg.dropout,
                                                mcfg.attention, max_positions))
    return Encoder(mlm, langs, heads, use_langs=mcfg.language_embedding)
