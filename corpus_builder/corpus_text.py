"""The text of a corpus directory that our jobs wrote, and the XLM-R language-balanced sample that
the tokenizer trains on (``corpus_builder.tokenizer`` re-exports all of it).

Sampling follows XLM-R (Conneau et al. 2020): language l is drawn with probability
q_l = p_l^alpha / sum_k p_k^alpha, where p_l is l's share of the corpus characters and alpha = 0.3.
The corpus is read twice, one Arrow record batch at a time: pass 1 counts rows and characters per
language, pass 2 keeps each row with a per-language rate drawn from a seeded generator, so that
language l gets about q_l of the sample's characters. A rate above 1 (a small language) becomes a
weight: the row is repeated, which sentencepiece reads as a frequency (its ``tsv`` input format).
"""

from __future__ import annotations

import json
import math
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from xlkit_core.tokenizer import MAX_SENTENCE_BYTES, TokenizerError, TokenizerInputError  # noqa: F401

# sentencepiece skips longer lines; we cut lines into chunks of at most this many characters
# (4 UTF-8 bytes each at most, so a chunk stays under MAX_SENTENCE_BYTES).
MAX_LINE_CHARS = 4000
BATCH_ROWS = 8192


# ---- sampling ----------------------------------------------------------------------------------


def sampling_probabilities(sizes: dict[str, float], alpha: float) -> dict[str, float]:
    """XLM-R's language distribution: q_l = p_l^alpha / sum_k p_k^alpha with p_l = size_l / sum size.

    ``sizes`` are amounts of text per language (we use characters). Languages of size 0 get 0.
    """
    if not 0.0 < alpha <= 1.0:
        raise TokenizerInputError(f"alpha {alpha} is outside (0, 1]: XLM-R uses 0.3, 1.0 keeps the corpus shares")
    total = float(sum(sizes.values()))
    if total <= 0:
        raise TokenizerInputError("the corpus holds no text")
    weights = {lang: (n / total) ** alpha if n > 0 else 0.0 for lang, n in sizes.items()}
    norm = sum(weights.values())
    return {lang: w / norm for lang, w in weights.items()}


@dataclass
class LanguagePlan:
    """What pass 1 found for one language and what pass 2 should draw."""

    rows: int = 0
    chars: int = 0
    p: float = 0.0            # share of the corpus characters
    q: float = 0.0            # sampling probability, p^alpha normalised
    target_chars: float = 0.0
    rate: float = 0.0         # expected copies of each row in the sample (q * budget / chars)


def plan_sample(counts: dict[str, tuple[int, int]], alpha: float, sample_rows: int) -> tuple[dict[str, LanguagePlan], int]:
    """Per-language sampling rates for a sample of about ``sample_rows`` rows.

    ``counts`` maps a language to (rows, characters) of the corpus. The budget is in characters:
    ``sample_rows`` times the corpus's mean row length, and at most the corpus itself, so a small
    corpus is reweighted (small languages repeated, large ones thinned) rather than blown up.
    Returns the plans and the character budget.
    """
    total_rows = sum(r for r, _ in counts.values())
    total_chars = sum(c for _, c in counts.values())
    q = sampling_probabilities({lang: c for lang, (_, c) in counts.items()}, alpha)
    budget = min(total_chars, round(sample_rows * total_chars / max(total_rows, 1)))
    plans = {}
    for lang, (rows, chars) in sorted(counts.items()):
        target = q[lang] * budget
        plans[lang] = LanguagePlan(rows=rows, chars=chars, p=chars / total_chars, q=q[lang], target_chars=target,
                                   rate=target / chars if chars else 0.0)
    return plans, budget


def row_weights(rate: float, u) -> object:
    """Copies of each row in the sample for uniform draws ``u`` (numpy array): floor(rate) copies,
    plus one with probability frac(rate). The expected number of copies is exactly ``rate``."""
    import numpy as np

    whole = math.floor(rate)
    return whole + (u < rate - whole).astype(np.int64)


