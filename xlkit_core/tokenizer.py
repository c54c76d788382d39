"""The tokenizer at run time, the contract between the corpus, the shards and the trainer: XLM-R's id
layout, the sentencepiece file read without protobuf, the files that let
``transformers.AutoTokenizer`` load a tokenizer directory, and :class:`XlmrTokenizer`, which
encodes for the shard writer, the aligner's word ids and the trainer. Training a tokenizer (the
sample and sentencepiece) is :mod:`corpus_builder.tokenizer`.

Id layout (XLM-R's, which fairseq and transformers share): ``<s>``=0, ``<pad>``=1, ``</s>``=2,
``<unk>``=3, then the pieces, then ``<mask>`` last. The sentencepiece file
``sentencepiece.bpe.model`` itself has XLM-R's internal layout: ``<unk>``=0, ``<s>``=1, ``</s>``=2
and pieces from 3, so that piece ``i`` has id ``i + 1`` and ``<unk>`` maps to 3. A real XLM-R
tokenizer directory has exactly this file, so it can be used in place of a trained one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import XlkitError
from .output import write_json

# sentencepiece skips longer lines (the corpus cuts its lines to stay under this).
MAX_SENTENCE_BYTES = 16384


class TokenizerError(XlkitError):
    """A tokenizer build or load that cannot go on; the message says why and what to do."""

    exit_code = 1


class TokenizerInputError(TokenizerError):
    """Bad usage or bad input (missing corpus, empty language, vocabulary too large): exit code 2."""

    exit_code = 2


SPM_FILE = "sentencepiece.bpe.model"
HF_FILE = "tokenizer.json"
CONFIG_FILE = "tokenizer_config.json"
SPECIAL_MAP_FILE = "special_tokens_map.json"
MANIFEST_FILE = "xlkit_tokenizer.json"
TOKENIZER_FILES = (SPM_FILE, HF_FILE, CONFIG_FILE, SPECIAL_MAP_FILE)

BOS, PAD, EOS, UNK, MASK = "<s>", "<pad>", "</s>", "<unk>", "<mask>"
BOS_ID, PAD_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
# Ids of the sentencepiece file (XLM-R's sentencepiece.bpe.model): unk, bos, eos, then pieces.
SPM_UNK_ID, SPM_BOS_ID, SPM_EOS_ID = 0, 1, 2



# ---- sentencepiece training ----------------------------------------------------------------------


def spm_trainer_options(vocab_size: int, character_coverage: float, threads: int, seed: int) -> dict:
    """sentencepiece options: a unigram model with XLM-R's special ids and its defaults otherwise
    (nmt_nfkc normalisation, dummy prefix, no byte fallback, no digit splitting)."""
    return {
        "model_type": "unigram",
        "vocab_size": vocab_size - 2,  # + <pad> and <mask>, which the sentencepiece file does not hold
        "character_coverage": character_coverage,
        "unk_id": SPM_UNK_ID, "bos_id": SPM_BOS_ID, "eos_id": SPM_EOS_ID, "pad_id": -1,
        "unk_piece": UNK, "bos_piece": BOS, "eos_piece": EOS,
        "input_format": "tsv",
        "input_sentence_size": 0,            # our sample is the budget: use all of it
        "shuffle_input_sentence": False,
        "max_sentence_length": MAX_SENTENCE_BYTES,
        "num_threads": threads,
        "byte_fallback": False,
        "split_digits": False,
        "normalization_rule_name": "nmt_nfkc",
        "random_seed": seed,
    }



# ---- the sentencepiece file, read without protobuf -----------------------------------------------


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def _raw_fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes, int, int]]:
    """(field number, wire type, value, start, end) of each field of a protobuf message: ints for
    varints, bytes otherwise; ``buf[start:end]`` is the field's whole encoding."""
    i = 0
    while i < len(buf):
        start = i
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise TokenizerError(f"unsupported protobuf wire type {wire}: is this a sentencepiece model?")
        yield number, wire, value, start, i


def _fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    for number, _, value, _, _ in _raw_fields(buf):
        yield number, value


def _put_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


@dataclass(frozen=True)
class SpmSpec:
    """What the HF side needs from a sentencepiece model (``ModelProto`` fields 2 and 3)."""

    model_type: int            # TrainerSpec.model_type: 1 unigram, 2 bpe, 3 word, 4 char
    normalizer: str            # NormalizerSpec.name
    charsmap: bytes            # NormalizerSpec.precompiled_charsmap
    add_dummy_prefix: bool
    remove_extra_whitespaces: bool
    escape_whitespaces: bool


