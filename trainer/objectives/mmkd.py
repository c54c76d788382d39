"""MMKD, our formulation (the paper's equations are not public): distillation from a frozen English
teacher T into the student S at four levels, on the ``distill`` shards' (en, x) pairs.

The student reads ``<s> en </s>`` (language id ``en``) and ``<s> x </s>`` (language id of x) in one
forward pass; the teacher (:mod:`trainer.teacher`) reads the English words. Words (the rule of
:func:`xlkit_core.words.tokenize_words`) are where the two vocabularies meet. Each level has a
weight, a student layer and its own ``nn.Linear`` projection ``P`` from the student's width to the
teacher's (a module ``mmkd_<level>`` in ``model.heads``):

- **token**: ``P(S(en))`` subword states mean-pooled to words vs ``T(en)`` word states (MSE).
- **word**: ``P(S(x))`` word states vs the ``T(en)`` states of their aligned English words, one MSE
  term per link. Links come from the shard (``alignment=shard``) or from the embedding aligner
  (``alignment=embedding``): the mutual argmax of cosine similarity (SimAlign's "argmax"), between
  ``P(S(x))`` and ``T(en)`` words (``align_with=teacher``) or ``S(x)`` and ``S(en)`` words
  (``align_with=student``, SimAlign proper, for a pretrained student), without gradient.
- **sentence**: ``P(mean S(x))`` and ``P(mean S(en))`` each vs the teacher's real sentence embedding
  of en (:func:`trainer.teacher.sentence_embedding`: mean over its last layer, L2-normalised), MSE,
  the average of the two. Student means run over all real tokens, specials included.
- **structure**: the cosine-similarity matrix of ``P(mean S(x))`` over the batch vs that of the
  teacher's sentence embeddings, off the diagonal: KL(T || S) between row-softmaxes at a temperature, or MSE.
  It is a per micro-batch quantity (gradient accumulation does not widen it).

MSE is the mean squared difference per dimension, averaged over words (or links, sentences).
:class:`MMKD` (``objectives.mmkd``) computes the student and the teacher once per batch and sums
the weighted levels; each level is also an objective of its own (:class:`TokenLevel`, ...), so that
it can be run, tested and ablated alone. The loss averages over sentence pairs (``n_targets``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from xlkit_core.errors import ConfigError
from xlkit_core.words import tokenize_words

from ..teacher import (
    Teacher,
    TeacherCache,
    TeacherOut,
    masked_mean,
    pool_words,
    sentence_key,
    teacher_dir_problem,
)
from .base import Batch, Context, Example, Objective, pad_rows

LEVELS = ("token", "word", "sentence", "structure")


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over rows of the mean squared difference per dimension; 0 (with a graph) for no rows."""
    if pred.shape[0] == 0:
        return pred.sum() * 0.0
    return (pred.float() - target.float()).pow(2).mean()


def mutual_argmax(a: torch.Tensor, a_mask: torch.Tensor, b: torch.Tensor, b_mask: torch.Tensor) -> torch.Tensor:
    """Links ``[n, 3]`` = (row, i, j) where word j of ``b`` is word i's best cosine match in ``a`` and
    word i is word j's best match (``a`` ``[B, I, d]``, ``b`` ``[B, J, d]``)."""
    sim = F.normalize(a.float(), dim=-1) @ F.normalize(b.float(), dim=-1).transpose(1, 2)
    ok = a_mask[:, :, None] & b_mask[:, None, :]
    sim = sim.masked_fill(~ok, float("-inf"))
    best_j, best_i = sim.argmax(2), sim.argmax(1)                     # [B, I], [B, J]
    back = best_i.gather(1, best_j)                                    # [B, I]: best i of i's best j
    i_idx = torch.arange(a.shape[1], device=a.device)[None]
    keep = (back == i_idx) & a_mask & ok.any(2)
    rows, i = keep.nonzero(as_tuple=True)
    return torch.stack([rows, i, best_j[rows, i]], 1)


