"""Cross-lingual NER transfer: fine-tune on one language, test zero-shot on others (entity-level F1).

    python -m trainer.evaluate.ner MODEL [--dataset wikiann|conll2002] [--train-lang en] [--test-langs de,fr,es]
        [--n-train 2000] [--n-dev 500] [--n-test 1000] [--epochs 10] [--max-steps N] [--batch-size 32]
        [--lr LR] [--layer-decay 0.9] [--eval-every 100] [--patience 3] [--max-len 128] [--seed 0]
        [--data DIR] [--out JSON] [--device cpu] [--workdir DIR]

MODEL is anything :func:`trainer.evaluate.common.resolve_model` takes: an exported xlkit directory (an
``XLMRobertaForMaskedLM`` whose language ids go in as ``token_type_ids``), an xlkit checkpoint (exported into
``--workdir``), or a local ``transformers`` encoder with a tokenizer (no language ids). Its encoder is loaded by
``AutoModelForTokenClassification`` with a new token classifier. A language the xlkit model was not pre-trained on
(``ModelDir.lang_id_or_none`` is None), and every language of a plain checkpoint, gets no ``token_type_ids``
(the model's row 0); the ids used are in the result (``languages[x]["lang_id"]``).

Data (DIR, default ``../shared/data`` beside the checkout; DIR may also be the dataset directory itself)

* ``wikiann``: ``wikiann-panx-xtreme/dev-XX.tsv.gz`` (XTREME's PAN-X, PER/LOC/ORG, UTF-8 ``token<TAB>tag``).
  Only the dev splits are available, so the training language's dev file is split in order: the first
  ``n_train`` sentences are the training set, the next ``n_dev`` the early-stopping set and the next ``n_test``
  the in-language (source) test set; every other language is tested on the first ``n_test`` sentences of its
  dev file. The scores are therefore not XTREME test-set numbers (the result's ``note`` says so).
* ``conll2002``: ``conll2002/{esp,ned}.{train,testa}.gz`` (latin-1, ``token [POS] tag``, PER/LOC/ORG/MISC;
  languages ``es``/``nl``). The source's ``train`` file gives the training set (first ``n_train``) and the
  early-stopping set (next ``n_dev``); the tests are the first ``n_test`` sentences (``None``: all) of the
  target's ``testa`` and of the source's own ``testa`` (the in-language score).

Files are read by :func:`read_tagged`: blank lines separate sentences, ``-DOCSTART-`` lines are skipped, the tag
is the last column. An ``I-X`` that continues no chunk of type X is read as ``B-X`` (what seqeval does with it)
and counted in ``repaired``; any other bad tag or a one-column line is an :class:`EvalError` naming file and line.

Protocol. Each word is labelled on its first subword (the other subwords and the special tokens get -100);
words are tokenised one by one (a word with no pieces becomes the unknown token) and a sentence is cut at
``max_len`` pieces, its cut words counting as predicted ``O``. AdamW (weight decay 0.01, none on biases and
LayerNorms) with layer-wise LR decay: the classifier head gets ``lr``, encoder layer i of n gets
``lr * layer_decay ** (n - i)`` (the top layer ``lr * layer_decay``), the embeddings ``lr * layer_decay **
(n + 1)``; linear warm-up over the first 10% of the steps, then linear decay to 0; gradients clipped to norm 1;
dropout as in the model's config. Every ``eval_every`` steps (and after the last) the span F1 on the
early-stopping set is measured; the best weights are kept in memory, training stops after ``patience``
evaluations without improvement, and the best weights are restored before testing. The same seed gives the
same numbers on CPU (the seed fixes the head's initialisation, the batch order and dropout).

Metric: entity-level micro-averaged precision / recall / F1 over exact ``(type, start, end)`` spans, as seqeval's
default mode and conlleval (:func:`spans`, :func:`span_f1`). The transfer gap is the source-language F1 minus
the mean F1 of the target languages.

Defaults: ``n_train=2000``, ``n_dev=500``, ``n_test=1000``, 10 epochs of batches of 32 (630 steps), early-stopping
checks every 100 steps (and at the end) with patience 3, ``max_len=128``, ``layer_decay=0.9``; ``lr`` defaults to
5e-3 for models with ``hidden_size <= 256`` (xlkit's tiny: tried 1e-3 .. 1e-2, 10 and 20 epochs) and 5e-5 above.
xlkit's tiny model on wikiann en -> de,fr,es,ru,zh,ja takes about a minute on one CPU thread; small ``n_*`` (tens
of sentences) make a run of a few seconds.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import math
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from xlkit_core.environment import check_environment

from .common import (
    EvalError,
    ModelDir,
    load_encoder,
    load_tokenizer,
    quiet_transformers,
    resolve_model,
    write_json,
)

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
DATASETS = {"wikiann": "wikiann-panx-xtreme", "conll2002": "conll2002"}
CONLL_LANGS = {"es": "esp", "esp": "esp", "spa": "esp", "nl": "ned", "ned": "ned", "nld": "ned"}
DEFAULT_TARGETS = {"wikiann": ["de", "fr", "es", "ru", "zh", "ja"], "conll2002": ["es", "nl"]}  # minus the source
_TAG = re.compile(r"O|([BI])-(\w+)")
MODES = ("finetune", "frozen")
PROBE_STEPS = 400            # the frozen-feature probe: full-batch Adam steps at most,
PROBE_EVAL_EVERY = 20        # a dev check every 20 steps,
PROBE_PATIENCE = 5           # stopping after 5 checks without improvement


# ---------------------------------------------------------------------------------------------- reading

@dataclass
class TaggedFile:
    """One tagged file: parallel word and tag lists per sentence."""

    path: str
    sentences: list[list[str]] = field(default_factory=list)
    tags: list[list[str]] = field(default_factory=list)
    encoding: str = "utf-8"
    encoding_fallback: bool = False      # not valid UTF-8: read as latin-1
    repaired: int = 0                    # I-X continuing no X chunk, read as B-X
    docstarts: int = 0                   # -DOCSTART- lines skipped

    @property
    def n_sentences(self) -> int:
        return len(self.sentences)

    @property
    def n_tokens(self) -> int:
        return sum(map(len, self.sentences))


def repair_iob2(tags: list[str]) -> tuple[list[str], int]:
    """(tags with every I-X that continues no X chunk, at sentence start, after O or after another type, turned
    into B-X, the number of such tags): seqeval and conlleval start a new chunk there."""
    out, n, prev = [], 0, "O"
    for t in tags:
        if t.startswith("I-") and (prev == "O" or prev[2:] != t[2:]):
            t, n = "B-" + t[2:], n + 1
        out.append(t)
        prev = t
    return out, n


def read_tagged(path: str | Path, encoding: str | None = None) -> TaggedFile:
    """Read a CoNLL-style file (``.gz`` or plain): ``token<TAB>tag`` or ``token [POS ...] tag`` per line, blank
    lines between sentences, ``-DOCSTART-`` lines skipped. ``encoding=None``: UTF-8, falling back to latin-1
    (recorded in ``encoding``/``encoding_fallback``). Tags must be IOB2 (``O``, ``B-TYPE``, ``I-TYPE``)."""
    path = Path(path)
    if not path.is_file():
        raise EvalError(f"{path} is missing")
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
            raw = f.read()
    except OSError as exc:        # a truncated or non-gzip .gz
        raise EvalError(f"{path} cannot be read ({exc})") from None
    tf = TaggedFile(str(path), encoding=encoding or "utf-8")
    try:
        text = raw.decode(tf.encoding)
    except UnicodeDecodeError as exc:
        if encoding:
            raise EvalError(f"{path} is not {encoding} ({exc})") from None
        text, tf.encoding, tf.encoding_fallback = raw.decode("latin-1"), "latin-1", True
        print(f"ner: {path} is not UTF-8, read as latin-1", file=sys.stderr)
    words: list[str] = []
    tags: list[str] = []

    def flush():
        if words:
            fixed, n = repair_iob2(tags)
            tf.sentences.append(list(words))
            tf.tags.append(fixed)
            tf.repaired += n
            words.clear()
            tags.clear()

    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            flush()
            continue
        cols = line.split("\t") if "\t" in line else line.split()
        if cols[0].strip() == "-DOCSTART-":
            tf.docstarts += 1
            flush()
            continue
        if len(cols) < 2:
            raise EvalError(f"{path}:{lineno}: expected 'token tag' or 'token POS tag', got one column: {line!r}")
        tag = cols[-1].strip()
        if not _TAG.fullmatch(tag):
            raise EvalError(f"{path}:{lineno}: tag {tag!r} is not O, B-TYPE or I-TYPE (IOB2): {line!r}")
        words.append(cols[0].strip())
        tags.append(tag)
    flush()
    if tf.repaired:
        print(f"ner: {path}: {tf.repaired} I- tags continued no chunk of their type; read as B- (as seqeval does)",
              file=sys.stderr)
    return tf


# ---------------------------------------------------------------------------------------------- metric

def spans(tags: list[str]) -> list[tuple[str, int, int]]:
    """Entity chunks ``(type, start, end)`` (``end`` exclusive) of one IOB2 sentence, with seqeval's default
    (non-strict) and conlleval's rules: B-X starts a chunk; I-X continues the chunk before it only when that has
    type X, otherwise it starts one; O ends a chunk."""
    out: list[tuple[str, int, int]] = []
    typ, start = None, 0
    for i, t in enumerate(list(tags) + ["O"]):
        kind, ttype = (t[0], t[2:]) if t != "O" else ("O", None)
        if typ is not None and (kind != "I" or ttype != typ):
            out.append((typ, start, i))
            typ = None
        if kind in ("B", "I") and typ is None:
            typ, start = ttype, i
    return out


def _prf(correct: int, n_gold: int, n_pred: int) -> dict:
    p = correct / n_pred if n_pred else 0.0
    r = correct / n_gold if n_gold else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "n_gold": n_gold, "n_pred": n_pred, "n_correct": correct}


def span_f1(gold: list[list[str]], pred: list[list[str]]) -> dict:
    """Micro-averaged entity precision, recall and F1 (exact span and type) over sentences, and the same per type:
    ``{"precision", "recall", "f1", "n_gold", "n_pred", "n_correct", "per_type": {type: {...}}}``. Nothing
    predicted (or nothing gold) gives 0 for the undefined ratio, as seqeval does. Unequal sentence counts or
    lengths are a ValueError."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted")
    g_all, p_all = set(), set()
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted")
        g_all.update((i, *s) for s in spans(g))
        p_all.update((i, *s) for s in spans(p))
    ok = g_all & p_all
    types = sorted({s[1] for s in g_all | p_all})
    res = _prf(len(ok), len(g_all), len(p_all))
    res["per_type"] = {t: _prf(sum(s[1] == t for s in ok), sum(s[1] == t for s in g_all),
                               sum(s[1] == t for s in p_all)) for t in types}
    return res


