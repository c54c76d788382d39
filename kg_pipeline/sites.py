"""Wikimedia site ids -> Wikipedia language codes, and language-code validation."""

from __future__ import annotations

import re

# Sister projects: a site id "<lang><suffix>" that is not a Wikipedia.
SISTER_SUFFIXES = (
    "wikiquote", "wikisource", "wikivoyage", "wikibooks", "wikinews",
    "wiktionary", "wikiversity", "wikimedia",
)
# Sites whose id ends in "wiki" but which are not a language edition of Wikipedia.
SPECIAL_WIKIS = frozenset({
    "commonswiki", "specieswiki", "metawiki", "wikidatawiki", "mediawikiwiki", "sourceswiki",
    "outreachwiki", "wikimaniawiki", "incubatorwiki", "foundationwiki", "testwiki", "test2wiki",
    "testwikidatawiki", "strategywiki", "tenwiki", "wikifunctionswiki", "nostalgiawiki",
    "advisorywiki", "betawikiversity", "donatewiki", "loginwiki", "otrs_wikiwiki", "qualitywiki",
    "usabilitywiki", "votewiki", "wikitech", "labswiki", "apiportalwiki", "abstractwiki",
    "testcommonswiki", "simplewiktionary",
})
# Wikipedia language codes: "de", "zh-yue", "be-x-old", "roa-tara", "simple", "als", ...
LANG_RE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,12})*$|^simple$")


def site_to_lang(site: str) -> tuple[str | None, str | None]:
    """Map a sitelink key to (wikipedia_lang, None) or (None, skip_reason).

    ``dewiki`` -> ``de``; ``zh_yuewiki`` -> ``zh-yue``. Sister projects (``enwikiquote``) give
    ``sister_project``; commons, species, meta, wikidata and other non-language wikis give
    ``special_site``; anything unrecognisable gives ``unknown_site``.
    """
    if site in SPECIAL_WIKIS:
        return None, "special_site"
    if not site.endswith("wiki"):
        if site.endswith(SISTER_SUFFIXES):
            return None, "sister_project"
        return None, "unknown_site"
    lang = site[: -len("wiki")].replace("_", "-")
    if not lang or not LANG_RE.match(lang):
        return None, "unknown_site"
    return lang, None


def parse_langs(value: str | None) -> tuple[str, ...] | None:
    """Parse ``LANGS`` (``"en,de,zh-yue"``). ``None`` or empty keeps every language.

    Raises ValueError with a message that says what a valid value looks like.
    """
    if value is None or not value.strip():
        return None
    out: list[str] = []
    for raw in value.split(","):
        code = raw.strip()
        if not code:
            continue
        if not LANG_RE.match(code):
            raise ValueError(
                f"bad language code {raw!r} in LANGS={value!r}: use lower-case Wikimedia codes "
                "separated by commas, e.g. LANGS=en,de,zh,zh-yue"
            )
        if code not in out:
            out.append(code)
    if not out:
        raise ValueError(f"LANGS={value!r} names no language; e.g. LANGS=en,de,fr")
    return tuple(out)
