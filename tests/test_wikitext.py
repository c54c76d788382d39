"""wikitext -> plain text with exact link spans: hand-made cases, properties, pinned real pages."""

from __future__ import annotations

import bz2
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import SHARED_DATA, require
from corpus_builder.titles import Namespaces
from corpus_builder.wikitext import Link, PlainPage, wikitext_to_plain

GENSIM_ENWIKI = (SHARED_DATA / "wikipedia-gensim-testdata"
                 / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
W2V_ENWIKI = SHARED_DATA / "wikipedia-wikipedia2vec-testdata" / "enwiki-pages-articles-sample.xml.bz2"
MINIDUMPS = SHARED_DATA / "wikipedia-dbpedia-minidumps"

NS = {lang: Namespaces(lang) for lang in ("en", "de", "ja", "zh")}


def plain(wikitext: str, lang: str = "en") -> PlainPage:
    page = wikitext_to_plain(wikitext, NS[lang])
    assert_invariants(page)
    return page


def links(page: PlainPage) -> list[tuple[int, int, str, str]]:
    return [(lk.start, lk.end, lk.surface, lk.target) for lk in page.links]


def assert_invariants(page: PlainPage) -> None:
    text = page.text
    assert text == text.strip()
    assert "\n\n\n" not in text and "  " not in text
    previous_end = 0
    for lk in page.links:
        assert isinstance(lk, Link)
        assert previous_end <= lk.start < lk.end <= len(text)
        assert text[lk.start:lk.end] == lk.surface != ""
        previous_end = lk.end
    assert page.lead == "" or page.lead in text.split("\n\n")


# --- hand-made cases: exact text and spans ---------------------------------------------------

def test_piped_link_and_bold():
    page = plain("'''Berlin''' is the [[capital city|capital]] of [[Germany]].")
    assert page.text == "Berlin is the capital of Germany."
    assert links(page) == [(14, 21, "capital", "capital city"), (25, 32, "Germany", "Germany")]
    assert page.lead == page.text


def test_nested_templates_and_parser_functions_are_dropped():
    page = plain("A {{outer|x={{inner|[[y]]}}|z}}B [[c]]. {{#if:{{{1|}}}|yes|no}}End")
    assert page.text == "A B c. End"
    assert links(page) == [(4, 5, "c", "c")]


def test_refs_dropped_with_their_content():
    page = plain('Paris.<ref name="a">Cite [[X]] {{cite web|url=u}}</ref><ref name="a" /> Next [[Y]].'
                 "<REF>upper</REF>")
    assert page.text == "Paris. Next Y."
    assert links(page) == [(12, 13, "Y", "Y")]


def test_tables_dropped_including_nested():
    page = plain('Before\n{| class="wikitable"\n|-\n| [[a]] || b\n{|\n| nested\n|}\n|}\nAfter [[z]]')
    assert page.text == "Before\n\nAfter z"
    assert links(page) == [(14, 15, "z", "z")]


def test_files_dropped_with_captions_holding_links():
    page = plain("[[File:X.jpg|thumb|A [[b|c]] d]]Text [[Image:Y.png|left]] more [[de:Datei:Z.jpg]].")
    assert page.text == "Text more."
    assert page.links == []
    # a localized file namespace, and an unknown prefix before a media file name
    assert plain("[[Datei:Berlin.jpg|mini|[[Spree]]]]Berlin", "de").text == "Berlin"
    assert plain("[[Lêer:Berlin.jpg|280px]]Berlyn").text == "Berlyn"


def test_categories_and_interlanguage_links_dropped():
    page = plain("Text [[de:Berlin]] here.\n[[Category:Foo|Bar]]\n[[category: baz]]\n[[fr:Berlin]]")
    assert page.text == "Text here."
    assert page.links == []


def test_colon_links_keep_their_text():
    page = plain("[[:Category:X|x]], [[:Category:Y]] and [[:fr:Paris|Paris]]")
    assert page.text == "x, Category:Y and Paris"
    assert links(page) == [(0, 1, "x", ":Category:X"), (3, 13, "Category:Y", ":Category:Y"),
                           (18, 23, "Paris", ":fr:Paris")]


def test_other_namespaces_and_interwiki_keep_text_and_record_link():
    page = plain("See [[Help:Contents|help]] and [[wikt:anarchism|anarchism]].")
    assert page.text == "See help and anarchism."
    assert links(page) == [(4, 8, "help", "Help:Contents"), (13, 22, "anarchism", "wikt:anarchism")]


def test_targets_are_kept_as_written():
    page = plain("[[berlin_wall|the wall]] and [[Berlin#History|history]] and [[ Spree ]]")
    assert links(page) == [(0, 8, "the wall", "berlin_wall"), (13, 20, "history", "Berlin#History"),
                           (25, 30, "Spree", "Spree")]


def test_comments_removed_and_comment_lines_vanish():
    page = plain("A<!-- x [[y]] -->B\n<!-- own line -->\nC [[d]]<!-- unclosed")
    assert page.text == "AB C d"
    assert links(page) == [(5, 6, "d", "d")]


def test_magic_words_removed():
    page = plain("__NOTOC__\nText __TOC__ here __目次非表示__ and __init__.")
    assert page.text == "Text here and __init__."


def test_link_trails():
    page = plain("[[Berlin]]er and [[bus]]es; [[A]]'s [[Ba]]5 [[東京]]都 [[x]]Ab [[Москва]]ой")
    assert page.text == "Berliner and buses; A's Ba5 東京都 xAb Москваой"
    assert links(page) == [(0, 8, "Berliner", "Berlin"), (13, 18, "buses", "bus"), (20, 21, "A", "A"),
                           (24, 26, "Ba", "Ba"), (28, 30, "東京", "東京"), (32, 33, "x", "x"),
                           (36, 44, "Москваой", "Москва")]


def test_nowiki_kept_literally_and_stops_trails():
    page = plain("<nowiki>[[x]] {{y}} ''z'' &amp;</nowiki> and [[k]]<nowiki/>s")
    assert page.text == "[[x]] {{y}} ''z'' & and ks"
    assert links(page) == [(24, 25, "k", "k")]


def test_external_links_keep_label_only():
    page = plain("See [http://example.com the site] and [https://x.org] or http://bare.com. "
                 "[//proto.rel [[Foo]] site]")
    assert page.text == "See the site and or http://bare.com. Foo site"
    assert links(page) == [(37, 40, "Foo", "Foo")]


def test_bold_italic_markup_removed():
    page = plain("'''Bold''' and ''italic'' and '''''both''''' and ''''four'''' and '''[[x|y]]'''s")
    assert page.text == "Bold and italic and both and 'four' and ys"
    assert links(page) == [(40, 41, "y", "x")]


def test_html_tags_keep_text_but_code_math_pre_go():
    page = plain('a<br/>b <span style="x">c</span> <code>x=1</code> <math>x^2</math> <small>d</small>'
                 "<pre>p</pre> <div>e</div>")
    assert page.text == "a b c d e"


def test_headings_paragraphs_and_lead():
    page = plain("Lead para [[x]].\nSame para.\n\n== Section ==\nBody.\n=== Sub ===\nMore.")
    assert page.text == "Lead para x. Same para.\n\nBody.\n\nMore."
    assert page.lead == "Lead para x. Same para."
    assert links(page) == [(10, 11, "x", "x")]
    assert plain("== A ==\nBody.").lead == ""
    assert plain(":''For other uses, see [[X]].''\nThe lead.\n==A==\nB").lead == "The lead."


def test_lists_are_their_own_paragraph_one_item_per_line():
    page = plain("Intro:\n* one\n* two [[x]]\n# three\n:: indented\n; term\nAfter.")
    assert page.text == "Intro:\n\none\ntwo x\nthree\nindented\nterm\n\nAfter."
    assert links(page) == [(16, 17, "x", "x")]


def test_entities_decoded_and_nbsp_is_a_space():
    page = plain("A&amp;B&nbsp;C &lt;b&gt; &#91;&#91;x&#93;&#93; &eacute; &#x263A; &bogus;")
    assert page.text == "A&B C <b> [[x]] é ☺ &bogus;"
    assert page.links == []


def test_parentheses_emptied_by_templates_are_cleaned():
    page = plain("Foo ({{IPA|x}}) is. Bar ({{IPA|y}}; born 1950) was. Baz (born 1950; {{x}}) too. "
                 "Qux ({{a}}, {{b}}) end. Fr (en allemand : {{lang|de|Berlin}}) ok. "
                 "柏林（{{lang-de|Berlin}}）是 a {{citation needed}}.")
    assert page.text == ("Foo is. Bar (born 1950) was. Baz (born 1950) too. Qux end. "
                         "Fr (en allemand) ok. 柏林是 a.")


def test_language_converter_on_variant_wikis_only():
    page = plain("[[联邦州 (德国)|-{zh-hans:联邦州; zh-hant:邦}-]]之一-{H|zh-cn:A;zh-tw:B}-，-{柏林}-", "zh")
    assert page.text == "联邦州之一，柏林"
    assert links(page) == [(0, 3, "联邦州", "联邦州 (德国)")]


def test_unclosed_markup_is_text():
    page = plain("{{unclosed [[a]] <ref>x [[b|c")
    assert page.text == "{{unclosed a x [[b|c"
    assert links(page) == [(11, 12, "a", "a")]


def test_empty_and_invalid_links():
    page = plain("[[]] [[|x]] [[a|]] [[a<b]] [[x| ]] end")
    assert page.text == "[[]] [[|x]] a [[a<b]] end"
    assert links(page) == [(12, 13, "a", "a")]


def test_private_use_markers_in_input_are_removed():
    page = plain("a\U000F0001b\U00100000c [[d]]&#983041;")
    assert page.text == "abc d"
    assert links(page) == [(4, 5, "d", "d")]


def test_crlf_and_empty_input():
    assert plain("a\r\nb\r\n\r\nc").text == "a b\n\nc"
    assert plain("") == PlainPage("", [], "")
    assert plain("{{only a template}}\n[[Category:X]]") == PlainPage("", [], "")


# --- properties ------------------------------------------------------------------------------

HOSTILE_TOKENS = [
    "[[", "]]", "{{", "}}", "{{{", "}}}", "|", "<ref>", "</ref>", "<ref name=a/>", "<!--", "-->",
    "{|", "|}", "\n{|", "\n|}", "'''", "''", "==", "\n", "\n\n", "[http://a b]", "[", "]", "&amp;",
    "&nbsp;", "&#91;", "<nowiki>", "</nowiki>", "<nowiki/>", "<br>", "<b>", "</b>", "*", "#", ":",
    ";", " ", "File:", "Category:", "de:", "-{", "}-", "__NOTOC__", "(", ")", "（", "）", ",", ";",
    "<math>", "</math>", "<pre>", "&#983040;", "\U000F0000", "\U00100000", "a", "Berlin", "ö",
    "東京", "ベルリン", "برلين", "Москва", "\u00a0", "\u3000", "\t",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(HOSTILE_TOKENS) | st.text(max_size=4), max_size=60).map("".join),
       st.sampled_from(sorted(NS)))