def spm_spec(model: bytes) -> SpmSpec:
    trainer, normalizer = {}, {}
    for number, value in _fields(model):
        if number == 2:
            trainer = dict(_fields(value))
        elif number == 3:
            normalizer = dict(_fields(value))
    return SpmSpec(model_type=int(trainer.get(3, 1)), normalizer=bytes(normalizer.get(1, b"")).decode(),
                   charsmap=bytes(normalizer.get(2, b"")), add_dummy_prefix=bool(normalizer.get(3, 1)),
                   remove_extra_whitespaces=bool(normalizer.get(4, 1)), escape_whitespaces=bool(normalizer.get(5, 1)))


def check_spm_layout(sp, spec: SpmSpec, where: str) -> None:
    """Refuse a sentencepiece model that XLM-R's tokenizer classes would not reproduce exactly."""
    problems = []
    if (sp.unk_id(), sp.bos_id(), sp.eos_id()) != (SPM_UNK_ID, SPM_BOS_ID, SPM_EOS_ID):
        problems.append(f"special ids unk/bos/eos are {sp.unk_id()}/{sp.bos_id()}/{sp.eos_id()}, not 0/1/2")
    if sp.pad_id() >= 0:
        problems.append(f"it has its own pad piece (id {sp.pad_id()})")
    if spec.model_type != 1:
        problems.append(f"model type {spec.model_type} is not unigram (1)")
    if not (spec.add_dummy_prefix and spec.remove_extra_whitespaces and spec.escape_whitespaces):
        problems.append("its normaliser does not add a dummy prefix, remove extra whitespace and escape whitespace")
    if any(sp.is_byte(i) for i in range(sp.get_piece_size())):
        problems.append("it uses byte fallback")
    if problems:
        raise TokenizerInputError(f"{where}: not an XLM-R-style sentencepiece model: {'; '.join(problems)}")


# ---- transformers files -------------------------------------------------------------------------


def build_fast_tokenizer(model: bytes):
    """A ``tokenizers.Tokenizer`` that encodes like the sentencepiece model, in XLM-R's id layout.

    It is what transformers 5.x ``XLMRobertaTokenizer`` builds: a Unigram model with the same
    pieces and scores, the model's precompiled normaliser (nmt_nfkc), whitespace split + Metaspace,
    and ``<s> $A </s>`` around each sequence.
    """
    import sentencepiece as spm
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    sp = spm.SentencePieceProcessor(model_proto=model)
    spec = spm_spec(model)
    check_spm_layout(sp, spec, "model")
    n = sp.get_piece_size()
    vocab = [(BOS, 0.0), (PAD, 0.0), (EOS, 0.0), (UNK, 0.0)]
    vocab += [(sp.id_to_piece(i), sp.get_score(i)) for i in range(3, n)]
    vocab.append((MASK, 0.0))
    tok = Tokenizer(models.Unigram(vocab, unk_id=UNK_ID, byte_fallback=False))
    if spec.charsmap:
        tok.normalizer = normalizers.Precompiled(spec.charsmap)
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                 pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}", pair=f"{BOS} $A {EOS} {EOS} $B {EOS}",
        special_tokens=[(BOS, BOS_ID), (EOS, EOS_ID)])
    tok.add_special_tokens([AddedToken(BOS, special=True), AddedToken(PAD, special=True),
                            AddedToken(EOS, special=True), AddedToken(UNK, special=True),
                            AddedToken(MASK, lstrip=True, special=True)])
    return tok


def _added_token(content: str, lstrip: bool = False) -> dict:
    return {"content": content, "lstrip": lstrip, "normalized": False, "rstrip": False, "single_word": False,
            "special": True}


def tokenizer_config(vocab_size: int, model_max_length: int = 512) -> dict:
    """``tokenizer_config.json`` as for xlm-roberta-base (loads in transformers 4.x and 5.x)."""
    ids = {BOS_ID: BOS, PAD_ID: PAD, EOS_ID: EOS, UNK_ID: UNK, vocab_size - 1: MASK}
    return {
        "tokenizer_class": "XLMRobertaTokenizer",
        "added_tokens_decoder": {str(i): _added_token(t, lstrip=(t == MASK)) for i, t in sorted(ids.items())},
        "bos_token": BOS, "eos_token": EOS, "sep_token": EOS, "cls_token": BOS, "unk_token": UNK,
        "pad_token": PAD, "mask_token": MASK,
        "add_prefix_space": True,
        "clean_up_tokenization_spaces": False,
        "model_max_length": model_max_length,
    }


