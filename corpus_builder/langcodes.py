"""Language codes -> the Wikipedia code that every table uses (DESIGN.md: `de`, `zh`, ...).

Parallel corpora name their languages in ISO 639-3 (Tatoeba: `deu`, `cmn`, `zsm`), ISO 639-2/B
(`ger`, `chi`) or ISO 639-1 (`de`). :func:`normalise` maps all of them to the code of the Wikipedia
edition in that language. A code that is already a Wikipedia code passes through unchanged,
including the three-letter ones (`arz`, `ceb`, `hsb`) and the hyphenated ones (`zh-yue`).
Languages without a Wikipedia of their own keep their ISO code (`kzj`, `swg`, `tzl`).
"""

from __future__ import annotations

import re

from kg_pipeline.errors import ConfigError

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
