"""One split of a Wikipedia dump without Spark: conversion, quarantine of slow or broken pages."""

from __future__ import annotations

import time

import pyarrow.parquet as pq

from conftest import ROOT
from corpus_builder import extract
from corpus_builder.xmldump import RawPage, inspect_dump, plan_xml_splits

SAMPLE = ROOT / "samples" / "wikipedia" / "dewiki-sample.xml.bz2"


def run_split(tmp_path, path=SAMPLE, lang=None, **kw):
    info = inspect_dump(str(path), path.stat().st_size, lang)
    (split,) = plan_xml_splits([info], 1 << 30)
    summary = extract.process_split(split, {0: info.namespaces}, {0: info.case}, str(tmp_path), **kw)
    return summary, info


def test_sample_split_tables(tmp_path):
    summary, info = run_split(tmp_path)
    assert info.lang == "de" and info.lang_source == "dbname"
    c = summary["counters"]
    assert c["pages.de"] == 11 and c["redirects.de"] == 2 and c["skipped.namespace_14"] == 1
    sents = pq.read_table(tmp_path / "sentences").to_pylist()
    mentions = pq.read_table(tmp_path / "_mentions").to_pylist()
    by_key = {(s["page_id"], s["sentence_id"]): s["text"] for s in sents}
    for m in mentions:
        assert by_key[(m["page_id"], m["sentence_id"])][m["start"]:m["end"]] == m["surface"]
    trail = [m for m in mentions if m["surface"] == "Berliner"]
    assert trail and trail[0]["target_title"] == "Berlin"  # [[Berlin]]er: the link trail joins the anchor
    redirects = pq.read_table(tmp_path / "_redirects").to_pylist()
    assert {"lang": "de", "from_title": "BRD", "to_title": "Deutschland"} in redirects


def test_slow_page_is_rejected_and_the_split_goes_on(tmp_path, monkeypatch):
    real = extract.convert_page

    def slow_on_berlin(page, lang, namespaces):
        if page.title == "Berlin":
            time.sleep(60)  # interrupted by the 0.3 s page limit
        return real(page, lang, namespaces)

    monkeypatch.setattr(extract, "convert_page", slow_on_berlin)
    t0 = time.perf_counter()
    summary, _ = run_split(tmp_path, page_seconds=0.3)
    assert time.perf_counter() - t0 < 30  # far below the 60 s sleep: the limit fired
    assert summary["counters"]["rejects.parse_timeout"] == 1
    assert summary["counters"]["pages.de"] == 10
    (rej,) = pq.read_table(tmp_path / "_rejects_local").to_pylist()
    assert rej["reason"] == "parse_timeout" and rej["title"] == "Berlin" and len(rej["excerpt"]) <= 200


def test_parser_error_is_quarantined(tmp_path, monkeypatch):
    real = extract.convert_page

    def broken_on_paris(page, lang, namespaces):
        if page.title == "Paris":
            raise RecursionError("maximum recursion depth exceeded")
        return real(page, lang, namespaces)

    monkeypatch.setattr(extract, "convert_page", broken_on_paris)
    summary, _ = run_split(tmp_path)
    assert summary["counters"]["rejects.parser_error"] == 1
    (rej,) = pq.read_table(tmp_path / "_rejects_local").to_pylist()
    assert rej["title"] == "Paris" and rej["excerpt"].startswith("[RecursionError: maximum recursion")


def test_redirect_without_element_is_found_by_its_magic_word():
    page = RawPage(0, "BRD", 0, 1, None, "#WEITERLEITUNG [[Deutschland]]")
    assert extract.redirect_target(page) == "Deutschland"
    assert extract.redirect_target(RawPage(0, "X", 0, 1, None, "#転送 [[ドイツ]]")) == "ドイツ"
    assert extract.redirect_target(RawPage(0, "X", 0, 1, None, "Berlin ist ...")) is None


def test_records_follow_their_schemas():
    """A converted page's row and columns are its tables' columns, in order (the staging writers
    rely on it), and a redirect's row is its table's."""
    import dataclasses

    import pyarrow as pa

    from corpus_builder.records import Redirect
    from corpus_builder.tables import SENTENCES, STAGE_MENTIONS, STAGE_PAGES, STAGE_REDIRECTS
    from corpus_builder.titles import Namespaces

    assert [f.name for f in dataclasses.fields(Redirect)] == STAGE_REDIRECTS.names
    assert Redirect("de", "A", "B").row() == ("de", "A", "B")
    page = RawPage(0, "berlin", 0, 7, None, "'''Berlin''' is a [[city]]. It lies on the [[Spree (river)|Spree]].")
    conv = extract.convert_page(page, "en", Namespaces("en"))
    pages = pa.RecordBatch.from_pylist([dict(zip(STAGE_PAGES.names, conv.page, strict=True))], STAGE_PAGES)
    text = "Berlin is a city. It lies on the Spree."
    assert pages.to_pylist() == [{"lang": "en", "page_id": 7, "title": "Berlin", "text": text, "lead": text}]
    sentences = pa.RecordBatch.from_arrays(conv.sentence_columns(), schema=SENTENCES)
    assert sentences.to_pylist() == [
        {"lang": "en", "page_id": 7, "sentence_id": 0, "text": "Berlin is a city."},
        {"lang": "en", "page_id": 7, "sentence_id": 1, "text": "It lies on the Spree."}]
    mentions = pa.RecordBatch.from_arrays(conv.mention_columns(), schema=STAGE_MENTIONS)
    assert mentions.to_pylist() == [
        {"lang": "en", "page_id": 7, "sentence_id": 0, "start": 12, "end": 16, "surface": "city",
         "target_title": "City", "unresolved_reason": None},
        {"lang": "en", "page_id": 7, "sentence_id": 1, "start": 15, "end": 20, "surface": "Spree",
         "target_title": "Spree (river)", "unresolved_reason": None}]
    assert conv.dropped == 0