def test_hostile_input_never_raises_and_spans_are_exact(wikitext, lang):
    assert_invariants(wikitext_to_plain(wikitext, NS[lang]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(HOSTILE_TOKENS) | st.text(max_size=4), max_size=60).map("".join))
def test_hostile_input_through_the_regex_fallback(wikitext):
    import corpus_builder.wikitext as wikitext_module

    with mock.patch.object(wikitext_module, "wikilinks", side_effect=ValueError("simulated")):
        assert_invariants(wikitext_to_plain(wikitext, NS["en"]))


WORDS = st.text(alphabet="abcxyzéßБерлин東京ベ", min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(WORDS, st.booleans(), st.booleans()), min_size=1, max_size=30))
def test_links_against_a_naive_reference(items):
    """Plain words and links ``[[target|word]]`` / ``[[word]]`` between spaces: the text is the
    words joined by spaces and each link covers exactly its word."""
    parts, expected, pos = [], [], 0
    for word, is_link, piped in items:
        if is_link:
            target = "T" + word if piped else word
            parts.append(f"[[{target}|{word}]]" if piped else f"[[{word}]]")
            expected.append((pos, pos + len(word), word, target))
        else:
            parts.append(word)
        pos += len(word) + 1
    page = plain(" ".join(parts))
    assert page.text == " ".join(word for word, _, _ in items)
    assert links(page) == expected


