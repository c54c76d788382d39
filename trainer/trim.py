"""Trim the vocabulary of an init directory (``python -m trainer.e5init``'s, or any XLM-R one in our
layout) to the pieces that a corpus uses.

    python -m trainer.trim --init DIR --corpus CORPUS --out OUT [--top-k K] [--threads N] [--overwrite]

Every text of CORPUS (a directory that our jobs wrote) is encoded with the init's
``XlmrTokenizer``; the ids kept are

* the specials ``<s> <pad> </s> <unk> <mask>`` (and any other non-normal sentencepiece piece),
* every piece that the encodings use,
* two score anchors: the normal piece of lowest score and that of highest score (the first by id of
  each; see "Why the ids stay the same"),
* with ``--top-k K``, the K highest-scoring normal pieces of the rest (ties: the lower id first),

in the init's order, so that new id i is old id ``new_to_old[i]`` with ``new_to_old`` strictly
increasing: ``<s> <pad> </s> <unk>`` stay 0..3 and ``<mask>`` stays last.

Texts read: every non-null value of ``sentences.text``, ``monolingual.text``, ``parallel.src`` and
``parallel.tgt``, ``entity_docs.text`` and ``oe_examples.relation_label`` (the tables that exist; the
text the trainer's objectives read). Unlike the tokenizer job, nothing is left out: ``sentences``
is read beside ``monolingual`` (make monolingual filters and can skip it), and the parallel rows of
evaluation sources and of ``split`` values other than train are read too. Trimming learns nothing
from a text, it only decides which rows stay; leaving evaluation text out would make the trimmed
model segment that text differently from the init (other pieces, or ``<unk>``) and so score it
differently, while with it in, the trimmed model gives the init's results on it exactly.

Written to OUT: ``sentencepiece.bpe.model`` (the kept pieces, their bytes as they were, scores
included; the same trainer spec with vocab_size updated and the same normalizer spec, every other
field unchanged), ``tokenizer.json``, ``tokenizer_config.json`` and ``special_tokens_map.json`` by
``xlkit_core.tokenizer.write_tokenizer_dir``, ``model.safetensors`` with the word-embedding rows
and ``lm_head.bias`` (and an untied ``lm_head.decoder.*``, if any) sliced and every other tensor
unchanged (the decoder stays tied), ``config.json`` with the new ``vocab_size`` and nothing else
changed, ``vocab_map.json`` (``new_to_old``, how often each kept id occurs in the corpus, the counts)
and ``README.md``: the init's model card plus a section on the trimming (corpus, its manifests'
sha256, the counts, top_k, the sha256 of every file). Every other file of the init is copied as it
is. Output goes to ``OUT.tmp-<pid>``, is checked there, and is renamed to OUT when complete.

Check (inside :func:`trim`, before the rename): a sample of the corpus texts (every 16th text of
each record batch, up to ``check_texts``) is encoded again with the trimmed ``XlmrTokenizer`` and
compared to the init's ids mapped through ``vocab_map``; those of the first 2,000 on which the
init's ``tokenizer.json`` (HF ``tokenizers``) agrees with sentencepiece also go through both
``tokenizer.json`` files. A difference ends with ``trim: check failed ...`` and exit status 1, and
nothing is written.

Why the ids stay the same. Let V be the init's pieces and S the kept ones; S holds every piece of
the init's segmentation of every corpus text. sentencepiece's unigram encoder (and ``tokenizers``'
Unigram) finds a best path through the lattice of the normalized text: an edge per piece matching
at a position, plus, at a position whose character is no single-character piece, an ``<unk>`` edge
scored ``min score - 10``. The search is a dynamic programme over end positions; for each end it
keeps one candidate of the best score, the first (sentencepiece, tokenizers) in an order of the
candidates that the text alone fixes (by start position; one candidate per start and end). Over S:

1. the ``<unk>`` score is the same, because the lowest-scoring piece is kept (the anchor; without
   it the score rises to the kept minimum - 10 and a path with an ``<unk>`` can beat the init's: a
   test builds such a case). The highest-scoring one is kept because sentencepiece scores
   user-defined pieces from it; in e5's vocabulary it is ",", which nearly every corpus uses;
2. every S path is a V path with the same score, except where S lacks a single-character piece
   that V has: there S gets a new ``<unk>`` edge, and replacing it by V's piece gives a V path
   scoring at least as much (every piece scores above ``min - 10``). Float rounding is monotone, so
   in float32 (sentencepiece) and float64 (tokenizers) alike every best score over S is at most
   the one over V at the same end position, and the init's path, all of whose edges are in S, has
   its exact V scores (the same additions in the same order);
3. ties: by induction along the init's path (starting at position 0, best score 0 in both), if
   another S candidate at one of its end positions reached that best score and came first, its V
   counterpart (same span) would score at least as much and come first as well, and V's search
   would have chosen it (with a last-wins rule, read "came last"). So S's search picks the init's
   edge at every position of the init's path, and back-tracking gives the same path.

Runs of ``<unk>`` merged into one id come from the same path, so they stay the same; a piece that
V's segmentation uses is in S whatever other pieces its lattice had (the trie over S still walks
through prefixes that are no piece). ``tokenizers`` searches per word (whitespace split) with the
same rule, so ``tokenizer.json`` keeps the init's ids on every text where it already agreed with
sentencepiece on the init; where it did not (its normalizer differs on a few decomposed vowel signs,
see tests/test_e5init.py), its own segmentation may use a piece that sentencepiece's did not, and
then it may change. The trainer and the shard job use ``XlmrTokenizer``.

Text outside the corpus may segment differently (into shorter pieces, or ``<unk>`` for a character
whose every piece is gone); ``--top-k`` keeps more of the common pieces for it. The logits of the
kept ids are the init's, but the MLM softmax now runs over the kept ids only, so the loss, and hence
continual training, is not the init's (it no longer spends probability on pieces the corpus lacks).

A missing init or corpus, an empty corpus, or an existing OUT without ``--overwrite`` ends with one
line ``trim: ...`` and exit status 2.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from corpus_builder import corpus_text
from trainer import e5init
from xlkit_core import tokenizer as tk
from xlkit_core.errors import XlkitError
from xlkit_core.output import commit, discard

VOCAB_MAP_FILE = "vocab_map.json"
WEIGHTS_FILE, CONFIG_FILE, CARD_FILE = e5init.WEIGHTS_FILE, e5init.CONFIG_FILE, e5init.CARD_FILE
REWRITTEN = (WEIGHTS_FILE, CONFIG_FILE, CARD_FILE, VOCAB_MAP_FILE, *tk.TOKENIZER_FILES)
# table -> the columns whose values are text; the tables that the trainer's objectives read
TEXT_COLUMNS = {"sentences": ("text",), "monolingual": ("text",), "parallel": ("src", "tgt"),
                "entity_docs": ("text",), "oe_examples": ("relation_label",)}
VOCAB_ROWS = ("roberta.embeddings.word_embeddings.weight", "lm_head.decoder.weight")
VOCAB_VECTORS = ("lm_head.bias", "lm_head.decoder.bias")
SPM_NORMAL = e5init.SPM_NORMAL
CHECK_STRIDE = 16
CHECK_TEXTS = 20_000
HF_CHECK_TEXTS = 2_000


class TrimError(XlkitError):
    """Bad usage or input (missing init or corpus, empty corpus, OUT exists): exit status 2."""

    exit_code = 2


class TrimCheckError(TrimError):
    """The trimmed tokenizer does not give the init's ids on the corpus: exit status 1."""

    exit_code = 1