# ---------------------------------------------------------------------------------------------- data sets

def _available(d: Path, dataset: str) -> str:
    if dataset == "wikiann":
        have = sorted(p.name[4:-7] for p in d.glob("dev-*.tsv.gz"))
    else:
        have = sorted({k for k, v in CONLL_LANGS.items() if len(k) == 2 and (d / f"{v}.train.gz").exists()})
    return f"languages in {d}: {', '.join(have)}" if have else f"{d} holds no {dataset} files"


def _dataset_dir(data_dir: str | Path, dataset: str) -> Path:
    d = Path(data_dir)
    return d / DATASETS[dataset] if (d / DATASETS[dataset]).is_dir() else d


def _read(d: Path, name: str, dataset: str, encoding: str | None = None) -> TaggedFile:
    if not (d / name).is_file():
        raise EvalError(f"{d / name} is missing ({_available(d, dataset)})")
    return read_tagged(d / name, encoding)


@dataclass
class Part:
    """A slice of a tagged file used as one split."""

    lang: str
    file: TaggedFile
    start: int
    stop: int

    @property
    def words(self):
        return self.file.sentences[self.start:self.stop]

    @property
    def tags(self):
        return self.file.tags[self.start:self.stop]

    def describe(self) -> str:
        return f"{Path(self.file.path).name} sentences {self.start}..{self.stop - 1} ({self.stop - self.start})"


