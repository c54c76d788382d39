"""Reading MediaWiki XML dumps: languages, codecs, encodings, splits, truncation."""

from __future__ import annotations

import bz2
from collections import Counter

import pytest

from conftest import SHARED_DATA, require
from corpus_builder.xmldump import RawPage, SplitPages, inspect_dump, plan_xml_splits
from xlkit_core.errors import InputError
from xlkit_core.parts import Reject

XZ = SHARED_DATA / "wikipedia-xztextfilter-2023"
GENSIM = SHARED_DATA / "wikipedia-gensim-testdata"
MINI = SHARED_DATA / "wikipedia-dbpedia-minidumps"
W2V = SHARED_DATA / "wikipedia-wikipedia2vec-testdata"


def read_all(path, lang=None, split_bytes=1 << 30):
    info = inspect_dump(str(path), path.stat().st_size, lang)
    pages, rejects, truncated = [], [], False
    for split in plan_xml_splits([info], split_bytes):
        with open(path, "rb") as f:
            it = SplitPages(f, split)
            for rec in it:
                (pages if isinstance(rec, RawPage) else rejects).append(rec)
            truncated |= it.truncated
    return info, pages, rejects, truncated


# main-namespace pages and redirect pages per file, counted by hand with grep '<ns>0</ns>' / '<redirect'
@pytest.mark.parametrize("rel, lang, ns0, redirects", [
    ("wikipedia-xztextfilter-2023/bnwiki-20230501-pages-articles-multistream.head.xml.bz2", "bn", 449, 76),
    ("wikipedia-xztextfilter-2023/jawiki-20230501-pages-articles-multistream.head.xml.bz2", "ja", 204, 27),
    ("wikipedia-xztextfilter-2023/ukwiki-20230501-pages-articles-multistream.head.xml.bz2", "uk", 525, 16),
    ("wikipedia-xztextfilter-2023/viwiki-20230501-pages-articles-multistream.head.xml.bz2", "vi", 360, 154),
    ("wikipedia-gensim-testdata/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2", "en", 205, 100),
    ("wikipedia-gensim-testdata/enwiki-table-markup.xml.bz2", "en", 5, 0),
    ("wikipedia-wikipedia2vec-testdata/enwiki-pages-articles-sample.xml.bz2", "en", 3, 1),
])
def test_page_counts_and_language(rel, lang, ns0, redirects):
    path = require(SHARED_DATA / rel)
    for split_bytes in (1 << 30, 200_000):
        info, pages, rejects, truncated = read_all(path, split_bytes=split_bytes)
        assert info.lang == lang and not rejects and not truncated
        assert sum(p.ns == 0 for p in pages) == ns0
        assert sum(p.redirect is not None for p in pages) == redirects
        assert len({p.page_id for p in pages}) == len(pages)


def test_explicit_pair_beats_the_english_header():
    path = require(MINI / "de" / "wiki.xml.bz2")
    assert inspect_dump(str(path), path.stat().st_size, None).lang == "en"  # the header says enwiki
    info, pages, _, _ = read_all(path, "de")
    assert (info.lang, info.lang_source, info.dbname) == ("de", "pair", "enwiki")
    assert "Berlin" in [p.title for p in pages if p.ns == 0]


def test_utf16_dump_with_bom():
    path = require(GENSIM / "bgwiki-latest-pages-articles-shortened.xml.bz2")
    info, pages, rejects, _ = read_all(path)
    assert (info.encoding, info.lang) == ("utf-16", "bg")
    main = [p for p in pages if p.ns == 0]
    assert len(main) == 1 and not rejects
    assert "България" in main[0].text or "Бълг" in main[0].text


def test_language_from_file_name_and_failure(tmp_path):
    body = b'<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/">\n<siteinfo></siteinfo>\n</mediawiki>\n'
    named = tmp_path / "zh_yuewiki-20240101-pages-articles.xml"
    named.write_bytes(body)
    assert inspect_dump(str(named), len(body), None).lang == "zh-yue"
    anon = tmp_path / "dump.xml"
    anon.write_bytes(body)
    with pytest.raises(InputError, match="cannot tell the language of .*dump.xml"):
        inspect_dump(str(anon), len(body), None)


def _cut_mid_page(tmp_path, codec):
    path = require(W2V / "enwiki-pages-articles-sample.xml.bz2")
    data = bz2.decompress(path.read_bytes())
    last = data.rfind(b"<page>")
    cut = data[: last + (data.find(b"</page>", last) - last) // 2]
    out = tmp_path / f"enwiki-cut.xml{'.bz2' if codec == 'bz2' else ''}"
    out.write_bytes(bz2.compress(cut) if codec == "bz2" else cut)
    return out, data


@pytest.mark.parametrize("codec", ["plain", "bz2"])
def test_xml_cut_mid_page_keeps_earlier_pages(tmp_path, codec):
    path, full = _cut_mid_page(tmp_path, codec)
    _, pages, rejects, truncated = read_all(path)
    assert truncated
    assert len(pages) == full.count(b"<page>") - 1
    assert [(r.reason, r.title) for r in rejects] == [("truncated_xml", pages and rejects[0].title)]
    assert rejects[0].title is not None


def test_bz2_stream_cut_keeps_complete_blocks(tmp_path):
    path = require(XZ / "jawiki-20230501-pages-articles-multistream.head.xml.bz2")
    raw = path.read_bytes()
    cut = tmp_path / "jawiki-cut.xml.bz2"
    cut.write_bytes(raw[: len(raw) // 2])
    _, pages, rejects, truncated = read_all(cut)
    assert truncated and 0 < len(pages) < 238
    assert Counter(r.reason for r in rejects) == {"truncated_xml": 1}


def test_bad_page_xml_is_rejected_with_title(tmp_path):
    doc = (b'<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/">\n<siteinfo><dbname>enwiki</dbname>'
           b'</siteinfo>\n<page><title>Good</title><ns>0</ns><id>1</id><revision><text>ok</text></revision></page>\n'
           b'<page><title>Broken &amp; bad</title><ns>0</ns><id>2</id><revision><text>a < b</text></revision></page>\n'
           b'<page><title>After</title><ns>0</ns><id>3</id><revision><text>fine</text></revision></page>\n'
           b'</mediawiki>\n')
    p = tmp_path / "x.xml"
    p.write_bytes(doc)
    _, pages, rejects, truncated = read_all(p)
    assert [x.title for x in pages] == ["Good", "After"] and not truncated
    assert [(r.reason, r.title) for r in rejects] == [("bad_xml", "Broken & bad")]
    assert isinstance(rejects[0], Reject)
