"""trainer.trim: the e5 init's vocabulary cut to a corpus, with identical ids and hidden states on its text.

The session's converted init (the ``e5_init`` fixture of conftest.py), copied, is trimmed to a corpus written
here in the layout of our jobs, from real text in ../shared/data: Wikipedia lines of the 2023 bn/uk/vi/ja
dumps (``sentences``), Tatoeba lines in 13 scripts, the Kabyle and Javanese ones with runs of unknown
characters (``monolingual``), Multi30K cs/de-en train and test pairs plus Tatoeba deu-eng marked as an
evaluation source (``parallel``) and the embedded frwiki sample (``entity_docs``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, SHARED_DATA, require
from realtext import wiki_lines
from trainer import e5init, trim
from xlkit_core import tokenizer as tk

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TATOEBA = SHARED_DATA / "tatoeba-laser"
MULTI30K = SHARED_DATA / "multi30k" / "task1-raw"
DUMPS = SHARED_DATA / "wikipedia-xztextfilter-2023"
# Latin, Cyrillic, Arabic, Devanagari, Han, Ethiopic, Armenian, Khmer, Tamil, Hebrew (Yiddish),
# Malayalam; kab and jav have runs of characters that no piece covers (<unk>)
MONO_LANGS = ("rus", "ara", "hin", "cmn", "amh", "hye", "khm", "tam", "yid", "mal", "kab", "jav", "ang")
PER_LANG = 250
TOP_K = 500
EXTRA_FILE = "NOTICE.txt"              # a file of the init that trim copies as it is


# ---- the corpus ----------------------------------------------------------------------------------


def tatoeba(code: str, side: str | None = None) -> list[str]:
    path = require(TATOEBA / f"tatoeba.{code}-eng.{side or code}")
    return path.read_text(encoding="utf-8").splitlines()


def multi30k(split: str, lang: str, n: int) -> list[str]:
    with gzip.open(require(MULTI30K / f"{split}.{lang}.gz"), "rt", encoding="utf-8") as f:
        return [next(f).strip() for _ in range(n)]


def write_table(path, columns: dict) -> None:
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path / "part-00000.parquet")


def write_sentences(root) -> list[str]:
    lines = []
    for lang in ("bn", "uk", "vi", "ja"):
        dump = require(DUMPS / f"{lang}wiki-20230501-pages-articles-multistream.head.xml.bz2")
        lines += [(lang, t) for t in wiki_lines(dump, 200_000)[:150]]
    write_table(root / "sentences", {"lang": [x[0] for x in lines], "page_id": list(range(len(lines))),
                                     "sentence_id": [0] * len(lines), "text": [x[1] for x in lines]})
    return [x[1] for x in lines]


def write_monolingual(root) -> list[str]:
    rows = [(lang, t) for lang in MONO_LANGS for t in tatoeba(lang)[:PER_LANG]]
    write_table(root / "monolingual", {"lang": [r[0] for r in rows], "text": [r[1] for r in rows],
                                       "source": ["tatoeba"] * len(rows)})
    return [r[1] for r in rows]


def write_parallel(root) -> list[str]:
    src = multi30k("train", "cs", 150) + multi30k("test_2016_flickr", "de", 50) + tatoeba("deu")[:100]
    tgt = multi30k("train", "en", 150) + multi30k("test_2016_flickr", "en", 50) + tatoeba("deu", "eng")[:100]
    write_table(root / "parallel", {
        "src_lang": ["cs"] * 150 + ["de"] * 150, "tgt_lang": ["en"] * 300, "src": src, "tgt": tgt,
        "source": ["multi30k"] * 200 + ["tatoeba"] * 100,
        "split": ["train"] * 150 + ["test"] * 50 + [None] * 100})
    manifest = {"inputs": [{"evaluation_sources": ["tatoeba"]}]}
    (root / "parallel" / "_manifest.json").write_text(json.dumps(manifest))
    return src + tgt


def write_entity_docs(root) -> list[str]:
    docs = wiki_lines(ROOT / "samples" / "wikipedia" / "frwiki-sample.xml")
    write_table(root / "entity_docs", {"qid": [f"Q{i}" for i in range(len(docs))], "lang": ["fr"] * len(docs),
                                       "text": docs})
    return docs


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """(directory, every text it holds in the order trim reads the tables, texts per table)."""
    root = tmp_path_factory.mktemp("corpus")
    tables = {"sentences": write_sentences(root), "monolingual": write_monolingual(root),
              "parallel": write_parallel(root), "entity_docs": write_entity_docs(root)}
    (root / "_manifest.json").write_text(json.dumps({"job": "test"}))
    return root, [t for texts in tables.values() for t in texts], {k: len(v) for k, v in tables.items()}


# ---- the init and its trimmed copy ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def init(e5_init, tmp_path_factory) -> str:
    """A copy of the session's init with one extra file, which trim must copy unchanged."""
    out = str(tmp_path_factory.mktemp("e5init") / "model")
    shutil.copytree(e5_init["out"], out)
    with open(os.path.join(out, EXTRA_FILE), "w", encoding="utf-8") as f:
        f.write("kept as it is\n")
    return out


