#!/usr/bin/env python3
"""Check the embedded Wikipedia sample against the Wikidata sample, independently of make_sample.py.

Plain Python 3.11 standard library. Run from anywhere:

    python3 samples/wikipedia/check_sample.py

It reads ``<lang>wiki-sample.xml.bz2`` (and checks that ``<lang>wiki-sample.xml`` holds the same
bytes), parses each file with xml.etree.ElementTree and checks:

* the root, the schema version, ``xml:lang`` and the ``<siteinfo>`` (dbname, namespaces);
* every page: ids unique, the revision fields, ``bytes`` = UTF-8 length of the text, both sha1
  values = MediaWiki's base-36 SHA-1 of the text, namespace prefix of the title = its ``<ns>``;
* every main-namespace article title is a sitelink title of that wiki in
  ``samples/wikidata/sample-wikidata.json`` (except the one article that has no item on purpose);
* every redirect: ``<redirect title>`` is a sample article, the text is ``#<keyword> [[target]]``,
  and the redirect title is not itself a sitelink title;
* every ``[[link]]`` in an article (outside comments and ``<nowiki>``) is one of: a sample article,
  a redirect, a title that the KG has but the sample has not, a same-page anchor, or one of the
  deliberate edge cases (red link, other namespace, category, file, interlanguage link);
* zh and ja prose has no spaces and ends its sentences with 。.

It prints one table row per file and exits 1 on the first class of problem it finds.
"""

from __future__ import annotations

import bz2
import hashlib
import json
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
KG = HERE.parent / "wikidata" / "sample-wikidata.json"
NS = "{http://www.mediawiki.org/xml/export-0.11/}"
LANGS = ("en", "de", "fr", "zh", "ja")

# Deliberate edge cases that are not resolvable titles.
RED_LINKS = {
    "en": {"Nonexistent Sample Article"},
    "de": {"Nicht vorhandener Beispielartikel"},
    "fr": {"Article d'exemple inexistant"},
    "zh": {"不存在的示例条目"},
    "ja": {"存在しない記事の例"},
}
NO_SITELINK_ARTICLES = {"en": {"Sample Street Festival"}}
REDIRECT_KEYWORDS = {"en": ("#REDIRECT",), "de": ("#WEITERLEITUNG", "#REDIRECT"),
                     "fr": ("#REDIRECTION", "#REDIRECT"), "zh": ("#重定向", "#REDIRECT"),
                     "ja": ("#転送", "#REDIRECT")}
# Canonical (English) namespace names and the File alias "Image" work on every wiki.
CANONICAL_NS = {"media": -2, "special": -1, "talk": 1, "user": 2, "project": 4, "file": 6,
                "image": 6, "mediawiki": 8, "template": 10, "help": 12, "category": 14,
                "portal": 100, "module": 828}
INTERWIKI_LANGS = {"en", "de", "fr", "zh", "ja", "ru", "es", "uk", "vi", "bn", "simple"}
LINK_TRAIL = {"en": r"[a-z]+", "de": r"[a-zäöüß]+", "fr": r"[a-zàâçéèêîôûäëïöüù]+"}
EXPECTED_ROOT_ATTRS = {
    "version": "0.11",
    "{http://www.w3.org/XML/1998/namespace}lang": None,  # checked per file
    "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation":
        "http://www.mediawiki.org/xml/export-0.11/ http://www.mediawiki.org/xml/export-0.11.xsd",
}

problems: list[str] = []


def fail(msg: str) -> None:
    problems.append(msg)


def mw_sha1(text: str) -> str:
    n = int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)
    s = ""
    while n:
        n, r = divmod(n, 36)
        s = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + s
    return s.rjust(31, "0")


