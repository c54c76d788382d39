"""Continual pre-training from the real init, end to end on a trimmed copy small enough for the suite.

multilingual-e5-small (``trainer.e5init``) trimmed to the demo corpus's pieces (``trainer.trim``) ->
``train_tokenizer --from-pretrained`` -> ``build_shards`` for de and en only -> a few training steps
with ``model.init_from`` -> export -> Tatoeba on French, a language that training never saw
(zero-shot: the no-language row 0), and German, against the trimmed init itself. Checks that the
language rows leave the init's outputs unchanged at step 0, and that the pipeline keeps the init's
retrieval.
"""

from __future__ import annotations

import json

import pytest
import torch

from conftest import SHARED_DATA, require

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


@pytest.fixture(scope="module")
def init(e5_init, demo_shards, tmp_path_factory) -> str:
    from trainer import trim

    return trim.trim(e5_init["out"], demo_shards["corpus"], tmp_path_factory.mktemp("from-init") / "e5-demo")["out"]


@pytest.fixture(scope="module")
def shards(init, demo_shards, tmp_path_factory) -> dict:
    from jobs import build_shards, train_tokenizer

    base = tmp_path_factory.mktemp("from-init-data")
    corpus = str(demo_shards["corpus"])
    assert train_tokenizer.main(["--corpus", corpus, "--from-pretrained", init, "--out", str(base / "tok")]) == 0
    assert build_shards.main(["--corpus", corpus, "--tokenizer", str(base / "tok"), "--out", str(base / "shards"),
                              "--tasks", "mlm,pairs", "--langs", "de,en", "--max-len", "48",
                              "--max-rows", "64"]) == 0
    return {"tokenizer": base / "tok", "shards": base / "shards"}


def test_language_rows_leave_the_init_unchanged_at_step_0(init, shards):
    from transformers import AutoModelForMaskedLM

    from trainer.attention_masks import full_mask
    from trainer.config import ModelConfig
    from trainer.model import build_model
    from xlkit_core.tokenizer import XlmrTokenizer

    tok = XlmrTokenizer.load(str(shards["tokenizer"]))
    enc = build_model(ModelConfig(init_from=init, dropout=0.0), len(tok), ["de", "en"], {}).eval()
    assert enc.langs == ["<none>", "de", "en"] and enc.config.type_vocab_size == 3
    ref = AutoModelForMaskedLM.from_pretrained(init).eval()
    ids = torch.tensor([tok.encode("Ein Hund läuft über die Wiese.")])
    ones = torch.ones_like(ids)
    with torch.no_grad():
        want = ref(input_ids=ids, attention_mask=ones).logits
        for lang in ("de", "en", "sw"):
            got = enc(ids, full_mask(ones), None, torch.full_like(ids, enc.lang_id(lang)))
            torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


def test_train_export_and_zero_shot_tatoeba_on_an_unseen_language(init, shards, tmp_path):
    from trainer import export, train
    from trainer.evaluate import tatoeba

    run, model = tmp_path / "run", tmp_path / "model"
    assert train.main(["tiny", f"shards={shards['shards']}", f"out={run}", f"model.init_from={init}", "recipe=tlm",
                       "steps=3", "batch_size=4", "optim.lr=1e-5", "optim.warmup_steps=1", "progress=false",
                       "device=cpu", "save_every=3"]) in (0, None)
    assert export.main([str(run), str(model)]) == 0
    langs = json.loads((model / "xlkit_langs.json").read_text())["langs"]
    assert langs == ["<none>", "de", "en"]
    data = require(SHARED_DATA / "tatoeba-laser")
    acc = {}
    for name, path in (("init", init), ("trained", model)):
        out = tmp_path / f"tatoeba-{name}.json"
        assert tatoeba.main([path if isinstance(path, str) else str(path), "--langs", "fra,deu", "--limit", "100",
                             "--data", str(data), "--out", str(out)]) == 0
        acc[name] = json.loads(out.read_text())["accuracy"]
    # Tatoeba's text is mostly outside the demo corpus, so the trimmed vocabulary segments it into
    # smaller pieces and the init scores far below its untrimmed 92.6 / 98.5 (measured 16-35 %), but far
    # above chance (1 %). Three steps at lr 1e-5 must leave it there, for French (never trained: row 0)
    # as for German (trained).
    for lang in ("fra", "deu"):
        assert acc["init"][lang]["xx2en"] > 0.1, acc
        assert abs(acc["trained"][lang]["xx2en"] - acc["init"][lang]["xx2en"]) <= 0.05, acc
