"""trainer.evaluate.tatoeba: the retrieval accuracy, bad input, and an end-to-end run on a trained export."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import SHARED_DATA, require
from trainer.evaluate import tatoeba
from trainer.evaluate.tatoeba import TatoebaError, read_pair, retrieval_accuracy

TATOEBA = SHARED_DATA / "tatoeba-laser"


def test_retrieval_accuracy_by_hand():
    sim = np.array([[0.9, 0.1, 0.0, 0.2],    # row 0: best column 0 -> right
                    [0.3, 0.2, 0.8, 0.1],    # row 1: best column 2 -> wrong
                    [0.0, 0.1, 0.7, 0.6],    # row 2: best column 2 -> right
                    [0.5, 0.4, 0.3, 0.1]])   # row 3: best column 0 -> wrong
    assert retrieval_accuracy(sim) == 0.5
    # the other direction: column 0's best row is 0 (0.9), column 1's is 3 (0.4), column 2's is 1 (0.8),
    # column 3's is 2 (0.6): one of four right
    assert retrieval_accuracy(sim.T) == 0.25
    assert retrieval_accuracy(np.eye(4)) == 1.0
    assert retrieval_accuracy(np.eye(4)[::-1]) == 0.0      # anti-diagonal: every row picks another
    with pytest.raises(ValueError):
        retrieval_accuracy(np.zeros((0, 3)))


def test_cosine_nearest_neighbour_is_scale_free():
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([[10.0, 1.0], [0.1, 5.0]])                  # long vectors must not win by length
    assert retrieval_accuracy(tatoeba.cosine(a, b)) == 1.0


def test_unequal_line_counts_name_both_files(tmp_path):
    (tmp_path / "tatoeba.deu-eng.deu").write_text("Hallo.\nWie geht's?\nDanke.\n", encoding="utf-8")
    (tmp_path / "tatoeba.deu-eng.eng").write_text("Hello.\nHow are you?\n", encoding="utf-8")
    with pytest.raises(TatoebaError) as exc:
        read_pair(tmp_path, "deu")
    msg = str(exc.value)
    assert "tatoeba.deu-eng.deu" in msg and "tatoeba.deu-eng.eng" in msg and "3" in msg and "2" in msg
    # the CLI says it in one line, exit code 2, before loading any model
    assert tatoeba.main([str(tmp_path / "no-model"), "--langs", "deu", "--data", str(tmp_path)]) == 2
    with pytest.raises(TatoebaError, match="missing"):
        read_pair(tmp_path, "fra")


def test_end_to_end_on_a_trained_export(tiny_export, tmp_path, capsys):
    data = require(TATOEBA)
    require(data / "tatoeba.deu-eng.deu")
    torch.set_num_threads(1)
    model = tiny_export
    out = tmp_path / "r.json"
    assert tatoeba.main([str(model), "--langs", "deu,fra", "--data", str(data), "--out", str(out),
                         "--limit", "200"]) == 0
    res = json.loads(out.read_text())
    assert res["layer"] == 1                                   # tiny: 2 layers, the middle one
    assert set(res["accuracy"]) == {"deu", "fra"}
    for a in res["accuracy"].values():
        assert a["n"] == 200 and 0.0 <= a["xx2en"] <= 1.0 and 0.0 <= a["en2xx"] <= 1.0
    scores = [a[d] for a in res["accuracy"].values() for d in ("xx2en", "en2xx")]
    assert res["average"] == pytest.approx(sum(scores) / 4)
    assert "deu->eng" in capsys.readouterr().out

    # language ids: the export's langs list decides token_type_ids (deu -> de)
    emb = tatoeba.Embedder(model, layer=0)
    langs = json.loads((model / "xlkit_langs.json").read_text())["langs"]
    assert emb.use_lang_ids and emb.lang_id("deu") == langs.index("de") and emb.lang_id("eng") == langs.index("en")
    assert langs[0] == "<none>" and emb.lang_id("hin") is None   # never trained on: row 0, no language (zero-shot)
    # the language id changes the embedding (it is added to every token)
    de = emb.embed(["Ich bin hier."], "deu")
    en = emb.embed(["Ich bin hier."], "eng")
    assert not np.allclose(de, en)
    # an out-of-range layer is a clear error
    with pytest.raises(TatoebaError, match="out of range"):
        tatoeba.Embedder(model, layer=7)


def test_further_layers_from_the_same_passes_equal_separate_runs(tiny_export):
    """``more_layers`` scores the last layer from the forward passes of the middle one: the same numbers
    as a run of its own at that layer, and the middle layer's result is unchanged by it."""
    data = require(TATOEBA)
    torch.set_num_threads(1)
    both = tatoeba.evaluate(tiny_export, ["deu", "fra"], None, data, limit=60, more_layers=[-1])
    mid = tatoeba.evaluate(tiny_export, ["deu", "fra"], None, data, limit=60)
    last = tatoeba.evaluate(tiny_export, ["deu", "fra"], -1, data, limit=60)
    assert both["accuracy"] == mid["accuracy"] and both["average"] == mid["average"]
    assert set(both["layers"]) == {"1", "2"}
    assert both["layers"]["2"]["accuracy"] == last["accuracy"]
    assert both["layers"]["1"]["accuracy"] == mid["accuracy"]
