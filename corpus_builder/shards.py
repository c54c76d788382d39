"""Token-id training shards: corpus tables + tokenizer -> OUT/<task>/part-*.arrow + manifest.json.

Each task is built from Parquet parts of the corpus, one input part at a time, so that a Spark
task (jobs/build_shards.py) never holds more than one part. A shard file is an Arrow IPC file
(random access, memory-mappable) of at most ``max_rows`` rows; it is written under a temporary
name and renamed when complete. Rows keep the input order, so a rebuild gives the same bytes.

Tasks (DESIGN.md): ``mlm`` packed monolingual sequences that never cross a document boundary;
``pairs`` parallel pairs for TLM and CAMLM; ``mono`` sentences with their target languages for
BTMLM; ``mep`` sentences with one linked mention; ``oe`` (subject, relation) queries with their
object; ``docs`` entity documents that MEP and OE use as keys; ``distill`` word-aligned pairs
with English for MMKD.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator

import pyarrow.parquet as pq

from xlkit_core.shards import ShardWriter
from xlkit_core.step import Parts, run_task


def parquet_parts(directory: str) -> list[str]:
    return sorted(glob.glob(os.path.join(directory, "*.parquet")))


def iter_rows(path: str, columns: list[str] | None = None) -> Iterator[dict]:
    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(batch_size=4096, columns=columns):
        yield from batch.to_pylist()


# ---- task builders: rows of a corpus table -> rows of a shard ------------------------------------------


def pack_documents(rows: Iterable[dict], tok, max_len: int, doc_key) -> Iterator[tuple[dict, str, int]]:
    """Pack consecutive sentences of one document into ``<s> ... </s>`` sequences of at most
    ``max_len`` ids. A sequence never mixes two documents; a sentence longer than the room left
    is cut into pieces."""
    room = max_len - 2
    buf: list[int] = []
    cur = None
    lang = None

    def emit():
        return {"input_ids": [tok.bos_id] + buf + [tok.eos_id], "lang": lang, "doc": str(cur[1])}, lang, len(buf) + 2

    for row in rows:
        key = doc_key(row)
        ids = tok.encode(row["text"])
        if not ids:
            continue
        if key != cur and buf:
            yield emit()
            buf = []
        cur, lang = key, row["lang"]
        while ids:
            take = room - len(buf)
            if len(ids) > take and buf:
                yield emit()
                buf = []
                continue
            buf += ids[:take]
            ids = ids[take:]
            if len(buf) >= room:
                yield emit()
                buf = []
    if buf:
        yield emit()


def mention_token_span(tok, text: str, start: int, end: int) -> tuple[list[int], int, int] | None:
    """Ids of ``text`` (XLM-R layout) and the token range that covers characters [start, end).

    A token counts when it covers a non-space character of the mention."""
    ids, offsets = tok.encode_offsets(text)
    first = last = None
    for i, (a, b) in enumerate(offsets):
        if any(start <= c < end and not text[c].isspace() for c in range(max(a, start), min(b, end))):
            first = i if first is None else first
            last = i
    if first is None:
        return None
    return ids, first, last + 1


# ---- one Spark task: one input part of one task -------------------------------------------------------


class _Tok:
    """The tokenizer as the shard builder uses it."""

    def __init__(self, directory: str):
        from xlkit_core.tokenizer import XlmrTokenizer

        self.tok = XlmrTokenizer.load(directory)
        self.bos_id, self.eos_id = self.tok.bos_id, self.tok.eos_id

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text)


def _rows_mlm(path, tok, cfg):
    doc = (lambda r: (r["lang"], r["doc_id"], r.get("source"))) if cfg["mlm_table"] == "monolingual" else \
        (lambda r: (r["lang"], r["page_id"]))
    cols = ["lang", "text", "doc_id", "source"] if cfg["mlm_table"] == "monolingual" else ["lang", "page_id", "text"]
    yield from pack_documents(iter_rows(path, cols), tok, cfg["max_len"], doc)


def _rows_pairs(path, tok, cfg):
    half = cfg["max_len"] // 2 - 2
    for r in iter_rows(path, ["src_lang", "tgt_lang", "src", "tgt", "source", "split"]):
        if r["source"] in cfg["excluded_sources"] or r.get("split", "train") != "train":
            continue
        s, t = tok.encode(r["src"])[:half], tok.encode(r["tgt"])[:half]
        if s and t:
            yield ({"src_ids": s, "tgt_ids": t, "src_lang": r["src_lang"], "tgt_lang": r["tgt_lang"],
                    "source": r["source"]}, r["src_lang"], len(s) + len(t))


def _rows_mono(path, tok, cfg):
    for r in iter_rows(path, ["lang", "text"]):
        ids = tok.encode(r["text"])[:cfg["max_len"] // 2 - 2]
        if ids:
            targets = [x for x in cfg["langs"] if x != r["lang"]]
            yield {"ids": ids, "lang": r["lang"], "tgt_langs": targets}, r["lang"], len(ids)


def _rows_mep(path, tok, cfg):
    for r in iter_rows(path):
        got = mention_token_span(tok.tok, r["text"], r["start"], r["end"])
        if got is None or got[2] > cfg["max_len"] - 2:
            yield None, "mention_not_in_window", 0
            continue
        ids, a, b = got
        yield ({"ids": ids[: cfg["max_len"] - 2], "mention_start": a, "mention_end": b, "qid": r["qid"],
                "candidate": r["candidate"], "lang": r["lang"]}, r["lang"], len(ids))


def _rows_oe(path, tok, cfg):
    for r in iter_rows(path):
        q = tok.encode(r["query_text"])[:cfg["max_len"] - 16]
        rel = tok.encode(r["relation_label"])[:12]
        ids = q + [tok.eos_id] + rel
        yield ({"query_ids": ids, "subject": r["subject"], "property": r["property"], "object": r["object"],
                "lang": r["lang"]}, r["lang"], len(ids))


def _rows_docs(path, tok, cfg):
    for r in iter_rows(path, ["qid", "lang", "text"]):
        ids = tok.encode(r["text"])[:cfg["max_len"] - 2]
        if ids:
            yield {"qid": r["qid"], "lang": r["lang"], "ids": ids}, r["lang"], len(ids)


def _rows_distill(path, tok, cfg):
    from xlkit_core.words import tokenize_words

    for r in iter_rows(path, ["src_lang", "tgt_lang", "src", "tgt", "source", "split", "alignment"]):
        if r["source"] in cfg["excluded_sources"] or r.get("split", "train") != "train" or "en" not in (
                r["src_lang"], r["tgt_lang"]) or r["src_lang"] == r["tgt_lang"]:
            continue
        en_first = r["src_lang"] == "en"
        en, x = (r["src"], r["tgt"]) if en_first else (r["tgt"], r["src"])
        x_lang = r["tgt_lang"] if en_first else r["src_lang"]
        pairs = [[p[0], p[1]] if en_first else [p[1], p[0]] for p in (r["alignment"] or [])]
        # alignment indices count words as the aligner does (CJK characters are words)
        en_ids, en_w = tok.tok.encode_words(tokenize_words(en))
        x_ids, x_w = tok.tok.encode_words(tokenize_words(x))
        half = cfg["max_len"] // 2 - 2
        if not en_ids or not x_ids or len(en_ids) > half or len(x_ids) > half:
            yield None, "too_long_or_empty", 0  # word alignments cannot be cut: the pair is left out
            continue
        yield ({"en_text": en, "x_text": x, "x_lang": x_lang, "en_ids": en_ids, "en_word_ids": en_w,
                "x_ids": x_ids, "x_word_ids": x_w, "alignment": pairs}, x_lang, len(en_ids) + len(x_ids))


ROW_BUILDERS = {"mlm": _rows_mlm, "pairs": _rows_pairs, "mono": _rows_mono, "mep": _rows_mep, "oe": _rows_oe,
                "docs": _rows_docs, "distill": _rows_distill}


def build_part(task: str, input_path: str, input_idx: int, out_dir: str, tokenizer_dir: str, cfg: dict) -> dict:
    """Tokenize one Parquet part into shard files of ``task``; returns files, sha256s, tokens per language.
    The Spark task of jobs/build_shards.py, shaped by :func:`xlkit_core.step.run_task`."""
    def body(parts: Parts) -> dict:
        tok = _Tok(tokenizer_dir)
        writer = parts.add(task, ShardWriter(out_dir, task, input_idx, cfg["max_rows"]))
        keep = set(cfg["keep_langs"]) if cfg.get("keep_langs") else None
        for row, lang, n in ROW_BUILDERS[task](input_path, tok, cfg):
            if row is None:
                writer.dropped[lang] += 1   # here ``lang`` carries the reason
            elif keep is None or lang in keep:
                writer.append(row, lang, n)
        return parts.close()[task]

    return run_task(f"{input_path} ({task} shards)", body)
