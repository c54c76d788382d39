"""MediaWiki title normalisation and link-target classification."""

from __future__ import annotations

import bz2
import re

import pytest

from conftest import SHARED_DATA, require
from corpus_builder.titles import WIKIPEDIA_LANGS, Namespaces, normalize_title

JA_MINIDUMP = SHARED_DATA / "wikipedia-dbpedia-minidumps" / "ja" / "wiki.xml.bz2"


@pytest.mark.parametrize("raw, expected", [
    ("berlin_wall", "Berlin wall"),
    ("  Berlin   Wall ", "Berlin Wall"),
    ("Berlin#History", "Berlin"),
    ("Berlin &amp; Brandenburg", "Berlin & Brandenburg"),
    ("Berlin&nbsp;Wall", "Berlin Wall"),
    ("A&#95;B&#x43;", "A BC"),
    ("Berlin\u00a0\u2003\u3000Wall", "Berlin Wall"),
    ("Berlin\u200eWall\u200f", "BerlinWall"),
    (":Category:X", "Category:X"),
    ("category: foo", "Category:Foo"),
    ("CATEGORY:foo_bar", "Category:Foo bar"),
    ("image:X.jpg", "File:X.jpg"),
    ("wikipedia talk:foo", "Wikipedia talk:Foo"),
    ("star wars: episode I", "Star wars: episode I"),
    ("A%20B", "A%20B"),
    ("ärger", "Ärger"),
    ("ßtraße", "ßtraße"),
    ("ᾀx", "ᾈx"),
    ("#History", ""),
    ("e\u0301", "É"),
])
def test_normalize_title(raw, expected):
    assert normalize_title(raw) == expected


def test_normalize_without_first_letter_case():
    assert normalize_title("iPod_nano", first_letter_case=False) == "iPod nano"
    assert normalize_title("category:foo", first_letter_case=False) == "Category:foo"


def test_normalize_is_idempotent():
    for raw in ["berlin_wall#x", ":category: foo", "a&amp;amp;b", " ß "]:
        once = normalize_title(raw)
        assert normalize_title(once) == once or "&" in raw


def test_normalize_with_localized_namespaces():
    de = Namespaces("de")
    assert de.normalize("bild:Berlin.jpg") == "Datei:Berlin.jpg"
    assert de.normalize("kategorie: berlin") == "Kategorie:Berlin"
    assert de.normalize("File:Berlin.jpg") == "Datei:Berlin.jpg"
    assert Namespaces("tr").normalize("istanbul") == "İstanbul"
    assert Namespaces("en").normalize("istanbul") == "Istanbul"


@pytest.mark.parametrize("lang, target, expected", [
    ("en", "Berlin", ("main", "Berlin")),
    ("en", "berlin_wall#History", ("main", "Berlin wall")),
    ("en", "#History", ("main", "")),
    ("en", "File:X.jpg", ("file", None)),
    ("en", " image : X.jpg", ("file", None)),
    ("en", "Category:Cities", ("category", None)),
    ("en", "category_talk:Cities", ("namespace", "Category talk")),
    ("en", ":Category:Cities", ("namespace", "Category")),
    ("en", ":File:X.jpg", ("namespace", "File")),
    ("en", "Media:X.ogg", ("namespace", "Media")),
    ("en", "Help:Contents", ("namespace", "Help")),
    ("en", "WP:NPOV", ("namespace", "Wikipedia")),
    ("en", "Template:Infobox", ("namespace", "Template")),
    ("en", "special:Search", ("namespace", "Special")),
    ("en", "Module:Foo", ("namespace", "Module")),
    ("en", "Draft:Foo", ("namespace", "Draft")),
    ("en", "de:Berlin", ("interlanguage", "de")),
    ("en", ":de:Berlin", ("interlanguage", "de")),
    ("en", "ZH-YUE:柏林", ("interlanguage", "zh-yue")),
    ("en", "simple:Berlin", ("interlanguage", "simple")),
    ("en", "en:Berlin", ("main", "Berlin")),
    ("en", "wikt:anarchism", ("interwiki", "wikt")),
    ("en", "Commons:Category:Berlin", ("interwiki", "commons")),
    ("en", "d:Q64", ("interwiki", "d")),
    ("en", "Star Wars: Episode I", ("main", "Star Wars: Episode I")),
    ("en", "Bild:Berlin.jpg", ("file", None)),            # unknown prefix, media extension
    ("en", "Kategorie:Berlin", ("main", "Kategorie:Berlin")),
    ("de", "Bild:Berlin.jpg", ("file", None)),
    ("de", "datei:Berlin.jpg", ("file", None)),
    ("de", "Kategorie:Berlin", ("category", None)),
    ("de", "Vorlage:Infobox", ("namespace", "Vorlage")),
    ("de", "en:Berlin", ("interlanguage", "en")),
    ("ja", "ファイル:Berlin.jpg", ("file", None)),
    ("ja", "画像:Berlin.jpg", ("file", None)),
    ("ja", "File:Berlin.jpg", ("file", None)),
    ("ja", "カテゴリ:ベルリン", ("category", None)),
    ("ja", "Category:ベルリン", ("category", None)),
    ("ja", "ドイツ", ("main", "ドイツ")),
    ("ru", "Файл:Berlin.jpg", ("file", None)),
    ("ru", "Изображение:Berlin.jpg", ("file", None)),
    ("ru", "Категория:Берлин", ("category", None)),
    ("ru", "к:Берлин", ("category", None)),
    ("bn", "চিত্র:Berlin.jpg", ("file", None)),
    ("bn", "ফাইল:Berlin.jpg", ("file", None)),
    ("bn", "বিষয়শ্রেণী:বার্লিন", ("category", None)),
    ("bn", "\u09ac\u09bf\u09b7\u09df\u09b6\u09cd\u09b0\u09c7\u09a3\u09c0:X", ("category", None)),  # precomposed য় (U+09DF)
    ("zh", "分類:柏林", ("category", None)),
    ("zh", "文件:Berlin.jpg", ("file", None)),
    ("vi", "Tập_tin:Berlin.jpg", ("file", None)),
    ("vi", "Thể loại:Berlin", ("category", None)),
    ("ar", "تصنيف:برلين", ("category", None)),
    ("ko", "분류:베를린", ("category", None)),
])
def test_classify(lang, target, expected):
    assert Namespaces(lang).classify(target) == expected