def load_kg() -> tuple[dict[str, dict[str, str]], set[str]]:
    """site -> {title: qid}; and the set of all item ids."""
    by_site: dict[str, dict[str, str]] = {}
    qids: set[str] = set()
    for line in KG.read_text(encoding="utf-8").splitlines():
        line = line.strip().rstrip(",")
        if line in ("[", "]", ""):
            continue
        ent = json.loads(line)
        qids.add(ent["id"])
        sitelinks = ent.get("sitelinks") or {}
        for site, sl in sitelinks.items():
            by_site.setdefault(site, {})[sl["title"]] = ent["id"]
    return by_site, qids


def norm(title: str) -> str:
    t = re.sub(r"[ _]+", " ", title).strip()
    return t[:1].upper() + t[1:]


def strip_hidden(text: str) -> str:
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return re.sub(r"<nowiki>.*?</nowiki>", "", text, flags=re.S)


def extract_links(text: str) -> list[tuple[str, str]]:
    """All [[...]] in text, innermost first (file captions hold nested links): (target, trail)."""
    out: list[tuple[str, str]] = []
    inner = re.compile(r"\[\[([^\[\]]*)\]\]")
    while True:
        m = inner.search(text)
        if not m:
            return out
        body = m.group(1)
        trail_m = re.match(r"[^\W\d_]+", text[m.end():])
        out.append((body.split("|", 1)[0], trail_m.group(0) if trail_m else ""))
        text = text[: m.start()] + "\x00" + text[m.end():]