def _part(lang: str, f: TaggedFile, start: int, n: int | None, what: str) -> Part:
    stop = f.n_sentences if n is None else min(f.n_sentences, start + n)
    if stop <= start:
        raise EvalError(f"{f.path} has {f.n_sentences} sentences: none left for the {what} part (from sentence "
                        f"{start}); lower --n-train/--n-dev")
    return Part(lang, f, start, stop)


def load_splits(dataset: str, train_lang: str, test_langs: list[str], data_dir: str | Path, n_train: int,
                n_dev: int, n_test: int | None) -> tuple[dict, str]:
    """{"train", "dev", "source", "targets": {lang: Part}} and the note on the protocol."""
    if dataset not in DATASETS:
        raise EvalError(f"unknown dataset {dataset!r}: choose {' or '.join(DATASETS)}")
    d = _dataset_dir(data_dir, dataset)
    if dataset == "wikiann":
        src = _read(d, f"dev-{train_lang}.tsv.gz", dataset)
        targets = {x: _part(x, _read(d, f"dev-{x}.tsv.gz", dataset), 0, n_test, "test") for x in test_langs}
        note = (f"WikiANN/PAN-X: only dev splits exist here, so the model is fine-tuned on the first {n_train} "
                f"sentences of dev-{train_lang}, early-stopped on the next {n_dev} and tested in-language on the "
                f"next {n_test}; target languages are tested on the first {n_test} sentences of their dev files. "
                "Not comparable with XTREME test-set scores.")
        source = _part(train_lang, src, n_train + n_dev, n_test, "source test")
    else:
        def code(x):
            if x not in CONLL_LANGS:
                raise EvalError(f"conll2002 has no language {x!r} ({_available(d, dataset)})")
            return CONLL_LANGS[x]

        src = _read(d, f"{code(train_lang)}.train.gz", dataset, "latin-1")
        targets = {x: _part(x, _read(d, f"{code(x)}.testa.gz", dataset, "latin-1"), 0, n_test, "test")
                   for x in test_langs}
        source = _part(train_lang, _read(d, f"{code(train_lang)}.testa.gz", dataset, "latin-1"), 0, n_test, "test")
        note = (f"CoNLL-2002: fine-tuned on the first {n_train} sentences of {code(train_lang)}.train, early-stopped "
                f"on the next {n_dev}; tested on the testa (development) files, the source's own testa giving the "
                "in-language score.")
    return {"train": _part(train_lang, src, 0, n_train, "train"), "dev": _part(train_lang, src, n_train, n_dev, "dev"),
            "source": source, "targets": targets}, note


