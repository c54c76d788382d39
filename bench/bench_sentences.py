"""Sentence splitting: our rule-based splitter against ICU's sentence BreakIterator (issue 17).

    .venv/bin/python bench/bench_sentences.py [--chars 1000000] [--repeat 5] [--examples 40] [--seed 0]
                                              [--langs en,de] [--cpu N] [--quick] [--out bench/results]

Input: real Wikipedia pages from ../shared/data, turned into plain text the way the corpus job does
it: ``corpus_builder.xmldump`` reads the pages (main namespace, redirects skipped with
``extract.redirect_target``), ``corpus_builder.wikitext.wikitext_to_plain`` converts them and gives
the link anchors. Sources: the 2023 bn/ja/uk/vi dump heads, the gensim enwiki fragment and the
dbpedia minidumps (the article "Berlin" in most languages; 23 en articles). Up to ``--chars``
characters of text per language (whole lines, pages in dump order; pages mostly in another script are
skipped), 28 languages in 15 scripts.

Both splitters get the same line-free chunks: every non-empty line of the plain text (ours always
ends a sentence at a line break, and ICU's rules do too, so the lines are what can differ). Ours is
``split_sentences(line, lang, anchors)``, with the line's link anchors as ``protected`` (as the
corpus job passes them); ICU is icu4py's ``SentenceBreaker(line, locale)``, its segments stripped of
whitespace like ours (whitespace-only segments dropped). icu4py's ``segments()`` gives UTF-16 offsets,
so the spans are rebuilt from the segment strings (code points). Two ICU settings: the plain locale
(``de``), the reference, and the locale with CLDR's abbreviation suppressions (``de@ss=standard``;
CLDR has such lists for a handful of languages; elsewhere it behaves as the plain locale).

Agreement: a boundary is the start of a sentence other than a line's first; taking ICU's boundaries
as the reference, precision = shared / ours, recall = shared / ICU's, F1. ICU's rules count opening
brackets and quotes as "Close", so after ``。「`` ICU breaks after the ``「``; such a pair (ours one
opener earlier) is counted apart as "shifted", and ``F1 shift forgiven`` counts it as shared. Every
other boundary that only one side has is classified by its context (terminator, the word before it,
what follows). For judging by hand, ``--examples`` of them are drawn with ``--seed`` in two equal
strata (only ours splits; only ICU splits or shifted), each round-robin over the languages, and
written with their context to OUT/sentences_examples.md, with a sample of the boundaries that the
CLDR suppressions remove. Also counted: link anchors that a boundary falls inside, for ICU, ours,
and ours without ``protected``.

Speed, on one core (pinned, ``--cpu``), the garbage collector off, best of ``--repeat``: each
splitter over each language's lines (the compared setting) and over whole pages (how the corpus job
calls ours: one call per page with all its anchors). ``ICU raw`` is ``list(segments())`` alone (UTF-16
offsets, no stripping), the floor of any ICU use from Python. The other processes' CPU use during
the timing is read from /proc/stat. Writes OUT/sentences.json, OUT/sentences.md and
OUT/sentences_examples.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("XLKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))

from corpus_builder import sentences as S  # noqa: E402
from corpus_builder.sentences import split_sentences  # noqa: E402
from xlkit_core.mdtable import md_lines, short_float  # noqa: E402

#: (language, script); the sources are found by language in ../shared/data.
LANGS = [
    ("en", "Latin"), ("de", "Latin"), ("fr", "Latin"), ("es", "Latin"), ("pt", "Latin"), ("pl", "Latin"),
    ("cs", "Latin"), ("sv", "Latin"), ("fi", "Latin"), ("vi", "Latin"),
    ("ru", "Cyrillic"), ("uk", "Cyrillic"), ("bg", "Cyrillic"), ("sr", "Cyrillic"),
    ("el", "Greek"), ("ar", "Arabic"), ("he", "Hebrew"), ("hi", "Devanagari"), ("ne", "Devanagari"),
    ("bn", "Bengali"), ("ta", "Tamil"), ("th", "Thai"), ("zh", "Han"), ("ja", "Japanese"), ("ko", "Hangul"),
    ("ka", "Georgian"), ("hy", "Armenian"), ("ml", "Malayalam"),
]
QUICK_CHARS = 15_000
#: Unicode character-name prefixes of each script (a page of another script is skipped: the ar minidump
#: also holds two Latin-script "Berlin" pages).
SCRIPT_NAMES = {"Latin": ("LATIN",), "Cyrillic": ("CYRILLIC",), "Greek": ("GREEK",), "Arabic": ("ARABIC",),
                "Hebrew": ("HEBREW",), "Devanagari": ("DEVANAGARI",), "Bengali": ("BENGALI",), "Tamil": ("TAMIL",),
                "Thai": ("THAI",), "Han": ("CJK",), "Japanese": ("CJK", "HIRAGANA", "KATAKANA"),
                "Hangul": ("HANGUL",), "Georgian": ("GEORGIAN",), "Armenian": ("ARMENIAN",),
                "Malayalam": ("MALAYALAM",)}


def in_script(text: str, script: str) -> bool:
    """Are at least half of the first 3,000 letters of ``text`` in ``script``?"""
    letters = [c for c in text[:6000] if c.isalpha()][:3000]
    names = SCRIPT_NAMES[script]
    return not letters or sum(unicodedata.name(c, "").startswith(names) for c in letters) * 2 >= len(letters)


def sources(lang: str) -> list[Path]:
    """The real dumps of ``lang`` in ../shared/data, the small ones first."""
    out = [SHARED / "wikipedia-dbpedia-minidumps" / lang / "wiki.xml.bz2"]
    if lang == "en":
        out.append(SHARED / "wikipedia-gensim-testdata" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
    out += sorted((SHARED / "wikipedia-xztextfilter-2023").glob(f"{lang}wiki-*.xml.bz2"))
    return [p for p in out if p.exists()]


def pages(path: Path, lang: str):
    """Main-namespace, non-redirect pages of one dump, through the corpus job's reader."""
    from corpus_builder.extract import redirect_target
    from corpus_builder.titles import Namespaces
    from corpus_builder.xmldump import RawPage, SplitPages, inspect_dump, plan_xml_splits
    from xlkit_core.fsio import open_binary

    info = inspect_dump(str(path), path.stat().st_size, lang)  # minidumps carry an enwiki header
    namespaces = Namespaces(lang, info.namespaces, first_letter_case=info.case != "case-sensitive")
    for split in plan_xml_splits([info], 1 << 40):
        with open_binary(split.path) as f:
            for rec in SplitPages(f, split):
                if not isinstance(rec, RawPage) or rec.ns != 0 or redirect_target(rec) is not None:
                    continue
                yield rec, namespaces


