"""Training the XLM-R-style tokenizer: a language-balanced sample of the corpus text and a
sentencepiece unigram model with XLM-R's special ids, its piece scores rounded so that
sentencepiece and ``tokenizers`` break ties alike.

The corpus text and the sample: :mod:`corpus_builder.corpus_text` (re-exported here). The id
layout, the files that ``transformers.AutoTokenizer`` loads and the encoder the shards use:
:mod:`xlkit_core.tokenizer`.
"""

from __future__ import annotations

import os

from xlkit_core.tokenizer import TokenizerError, TokenizerInputError, _put_varint, _raw_fields

from .corpus_text import (  # noqa: F401 (re-exported: the tokenizer's corpus side)
    BATCH_ROWS,
    MAX_LINE_CHARS,
    TEXT_TABLES,
    CorpusInput,
    LanguagePlan,
    Sample,
    count_languages,
    draw_sample,
    evaluation_sources,
    find_inputs,
    iter_text_batches,
    plain_columns,
    plan_sample,
    row_weights,
    sampling_probabilities,
    text_inputs,
    training_lines,
)


def train_unigram(lines: dict[str, int], work_dir: str, options: dict, log_level: int = 2) -> bytes:
    """Train on ``lines`` (line -> frequency) and return the model file's bytes, with its piece
    scores rounded to multiples of SCORE_QUANTUM (see there).

    The lines are written sorted, so the input does not depend on the order in which they were
    read. Training runs with ``work_dir`` as the current directory and the input named
    ``sample.tsv``: sentencepiece records the input path in the model, and a fixed relative name
    keeps the model bytes identical between runs and output directories.
    """
    import io

    import sentencepiece as spm

    os.makedirs(work_dir, exist_ok=True)
    with open(os.path.join(work_dir, "sample.tsv"), "w", encoding="utf-8", newline="\n") as f:
        for line in sorted(lines):
            f.write(f"{line}\t{lines[line]}\n")
    seed = options.get("random_seed", 0)
    options = {k: v for k, v in options.items() if k != "random_seed"}
    model = io.BytesIO()
    cwd = os.getcwd()
    try:
        os.chdir(work_dir)
        spm.set_random_generator_seed(seed)
        spm.SentencePieceTrainer.train(input="sample.tsv", model_writer=model, minloglevel=log_level, **options)
    except RuntimeError as exc:
        raise _trainer_error(str(exc), options["vocab_size"]) from None
    finally:
        os.chdir(cwd)
    return quantize_scores(model.getvalue())


def _trainer_error(message: str, spm_vocab: int) -> TokenizerError:
    import re

    m = re.search(r"Vocabulary size too high \((\d+)\)\. Please set it to a value <= (\d+)", message)
    if m:
        return TokenizerInputError(
            f"the sample supports at most {int(m.group(2)) + 2} ids (with <pad> and <mask>), not {spm_vocab + 2}: "
            f"lower VOCAB_SIZE (--vocab-size) to {int(m.group(2)) + 2} or less, or give a larger corpus")
    m = re.search(r"Vocabulary size is smaller than required_chars\. (\d+) vs (\d+)", message)
    if m:
        return TokenizerInputError(
            f"the sample has {m.group(2)} characters that the vocabulary must cover, more than the {spm_vocab + 2} ids "
            f"asked for: raise VOCAB_SIZE (--vocab-size) well above {int(m.group(2)) + 5}, or lower --character-coverage")
    return TokenizerError(f"sentencepiece training failed: {message.strip().splitlines()[-1] if message.strip() else message}")


# Piece scores are rounded to multiples of this, so that the path scores of the Viterbi search are
# exact in float32 (sentencepiece) and in float64 (tokenizers), up to magnitude 2^18 (some 30,000
# pieces in one text): both then compare the same numbers, in the same order, and break ties alike. Unrounded, a near-tie
# (e.g. "w"+"ww" against "ww"+"w") went different ways in 2 of 21,303 lines of bench_tokenizer's
# text and in 1 to 14 of 80 Wikipedia documents of 50 lines per language; rounded, in none.
SCORE_QUANTUM = 2.0 ** -6


def quantize_scores(model: bytes, quantum: float = SCORE_QUANTUM) -> bytes:
    """The model with every piece score (``ModelProto.pieces[].score``, a float32) rounded to a
    multiple of ``quantum``; all other bytes are kept."""
    import struct

    out = bytearray()
    for number, wire, value, start, end in _raw_fields(model):
        if number != 1 or wire != 2:
            out += model[start:end]
            continue
        piece = bytearray()
        for n, w, v, s, e in _raw_fields(value):
            if n == 2 and w == 5:
                score = round(struct.unpack("<f", v)[0] / quantum) * quantum
                piece += value[s:s + 1] + struct.pack("<f", score)
            else:
                piece += value[s:e]
        out += model[start:start + 1] + _put_varint(len(piece)) + piece
    return bytes(out)