@pytest.fixture(scope="module")
def trimmed(init, corpus, tmp_path_factory) -> dict:
    return trim.trim(init, corpus[0], tmp_path_factory.mktemp("trim") / "model")


@pytest.fixture(scope="module")
def tokenizers(init, trimmed):
    return tk.XlmrTokenizer.load(init), tk.XlmrTokenizer.load(trimmed["out"])


@pytest.fixture(scope="module")
def vocab(init, trimmed) -> dict:
    m = trim.load_vocab_map(trimmed["out"])
    return {**m, "inverse": trim.old_to_new(m["new_to_old"], m["init_vocab_size"])}


@pytest.fixture(scope="module")
def encoded(tokenizers, corpus, vocab) -> tuple[list[list[int]], list[list[int]]]:
    """(init ids mapped to the trimmed ids, trimmed ids) of every corpus text."""
    full, small = tokenizers
    texts = corpus[1]
    return [vocab["inverse"][np.asarray(ids, np.int64)].tolist() for ids in full.encode_batch(texts)], \
        small.encode_batch(texts)


def mapped(inverse: np.ndarray, ids: list[int]) -> list[int]:
    return inverse[np.asarray(ids, np.int64)].tolist()


# ---- ids -------------------------------------------------------------------------------------------


def test_ids_identical_on_all_the_corpus_text(trimmed, corpus, encoded, vocab):
    want, got = encoded
    assert trimmed["corpus"]["texts"] == len(corpus[1])            # evaluation rows and test split included
    assert trimmed["corpus"]["texts_per_table"] == corpus[2]
    assert min(min(ids, default=0) for ids in want) >= 0           # every init id is kept
    differ = [i for i, (a, b) in enumerate(zip(want, got, strict=True)) if a != b]
    assert not differ, f"{len(differ)} texts differ, e.g. {corpus[1][differ[0]]!r}"
    unk_runs = [ids for ids in got if tk.UNK_ID in ids]
    assert unk_runs and trimmed["corpus"]["unk_tokens"] == sum(ids.count(tk.UNK_ID) for ids in got)


def test_vocab_map_round_trip(init, trimmed, tokenizers, encoded, vocab):
    full, small = tokenizers
    n2o, kept = vocab["new_to_old"], trimmed["kept"]
    assert (np.diff(n2o) > 0).all() and n2o[:4].tolist() == [0, 1, 2, 3] and n2o[-1] == full.vocab_size - 1
    assert np.array_equal(vocab["inverse"][n2o], np.arange(len(n2o)))
    assert (vocab["inverse"] >= 0).sum() == len(n2o) == small.vocab_size == trimmed["vocab_size"]
    assert len(n2o) == kept["kept"]
    assert [small.id_to_piece(i) for i in range(len(n2o))] == [full.id_to_piece(int(o)) for o in n2o]
    assert [small.sp.get_score(i - 1) for i in range(4, len(n2o) - 1)] == \
        [full.sp.get_score(int(o) - 1) for o in n2o[4:-1]]
    used = {i for ids in encoded[1] for i in ids}
    assert kept["used"] == len(used - {tk.UNK_ID}) and kept["specials"] == 5 and kept["top_k"] == 0
    assert kept["kept"] == 5 + kept["used"] + kept["anchors"] and kept["anchors"] in (0, 1, 2)
    flat = np.concatenate([np.asarray(ids, np.int64) for ids in encoded[1]])
    occurrences = np.bincount(flat, minlength=len(n2o))
    assert vocab["occurrences"] == occurrences.tolist() and vocab["counts"]["tokens"] == occurrences.sum()
    all_scores = [full.sp.get_score(i) for i in range(3, full.vocab_size - 2)]
    assert min(small.sp.get_score(i) for i in range(3, small.vocab_size - 2)) == min(all_scores)  # the anchor
    print(f"kept {len(n2o):,} of {full.vocab_size:,} ids for {len(encoded[1]):,} texts")