def special_tokens_map() -> dict:
    return {"bos_token": BOS, "eos_token": EOS, "sep_token": EOS, "cls_token": BOS, "unk_token": UNK,
            "pad_token": PAD, "mask_token": _added_token(MASK, lstrip=True)}


def write_tokenizer_dir(directory: str, model: bytes, *, keep_existing: bool = False) -> None:
    """Write the sentencepiece file, ``tokenizer.json``, ``tokenizer_config.json`` and
    ``special_tokens_map.json``. With ``keep_existing``, files already there (a pretrained
    tokenizer's own) are kept and only the missing ones are written."""
    import sentencepiece as spm

    os.makedirs(directory, exist_ok=True)
    vocab_size = spm.SentencePieceProcessor(model_proto=model).get_piece_size() + 2

    def wanted(name: str) -> bool:
        return not (keep_existing and os.path.exists(os.path.join(directory, name)))

    if wanted(SPM_FILE):
        with open(os.path.join(directory, SPM_FILE), "wb") as f:
            f.write(model)
    if wanted(HF_FILE):
        build_fast_tokenizer(model).save(os.path.join(directory, HF_FILE))
    if wanted(CONFIG_FILE):
        write_json(os.path.join(directory, CONFIG_FILE), tokenizer_config(vocab_size))
    if wanted(SPECIAL_MAP_FILE):
        write_json(os.path.join(directory, SPECIAL_MAP_FILE), special_tokens_map())


def copy_pretrained(source: str, directory: str) -> list[str]:
    """Copy an existing XLM-R tokenizer (its tokenizer files only, not model weights) into
    ``directory`` and add the files it lacks. Returns the names copied."""
    model_path = os.path.join(source, SPM_FILE)
    if not os.path.isfile(model_path):
        raise TokenizerInputError(f"--from-pretrained {source}: no {SPM_FILE} there; give a local XLM-R tokenizer "
                                  "directory (e.g. a saved xlm-roberta-base snapshot or the OUT of make tokenizer)")
    os.makedirs(directory, exist_ok=True)
    copied = []
    for name in TOKENIZER_FILES:
        if os.path.isfile(os.path.join(source, name)):
            shutil.copyfile(os.path.join(source, name), os.path.join(directory, name))
            copied.append(name)
    with open(model_path, "rb") as f:
        write_tokenizer_dir(directory, f.read(), keep_existing=True)
    return copied


