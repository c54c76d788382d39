"""The corpus job end to end on the real Wikipedia samples, with facts read by hand from the dumps."""

from __future__ import annotations

import bz2
import hashlib
import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import ROOT, SHARED_DATA, require
from jobs import build_corpus, build_kg

pytestmark = [pytest.mark.spark, pytest.mark.slow]

SAMPLES = ROOT / "samples" / "wikipedia"
DUMPS = {  # lang -> (path relative to shared/data, paired explicitly?)
    "en": ("wikipedia-gensim-testdata/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2", False),
    "ja": ("wikipedia-xztextfilter-2023/jawiki-20230501-pages-articles-multistream.head.xml.bz2", False),
    "bn": ("wikipedia-xztextfilter-2023/bnwiki-20230501-pages-articles-multistream.head.xml.bz2", False),
    "bg": ("wikipedia-gensim-testdata/bgwiki-latest-pages-articles-shortened.xml.bz2", False),  # UTF-16
    "de": ("wikipedia-dbpedia-minidumps/de/wiki.xml.bz2", True),   # English header: the pair must win
    "zh": ("wikipedia-dbpedia-minidumps/zh/wiki.xml.bz2", True),
}
# main-namespace articles (ns 0, not redirects), counted by hand in each file
ARTICLES = {"en": 106, "ja": 189, "bn": 380, "bg": 1, "de": 2, "zh": 1}


def table(out: Path, name: str):
    return pq.read_table(out / name)


