"""Rule-based sentence splitting for Wikipedia text in many languages and scripts.

:func:`split_sentences` returns ``(start, end)`` character spans over the text, in order; every
non-whitespace character lies in exactly one span, and each span is stripped of surrounding
whitespace. :func:`sentence_of` maps a character range (a hyperlink anchor) to its sentence.

The rules depend mainly on the characters, so mixed-script text works; ``lang`` (a Wikipedia
code such as ``en``, ``de``, ``zh-yue``, ``th``) only selects the abbreviation list, the
ordinal-dot convention (``de``: "3. Oktober"), the danda convention (``hi``, ``bn``: a ``.``
after an Indic letter is an abbreviation dot) and the Thai/Lao space rule. Pure Python and
:mod:`re`; one regular-expression scan plus a constant amount of work per candidate, so the time
is linear in the length of the text.

Boundaries, in order of precedence:

* Line breaks (``\\n``, ``\\r``, U+2028, ... - whatever :meth:`str.splitlines` breaks at) always
  end a sentence, so paragraphs, list items and headings are separate sentences.
* A *protected* span (a link anchor) is never cut: a boundary whose end or start would fall
  strictly inside one (after trimming the protected span's own surrounding whitespace) is dropped,
  even a line break.
* Strong terminators end a sentence whatever follows, with or without a space: the danda ``।``
  and double danda ``॥`` (Hindi, Bengali, Sanskrit, ...), Arabic ``؟`` and ``۔``, Armenian
  ``։``, Ethiopic ``።``, Myanmar ``။``, Khmer ``។``, Thai ``๚ ๛``.
* CJK terminators ``。 ！ ？ ．`` (and half-width ``｡``), and ASCII ``! ?`` written right after a
  Han/kana character, end a sentence with or without a following space, together with any
  directly following terminators and closing brackets/quotes (``」』）】”’`` ...). ``．``
  between digits (``３．５``) or after a Latin letter is not a full stop.
* Space-delimited scripts (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Hangul, ...):
  ``. ! ? …`` (and ``‼ ⁇ ⁈ ⁉ ‽``, Greek ``;``), with directly following closing
  quotes/brackets, end a sentence when followed by whitespace and then an upper-case letter, a
  digit, an opening quote/bracket, a currency sign or a letter of an uncased script (Han, kana,
  Hangul, Arabic, Devanagari, Thai, Georgian, ...). A lower-case continuation never starts a
  sentence, so ellipses mid-sentence stay. German „...“ closing quotes and French spaced
  ``« ... »`` guillemets are kept with the sentence they close.
* A single ``.`` is not a full stop after: an abbreviation of the language's list (``Dr``,
  ``z. B.``, ``т. е.``, ...), a number-only abbreviation before a digit (``No. 5``, ``pp. 3``),
  a single cased letter (initials ``J. S. Bach``, ``г.``; but ``I V X`` after a capitalised word
  are regnal numbers, ``Stephen I. The``, and a letter right after a degree sign is a unit,
  ``22 °C. The``; Georgian Mkhedruli counts as uncased here too, ``13,5%-ს. ქალაქში``), dotted initials (``U.S.``,
  ``e.g.``), an enumeration label at the start of a sentence (``1.``, ``IV.``), a 1-2 digit
  ordinal in the ordinal-dot languages (``de``, ``da``, ``fi``, ``cs``, ``hu``, ``tr``, ...).
* Brackets ``「」『』`` (and, for CJK terminators, also ``“”`` and ``（）``) that open and close on
  the same line are never cut inside: a terminator inside them only ends a sentence together
  with the closing bracket right after it (``「行く。」``), and not even then when the quotative
  particle ``と``/``って`` follows (``「行く。」と言った。`` is one sentence).
* Thai/Lao (``lang`` ``th`` or ``lo``; the scripts have no sentence punctuation): a run of
  spaces between two Thai (Lao) letters is a boundary, unless a digit, Latin word, bracket or
  ``.`` touches it (``วันที่ 5 มกราคม``, ``ภาษา Python เป็น``), the repetition mark ``ๆ`` or
  the abbreviation mark ``ฯ`` touches it, the next word is a dotted Thai abbreviation
  (``พ.ศ. 2563``), or the non-space run on either side is shorter than 4 code points, which
  keeps short titles and particles together (``นาย สมชาย``). A ``.`` after a Thai letter is an abbreviation
  dot, never a full stop.

Known limits: abbreviations that also end sentences (``etc.``, ``Inc.``, ``U.S.``, ``г.``) are
never boundaries; single-letter words before a full stop (``vitamin C.``) are taken for initials;
uncased-script abbreviations (Arabic ``د.``) split; Thai first-name/surname spaces split when
both names have 4+ code points; Tibetan, Javanese and other scripts with their own punctuation
are only split at line breaks and Latin terminators.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["split_sentences", "sentence_of", "sentences_of", "abbreviations"]

# --------------------------------------------------------------------------------------------------
# Character classes

#: Line-break characters (those str.splitlines breaks at); all are whitespace.
BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
#: Terminators of CJK text: split even without a following space.
CJK_TERMS = "\u3002\uff01\uff1f\uff0e\uff61\ufe12"  # 。！？．｡︒
#: Terminators that always end a sentence, space or not.
STRONG_TERMS = (
    "\u0964\u0965"  # । ॥ danda, double danda
    "\u061f\u06d4"  # ؟ ۔ Arabic question mark, Arabic/Urdu full stop
    "\u0589"  # ։ Armenian full stop
    "\u1362\u1367\u1368"  # ። ፧ ፨ Ethiopic
    "\u104b"  # ။ Myanmar
    "\u17d4"  # ។ Khmer
    "\u0e5a\u0e5b"  # ๚ ๛ Thai angkhankhu, khomut
    "\u166e"  # ᙮ Canadian syllabics full stop
)
#: Terminators of space-delimited scripts: split only before whitespace and a sentence start.
LATIN_TERMS = ".!?\u2026\u203c\u2047\u2048\u2049\u203d\u037e"  # . ! ? … ‼ ⁇ ⁈ ⁉ ‽ ;(Greek)
TERMS = CJK_TERMS + STRONG_TERMS + LATIN_TERMS
#: Closing quotes/brackets that belong to the sentence when written right after a terminator.
#: (“ and ‘ are handled apart: they close a German „...“ quote but open an English/Chinese one.)
CLOSERS = "\"'\u201d\u2019\u00bb\u00ab\u203a\u2039)]}\u300d\u300f\uff09\u3011\u3015\u3009\u300b\uff3d\uff5d\u3017\u3019\u301b\u301e\u301f\uff63"
#: Characters that may open a sentence after whitespace (besides upper-case letters and digits).
OPENERS = frozenset(
    "\"'\u201c\u2018\u201e\u201a\u00ab\u2039\u00bb\u203a([{\u00bf\u00a1"
    "\u300c\u300e\uff08\u3010\u3014\u3008\u300a\uff3b\uff5b\u3016\u3018\u301a\u301d\uff62"
)
#: A terminator followed by one of these does not end the sentence (「はい。」、と / Yahoo!, Inc.).
CONTINUATION = frozenset(",;:\u3001\uff0c\uff1b\uff1a\uff64")
#: Brackets never cut inside (when matched on one line), for every terminator ...
_NARROW_PAIRS = {"\u300d": "\u300c", "\u300f": "\u300e"}  # 」→「  』→『
#: ... and, for CJK terminators, these too.
_WIDE_PAIRS = {**_NARROW_PAIRS, "\u201d": "\u201c", "\uff09": "\uff08"}  # ”→“  ）→（
_QUOTE_OPEN = frozenset(_WIDE_PAIRS.values())
_JA_QUOTE_CLOSE = frozenset("\u300d\u300f")
#: Sentence-initial words starting with と that are not the quotative particle.
_TO_WORDS = ("ところ", "ともに", "とても", "とりわけ", "とはいえ", "とにかく", "とくに", "とうとう", "とりあえず")

_TERMS_RE = re.escape(TERMS)
_SCAN_TEMPLATE = r"[{first}](?:(?<=[{terms}])[{run}]*+)?(?P<ws>\s*+)"
#: One match per terminator run (with its closers and following whitespace) or line break.
_SCAN = re.compile(
    _SCAN_TEMPLATE.format(first=_TERMS_RE + re.escape(BREAKS), terms=_TERMS_RE, run=_TERMS_RE + re.escape(CLOSERS))
)
#: Thai mode: every whitespace run is a candidate too.
_SCAN_SPACES = re.compile(
    _SCAN_TEMPLATE.format(first=_TERMS_RE + r"\s", terms=_TERMS_RE, run=_TERMS_RE + re.escape(CLOSERS))
)
_BREAK_RE = re.compile(f"[{re.escape(BREAKS)}]")
_WS_RE = re.compile(r"\s*+")
_NONSPACE_RE = re.compile(r"\S")
_QUOTE_RE = re.compile(f"[{re.escape(''.join(_WIDE_PAIRS) + ''.join(_QUOTE_OPEN) + BREAKS)}]")
_THAI_MIN = 4  # code points of the non-space run on each side of a Thai space break
_NONSPACE_RUN_RE = re.compile(r"\S+")
_THAI_ABBR_RE = re.compile(r"[\u0e01-\u0e2e]{1,3}\.")
_INITIALS_RE = re.compile(r"(?:[^\W\d_]\.-?)+[^\W\d_]")
_ROMAN_RE = re.compile(r"[IVXLC]{1,6}|[ivxlc]{1,6}")
_TOKEN_LOOKBACK = 40


def _is_cjk(c: str) -> bool:
    """Han, kana, CJK punctuation (not the full-width ASCII forms, not Hangul)."""
    o = ord(c)
    return (
        0x3000 <= o <= 0x30FF
        or 0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x31F0 <= o <= 0x31FF
        or 0xFF5F <= o <= 0xFF9F
        or 0x20000 <= o <= 0x3134F
    )


def _is_cjk_letter(c: str) -> bool:
    o = ord(c)
    return (
        0x3040 <= o <= 0x30FF
        or 0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x31F0 <= o <= 0x31FF
        or 0xFF66 <= o <= 0xFF9F
        or 0x20000 <= o <= 0x3134F
        or 0x3005 <= o <= 0x3007
    )


def _is_thai_letter(c: str) -> bool:
    """Thai or Lao letters, vowels and marks (not digits, not punctuation or currency)."""
    o = ord(c)
    return 0x0E01 <= o <= 0x0E3A or 0x0E40 <= o <= 0x0E4E or 0x0E81 <= o <= 0x0ECF or 0x0EDC <= o <= 0x0EDF


def _is_indic(c: str) -> bool:
    """A letter or mark of the Indic blocks (Devanagari ... Malayalam), not a digit or danda."""
    o = ord(c)
    return 0x0900 <= o <= 0x0D7F and not c.isdigit() and c not in "\u0964\u0965"


def _starts_sentence(c: str) -> bool:
    """May ``c`` (after a terminator and whitespace) be the first character of a sentence?"""
    if c.isupper() or c.isdigit() or c in OPENERS:
        return True
    cat = unicodedata.category(c)
    if cat in ("Lo", "Lm", "Lt", "Sc"):
        return True
    return _mkhedruli(c)


def _mkhedruli(c: str) -> bool:
    """Georgian Mkhedruli: Ll since Unicode 11 (Mtavruli is its upper case) but uncased in use."""
    return "\u10d0" <= c <= "\u10ff"


def _token_char(c: str) -> bool:
    return c.isalnum() or c in ".-'\u2019" or unicodedata.category(c)[0] == "M"


# --------------------------------------------------------------------------------------------------
# Language settings


def _norm(abbr: str) -> str:
    """``"z. B."`` → ``"z.b"``: lower case, no trailing dot, no space after inner dots."""
    return abbr.strip().rstrip(".").replace(". ", ".").lower()


_COMMON = "e.g. i.e. cf. vs. etc. ca. approx. dr. prof. mr. mrs. ms. st. jr. sr. inc. ltd. co. corp. et al."
_ABBREVIATIONS: dict[str, str] = {
    "en": "mr mrs ms messrs dr st mt ft jr sr vs e.g i.e etc inc ltd co corp bros gen col capt lt sgt rev "
    "hon gov sen rep pres prof dept univ assn est ca cf viz approx ibid ph.d "
    "jan feb apr jun jul aug sep sept oct nov dec",
    "de": "z.b bzw ca dr usw d.h st u.a vgl prof hrsg geb gest evtl sog inkl mio mrd jh jhd v.chr n.chr chr "
    "abs dipl ing ggf zit fa kap tel hl",
    "fr": "m mm mme mmes mlle mlles mgr dr st ste p.ex par ex etc cf env av apr j.-c c.-à-d éd chap vve",
    "es": "sr sra srta sres dr dra ud uds dña pág págs núm etc aprox p.ej ee.uu ee uu av avda sto sta "
    "cía gral prof lic ing arq vol cap",
    "it": "sig sigg sig.ra dott dott.ssa prof ing avv ecc pag pagg s.p.a ca cfr sec",
    "pt": "sr sra srta dr dra prof profa etc pág págs p.ex av ltda cia eng arq séc",
    "nl": "dhr mevr mw bijv d.w.z o.a enz blz ca m.a.w t.o.v st prof dr mr ir ing drs jl e.a i.p.v resp "
    "ong vnl evt incl excl v.chr n.chr chr",
    "ru": "г гг т.е т.д т.п т.к т.н им ул пр стр вв пос обл акад проф доц св ок сокр букв англ лат нем "
    "франц греч пер наб пл ст",
    "uk": "р рр м ім вул обл с смт т.зв т.б т.д т.п проф акад див ст пл пров англ лат св н.е",
    "vi": "tp tx ts gs pgs ths bs ks tt v.v st mr dr",
    "pl": "np tzn itd itp m.in prof dr św ul al tys ok im gen płk ks wg tj zob por",
    "cs": "např tzv resp atd apod tj mj sv prof ing mudr judr phdr doc arch ul",
    "sk": "napr tzv resp atď tj sv prof ing mudr judr phdr doc arch ul",
    "sv": "t.ex bl.a d.v.s m.m osv ca dvs resp st",
    "da": "f.eks bl.a osv ca dvs mht st",
    "no": "f.eks bl.a osv ca dvs mht st",
    "fi": "esim ks mm ns noin n tri",
    "tr": "dr prof doç yrd vb vs",
    "id": "dr prof dll dsb tsb",
    "ca": "sr sra dr dra etc pàg",
    "hu": "dr prof ifj id stb pl kb",
    "el": "π.χ κ.λπ κ.ά",
}
_ALIASES = {"simple": "en", "nb": "no", "nn": "no", "als": "de", "bar": "de", "lb": "de", "be": "ru"}
#: Abbreviations that only count before a digit ("No. 5"), so "I said no. Then" still splits.
_NUMERIC = frozenset("no nos nr p pp vol vols fig figs art ch sec op s bd jg tab abb anm n".split())
#: Languages writing ordinals as "3." ("am 3. Oktober", "19. Jahrhundert").
_ORDINAL_LANGS = frozenset(
    "de als bar lb da no nb nn fi is fo et lv cs sk sl hr sr sh bs hu tr".split()
)
#: Languages whose full stop is the danda: a "." after an Indic letter is an abbreviation dot.
_DANDA_LANGS = frozenset("hi bn ne sa pa as or mai bh bpy new awa anp".split())
_THAI_LANGS = frozenset({"th", "lo"})


@dataclass(frozen=True, slots=True)
class _Lang:
    abbrevs: frozenset[str]
    ordinal: bool
    danda: bool
    thai: bool


_LANG_CACHE: dict[str, _Lang] = {}


def _base_lang(lang: object) -> str:
    code = str(lang or "").strip().lower().replace("_", "-")
    base = code.split("-", 1)[0]
    return _ALIASES.get(code, _ALIASES.get(base, base))


def abbreviations(lang: str) -> frozenset[str]:
    """The normalised abbreviations (``"z.b"``, ``"dr"``) used for ``lang``, common ones included."""
    return _lang(lang).abbrevs


def _lang(lang: object) -> _Lang:
    base = _base_lang(lang)
    cfg = _LANG_CACHE.get(base)
    if cfg is None:
        words = _COMMON.replace("et al.", "").split() + _ABBREVIATIONS.get(base, "").split()
        abbrevs = frozenset({_norm(w) for w in words} | {"et al"})
        cfg = _Lang(abbrevs, base in _ORDINAL_LANGS, base in _DANDA_LANGS, base in _THAI_LANGS)
        _LANG_CACHE[base] = cfg
    return cfg


# --------------------------------------------------------------------------------------------------
# Protected spans and bracket pairs


class _Intervals:
    """Sorted disjoint open intervals; ``inside(x)``: is ``a < x < b`` for one of them?"""

    __slots__ = ("starts", "ends")

    def __init__(self, pairs: list[tuple[int, int]]):
        pairs.sort()
        starts: list[int] = []
        ends: list[int] = []
        for a, b in pairs:
            if ends and a < ends[-1]:  # strict overlap: merge (touching intervals stay apart)
                if b > ends[-1]:
                    ends[-1] = b
            else:
                starts.append(a)
                ends.append(b)
        self.starts = starts
        self.ends = ends

    def inside(self, x: int) -> bool:
        i = bisect_left(self.starts, x) - 1
        return i >= 0 and x < self.ends[i]


def _protected_intervals(text: str, protected: Sequence[tuple[int, int]]) -> _Intervals | None:
    n = len(text)
    pairs = []
    for item in protected or ():
        try:
            a, b = int(item[0]), int(item[1])
        except (TypeError, ValueError, IndexError, KeyError):
            continue
        a, b = max(a, 0), min(b, n)
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b - a >= 2:  # a shorter span has no inside
            pairs.append((a, b))
    return _Intervals(pairs) if pairs else None


class _Brackets:
    """Top-level bracket pairs opened and closed on one line: ``o < cut <= c`` is inside."""

    __slots__ = ("narrow", "wide")

    def __init__(self, text: str):
        narrow: list[tuple[int, int]] = []
        wide: list[tuple[int, int]] = []
        stack: list[tuple[str, int]] = []
        for m in _QUOTE_RE.finditer(text):
            ch = m.group()
            p = m.start()
            if ch in BREAKS:
                stack.clear()
            elif ch in _QUOTE_OPEN and ch not in _WIDE_PAIRS:
                if len(stack) >= 32:
                    del stack[0]
                stack.append((ch, p))
            else:
                want = _WIDE_PAIRS[ch]
                for k in range(len(stack) - 1, max(len(stack) - 9, -1), -1):
                    if stack[k][0] == want:
                        o = stack[k][1]
                        del stack[k:]
                        wide.append((o, p + 1))
                        if ch in _NARROW_PAIRS:
                            narrow.append((o, p + 1))
                        break
        self.narrow = _Intervals(narrow)
        self.wide = _Intervals(wide)

    @staticmethod
    def cuts(iv: _Intervals, e: int) -> bool:
        """Does a sentence end at ``e`` cut a bracket pair (``o < e < c + 1``)?"""
        return iv.inside(e)


# --------------------------------------------------------------------------------------------------
# Decisions


def _token_before(text: str, end: int, lo: int) -> int:
    """Start of the word (letters, digits, marks, inner dots/hyphens) ending at ``end``."""
    j = end
    lo = max(lo, end - _TOKEN_LOOKBACK)
    while j > lo and _token_char(text[j - 1]):
        j -= 1
    return j


def _is_abbreviation(text: str, ts: int, s: int, cfg: _Lang, cur: int) -> bool:
    """Is the ``.`` at ``ts`` (followed by a sentence-like start at ``s``) an abbreviation dot?"""
    j = _token_before(text, ts, cur)
    tok = text[j:ts].lstrip(".-'\u2019")
    if not tok:
        return False
    low = tok.lower()
    if low in cfg.abbrevs:
        return True
    if low in _NUMERIC and text[s].isdigit():
        return True
    if len(tok) == 1 and tok.upper() != tok.lower() and not _mkhedruli(tok):
        if tok in "IVX" and _after_name(text, ts - 1, cur):
            return False  # regnal number: "Степан I. На чолі", "World War I. The"
        if ts - 1 > cur and text[ts - 2] == "°":
            return False  # a unit after a degree sign, never an initial: "22 °C. The"
        return True  # a single cased letter: an initial
    if "." in low and _INITIALS_RE.fullmatch(low):
        return True  # U.S., e.g., D.C., J.-C.
    at_start = ts - len(tok) == cur
    if tok.isdigit():
        if cfg.ordinal and len(tok) <= 2:
            return True
        if at_start and len(tok) <= 3:
            return True  # enumeration "1. Introduction"
    elif at_start and _ROMAN_RE.fullmatch(tok):
        return True  # "IV. History"
    # two-word abbreviations: "z. B", "p. ex", "v. Chr", "et al"
    if j >= 2 and j > cur and text[j - 1] == " ":
        k = j - 1
        sep = " "
        if text[k - 1] == ".":
            sep = "."
            k -= 1
        pj = _token_before(text, k, cur)
        if pj < k and text[pj:k].lower() + sep + low in cfg.abbrevs:
            return True
    return False


def _after_name(text: str, j: int, cur: int) -> bool:
    """Is ``text[j]`` preceded by ``" "`` and a capitalised word of 2+ letters (not an initial)?"""
    if j < 3 or j <= cur or text[j - 1] != " ":
        return False
    pj = _token_before(text, j - 1, cur)
    word = text[pj : j - 1]
    return len(word) >= 2 and word[0].isupper() and word.isalpha()


def _quotative(text: str, s: int) -> bool:
    """Japanese quotative particle after a closing bracket: 「...。」と言った / 「...。」って."""
    if text.startswith("って", s):
        return True
    return text.startswith("と", s) and not text.startswith(_TO_WORDS, s)


def _thai_break(text: str, e: int, s: int) -> bool:
    a, b = text[e - 1], text[s]
    if not (_is_thai_letter(a) and _is_thai_letter(b)):
        return False
    if a in "\u0e46\u0e2f" or b == "\u0e46":  # ๆ repetition, ฯ abbreviation
        return False
    if _THAI_ABBR_RE.match(text, s):  # พ.ศ. 2563
        return False
    return _run_at_least(text, e - _THAI_MIN, e) and _run_at_least(text, s, s + _THAI_MIN)


def _run_at_least(text: str, i: int, j: int) -> bool:
    """Is ``text[i:j]`` (``j - i == _THAI_MIN``) inside the text and free of whitespace?"""
    return i >= 0 and j <= len(text) and _NONSPACE_RUN_RE.fullmatch(text, i, j) is not None


class _Splitter:
    __slots__ = ("text", "n", "cfg", "_brackets")

    def __init__(self, text: str, cfg: _Lang):
        self.text = text
        self.n = len(text)
        self.cfg = cfg
        self._brackets: _Brackets | None = None

    def brackets(self) -> _Brackets:
        if self._brackets is None:
            self._brackets = _Brackets(self.text)
        return self._brackets

    def terminator(self, ts: int, e: int, s: int, cur: int) -> tuple[bool, int, int]:
        """Decide on the terminator run ``text[ts:e]`` followed by whitespace up to ``s``."""
        text, n = self.text, self.n
        run = text[ts:e]
        prev = text[ts - 1] if ts > 0 else ""
        nxt = text[s]
        strong = cjk = False
        for ch in run:
            if ch in STRONG_TERMS:
                strong = True
                break
            if ch in CJK_TERMS:
                cjk = True
        if cjk and "\uff0e" in run and not any(ch in run for ch in "\u3002\uff01\uff1f\uff61\ufe12"):
            # full-width full stop: a full stop after Han/kana or a bracket, not in ３．５ or Ｕ．Ｓ．
            cjk = prev != "" and (_is_cjk_letter(prev) or prev in CLOSERS) and not (e == s and nxt.isdigit())
        if not strong and not cjk and run[0] in "!?" and prev and _is_cjk(prev):
            cjk = True  # 本当?嘘だ / 你好!我很好
        if strong or cjk:
            if nxt in CONTINUATION:
                return False, e, s
            br = self.brackets()
            if _Brackets.cuts(br.wide if cjk else br.narrow, e):
                return False, e, s
            if e == s and cjk and text[e - 1] in _JA_QUOTE_CLOSE and _quotative(text, s):
                return False, e, s
            return True, e, s

        # space-delimited scripts
        cfg = self.cfg
        if run[0] == "." and prev:
            if cfg.thai and _is_thai_letter(prev):
                return False, e, s
            if cfg.danda and _is_indic(prev):
                return False, e, s
        if e == s and nxt in "\u201c\u2018" and (e + 1 == n or text[e + 1].isspace()):
            e += 1  # German closing quote: „Zitat.“ Dann
            s = _WS_RE.match(text, e).end()
            if s >= n:
                return False, e, s
            nxt = text[s]
        if e == s:
            return False, e, s
        if nxt in "\u00bb\u203a" and (s + 1 == n or text[s + 1].isspace()):
            e = s + 1  # French spaced guillemet: « Bonjour. » Puis
            s = _WS_RE.match(text, e).end()
            if s >= n:
                return False, e, s
            nxt = text[s]
        if not _starts_sentence(nxt):
            return False, e, s
        if run == "." and _is_abbreviation(text, ts, s, cfg, cur):
            return False, e, s
        if _Brackets.cuts(self.brackets().narrow, e):
            return False, e, s
        return True, e, s


# --------------------------------------------------------------------------------------------------
# API


def split_sentences(text: str, lang: str, protected: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Sentence spans (start, end) over `text`, in order, covering every non-space character exactly once;
    each span is stripped of surrounding whitespace (text[start] and text[end-1] are not whitespace);
    no span boundary falls strictly inside a protected span (hyperlink anchors must not be cut).

    ``protected`` spans are first trimmed of their own leading/trailing whitespace (a boundary
    may fall in whitespace at a protected span's edge); invalid or empty ones are ignored, and
    overlapping ones are merged. ``lang`` is a Wikipedia code; see the module docstring for the
    rules. Never raises on any ``str``; returns ``[]`` for empty or all-whitespace text.
    """
    if not isinstance(text, str):
        return []
    first = _NONSPACE_RE.search(text)
    if first is None:
        return []
    n = len(text)
    cfg = _lang(lang)
    guard = _protected_intervals(text, protected)
    splitter = _Splitter(text, cfg)
    spans: list[tuple[int, int]] = []
    cur = first.start()  # start of the current sentence
    scan = _SCAN_SPACES if cfg.thai else _SCAN
    for m in scan.finditer(text, cur):
        s = m.end()
        if s >= n:
            break
        start = m.start()
        c0 = text[start]
        if c0.isspace():
            if c0 in BREAKS or _BREAK_RE.search(text, start, s):
                e = start
                while e > cur and text[e - 1].isspace():
                    e -= 1
                ok = True
            else:  # Thai mode: a plain space run
                e = start
                ok = _thai_break(text, e, s)
        else:
            e = m.start("ws")
            if e < s and _BREAK_RE.search(text, e, s):
                ok = True
            else:
                ok, e, s = splitter.terminator(start, e, s, cur)
                if s >= n:
                    break
        if not ok or e <= cur:
            continue
        if guard is not None and (guard.inside(e) or guard.inside(s)):
            continue
        spans.append((cur, e))
        cur = s
    end = n
    while text[end - 1].isspace():
        end -= 1
    spans.append((cur, end))
    return spans


