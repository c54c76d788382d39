"""``python -m trainer.evaluate`` (make eval): every task end to end on a tiny export and on plain transformers
checkpoints, the transfer gaps, bad input, and the format of the small-scale reproduction's table."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHARED_DATA, require
from trainer.evaluate import __main__ as suite

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _need_data():
    for d in ("tatoeba-laser", "wikiann-panx-xtreme", "conll2002", "xfactr"):
        require(SHARED_DATA / d)


def test_every_task_on_a_tiny_export(tiny_export, demo_shards, tmp_path):
    _need_data()
    out = tmp_path / "eval"
    assert suite.main([str(tiny_export), "--out", str(out), "--quick", "--probe-source", "xfactr,kg",
                       "--kg", str(demo_shards["kg"]), "--ner-n-train", "100", "--ner-epochs", "1",
                       "--facts-per-relation", "3"]) == 0
    res = json.loads((out / "results.json").read_text())
    md = (out / "results.md").read_text()
    # the languages come from the model (en de fr ja zh), intersected with each dataset
    assert set(res["tasks"]["tatoeba"]["accuracy"]) == {"deu", "fra", "cmn"}       # tatoeba-laser has no jpn
    assert set(res["tasks"]["ner"]) == {"wikiann", "conll2002 es→nl", "conll2002 nl→es"}
    wik = res["tasks"]["ner"]["wikiann"]
    assert wik["test_langs"] == ["de", "fr", "ja", "zh"]
    assert set(res["tasks"]["probe"]) == {"xfactr", "kg"}
    assert res["tasks"]["probe"]["xfactr"]["langs"][0] == "en"
    # transfer gap = source score minus the mean of the others, for every NER and probing result
    gaps = res["transfer_gap"]
    assert gaps["ner wikiann (F1)"] == pytest.approx(
        wik["source_f1"] - sum(wik["languages"][x]["f1"] for x in wik["test_langs"]) / 4)
    for name in ("xfactr", "kg"):
        acc = res["tasks"]["probe"][name]["accuracy"]
        others = [a["acc"] for k, a in acc.items() if k != "en" and a["acc"] is not None]
        assert gaps[f"probe {name} (accuracy)"] == pytest.approx(acc["en"]["acc"] - sum(others) / len(others))
    for heading in ("**Tatoeba retrieval**", "**NER wikiann**", "**NER conll2002 es→nl**",
                    "**Knowledge probing, xfactr**", "**Knowledge probing, kg**", "**Transfer gap**"):
        assert heading in md
    assert "only dev splits exist here" in md                 # the WikiANN caveat is in the report


def test_a_checkpoint_is_exported_first(demo_shards, tmp_path):
    _need_data()
    from trainer import train

    run = tmp_path / "run"
    assert train.main(["tiny", f"shards={demo_shards['shards']}", f"out={run}", "steps=2", "progress=false",
                       "device=cpu"]) in (0, None)
    out = tmp_path / "eval"
    assert suite.main([str(run), "--out", str(out), "--tasks", "tatoeba", "--quick"]) == 0
    assert (out / "model" / "config.json").exists() and (out / "model" / "xlkit_langs.json").exists()
    assert json.loads((out / "results.json").read_text())["model"] == str(run)


def test_plain_transformers_checkpoints(tiny_export, tmp_path):
    """A baseline goes through the same code: the export without its xlkit files is a plain XLM-R MLM (all three
    tasks, no language ids); the packaged English teacher is a plain BERT without an MLM head (tatoeba and
    NER; probing refuses it with a clear message)."""
    _need_data()
    plain = tmp_path / "plain"
    shutil.copytree(tiny_export, plain, ignore=shutil.ignore_patterns("xlkit_*"))
    out = tmp_path / "plain-eval"
    assert suite.main([str(plain), "--out", str(out), "--quick", "--tatoeba-langs", "deu", "--ner-data", "wikiann",
                       "--ner-langs", "de", "--ner-n-train", "100", "--ner-epochs", "1", "--probe-langs", "en,fr",
                       "--facts-per-relation", "2"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["langs"] == [] and res["tasks"]["ner"]["wikiann"]["languages"]["de"]["lang_id"] is None

    from trainer.teacher import default_teacher_dir

    teacher = default_teacher_dir()
    out2 = tmp_path / "teacher-eval"
    assert suite.main([str(teacher), "--out", str(out2), "--tasks", "tatoeba,ner", "--quick", "--tatoeba-langs",
                       "deu", "--ner-data", "wikiann", "--ner-langs", "de", "--ner-n-train", "100", "--ner-epochs",
                       "1"]) == 0
    res = json.loads((out2 / "results.json").read_text())
    assert res["tasks"]["tatoeba"]["layer"] == 3                          # MiniLM-L6: the middle layer
    assert suite.main([str(teacher), "--out", str(tmp_path / "t3"), "--tasks", "probe", "--quick"]) == 2


def test_bad_input_is_one_line_and_exit_2(tiny_export, tmp_path, capsys):
    no_tok = tmp_path / "no-tokenizer"
    no_tok.mkdir()
    for f in ("config.json", "model.safetensors"):
        shutil.copy(tiny_export / f, no_tok / f)
    assert suite.main([str(no_tok), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "evaluate:" in err and "has no tokenizer" in err and str(no_tok) in err
    bad = tmp_path / "tatoeba"
    bad.mkdir()
    (bad / "tatoeba.deu-eng.deu").write_text("a\nb\nc\n", encoding="utf-8")
    (bad / "tatoeba.deu-eng.eng").write_text("a\nb\n", encoding="utf-8")
    assert suite.main([str(tiny_export), "--out", str(tmp_path / "o2"), "--tasks", "tatoeba", "--tatoeba-data",
                       str(bad), "--tatoeba-langs", "deu"]) == 2
    assert "unequal line counts" in capsys.readouterr().err
    assert suite.main([str(tiny_export), "--out", str(tmp_path / "o3"), "--tasks", "xnli"]) == 2
    assert "unknown task xnli" in capsys.readouterr().err
    assert suite.main([str(tiny_export), "--out", str(tmp_path / "o4"), "--tasks", "probe", "--probe-source",
                       "kg"]) == 2
    assert "needs --kg" in capsys.readouterr().err


def test_make_eval_needs_model_and_out():
    r = subprocess.run(["make", "-s", "eval"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "set MODEL=" in r.stderr


# ---- the small-scale reproduction's table -------------------------------------------------------------------


def _fake_results(d: Path, tat: dict[str, tuple[float, float]], ner: dict[str, float]) -> None:
    """A results.json as trainer.evaluate writes it, with the given scores (fractions)."""
    acc = {k: {"xx2en": a, "en2xx": b, "n": 1000} for k, (a, b) in tat.items()}
    scores = [v for a in tat.values() for v in a]
    targets = [x for x in ner if x != "en"]
    langs = {x: {"role": "source" if x == "en" else "target", "f1": f, "precision": f, "recall": f, "n": 10}
             for x, f in ner.items()}
    mean = sum(ner[x] for x in targets) / len(targets)
    d.mkdir(parents=True)
    (d / "results.json").write_text(json.dumps({"tasks": {
        "tatoeba": {"accuracy": acc, "average": sum(scores) / len(scores), "layer": 1},
        "ner": {"wikiann": {"test_langs": targets, "languages": langs, "source_f1": ner["en"],
                            "target_mean_f1": mean, "transfer_gap": ner["en"] - mean}}}}))


def test_repro_table_format(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import repro_small
    finally:
        sys.path.pop(0)
    s = dict(repro_small.SETTINGS["cpu"])
    args = type("A", (), {"recipes": ["mmlm", "tlm"], "seeds": [0, 1], "tatoeba_langs": ["deu", "fra"],
                          "ner_langs": ["de", "fr"]})()
    # mmlm: seeds give tatoeba deu 1% and 3%; tlm: 2% and 6%; NER en 50/60, de 20/30, fr 10/20 (mmlm), +10 (tlm)
    for recipe, k in (("mmlm", 1), ("tlm", 2)):
        for seed, m in ((0, 1), (1, 3)):
            _fake_results(tmp_path / "eval" / repro_small.run_name(recipe, seed, s),
                          {"deu": (k * m / 100, k * m / 100), "fra": (0.0, 0.0)},
                          {"en": 0.5 + seed / 10 + (k - 1) / 10, "de": 0.2 + seed / 10 + (k - 1) / 10,
                           "fr": 0.1 + seed / 10 + (k - 1) / 10})
    res = repro_small.collect(tmp_path, s, args)
    assert res["mmlm"]["tatoeba deu"] == pytest.approx([1.0, 3.0])
    assert res["mmlm"]["tatoeba avg"] == pytest.approx([0.5, 1.5])
    assert res["tlm"]["ner avg"] == pytest.approx([25.0, 35.0])
    assert res["mmlm"]["ner gap"] == pytest.approx([35.0, 35.0])
    md = repro_small.table(res, args)
    lines = md.splitlines()
    assert "| recipe | deu | fra | avg |" in lines
    assert "| MMLM | 2.0 ± 1.4 | 0.0 ± 0.0 | 1.0 ± 0.7 |" in lines          # mean ± sample std over seeds
    assert "| recipe | en | de | fr | avg | gap |" in lines
    assert "| MMLM + TLM | 65.0 ± 7.1 | 35.0 ± 7.1 | 25.0 ± 7.1 | 30.0 ± 7.1 | 35.0 ± 0.0 |" in lines
    # differences from MMLM are per seed: tatoeba avg +0.5 and +1.5 -> +1.00 ± 0.71; NER avg +10 both seeds
    assert "| MMLM + TLM | +1.00 ± 0.71 | +10.00 ± 0.00 | +0.00 ± 0.00 |" in lines


def test_probing_recovers_facts_a_model_has_memorised(tiny_export, demo_shards, tmp_path):
    """The whole probing path (templates, mask counts, independent decoding, detokenisation, matching) on a
    model that provably knows the answers: the tiny export is fine-tuned to fill the object of every English KG
    probe, then probed. Before fine-tuning it gets (almost) none right; after, most (0.81 measured)."""
    import torch
    from transformers import AutoModelForMaskedLM

    from trainer.evaluate import probe

    facts, templates, skipped = probe.kg_probes(demo_shards["kg"], ["en"])
    lm = probe.MaskedLM(str(tiny_export))
    tok, examples, kept = lm.tokenizer, [], []
    for f in facts:
        t = templates[f.relation][f.lang].replace("[X]", f.subject)
        full = tok(t.replace("[Y]", f.gold[0]))["input_ids"]
        for n in range(1, 6):                      # the mask count whose layout matches the answer's pieces
            masked = tok(t.replace("[Y]", tok.mask_token * n))["input_ids"]
            pos = [i for i, x in enumerate(masked) if x == tok.mask_token_id]
            if len(masked) == len(full) and all(a == b for i, (a, b) in enumerate(zip(masked, full, strict=True))
                                                  if i not in pos):
                examples.append((masked, pos, [full[i] for i in pos]))
                kept.append(f)
                break
    assert len(kept) >= 30, f"only {len(kept)} of {len(facts)} probes have a clean piece layout"
    subset = probe.Probes(kept, templates, skipped)
    before = probe.probe(lm, subset)["accuracy"]["en"]["acc"]

    torch.manual_seed(0)
    model = AutoModelForMaskedLM.from_pretrained(str(tiny_export))
    lid = lm.lang_id("en")
    width = max(len(m) for m, _, _ in examples)
    ids = torch.full((len(examples), width), tok.pad_token_id)
    labels = torch.full_like(ids, -100)
    for i, (m, pos, gold) in enumerate(examples):
        ids[i, :len(m)] = torch.tensor(m)
        labels[i, pos] = torch.tensor(gold)
    attn = (ids != tok.pad_token_id).long()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(400):
        loss = model(input_ids=ids, attention_mask=attn, token_type_ids=torch.full_like(ids, lid), labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    trained = tmp_path / "memorised"
    shutil.copytree(tiny_export, trained)
    model.save_pretrained(trained)
    after = probe.probe(probe.MaskedLM(str(trained)), subset)
    # measured 0.0 before and 0.81 after; the misses are facts where a shorter or longer mask run scores a higher
    # mean log-probability than the trained one (the decoding rule, not a bug in the path)
    assert before <= 0.1 and after["accuracy"]["en"]["acc"] >= 0.7, (before, after["examples"])
