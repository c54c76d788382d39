"""trainer.evaluate.probe: decoding and scoring by hand, template rendering, X-FACTR and KG probes, bad
input, and an end-to-end run on a trained export."""

from __future__ import annotations

import csv
import gzip
import json
import math
import shutil
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from conftest import SHARED_DATA, require
from trainer.evaluate import probe
from trainer.evaluate.common import EvalError
from trainer.evaluate.probe import Fact, Probes, render_template

XFACTR = SHARED_DATA / "xfactr"
pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------------------------------ decoding by hand


def test_independent_decoding_by_hand():
    # vocabulary of 4; id 0 is special (never chosen). Rows are probabilities, so log_softmax(log p) = log p.
    one = torch.log(torch.tensor([[0.70, 0.10, 0.15, 0.05]]))
    ids, lps = probe.mask_predictions(one, banned=[0])
    assert ids == [2] and lps == pytest.approx([math.log(0.15)])          # 0 would win were it allowed
    assert probe.mask_predictions(one)[0] == [0]
    two = torch.log(torch.tensor([[0.1, 0.6, 0.2, 0.1], [0.05, 0.05, 0.1, 0.8]]))
    ids2, lps2 = probe.mask_predictions(two, banned=[0])
    assert ids2 == [1, 3] and lps2 == pytest.approx([math.log(0.6), math.log(0.8)])
    three = torch.log(torch.tensor([[0.1, 0.9, 0.0, 0.0], [0.1, 0.3, 0.3, 0.3], [0.1, 0.1, 0.1, 0.7]]) + 1e-12)
    ids3, lps3 = probe.mask_predictions(three, banned=[0])
    assert ids3 == [1, 1, 3]                                               # the 0.3 tie -> lowest id
    # mean log-probs: n=1 log .15 = -1.90; n=2 (log .6 + log .8)/2 = -0.37; n=3 (log .9+log .3+log .7)/3 = -0.55
    cands = [(ids, lps), (ids2, lps2), (ids3, lps3)]
    assert probe.pick_best(cands) == 1
    # a tie goes to fewer masks; a candidate that lost its masks ([]) never wins
    assert probe.pick_best([([5], [-1.0]), ([5, 6], [-0.5, -1.5])]) == 0
    assert probe.pick_best([([], []), ([7], [-9.0])]) == 1


def test_normalised_matching():
    n = probe.normalise
    assert n("  Ｐａｒｉｓ. ") == "paris"                     # NFKC (full-width), casefold, punctuation, spaces
    assert n("«New   York»") == "new york"
    assert n("東 京") == "東京"                                # spaces between CJK characters go
    assert probe.is_correct("Straße", ["STRASSE"])             # casefold, not lower
    assert probe.is_correct("(Tokyo)", ["Tokyo Metropolis", "tokyo"])
    assert not probe.is_correct("St. Louis", ["St Louis"])     # inner punctuation stays
    assert not probe.is_correct("", ["", "."])                 # an empty prediction is never right
    assert not probe.is_correct("Paris", ["Parijs"])


class FakeLM(probe.MaskedLM):
    """Hand-made mask probabilities per (language, subject, number of masks); uniform otherwise."""

    VOCAB = ["<s>", "Paris", "Lyon", "New", "York", "City", "Berlin"]

    def __init__(self, table):
        self.table, self.batch_size, self.banned, self.mask_token = table, 2, [0], "<M>"
        self.seen = []

    def lang_id(self, lang):
        return None

    def mask_logits(self, texts, lang):
        out = []
        for t in texts:
            self.seen.append(t)
            n = t.count("<M>")
            rows = self.table.get((lang, t.split()[0], n), [[1.0] * len(self.VOCAB)] * n)
            p = torch.tensor(rows, dtype=torch.float)
            out.append(torch.log(p / p.sum(-1, keepdim=True)))
        return out

    def decode(self, ids):
        return " ".join(self.VOCAB[i] for i in ids)


