"""Tatoeba sentence retrieval, the XTREME protocol.

    python -m trainer.evaluate.tatoeba MODEL --langs deu,fra [--layer N] [--data DIR] [--out JSON]

MODEL is an exported xlkit directory (``python -m trainer.export``: an ``XLMRobertaForMaskedLM``,
its tokenizer and ``xlkit_langs.json``) or any local ``transformers`` encoder directory. DIR holds
the LASER layout, ``tatoeba.xxx-eng.xxx`` and ``tatoeba.xxx-eng.eng`` (line i of one translates
line i of the other); default ``../shared/data/tatoeba-laser`` beside the checkout.

Each sentence is embedded as the mean of the non-padding hidden states of one layer (``--layer``,
an index into ``hidden_states``: 0 is the embeddings, the default is the middle layer
``num_hidden_layers // 2``, negative counts from the end). For an xlkit model whose config has
``type_vocab_size > 1`` the language id of the sentence (ISO 639-3 mapped to the model's codes by
:func:`xlkit_core.langs.normalise`: deu -> de) goes in as ``token_type_ids``; a language the model
was not trained on gets none (the no-language row 0), and is refused for an export without that
row (:meth:`ModelDir.lang_id`). Retrieval is
the cosine nearest neighbour among all sentences of the other side, in both directions (xxx->eng
and eng->xxx); accuracy is the share whose neighbour is the gold translation. The result holds the
accuracy per language and direction and the average over all of them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch

from xlkit_core.environment import check_environment

from .common import (
    EvalError,
    ModelDir,
    load_encoder,
    load_tokenizer,
    resolve_model,
    write_json,
)

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "tatoeba-laser"


# bad input (missing files, unequal line counts, an unknown language, a model without tokenizer)
TatoebaError = EvalError


def retrieval_accuracy(sim: np.ndarray) -> float:
    """Share of rows whose highest-scoring column is their own index (row i's gold is column i).
    Ties go to the lowest column index (``argmax``)."""
    sim = np.asarray(sim)
    if sim.ndim != 2 or sim.shape[0] == 0 or sim.shape[0] > sim.shape[1]:
        raise ValueError(f"need a non-empty [n, m] similarity matrix with n <= m, got shape {sim.shape}")
    return float((sim.argmax(axis=1) == np.arange(sim.shape[0])).mean())


def available_langs(data_dir: str | os.PathLike) -> list[str]:
    """The ISO 639-3 codes xxx of the ``tatoeba.xxx-eng.*`` files in ``data_dir`` (empty when it is not a directory)."""
    d = Path(data_dir)
    return sorted({p.name.split(".")[1].split("-")[0] for p in d.glob("tatoeba.*-eng.*")}) if d.is_dir() else []


def read_pair(data_dir: str | os.PathLike, lang3: str) -> tuple[list[str], list[str]]:
    """(xxx sentences, eng sentences) of ``tatoeba.xxx-eng``; unequal line counts are an error."""
    d = Path(data_dir)
    fx, fe = d / f"tatoeba.{lang3}-eng.{lang3}", d / f"tatoeba.{lang3}-eng.eng"
    for f in (fx, fe):
        if not f.exists():
            have = available_langs(d)
            raise TatoebaError(f"{f} is missing" + (f" (languages in {d}: {', '.join(have)})" if have else
                                                    f" ({d} holds no tatoeba.xxx-eng.* files)"))
    xs = fx.read_text(encoding="utf-8").splitlines()
    es = fe.read_text(encoding="utf-8").splitlines()
    if len(xs) != len(es):
        raise TatoebaError(f"unequal line counts: {fx} has {len(xs)} lines, {fe} has {len(es)}; "
                           "line i of one must translate line i of the other")
    if not xs:
        raise TatoebaError(f"{fx} and {fe} are empty")
    return xs, es


class Embedder:
    """Mean-pooled hidden states of one layer of a local encoder directory."""

    def __init__(self, model: str | os.PathLike | ModelDir, layer: int | None = None, device: str = "cpu",
                 batch_size: int = 64):
        self.md = model if isinstance(model, ModelDir) else resolve_model(str(model))
        self.dir = self.md.path
        self.tokenizer = load_tokenizer(self.md)
        self.model = load_encoder(self.md).to(device)
        config = self.model.config
        self.device, self.batch_size = device, batch_size
        n_layers = config.num_hidden_layers
        self.layer = n_layers // 2 if layer is None else layer
        if not -(n_layers + 1) <= self.layer <= n_layers:
            raise TatoebaError(f"layer {self.layer} is out of range: {self.dir} has hidden_states 0..{n_layers}")
        self.layer_index = self.layer % (n_layers + 1)
        max_pos = getattr(config, "max_position_embeddings", 512)
        offset = (config.pad_token_id + 1) if "roberta" in config.model_type else 0
        self.max_len = max(8, min(max_pos - offset, getattr(self.tokenizer, "model_max_length", 10 ** 9)))

    @property
    def langs(self) -> list[str]:
        return self.md.langs

    @property
    def use_lang_ids(self) -> bool:
        return self.md.uses_lang_ids

    def lang_id(self, lang3: str) -> int | None:
        """The model's language id of an ISO 639-3 code, or None when the model takes none or was not
        trained on the language (zero-shot: row 0); an error for an export without the no-language row."""
        return self.md.lang_id(lang3, unknown="none")

    def layer_index_of(self, layer: int | None) -> int:
        n_layers = self.model.config.num_hidden_layers
        layer = n_layers // 2 if layer is None else layer
        if not -(n_layers + 1) <= layer <= n_layers:
            raise TatoebaError(f"layer {layer} is out of range: {self.dir} has hidden_states 0..{n_layers}")
        return layer % (n_layers + 1)

    def embed(self, sentences: list[str], lang3: str) -> np.ndarray:
        return self.embed_layers(sentences, lang3, [self.layer_index])[self.layer_index]

    @torch.no_grad()
    def embed_layers(self, sentences: list[str], lang3: str, layers: list[int]) -> dict[int, np.ndarray]:
        """Mean-pooled sentence vectors of several ``hidden_states`` indices from one forward pass."""
        lid = self.lang_id(lang3)
        out: dict[int, list] = {i: [] for i in layers}
        # batches of similar lengths (less padding); the vectors go back to the input order at the end
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        for i in range(0, len(order), self.batch_size):
            enc = self.tokenizer([sentences[j] for j in order[i:i + self.batch_size]], padding=True, truncation=True,
                                 max_length=self.max_len, return_tensors="pt")
            enc = {k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask",
                                                                            "token_type_ids")}
            if lid is not None:
                enc["token_type_ids"] = torch.full_like(enc["input_ids"], lid)
            elif "token_type_ids" in enc and getattr(self.model.config, "type_vocab_size", 1) <= 1:
                enc.pop("token_type_ids")
            hidden = self.model(**enc, output_hidden_states=True).hidden_states
            m = enc["attention_mask"].unsqueeze(-1).to(hidden[0].dtype)
            for li in layers:
                out[li].append(((hidden[li] * m).sum(1) / m.sum(1).clamp(min=1)).float().cpu().numpy())
        back = np.argsort(np.asarray(order, dtype=np.int64), kind="stable")
        return {li: np.concatenate(v)[back] for li, v in out.items()}


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def evaluate(model_dir: str | os.PathLike | ModelDir, langs: list[str], layer: int | None = None,
             data_dir: str | os.PathLike = DEFAULT_DATA, device: str = "cpu", limit: int | None = None,
             more_layers: list[int] = ()) -> dict:
    """{"model", "layer", "accuracy": {xxx: {"xx2en", "en2xx", "n"}}, "average"}; ``limit`` keeps the first
    n pairs of each language (for quick checks and time budgets; the full protocol uses all of them).
    ``more_layers`` adds ``"layers": {index: {"accuracy", "average"}}`` for further ``hidden_states``
    indices, computed from the same forward passes."""
    pairs = {lang: read_pair(data_dir, lang) for lang in langs}      # read (and check) everything first
    emb = Embedder(model_dir, layer, device)
    indices = list(dict.fromkeys([emb.layer_index, *(emb.layer_index_of(x) for x in more_layers)]))
    acc: dict[int, dict] = {i: {} for i in indices}
    for lang, (xs, es) in pairs.items():
        if limit:
            xs, es = xs[:limit], es[:limit]
        ex, ee = emb.embed_layers(xs, lang, indices), emb.embed_layers(es, "eng", indices)
        for i in indices:
            sim = cosine(ex[i], ee[i])
            acc[i][lang] = {"xx2en": retrieval_accuracy(sim), "en2xx": retrieval_accuracy(sim.T), "n": len(xs)}

    def average(a: dict) -> float:
        return float(np.mean([v for x in a.values() for k, v in x.items() if k != "n"]))

    res = {"model": emb.md.source, "layer": emb.layer_index, "data": str(data_dir),
           "accuracy": acc[emb.layer_index], "average": average(acc[emb.layer_index])}
    if len(indices) > 1:
        res["layers"] = {str(i): {"accuracy": acc[i], "average": average(acc[i])} for i in indices}
    return res


def main(argv: list[str] | None = None) -> int:
    check_environment()
    p = argparse.ArgumentParser(prog="python -m trainer.evaluate.tatoeba",
                                description="Tatoeba retrieval accuracy (XTREME protocol) of a local encoder")
    p.add_argument("model", metavar="MODEL", help="an exported xlkit model or a local transformers encoder dir")
    p.add_argument("--langs", required=True, help="comma-separated ISO 639-3 codes, e.g. deu,fra")
    p.add_argument("--layer", type=int, default=None,
                   help="hidden_states index to pool (0 = embeddings; default num_hidden_layers // 2; -1 = last)")
    p.add_argument("--data", default=str(DEFAULT_DATA), help=f"LASER-layout directory (default {DEFAULT_DATA})")
    p.add_argument("--out", default=None, help="write the result as JSON here")
    p.add_argument("--device", default="cpu")
    p.add_argument("--limit", type=int, default=None, help="only the first N pairs per language")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    try:
        res = evaluate(args.model, [x.strip() for x in args.langs.split(",") if x.strip()], args.layer, args.data,
                       args.device, args.limit)
    except TatoebaError as exc:
        print(f"tatoeba: {exc}", file=sys.stderr)
        return 2
    for lang, a in res["accuracy"].items():
        print(f"{lang}: {lang}->eng {100 * a['xx2en']:.2f}  eng->{lang} {100 * a['en2xx']:.2f}  (n={a['n']})")
    print(f"average {100 * res['average']:.2f}  (layer {res['layer']}, {res['model']})")
    if args.out:
        write_json(args.out, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