def _siteinfo(path) -> dict[int, str]:
    """The namespaces of a dump's <siteinfo> header, read with a regex."""
    with bz2.open(require(path), "rt", encoding="utf-8") as f:
        head = f.read(20000)
    return {int(k): v for k, v in re.findall(r'<namespace key="(-?\d+)"[^>]*>([^<]+)</namespace>', head)}


def test_english_header_quirk_of_the_minidumps():
    """The ja minidump's header is enwiki's: the built-in Japanese names must still work."""
    header = _siteinfo(JA_MINIDUMP)
    assert header[6] == "File" and header[14] == "Category" and header[4] == "Wikipedia"
    ja = Namespaces("ja", header)
    assert ja.classify("ファイル:Berlin Montage 4.jpg") == ("file", None)
    assert ja.classify("File:Berlin Montage 4.jpg") == ("file", None)
    assert ja.classify("カテゴリ:ベルリン") == ("category", None)
    assert ja.normalize("file:x.jpg") == "ファイル:X.jpg"      # the local name, not the header's
    assert ja.normalize("category:x") == "カテゴリ:X"
    assert ja.classify("Portal:ドイツ") == ("namespace", "Portal")


def test_localized_header_wins():
    fr = Namespaces("fr", {4: "Wikipédia", 6: "Fichier", 14: "Catégorie", 100: "Portail"},
                    {"WP": 4})
    assert fr.normalize("wp:accueil") == "Wikipédia:Accueil"
    assert fr.classify("fichier:X.jpg") == ("file", None)
    assert fr.classify("Image:X.jpg") == ("file", None)
    assert fr.classify("catégorie:Paris") == ("category", None)
    custom = Namespaces("xx", {6: "Lêer", 14: "Kategorie", 104: "Anhang"})
    assert custom.classify("lêer:x.png") == ("file", None)
    assert custom.classify("Anhang:Liste") == ("namespace", "Anhang")
    assert custom.normalize("anhang:liste") == "Anhang:Liste"


def test_language_code_table():
    assert len(WIKIPEDIA_LANGS) >= 330
    for code in ("en", "de", "ja", "zh", "bn", "zh-min-nan", "be-tarask", "simple", "yue", "nb"):
        assert code in WIKIPEDIA_LANGS
    assert "wikt" not in WIKIPEDIA_LANGS


def test_classify_remembers_targets_and_forgets_them_at_its_limit(monkeypatch):
    import corpus_builder.titles as titles

    monkeypatch.setattr(titles, "CLASSIFY_CACHE", 3)
    ns = Namespaces("de")
    targets = ["Datei:x.jpg", "berlin", ":Kategorie:Y", "en:Berlin", "de:Berlin", "Berlin#Geschichte", "berlin"]
    fresh = [Namespaces("de")._classify(t) for t in targets]
    assert [ns.classify(t) for t in targets] == fresh
    assert [ns.classify(t) for t in reversed(targets)] == fresh[::-1]
    assert len(ns._classified) <= 3