# --- real pages ------------------------------------------------------------------------------

def read_page(path: Path, title: str) -> str:
    """The wikitext of one page of a bz2 XML dump, found by title."""
    with bz2.open(require(path)) as f:
        for _, elem in ET.iterparse(f):
            if elem.tag.rpartition("}")[2] == "page":
                found = {child.tag.rpartition("}")[2]: child for child in elem}
                if found["title"].text == title:
                    revision = {c.tag.rpartition("}")[2]: c for c in found["revision"]}
                    return revision["text"].text or ""
                elem.clear()
    raise AssertionError(f"no page {title!r} in {path}")


def test_real_enwiki_anarchism():
    page = plain(read_page(GENSIM_ENWIKI, "Anarchism"))
    assert page.text.startswith("Anarchism is a political philosophy that advocates self-governed "
                                "societies based on voluntary institutions. These are often described "
                                "as stateless societies, although")
    assert page.lead.endswith("including, but not limited to, the state system.")
    assert (15, 35, "political philosophy", "political philosophy") in links(page)
    assert (51, 64, "self-governed", "self-governance") in links(page)
    assert "Etymology and terminology" not in page.text          # a heading
    assert "Encyclopedia of Philosophy" not in page.text          # inside a <ref>
    assert "{{" not in page.text and "[[" not in page.text and "<ref" not in page.text


