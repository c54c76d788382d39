"""BTMLM (Ernie-M): back-translation masked LM, both stages in one step.

Stage 1 (no gradient, eval mode): ``<s> x </s></s> <mask>*k </s>``, laid out exactly as CAMLM lays
out the second sentence it predicts (:func:`trainer.attention_masks.pair_batch`): positions restart at the
second segment and the placeholders carry the target language id. The second segment attends to
the source and to itself position-wise, the source to the source only
(:func:`trainer.attention_masks.placeholder_mask`, which is CAMLM's directed mask predicting the second
sentence). So stage 1 asks exactly what CAMLM trained. The argmax of each placeholder over the
ordinary pieces is its pseudo token.

Stage 2: the same layout with the pseudo tokens in place of the placeholders, full attention, MMLM
masking on the source sentence only, loss on the masked source tokens.

k is ``placeholders`` times the source length (at least 1), or the source length itself with
``placeholders=source``. BTMLM builds on the transferability CAMLM learns, so it joins the task
mix at ``start`` (a fraction of the run, or a step); the ``btmlm``, ``ernie-m`` and ``all`` recipes
start it half-way. With ``pseudo_pairs=<dir>`` the rows are pairs that ``make backtranslate``
produced offline from a CAMLM-trained checkpoint and stage 1 is skipped.
"""

from __future__ import annotations

import os

import torch

from ..attention_masks import FIRST, PAD_SEGMENT, SECOND, full_mask, placeholder_mask
from ..token_noise import IGNORE
from .base import Batch, Example, Objective, mlm_loss, noised, pad_rows, pair_target_langs

PSEUDO_PAIRS = "pseudo_pairs"     # the task name of the offline pseudo pairs (``pseudo_pairs=<dir>``)


def placeholder_count(setting: str, n: int) -> int:
    return n if setting == "source" else max(1, round(float(setting) * n))