def load_hf(directory: str):
    """``transformers.AutoTokenizer.from_pretrained(directory)`` strictly offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(directory, local_files_only=True)


def verify_directory(directory: str, texts: dict[str, list[str]], max_examples: int = 3) -> dict:
    """Load ``directory`` with AutoTokenizer and check the XLM-R layout and, text by text, that
    ``hf(text)["input_ids"] == [0] + XlmrTokenizer.encode(text) + [2]``. Raises on a bad layout;
    returns per-language counts of equal encodings, with a few differing examples."""
    tok = XlmrTokenizer.load(directory)
    hf = load_hf(directory)
    layout = {"<s>": hf.bos_token_id, "<pad>": hf.pad_token_id, "</s>": hf.eos_token_id, "<unk>": hf.unk_token_id,
              "<mask>": hf.mask_token_id, "len": len(hf)}
    expected = {"<s>": BOS_ID, "<pad>": PAD_ID, "</s>": EOS_ID, "<unk>": UNK_ID, "<mask>": tok.mask_id,
                "len": tok.vocab_size}
    if layout != expected:
        raise TokenizerError(f"{directory}: transformers loads ids {layout}, expected the XLM-R layout {expected}")
    hf_pieces = hf.convert_ids_to_tokens(list(range(4, tok.vocab_size - 1)))
    ours = [tok.sp.id_to_piece(i) for i in range(3, tok.vocab_size - 2)]
    if hf_pieces != ours:
        bad = next(i for i, (a, b) in enumerate(zip(hf_pieces, ours, strict=True)) if a != b)
        raise TokenizerError(f"{directory}: tokenizer.json and {SPM_FILE} disagree at id {bad + 4} "
                             f"({hf_pieces[bad]!r} vs {ours[bad]!r})")
    result = {"transformers_class": type(hf).__name__, "languages": {}}
    for lang, group in sorted(texts.items()):
        if not group:
            continue
        hf_ids = hf(group, verbose=False)["input_ids"]
        own = tok.encode_batch(group)
        diff = [i for i, (a, b) in enumerate(zip(hf_ids, own, strict=True)) if a != [BOS_ID, *b, EOS_ID]]
        result["languages"][lang] = {"texts": len(group), "equal": len(group) - len(diff),
                                     "examples": [group[i][:200] for i in diff[:max_examples]]}
    return result


# ---- the tokenizer that the shard writer uses ----------------------------------------------------


class XlmrTokenizer:
    """Encode with sentencepiece in XLM-R's id layout.

    ``encode`` gives the ids without ``<s>``/``</s>``; ``transformers.AutoTokenizer`` on the same
    directory gives ``[0] + encode(text) + [2]`` (tests/test_tokenizer.py checks this). ``sp`` is the
    raw ``SentencePieceProcessor`` (its ids are ours minus 1, and its ``<unk>`` is 0).
    """

    bos_id = BOS_ID
    pad_id = PAD_ID
    eos_id = EOS_ID
    unk_id = UNK_ID

    def __init__(self, model: bytes, threads: int = 1):
        import sentencepiece as spm

        self._model = bytes(model)
        self._threads = threads
        self.sp = spm.SentencePieceProcessor(model_proto=self._model)
        check_spm_layout(self.sp, spm_spec(self._model), "sentencepiece model")
        self.vocab_size = self.sp.get_piece_size() + 2
        self.mask_id = self.vocab_size - 1
        self._checksum = hashlib.sha256(self._model).hexdigest()

    @classmethod
    def load(cls, directory: str, threads: int = 1) -> XlmrTokenizer:
        """Load ``directory/sentencepiece.bpe.model`` (a trained tokenizer or an XLM-R one).
        ``threads`` is what ``encode_batch`` uses; 1 suits one Spark task per core."""
        path = os.path.join(directory, SPM_FILE)
        if not os.path.isfile(path):
            raise TokenizerInputError(f"{directory}: no {SPM_FILE}; train a tokenizer with make tokenizer "
                                      "or point to an XLM-R tokenizer directory")
        with open(path, "rb") as f:
            return cls(f.read(), threads=threads)

    def __getstate__(self) -> dict:
        return {"model": self._model, "threads": self._threads}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["model"], state["threads"])

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str) -> list[int]:
        return [i + 1 if i else UNK_ID for i in self.sp.encode(text)]

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        """``[encode(t) for t in texts]`` with one sentencepiece call (``threads`` of ``load``)."""
        return [[i + 1 if i else UNK_ID for i in ids] for ids in self.sp.encode(list(texts), num_threads=self._threads)]

    def decode(self, ids: list[int]) -> str:
        """Text of ``ids``; ``<s>``, ``<pad>``, ``</s>`` and ``<mask>`` are skipped, ``<unk>`` shows as ' ⁇ '."""
        return self.sp.decode([i - 1 if i != UNK_ID else SPM_UNK_ID for i in ids
                               if i > EOS_ID and i != self.mask_id])

    def id_to_piece(self, i: int) -> str:
        return {BOS_ID: BOS, PAD_ID: PAD, EOS_ID: EOS, UNK_ID: UNK, self.mask_id: MASK}.get(i) or \
            self.sp.id_to_piece(i - 1)

    def encode_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Ids of ``text`` and, for each, the character span ``[start, end)`` of ``text`` it covers.
        A lone '▁' piece covers the space before its word, or nothing ((0, 0)) at the start."""
        out = self.sp.encode(text, return_type="offset_mapping")
        return [i + 1 if i else UNK_ID for i in out["ids"]], [tuple(o) for o in out["offsets"]]

    def encode_words(self, words: list[str]) -> tuple[list[int], list[int]]:
        """Ids of ``" ".join(words)`` and, for each id, the index of the word it belongs to.

        A piece belongs to the word of its first non-space character; a piece of whitespace only
        (a lone '▁' before a CJK word) belongs to the word of the next piece. An empty or all-space
        word gets no id.
        """
        text = " ".join(words)
        starts, pos = [], 0
        for w in words:
            starts.append(pos)
            pos += len(w) + 1
        ids, offsets = self.encode_offsets(text)
        word_of: list[int | None] = []
        for begin, end in offsets:
            first = next((c for c in range(begin, end) if not text[c].isspace()), None)
            word_of.append(None if first is None else bisect_right(starts, first) - 1)
        following = len(words) - 1
        for k in range(len(word_of) - 1, -1, -1):
            if word_of[k] is None:
                word_of[k] = following
            following = word_of[k]
        return ids, [max(w, 0) for w in word_of]

    def checksum(self) -> str:
        """sha256 of the sentencepiece file's bytes."""
        return self._checksum