def test_autotokenizer_agrees_with_ours_and_the_init(init, trimmed, corpus, tokenizers, encoded, vocab):
    """Where AutoTokenizer agreed with sentencepiece on the init it does on the trimmed directory, with
    the init's ids. It differs on a few texts with decomposed vowel signs (tests/test_e5init.py), two
    Tamil lines here; there its segmentation may use pieces that sentencepiece's did not."""
    hf_full, hf_small = tk.load_hf(init), tk.load_hf(trimmed["out"])
    assert len(hf_small) == trimmed["vocab_size"] and hf_small.mask_token_id == len(hf_small) - 1
    specials = (hf_small.bos_token_id, hf_small.pad_token_id, hf_small.eos_token_id, hf_small.unk_token_id)
    assert specials == (0, 1, 2, 3)
    texts, got = corpus[1], encoded[1]
    full = hf_full(texts, verbose=False)["input_ids"]
    small = hf_small(texts, verbose=False)["input_ids"]
    spm_full = tokenizers[0].encode_batch(texts)
    init_differs = {i for i, ids in enumerate(full) if ids != [0, *spm_full[i], 2]}
    assert 0 < len(init_differs) <= 5, [texts[i] for i in init_differs]
    for i in set(range(len(texts))) - init_differs:
        assert small[i] == [0, *got[i], 2] == [0, *mapped(vocab["inverse"], full[i][1:-1]), 2], texts[i]


# ---- the model -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def models(init, trimmed):
    from transformers import AutoModelForMaskedLM

    load = {"local_files_only": True}
    return AutoModelForMaskedLM.from_pretrained(init, **load).eval(), \
        AutoModelForMaskedLM.from_pretrained(trimmed["out"], **load).eval()


def batch(rows: list[list[int]], width: int = 48):
    import torch

    rows = [[0, *r[:width - 2], 2] for r in rows]
    ids = torch.full((len(rows), max(map(len, rows))), tk.PAD_ID)
    for k, r in enumerate(rows):
        ids[k, :len(r)] = torch.tensor(r)
    return ids, (ids != tk.PAD_ID).long()


def test_weights_are_sliced_and_tied(models, vocab):
    import torch

    full, small = models
    n2o = torch.from_numpy(vocab["new_to_old"])
    emb = small.roberta.embeddings.word_embeddings.weight
    assert small.lm_head.decoder.weight is emb and emb.shape == (len(n2o), 384)
    assert torch.equal(emb, full.roberta.embeddings.word_embeddings.weight[n2o])
    assert torch.equal(small.lm_head.bias, full.lm_head.bias[n2o])
    a, b = full.state_dict(), small.state_dict()
    changed = {k for k in a if a[k].shape != b[k].shape or not torch.equal(a[k], b[k])}
    assert set(a) == set(b) and "lm_head.bias" in changed
    assert changed <= {"roberta.embeddings.word_embeddings.weight", "lm_head.bias", "lm_head.decoder.weight",
                       "lm_head.decoder.bias"}