@dataclass
class Views:
    """One batch seen by both models: student states by layer (``[2B, S, h]``: en rows then x rows)."""
    batch: Batch
    states: dict[int, torch.Tensor]
    teacher: TeacherOut

    @property
    def n(self) -> int:
        return self.batch.n_targets

    def words(self, layer: int, side: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Student word states of ``side`` (en or x), pooled from its subwords: ``[B, W, h]``, mask."""
        rows = slice(0, self.n) if side == "en" else slice(self.n, 2 * self.n)
        return pool_words(self.states[layer][rows], self.batch["word_ids"][rows], self.batch.extra[f"n_{side}"])

    def mean(self, layer: int, side: str) -> torch.Tensor:
        rows = slice(0, self.n) if side == "en" else slice(self.n, 2 * self.n)
        return masked_mean(self.states[layer][rows], self.batch["attention_mask"][rows].bool())


def setting_problems(cfg) -> list[str]:
    """What is wrong with the settings of ``objectives.mmkd`` that the :class:`Distiller` reads."""
    problems = []
    if cfg.alignment not in ("shard", "embedding"):
        problems.append(f"objectives.mmkd.alignment={cfg.alignment}: use shard or embedding")
    if cfg.align_with not in ("teacher", "student"):
        problems.append(f"objectives.mmkd.align_with={cfg.align_with}: use teacher or student")
    if cfg.structure.loss not in ("kl", "mse") or cfg.structure.temperature <= 0:
        problems.append("objectives.mmkd.structure: loss must be kl or mse and temperature above 0")
    return problems


def no_level_problem() -> str:
    return ("objectives.mmkd has no level with a weight above 0: set e.g. objectives.mmkd.token.weight=1, or "
            "objectives.mmkd.weight=0")


class Distiller:
    """What the levels share: the teacher (and its cache), the batch layout and the forward passes."""

    def __init__(self, cfg, ctx: Context, teacher: Teacher | None = None):
        self.cfg, self.ctx = cfg, ctx
        problems = setting_problems(cfg)
        if problems:
            raise ConfigError("; ".join(problems))
        try:
            self.teacher = teacher or Teacher(cfg.teacher, cfg.teacher_layer)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"objectives.mmkd.teacher: {exc}") from None
        self.cache = TeacherCache(cfg.teacher_cache, self.teacher) if cfg.teacher_cache else None
        self.warned = False

    def teacher_inputs(self, en_texts: list[str]) -> tuple[dict[str, torch.Tensor], dict]:
        """The teacher's tensors (``t_ids``, ``t_mask``, ``t_word_ids``) and the word counts and cache keys."""
        words = [tokenize_words(t) for t in en_texts]
        n_en, keys = [len(w) for w in words], [sentence_key(t) for t in en_texts]
        cached = self.cache is not None and all(k in self.cache for k in keys)   # then the teacher will not run
        return {} if cached else self.teacher.tokenize(words), {"n_en": max(n_en), "en_words": n_en, "t_keys": keys}

    def make_batch(self, examples: list[Example]) -> Batch:
        ctx, rows = self.ctx, [e.row for e in examples]
        t_tensors, t_extra = self.teacher_inputs([r["en_text"] for r in rows])
        n_en, n_x = t_extra["en_words"], [len(tokenize_words(r["x_text"])) for r in rows]
        for r, a, b in zip(rows, n_en, n_x, strict=True):
            if max(r["en_word_ids"], default=-1) >= a or max(r["x_word_ids"], default=-1) >= b:
                raise ValueError(f"distill row {r['en_text']!r}: its word ids exceed the words of tokenize_words; "
                                 "the shards were built with another word rule: rebuild them (make shards)")
        seqs = [[ctx.bos, *r["en_ids"], ctx.eos] for r in rows] + [[ctx.bos, *r["x_ids"], ctx.eos] for r in rows]
        wids = [[-1, *r["en_word_ids"], -1] for r in rows] + [[-1, *r["x_word_ids"], -1] for r in rows]
        ids = pad_rows(seqs, ctx.pad)
        real = ids != ctx.pad
        langs = torch.tensor([ctx.lang_id("en")] * len(rows) + [ctx.lang_id(r["x_lang"]) for r in rows])
        links = [(b, e, j) for b, r in enumerate(rows) for e, j in r["alignment"] if e < n_en[b] and j < n_x[b]]
        t = {"input_ids": ids, "attention_mask": real.long(), "lang_ids": langs[:, None] * real,
             "word_ids": pad_rows(wids, -1), "links": torch.tensor(links, dtype=torch.long).reshape(-1, 3)}
        return Batch(t | t_tensors, len(rows), int(real.sum()), t_extra | {"n_x": max(n_x)})

    def student(self, model, batch: Batch, layers: set[int]) -> dict[int, torch.Tensor]:
        n = model.config.num_hidden_layers
        bad = [x for x in layers if not -n - 1 <= x <= n]
        if bad:
            raise ConfigError(f"objectives.mmkd: student layer {bad[0]} is outside 0..{n} (or -1 for the last)")
        layers = {x % (n + 1) for x in layers}
        args = (batch["input_ids"], batch["attention_mask"])
        if len(layers) == 1:
            (layer,) = layers
            return {layer: model.encode(*args, lang_ids=batch["lang_ids"], layer=layer)[1]}
        langs = batch["lang_ids"] if model.use_langs else torch.zeros_like(batch["input_ids"])
        out = model.mlm.roberta(input_ids=args[0], attention_mask=args[1], token_type_ids=langs,
                                output_hidden_states=True)
        return {x: out.hidden_states[x] for x in layers}

    def targets(self, batch: Batch, device: torch.device) -> TeacherOut:
        """The teacher's states for the batch: computed, or read from the cache (computing the misses)."""
        n_words, keys = batch.extra["n_en"], batch.extra["t_keys"]
        if self.cache is None:
            return self.teacher(batch["t_ids"], batch["t_mask"], batch["t_word_ids"], n_words)
        miss = list({k: i for i, k in reversed(list(enumerate(keys))) if k not in self.cache}.values())
        if miss:
            idx = torch.tensor(miss, device=device)
            out = self.teacher(batch["t_ids"][idx], batch["t_mask"][idx], batch["t_word_ids"][idx], n_words)
            for j, i in enumerate(miss):
                w = batch.extra["en_words"][i]
                self.cache.put(keys[i], out.words[j, :w], out.word_mask[j, :w], out.sent[j])
        got = [self.cache.get(k) for k in keys]
        words = torch.zeros(len(keys), n_words, self.teacher.dim)
        mask = torch.zeros(len(keys), n_words, dtype=torch.bool)
        for i, (w, m, _) in enumerate(got):
            words[i, : len(w)], mask[i, : len(m)] = w.float(), m
        sent = torch.stack([s for _, _, s in got]).float()
        return TeacherOut(words.to(device), mask.to(device), sent.to(device))

    def views(self, model, batch: Batch, layers: set[int]) -> Views:
        if model.use_langs and "en" not in model.langs and not self.warned:
            self.warned = True
            warnings.warn("mmkd: the model has no language row for 'en' (the distill shards list only the x "
                          f"languages), so English shares the row of {model.langs[0]!r}; train with an objective "
                          "whose shards hold English (e.g. recipe=mmkd) or model.language_embedding=false",
                          stacklevel=2)
        n = model.config.num_hidden_layers
        states = self.student(model, batch, layers)
        states |= {x: states[x % (n + 1)] for x in layers}
        return Views(batch, states, self.targets(batch, batch["input_ids"].device))


class Level(Objective):
    """One MMKD level as an objective of its own; :class:`MMKD` runs the enabled ones together."""

    level = ""
    needs = ("distill",)

    def __init__(self, cfg, ctx: Context, distiller: Distiller | None = None):
        super().__init__(cfg, ctx)
        self.lcfg = getattr(cfg, self.level)
        self.distiller = distiller or Distiller(cfg, ctx)

    @property
    def name(self) -> str:
        return f"mmkd_{self.level}"

    def modules(self, hidden_size: int) -> dict[str, nn.Module]:
        return {self.name: nn.Linear(hidden_size, self.distiller.teacher.dim)}

    def project(self, model, x: torch.Tensor) -> torch.Tensor:
        return model.heads[self.name](x)

    def make_batch(self, examples: list[Example]) -> Batch:
        return self.distiller.make_batch(examples)

    def loss(self, model, v: Views) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        raise NotImplementedError

    def __call__(self, model, batch: Batch):
        return self.loss(model, self.distiller.views(model, batch, {self.lcfg.layer}))

    def state_tensors(self) -> dict[str, torch.Tensor]:
        if self.distiller.cache is not None:      # called at every checkpoint: persist new teacher states
            self.distiller.cache.flush()
        return {}


class TokenLevel(Level):
    level = "token"

    def loss(self, model, v: Views):
        s, s_mask = v.words(self.lcfg.layer, "en")
        keep = s_mask & v.teacher.word_mask
        loss = mse(self.project(model, s[keep]), v.teacher.words[keep])
        return loss, {"token": loss.detach()}


class WordLevel(Level):
    level = "word"

    def loss(self, model, v: Views):
        s, s_mask = v.words(self.lcfg.layer, "x")
        p = self.project(model, s)
        t, t_mask = v.teacher.words, v.teacher.word_mask
        if self.cfg.alignment == "shard":
            links = v.batch["links"]
        elif self.cfg.align_with == "teacher":
            with torch.no_grad():
                links = mutual_argmax(t, t_mask, p.detach(), s_mask)
        else:
            with torch.no_grad():
                en, en_mask = v.words(self.lcfg.layer, "en")
                links = mutual_argmax(en, en_mask & t_mask, s, s_mask)
        b, e, j = links.unbind(1)
        keep = s_mask[b, j] & t_mask[b, e]
        b, e, j = b[keep], e[keep], j[keep]
        loss = mse(p[b, j], t[b, e])
        return loss, {"word": loss.detach(), "word_links": torch.tensor(float(len(b)) / max(v.n, 1))}


class SentenceLevel(Level):
    level = "sentence"

    def loss(self, model, v: Views):
        t = v.teacher.sent
        loss = 0.5 * (mse(self.project(model, v.mean(self.lcfg.layer, "x")), t)
                      + mse(self.project(model, v.mean(self.lcfg.layer, "en")), t))
        return loss, {"sentence": loss.detach()}


def off_diagonal_cosines(z: torch.Tensor) -> torch.Tensor:
    """``[B, d]`` -> ``[B, B-1]``: each row's cosine similarity to the other rows."""
    z = F.normalize(z.float(), dim=-1)
    sim = z @ z.T
    eye = torch.eye(len(z), dtype=torch.bool, device=z.device)
    return sim[~eye].view(len(z), len(z) - 1)


class StructureLevel(Level):
    level = "structure"

    def loss(self, model, v: Views):
        z = self.project(model, v.mean(self.lcfg.layer, "x"))
        if len(z) < 2:
            loss = z.sum() * 0.0
            return loss, {"structure": loss.detach()}
        s, t = off_diagonal_cosines(z), off_diagonal_cosines(v.teacher.sent)
        if self.lcfg.loss == "mse":
            loss = (s - t).pow(2).mean()
        else:
            tau = self.lcfg.temperature
            loss = F.kl_div(F.log_softmax(s / tau, -1), F.log_softmax(t / tau, -1), log_target=True,
                            reduction="batchmean")
        return loss, {"structure": loss.detach()}


LEVEL_CLASSES: dict[str, type[Level]] = {"token": TokenLevel, "word": WordLevel, "sentence": SentenceLevel,
                                         "structure": StructureLevel}


class MMKD(Objective):
    """All enabled levels on one batch, one student and one teacher pass: sum of weight x level loss."""

    name = "mmkd"
    needs = ("distill",)

    @classmethod
    def config_problems(cls, cfg, run) -> list[str]:
        if cfg.weight <= 0:
            return []
        problems = setting_problems(cfg)
        teacher = teacher_dir_problem(cfg.teacher)
        if teacher:
            problems.append(f"objectives.mmkd.teacher: {teacher}")
        if not any(getattr(cfg, x).weight > 0 for x in LEVELS):
            problems.append(no_level_problem())
        return problems

    @classmethod
    def languages(cls, cfg, shards: dict) -> set[str]:
        """The manifest of the distill shards lists only the x side; the other side is English."""
        return super().languages(cfg, shards) | {"en"}

    def __init__(self, cfg, ctx: Context, teacher: Teacher | None = None):
        super().__init__(cfg, ctx)
        self.distiller = Distiller(cfg, ctx, teacher)
        self.levels = [LEVEL_CLASSES[x](cfg, ctx, self.distiller) for x in LEVELS if getattr(cfg, x).weight > 0]
        if not self.levels:
            raise ConfigError(no_level_problem())

    def modules(self, hidden_size: int) -> dict[str, nn.Module]:
        return {k: m for lv in self.levels for k, m in lv.modules(hidden_size).items()}

    def make_batch(self, examples: list[Example]) -> Batch:
        return self.distiller.make_batch(examples)

    def __call__(self, model, batch: Batch):
        v = self.distiller.views(model, batch, {lv.lcfg.layer for lv in self.levels})
        total, metrics = None, {}
        for lv in self.levels:
            loss, m = lv.loss(model, v)
            total = lv.lcfg.weight * loss if total is None else total + lv.lcfg.weight * loss
            metrics |= m
        return total, metrics

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return self.levels[0].state_tensors()