# ---- the corpus -----------------------------------------------------------------------------------


def _parquet_files(path: str) -> list[str]:
    """The Parquet files under ``path`` in order, hidden and ``_`` names skipped (as the tokenizer job)."""
    files = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        files += [os.path.join(root, n) for n in sorted(names)
                  if n.endswith(".parquet") and not n.startswith((".", "_"))]
    return sorted(files)


def corpus_tables(corpus: str) -> list[corpus_text.CorpusInput]:
    """The text tables of TEXT_COLUMNS that ``corpus`` has, each with its files."""
    inputs = []
    for table in TEXT_COLUMNS:
        files = _parquet_files(os.path.join(corpus, table))
        if files:
            inputs.append(corpus_text.CorpusInput(table, os.path.join(corpus, table), files,
                                         sum(os.path.getsize(f) for f in files)))
    return inputs


def table_texts(inp: corpus_text.CorpusInput) -> Iterator[list[str]]:
    """Lists of the non-null texts of one table, a column of a record batch at a time."""
    import pyarrow.dataset as ds

    for path in inp.files:
        dataset = ds.dataset([path], format="parquet", partitioning="hive", partition_base_dir=inp.path)
        columns = list(TEXT_COLUMNS[inp.table])
        missing = [c for c in columns if c not in dataset.schema.names]
        if missing:
            raise TrimError(f"{path}: the {inp.table} table lacks column(s) {', '.join(missing)}")
        for batch in dataset.to_batches(columns=columns, batch_size=corpus_text.BATCH_ROWS, use_threads=False):
            inp.rows_read += batch.num_rows
            batch = corpus_text.plain_columns(batch)
            for column in columns:
                yield batch.column(column).drop_null().to_pylist()