def sentences_of(spans: Sequence[tuple[int, int]], ranges: Sequence[tuple[int, int]]) -> list[int | None]:
    """The index of the sentence containing each range [start, end), or None.

    A range belongs to a sentence when that sentence is the only one it overlaps (so an anchor
    with leading/trailing whitespace still maps); an empty range maps to the sentence with
    ``s <= start < e``. None when it overlaps no sentence (whitespace only, out of bounds) or
    several, or when ``end < start``. ``spans`` must be sorted and disjoint, as
    :func:`split_sentences` returns them; O(log n) per range, by bisection on the spans' starts
    and ends.
    """
    if not spans:
        return [None] * len(ranges)
    starts = [sp[0] for sp in spans]
    ends = [sp[1] for sp in spans]
    out: list[int | None] = []
    for start, end in ranges:
        if end < start:
            out.append(None)
        elif start == end:
            i = bisect_right(starts, start) - 1
            out.append(i if i >= 0 and start < ends[i] else None)
        else:
            lo = bisect_right(ends, start)      # first sentence ending after start
            hi = bisect_left(starts, end)       # first sentence starting at/after end
            out.append(lo if hi - lo == 1 else None)
    return out


def sentence_of(spans: Sequence[tuple[int, int]], start: int, end: int) -> int | None:
    """:func:`sentences_of` for one range (for many ranges over the same spans, call that)."""
    return sentences_of(spans, [(start, end)])[0]