# ---------------------------------------------------------------------------------------------- model

class FirstSubwordTokenizer:
    """Words -> subword ids with the first-subword position of each word (where a word's tag is read),
    for one tokenizer; the pieces of each distinct word are cached."""

    def __init__(self, tokenizer, max_len: int = 128):
        if max_len < 3:
            raise EvalError(f"max_len {max_len} is too small (two special tokens and at least one word)")
        self.tok, self.max_len, self.cache = tokenizer, max_len, {}
        self.cls = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
        self.sep = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
        self.pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.unk = tokenizer.unk_token_id

    def encode(self, sentences: list[list[str]]) -> list[tuple[list[int], list[int], int]]:
        """Per sentence (ids with specials, first-piece position of each kept word, number of words)."""
        new = sorted({w for s in sentences for w in s} - self.cache.keys())
        if new:
            pieces = self.tok(new, add_special_tokens=False)["input_ids"]
            self.cache.update((w, p or [self.unk]) for w, p in zip(new, pieces, strict=True))
        out = []
        for s in sentences:
            ids, first = [self.cls], []
            for w in s:
                p = self.cache[w]
                if len(ids) + 1 > self.max_len - 1:       # no room for this word's first piece and [SEP]
                    break
                first.append(len(ids))
                ids.extend(p[:self.max_len - 1 - len(ids)])
            out.append((ids + [self.sep], first, len(s)))
        return out


def _batch(items, labels=None, pad=0, lang_id=None, device="cpu") -> dict:
    n = max(len(ids) for ids, _, _ in items)
    ids = torch.full((len(items), n), pad, dtype=torch.long)
    mask = torch.zeros((len(items), n), dtype=torch.long)
    lab = torch.full((len(items), n), -100, dtype=torch.long)
    for r, (x, first, _) in enumerate(items):
        ids[r, :len(x)] = torch.tensor(x)
        mask[r, :len(x)] = 1
        if labels is not None:
            lab[r, first] = torch.tensor(labels[r][:len(first)], dtype=torch.long)
    out = {"input_ids": ids, "attention_mask": mask}
    if lang_id is not None:
        out["token_type_ids"] = torch.full_like(ids, lang_id)
    if labels is not None:
        out["labels"] = lab
    return {k: v.to(device) for k, v in out.items()}


@torch.no_grad()
def predict(model, encoded, id2label: list[str], lang_id=None, device="cpu", pad: int = 0,
            batch_size: int = 64) -> list[list[str]]:
    """Tags per word; words cut by ``max_len`` are ``O``."""
    model.eval()
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
    preds: list[list[str]] = [[] for _ in encoded]
    for b in range(0, len(order), batch_size):
        idx = order[b:b + batch_size]
        items = [encoded[i] for i in idx]
        logits = model(**_batch(items, pad=pad, lang_id=lang_id, device=device)).logits.argmax(-1).cpu()
        for r, i in enumerate(idx):
            _, first, n = encoded[i]
            tags = [id2label[j] for j in logits[r, first].tolist()]
            preds[i] = tags + ["O"] * (n - len(tags))
    return preds