def training_lines(text: str) -> Iterator[str]:
    """A corpus text as sentencepiece input lines: split at line breaks, tabs made spaces (the
    ``tsv`` format uses a tab before the frequency), and lines over MAX_LINE_CHARS cut at a space."""
    for line in text.splitlines():
        line = line.replace("\t", " ").strip()
        while len(line) > MAX_LINE_CHARS:
            cut = line.rfind(" ", MAX_LINE_CHARS // 2, MAX_LINE_CHARS)
            cut = cut if cut > 0 else MAX_LINE_CHARS
            yield line[:cut]
            line = line[cut:].strip()
        if line:
            yield line


# ---- corpus tables ------------------------------------------------------------------------------

TEXT_TABLES = ("sentences", "monolingual", "parallel")


@dataclass
class CorpusInput:
    """One table of the corpus directory that feeds the sample."""

    table: str
    path: str
    files: list[str]
    bytes: int
    rows_read: int = 0
    rows_excluded: dict[str, int] = field(default_factory=dict)  # reason -> rows

    def describe(self) -> dict:
        return {"table": self.table, "path": self.path, "files": len(self.files), "bytes": self.bytes,
                "rows_read": self.rows_read, "rows_excluded": dict(sorted(self.rows_excluded.items()))}


def evaluation_sources(corpus: str) -> dict[str, str]:
    """Parallel sources that a manifest of the corpus marks as evaluation data -> that manifest.

    Assumption (shared with the parallel-ingest job): any ``_manifest*.json`` under the corpus
    directory (the corpus root, ``parallel/`` or deeper) may hold, at any depth, a key
    ``"evaluation_sources"`` whose value is a list of ``source`` values of the ``parallel`` table.
    """
    import glob

    found: dict[str, str] = {}
    for path in sorted(glob.glob(os.path.join(corpus, "**", "_manifest*.json"), recursive=True)):
        try:
            with open(path, encoding="utf-8") as f:
                stack = [json.load(f)]
        except (OSError, ValueError):
            continue
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "evaluation_sources" and isinstance(value, list):
                        found.update({str(s): path for s in value})
                    else:
                        stack.append(value)
            elif isinstance(node, list):
                stack.extend(node)
    return found


def find_inputs(corpus: str) -> list[CorpusInput]:
    """The text tables that exist in ``corpus`` (Parquet directories), each with its files in order."""
    inputs = []
    for table in TEXT_TABLES:
        path = os.path.join(corpus, table)
        if not os.path.isdir(path):
            continue
        files = []
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
            files += [os.path.join(root, n) for n in sorted(names)
                      if n.endswith(".parquet") and not n.startswith((".", "_"))]
        files.sort()
        if files:
            inputs.append(CorpusInput(table, path, files, sum(os.path.getsize(f) for f in files)))
    return inputs


def text_inputs(corpus: str) -> tuple[list[CorpusInput], dict[str, str]]:
    """The tables to sample from, and those left out with the reason.

    ``monolingual`` supersedes ``sentences``: make monolingual builds it from the sentences table
    (plus other text), so reading both would count every Wikipedia sentence twice. This is the
    rule of the shard writer too (its mlm source table).
    """
    inputs = find_inputs(corpus)
    skipped = {}
    if {i.table for i in inputs} >= {"monolingual", "sentences"}:
        inputs = [i for i in inputs if i.table != "sentences"]
        skipped["sentences"] = "superseded by monolingual, which holds its rows"
    return inputs, skipped


def iter_text_batches(inp: CorpusInput, excluded_sources: set[str]) -> Iterator[tuple[str, int, object, object]]:
    """(file, batch number, lang array, text array) for every record batch of one table.

    A parallel row gives two texts, its source side and its target side. Parallel rows of an
    evaluation source, and rows whose optional ``split`` column is not ``train`` (null counts as
    train), are left out and counted in ``inp.rows_excluded``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    for path in inp.files:
        # hive directories (lang=de/part-0.parquet) give their column too
        dataset = ds.dataset([path], format="parquet", partitioning="hive", partition_base_dir=inp.path)
        names = set(dataset.schema.names)
        if inp.table == "parallel":
            need = ["src_lang", "tgt_lang", "src", "tgt"]
            extra = [c for c in ("source", "split") if c in names]
        else:
            need, extra = ["lang", "text"], []
        missing = [c for c in need if c not in names]
        if missing:
            raise TokenizerInputError(f"{path}: the {inp.table} table lacks column(s) {', '.join(missing)}")
        rel = os.path.relpath(path, inp.path)
        for number, batch in enumerate(dataset.to_batches(columns=need + extra, batch_size=BATCH_ROWS,
                                                          use_threads=False)):
            inp.rows_read += batch.num_rows
            batch = plain_columns(batch)
            if inp.table != "parallel":
                yield rel, number, batch.column("lang"), batch.column("text")
                continue
            keep = pa.array([True] * batch.num_rows)
            if "source" in extra and excluded_sources:
                evaluation = pc.fill_null(pc.is_in(batch.column("source"),
                                                   value_set=pa.array(sorted(excluded_sources), pa.string())), False)
                _count(inp, "evaluation_source", evaluation)
                keep = pc.and_(keep, pc.invert(evaluation))
            if "split" in extra:
                not_train = pc.fill_null(pc.not_equal(batch.column("split"), "train"), False)
                _count(inp, "split_not_train", pc.and_(keep, not_train))
                keep = pc.and_(keep, pc.invert(not_train))
            batch = batch.filter(keep)
            yield rel, 2 * number, batch.column("src_lang"), batch.column("src")
            yield rel, 2 * number + 1, batch.column("tgt_lang"), batch.column("tgt")


def plain_columns(batch):
    """The batch with dictionary-encoded columns turned into plain ones."""
    import pyarrow as pa

    if not any(pa.types.is_dictionary(f.type) for f in batch.schema):
        return batch
    return pa.record_batch([c.dictionary_decode() if pa.types.is_dictionary(c.type) else c for c in batch.columns],
                           names=batch.schema.names)


def _count(inp: CorpusInput, reason: str, mask) -> None:
    import pyarrow.compute as pc

    n = pc.sum(mask.cast("int64")).as_py() or 0
    if n:
        inp.rows_excluded[reason] = inp.rows_excluded.get(reason, 0) + n


def count_languages(inputs: list[CorpusInput], excluded_sources: set[str]) -> dict[str, tuple[int, int]]:
    """Pass 1: language -> (non-empty texts, characters), vectorised per record batch."""
    import pyarrow as pa
    import pyarrow.compute as pc

    counts: dict[str, list[int]] = {}
    for inp in inputs:
        inp.rows_read, inp.rows_excluded = 0, {}
        for _, _, lang, text in iter_text_batches(inp, excluded_sources):
            length = pc.fill_null(pc.utf8_length(text), 0)
            table = pa.table({"lang": lang, "chars": length, "rows": pc.greater(length, 0).cast("int64")})
            for row in table.group_by("lang").aggregate([("chars", "sum"), ("rows", "sum")]).to_pylist():
                if row["lang"] is None:
                    continue
                c = counts.setdefault(row["lang"], [0, 0])
                c[0] += row["rows_sum"]
                c[1] += row["chars_sum"]
    return {lang: (r, c) for lang, (r, c) in sorted(counts.items()) if c > 0}


@dataclass
class Sample:
    """Pass 2's result: training lines with their frequencies, and what each language got."""

    lines: dict[str, int]                      # line -> frequency
    rows: dict[str, int]                       # language -> sampled rows (with repeats)
    chars: dict[str, int]                      # language -> sampled characters (with repeats)
    check_texts: dict[str, list[str]]          # language -> a few sampled texts for verification


def draw_sample(inputs: list[CorpusInput], excluded_sources: set[str], plans: dict[str, LanguagePlan],
                seed: int, check_per_lang: int = 300) -> Sample:
    """Pass 2: keep each text with its language's rate. The uniform draws come from a generator
    seeded by (seed, table, file, batch), so the sample depends only on the files and the seed."""
    import numpy as np
    import pyarrow.compute as pc

    lines: dict[str, int] = {}
    rows = dict.fromkeys(plans, 0)
    chars = dict.fromkeys(plans, 0)
    checks: dict[str, list[str]] = {lang: [] for lang in plans}
    for inp in inputs:
        inp.rows_read, inp.rows_excluded = 0, {}
        for rel, number, lang_arr, text_arr in iter_text_batches(inp, excluded_sources):
            if len(lang_arr) == 0:
                continue
            key = [seed, zlib.crc32(inp.table.encode()), zlib.crc32(rel.encode()), number]
            u = np.random.default_rng(np.random.SeedSequence(key)).random(len(lang_arr))
            langs = lang_arr.to_numpy(zero_copy_only=False)
            lengths = pc.fill_null(pc.utf8_length(text_arr), 0).to_numpy(zero_copy_only=False)
            for lang in np.unique(langs[langs != None]):  # noqa: E711 - numpy element-wise
                plan = plans.get(lang)
                if plan is None:
                    continue
                where = np.flatnonzero((langs == lang) & (lengths > 0))
                weights = row_weights(plan.rate, u[where])
                chosen = where[weights > 0]
                if not len(chosen):
                    continue
                texts = text_arr.take(chosen).to_pylist()
                for text, w in zip(texts, weights[weights > 0].tolist(), strict=True):
                    for line in training_lines(text):
                        lines[line] = lines.get(line, 0) + w
                    if len(checks[lang]) < check_per_lang:
                        checks[lang].append(text)
                rows[lang] += int(weights.sum())
                chars[lang] += int((weights * lengths[where]).sum())
    return Sample(lines=lines, rows=rows, chars=chars, check_texts=checks)