def check_file(lang: str, kg: dict[str, dict[str, str]]) -> dict:
    site = f"{lang}wiki"
    raw_bz2 = (HERE / f"{site}-sample.xml.bz2").read_bytes()
    raw = bz2.decompress(raw_bz2)
    if raw != (HERE / f"{site}-sample.xml").read_bytes():
        fail(f"{site}: .xml and .xml.bz2 differ")
    if len(raw) > 25 * 1024:
        fail(f"{site}: {len(raw)} bytes uncompressed (> 25 KiB)")
    root = ET.fromstring(raw)
    if root.tag != f"{NS}mediawiki":
        fail(f"{site}: root is {root.tag}")
    for attr, want in EXPECTED_ROOT_ATTRS.items():
        got = root.get(attr)
        if want is None:
            want = lang
        if got != want:
            fail(f"{site}: root attribute {attr} = {got!r}, want {want!r}")

    si = root.find(f"{NS}siteinfo")
    if si.findtext(f"{NS}dbname") != site:
        fail(f"{site}: dbname {si.findtext(f'{NS}dbname')!r}")
    if not si.findtext(f"{NS}sitename", "").startswith("Wikip"):
        fail(f"{site}: sitename")
    if not si.findtext(f"{NS}base", "").startswith(f"https://{lang}.wikipedia.org/wiki/"):
        fail(f"{site}: base")
    if not si.findtext(f"{NS}generator", "").startswith("MediaWiki "):
        fail(f"{site}: generator")
    if si.findtext(f"{NS}case") != "first-letter":
        fail(f"{site}: case")
    ns_by_key: dict[int, str] = {}
    for n in si.find(f"{NS}namespaces"):
        ns_by_key[int(n.get("key"))] = n.text or ""
    for key in (-2, -1, 0, 1, 2, 4, 6, 10, 12, 14):
        if key not in ns_by_key:
            fail(f"{site}: namespace {key} missing")
    if ns_by_key.get(0) != "":
        fail(f"{site}: namespace 0 must be unnamed")
    ns_prefix = {name.lower(): key for key, name in ns_by_key.items() if name}
    for name, key in CANONICAL_NS.items():
        ns_prefix.setdefault(name, key)

    titles = kg.get(site, {})
    pages = root.findall(f"{NS}page")
    articles: dict[str, str] = {}  # title -> text
    redirects: dict[str, str] = {}  # title -> target title
    other = 0
    page_ids, rev_ids = set(), set()
    for p in pages:
        title = p.findtext(f"{NS}title")
        ns = int(p.findtext(f"{NS}ns"))
        pid = p.findtext(f"{NS}id")
        if pid in page_ids:
            fail(f"{site}: duplicate page id {pid}")
        page_ids.add(pid)
        revs = p.findall(f"{NS}revision")
        if len(revs) != 1:
            fail(f"{site}: {title}: {len(revs)} revisions")
            continue
        rev = revs[0]
        tags = [c.tag.replace(NS, "") for c in rev]
        required = ["id", "parentid", "timestamp", "contributor", "model", "format", "text", "sha1"]
        if [t for t in tags if t in required] != required:
            fail(f"{site}: {title}: revision children {tags}")
        if rev.findtext(f"{NS}id") in rev_ids:
            fail(f"{site}: duplicate revision id")
        rev_ids.add(rev.findtext(f"{NS}id"))
        contrib = rev.find(f"{NS}contributor")
        if contrib.findtext(f"{NS}username") != "SampleBot" or contrib.findtext(f"{NS}id") != "1":
            fail(f"{site}: {title}: contributor")
        if rev.findtext(f"{NS}model") != "wikitext" or rev.findtext(f"{NS}format") != "text/x-wiki":
            fail(f"{site}: {title}: model/format")
        t_el = rev.find(f"{NS}text")
        text = t_el.text or ""
        if int(t_el.get("bytes")) != len(text.encode("utf-8")):
            fail(f"{site}: {title}: bytes={t_el.get('bytes')} but text is {len(text.encode())} bytes")
        if t_el.get("{http://www.w3.org/XML/1998/namespace}space") != "preserve":
            fail(f"{site}: {title}: xml:space")
        sha = mw_sha1(text)
        if rev.findtext(f"{NS}sha1") != sha or t_el.get("sha1") not in (None, sha):
            fail(f"{site}: {title}: sha1")
        # namespace prefix of the title must agree with <ns>
        prefix = title.split(":", 1)[0] if ":" in title else ""
        if ns == 0:
            if prefix and prefix.lower() in ns_prefix:
                fail(f"{site}: {title}: ns 0 but namespace prefix")
        elif prefix != ns_by_key.get(ns):
            fail(f"{site}: {title}: ns {ns} but prefix {prefix!r}")
        red = p.find(f"{NS}redirect")
        if ns != 0:
            other += 1
        elif red is not None:
            redirects[title] = red.get("title")
            first = text.split("\n", 1)[0]
            m = re.match(r"(#\S+)\s*\[\[([^\]|]+)\]\]", first)
            if not m or m.group(1) not in REDIRECT_KEYWORDS[lang]:
                fail(f"{site}: redirect {title}: text {first!r}")
            elif norm(m.group(2).split("#")[0]) != red.get("title"):
                fail(f"{site}: redirect {title}: text target {m.group(2)!r} != {red.get('title')!r}")
            if title in titles:
                fail(f"{site}: redirect title {title!r} is a sitelink title in the KG")
        else:
            articles[title] = text

    # article titles against the KG
    no_sitelink = NO_SITELINK_ARTICLES.get(lang, set())
    for title in articles:
        if title in no_sitelink:
            if title in titles:
                fail(f"{site}: {title} was meant to have no sitelink")
        elif title not in titles:
            fail(f"{site}: article {title!r} is not a {site} sitelink title in the KG")
    if not 8 <= len(articles) <= 12:
        fail(f"{site}: {len(articles)} articles (want 8-12)")
    for title, target in redirects.items():
        if target not in articles:
            fail(f"{site}: redirect {title} -> {target} is not a sample article")

    # links
    kinds: Counter[str] = Counter()
    resolved: set[str] = set()
    trails = 0
    for title, text in articles.items():
        if not re.search(r"^==[^=].*==\s*$", text, flags=re.M):
            fail(f"{site}: {title}: no section heading")
        visible = strip_hidden(text)
        for target, trail in extract_links(visible):
            t = target.strip()
            colon = t.startswith(":")
            t = t.lstrip(":").strip()
            if ":" in t:
                prefix, rest = (x.strip() for x in t.split(":", 1))
                key = ns_prefix.get(prefix.lower())
                if key is not None:
                    if key == 14 and not colon:
                        kinds["category"] += 1
                    elif key == 6 and not colon:
                        kinds["file"] += 1
                    else:
                        kinds["other_namespace"] += 1
                    continue
                if prefix.lower() in INTERWIKI_LANGS and not colon:
                    kinds["interlanguage"] += 1
                    if prefix.lower() == lang:
                        fail(f"{site}: {title}: interlanguage link to its own wiki")
                    continue
            page = t.split("#", 1)[0]
            if not page.strip():
                kinds["anchor"] += 1
                continue
            n = norm(page)
            if trail and lang in LINK_TRAIL and re.fullmatch(LINK_TRAIL[lang], trail):
                trails += 1
            if n in articles:
                kinds["article"] += 1
                if n in no_sitelink:
                    kinds["article_no_sitelink"] += 1
                else:
                    resolved.add(titles[n])
            elif n in redirects:
                kinds["redirect"] += 1
                resolved.add(titles[redirects[n]])
            elif n in titles:
                kinds["kg_only"] += 1
                resolved.add(titles[n])
            elif n in RED_LINKS[lang]:
                kinds["red"] += 1
            else:
                fail(f"{site}: {title}: link [[{target}]] resolves to nothing deliberate")

    # zh / ja prose: no spaces, sentences end with 。
    if lang in ("zh", "ja"):
        for title, text in articles.items():
            prose = strip_hidden(text)
            while True:
                new = re.sub(r"\{\{[^{}]*\}\}", "", prose)
                if new == prose:
                    break
                prose = new
            prose = re.sub(r"<ref[^>]*/>|<ref[^>]*>.*?</ref>", "", prose, flags=re.S)
            prose = re.sub(r"\[\[[^\[\]]*\]\]", "X", prose)  # innermost links first
            prose = re.sub(r"\[\[[^\[\]]*\]\]", "X", prose)
            for line in prose.splitlines():
                s = line.strip()
                if not s or s[0] in "={|!" or s == "X" or re.fullmatch(r"__[A-Z]+__", s):
                    continue
                if " " in s:
                    fail(f"{site}: {title}: space in prose line {s!r}")
                if not s.endswith("。"):
                    fail(f"{site}: {title}: prose line does not end with 。: {s!r}")

    link_total = sum(v for k, v in kinds.items() if k != "article_no_sitelink")
    if kinds["red"] == 0 or kinds["redirect"] == 0 or kinds["category"] == 0 or kinds["file"] == 0:
        fail(f"{site}: an edge case is missing: {dict(kinds)}")
    return {
        "site": site, "bytes": len(raw), "bz2": len(raw_bz2), "pages": len(pages),
        "articles": len(articles), "redirects": len(redirects), "other": other,
        "links": link_total, "kinds": kinds, "qids": len(resolved), "trails": trails,
        "raw_links": sum(t.count("[[") for t in articles.values()),
    }


def main() -> int:
    kg, _ = load_kg()
    rows = [check_file(lang, kg) for lang in LANGS]
    print("| file | bytes (.xml / .bz2) | pages | ns-0 articles | redirects | other ns | [[links]] in articles "
          "| to articles | to redirects | KG-only | red | anchor | category | file | other ns | interlang "
          "| distinct QIDs | link trails |")
    print("|" + "---|" * 18)
    for r in rows:
        k = r["kinds"]
        print(f"| {r['site']}-sample.xml.bz2 | {r['bytes']} / {r['bz2']} | {r['pages']} | {r['articles']} "
              f"| {r['redirects']} | {r['other']} | {r['links']} | {k['article']} | {k['redirect']} "
              f"| {k['kg_only']} | {k['red']} | {k['anchor']} | {k['category']} | {k['file']} "
              f"| {k['other_namespace']} | {k['interlanguage']} | {r['qids']} | {r['trails']} |")
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
