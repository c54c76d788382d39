"""corpus_builder.linkscan.wikilinks finds exactly the links wikitextparser.parse(...).wikilinks finds."""

from __future__ import annotations

import os

import wikitextparser as wtp
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SHARED_DATA, require
from corpus_builder import wikitext
from corpus_builder.linkscan import wikilinks
from corpus_builder.xmldump import SplitPages, inspect_dump, plan_xml_splits
from xlkit_core.fsio import open_binary
from xlkit_core.parts import Reject


def reference(text: str) -> list[tuple[int, int, str, str | None]]:
    return [(*w.span, w.target, w.text) for w in wtp.parse(text).wikilinks]


def preprocessed(text: str) -> str:
    """What the converter hands to the link scan."""
    return wikitext._remove_tables(wikitext._preprocess(wikitext._RESERVED.sub("", text), []))


def test_examples():
    text = ("[[a]] [[b|c]] [[File:x.jpg|thumb|a [[d|e]] in [[f]]]] [[g|[h]]] [[[i]]] "
            "<span title='[[j]]'>[[k]]</span> {{{p|[[l]]}}} [[m|n|o]] [[ http://x ]] [[q#r|]]")
    assert wikilinks(text) == reference(text)
    assert [t for _, _, t, _ in wikilinks(text)][:3] == ["a", "b", "File:x.jpg"]
    assert wikilinks("no links here") == [] == reference("no links here")


# Every piece of syntax the patterns of wikitextparser look at, and the bytes it writes itself.
TOKENS = [
    "[[", "]]", "[", "]", "|", "{{", "}}", "{{{", "}}}", "{", "}", "<", ">", "<span>", "</span>",
    "<span title='[[x]]'>", "<b>", "</b", "<br/>", "<ref>", "</ref>", "<poem>", "</poem>", "<gallery>",
    "</gallery>", "<math>", "</math>", "<nowiki>", "</nowiki>", "<!--", "-->", "\0", "\n", " ", "#",
    ":", "=", "'", "File:", "Category:", "de:", "http://a", "//b", "mailto:c", "#if:", "x", "Berlin",
    "ö", "東京", "\x01", "\x02", "\x03", "{{#if:a|[[b]]}}", "[[a|{{b}}]]", "{{a|[[b|c]]}}",
]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=3), max_size=40).map("".join))
def test_token_soups(text):
    assert wikilinks(text) == reference(text)


def _dumps() -> list:
    roots = [SHARED_DATA / name for name in ("wikipedia-gensim-testdata", "wikipedia-wikipedia2vec-testdata",
                                             "wikipedia-dbpedia-minidumps", "wikipedia-xztextfilter-2023")]
    for root in roots:
        require(root)
    return sorted(p for root in roots for p in root.rglob("*.bz2") if ".xml" in p.name or "articles" in p.name)


def test_every_page_of_the_shared_wikipedia_samples():
    """Raw wikitext and what the converter scans, for every page of every sample dump."""
    compared = 0
    for path in _dumps():
        lang = path.parent.name if path.parent.parent.name == "wikipedia-dbpedia-minidumps" else None
        if lang in ("commons", "wikidata"):
            continue        # not Wikipedias: the job refuses them
        dump = inspect_dump(str(path), os.path.getsize(path), lang)
        for split in plan_xml_splits([dump], 1 << 40):
            with open_binary(str(path)) as f:
                for page in SplitPages(f, split):
                    if isinstance(page, Reject):
                        continue
                    for text in (page.text, preprocessed(page.text)):
                        assert wikilinks(text) == reference(text), (str(path), page.title)
                        compared += 1
    assert compared > 5000