def test_real_enwiki_computer_accessibility_lists_and_files():
    page = plain(read_page(W2V_ENWIKI, "Computer accessibility"))
    assert page.lead.startswith("In human–computer interaction, computer accessibility (also known as "
                                "Accessible computing) refers to the accessibility of a computer system "
                                "to all people, regardless of disability or severity of impairment.")
    assert links(page)[:3] == [(3, 29, "human–computer interaction", "human–computer interaction"),
                               (105, 118, "accessibility", "accessibility"),
                               (124, 139, "computer system", "computer system")]
    assert ("These include:\n\nCognitive impairments and learning disabilities, such as dyslexia, ADHD "
            "or autism.\nVisual impairment such as low-vision") in page.text
    assert "desktop mode" not in page.text                        # a file caption


def test_real_zhwiki_berlin():
    page = plain(read_page(MINIDUMPS / "zh" / "wiki.xml.bz2", "柏林"), "zh")
    assert page.lead.startswith("柏林市是德意志聯邦共和國首都，也是德国最大的城市，现有居民约340万人。")
    found = links(page)
    assert (4, 12, "德意志聯邦共和國", "德意志聯邦共和國") in found
    assert (49, 54, "勃兰登堡州", "勃兰登堡") in found
    assert (80, 83, "联邦州", "联邦州 (德国)") in found             # -{zh-hans:联邦州; zh-hant:邦}-


def test_real_jawiki_berlin():
    page = plain(read_page(MINIDUMPS / "ja" / "wiki.xml.bz2", "ベルリン"), "ja")
    assert page.lead == "ベルリン州（ベルリンしゅう）、通称ベルリン（伯林）は、ドイツの首都。16ある連邦州のうちのひとつで、都市州である。"
    found = links(page)
    assert (27, 30, "ドイツ", "ドイツ") in found                    # no trail into "の"
    assert (38, 41, "連邦州", "ドイツの地方行政区分") in found


