"""Language codes, one set of rules for the whole project.

* Wikimedia site ids -> Wikipedia language codes (``dewiki`` -> ``de``), and ``LANGS`` parsing.
* Parallel corpora name their languages in ISO 639-3 (Tatoeba: ``deu``, ``cmn``, ``zsm``), ISO
  639-2/B (``ger``, ``chi``) or ISO 639-1 (``de``). :func:`normalise` maps all of them to the code
  of the Wikipedia edition in that language, the code every table uses (DESIGN.md). A code that
  is already a Wikipedia code passes through unchanged, including the three-letter ones (``arz``,
  ``ceb``, ``hsb``) and the hyphenated ones (``zh-yue``). Languages without a Wikipedia of their
  own keep their ISO code (``kzj``, ``swg``, ``tzl``).
* :data:`NO_LANGUAGE` and :func:`lang_index`: the row of the model's language embedding that a
  language gets.
"""

from __future__ import annotations

import re

from .errors import ConfigError

# Row 0 of the language embedding and first entry of xlkit_langs.json: no language, which a language the
# model never trained on gets (trainer/model.py).
NO_LANGUAGE = "<none>"


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


# ISO 639-3 (and 639-2/B) -> Wikipedia code. The first block covers the 75 languages of the
# LASER Tatoeba test sets; codes that are their own Wikipedia code are listed too, so that the
# table documents every one of them.
TATOEBA = {
    "afr": "af", "amh": "am", "ang": "ang", "ara": "ar", "arz": "arz", "ast": "ast", "aze": "az",
    "bel": "be", "ben": "bn", "bos": "bs", "bre": "br", "cbk": "cbk-zam", "ceb": "ceb", "cha": "ch",
    "cmn": "zh", "cor": "kw", "cym": "cy", "dan": "da", "deu": "de", "dtp": "dtp", "epo": "eo",
    "eus": "eu", "fin": "fi", "fra": "fr", "fry": "fy", "gla": "gd", "glg": "gl",
    "gsw": "als",  # Swiss German: the Alemannic Wikipedia is als.wikipedia.org
    "hin": "hi", "hsb": "hsb", "hun": "hu", "hye": "hy", "ile": "ie", "ina": "ia", "ind": "id",
    "ita": "it", "jav": "jv", "kab": "kab", "kaz": "kk", "khm": "km",
    "kzj": "kzj",  # Coastal Kadazan: no Wikipedia of its own
    "lat": "la", "lit": "lt", "lvs": "lv", "mal": "ml", "mhr": "mhr", "mkd": "mk", "nds": "nds",
    "nld": "nl", "nno": "nn", "nov": "nov", "oci": "oc", "pam": "pam", "pms": "pms", "por": "pt",
    "ron": "ro", "rus": "ru", "slk": "sk", "spa": "es", "sqi": "sq", "srp": "sr",
    "swg": "swg",  # Swabian: no Wikipedia of its own
    "tam": "ta", "tat": "tt", "tel": "te", "tgl": "tl", "tur": "tr",
    "tzl": "tzl",  # Talossan: no Wikipedia of its own
    "uig": "ug", "urd": "ur", "uzb": "uz", "war": "war", "xho": "xh", "yid": "yi", "zsm": "ms",
    "eng": "en",
}
OTHER_ISO3 = {
    "bak": "ba", "bod": "bo", "bul": "bg", "cat": "ca", "ces": "cs", "chv": "cv", "ckb": "ckb",
    "ell": "el", "est": "et", "fao": "fo", "fas": "fa", "fil": "tl", "gle": "ga", "guj": "gu",
    "hau": "ha", "heb": "he", "hrv": "hr", "ibo": "ig", "isl": "is", "jpn": "ja", "kan": "kn",
    "kat": "ka", "khk": "mn", "kir": "ky", "kor": "ko", "kur": "ku", "lao": "lo", "lav": "lv",
    "ltz": "lb", "lzh": "zh-classical", "mar": "mr", "mlt": "mt", "mon": "mn", "msa": "ms",
    "mya": "my", "nan": "zh-min-nan", "nep": "ne", "nob": "no", "nor": "no", "ori": "or",
    "pan": "pa", "pes": "fa", "pol": "pl", "pus": "ps", "sin": "si", "slv": "sl", "snd": "sd",
    "som": "so", "swa": "sw", "swe": "sv", "swh": "sw", "tgk": "tg", "tha": "th", "tir": "ti",
    "tuk": "tk", "ukr": "uk", "vie": "vi", "yor": "yo", "yue": "zh-yue", "zho": "zh", "zul": "zu",
    # ISO 639-2/B bibliographic codes
    "alb": "sq", "arm": "hy", "baq": "eu", "bur": "my", "chi": "zh", "cze": "cs", "dut": "nl",
    "fre": "fr", "geo": "ka", "ger": "de", "gre": "el", "ice": "is", "mac": "mk", "may": "ms",
    "per": "fa", "rum": "ro", "slo": "sk", "tib": "bo", "wel": "cy",
}
TO_WIKIPEDIA = TATOEBA | OTHER_ISO3

CODE_RE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")


def normalise(code: str) -> str:
    """`deu` -> `de`, `cmn` -> `zh`, `DE` -> `de`, `zh_yue` -> `zh-yue`; unknown valid codes pass through.

    Raises ConfigError for something that is not a language code at all.
    """
    c = code.strip().lower().replace("_", "-")
    if not CODE_RE.match(c):
        raise ConfigError(f"{code!r} is not a language code: use a Wikipedia code (de, zh, arz) or an ISO "
                          "639 code (deu, cmn)")
    return TO_WIKIPEDIA.get(c, c)


def is_code(text: str) -> bool:
    """Whether text looks like a language code (used to recognise `train.de` and `corpus.deu`)."""
    return bool(CODE_RE.match(text.lower().replace("_", "-")))


class UnknownLanguage(ConfigError):
    """A language that a model's language list does not hold, where no stand-in row is allowed."""


UNKNOWN_RULES = ("none", "row0", "error")


def lang_index(langs: list[str] | tuple[str, ...], lang: str, *, unknown: str) -> int | None:
    """The row of the language embedding that ``lang`` gets in a model whose language list is ``langs``
    (``xlkit_langs.json``, the model's order: language i goes in as ``token_type_ids == i``; row 0 is
    :data:`NO_LANGUAGE` in every list written since it was reserved).

    A language of the list gets its index. One that is not (the model never trained on it: zero-shot)
    gets None, meaning row 0 (pass no language id, or 0), or :class:`UnknownLanguage`, by ``unknown``:

    * ``"none"``: None when row 0 is NO_LANGUAGE; UnknownLanguage for a list written before row 0 was
      reserved, whose row 0 is a language of its own (the Tatoeba evaluation);
    * ``"row0"``: None in any list, so that in such an old list an unknown language shares the row of
      its first language, as those models always gave it (the trained model, NER, probing);
    * ``"error"``: always UnknownLanguage.

    ``lang`` is compared as given: normalise it first (:func:`normalise`) when it may be an ISO 639 code.
    """
    if unknown not in UNKNOWN_RULES:
        raise ValueError(f"unknown={unknown!r}: use one of {', '.join(UNKNOWN_RULES)}")
    if lang in langs:
        return langs.index(lang)
    if unknown == "row0" or (unknown == "none" and len(langs) > 0 and langs[0] == NO_LANGUAGE):
        return None
    known = ", ".join(x for x in langs if x != NO_LANGUAGE) or "none"
    raise UnknownLanguage(f"no language row for {lang!r}; the model's languages: {known}")
