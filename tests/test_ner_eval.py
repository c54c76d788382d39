"""trainer.evaluate.ner: span F1 by hand, IOB2 repair, the real WikiANN / CoNLL-2002 files, bad input, and
end-to-end transfer runs on a trained tiny export and on a plain BERT checkpoint."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
import torch

from conftest import SHARED_DATA, require
from trainer.evaluate import ner
from trainer.evaluate.common import EvalError
from trainer.evaluate.ner import read_tagged, span_f1, spans

pytestmark = pytest.mark.usefixtures("one_torch_thread")

WIKIANN = SHARED_DATA / "wikiann-panx-xtreme"
CONLL = SHARED_DATA / "conll2002"
SMALL = dict(n_train=64, n_dev=32, n_test=64, epochs=2, batch_size=16, eval_every=4, patience=2)


def test_span_f1_by_hand():
    gold = [["B-PER", "I-PER", "O", "B-LOC"],          # PER[0,2) LOC[3,4)
            ["B-ORG", "I-ORG", "I-ORG", "O"],          # ORG[0,3)
            ["O", "B-PER", "I-PER", "O"],              # PER[1,3)
            ["B-LOC", "O", "O"]]                       # LOC[0,1)
    pred = [["B-PER", "I-PER", "O", "B-ORG"],          # PER[0,2) right; ORG[3,4) wrong type
            ["B-ORG", "I-ORG", "O", "O"],              # ORG[0,2) wrong boundary
            ["O", "I-PER", "I-PER", "O"],              # I- without B- starts a chunk: PER[1,3) right
            ["B-LOC", "O", "B-PER"]]                   # LOC[0,1) right; PER[2,3) spurious
    # gold 5 spans, predicted 6, correct 3: P = 3/6, R = 3/5, F1 = 2 * .5 * .6 / 1.1 = 6/11
    m = span_f1(gold, pred)
    assert (m["n_gold"], m["n_pred"], m["n_correct"]) == (5, 6, 3)
    assert m["precision"] == pytest.approx(0.5) and m["recall"] == pytest.approx(0.6)
    assert m["f1"] == pytest.approx(6 / 11)
    # PER: gold 2, pred 3, correct 2 -> P 2/3, R 1, F1 0.8
    # LOC: gold 2, pred 1, correct 1 -> P 1, R 1/2, F1 2/3
    # ORG: gold 1, pred 2, correct 0 -> all 0
    per = m["per_type"]
    assert (per["PER"]["precision"], per["PER"]["recall"]) == (pytest.approx(2 / 3), 1.0)
    assert per["PER"]["f1"] == pytest.approx(0.8)
    assert (per["LOC"]["precision"], per["LOC"]["recall"], per["LOC"]["f1"]) == (1.0, 0.5, pytest.approx(2 / 3))
    assert (per["ORG"]["n_gold"], per["ORG"]["n_pred"], per["ORG"]["f1"]) == (1, 2, 0.0)
    assert span_f1(gold, gold)["f1"] == 1.0
    nothing = span_f1(gold, [["O"] * len(s) for s in gold])       # nothing predicted: 0, no division error
    assert (nothing["precision"], nothing["recall"], nothing["f1"]) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        span_f1(gold, pred[:3])
    with pytest.raises(ValueError):
        span_f1([["O", "O"]], [["O"]])


def test_spans_follow_seqeval():
    # seqeval.get_entities (default mode) gives, with inclusive ends, PER(1,2) LOC(4,4) LOC(5,5)
    assert spans(["O", "I-PER", "I-PER", "O", "I-LOC", "B-LOC"]) == [("PER", 1, 3), ("LOC", 4, 5), ("LOC", 5, 6)]
    # a type change inside I- tags starts a new chunk; a chunk runs to the end of the sentence
    assert spans(["B-PER", "I-LOC", "I-LOC", "B-ORG", "I-ORG"]) == [("PER", 0, 1), ("LOC", 1, 3), ("ORG", 3, 5)]
    assert spans([]) == [] and spans(["O", "O"]) == []


def test_repair_is_counted_and_keeps_seqeval_spans(tmp_path, capsys):
    raw = [["O", "I-PER", "I-PER", "O", "I-LOC", "B-LOC"], ["I-ORG", "B-PER", "I-LOC"], ["B-PER", "I-PER"]]
    f = tmp_path / "x.tsv"
    f.write_text("\n\n".join("\n".join(f"w{i}\t{t}" for i, t in enumerate(s)) for s in raw) + "\n", encoding="utf-8")
    tf = read_tagged(f)
    # repaired: I-PER after O, I-LOC after O, I-ORG at sentence start, I-LOC after B-PER; the I-PER continuing
    # I-PER and the one continuing B-PER stay
    assert tf.repaired == 4
    assert tf.tags == [["O", "B-PER", "I-PER", "O", "B-LOC", "B-LOC"], ["B-ORG", "B-PER", "B-LOC"], ["B-PER", "I-PER"]]
    assert [spans(t) for t in tf.tags] == [spans(t) for t in raw]
    assert span_f1(tf.tags, raw)["f1"] == 1.0
    assert "4 I- tags" in capsys.readouterr().err


def test_malformed_lines_name_file_and_line(tmp_path):
    for lines, lineno in ((["a O", "b B-PER", "c"], 3),                  # one column
                          (["a\tO", "", "b\tX-PER"], 3),               # not IOB2
                          (["a O", "b B-"], 2),                        # no type
                          (["a O", "b E-PER"], 2)):                    # IOBES is not IOB2
        f = tmp_path / "bad.txt"
        f.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with pytest.raises(EvalError, match=rf"bad\.txt:{lineno}:"):
            read_tagged(f)
    with pytest.raises(EvalError, match="missing"):
        read_tagged(tmp_path / "nope.gz")
    # explicit encoding that does not fit is an error; none given falls back to latin-1 and says so
    g = tmp_path / "l1.txt.gz"
    g.write_bytes(gzip.compress("Espa\u00f1a B-LOC\n".encode("latin-1")))
    with pytest.raises(EvalError, match="not utf-8"):
        read_tagged(g, "utf-8")
    tf = read_tagged(g)
    assert tf.sentences == [["Espa\u00f1a"]] and tf.encoding == "latin-1" and tf.encoding_fallback


def test_real_files():
    counts = {"esp.train.gz": 8323, "esp.testa.gz": 1915, "ned.train.gz": 15806, "ned.testa.gz": 2895}
    files = {}
    for name, n in counts.items():
        files[name] = tf = read_tagged(require(CONLL / name), "latin-1")
        assert tf.n_sentences == n, name
        assert all(len(w) == len(t) > 0 for w, t in zip(tf.sentences, tf.tags, strict=True))
        assert not any(w == "-DOCSTART-" for s in tf.sentences for w in s)
        assert {t[2:] for s in tf.tags for t in s if t != "O"} == {"PER", "LOC", "ORG", "MISC"}
    assert files["ned.train.gz"].docstarts == 286 and files["ned.testa.gz"].docstarts == 73
    words = {w for s in files["esp.testa.gz"].sentences for w in s}
    assert "Telefónica" in words and "española" in words                 # latin-1 bytes decoded
    assert "één" in {w for s in files["ned.testa.gz"].sentences for w in s}
    assert files["esp.train.gz"].sentences[0][:3] == ["Melbourne", "(", "Australia"]
    # the Dutch POS column is not the tag; the tag is the last column
    assert files["ned.train.gz"].tags[0][:2] == ["O", "O"] and files["ned.train.gz"].sentences[0][0] == "De"
    auto = read_tagged(CONLL / "esp.testa.gz")                            # no encoding given: fallback recorded
    assert auto.encoding == "latin-1" and auto.encoding_fallback and auto.sentences == files["esp.testa.gz"].sentences
    en = read_tagged(require(WIKIANN / "dev-en.tsv.gz"))
    assert en.n_sentences == 10000 and en.encoding == "utf-8" and en.repaired == 0
    assert en.sentences[0][:3] == ["Sioux", "Falls", "Arena"] and en.tags[0][:3] == ["B-ORG", "I-ORG", "I-ORG"]


def test_layer_decay_groups():
    from transformers import XLMRobertaConfig, XLMRobertaForTokenClassification

    torch.manual_seed(0)
    cfg = XLMRobertaConfig(vocab_size=50, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
                           intermediate_size=32, max_position_embeddings=40, num_labels=5)
    model = XLMRobertaForTokenClassification(cfg)
    lr = {n: g["lr"] for g in ner.layer_decay_groups(model, 1.0, 0.5, 3) for p in g["params"]
          for n, q in model.named_parameters() if q is p}
    assert lr["classifier.weight"] == 1.0 and lr["classifier.bias"] == 1.0
    assert lr["roberta.encoder.layer.2.attention.self.query.weight"] == 0.5          # top layer: one step down
    assert lr["roberta.encoder.layer.0.output.dense.weight"] == 0.125
    assert lr["roberta.embeddings.word_embeddings.weight"] == 0.0625               # below the bottom layer
    assert len(lr) == len(list(model.parameters()))


def _check(res, source, targets):
    assert res["train_lang"] == source and res["test_langs"] == targets
    assert set(res["languages"]) == {source, *targets}
    assert res["languages"][source]["role"] == "source"
    for a in res["languages"].values():
        assert 0.0 <= a["f1"] <= 1.0 and 0.0 <= a["precision"] <= 1.0 and 0.0 <= a["recall"] <= 1.0
        assert a["n"] == SMALL["n_test"] and a["n_gold"] > 0
    mean = sum(res["languages"][x]["f1"] for x in targets) / len(targets)
    assert res["target_mean_f1"] == pytest.approx(mean)
    assert res["transfer_gap"] == pytest.approx(res["languages"][source]["f1"] - mean)
    tr = res["training"]
    assert 1 <= tr["best_step"] <= tr["steps"] <= tr["total_steps"]
    assert tr["best_dev_f1"] == max(h["dev_f1"] for h in tr["history"])
    assert res["note"] and set(res["split"]) == {"train", "dev", "source_test", "targets"}
    assert res["timings"]["total_s"] > 0


def test_end_to_end_on_a_tiny_export(tiny_export, tmp_path, capsys):
    """tiny_export (conftest): a tiny xlkit model trained 10 steps on the demo shards and exported."""
    require(WIKIANN / "dev-de.tsv.gz")
    require(CONLL / "ned.testa.gz")
    res = ner.evaluate(tiny_export, "wikiann", "en", ["de"], SHARED_DATA, **SMALL)
    _check(res, "en", ["de"])
    langs = json.loads((tiny_export / "xlkit_langs.json").read_text())["langs"]
    assert [res["languages"][x]["lang_id"] for x in ("en", "de")] == [langs.index("en"), langs.index("de")]
    assert res["split"]["train"] == "dev-en.tsv.gz sentences 0..63 (64)"
    assert res["split"]["source_test"] == "dev-en.tsv.gz sentences 96..159 (64)"
    assert res["labels"] == ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    assert res["repaired"] == {"dev-en.tsv.gz": 0, "dev-de.tsv.gz": 0}
    # same seed, same numbers (CPU, one thread)
    again = ner.evaluate(tiny_export, "wikiann", "en", ["de"], SHARED_DATA, **SMALL)
    assert again["languages"] == res["languages"] and again["training"]["history"] == res["training"]["history"]

    # CoNLL-2002 es -> nl through the CLI: languages unknown to the model get no language id
    out = tmp_path / "conll.json"
    args = [str(tiny_export), "--dataset", "conll2002", "--train-lang", "es", "--test-langs", "nl", "--out", str(out),
            "--data", str(SHARED_DATA)] + [f"--{k.replace('_', '-')}={v}" for k, v in SMALL.items()]
    assert ner.main(args) == 0
    conll = json.loads(out.read_text())
    _check(conll, "es", ["nl"])
    assert conll["languages"]["nl"]["lang_id"] is None and "MISC" in {x[2:] for x in conll["labels"]}
    assert conll["repaired"]["esp.train.gz"] == 1 and conll["encodings"]["ned.testa.gz"] == "latin-1"
    printed = capsys.readouterr().out
    assert "es (source): F1" in printed and "nl (target): F1" in printed and "transfer gap" in printed


def test_plain_bert_checkpoint():
    from trainer.teacher import default_teacher_dir

    require(WIKIANN / "dev-fr.tsv.gz")
    try:
        path = default_teacher_dir()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    res = ner.evaluate(path, "wikiann", "en", ["fr"], SHARED_DATA, n_train=32, n_dev=16, n_test=64, epochs=1,
                       batch_size=8, eval_every=2, patience=1, max_len=16)
    assert all(a["lang_id"] is None for a in res["languages"].values())
    assert res["settings"]["lr"] == 5e-5                          # hidden 384: the base-size default
    assert res["languages"]["fr"]["truncated_words"] > 0          # max_len 16 cuts long sentences; they count as O
    assert 0.0 <= res["source_f1"] <= 1.0
    assert res["transfer_gap"] == pytest.approx(res["source_f1"] - res["languages"]["fr"]["f1"])


def test_cli_errors(tmp_path, capsys):
    from trainer.teacher import default_teacher_dir

    require(WIKIANN / "dev-en.tsv.gz")
    try:
        teacher = default_teacher_dir()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    # a model directory without tokenizer
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(f"{teacher}/{name}", bare / name)
    assert ner.main([str(bare), "--test-langs", "de"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ner: ") and "no tokenizer" in err and len(err.strip().splitlines()) == 1
    # a missing data file: named, with the languages that are there
    assert ner.main([teacher, "--test-langs", "de,xx", "--data", str(SHARED_DATA)]) == 2
    err = capsys.readouterr().err
    assert "dev-xx.tsv.gz is missing" in err and "en, es" in err
    assert ner.main([teacher, "--dataset", "conll2002", "--test-langs", "fr"]) == 2
    assert "no language 'fr'" in capsys.readouterr().err
    assert ner.main([teacher, "--data", str(tmp_path)]) == 2
    assert "holds no wikiann files" in capsys.readouterr().err


def test_bio_viterbi_keeps_iob2_and_otherwise_the_argmax():
    labels = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]

    def logp(rows):
        return torch.log_softmax(torch.tensor(rows, dtype=torch.float), -1)

    # argmax is already valid IOB2: Viterbi keeps it
    ok = logp([[0, 5, 0, 0, 0], [0, 0, 5, 0, 0], [5, 0, 0, 0, 0], [0, 0, 0, 5, 0]])
    assert ner.bio_viterbi(ok, labels) == [1, 2, 0, 3]
    # argmax I-PER twice, starting a sentence: the best valid path is B-PER I-PER (1 + 3 against B-LOC I-LOC's 0 + 2)
    bad = logp([[0, 0, 0, 1, 3], [0, 0, 2, 1, 3]])
    path = [labels[j] for j in ner.bio_viterbi(bad, labels)]
    assert path == ["B-PER", "I-PER"]
    for seq in ([[0, 0, 9, 0, 0]], [[9, 0, 0, 0, 0], [0, 0, 0, 0, 9]]):
        tags = [labels[j] for j in ner.bio_viterbi(logp(seq), labels)]
        assert all(not t.startswith("I-") or (i and tags[i - 1][2:] == t[2:]) for i, t in enumerate(tags)), tags


def test_frozen_probe_on_a_real_encoder_learns_and_draws_nothing_at_random(tmp_path):
    """mode=frozen on all-MiniLM-L6-v2 (a real English encoder): the linear probe finds the entities of held-out
    English sentences far better than on the same architecture with random weights, and gives the same numbers
    for any seed."""
    from trainer.teacher import default_teacher_dir

    require(WIKIANN / "dev-de.tsv.gz")
    try:
        path = default_teacher_dir()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    kw = dict(n_train=300, n_dev=50, n_test=100, mode="frozen")
    res = ner.evaluate(path, "wikiann", "en", ["de"], SHARED_DATA, seed=0, **kw)
    assert res["settings"]["mode"] == "frozen" and res["settings"]["layer"] == -1
    from transformers import AutoConfig, AutoModel

    torch.manual_seed(0)
    rand = tmp_path / "random-minilm"
    AutoModel.from_config(AutoConfig.from_pretrained(path)).save_pretrained(rand)
    for f in Path(path).iterdir():
        if f.name.startswith(("tokenizer", "vocab", "special_tokens")):
            shutil.copy(f, rand / f.name)
    chance = ner.evaluate(rand, "wikiann", "en", ["de"], SHARED_DATA, seed=0, **kw)
    assert res["source_f1"] > chance["source_f1"] + 0.1, (res["source_f1"], chance["source_f1"])
    tr = res["training"]
    assert tr["best_dev_f1"] == max(h["dev_f1"] for h in tr["history"]) and tr["steps"] <= ner.PROBE_STEPS
    again = ner.evaluate(path, "wikiann", "en", ["de"], SHARED_DATA, seed=7, **kw)
    assert again["languages"] == res["languages"]
    with pytest.raises(EvalError, match="layer 9 is out of range"):
        ner.evaluate(path, "wikiann", "en", ["de"], SHARED_DATA, layer=9, **kw)
    with pytest.raises(EvalError, match="unknown mode 'probe'"):
        ner.evaluate(path, "wikiann", "en", ["de"], SHARED_DATA, mode="probe", n_train=8)