def _row(**probs):
    """A probability row: the given words (``s`` is ``<s>``), the rest shared evenly by the others."""
    rest = (1.0 - sum(probs.values())) / (len(FakeLM.VOCAB) - len(probs))
    row = [rest] * len(FakeLM.VOCAB)
    for word, p in probs.items():
        row[FakeLM.VOCAB.index(word if word != "s" else "<s>")] = p
    return row


def test_probe_picks_masks_and_aggregates_by_hand():
    table = {
        # en Alice: n=1 City .5 (-0.69), n=2 New .6 York .6 (-0.51), n=3 .9 each (-0.105) -> "New York City"
        ("en", "Alice", 1): [_row(City=0.5)],
        ("en", "Alice", 2): [_row(New=0.6), _row(York=0.6)],
        ("en", "Alice", 3): [_row(New=0.9), _row(York=0.9), _row(City=0.9)],
        # fr Alice: n=2 .8 each (-0.22) beats n=3 (.9, .9, .2: -0.61) -> "New York"
        ("fr", "Alice", 2): [_row(New=0.8), _row(York=0.8)],
        ("fr", "Alice", 3): [_row(New=0.9), _row(York=0.9), _row(City=0.2)],
        # en Bob: n=1 Lyon .6 (-0.51) beats n=2 Paris .5 Paris .5 (-0.69) -> "Lyon", wrong
        ("en", "Bob", 1): [_row(Lyon=0.6)],
        ("en", "Bob", 2): [_row(Paris=0.5), _row(Paris=0.5)],
        # fr Bob: <s> .5 is banned, Paris .4 is chosen (-0.92); n=2, 3 are uniform (log 1/7 = -1.95) -> "Paris"
        ("fr", "Bob", 1): [_row(s=0.5, Paris=0.4)],
        # en Carl: n=1 Berlin .9 -> right against the gold "BERLIN!" (normalised)
        ("en", "Carl", 1): [_row(Berlin=0.9)],
    }
    facts = [Fact("P19", "en", "Alice", ("New York City", "NYC")), Fact("P19", "en", "Bob", ("Paris",)),
             Fact("P17", "en", "Carl", ("BERLIN!",)), Fact("P19", "fr", "Alice", ("New York",)),
             Fact("P19", "fr", "Bob", ("Paris",))]
    templates = {"P19": {"en": "[X] was born in [Y] .", "fr": "[X] est né à [Y] ."},
                 "P17": {"en": "[X] is in [Y] ."}}
    skipped = {"facts": {"en": Counter(), "fr": Counter({"no subject alias": 2}), "ja": Counter({"x": 1})},
               "templates": [{"relation": "P17", "lang": "fr", "template": "[X]", "reason": "no [Y]"}]}
    lm = FakeLM(table)
    res = probe.probe(lm, Probes(facts, templates, skipped), max_masks=3, examples=2)
    assert "Alice was born in <M><M> ." in lm.seen and "Carl is in <M><M><M> ." in lm.seen
    assert len(lm.seen) == 5 * 3
    ex = res["examples"]["en"]
    assert [(e["prediction"], e["n_masks"], e["correct"]) for e in ex] == [("New York City", 3, True),
                                                                          ("Lyon", 1, False)]
    assert ex[0]["score"] == pytest.approx(math.log(0.9), abs=1e-3)
    assert ex[0]["prompt"] == "Alice was born in [Y] ."
    assert [(e["prediction"], e["n_masks"]) for e in res["examples"]["fr"]] == [("New York", 2), ("Paris", 1)]
    acc = res["accuracy"]
    assert (acc["en"]["correct"], acc["en"]["n"]) == (2, 3) and acc["en"]["acc"] == pytest.approx(2 / 3)
    assert acc["fr"]["acc"] == 1.0 and acc["ja"] == {"acc": None, "correct": 0, "n": 0, "macro_relation": None}
    assert acc["en"]["macro_relation"] == pytest.approx((0.5 + 1.0) / 2)
    assert res["relation"]["P19"] == {"acc": 0.75, "correct": 3, "n": 4}
    assert res["relation"]["P17"]["acc"] == 1.0
    assert res["lang_relation"]["en"]["P19"]["acc"] == 0.5 and "P17" not in res["lang_relation"]["fr"]
    assert res["average"]["macro"] == pytest.approx((2 / 3 + 1) / 2)   # languages without facts left out
    assert res["average"]["micro"] == pytest.approx(4 / 5)
    assert res["transfer_gap"] == pytest.approx(2 / 3 - 1.0)
    assert res["counts"]["facts"] == {"en": 3, "fr": 2, "ja": 0}
    assert res["counts"]["skipped_facts"]["fr"] == {"no subject alias": 2}
    assert res["counts"]["skipped_templates"] == {"en": 0, "fr": 1, "ja": 0}
    # no en -> no gap
    assert probe.aggregate([{"lang": "fr", "relation": "P1", "correct": True}], examples=0)["transfer_gap"] is None