def corpus_manifests(corpus: str) -> list[dict]:
    """Every ``_manifest*.json`` under ``corpus`` with its sha256."""
    paths = sorted(glob.glob(os.path.join(corpus, "**", "_manifest*.json"), recursive=True))
    return [{"path": os.path.relpath(p, corpus), "sha256": e5init._sha256_file(p)} for p in paths]


# ---- what the corpus uses -------------------------------------------------------------------------


@dataclass
class Usage:
    """Occurrences of each init id in the corpus, and a sample of texts with their init ids."""

    counts: np.ndarray
    texts: int = 0
    chars: int = 0
    seconds: float = 0.0
    per_table: dict[str, int] = field(default_factory=dict)
    sample: list[str] = field(default_factory=list)
    sample_ids: list[list[int]] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return int(self.counts.sum())


def _add_batch(usage: Usage, tok: tk.XlmrTokenizer, texts: list[str], check_texts: int) -> int:
    """Encode one batch, count its ids, keep every CHECK_STRIDE-th text for the check; returns its size."""
    ids = tok.encode_batch(texts)
    flat = np.fromiter(chain.from_iterable(ids), np.int64)
    usage.counts += np.bincount(flat, minlength=len(usage.counts))
    room = max(0, check_texts - len(usage.sample))
    usage.sample += texts[::CHECK_STRIDE][:room]
    usage.sample_ids += ids[::CHECK_STRIDE][:room]
    usage.chars += sum(map(len, texts))
    return len(texts)


def count_usage(tok: tk.XlmrTokenizer, inputs: list[corpus_text.CorpusInput], check_texts: int = CHECK_TEXTS) -> Usage:
    """Encode every text of ``inputs`` with ``tok`` (the init's), one record batch at a time."""
    usage = Usage(np.zeros(tok.vocab_size, np.int64))
    start = time.perf_counter()
    for inp in inputs:
        n = sum(_add_batch(usage, tok, texts, check_texts) for texts in table_texts(inp) if texts)
        usage.per_table[inp.table] = n
        usage.texts += n
    usage.seconds = time.perf_counter() - start
    return usage


# ---- what is kept ----------------------------------------------------------------------------------


def hf_to_spm(vocab_size: int) -> np.ndarray:
    """For each id of ours, the sentencepiece id (-1 for ``<pad>`` and ``<mask>``, which it lacks)."""
    out = np.arange(vocab_size, dtype=np.int64) - 1
    out[[tk.BOS_ID, tk.PAD_ID, tk.EOS_ID, tk.UNK_ID, vocab_size - 1]] = [tk.SPM_BOS_ID, -1, tk.SPM_EOS_ID,
                                                                         tk.SPM_UNK_ID, -1]
    return out


def piece_types(model: bytes) -> np.ndarray:
    """``ModelProto.pieces[].type`` of every sentencepiece piece (1 normal when unset)."""
    pieces = (v for n, v in tk._fields(model) if n == 1)
    return np.array([dict(tk._fields(p)).get(3, SPM_NORMAL) for p in pieces], np.int64)