def load(lang: str, script: str, budget: int) -> dict:
    """Lines (with their anchors) and page prefixes of ``lang``, up to ``budget`` characters of lines."""
    from corpus_builder.wikitext import wikitext_to_plain

    lines: list[tuple[str, list[tuple[int, int]]]] = []
    page_texts: list[tuple[str, list[tuple[int, int]]]] = []
    used, n_pages, n_links, files, other_script = 0, 0, 0, [], 0
    for path in sources(lang):
        files.append(str(path.relative_to(SHARED)))
        for rec, namespaces in pages(path, lang):
            plain = wikitext_to_plain(rec.text, namespaces)
            text, links = plain.text, [(lk.start, lk.end) for lk in plain.links]
            if not in_script(text, script):
                other_script += 1
                continue
            cut, pos = 0, 0
            for line in text.splitlines(keepends=True):
                a, b = pos, pos + len(line.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"))
                pos += len(line)
                if not text[a:b].strip():
                    continue
                prot = [(s - a, e - a) for s, e in links if a <= s and e <= b]
                lines.append((text[a:b], prot))
                used += b - a
                cut = b
                if used >= budget:
                    break
            if cut:
                n_pages += 1
                kept = [(s, e) for s, e in links if e <= cut]
                n_links += len(kept)
                page_texts.append((text[:cut], kept))
            if used >= budget:
                break
        if used >= budget:
            break
    return {"lines": lines, "pages": page_texts, "chars": used, "n_pages": n_pages, "n_links": n_links,
            "files": files, "other_script_pages": other_script}


# --------------------------------------------------------------------------------------------------
# The splitters


def icu_locale(lang: str, ss: bool) -> str:
    return f"{lang}@ss=standard" if ss else lang


def icu_spans(text: str, locale: str, breaker) -> list[tuple[int, int]]:
    """ICU's segments as stripped (start, end) code-point spans, whitespace-only segments dropped."""
    out, pos = [], 0
    for seg in breaker(text, locale):
        a, b = pos, pos + len(seg)
        pos = b
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            out.append((a, b))
    return out


def boundaries(spans: list[tuple[int, int]]) -> set[int]:
    """Sentence starts after the first one."""
    return {s for s, _ in spans[1:]}


def timed(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        finally:
            gc.enable()
    return best


def _busy_jiffies() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            parts = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return sum(parts) - idle, sum(parts)


# --------------------------------------------------------------------------------------------------
# Classifying a disagreement

_CLOSE = set(S.CLOSERS) | set("\u201c\u2018")
_TOKEN_RE = re.compile(r"[\w\-\u2019']+$")


def _is_indic(c: str) -> bool:
    return 0x0900 <= ord(c) <= 0x0D7F and not c.isdigit() and c not in "\u0964\u0965"


def classify(line: str, p: int, lang: str) -> tuple[str, list[str]]:
    """What kind of boundary starts a sentence at ``line[p]``: (category, flags)."""
    e = p
    while e > 0 and line[e - 1].isspace():
        e -= 1
    k = e
    while k > 0 and line[k - 1] in _CLOSE:
        k -= 1
    term = line[k - 1] if k > 0 else ""
    prev = line[k - 2] if k > 1 else ""
    nxt = line[p]
    flags = []
    if k < e or nxt in S.OPENERS:
        flags.append("quote/bracket")
    if nxt.islower() and unicodedata.category(nxt) == "Ll":
        flags.append("next lower-case")
    if nxt.isdigit():
        flags.append("next digit")
    if e == p:
        flags.append("no space")
    if lang in ("th", "lo") and term not in S.TERMS:
        return "Thai: space between words", flags
    if term not in S.TERMS:
        return f"no terminator ({'letter' if term.isalnum() else repr(term)})", flags
    if term in "\u0964\u0965":
        return "danda", flags
    if term == "." and prev and _is_indic(prev) and lang in S._DANDA_LANGS:
        return "'.' after an Indic letter (danda language)", flags
    if term in S.CJK_TERMS or (term in "!?" and prev and S._is_cjk(prev)):
        return "CJK terminator", flags
    if e == p:
        return "terminator without a space after it", flags
    if term == ".":
        before = line[: k - 1]
        m = _TOKEN_RE.search(before)
        tok = m.group() if m else ""
        two = re.search(r"([^\W\d_]{1,4})\. ?([^\W\d_]{1,4})$", before)
        if two and S._norm(f"{two.group(1)}.{two.group(2)}") in S.abbreviations(lang):
            return "listed two-part abbreviation (z. B., т. е.)", flags
        if tok.isdigit():
            return "number + '.' (ordinal, enumeration, year)", flags
        if len(tok) == 1 and tok.isalpha():
            return ("Roman numeral I/V/X + '.'" if tok in "IVX" else "single letter + '.' (initial)"), flags
        if "." in before[-6:] and re.search(r"(?:[^\W\d_]\.){1,}[^\W\d_]$", before[-12:]):
            return "dotted abbreviation (U.S., e.g.)", flags
        if tok.lower() in S.abbreviations(lang):
            return "listed abbreviation (Dr., etc.)", flags
        if "next lower-case" in flags:
            return "'.' before a lower-case word", flags
        if tok.isalpha() and len(tok) <= 4:
            return "short word + '.' (unlisted abbreviation?)", flags
        if re.fullmatch(r"[IVXLCDM]+", tok):
            return "Roman numeral + '.'", flags
        return "'.' after a word", flags
    if term in "!?\u203c\u2047\u2048\u2049\u203d":
        return "'!' or '?'", flags
    if term == "\u2026":
        return "ellipsis", flags
    if term in S.STRONG_TERMS:
        return f"strong terminator {term!r}", flags
    return f"other terminator {term!r}", flags


SHIFTED = "same break, ICU leaves the opening bracket/quote at the end of the previous sentence"


def _opening(c: str) -> bool:
    return c in S.OPENERS or unicodedata.category(c) in ("Ps", "Pi")


def shifted_pairs(line: str, ours: set[int], icu: set[int]) -> list[tuple[int, int]]:
    """(ours, ICU) boundary pairs that are the same break, ICU's placed after the opening brackets/quotes that
    follow it (ICU's rules count opening punctuation as "Close": ``。「次`` ends a sentence after ``「``)."""
    pairs = []
    for p in sorted(icu - ours):
        j = p
        while j > 0 and line[j - 1].isspace():
            j -= 1
        k = j
        while k > 0 and _opening(line[k - 1]):
            k -= 1
        if k < j and k in ours and k not in icu:
            pairs.append((k, p))
    return pairs


def context(line: str, p: int, before: int = 110, after: int = 70) -> str:
    a, b = max(0, p - before), min(len(line), p + after)
    return ("…" if a else "") + line[a:p] + "⟦|⟧" + line[p:b] + ("…" if b < len(line) else "")


# --------------------------------------------------------------------------------------------------
# The run


def compare(data: dict, lang: str, breaker) -> dict:
    """Spans of every splitter on every line of ``lang``; agreement, classification, anchors cut."""
    res: dict = {"sentences": Counter(), "agree": {}, "anchors": Counter(), "disagreements": [], "suppressed": [],
                 "ss_added": 0}
    per_line = []
    for idx, (line, prot) in enumerate(data["lines"]):
        ours = split_sentences(line, lang, prot)
        bare = split_sentences(line, lang)
        icu = icu_spans(line, icu_locale(lang, False), breaker)
        icu_ss = icu_spans(line, icu_locale(lang, True), breaker)
        res["sentences"].update(ours=len(ours), icu=len(icu), icu_ss=len(icu_ss), lines=1)
        per_line.append((idx, boundaries(ours), boundaries(icu), boundaries(icu_ss)))
        trimmed = []
        for a, b in prot:
            while a < b and line[a].isspace():
                a += 1
            while b > a and line[b - 1].isspace():
                b -= 1
            if b - a >= 2:
                trimmed.append((a, b))
        res["anchors"]["anchors"] += len(trimmed)
        res["anchors"].update(dict.fromkeys(("ours", "ours without protected", "icu", "icu_ss"), 0))
        for name, spans in (("ours", ours), ("ours without protected", bare), ("icu", icu), ("icu_ss", icu_ss)):
            cuts = {x for sp in spans[1:] for x in sp} | {sp[1] for sp in spans[:1]}
            res["anchors"][name] += sum(any(a < x < b for x in cuts) for a, b in trimmed)
    for ref in ("icu", "icu_ss"):
        shared = ours_n = ref_n = shifted = 0
        for idx, bo, bi, bs in per_line:
            r = bi if ref == "icu" else bs
            shared += len(bo & r)
            ours_n += len(bo)
            ref_n += len(r)
            shifted += len(shifted_pairs(data["lines"][idx][0], bo, r))
        res["agree"][ref] = agreement(shared, ours_n, ref_n, shifted)
    for idx, bo, bi, bs in per_line:
        line = data["lines"][idx][0]
        pairs = shifted_pairs(line, bo, bi)
        paired = {x for pair in pairs for x in pair}
        for _, p in pairs:
            res["disagreements"].append({"lang": lang, "line": idx, "pos": p, "splits": "shifted",
                                         "category": SHIFTED, "flags": [], "context": context(line, p)})
        for p in sorted((bo ^ bi) - paired):
            cat, flags = classify(line, p, lang)
            res["disagreements"].append({"lang": lang, "line": idx, "pos": p, "splits": "ours" if p in bo else "icu",
                                         "category": cat, "flags": flags, "context": context(line, p)})
        for p in sorted(bi - bs):  # boundaries that CLDR's suppressions remove
            res["suppressed"].append({"lang": lang, "line": idx, "pos": p, "ours_splits": p in bo,
                                      "category": classify(line, p, lang)[0], "context": context(line, p)})
        res["ss_added"] += len(bs - bi)
    return res


def _f1(shared: int, ours: int, ref: int) -> tuple[float, float, float]:
    precision = shared / ours if ours else 1.0
    recall = shared / ref if ref else 1.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def agreement(shared: int, ours: int, ref: int, shifted: int = 0) -> dict:
    """Exact agreement, and ``f1_shift``: a boundary that ICU puts one opening bracket/quote later counted as shared."""
    precision, recall, f1 = _f1(shared, ours, ref)
    return {"shared": shared, "ours": ours, "icu": ref, "ours_only": ours - shared, "icu_only": ref - shared,
            "shifted": shifted, "precision": precision, "recall": recall, "f1": f1,
            "f1_shift": _f1(shared + shifted, ours, ref)[2]}


METHODS = ("ours, per line", "ICU, per line", "ICU @ss, per line", "ICU raw, per line",
           "ours, per page", "ICU, per page", "ICU raw, per page")


def timing(data: dict, lang: str, repeat: int) -> dict:
    """Best-of-``repeat`` seconds of every method; the methods take turns within each round."""
    from icu4py.breakers import SentenceBreaker

    lines, page_texts = data["lines"], data["pages"]
    loc, loc_ss = icu_locale(lang, False), icu_locale(lang, True)
    fns = {
        "ours, per line": lambda: [split_sentences(t, lang, p) for t, p in lines],
        "ICU, per line": lambda: [icu_spans(t, loc, SentenceBreaker) for t, _ in lines],
        "ICU @ss, per line": lambda: [icu_spans(t, loc_ss, SentenceBreaker) for t, _ in lines],
        "ICU raw, per line": lambda: [list(SentenceBreaker(t, loc).segments()) for t, _ in lines],
        "ours, per page": lambda: [split_sentences(t, lang, p) for t, p in page_texts],
        "ICU, per page": lambda: [icu_spans(t, loc, SentenceBreaker) for t, _ in page_texts],
        "ICU raw, per page": lambda: [list(SentenceBreaker(t, loc).segments()) for t, _ in page_texts],
    }
    best = dict.fromkeys(METHODS, float("inf"))
    for _ in range(repeat):
        for name in METHODS:
            best[name] = min(best[name], timed(fns[name], 1))
    return best


def page_check(data: dict, lang: str) -> int:
    """Lines where ours on the whole page (the corpus job's call) differs from ours on the line."""
    per_page = 0
    line_iter = iter(data["lines"])
    for text, links in data["pages"]:
        spans = split_sentences(text, lang, links)
        # group the page's sentences by line
        by_line: list[list[tuple[int, int]]] = []
        pos = 0
        for raw in text.splitlines(keepends=True):
            a, b = pos, pos + len(raw)
            pos = b
            if raw.strip():
                by_line.append([(s - a, e - a) for s, e in spans if a <= s < b])
        for got in by_line:
            line, prot = next(line_iter)
            if got != split_sentences(line, lang, prot):
                per_page += 1
    return per_page


def _sum_dicts(dicts) -> dict:
    """Key-wise sums (zeros kept, unlike adding Counters)."""
    out: dict = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def pick_examples(disagreements: list[dict], n: int, seed: int) -> list[dict]:
    """``n`` disagreements, round-robin over the languages, each language's drawn with one seeded RNG."""
    rng = random.Random(seed)
    by_lang: dict[str, list[dict]] = defaultdict(list)
    for d in disagreements:
        by_lang[d["lang"]].append(d)
    pools = {lang: rng.sample(ds, len(ds)) for lang, ds in sorted(by_lang.items())}
    out: list[dict] = []
    while len(out) < n and any(pools.values()):
        for lang in [lg for lg, _ in LANGS if pools.get(lg)]:
            if len(out) < n:
                out.append(pools[lang].pop())
    return out


def headline(r: dict) -> str:
    a, t = r["overall"]["agree"]["icu"], r["overall"]["speed"]
    return (f"bench_sentences: ours against ICU {r['versions']['icu']} on {r['overall']['chars']:,} characters of "
            f"Wikipedia in {len(r['languages'])} languages: boundary F1 {a['f1']:.3f} (precision {a['precision']:.3f}, "
            f"recall {a['recall']:.3f}; ours only {a['ours_only']:,}, ICU only {a['icu_only']:,}; F1 {a['f1_shift']:.3f} "
            f"when ICU's {a['shifted']:,} opening-bracket shifts count as agreement); per line ours "
            f"{t['ours, per line'] / 1e6:.1f} M chars/s, ICU {t['ICU, per line'] / 1e6:.1f} M chars/s "
            f"(ours/ICU {t['ours, per line'] / t['ICU, per line']:.2f}x); link anchors cut: ours "
            f"{r['overall']['anchors']['ours']}, ICU {r['overall']['anchors']['icu']} of "
            f"{r['overall']['anchors']['anchors']:,}")


def _agree_row(name: str, script: str, L: dict) -> list:
    a, b = L["agree"]["icu"], L["agree"]["icu_ss"]
    return [name, script, L["chars"], L["lines"], L["sentences"]["ours"], L["sentences"]["icu"], a["shared"],
            a["ours_only"], a["icu_only"], a["precision"], a["recall"], a["f1"], a["shifted"], a["f1_shift"], b["f1"],
            L["suppressed"],
            L["suppressed_ours_splits"]]


def render(r: dict) -> str:
    env, o = r["environment"], r["overall"]
    md = ["# Sentence splitting: ours against ICU", "", headline(r), "",
          f"{env['date']}, {env['cpu']} ({env['cpus']} CPUs), pinned to CPU {r['cpu']}; Python {env['python']}, "
          f"ICU {r['versions']['icu']} (icu4py {r['versions']['icu4py']}); up to {r['chars_per_language']:,} "
          f"characters a language; best of {r['repeat']} runs. Other processes used {env['other_cores']:.2f} "
          f"cores on average while this ran; load average {env['loadavg_start']} at the start, "
          f"{env['loadavg_end']} at the end.", "",
          "## Agreement per language", "",
          "Reference: ICU with the plain locale. `shifted`: ICU-only boundaries that are ours moved past an "
          "opening bracket or quote (`。「次` → ICU `。「|次`, ours `。|「次`); `F1 shift forgiven` counts them as "
          "shared. `F1 @ss`: exact, against ICU with CLDR's suppressions "
          "(`lang@ss=standard`); `suppressed`: plain-ICU boundaries that the suppressions remove, and how many "
          "of those ours keeps.", ""]
    rows = [_agree_row(lang, L["script"], L) for lang, L in r["languages"].items()]
    rows.append(_agree_row("**all**", "", o))
    md += md_lines(["lang", "script", "chars", "lines", "sentences ours", "sentences ICU", "shared boundaries",
                     "ours only", "ICU only", "precision", "recall", "F1", "shifted", "F1 shift forgiven", "F1 @ss",
                     "suppressed",
                     "of which ours splits"], rows, short_float)
    md += ["", "## Speed (one core, M characters per second)", ""]
    rows = [[lang] + [L["chars" if "line" in m else "page_chars"] / L["seconds"][m] / 1e6 for m in METHODS]
            for lang, L in r["languages"].items()]
    rows.append(["**all**"] + [o["speed"][m] / 1e6 for m in METHODS])
    md += md_lines(["lang", *METHODS], rows, short_float)
    sp = o["speed"]
    md += ["", f"ours / ICU per line {sp['ours, per line'] / sp['ICU, per line']:.2f}x, per page "
           f"{sp['ours, per page'] / sp['ICU, per page']:.2f}x; ours / ICU @ss per line "
           f"{sp['ours, per line'] / sp['ICU @ss, per line']:.2f}x; ours / ICU raw (segments() only) per line "
           f"{sp['ours, per line'] / sp['ICU raw, per line']:.2f}x, per page "
           f"{sp['ours, per page'] / sp['ICU raw, per page']:.2f}x. Above 1: ours is faster.",
           f"Ours on whole pages (the corpus job's call) gives the same sentences as on the lines on all but "
           f"{o['page_mismatch_lines']} lines.", "", "## Link anchors cut", "",
           f"{o['anchors']['anchors']:,} link anchors (trimmed, 2+ characters) in the lines. A sentence boundary "
           f"falls inside: ours {o['anchors']['ours']}, ours without `protected` {o['anchors']['ours without protected']}, "
           f"ICU {o['anchors']['icu']}, ICU @ss {o['anchors']['icu_ss']}.", "",
           "## Disagreements by kind (against plain ICU)", ""]
    rows = [[c, v.get("ours", 0), v.get("icu", 0), v.get("shifted", 0), ", ".join(f"{k} {n}" for k, n in sorted(
        r["category_langs"][c].items(), key=lambda kv: -kv[1])[:6])]
        for c, v in sorted(o["categories"].items(), key=lambda kv: -(sum(kv[1].values())))]
    md += md_lines(["kind (context of the boundary)", "only ours splits", "only ICU splits", "shifted pair",
                     "languages (most)"], rows, short_float)
    md += ["", "Flags over all disagreements: " + ", ".join(f"{k} {v}" for k, v in o["flags"].items()) + ".", ""]
    return "\n".join(md)


def render_examples(r: dict) -> str:
    md = ["# Sentence splitting: disagreements to judge by hand", "",
          f"{len(r['examples'])} disagreements against plain-locale ICU {r['versions']['icu']}, seed {r['seed']}, in two "
          "strata of equal size, each drawn round-robin over the languages: "
          + "; ".join(f"{k}: {v:,} in all" for k, v in r["strata"].items())
          + ". `⟦|⟧` marks the boundary that only the named splitter puts there (the text's own whitespace is "
          "kept around it).", ""]
    for i, d in enumerate(r["examples"], 1):
        who = {"ours": "only ours splits", "icu": "only ICU splits", "shifted": "both split, ICU after the opener"}
        md += [f"{i}. **{d['lang']}**, {who[d['splits']]}; {d['category']}"
               + (f" [{', '.join(d['flags'])}]" if d["flags"] else ""), "", f"    {d['context']}", ""]
    md += ["## Boundaries removed by ICU's CLDR suppressions (@ss=standard), a sample", ""]
    for i, d in enumerate(r["suppressed_examples"], 1):
        md += [f"{i}. **{d['lang']}**, ours {'splits there' if d['ours_splits'] else 'does not split there either'}; "
               f"{d['category']}", "", f"    {d['context']}", ""]
    return "\n".join(md)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_sentences.py", description=__doc__.split("\n")[0])
    p.add_argument("--chars", type=int, default=1_000_000, help="characters of text per language (default 1000000)")
    p.add_argument("--repeat", type=int, default=5, help="timing rounds; the best counts (default 5)")
    p.add_argument("--examples", type=int, default=40, help="disagreements sampled for judging (default 40)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--langs", help="comma-separated subset of the languages")
    p.add_argument("--cpu", type=int, default=None, help="the CPU to pin to (default: the last one allowed)")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke run: {QUICK_CHARS:,} characters a language, one repeat, files named sentences_quick*")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = p.parse_args(argv)
    try:
        from icu4py import _version as icu_version
        from icu4py.breakers import SentenceBreaker
    except ImportError:
        print("bench_sentences: icu4py is not installed; install the lock: "
              ".venv/bin/pip install --require-hashes --no-deps -r requirements.lock", file=sys.stderr)
        return 2
    if args.quick:
        args.chars, args.repeat = min(args.chars, QUICK_CHARS), 1
    langs = LANGS
    if args.langs:
        want = set(args.langs.split(","))
        langs = [x for x in LANGS if x[0] in want]
    t_start = time.perf_counter()
    data = {lang: load(lang, script, args.chars) for lang, script in langs if sources(lang)}
    print(f"bench_sentences: {sum(d['chars'] for d in data.values()):,} characters in {len(data)} languages "
          f"loaded in {time.perf_counter() - t_start:.1f} s", file=sys.stderr)

    cpu = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    env = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpu": platform.processor() or platform.machine(),
           "cpus": os.cpu_count(), "python": platform.python_version(),
           "loadavg_start": [round(v, 2) for v in os.getloadavg()]}
    try:
        with open("/proc/cpuinfo") as f:
            env["cpu"] = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), env["cpu"])
    except OSError:
        pass
    try:
        from importlib.metadata import version

        icu4py_version = version("icu4py")
    except Exception:  # noqa: BLE001
        icu4py_version = None
    report: dict = {"environment": env, "cpu": cpu, "repeat": args.repeat, "chars_per_language": args.chars,
                    "seed": args.seed, "quick": args.quick,
                    "versions": {"icu": icu_version.icu_version, "icu4py": icu4py_version}, "languages": {}}
    everything: list[dict] = []
    suppressed: list[dict] = []
    wall_t, cpu_t, jif0 = time.perf_counter(), time.process_time(), _busy_jiffies()
    for lang, script in langs:
        if lang not in data:
            continue
        d = data[lang]
        cmp = compare(d, lang, SentenceBreaker)
        secs = timing(d, lang, args.repeat)
        everything += cmp["disagreements"]
        suppressed += cmp["suppressed"]
        cats = Counter(f"{x['category']} | {x['splits']}" for x in cmp["disagreements"])
        report["languages"][lang] = {
            "script": script, "files": d["files"], "pages": d["n_pages"], "other_script_pages": d["other_script_pages"],
            "chars": d["chars"],
            "page_chars": sum(len(t) for t, _ in d["pages"]), "lines": len(d["lines"]), "links": d["n_links"],
            "sentences": dict(cmp["sentences"]), "agree": cmp["agree"], "anchors": dict(cmp["anchors"]),
            "suppressed": len(cmp["suppressed"]), "suppressed_ours_splits": sum(x["ours_splits"] for x in cmp["suppressed"]),
            "ss_added": cmp["ss_added"], "seconds": secs, "page_mismatch_lines": page_check(d, lang),
            "categories": dict(cats.most_common()),
        }
        a = cmp["agree"]["icu"]
        print(f"  {lang:<3} {d['chars']:>8,} chars  F1 {a['f1']:.3f}  ours only {a['ours_only']:>4}  ICU only "
              f"{a['icu_only']:>4}  ours {d['chars'] / secs['ours, per line'] / 1e6:5.1f} M/s  ICU "
              f"{d['chars'] / secs['ICU, per line'] / 1e6:5.1f} M/s", file=sys.stderr, flush=True)
    jif1 = _busy_jiffies()
    wall, own = time.perf_counter() - wall_t, time.process_time() - cpu_t
    tick = os.sysconf("SC_CLK_TCK")
    env["other_cores"] = max(0.0, ((jif1[0] - jif0[0]) / tick - own) / wall) if jif0 and jif1 else float("nan")
    env["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]

    L = report["languages"]
    overall: dict = {key: sum(x[key] for x in L.values())
                     for key in ("chars", "page_chars", "lines", "page_mismatch_lines", "suppressed",
                                 "suppressed_ours_splits", "ss_added")}
    overall["sentences"] = _sum_dicts(x["sentences"] for x in L.values())
    overall["anchors"] = _sum_dicts(x["anchors"] for x in L.values())
    overall["agree"] = {ref: agreement(*(sum(x["agree"][ref][k] for x in L.values()) for k in ("shared", "ours", "icu", "shifted")))
                        for ref in ("icu", "icu_ss")}
    overall["speed"] = {m: overall["chars" if "line" in m else "page_chars"] / sum(x["seconds"][m] for x in L.values())
                        for m in METHODS}
    cats: dict[str, Counter] = defaultdict(Counter)
    cat_langs: dict[str, Counter] = defaultdict(Counter)
    flags: Counter = Counter()
    for x in everything:
        cats[x["category"]][x["splits"]] += 1
        cat_langs[x["category"]][x["lang"]] += 1
        flags.update(x["flags"])
    overall["categories"] = {c: dict(v) for c, v in cats.items()}
    overall["flags"] = dict(flags.most_common())
    report["overall"] = overall
    report["category_langs"] = {c: dict(v) for c, v in cat_langs.items()}
    # two strata of equal size, so that each splitter's own errors get judged: boundaries only ours has, and
    # boundaries only ICU has (its shifted openers included)
    ours_pool = [x for x in everything if x["splits"] == "ours"]
    icu_pool = [x for x in everything if x["splits"] != "ours"]
    half = args.examples // 2
    report["strata"] = {"only ours splits": len(ours_pool), "only ICU splits (or shifted)": len(icu_pool)}
    report["examples"] = pick_examples(ours_pool, half, args.seed) + pick_examples(icu_pool, args.examples - half,
                                                                                   args.seed)
    report["suppressed_examples"] = pick_examples(suppressed, min(12, args.examples), args.seed)
    report["disagreements"] = everything
    report["suppressed"] = suppressed
    report["seconds_total"] = time.perf_counter() - t_start

    print(headline(report), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "sentences_quick" if args.quick else "sentences"
    (out / f"{stem}.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / f"{stem}.md").write_text(render(report), encoding="utf-8")
    (out / f"{stem}_examples.md").write_text(render_examples(report), encoding="utf-8")
    print(render(report))
    print(f"bench_sentences: {report['seconds_total']:.0f} s in all; wrote {out}/{stem}.json, {stem}.md and "
          f"{stem}_examples.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