# ------------------------------------------------------------------------------------------ templates


def test_render_rules_and_rejects():
    assert render_template("[X] est [né;X-Gender=MASC|née;X-Gender=FEM] [PREPLOC;Y] [Y] .") == \
        ("[X] est né [Y] .", None)
    assert render_template("[X.Gen] resmi dili [Y;be] .") == ("[X] resmi dili [Y] .", None)
    assert render_template("[X] es un ejemplo de [ART;Y-Gender] [Y] .") == ("[X] es un ejemplo de [Y] .", None)
    assert render_template("[X]的出生地是[Y]。") == ("[X]的出生地是[Y]。", None)
    assert render_template("") == (None, "empty template")
    assert render_template(None) == (None, "empty template")
    assert render_template("[X] was born .") == (None, "no [Y]")
    assert render_template("[Y] is a place .") == (None, "no [X]")
    assert render_template("[X] and [Y] and [Y]") == (None, "2 [Y] slots")
    assert render_template("Nagtikang an [X bad] ha [Y] .") == (None, "unknown markup [X bad]")


def _prompts():
    with open(require(XFACTR / "TREx_prompts.csv"), encoding="utf-8", newline="") as f:
        return {r["pid"]: r for r in csv.DictReader(f)}


def test_render_real_xfactr_rows():
    rows = _prompts()
    expect = {("P19", "fr"): "[X] est né [Y] .",                   # [né;..|née;..] -> né, [PREPLOC;Y] gone
              ("P19", "ru"): "[X] родился в [Y] .",                 # [X.Nom], 3-way alternation, [Y.Ess]
              ("P19", "el"): "[X] γεννήθηκε [Y] .",                 # [DEF;X] [PREPDEF;Y] gone, cases dropped
              ("P19", "hu"): "[X] [Y] született .",                 # [Y.IN+ESS]
              ("P17", "el"): "[X] βρίσκεται [Y] .",                 # X-Number alternation
              ("P138", "el"): "[X] πήρε το όνομά από [Y] .",        # [DEF.Gen;X]
              ("P37", "hu"): "[X] hivatalos nyelve a [Y] .",
              ("P463", "es"): "[X] es miembro de [Y] .",            # [ART;X-Gender]
              ("P19", "en"): "[X] was born in [Y] .",
              ("P19", "ja"): "[X]は[Y]生まれである。"}
    for (pid, lang), want in expect.items():
        assert render_template(rows[pid][lang]) == (want, None), (pid, lang)
    # every cell of the file: exactly four are unusable, each for a reason named (mg P31 is "[Y] dia [Y] .")
    bad = {(pid, lang): render_template(r[lang])[1] for pid, r in rows.items() for lang in r
           if lang not in ("pid", "relation") and render_template(r[lang])[0] is None}
    assert bad == {("P31", "bn"): "unknown markup [human: একজন ; non-human: একটি]",
                   ("P449", "war"): "unknown markup [X bad]", ("P47", "he"): "unknown markup [Х]",
                   ("P31", "mg"): "2 [Y] slots"}