def test_hidden_states_and_logits_identical(models, corpus, encoded, vocab):
    import torch

    full, small = models
    pick = list(range(0, len(corpus[1]), len(corpus[1]) // 24))[:24]        # every table, many scripts
    old = [[int(vocab["new_to_old"][i]) for i in encoded[1][k]] for k in pick]
    ids_old, mask = batch(old)
    ids_new, mask_new = batch([encoded[1][k] for k in pick])
    assert torch.equal(mask, mask_new) and (mask == 0).any()
    with torch.no_grad():
        a = full(input_ids=ids_old, attention_mask=mask, output_hidden_states=True)
        b = small(input_ids=ids_new, attention_mask=mask, output_hidden_states=True)
    for layer in (6, -1):
        torch.testing.assert_close(b.hidden_states[layer], a.hidden_states[layer], rtol=0, atol=1e-5)
    kept = torch.from_numpy(vocab["new_to_old"])
    torch.testing.assert_close(b.logits, a.logits[..., kept], rtol=1e-5, atol=1e-5)
    print("max |hidden difference|:", float((b.hidden_states[-1] - a.hidden_states[-1]).abs().max()))


# ---- files, card, top_k ----------------------------------------------------------------------------------


def test_files_card_and_copies(init, trimmed, corpus):
    out = trimmed["out"]
    names = {*tk.TOKENIZER_FILES, "config.json", "model.safetensors", "README.md", "vocab_map.json",
             EXTRA_FILE}
    assert set(os.listdir(out)) == names and trimmed["copied"] == [EXTRA_FILE]
    assert sorted(os.listdir(os.path.dirname(out))) == ["model"]                 # no temporary left
    with open(os.path.join(init, "config.json")) as f, open(os.path.join(out, "config.json")) as g:
        before, after = json.load(f), json.load(g)
    assert after.pop("vocab_size") == trimmed["vocab_size"] and before.pop("vocab_size") == 250002
    assert after == before
    assert open(os.path.join(out, EXTRA_FILE)).read() == "kept as it is\n"
    card = open(os.path.join(out, "README.md"), encoding="utf-8").read()
    assert card.startswith(open(os.path.join(init, "README.md"), encoding="utf-8").read().rstrip("\n"))
    assert str(corpus[0]) in card and f"keeps {trimmed['vocab_size']:,} of them" in card
    assert "(top_k 0)" in card
    for m in trimmed["corpus"]["manifests"]:
        assert m["sha256"] == hashlib.sha256((corpus[0] / m["path"]).read_bytes()).hexdigest()
        assert m["sha256"] in card
    assert {m["path"] for m in trimmed["corpus"]["manifests"]} == {"_manifest.json",
                                                                  "parallel/_manifest.json"}
    for name in names - {"README.md"}:
        digest = hashlib.sha256(open(os.path.join(out, name), "rb").read()).hexdigest()
        assert trimmed["files"][name] == digest and f"| `{name}` | `{digest}` |" in card, name
    assert trimmed["files"]["README.md"] == hashlib.sha256(card.encode()).hexdigest()
    c = trimmed["corpus"]
    print(f"trim: {c['texts']:,} texts, {c['tokens']:,} tokens in {c['encode_seconds']} s "
          f"({c['texts_per_s']:,} texts/s); check {trimmed['check']}")


def test_top_k_adds_exactly_k_pieces_and_overwrite(init, trimmed, corpus, tokenizers, vocab, tmp_path):
    out = tmp_path / "model"
    out.mkdir()
    (out / "old").write_text("x")
    res = trim.trim(init, corpus[0], out, top_k=TOP_K, overwrite=True)
    assert "old" not in os.listdir(out) and res["kept"]["top_k"] == TOP_K
    assert res["vocab_size"] == trimmed["vocab_size"] + TOP_K
    wider = trim.load_vocab_map(str(out))["new_to_old"]
    extra = sorted(set(wider.tolist()) - set(vocab["new_to_old"].tolist()))
    assert len(extra) == TOP_K and set(vocab["new_to_old"].tolist()) <= set(wider.tolist())
    full = tokenizers[0]
    score = {i: full.sp.get_score(i - 1) for i in range(4, full.vocab_size - 1)}
    rest = [i for i in score if vocab["inverse"][i] < 0]
    assert extra == sorted(sorted(rest, key=lambda i: (-score[i], i))[:TOP_K])
    inverse = trim.old_to_new(wider, full.vocab_size)
    texts = corpus[1][::7]
    got = tk.XlmrTokenizer.load(str(out)).encode_batch(texts)
    assert got == [mapped(inverse, ids) for ids in full.encode_batch(texts)]


# ---- the score anchor, a made-up vocabulary -------------------------------------------------------------


def tiny_model(init: str, pieces: list[tuple[str, float]]) -> bytes:
    """A sentencepiece model in our layout with these pieces, and the init's trainer and normalizer specs."""
    spec = dict(tk._fields(open(os.path.join(init, tk.SPM_FILE), "rb").read()))
    body = [e5init._piece("<unk>", 0.0, e5init.SPM_UNKNOWN), e5init._piece("<s>", 0.0, e5init.SPM_CONTROL),
            e5init._piece("</s>", 0.0, e5init.SPM_CONTROL)] + [e5init._piece(p, s) for p, s in pieces]
    trainer = e5init._with_vocab_size(spec[2], len(body))
    return (b"".join(e5init._message(1, p) for p in body) + e5init._message(2, trainer)
            + e5init._message(3, spec[3]))


def test_the_lowest_score_piece_keeps_the_unk_score(init):
    """"ac" is "▁" + "ac" (-30), better than "▁a" + <unk> (-1 + min - 10 = -31 with "zz", the minimum
    at -20). "zz" is used by no text; without it <unk> scores -25 and "▁a" + <unk> (-26) wins, in
    sentencepiece and tokenizers alike."""
    model = tiny_model(init, [("▁a", -1.0), ("▁", -15.0), ("ac", -15.0), ("zz", -20.0)])
    tok = tk.XlmrTokenizer(model)
    texts = ["ac", "a"]
    flat = np.concatenate([np.asarray(ids) for ids in tok.encode_batch(texts)])
    counts = np.bincount(flat, minlength=tok.vocab_size)
    new_to_old, facts = trim.select(counts, *trim.vocabulary(tok, model), top_k=0)
    zz = 7                                                          # <s> <pad> </s> <unk> ▁a ▁ ac zz <mask>
    assert facts == {"specials": 5, "used": 3, "anchors": 1, "top_k": 0, "kept": 9}
    assert zz in new_to_old.tolist()
    spm = trim.hf_to_spm(tok.vocab_size)
    for keep, same in ((new_to_old, True), (new_to_old[new_to_old != zz], False)):
        small = trim.subset_model(model, spm[keep][spm[keep] >= 0])
        inverse = trim.old_to_new(keep, tok.vocab_size)
        want = [mapped(inverse, ids) for ids in tok.encode_batch(texts)]
        assert (tk.XlmrTokenizer(small).encode_batch(texts) == want) is same
        fast = [e.ids for e in tk.build_fast_tokenizer(small).encode_batch(texts, add_special_tokens=False)]
        assert (fast == want) is same


# ---- errors ---------------------------------------------------------------------------------------------


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("trim: "), err
    return err[0]


def test_errors_are_one_line_exit_2(init, corpus, trimmed, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--init", init, "--corpus", str(corpus[0]), "--out", str(out)]
    assert trim.main([*args[:1], str(tmp_path / "nope"), *args[2:]]) == 2
    assert "init directory" in error_line(capsys)
    assert trim.main([*args[:1], str(corpus[0]), *args[2:]]) == 2
    assert "has no model.safetensors" in error_line(capsys)
    assert trim.main([*args[:3], str(tmp_path / "nope"), *args[4:]]) == 2
    assert "does not exist" in error_line(capsys)
    (tmp_path / "bare").mkdir()
    assert trim.main([*args[:3], str(tmp_path / "bare"), *args[4:]]) == 2
    assert "Parquet table" in error_line(capsys)
    write_table(tmp_path / "blank" / "monolingual", {"lang": ["en", "de"], "text": ["", None]})
    assert trim.main([*args[:3], str(tmp_path / "blank"), *args[4:]]) == 2
    assert "hold no text" in error_line(capsys)
    assert trim.main([*args[:5], trimmed["out"]]) == 2
    assert "already exists" in error_line(capsys)
    assert trim.main([*args, "--top-k", "-1"]) == 2
    assert "--top-k -1" in error_line(capsys)
    assert trim.main([*args[:5], os.path.dirname(init)]) == 2
    assert "overlap" in error_line(capsys)
    assert sorted(os.listdir(tmp_path)) == ["bare", "blank"]                    # nothing written


def test_a_failed_check_is_loud_and_writes_nothing(init, tmp_path, capsys, monkeypatch):
    write_table(tmp_path / "c" / "monolingual", {"lang": ["en"] * 40, "text": tatoeba("deu", "eng")[:40]})
    real = trim.select

    def drop_one(counts, normal, scores, top_k):                             # lose the most frequent piece
        new_to_old, facts = real(counts, normal, scores, top_k)
        top = int(np.argmax(np.where(normal, counts, 0)))
        return new_to_old[new_to_old != top], facts

    monkeypatch.setattr(trim, "select", drop_one)
    assert trim.main(["--init", init, "--corpus", str(tmp_path / "c"), "--out", str(tmp_path / "out")]) == 1
    assert "check failed" in error_line(capsys)
    assert sorted(os.listdir(tmp_path)) == ["c"]