class BTMLM(Objective):
    name = "btmlm"
    needs = ("mono",)
    recipe_settings = {"start": "0.5"}    # BTMLM needs CAMLM's transferability first (Ernie-M)

    @classmethod
    def config_problems(cls, cfg, run) -> list[str]:
        problems = []
        others = set(run.objectives.enabled()) - {cls.name}
        if cfg.weight > 0 and float(cfg.start) > 0 and not others:
            problems.append(f"objectives.btmlm.start={cfg.start}: BTMLM waits for other objectives (CAMLM) that "
                            "are off; enable them (recipe=btmlm) or set objectives.btmlm.start=0")
        if float(cfg.start) < 0:
            problems.append(f"objectives.btmlm.start={cfg.start}: use a fraction of the run in [0, 1) or a step >= 1")
        if cfg.placeholders != "source":
            try:
                ok = 0 < float(cfg.placeholders) <= 1
            except ValueError:
                ok = False
            if not ok:
                problems.append(f"objectives.btmlm.placeholders={cfg.placeholders}: use a fraction in (0, 1] or "
                                "'source'")
        return problems

    @classmethod
    def shard_tasks(cls, cfg) -> tuple[str, ...]:
        return (PSEUDO_PAIRS,) if cfg.pseudo_pairs else cls.needs

    @classmethod
    def shard_dir(cls, cfg, task: str, shards: str) -> str:
        return os.path.join(cfg.pseudo_pairs, "pairs") if task == PSEUDO_PAIRS else super().shard_dir(cfg, task, shards)

    @classmethod
    def missing_hint(cls, cfg, task: str) -> str:
        return "run make backtranslate" if task == PSEUDO_PAIRS else super().missing_hint(cfg, task)

    @classmethod
    def languages(cls, cfg, shards: dict) -> set[str]:
        langs = super().languages(cfg, shards)
        return langs | pair_target_langs(shards[PSEUDO_PAIRS]) if cfg.pseudo_pairs else langs

    def start_step(self, steps: int) -> int:
        s = float(self.cfg.start)
        return round(s * steps) if s < 1 else int(s)

    def active(self, step: int, steps: int) -> bool:
        return step >= self.start_step(steps)

    def make_batch(self, examples: list[Example]) -> Batch:
        ctx = self.ctx
        rngs = [ctx.rng(self.name, e.key) for e in examples]
        ids2, seg2, pos2, lang2, slot2 = ([] for _ in range(5))
        for e, rng in zip(examples, rngs, strict=True):
            r = e.row
            if "src_ids" in r:    # an offline pseudo pair: stage 2 only
                x, lang, pseudo_lang, k = r["src_ids"], r["src_lang"], r["tgt_lang"], len(r["tgt_ids"])
                pseudo = r["tgt_ids"]
            else:
                x, lang = r["ids"], r["lang"]
                targets = [t for t in (r.get("tgt_langs") or []) if t != lang] or [lang]
                pseudo_lang = targets[int(rng.integers(len(targets)))]
                k, pseudo = placeholder_count(self.cfg.placeholders, len(x)), None
            a, b = [ctx.bos, *x, ctx.eos], [ctx.eos, *(pseudo or [ctx.mask] * k), ctx.eos]
            la, lb = ctx.lang_id(lang), ctx.lang_id(pseudo_lang)
            ids2.append(a + b)
            seg2.append([FIRST] * len(a) + [SECOND] * len(b))
            pos2.append(list(range(2, 2 + len(a))) + list(range(2, 2 + len(b))))
            lang2.append([la] * len(a) + [lb] * len(b))
            slot2.append([False] * (len(a) + 1) + [pseudo is None] * k + [False])
        ids, seg = pad_rows(ids2, ctx.pad), pad_rows(seg2, PAD_SEGMENT)
        positions, langs, slots = pad_rows(pos2, 1), pad_rows(lang2, 0), pad_rows(slot2, False).bool()
        # stage 1 is stage 2's layout with placeholders, under CAMLM's mask for predicting the second sentence
        t = {"stage1_ids": ids, "stage1_segment": seg, "stage1_positions": positions, "stage1_langs": langs,
             "stage1_slots": slots, "stage2_slots": slots, "stage1_mask": placeholder_mask(seg)}
        maskable = (seg == FIRST) & ~ctx.specials(ids)
        lengths = [len(e.row["src_ids"] if "src_ids" in e.row else e.row["ids"]) + 2 for e in examples]
        masked, labels = noised(ctx, self.name, examples, ids, maskable, lengths, self.cfg.mask_prob, rngs)
        t |= {"input_ids": masked, "attention_mask": full_mask(seg), "position_ids": positions,
              "lang_ids": langs, "labels": labels}
        return Batch(t, int((labels != IGNORE).sum()), int((seg != PAD_SEGMENT).sum()),
                     {"offline": not bool(t["stage1_slots"].any())})

    @torch.no_grad()
    def pseudo_tokens(self, model, batch: Batch) -> torch.Tensor:
        """Stage 1: the argmax pseudo token of every placeholder (row-major order)."""
        was_training = model.training
        model.eval()
        try:
            hidden, _ = model.encode(batch["stage1_ids"], batch["stage1_mask"], batch["stage1_positions"],
                                     batch["stage1_langs"])
            logits = model.logits(hidden[batch["stage1_slots"]]).float()
        finally:
            model.train(was_training)
        first, mask = self.ctx.first_piece, self.ctx.mask
        return logits[:, first:mask].argmax(-1) + first

    def __call__(self, model, batch: Batch):
        ids = batch["input_ids"]
        if not batch.extra.get("offline"):
            ids = ids.clone()
            ids[batch["stage2_slots"]] = self.pseudo_tokens(model, batch)
        hidden, _ = model.encode(ids, batch["attention_mask"], batch["position_ids"], batch["lang_ids"])
        return mlm_loss(model, hidden, batch["labels"])