def _gz(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(text)


def _tiny_xfactr(d):
    (d / "TREx_prompts.csv").write_text(
        "pid,relation,en,fr,nl\n"
        "P19,place of birth,[X] was born in [Y] .,[X] est [né;X-Gender=MASC|née;X-Gender=FEM] .,[X] werd geboren in [Y] .\n",
        encoding="utf-8")
    facts = [("Q1", "Albert Einstein", "Q10", "Ulm"), ("Q2", "Bob", "Q11", "Paris"), ("Q2", "Bob", "Q12", "Lyon"),
             ("Q3", "Carl", "Q10", "Ulm")]
    _gz(d / "mTRExf" / "sub" / "P19.jsonl.gz", "".join(json.dumps({"sub_uri": s, "sub_label": sl, "obj_uri": o,
                                                                    "obj_label": ol}) + "\n" for s, sl, o, ol in facts))
    _gz(d / "alias" / "mTRExf" / "en.txt.gz", "Q10\tUlm\nQ11\tCity of Light\tParis\n")
    _gz(d / "alias" / "mTRExf" / "fr.txt.gz", "Q1\tAlbert Einstein\nQ10\tUlm\n")
    _gz(d / "alias" / "mTRExf" / "nl.txt.gz",
        "Q1\tA. Einstein\tAlbert Einstein\tEinstein (natuurkundige)\nQ10\tUlm\nQ11\tParijs\n")


def test_xfactr_probes_on_constructed_data(tmp_path, capsys):
    _tiny_xfactr(tmp_path)
    facts, templates, skipped = probe.xfactr_probes(tmp_path, ["en", "fr", "nl"], facts_per_relation=2)
    by = {(f.lang, f.subject): f for f in facts}
    assert sorted(by) == [("en", "Albert Einstein"), ("en", "Bob"), ("nl", "Albert Einstein")]   # Carl: 3rd subject
    assert set(by[("en", "Bob")].gold) == {"Paris", "City of Light", "Lyon"}    # two objects, one fact
    assert by[("en", "Bob")].obj_ids == ("Q11", "Q12")
    assert by[("nl", "Albert Einstein")].gold == ("Ulm",)
    assert templates["P19"] == {"en": "[X] was born in [Y] .", "nl": "[X] werd geboren in [Y] ."}
    # fr's template has no [Y]: skipped, counted, said on stderr; its facts count as skipped
    assert skipped["templates"] == [{"relation": "P19", "lang": "fr", "reason": "no [Y] (X-FACTR)",
                                     "template": "[X] est [né;X-Gender=MASC|née;X-Gender=FEM] ."}]
    assert dict(skipped["facts"]["fr"]) == {"no usable template": 2}
    assert dict(skipped["facts"]["nl"]) == {"no subject alias": 1}     # Bob has no Dutch alias
    err = capsys.readouterr().err
    assert "P19" in err and " fr " in err and "no [Y]" in err
    # all subjects, and a template file that repairs fr
    facts, templates, skipped = probe.xfactr_probes(tmp_path, ["fr"], facts_per_relation=None,
                                                    templates={"P19": {"fr": "[X] est né à [Y] ."}})
    assert [(f.subject, f.gold) for f in facts] == [("Albert Einstein", ("Ulm",))]
    assert dict(skipped["facts"]["fr"]) == {"no subject alias": 2}       # Bob, Carl
    with pytest.raises(EvalError, match="unknown relation.*P999"):
        probe.xfactr_probes(tmp_path, ["en"], relations=["P999"])
    with pytest.raises(EvalError, match="no templates for de; its languages: en, fr, nl"):
        probe.xfactr_probes(tmp_path, ["de"])
    with pytest.raises(EvalError, match="is missing"):
        probe.xfactr_probes(tmp_path / "nowhere", ["en"])


def test_closest_alias_rule():
    assert probe.closest_alias("Albert Einstein", ["A. Einstein", "Albert Einstein", "Einstein"]) == "Albert Einstein"
    # another script: every ratio is 0 -> the shorter, then the first alphabetically; no letter-less aliases
    assert probe.closest_alias("Lee Kuan Yew", ["⊕", "李資政閣下", "李资政", "李光耀"]) == "李光耀"
    assert probe.closest_alias("Doug", ["ダグ (アニメ)", "ダグ"]) == "ダグ"             # no disambiguator
    assert probe.closest_alias("Earth", ["🌍"]) is None


# ------------------------------------------------------------------------------------------ KG probes


def _tiny_kg(d):
    from kg_pipeline.tables import ENTITIES, PROPERTIES, TRIPLES

    def ent(qid, labels, aliases=None):
        return {"qid": qid, "kind": "item", "labels": list(labels.items()), "descriptions": [],
                "aliases": list((aliases or {}).items()), "sitelink_count": 1, "instance_of": []}

    tables = {
        "entities": pa.Table.from_pylist([
            ent("Q17", {"en": "Japan", "fr": "Japon", "zh": "日本"}),
            ent("Q1490", {"en": "Tokyo", "fr": "Tokyo", "zh": "东京"}, {"en": ["Tokyo Metropolis"]}),
            ent("Q6256", {"en": "country", "fr": "pays"}),
            ent("Q3624078", {"en": "sovereign state"})], schema=ENTITIES),
        "properties": pa.Table.from_pylist([
            {"pid": "P36", "labels": [("en", "capital"), ("fr", "capitale"), ("zh", "首都")],
             "datatype": "wikibase-item"},
            {"pid": "P31", "labels": [("en", "instance of"), ("fr", "nature de l'élément")],
             "datatype": "wikibase-item"}], schema=PROPERTIES),
        "triples": pa.Table.from_pylist([
            {"subject": "Q17", "property": "P36", "object": "Q1490", "rank": "normal"},
            {"subject": "Q17", "property": "P31", "object": "Q6256", "rank": "normal"},
            {"subject": "Q17", "property": "P31", "object": "Q3624078", "rank": "preferred"},
            {"subject": "Q17", "property": "P31", "object": "Q5", "rank": "deprecated"},
            {"subject": "Q1490", "property": "P17", "object": "Q17", "rank": "normal"}], schema=TRIPLES)}
    for name, t in tables.items():
        (d / name).mkdir(parents=True)
        pq.write_table(t, d / name / "part-00000.parquet")
    return d


def test_kg_probes_and_template_file(tmp_path, capsys):
    kg = _tiny_kg(tmp_path / "kg")
    facts, templates, skipped = probe.kg_probes(kg, ["en", "fr", "zh"])
    assert templates == {"P31": {"en": "[X] instance of [Y] .", "fr": "[X] nature de l'élément [Y] ."},
                         "P36": {"en": "[X] capital [Y] .", "fr": "[X] capitale [Y] .", "zh": "[X]首都[Y]。"}}
    got = {(f.relation, f.lang): (f.subject, f.gold) for f in facts}
    assert got == {("P36", "en"): ("Japan", ("Tokyo", "Tokyo Metropolis")), ("P36", "fr"): ("Japon", ("Tokyo",)),
                   ("P36", "zh"): ("日本", ("东京",)),
                   ("P31", "en"): ("Japan", ("country", "sovereign state")),      # deprecated Q5 left out
                   ("P31", "fr"): ("Japon", ("pays",))}
    assert dict(skipped["facts"]["zh"]) == {"no template for the property": 2}   # P31, P17 have no zh label
    assert dict(skipped["facts"]["en"]) == {"no template for the property": 1}   # P17 is not in properties

    # a template file overrides; one without [Y] is reported (property and language) and not probed
    tf = tmp_path / "templates.json"
    tf.write_text(json.dumps({"P36": {"en": "[X] has the capital [Y] .", "fr": "La capitale de [X] est ."},
                              "P17": {"en": "[X] lies in [Y] ."}}), encoding="utf-8")
    facts, templates, skipped = probe.kg_probes(kg, ["en", "fr"], tf)
    assert templates["P36"] == {"en": "[X] has the capital [Y] ."} and templates["P17"] == {"en": "[X] lies in [Y] ."}
    assert [(t["relation"], t["lang"], t["reason"]) for t in skipped["templates"]] == \
        [("P36", "fr", "no [Y] (template file)")]
    assert ("P36", "fr") not in {(f.relation, f.lang) for f in facts}
    assert ("P17", "en") in {(f.relation, f.lang) for f in facts}                 # Tokyo lies in Japan
    err = capsys.readouterr().err
    assert "P36 in fr" in err and "no [Y]" in err
    # nothing valid at all: an error; bad files too
    with pytest.raises(EvalError, match="no valid template"):
        probe.kg_probes(kg, ["de"], {"P36": {"de": "[X] Hauptstadt"}})
    (tmp_path / "bad.json").write_text("{nope", encoding="utf-8")
    with pytest.raises(EvalError, match="not JSON"):
        probe.kg_probes(kg, ["en"], tmp_path / "bad.json")
    with pytest.raises(EvalError, match="no entities table"):
        probe.kg_probes(tmp_path, ["en"])
    # default languages: those with a property label
    assert list(probe.kg_probes(kg).skipped["facts"]) == ["en", "fr", "zh"]


def test_teacher_without_mlm_head_and_model_without_tokenizer(tmp_path, capsys):
    from trainer.teacher import default_teacher_dir

    teacher = default_teacher_dir()
    kg = _tiny_kg(tmp_path / "kg")
    assert probe.main([teacher, "--source", "kg", "--kg", str(kg), "--langs", "en"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("probe: probing needs a masked-LM head; ")
    assert f"{teacher} has none (missing: cls.predictions" in err[0]
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(f"{teacher}/{name}", bare / name)
    assert probe.main([str(bare), "--source", "kg", "--kg", str(kg)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("probe: ") and "has no tokenizer" in err and err.count("\n") == 1
    assert probe.main([teacher, "--source", "kg"]) == 2
    assert "needs --kg DIR" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ real data


def test_real_xfactr_data():
    data = require(XFACTR)
    rels = probe.xfactr_relations(data)
    assert len(rels) == 31 and "P19" in rels and "P37" not in rels            # P37: a template but no facts
    for rel in rels:
        subs = probe.read_facts(data, rel)
        assert 0 < len(subs) <= 1000 and all(objs for _, _, objs in subs)
    langs = probe.xfactr_languages(data)
    assert langs == ["en", "es", "fr", "hu", "ja", "nl", "ru", "sw", "zh"]
    fr = probe.read_aliases(data / "alias" / "mTRExf" / "fr.txt.gz")
    assert len(fr) > 40_000 and "Japon" in fr["Q17"]
    facts, templates, skipped = probe.xfactr_probes(data, ["en", "fr"], facts_per_relation=5)
    n = Counter(f.lang for f in facts)
    assert n["en"] == 31 * 5 and 0 < n["fr"] <= 31 * 5                     # en never lacks a form
    assert not skipped["templates"] and set(templates) == set(rels)
    assert n["fr"] + sum(skipped["facts"]["fr"].values()) == 31 * 5
    p19 = next(f for f in facts if f.lang == "en" and f.relation == "P19")
    assert p19.subject == "Arab" and "Israel" in p19.gold


def test_kg_probes_from_the_sample_pipeline(demo_shards):
    kg = demo_shards["shards"].parent / "kg"                # jobs/sample_pipeline.py: base/kg beside base/shards
    facts, templates, skipped = probe.kg_probes(kg, ["en", "fr", "zh", "ja"])
    n = Counter(f.lang for f in facts)
    assert n["en"] > 50 and n["fr"] > 50 and n["zh"] > 50 and n["ja"] == 0       # no ja property labels
    assert skipped["facts"]["ja"]["no template for the property"] == n["en"] + sum(skipped["facts"]["en"].values())
    got = {(f.relation, f.lang, f.subject): f.gold for f in facts if f.sub_id == "Q17"}
    assert "Tokyo" in got[("P36", "en", "Japan")] and got[("P36", "zh", "日本")] == ("东京",)
    assert templates["P36"]["zh"] == "[X]首都[Y]。" and templates["P36"]["fr"] == "[X] capitale [Y] ."


# ------------------------------------------------------------------------------------------ end to end


def test_end_to_end_on_a_trained_export(tiny_export, demo_shards, tmp_path, capsys):
    data = require(XFACTR)
    model = tiny_export

    lm = probe.MaskedLM(str(model))
    assert lm.lang_id("fr") == json.loads((model / "xlkit_langs.json").read_text())["langs"].index("fr")
    assert lm.lang_id("sw") is None                         # not trained on: the default row
    # the head on the mask positions only gives the full forward's logits
    texts = ["Paris est née <mask> .", "Tokyo is the capital of <mask><mask><mask> ."]
    enc = lm.tokenizer(texts, padding=True, return_tensors="pt")
    ids = enc["input_ids"]
    with torch.no_grad():
        full = lm.model(input_ids=ids, attention_mask=enc["attention_mask"],
                        token_type_ids=torch.full_like(ids, lm.lang_id("en"))).logits
    got = lm.mask_logits(texts, "en")
    assert [g.shape[0] for g in got] == [1, 3]
    torch.testing.assert_close(torch.cat(got), full[ids == lm.mask_id], rtol=1e-4, atol=1e-4)

    out = tmp_path / "x.json"
    assert probe.main([str(model), "--langs", "en,fr,ja", "--relations", "P19,P17,P27,P30", "--facts-per-relation",
                       "8", "--max-masks", "3", "--data", str(data), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "transfer gap" in printed and "en:" in printed
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["source"] == "xfactr" and res["langs"] == ["en", "fr", "ja"] and res["max_masks"] == 3
    assert res["accuracy"]["en"]["n"] == 4 * 8
    for lang, a in res["accuracy"].items():
        assert 0 < a["n"] <= 32 and 0.0 <= a["acc"] <= 1.0
        assert a["n"] + sum(res["counts"]["skipped_facts"][lang].values()) == 32
        assert set(res["lang_relation"][lang]) <= {"P17", "P19", "P27", "P30"}
        for e in res["examples"][lang]:
            assert 1 <= e["n_masks"] <= 3 and "[Y]" in e["prompt"] and isinstance(e["prediction"], str)
    accs = res["accuracy"]
    assert res["transfer_gap"] == pytest.approx(accs["en"]["acc"] - (accs["fr"]["acc"] + accs["ja"]["acc"]) / 2)
    assert res["average"]["macro"] == pytest.approx(sum(a["acc"] for a in accs.values()) / 3)
    assert sum(r["n"] for r in res["relation"].values()) == sum(a["n"] for a in accs.values())

    kg = demo_shards["kg"]
    res = probe.evaluate(str(model), source="kg", kg_dir=kg, langs=["en", "fr", "zh"], max_masks=2)
    assert res["source"] == "kg" and set(res["accuracy"]) == {"en", "fr", "zh"}
    assert all(a["n"] > 50 and 0.0 <= a["acc"] <= 1.0 for a in res["accuracy"].values())
    others = (res["accuracy"]["fr"]["acc"] + res["accuracy"]["zh"]["acc"]) / 2
    assert res["transfer_gap"] == pytest.approx(res["accuracy"]["en"]["acc"] - others)