def layer_decay_groups(model, lr: float, decay: float, n_layers: int, weight_decay: float = 0.01) -> list[dict]:
    """AdamW parameter groups: head ``lr``, encoder layer i ``lr * decay ** (n_layers - i)``, embeddings
    ``lr * decay ** (n_layers + 1)``; no weight decay on biases and LayerNorm weights."""
    groups: dict[tuple[int, bool], list] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        m = re.search(r"(?:^|\.)(?:layer|layers|block|blocks)\.(\d+)\.", name)
        depth = n_layers - int(m.group(1)) if m else (n_layers + 1 if ".embeddings." in f".{name}" else 0)
        no_wd = p.ndim == 1 or "layernorm" in name.lower() or "layer_norm" in name.lower()
        groups.setdefault((depth, no_wd), []).append(p)
    return [{"params": ps, "lr": lr * decay ** depth, "weight_decay": 0.0 if no_wd else weight_decay, "depth": depth}
            for (depth, no_wd), ps in sorted(groups.items())]


def finetune(model, train, dev, label2id: dict, id2label: list[str], *, lr: float, layer_decay: float, n_layers: int,
             epochs: int, max_steps: int | None, batch_size: int, eval_every: int, patience: int, seed: int,
             train_lang_id=None, device="cpu", pad: int = 0, warmup: float = 0.1, weight_decay: float = 0.01) -> dict:
    """Fine-tune ``model`` in place on ``train`` = (encoded, tags), early-stopped on ``dev`` = (encoded, tags);
    the best weights are restored. Returns the training record."""
    enc, tags = train
    per_epoch = math.ceil(len(enc) / batch_size)
    total = max_steps if max_steps else epochs * per_epoch
    n_warm = max(1, int(warmup * total))
    opt = torch.optim.AdamW(layer_decay_groups(model, lr, layer_decay, n_layers, weight_decay), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: s / n_warm if s < n_warm else max(0.0, (total - s) / max(1, total - n_warm)))
    rng = random.Random(seed)
    ids = [[label2id[t] for t in s] for s in tags]
    best, best_f1, best_step, bad, step, losses, history = None, -1.0, 0, 0, 0, [], []
    stopped = False
    while step < total and not stopped:
        order = list(range(len(enc)))
        rng.shuffle(order)
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            model.train()
            loss = model(**_batch([enc[i] for i in idx], [ids[i] for i in idx], pad, train_lang_id, device)).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            losses.append(loss.item())
            if step % eval_every == 0 or step == total:
                f1 = span_f1(dev[1], predict(model, dev[0], id2label, train_lang_id, device, pad))["f1"]
                history.append({"step": step, "dev_f1": f1, "train_loss": sum(losses) / len(losses)})
                losses = []
                if f1 > best_f1:
                    best_f1, best_step, bad = f1, step, 0
                    best = copy.deepcopy(model.state_dict())
                else:
                    bad += 1
                    stopped = bad >= patience
            if step >= total or stopped:
                break
    model.load_state_dict(best)
    return {"steps": step, "total_steps": total, "steps_per_epoch": per_epoch, "best_step": best_step,
            "best_dev_f1": best_f1, "stopped_early": stopped, "history": history}


@torch.no_grad()
def word_features(encoder, encoded, layer: int, lang_id=None, device="cpu", pad: int = 0,
                  batch_size: int = 64) -> list[torch.Tensor]:
    """Per sentence, the ``hidden_states[layer]`` vectors at the first piece of each kept word (float32, CPU)."""
    encoder.eval()
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
    feats: list[torch.Tensor] = [torch.empty(0)] * len(encoded)
    for b in range(0, len(order), batch_size):
        idx = order[b:b + batch_size]
        hidden = encoder(**_batch([encoded[i] for i in idx], pad=pad, lang_id=lang_id, device=device),
                         output_hidden_states=True).hidden_states[layer].float().cpu()
        for r, i in enumerate(idx):
            feats[i] = hidden[r, encoded[i][1]]
    return feats


def bio_viterbi(logp: torch.Tensor, id2label: list[str]) -> list[int]:
    """The most probable tag sequence under per-word log-probabilities ``logp`` [n, labels] in which every
    ``I-X`` follows a ``B-X`` or an ``I-X`` (IOB2)."""
    n_lab = len(id2label)
    allowed = torch.ones(n_lab, n_lab, dtype=torch.bool)          # allowed[prev, cur]
    start = torch.ones(n_lab, dtype=torch.bool)
    for j, t in enumerate(id2label):
        if t.startswith("I-"):
            start[j] = False
            allowed[:, j] = torch.tensor([p in (f"B-{t[2:]}", t) for p in id2label])
    trans = torch.where(allowed, 0.0, -math.inf)
    score = torch.where(start, logp[0], -math.inf)
    back = []
    for i in range(1, len(logp)):
        best, arg = (score[:, None] + trans).max(0)
        back.append(arg)
        score = best + logp[i]
    path = [int(score.argmax())]
    for arg in reversed(back):
        path.append(int(arg[path[-1]]))
    return path[::-1]