@pytest.mark.slow
def test_every_page_of_the_real_samples_keeps_the_invariants():
    paths = [GENSIM_ENWIKI, W2V_ENWIKI] + sorted(require(MINIDUMPS).glob("*/wiki.xml.bz2"))
    count = 0
    for path in paths:
        lang = path.parent.name if path.parent.parent == MINIDUMPS else "en"
        namespaces = Namespaces(lang)
        with bz2.open(require(path)) as f:
            for _, elem in ET.iterparse(f):
                tag = elem.tag.rpartition("}")[2]
                if tag == "text":
                    page = wikitext_to_plain(elem.text or "", namespaces)
                    assert_invariants(page)
                    assert "[[" not in page.lead and "{{" not in page.lead
                    count += 1
                elif tag == "page":
                    elem.clear()
    assert count > 300


def test_regex_fallback_when_wikitextparser_raises(monkeypatch):
    import corpus_builder.wikitext as wikitext

    def broken(_text):
        raise ValueError("simulated scanner failure")

    monkeypatch.setattr(wikitext, "wikilinks", broken)
    page = plain("'''A''' [[b|c]]s and [[File:x.jpg|[[d]]]] [[Category:Y]] [[e]].")
    assert page.text == "A cs and e."
    assert links(page) == [(2, 4, "cs", "b"), (9, 10, "e", "e")]


def test_links_beyond_the_per_page_limit_keep_their_text(monkeypatch):
    import corpus_builder.wikitext as wikitext

    monkeypatch.setattr(wikitext, "_MAX_LINKS", 2)
    page = plain("[[a]] [[b]] [[c]] [[d]]")
    assert page.text == "a b c d"
    assert links(page) == [(0, 1, "a", "a"), (2, 3, "b", "b")]


_WS = re.compile(r"\s{2,}|[^\S ]")      # the whitespace collapse _clean_line did with a regex


def _clean_line_reference(line: str) -> str:
    """_clean_line as it was before its cheap tests: every substitution runs (link markers are
    tidied on a line with a closing one, parentheses on a line with an opening one, as always)."""
    import corpus_builder.wikitext as w

    line = w._ENTITY.sub(w._decode_entity, line)
    line = _WS.sub(" ", line.replace(w._BLOCK, ""))
    if w._CLOSE in line:
        line = w._SPACE_AFTER_OPEN.sub(r" \1", line.replace(" " + w._CLOSE, w._CLOSE + " "))
        line = w._EMPTY_LINK.sub("", line)
    if "(" in line or "（" in line:
        line = w._PAREN_RIGHT.sub("", w._PAREN_LEFT.sub(r"\1", w._EMPTY_PARENS.sub("", line)))
    return w._SPACES.sub(" ", w._SPACE_PUNCT.sub("", line)).strip()


LINE_TOKENS = ["(", ")", "（", "）", " ", "  ", ",", ";", ":", "，", "；", "：", "、", ".", "。", "！", "」",
               "\t", "\u00a0", "\u3000", "\x1c", "\n", "&amp;", "&nbsp;", "a", "Ö", "東", "_", "1",
               "\U000F0000", "\U000F0001", "\U00100000", "\U00100001"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(LINE_TOKENS) | st.text(max_size=2), max_size=30).map("".join))
@example("word .")
@example("a , b")
@example("東 。")
@example("( ,a)")
@example("（、x）")
@example("(a ;)")
@example("x\U000F0000 y\U00100000 z")
@example("\U000F0000\U00100000")
@example(" a\u3000\tb\x1c ")
def test_clean_line_tests_only_skip_no_ops(line):
    import corpus_builder.wikitext as w

    assert w._clean_line(line, []) == _clean_line_reference(line)
    assert w._collapse_whitespace(line) == _WS.sub(" ", line)