@pytest.fixture(scope="module")
def real_kg(spark, tmp_path_factory):
    dump = require(SHARED_DATA / "wikidata-wikibrain-testdump" / "wikidata-testdump-2014.shared.json.bz2")
    out = tmp_path_factory.mktemp("kg") / "kg"
    assert build_kg.main(["--input", str(dump), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def real_corpus(real_kg, tmp_path_factory):
    args = []
    for lang, (rel, pair) in DUMPS.items():
        path = require(SHARED_DATA / rel)
        args += ["--wikipedia", f"{lang}={path}" if pair else str(path)]
    out = tmp_path_factory.mktemp("corpus") / "corpus"
    assert build_corpus.main(args + ["--kg", str(real_kg), "--out", str(out), "--split-mb", "0.5"]) == 0
    return out


def test_articles_per_language_and_pairing(real_corpus):
    pages = table(real_corpus, "pages").to_pylist()
    counts = {}
    for p in pages:
        counts[p["lang"]] = counts.get(p["lang"], 0) + 1
    assert counts == ARTICLES
    by_lang = {lang: {p["title"] for p in pages if p["lang"] == lang} for lang in ARTICLES}
    assert by_lang["de"] == {"Arthur Schopenhauer", "Berlin"} and by_lang["zh"] == {"柏林"}
    assert "Anarchism" in by_lang["en"] and "Berlin" not in by_lang["en"]  # the minidumps' enwiki header lost
    m = json.loads((real_corpus / "_manifest.json").read_text())
    sources = {d["lang"]: d["lang_source"] for d in m["inputs"]}
    assert sources == {"en": "dbname", "ja": "dbname", "bn": "dbname", "bg": "dbname", "de": "pair", "zh": "pair"}
    assert {d["lang"]: d["encoding"] for d in m["inputs"]}["bg"] == "utf-16"


def _sentence(out: Path, lang: str, page_id: int, sentence_id: int) -> str:
    t = table(out, "sentences").to_pylist()
    return next(s["text"] for s in t if (s["lang"], s["page_id"], s["sentence_id"]) == (lang, page_id, sentence_id))


def test_redirect_followed_in_real_enwiki(real_corpus):
    # "Affirming the consequent": "...has the general [[argument form|form]]:"; the dump holds
    # the page "Argument form" (id 668) with <redirect title="Logical form" />.
    pages = {p["title"]: p["page_id"] for p in table(real_corpus, "pages").to_pylist() if p["lang"] == "en"}
    pid = pages["Affirming the consequent"]
    ms = [m for m in table(real_corpus, "mentions").to_pylist()
          if m["lang"] == "en" and m["page_id"] == pid and m["surface"] == "form"]
    assert len(ms) == 1
    m = ms[0]
    assert (m["target_title"], m["resolved_title"]) == ("Argument form", "Logical form")
    text = _sentence(real_corpus, "en", pid, m["sentence_id"])
    assert text == "The corresponding argument has the general form:"
    assert (m["start"], m["end"]) == (43, 47) and text[43:47] == "form"
    redirects = {(r["from_title"], r["to_title"]) for r in table(real_corpus, "redirects").to_pylist()}
    assert ("Argument form", "Logical form") in redirects


def test_qid_resolved_in_japanese(real_corpus):
    # jawiki 2023, article 日本語: "なお、漢字の本家である[[中華人民共和国|中国]]においても..." and the
    # 2014 KG has Q148 with the jawiki sitelink 中華人民共和国.
    expected = ("なお、漢字の本家である中国においても同様の基準は存在し、現代漢語常用字表により、「常用字」として2500字、"
                "「次常用字」として1000字が定められている。")
    sents = [s for s in table(real_corpus, "sentences").to_pylist() if s["lang"] == "ja" and s["text"] == expected]
    assert len(sents) == 1
    s = sents[0]
    ms = [m for m in table(real_corpus, "mentions").to_pylist()
          if (m["lang"], m["page_id"], m["sentence_id"]) == ("ja", s["page_id"], s["sentence_id"])]
    zh = next(m for m in ms if m["surface"] == "中国")
    assert (zh["start"], zh["end"], zh["target_title"], zh["qid"]) == (11, 13, "中華人民共和国", "Q148")
    docs = {(d["qid"], d["lang"]) for d in table(real_corpus, "entity_docs").to_pylist()}
    assert ("Q148", "ja") in docs


def test_every_span_matches_its_sentence(real_corpus):
    sents = {(s["lang"], s["page_id"], s["sentence_id"]): s["text"] for s in table(real_corpus, "sentences").to_pylist()}
    mentions = table(real_corpus, "mentions").to_pylist()
    assert len(mentions) > 10_000
    for m in mentions:
        text = sents[(m["lang"], m["page_id"], m["sentence_id"])]
        assert text[m["start"]:m["end"]] == m["surface"]
        assert (m["qid"] is None) == (m["unresolved_reason"] is not None)
    reasons = {m["unresolved_reason"] for m in mentions}
    assert {"red_link", "no_sitelink", "namespace"} <= reasons


def test_knowledge_tables(real_corpus):
    cands = table(real_corpus, "candidates").to_pylist()
    assert [c["rank"] for c in cands] == list(range(1, len(cands) + 1))
    assert all(a["mentions"] >= b["mentions"] for a, b in zip(cands, cands[1:], strict=False))
    cand = {c["qid"] for c in cands}
    mep = table(real_corpus, "mep_examples").to_pylist()
    assert mep and all(e["qid"] in cand and e["text"][e["start"]:e["end"]] == e["surface"] for e in mep)
    docs = {}
    for d in table(real_corpus, "entity_docs").to_pylist():
        docs.setdefault(d["qid"], set()).add(d["lang"])
        assert d["text"] and d["source"] in ("wikipedia", "wikidata")
    oe = table(real_corpus, "oe_examples").to_pylist()
    assert oe
    for e in oe:
        assert e["subject"] in docs and e["object"] in docs and e["lang"] in docs[e["subject"]]
        assert e["relation_label"]
        if e["context"] is not None:
            assert 0 <= e["context_start"] < e["context_end"] <= len(e["context"])


def test_report_and_manifest(real_corpus):
    m = json.loads((real_corpus / "_manifest.json").read_text())
    assert m["tables"]["pages"]["rows"] == sum(ARTICLES.values())
    assert set(m["per_lang"]["links"]) == set(ARTICLES)
    report = (real_corpus / "report" / "report.md").read_text()
    for png in ("volume_per_lang.png", "resolved_share.png", "mentions_rank_frequency.png", "reasons.png"):
        assert f"]({png})" in report
        assert (real_corpus / "report" / png).stat().st_size > 5_000
    assert "| ja |" in report


def _hashes(out: Path) -> dict:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*.parquet"))}


@pytest.fixture(scope="module")
def demo_kg(spark, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "kg"
    assert build_kg.main(["--input", str(ROOT / "samples/wikidata/sample-wikidata.json.bz2"), "--out", str(out)]) == 0
    return out


def sample_args():
    return [a for lang in ("en", "de", "ja") for a in ("--wikipedia", f"{lang}={SAMPLES / f'{lang}wiki-sample.xml.bz2'}")]


def test_embedded_sample_rerun_is_identical(demo_kg, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert build_corpus.main(sample_args() + ["--kg", str(demo_kg), "--out", str(out)]) == 0
    assert _hashes(a) == _hashes(b)
    mentions = table(a, "mentions").to_pylist()
    resolved = {(m["lang"], m["surface"], m["qid"]) for m in mentions}
    assert ("ja", "ドイツ", "Q183") in resolved or any(m["lang"] == "ja" and m["qid"] == "Q183" for m in mentions)
    langs_resolved = {m["lang"] for m in mentions if m["qid"]}
    assert langs_resolved == {"en", "de", "ja"}


def test_cut_xml_keeps_pages_and_says_so(demo_kg, tmp_path, capsys):
    data = bz2.decompress((SAMPLES / "enwiki-sample.xml.bz2").read_bytes())
    last = data.rfind(b"<page>")
    (tmp_path / "enwiki-cut.xml").write_bytes(data[: last + 200])
    out = tmp_path / "out"
    args = ["--wikipedia", str(tmp_path / "enwiki-cut.xml"), "--kg", str(demo_kg), "--out", str(out)]
    assert build_corpus.main(args + ["--max-reject-fraction", "0.5"]) == 0
    err = capsys.readouterr().err
    assert "enwiki-cut.xml ends in the middle of a page" in err
    rejects = table(out, "rejects").to_pylist()
    assert [(r["reason"], r["source"]) for r in rejects] == [("truncated_xml", str(tmp_path / "enwiki-cut.xml"))]
    assert rejects[0]["title"] and data[rejects[0]["offset"]:].startswith(b"<page>")
    assert table(out, "pages").num_rows > 0
    # the default threshold refuses the same input, and nothing is left behind
    out2 = tmp_path / "out2"
    assert build_corpus.main(["--wikipedia", str(tmp_path / "enwiki-cut.xml"), "--kg", str(demo_kg),
                              "--out", str(out2)]) == 1
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "pages were rejected" in last_line and "truncated_xml: 1" in last_line
    assert not out2.exists() and sorted(os.listdir(tmp_path)) == ["enwiki-cut.xml", "out"]


def test_missing_kg_and_unknown_language(tmp_path, capsys):
    dump = SAMPLES / "enwiki-sample.xml.bz2"
    assert build_corpus.main(["--wikipedia", str(dump), "--kg", str(tmp_path / "nokg"), "--out", str(tmp_path / "o")]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("build_corpus: error: KG directory") and "make kg" in line
    anon = tmp_path / "dump.xml"
    anon.write_bytes(b'<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/">\n<siteinfo></siteinfo>\n</mediawiki>\n')
    assert build_corpus.main(["--wikipedia", str(anon), "--kg", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "cannot tell the language" in line and 'WIKIPEDIA="de=' in line


def test_page_order_and_split_size_do_not_change_the_tables(real_kg, tmp_path, capsys):
    """Pass 2 publishes the splits' sentences as they are when the dump is in page-id order, and
    sorts them otherwise: a dump with its pages reversed, cut into other splits, gives the same rows."""
    import re

    src = require(SHARED_DATA / DUMPS["en"][0])
    xml = bz2.decompress(src.read_bytes())
    pages = list(re.finditer(rb"[ \t]*<page>.*?</page>\n?", xml, re.S))
    head, tail = xml[:pages[0].start()], xml[pages[-1].end():]
    (tmp_path / "enwiki-reversed.xml").write_bytes(head + b"".join(m[0] for m in reversed(pages)) + tail)
    a, b = tmp_path / "in-order", tmp_path / "reversed"
    assert build_corpus.main(["--wikipedia", str(src), "--kg", str(real_kg), "--out", str(a)]) == 0
    err = capsys.readouterr().err
    for what in ("sentences (23,600 rows", "pages (106 rows"):
        assert f"wrote {what}, 1 file(s)) from the splits' parts" in err
    assert build_corpus.main(["--wikipedia", str(tmp_path / "enwiki-reversed.xml"), "--kg", str(real_kg),
                              "--out", str(b), "--split-mb", "0.7"]) == 0
    assert "from the splits' parts" not in capsys.readouterr().err
    for name in ("pages", "redirects", "sentences", "mentions", "entity_docs", "candidates", "mep_examples",
                 "oe_examples"):
        ta, tb = table(a, name), table(b, name)
        assert ta.num_rows > 0 and ta.schema == tb.schema and ta.to_pylist() == tb.to_pylist(), name
    ma, mb = (json.loads((d / "_manifest.json").read_text()) for d in (a, b))
    for key in ("tables", "per_lang", "mentions_per_entity"):
        assert ma[key] == mb[key], key


def test_tables_cut_into_many_files_read_back_the_same(real_kg, tmp_path, monkeypatch):
    """At scale a table is several files (one per FILE_BYTES of staged input): with a tiny
    FILE_BYTES the enwiki sample takes those paths (range bounds, per-range parts, joined split
    parts) and every table reads back, in file-name order, as the one-file run."""
    import jobs._sorted

    src = require(SHARED_DATA / DUMPS["en"][0])
    one, many = tmp_path / "one", tmp_path / "many"
    assert build_corpus.main(["--wikipedia", str(src), "--kg", str(real_kg), "--out", str(one),
                              "--split-mb", "0.3"]) == 0
    monkeypatch.setattr(jobs._sorted, "FILE_BYTES", 150_000)
    assert build_corpus.main(["--wikipedia", str(src), "--kg", str(real_kg), "--out", str(many),
                              "--split-mb", "0.3"]) == 0
    cut = []
    for name in ("pages", "redirects", "sentences", "mentions", "entity_docs", "candidates", "mep_examples",
                 "oe_examples", "rejects"):
        files = sorted(p.name for p in (many / name).iterdir())
        assert files == [f"part-{i:05d}.parquet" for i in range(len(files))], name
        if len(files) > 1:
            cut.append(name)
        assert table(many, name).to_pylist() == table(one, name).to_pylist(), name
    assert {"pages", "sentences", "mentions", "mep_examples"} <= set(cut)