def probe_tags(w: torch.Tensor, bias: torch.Tensor, feats: list[torch.Tensor], encoded, id2label) -> list[list[str]]:
    """Tags per word from a linear classifier on (standardised) word features, decoded by :func:`bio_viterbi`;
    cut words are ``O``."""
    out = []
    for f, (_, first, n) in zip(feats, encoded, strict=True):
        tags = [id2label[j] for j in bio_viterbi(torch.log_softmax(f @ w + bias, -1), id2label)] if len(first) else []
        out.append(tags + ["O"] * (n - len(tags)))
    return out


def fit_probe(train_feats, train_tags, dev_feats, dev_enc, dev_tags, label2id: dict, id2label: list[str], *,
              lr: float, max_steps: int, eval_every: int, patience: int, weight_decay: float = 1e-4) -> dict:
    """A linear softmax classifier on frozen word features: features standardised by the training set's mean
    and std, weights starting at zero, full-batch Adam, early-stopped on the dev span F1 (best kept). No
    randomness, so the result depends on the model alone."""
    x = torch.cat(train_feats)
    y = torch.tensor([label2id[t] for f, s in zip(train_feats, train_tags, strict=True) for t in s[:len(f)]])
    mu, sd = x.mean(0), x.std(0).clamp(min=1e-6)
    x = (x - mu) / sd
    dev = [(f - mu) / sd for f in dev_feats]
    w = torch.zeros(x.shape[1], len(id2label), requires_grad=True)
    bias = torch.zeros(len(id2label), requires_grad=True)
    opt = torch.optim.Adam([w, bias], lr=lr, weight_decay=weight_decay)
    best, best_f1, best_step, bad, history, stopped, step = None, -1.0, 0, 0, [], False, 0
    while step < max_steps and not stopped:
        loss = torch.nn.functional.cross_entropy(x @ w + bias, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % eval_every == 0 or step == max_steps:
            with torch.no_grad():
                f1 = span_f1(dev_tags, probe_tags(w, bias, dev, dev_enc, id2label))["f1"]
            history.append({"step": step, "dev_f1": f1, "train_loss": loss.item()})
            if f1 > best_f1:
                best_f1, best_step, bad = f1, step, 0
                best = (w.detach().clone(), bias.detach().clone())
            else:
                bad += 1
                stopped = bad >= patience
    return {"steps": step, "total_steps": max_steps, "best_step": best_step, "best_dev_f1": best_f1,
            "stopped_early": stopped, "history": history, "weights": best, "mean": mu, "std": sd}


# ---------------------------------------------------------------------------------------------- evaluate

def evaluate(model: str | Path | ModelDir, dataset: str = "wikiann", train_lang: str = "en",
             test_langs: list[str] | None = None, data_dir: str | Path = DEFAULT_DATA, n_train: int = 2000,
             n_dev: int = 500, n_test: int | None = 1000, epochs: int = 10, batch_size: int = 32,
             lr: float | None = None, layer_decay: float = 0.9, seed: int = 0, device: str = "cpu",
             workdir: str | None = None, max_steps: int | None = None, eval_every: int = 100, patience: int = 3,
             max_len: int = 128, mode: str = "finetune", layer: int = -1) -> dict:
    """Fine-tune MODEL on ``train_lang`` (``mode="frozen"``: fit a linear probe on the frozen features of
    ``hidden_states[layer]``) and test on it and on ``test_langs`` (see the module docstring).
    Returns {"languages": {lang: {"role", "f1", "precision", "recall", "n", ...}}, "source_f1",
    "target_mean_f1", "transfer_gap", "training", "split", "note", "repaired", "settings", "timings", ...}."""
    from transformers import AutoModelForTokenClassification

    t0 = time.perf_counter()
    if dataset not in DATASETS:
        raise EvalError(f"unknown dataset {dataset!r}: choose {' or '.join(DATASETS)}")
    same = (lambda x: CONLL_LANGS.get(x, x)) if dataset == "conll2002" else (lambda x: x)
    if test_langs is None:
        test_langs = DEFAULT_TARGETS[dataset]
    test_langs = [x for x in dict.fromkeys(test_langs) if same(x) != same(train_lang)]
    if not test_langs:
        raise EvalError("no target language: give --test-langs other than the training language")
    if mode not in MODES:
        raise EvalError(f"unknown mode {mode!r}: choose {' or '.join(MODES)}")
    for name, v in (("n_train", n_train), ("n_dev", n_dev), ("batch_size", batch_size), ("eval_every", eval_every),
                    ("patience", patience), ("epochs", epochs), ("max_steps", max_steps or 1)):
        if v is None or v < 1:
            raise EvalError(f"{name} must be at least 1, got {v}")
    md = model if isinstance(model, ModelDir) else resolve_model(str(model), workdir)
    parts, note = load_splits(dataset, train_lang, test_langs, data_dir, n_train, n_dev, n_test)
    files = {p.file.path: p.file for p in [parts["train"], parts["source"], *parts["targets"].values()]}
    types = sorted({t[2:] for f in files.values() for s in f.tags for t in s if t != "O"})
    id2label = ["O"] + [f"{b}-{t}" for t in types for b in "BI"]
    label2id = {t: i for i, t in enumerate(id2label)}
    t_read = time.perf_counter()

    quiet_transformers()
    tok = load_tokenizer(md)
    subwords = FirstSubwordTokenizer(tok, max_len)
    lang_ids = {x: md.lang_id_or_none(x) for x in [train_lang, *test_langs]}
    train_enc, dev_enc = subwords.encode(parts["train"].words), subwords.encode(parts["dev"].words)
    torch.manual_seed(seed)
    if mode == "finetune":
        net = AutoModelForTokenClassification.from_pretrained(
            md.path, num_labels=len(id2label), id2label=dict(enumerate(id2label)), label2id=label2id).to(device)
        hidden = getattr(net.config, "hidden_size", 768)
        lr = lr if lr is not None else (5e-3 if hidden <= 256 else 5e-5)
        record = finetune(net, (train_enc, parts["train"].tags), (dev_enc, parts["dev"].tags), label2id, id2label,
                          lr=lr, layer_decay=layer_decay, n_layers=md.n_layers, epochs=epochs, max_steps=max_steps,
                          batch_size=batch_size, eval_every=eval_every, patience=patience, seed=seed,
                          train_lang_id=lang_ids[train_lang], device=device, pad=subwords.pad)

        def tag(enc, lang):
            return predict(net, enc, id2label, lang_ids[lang], device, subwords.pad)
    else:
        net = load_encoder(md).to(device)
        n_layers = net.config.num_hidden_layers
        if not -(n_layers + 1) <= layer <= n_layers:
            raise EvalError(f"layer {layer} is out of range: the model has hidden_states 0..{n_layers}")
        lr = lr if lr is not None else 1e-2

        def feats(enc, lang):
            return word_features(net, enc, layer, lang_ids[lang], device, subwords.pad)

        record = fit_probe(feats(train_enc, train_lang), parts["train"].tags, feats(dev_enc, train_lang), dev_enc,
                           parts["dev"].tags, label2id, id2label, lr=lr, max_steps=max_steps or PROBE_STEPS,
                           eval_every=PROBE_EVAL_EVERY, patience=PROBE_PATIENCE)
        (w, bias), mu, sd = record.pop("weights"), record.pop("mean"), record.pop("std")

        def tag(enc, lang):
            return probe_tags(w, bias, [(f - mu) / sd for f in feats(enc, lang)], enc, id2label)
    t_train = time.perf_counter()

    langs = {}
    for role, part in [("source", parts["source"]), *(("target", p) for p in parts["targets"].values())]:
        enc = subwords.encode(part.words)
        pred = tag(enc, part.lang)
        m = span_f1(part.tags, pred)
        langs[part.lang] = {"role": role, "f1": m["f1"], "precision": m["precision"], "recall": m["recall"],
                            "n": len(enc), "n_gold": m["n_gold"], "n_pred": m["n_pred"], "per_type": m["per_type"],
                            "truncated_words": sum(n - len(first) for _, first, n in enc),
                            "lang_id": lang_ids[part.lang],
                            "data": part.describe()}
    t_test = time.perf_counter()
    target_f1 = [langs[x]["f1"] for x in test_langs]
    source_f1 = langs[train_lang]["f1"]
    mean = sum(target_f1) / len(target_f1)
    return {
        "model": md.source, "model_path": md.path, "dataset": dataset, "data": str(_dataset_dir(data_dir, dataset)),
        "train_lang": train_lang, "test_langs": test_langs, "labels": id2label, "note": note,
        "split": {"train": parts["train"].describe(), "dev": parts["dev"].describe(),
                  "source_test": parts["source"].describe(),
                  "targets": {x: p.describe() for x, p in parts["targets"].items()}},
        "languages": langs, "source_f1": source_f1, "target_mean_f1": mean, "transfer_gap": source_f1 - mean,
        "training": record,
        "repaired": {Path(p).name: f.repaired for p, f in files.items()},
        "encodings": {Path(p).name: f.encoding for p, f in files.items()},
        "settings": {"mode": mode, "layer": layer if mode == "frozen" else None,
                     "n_train": n_train, "n_dev": n_dev, "n_test": n_test, "epochs": epochs, "max_steps": max_steps,
                     "batch_size": batch_size, "lr": lr, "layer_decay": layer_decay, "warmup": 0.1,
                     "eval_every": eval_every, "patience": patience, "max_len": max_len, "seed": seed,
                     "device": device, "threads": torch.get_num_threads()},
        "timings": {"read_s": t_read - t0, "train_s": t_train - t_read, "test_s": t_test - t_train,
                    "total_s": t_test - t0},
    }


def main(argv: list[str] | None = None) -> int:
    check_environment()
    p = argparse.ArgumentParser(prog="python -m trainer.evaluate.ner",
                                description="Cross-lingual NER transfer (fine-tune on one language, test on others)")
    p.add_argument("model", metavar="MODEL", help="an exported xlkit model, an xlkit checkpoint (with --workdir) or a "
                                                  "local transformers encoder dir")
    p.add_argument("--dataset", default="wikiann", choices=sorted(DATASETS))
    p.add_argument("--train-lang", default=None, help="source language (default en for wikiann, es for conll2002)")
    p.add_argument("--test-langs", default=None, help="comma-separated target languages (default wikiann: "
                   "de,fr,es,ru,zh,ja; conll2002: the other of es/nl)")
    p.add_argument("--n-train", type=int, default=2000)
    p.add_argument("--n-dev", type=int, default=500, help="early-stopping sentences")
    p.add_argument("--n-test", type=int, default=1000, help="test sentences per language (0: all)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--max-steps", type=int, default=None, help="optimizer steps (overrides --epochs)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=None, help="peak LR of the head (default 5e-3 for hidden <= 256, "
                                                          "else 5e-5)")
    p.add_argument("--layer-decay", type=float, default=0.9)
    p.add_argument("--eval-every", type=int, default=100, help="steps between early-stopping checks")
    p.add_argument("--patience", type=int, default=3, help="checks without improvement before stopping")
    p.add_argument("--max-len", type=int, default=128, help="subword pieces per sentence, specials included")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mode", default="finetune", choices=MODES, help="fine-tune the encoder (default), or fit a "
                   "linear probe on its frozen features")
    p.add_argument("--layer", type=int, default=-1, help="frozen mode: the hidden_states index (default -1, the last)")
    p.add_argument("--data", default=str(DEFAULT_DATA), help=f"shared data directory (default {DEFAULT_DATA})")
    p.add_argument("--out", default=None, help="write the result as JSON here")
    p.add_argument("--device", default="cpu")
    p.add_argument("--workdir", default=None, help="where an xlkit checkpoint is exported first")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()          # the "Loading weights" bar
    train_lang = args.train_lang or ("en" if args.dataset == "wikiann" else "es")
    tests = [x.strip() for x in args.test_langs.split(",") if x.strip()] if args.test_langs else None
    try:
        res = evaluate(args.model, args.dataset, train_lang, tests, args.data, args.n_train, args.n_dev,
                       args.n_test or None, args.epochs, args.batch_size, args.lr, args.layer_decay, args.seed,
                       args.device, args.workdir, args.max_steps, args.eval_every, args.patience, args.max_len,
                       args.mode, args.layer)
    except EvalError as exc:
        print(f"ner: {exc}", file=sys.stderr)
        return 2
    for lang, a in res["languages"].items():
        print(f"{lang} ({a['role']}): F1 {100 * a['f1']:.2f}  P {100 * a['precision']:.2f}  R {100 * a['recall']:.2f}"
              f"  (n={a['n']})")
    tr = res["training"]
    print(f"target mean F1 {100 * res['target_mean_f1']:.2f}  transfer gap {100 * res['transfer_gap']:.2f}  "
          f"(best dev F1 {100 * tr['best_dev_f1']:.2f} at step {tr['best_step']}/{tr['steps']}, "
          f"{res['timings']['total_s']:.0f}s, {res['model']})")
    if args.out:
        write_json(args.out, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