def vocabulary(tok: tk.XlmrTokenizer, model: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(normal, score) per id of ours: whether it is a normal piece, and its score (0 if not)."""
    spm_ids = hf_to_spm(tok.vocab_size)
    types = piece_types(model)
    normal = (spm_ids >= 0) & (types[np.maximum(spm_ids, 0)] == SPM_NORMAL)
    scores = [tok.sp.get_score(int(i)) if ok else 0.0 for i, ok in zip(spm_ids, normal, strict=True)]
    return normal, np.array(scores, np.float64)


def anchors(normal: np.ndarray, scores: np.ndarray) -> list[int]:
    """The first normal piece of the lowest score and the first of the highest."""
    candidates = np.flatnonzero(normal)
    low, high = candidates[np.argmin(scores[candidates])], candidates[np.argmax(scores[candidates])]
    return sorted({int(low), int(high)})


def top_pieces(normal: np.ndarray, scores: np.ndarray, kept: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best-scoring normal ids not in ``kept`` (ties: the lower id first)."""
    rest = np.flatnonzero(normal & ~kept)
    order = np.lexsort((rest, -scores[rest]))
    return rest[order[:k]]


def select(counts: np.ndarray, normal: np.ndarray, scores: np.ndarray, top_k: int) -> tuple[np.ndarray, dict]:
    """``new_to_old`` (sorted old ids) and the counts of each kind of kept id."""
    kept = ~normal                              # <s> <pad> </s> <unk> <mask> (and any non-normal piece)
    facts = {"specials": int(kept.sum()), "used": int((normal & (counts > 0)).sum())}
    kept = kept | (counts > 0)
    extra = [i for i in anchors(normal, scores) if not kept[i]]
    kept[extra] = True
    top = top_pieces(normal, scores, kept, top_k)
    kept[top] = True
    facts.update(anchors=len(extra), top_k=len(top), kept=int(kept.sum()))
    return np.flatnonzero(kept), facts


# ---- the files ------------------------------------------------------------------------------------


def subset_model(model: bytes, keep_spm: np.ndarray) -> bytes:
    """The sentencepiece model with only the pieces whose index is in ``keep_spm`` (each piece's
    bytes as they are) and TrainerSpec.vocab_size set to their number; other fields unchanged."""
    keep = set(keep_spm.tolist())
    out, index = [], 0
    for number, _, value, start, end in tk._raw_fields(model):
        if number == 1:
            if index in keep:
                out.append(model[start:end])
            index += 1
        elif number == 2:
            out.append(e5init._message(2, e5init._with_vocab_size(value, len(keep))))
        else:
            out.append(model[start:end])
    return b"".join(out)


def write_weights(init: str, tmp: str, new_to_old: np.ndarray, vocab_size: int) -> dict:
    """model.safetensors with the vocabulary tensors sliced; returns the parameter counts."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    with safe_open(os.path.join(init, WEIGHTS_FILE), framework="numpy") as f:
        metadata = f.metadata() or {"format": "pt"}
        weights = {name: _sliced(name, f.get_tensor(name), new_to_old, vocab_size) for name in f.keys()}
    path = os.path.join(tmp, WEIGHTS_FILE)
    save_file(weights, path, metadata=metadata)
    os.chmod(path, stat.S_IMODE(os.stat(os.path.join(init, WEIGHTS_FILE)).st_mode))
    return {"parameters": int(sum(w.size for w in weights.values()))}


def _sliced(name: str, value: np.ndarray, new_to_old: np.ndarray, vocab_size: int) -> np.ndarray:
    if name in VOCAB_ROWS or name in VOCAB_VECTORS:
        if value.shape[0] != vocab_size:
            raise TrimError(f"{name} has {value.shape[0]} rows, the tokenizer {vocab_size} ids")
        return np.ascontiguousarray(value[new_to_old])
    if vocab_size in value.shape:
        raise TrimError(f"tensor {name} {list(value.shape)} has a dimension of the vocabulary size "
                        f"{vocab_size} that the trimmer does not know: it cannot slice it")
    return value


def write_config(init: str, tmp: str, vocab_size: int) -> int:
    """config.json with ``vocab_size`` replaced; returns the init's."""
    with open(os.path.join(init, CONFIG_FILE), encoding="utf-8") as f:
        config = json.load(f)
    old, config["vocab_size"] = config.get("vocab_size"), vocab_size
    with open(os.path.join(tmp, CONFIG_FILE), "w", encoding="utf-8") as f:
        f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return old


def write_vocab_map(tmp: str, new_to_old: np.ndarray, usage: Usage, facts: dict, top_k: int) -> None:
    unk = int(usage.counts[tk.UNK_ID])
    counts = {**facts, "texts": usage.texts, "tokens": usage.tokens, "unk_tokens": unk}
    data = {"format": "xlkit-vocab-map/1", "init_vocab_size": len(usage.counts),
            "vocab_size": len(new_to_old), "top_k": top_k, "counts": counts,
            "new_to_old": new_to_old.tolist(), "occurrences": usage.counts[new_to_old].tolist()}
    with open(os.path.join(tmp, VOCAB_MAP_FILE), "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")


def copy_rest(init: str, tmp: str) -> list[str]:
    """Copy the init's other files and directories as they are; returns their names."""
    names = sorted(n for n in os.listdir(init) if n not in REWRITTEN)
    for name in names:
        src = os.path.join(init, name)
        (shutil.copytree if os.path.isdir(src) else shutil.copy2)(src, os.path.join(tmp, name))
    return names


def load_vocab_map(directory: str) -> dict:
    """``vocab_map.json`` of a trimmed directory, with ``new_to_old`` as an array."""
    with open(os.path.join(directory, VOCAB_MAP_FILE), encoding="utf-8") as f:
        data = json.load(f)
    data["new_to_old"] = np.asarray(data["new_to_old"], np.int64)
    return data


def old_to_new(new_to_old: np.ndarray, init_vocab_size: int) -> np.ndarray:
    """The inverse map: new id per old id, -1 where the old id is gone."""
    out = np.full(init_vocab_size, -1, np.int64)
    out[new_to_old] = np.arange(len(new_to_old))
    return out


# ---- the model card -----------------------------------------------------------------------------------


def _init_card(init: str) -> str:
    path = os.path.join(init, CARD_FILE)
    if not os.path.isfile(path):
        return "# Trimmed XLM-R model\n"
    with open(path, encoding="utf-8") as f:
        return f.read()


def card_section(info: dict, files: dict[str, str]) -> str:
    k, c = info["kept"], info["corpus"]
    tables = ", ".join(f"`{t}` ({n:,} texts)" for t, n in c["texts_per_table"].items())
    manifests = "\n".join(f"  - `{m['path']}` sha256 `{m['sha256']}`" for m in c["manifests"]) or "  - none"
    listing = "\n".join(f"| `{name}` | `{digest}` |" for name, digest in sorted(files.items()))
    copied = ", ".join(f"`{n}`" for n in info["copied"]) or "none"
    return f"""
## Vocabulary trimmed to a corpus

Written by `python -m trainer.trim` (xlkit). The sections above describe the init directory
`{info['init']}` ({info['init_vocab_size']:,} ids); this directory keeps {k['kept']:,} of them, and its files
are listed at the end (the table above is the init's).

- corpus: `{c['path']}`; texts read: {tables}; {c['texts']:,} texts, {c['tokens']:,} tokens
  ({c['unk_tokens']:,} `<unk>`). Evaluation sources and every split were read (the model must keep
  encoding them as the init did).
- corpus manifests:
{manifests}
- kept: {k['kept']:,} ids = {k['specials']} specials + {k['used']:,} pieces the corpus uses +
  {k['anchors']} score anchors (the lowest- and highest-scoring pieces not used, so that the `<unk>`
  score stays min score - 10) + {k['top_k']:,} more by score (top_k {info['top_k']:,}).
- ids: in the init's order; new id i is old id `new_to_old[i]` of `vocab_map.json`; `<s>` `<pad>` `</s>`
  `<unk>` are 0..3, `<mask>` is {k['kept'] - 1:,}.
- weights: the word-embedding rows and `lm_head.bias` of the kept ids; the decoder stays tied; every
  other tensor as in the init. `config.json`: vocab_size {k['kept']:,}, nothing else changed.
- tokenizer: `sentencepiece.bpe.model` with the kept pieces and their scores, the init's normalizer and
  trainer spec; `tokenizer.json` and the config files by `write_tokenizer_dir`. On the corpus's text
  it gives the init's ids mapped through `vocab_map.json` (checked at writing on
  {info['check']['texts']:,} texts), so the model gives the init's hidden states. Other text may
  segment differently.
- copied from the init unchanged: {copied}.

## Trimmed files (sha256)

| file | sha256 |
|---|---|
{listing}
"""


def write_card(init: str, tmp: str, info: dict) -> dict[str, str]:
    """README.md: the init's card plus the trimming section; returns the sha256 of every file."""
    files = {n: e5init._sha256_file(os.path.join(tmp, n)) for n in sorted(os.listdir(tmp))
             if os.path.isfile(os.path.join(tmp, n))}
    with open(os.path.join(tmp, CARD_FILE), "w", encoding="utf-8") as f:
        f.write(_init_card(init).rstrip("\n") + "\n" + card_section(info, files))
    return {**files, CARD_FILE: e5init._sha256_file(os.path.join(tmp, CARD_FILE))}


# ---- the check ----------------------------------------------------------------------------------------


def _first_difference(got: list[list[int]], want: list[list[int]]) -> int | None:
    return next((i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b), None)


def check_spm(tmp: str, usage: Usage, inverse: np.ndarray) -> int:
    """Trimmed XlmrTokenizer ids == mapped init ids on the sample; returns the texts checked."""
    tok = tk.XlmrTokenizer.load(tmp)
    want = [inverse[np.asarray(ids, np.int64)].tolist() for ids in usage.sample_ids]
    bad = _first_difference(tok.encode_batch(usage.sample), want)
    if bad is not None:
        raise TrimCheckError("check failed: the trimmed sentencepiece model encodes "
                             f"{usage.sample[bad][:120]!r} otherwise than the init (mapped): report it")
    return len(usage.sample)


def check_hf(init: str, tmp: str, usage: Usage, inverse: np.ndarray) -> dict:
    """The trimmed tokenizer.json against the init's (mapped), on the texts where the init's agreed
    with sentencepiece (see the module docstring)."""
    from tokenizers import Tokenizer

    texts, spm_ids = usage.sample[:HF_CHECK_TEXTS], usage.sample_ids[:HF_CHECK_TEXTS]
    untrimmed = Tokenizer.from_file(os.path.join(init, tk.HF_FILE))
    full = [e.ids for e in untrimmed.encode_batch(texts, add_special_tokens=False)]
    same = [i for i, (a, b) in enumerate(zip(full, spm_ids, strict=True)) if a == b]
    trimmed = Tokenizer.from_file(os.path.join(tmp, tk.HF_FILE))
    got = [e.ids for e in trimmed.encode_batch([texts[i] for i in same], add_special_tokens=False)]
    bad = _first_difference(got, [inverse[np.asarray(full[i], np.int64)].tolist() for i in same])
    if bad is not None:
        raise TrimCheckError(f"check failed: the trimmed tokenizer.json encodes {texts[same[bad]][:120]!r} "
                             "otherwise than the init's (mapped): report this text")
    return {"hf_texts": len(same), "hf_skipped": len(texts) - len(same)}


# ---- the whole -------------------------------------------------------------------------------------------


def check_init(init: str) -> None:
    if not os.path.isdir(init):
        raise TrimError(f"init directory {init} does not exist: write it first (make init, or python -m "
                        "trainer.e5init --out DIR)")
    for name in (WEIGHTS_FILE, CONFIG_FILE, tk.SPM_FILE, tk.HF_FILE):
        if not os.path.isfile(os.path.join(init, name)):
            raise TrimError(f"init directory {init} has no {name}: give the OUT of make init / python -m "
                            "trainer.e5init (or another XLM-R directory in our layout)")


def check_out(init: str, corpus: str, out: str, overwrite: bool) -> None:
    for name, path in (("init", init), ("corpus", corpus)):
        if os.path.commonpath([path, out]) in (path, out):
            raise TrimError(f"--out {out} and the {name} directory {path} overlap: write the trimmed model "
                            "elsewhere")
    if os.path.lexists(out) and not overwrite:
        raise TrimError(f"{out} already exists: pass --overwrite (overwrite=True) to replace it, or choose "
                        "another --out")


def check_inputs(init: str, corpus: str, out: str, overwrite: bool, top_k: int) -> None:
    check_init(init)
    if not os.path.isdir(corpus):
        raise TrimError(f"corpus directory {corpus} does not exist: build it first (make corpus, parallel or "
                        "monolingual)")
    if top_k < 0:
        raise TrimError(f"--top-k {top_k}: use 0 or a positive number")
    check_out(init, corpus, out, overwrite)


def read_corpus(tok: tk.XlmrTokenizer, corpus: str, check_texts: int) -> tuple[Usage, list[corpus_text.CorpusInput]]:
    inputs = corpus_tables(corpus)
    if not inputs:
        raise TrimError(f"{corpus} has no {', '.join(f'{t}/' for t in TEXT_COLUMNS)} Parquet table: point "
                        "--corpus (TRIM=) to a directory that the corpus, parallel or monolingual jobs wrote")
    usage = count_usage(tok, inputs, check_texts)
    if not usage.texts or not usage.tokens:
        raise TrimError(f"the tables of {corpus} ({', '.join(i.table for i in inputs)}) hold no text: build "
                        "the corpus first")
    return usage, inputs


def write_all(init: str, tmp: str, model: bytes, new_to_old: np.ndarray, info: dict, usage: Usage) -> dict:
    vocab_size = len(usage.counts)
    spm_keep = hf_to_spm(vocab_size)[new_to_old]
    tk.write_tokenizer_dir(tmp, subset_model(model, spm_keep[spm_keep >= 0]))
    info["parameters"] = write_weights(init, tmp, new_to_old, vocab_size)["parameters"]
    write_config(init, tmp, len(new_to_old))
    write_vocab_map(tmp, new_to_old, usage, info["kept"], info["top_k"])
    info["copied"] = copy_rest(init, tmp)
    inverse = old_to_new(new_to_old, vocab_size)
    start = time.perf_counter()
    info["check"] = {"texts": check_spm(tmp, usage, inverse), **check_hf(init, tmp, usage, inverse)}
    info["check"]["seconds"] = round(time.perf_counter() - start, 2)
    return write_card(init, tmp, info)


def _corpus_facts(corpus: str, usage: Usage) -> dict:
    mb = usage.chars / 1e6
    return {"path": corpus, "manifests": corpus_manifests(corpus), "texts_per_table": usage.per_table,
            "texts": usage.texts, "chars": usage.chars, "tokens": usage.tokens,
            "unk_tokens": int(usage.counts[tk.UNK_ID]), "encode_seconds": round(usage.seconds, 2),
            "texts_per_s": round(usage.texts / max(usage.seconds, 1e-9)),
            "mchars_per_s": round(mb / max(usage.seconds, 1e-9), 2)}


def trim(init_dir: str | os.PathLike, corpus_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
         top_k: int = 0, overwrite: bool = False, threads: int = 1, check_texts: int = CHECK_TEXTS) -> dict:
    """Write ``out_dir``: the init ``init_dir`` with its vocabulary cut to the pieces of ``corpus_dir``
    (plus ``top_k`` by score). Returns what was kept, the corpus's counts and throughput, the check and
    the files with their sha256."""
    start = time.monotonic()
    init, corpus, out = (os.path.abspath(os.fspath(p)) for p in (init_dir, corpus_dir, out_dir))
    check_inputs(init, corpus, out, overwrite, top_k)
    with open(os.path.join(init, tk.SPM_FILE), "rb") as f:
        model = f.read()
    tok = tk.XlmrTokenizer(model, threads=threads)
    usage, _ = read_corpus(tok, corpus, check_texts)
    new_to_old, kept = select(usage.counts, *vocabulary(tok, model), top_k)
    info = {"init": init, "init_vocab_size": tok.vocab_size, "vocab_size": len(new_to_old), "top_k": top_k,
            "kept": kept, "corpus": _corpus_facts(corpus, usage)}
    tmp = f"{out}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        info["files"] = write_all(init, tmp, model, new_to_old, info, usage)
        commit(tmp, out)
    except BaseException:
        discard(tmp)
        raise
    return {"out": out, **info, "seconds": round(time.monotonic() - start, 2)}


def main(argv: list[str] | None = None) -> int:
    from xlkit_core.environment import check_environment

    check_environment()
    p = argparse.ArgumentParser(prog="python -m trainer.trim", description=__doc__.split("\n\n")[0])
    p.add_argument("--init", required=True, help="the init directory (python -m trainer.e5init's OUT)")
    p.add_argument("--corpus", required=True, help="a corpus directory that our jobs wrote")
    p.add_argument("--out", required=True, help="the trimmed directory to write")
    p.add_argument("--top-k", type=int, default=0, help="also keep this many other pieces, the best by score")
    p.add_argument("--threads", type=int, default=1, help="sentencepiece encoding threads (default 1)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    args = p.parse_args(argv)
    try:
        res = trim(args.init, args.corpus, args.out, top_k=args.top_k, overwrite=args.overwrite,
                   threads=args.threads)
    except TrimError as exc:
        print(f"trim: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps({k: v for k, v in res.items() if k != "files"}, indent=1), file=sys.stderr)
    c = res["corpus"]
    print(f"trim: wrote {res['out']}: {res['vocab_size']:,} of {res['init_vocab_size']:,} ids; "
          f"{c['texts']:,} texts encoded in {c['encode_seconds']:.1f} s ({c['texts_per_s']:,} texts/s)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
