"""Wikitext to plain text, with the exact character span of every internal link.

``wikitext_to_plain(wikitext, namespaces)`` returns a :class:`PlainPage`: the article's plain
text, its links (``text[link.start:link.end] == link.surface`` always holds; the links are sorted
and do not overlap) and the lead paragraph. It never raises on any input string.

How it works, in four passes over the page (none of them re-parses the whole page):

1. **Preprocessor scan** (hand-written, linear): removes comments (a comment alone on its line
   takes the line with it, as in MediaWiki), templates and parser functions with their nesting
   (``{{...}}``; an unclosed ``{{`` stays as text), the tags whose content is dropped
   (:data:`DROP_CONTENT_TAGS`: ``<ref>``, ``<gallery>``, ``<math>``, ``<pre>``, ``<code>``,
   ``<syntaxhighlight>``...), self-closing tags, and tables (``{| ... |}`` at line starts,
   nested, an unclosed table runs to the end of the page as in MediaWiki). ``<nowiki>`` content
   is parked and put back literally at the end. On wikis with language variants (zh, sr, ...)
   ``-{...}-`` converter markup is replaced by its first variant. Behaviour switches
   (``__NOTOC__``, localized ones such as ``__目次非表示__``: any ``__X__`` whose X has no lower-case
   letter) are removed.
2. **Links**: wikitextparser's link scan runs once, on what is left (much smaller than the
   page), for its ``wikilinks``, nested ones included, so that a file's caption goes with the
   file (:func:`corpus_builder.linkscan.wikilinks`: the same links as
   ``wikitextparser.parse(text).wikilinks``, without its per-link objects and scans). Links to
   files, categories and other languages are dropped with their captions; other internal links keep their anchor text (plus the link trail) and become
   :class:`Link` records. Then external links, found with MediaWiki's own regex (wikitextparser's
   ``external_links`` cost more than the rest of the conversion): ``[url label]`` keeps the
   label only, ``[url]`` disappears, bare URLs stay.
3. **Inline markup**: the markup of HTML tags is removed and their text kept (``<br>`` is a
   space); bold and italic quotes are removed (2, 3 or 5 apostrophes vanish, 4 leave one, more
   than 5 leave the surplus; MediaWiki's balancing of unpaired ``'''`` is not imitated).
4. **Lines and paragraphs**: headings end a paragraph and are dropped (the first heading ends
   the lead section); blank lines end a paragraph; lines of a paragraph are joined with a space
   (MediaWiki renders a single newline as a space); list items (``*``, ``#``, ``:``, ``;``
   markers stripped) form a paragraph of their own, one item per line; a line that held only
   removed things (a category, a file, a comment...) is skipped without ending the paragraph.
   Then HTML entities are decoded, whitespace is collapsed, and parentheses emptied by a
   removed template are removed (``( )``, ``(; born``, ``(, )``, ``(French: )`` → ``(French)``,
   full-width ``（）`` too); a space left before ``,`` or ``.`` after a word, or before CJK
   punctuation, goes.

The lead (:attr:`PlainPage.lead`) is the first paragraph before the first heading that is not a
list or indented block (an indented first line is a hatnote: ``:''For other uses, see...''``),
or ``""``.

Choices to know:

* Whitespace: every Unicode whitespace character in the text (NBSP and ``&nbsp;``, U+3000, tabs)
  becomes an ASCII space; runs collapse to one space.
* Link trail: letters right after ``]]`` join the anchor (``[[Berlin]]er`` → ``Berliner``).
  A trail letter is any Unicode letter or combining mark that is not upper-case and not of a
  script written without spaces (Han, Kana, Hangul, Thai, Lao, Khmer, Myanmar, Tibetan), since
  there a trail would swallow the next word. MediaWiki's trails are per language (enwiki's is
  ``[a-z]+``); this is one rule for all.
* A link without a pipe shows its target as written, without a leading colon
  (``[[:Category:X]]`` → ``Category:X``); ``Link.target`` is the target as written, stripped,
  e.g. ``Berlin#History`` or ``:Category:X``; the resolver normalises it.
* Links to other languages with a leading colon (``[[:de:Berlin|x]]``), interwiki links
  (``[[wikt:word|word]]``) and links to other namespaces (``[[Help:Contents|help]]``) keep their
  text and become Link records; the resolver classifies them with ``Namespaces.classify``.
* Templates are dropped whole, ``{{lang|de|Berlin}}`` included: only what wikitext writes
  directly is kept. Tables go with their text.
* Characters U+F0000..U+10FFFF (the supplementary private-use planes) are used as internal
  markers and are removed from the input first.
* At most 65,534 links per page get a Link record (later ones keep their text only), and at most
  65,000 ``<nowiki>`` blocks keep their content.

A page for which wikitextparser's own scanner raises is converted with a fallback that finds
the links by plain bracket matching (:func:`_fallback_links`); no such input is known (the
property tests feed it hostile token soups), and the fallback is entered only for the exception
types wikitextparser can raise on malformed spans (``ValueError``, ``IndexError``,
``TypeError``), never for a bug of this module.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html import unescape
from typing import NamedTuple

from .linkscan import wikilinks
from .titles import Namespaces

__all__ = ["DROP_CONTENT_TAGS", "Link", "PlainPage", "wikitext_to_plain"]


class Link(NamedTuple):
    """An internal link in :attr:`PlainPage.text`: ``text[start:end] == surface``."""

    start: int
    end: int
    surface: str
    target: str


@dataclass(slots=True)
class PlainPage:
    """A page as plain text: paragraphs separated by one blank line, list items by one newline."""

    text: str
    links: list[Link] = field(default_factory=list)
    lead: str = ""


#: Tags whose content is dropped with them (extension tags, preformatted and code blocks).
DROP_CONTENT_TAGS: frozenset[str] = frozenset("""
ref references gallery math chem ce syntaxhighlight source code pre timeline score templatedata
templatestyles hiero graph mapframe maplink imagemap inputbox categorytree charinsert indicator
includeonly section dynamicpagelist poll rss quiz tabber tabs phonos
""".split())

#: HTML tags whose markup is removed and whose content is kept (MediaWiki's allowed HTML plus the
#: extension tags that show their content).
KEEP_CONTENT_TAGS: frozenset[str] = frozenset("""
abbr b bdi bdo big blockquote br caption center cite data dd del dfn div dl dt em font h1 h2 h3
h4 h5 h6 hr i ins kbd li link mark meta ol p q rb rp rt rtc ruby s samp small span strike strong
sub sup table td th time tr tt u ul var wbr noinclude onlyinclude poem nowiki
""".split())

# --- internal markers (removed from the input first) -----------------------------------------
_OPEN0 = 0xF0000                 # chr(_OPEN0 + i) opens link i
_MAX_LINKS = 0xFFFE
_CLOSE = "\U00100000"            # closes the open link
_BLOCK = "\U00100001"            # something removed here: stops a link trail; skipped if alone
_NOWIKI0 = 0x100010              # chr(_NOWIKI0 + j) stands for the content of nowiki block j
_MAX_NOWIKI = 65000
_RESERVED = re.compile("[\U000F0000-\U0010FFFF]")
_ANY_OPEN = "[\U000F0000-\U000FFFFD]"
_NOWIKI_RE = re.compile(f"[{chr(_NOWIKI0)}-{chr(_NOWIKI0 + _MAX_NOWIKI)}]")
_MARKER_SPLIT = re.compile("([\U000F0000-\U00100000])")

# --- pass 1: preprocessor --------------------------------------------------------------------
_TAG_NAMES = "|".join(sorted(DROP_CONTENT_TAGS | {"nowiki"}, key=len, reverse=True))
_PRE_TOKEN = re.compile(
    r"<!--|\{\{|\}\}|<(/?)(" + _TAG_NAMES + r")(?=[\s/>])([^<>]{0,2000}?)(/?)>", re.IGNORECASE)
_TABLE_EDGE = re.compile(r"^[ \t:]*(\{\||\|\})", re.MULTILINE)
_SWITCH = re.compile(r"__([^\W\d_][\w]{0,60}?)__")
_CONVERTER = re.compile(r"-\{([^\n]{0,1000}?)\}-")
_CONVERTER_FLAGS = re.compile(r"\s*([A-Za-z+\-]{1,3}(?:\s*;\s*[A-Za-z+\-]{1,3})*)\s*\|")
_VARIANT_RULE = re.compile(r"\s*[a-z]{2,3}(?:-[a-zA-Z]{2,5})*\s*:")
_VARIANT_SPLIT = re.compile(r";\s*[a-z]{2,3}(?:-[a-zA-Z]{2,5})*\s*:")
#: Wikis whose pages may carry language-converter markup ``-{...}-``.
VARIANT_LANGS = frozenset("zh gan wuu sr sh kk ku tg uz shi crh ban iu ike tly zgh".split())

# --- pass 2/3: links and inline markup -------------------------------------------------------
_BRACKETS = re.compile(r"\[\[|\]\]")
_INNER_LINK = re.compile(r"\[\[([^\[\]|]*)(?:\|([^\[\]]*))?\]\]")
_INNER_EXTLINK = re.compile(r"\[(?:[a-zA-Z][a-zA-Z0-9+.\-]*:)?//[^\s\]]*\s*([^\]]*)\]")
_URL_PROTOCOLS = (
    "bitcoin:|ftp://|ftps://|geo:|git://|gopher://|http://|https://|irc://|ircs://|magnet:|mailto:|"
    "matrix:|mms://|news:|nntp://|redis://|sftp://|sip:|sips:|sms:|ssh://|svn://|tel:|telnet://|"
    "urn:|worldwind://|xmpp:|//")
#: MediaWiki's ``Parser::EXT_LINK_BRACKETED``: ``[url label]``; the label cannot hold ``]`` or a
#: newline, nor (unlike MediaWiki, to stay linear on unclosed brackets) ``[``. Applied after the
#: wikilinks were replaced, as MediaWiki does, so a wikilink inside a label stays a link.
_EXT_LINK = re.compile(
    r"\[(?:" + _URL_PROTOCOLS + r")[^\]\[<>\"\x00-\x20\x7f\s\ufffd\U000F0000-\U0010FFFF]+"
    r"\s*([^\[\]\x00-\x08\x0a-\x1f\ufffd]*)\]", re.IGNORECASE)
_HTML_TAG = re.compile(
    r"</?(" + "|".join(sorted(KEEP_CONTENT_TAGS, key=len, reverse=True)) + r")(?=[\s/>])[^<>]{0,2000}>",
    re.IGNORECASE)
_QUOTES = re.compile(r"'{2,}")
_BAD_TARGET = re.compile("[<>\\[\\]{}|\n\U000F0000-\U0010FFFF]")

# --- pass 4: cleanup -------------------------------------------------------------------------
_SPACE_AFTER_OPEN = re.compile(f"({_ANY_OPEN}) ")
_EMPTY_LINK = re.compile(f"{_ANY_OPEN}{_CLOSE}")
_EMPTY_PARENS = re.compile(r"[(（][\s,;:，；：、]*[)）]")
_PAREN_LEFT = re.compile(r"([(（])[\s,;，；、]+")
_PAREN_RIGHT = re.compile(r"[\s,;:，；：、]+(?=[)）])")
_SPACE_PUNCT = re.compile(r" (?=[,.](?: |$))(?<=[^\W_] )| (?=[、。，．；：！？」』])")
_SPACES = re.compile(r" {2,}")
# The cheap tests of _clean_line. By then all whitespace is " ", so ``\s`` above is " " there.
_OPENING, _CLOSING = ("(", "（"), (")", "）")
_PAREN_FILL = frozenset(" ,;:，；：、")              # what _EMPTY_PARENS and _PAREN_RIGHT remove
_PAREN_LEFT_FILL = frozenset(" ,;，；、")             # what _PAREN_LEFT removes
_EMPTY_PAREN_NEXT = _PAREN_FILL | frozenset(_CLOSING)
_PUNCT_AFTER_SPACE = re.compile(" [,.、。，．；：！？」』]")   # _SPACE_PUNCT needs one of these
_LIST_MARKERS = "*#:;"
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_NO_TRAIL_SCRIPTS = (
    (0x0E00, 0x0FFF),    # Thai, Lao, Tibetan
    (0x1000, 0x109F),    # Myanmar
    (0x1100, 0x11FF),    # Hangul Jamo
    (0x1780, 0x17FF),    # Khmer
    (0x2E80, 0xA4CF),    # CJK radicals, Kana, Bopomofo, Hangul compatibility, CJK, Yi
    (0xAC00, 0xD7FF),    # Hangul syllables
    (0xF900, 0xFAFF),    # CJK compatibility ideographs
    (0xFF00, 0xFFEF),    # half- and full-width forms
    (0x20000, 0x3FFFF),  # CJK extensions
)


def _is_trail_char(ch: str) -> bool:
    cat = unicodedata.category(ch)
    if cat not in ("Ll", "Lo", "Lm", "Mn", "Mc"):
        return False
    code = ord(ch)
    return not any(lo <= code <= hi for lo, hi in _NO_TRAIL_SCRIPTS)


def _trail(text: str, pos: int) -> int:
    """End of the link trail that starts at ``pos``."""
    end, n = pos, len(text)
    while end < n:
        ch = text[end]
        if ch < "\x80":        # ASCII: the trail letters are a-z (the only ASCII Ll)
            if not "a" <= ch <= "z":
                break
        elif not _is_trail_char(ch):
            break
        end += 1
    return end


def _decode_entity(match: re.Match) -> str:
    return _RESERVED.sub("", unescape(match.group()))


# ---------------------------------------------------------------------------------------------
# Pass 1
# ---------------------------------------------------------------------------------------------

def _preprocess(text: str, nowikis: list[str]) -> str:
    """Remove comments, templates, dropped tags; park nowiki content (see the module docstring)."""
    # (start, end, replacement); a replacement (content start, content end) is a nowiki block.
    ops: list[tuple[int, int, str | tuple[int, int]]] = []
    open_braces: list[int] = []
    no_close_from: dict[str, int] = {}
    n = len(text)
    pos = 0
    search = _PRE_TOKEN.search
    while (m := search(text, pos)) is not None:
        tok = m.group()
        start, pos = m.span()
        if tok == "{{":
            open_braces.append(start)
        elif tok == "}}":
            if open_braces:
                ops.append((open_braces.pop(), pos, ""))
            else:
                pos = start + 1    # a stray '}}' is text, but its second '}' may close '{{'
        elif tok == "<!--":
            close = text.find("-->", pos)
            pos = n if close == -1 else close + 3
            ops.append(_comment_span(text, start, pos))
        else:
            closing, name, _, selfclosing = m.group(1, 2, 3, 4)
            name = name.lower()
            if closing or selfclosing:
                ops.append((start, pos, _BLOCK))
                continue
            end_tag = None
            if no_close_from.get(name, n + 1) > pos:
                end_tag = _close_tag(name).search(text, pos)
            if end_tag is None:      # unclosed: only the opening tag goes
                no_close_from[name] = min(pos, no_close_from.get(name, n + 1))
                ops.append((start, pos, _BLOCK))
                continue
            ops.append((start, end_tag.end(), (pos, end_tag.start()) if name == "nowiki" else _BLOCK))
            pos = end_tag.end()
    if not ops:
        return text
    # Apply the outermost operations: those inside a removed template are moot. Spans nest or
    # are disjoint, so sorting by (start, longest first) and skipping covered ones is enough.
    ops.sort(key=lambda op: (op[0], -op[1]))
    out: list[str] = []
    pos = 0
    for start, end, repl in ops:
        if start < pos:
            continue
        out.append(text[pos:start])
        if isinstance(repl, tuple):
            if len(nowikis) < _MAX_NOWIKI:
                nowikis.append(text[repl[0]:repl[1]])
                repl = chr(_NOWIKI0 + len(nowikis) - 1)
            else:
                repl = _BLOCK
        out.append(repl)
        pos = end
    out.append(text[pos:])
    return "".join(out)


_CLOSE_TAGS: dict[str, re.Pattern] = {}


def _close_tag(name: str) -> re.Pattern:
    pattern = _CLOSE_TAGS.get(name)
    if pattern is None:
        pattern = _CLOSE_TAGS[name] = re.compile(r"</" + name + r"\s*>", re.IGNORECASE)
    return pattern


def _comment_span(text: str, start: int, end: int) -> tuple[int, int, str]:
    """A comment alone on its line (only blanks around it) is removed with its newline."""
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].strip(" \t") == "":
        line_end = text.find("\n", end)
        if line_end != -1 and text[end:line_end].strip(" \t") == "":
            return (line_start, line_end + 1, "")
    return (start, end, "")


def _remove_tables(text: str) -> str:
    """Drop ``{| ... |}`` tables (nested; an unclosed one runs to the end) with their text."""
    if "{|" not in text:
        return text
    out: list[str] = []
    pos = depth = 0
    table_start = 0
    for m in _TABLE_EDGE.finditer(text):
        if m.group(1) == "{|":
            if depth == 0:
                table_start = m.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                line_end = text.find("\n", m.end())
                out.append(text[pos:table_start])
                pos = len(text) if line_end == -1 else line_end
    if depth:
        out.append(text[pos:table_start])
        pos = len(text)
    out.append(text[pos:])
    return "".join(out)


def _convert_variants(match: re.Match) -> str:
    """``-{...}-``: hidden and title rules vanish; otherwise the text, or its first variant."""
    body = match.group(1)
    flags = _CONVERTER_FLAGS.match(body)
    if flags:
        names = {f.strip() for f in flags.group(1).split(";")}
        if names & {"H", "T", "-"}:
            return _BLOCK
        body = body[flags.end():]
        if "R" in names:
            return body
    if _VARIANT_RULE.match(body):
        first = _VARIANT_SPLIT.split(body, maxsplit=1)[0]
        return first.partition(":")[2].strip()
    return body


def _drop_switch(match: re.Match) -> str:
    return match.group() if any(c.islower() for c in match.group(1)) else _BLOCK


# ---------------------------------------------------------------------------------------------
# Pass 2: links
# ---------------------------------------------------------------------------------------------

def _flatten(text: str) -> str:
    """Anchor text inside a link: nested link markup reduced to its text, one line."""
    if "[" in text:
        text = _INNER_LINK.sub(lambda m: m.group(2) if m.group(2) is not None else m.group(1).lstrip(":"), text)
        text = _INNER_EXTLINK.sub(r"\1", text)
    return text.replace("\n", " ")


def _expand_nowikis(text: str, nowikis: list[str]) -> str:
    return _NOWIKI_RE.sub(lambda m: nowikis[ord(m.group()) - _NOWIKI0], text)


def _link_ops(text: str, namespaces: Namespaces, nowikis: list[str],
              targets: list[str]) -> list[tuple[int, int, str]]:
    """Replacements for the outermost wikilinks of ``text``, found as wikitextparser finds them."""
    try:
        found = wikilinks(text)
    except (ValueError, IndexError, TypeError):     # see the module docstring
        return _fallback_links(text, namespaces, nowikis, targets)
    # sorted by start, outer links first: wikilinks sorts by (start, end), and no two links
    # start at one position (a link found is blanked out before the next is sought)
    ops: list[tuple[int, int, str]] = []
    covered = 0
    for start, end, target, label in found:
        if start < covered:
            continue
        op = _wikilink_op(text, start, end, target, label, namespaces, nowikis, targets)
        if op is not None:
            ops.append(op)
            covered = op[1]
    return ops


def _fallback_links(text: str, namespaces: Namespaces, nowikis: list[str],
                    targets: list[str]) -> list[tuple[int, int, str]]:
    """The outermost ``[[...]]`` by bracket matching, for a page wikitextparser cannot scan."""
    stack: list[int] = []
    ops: list[tuple[int, int, str]] = []
    for m in _BRACKETS.finditer(text):
        if m.group() == "[[":
            stack.append(m.start())
        elif stack:
            start = stack.pop()
            if stack or (ops and start < ops[-1][1]):
                continue
            target, bar, label = text[start + 2:m.start()].partition("|")
            op = _wikilink_op(text, start, m.end(), target, label if bar else None,
                              namespaces, nowikis, targets)
            if op is not None:
                ops.append(op)
    return ops


def _wikilink_op(text: str, start: int, end: int, raw_target: str, label: str | None,
                 namespaces: Namespaces, nowikis: list[str],
                 targets: list[str]) -> tuple[int, int, str] | None:
    """The replacement of the link ``text[start:end]`` (and of its trail), or None if invalid."""
    if _BLOCK in raw_target:
        raw_target = raw_target.replace(_BLOCK, "")
    if nowikis and _NOWIKI_RE.search(raw_target):      # no nowiki block, no marker of one
        raw_target = _expand_nowikis(raw_target, nowikis)
    target = raw_target.strip()
    if not target.lstrip(":").strip() or _BAD_TARGET.search(target):
        return None     # not a valid title: MediaWiki shows the brackets as text
    kind = namespaces.classify(target)[0] if ":" in target or "&" in target else "main"
    colon = target.startswith(":")
    if kind in ("file", "category") or (kind == "interlanguage" and not colon):
        return (start, end, _BLOCK)
    if not label:       # no pipe, or the empty label of an unexpanded pipe trick
        label = target[1:].lstrip() if colon else target
    trail_end = _trail(text, end)
    anchor = _flatten(label) + text[end:trail_end]
    if len(targets) >= _MAX_LINKS:
        return (start, trail_end, anchor)
    targets.append(target)
    return (start, trail_end, chr(_OPEN0 + len(targets) - 1) + anchor + _CLOSE)


def _apply(text: str, ops: list[tuple[int, int, str]]) -> str:
    out: list[str] = []
    pos = 0
    for start, end, repl in ops:
        out.append(text[pos:start])
        out.append(repl)
        pos = end
    out.append(text[pos:])
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Pass 3: inline markup
# ---------------------------------------------------------------------------------------------

def _html_tag(match: re.Match) -> str:
    return " " if match.group(1).lower() == "br" else ""


def _quotes(match: re.Match) -> str:
    n = len(match.group())
    if n == 4:
        return "'"
    return "'" * (n - 5) if n > 5 else ""


# ---------------------------------------------------------------------------------------------
# Pass 4: lines, paragraphs, cleanup
# ---------------------------------------------------------------------------------------------

def _paragraphs(text: str) -> list[tuple[int, bool, list[str]]]:
    """Group lines into (section number, is a list, lines) blocks; headings start sections."""
    blocks: list[tuple[int, bool, list[str]]] = []
    section = 0
    lines: list[str] = []
    is_list = False
    for line in text.split("\n"):
        body = line.replace(_BLOCK, "").strip()
        if not body:
            if _BLOCK not in line and lines:         # a blank line ends the paragraph
                blocks.append((section, is_list, lines))
                lines = []
            continue
        if len(body) > 2 and body[0] == "=" and body[-1] == "=":
            if lines:
                blocks.append((section, is_list, lines))
                lines = []
            section += 1
            continue
        if body.startswith("----"):
            if lines:
                blocks.append((section, is_list, lines))
                lines = []
            body = body.lstrip("-").strip()
            if not body:
                continue
        item = body[0] in _LIST_MARKERS
        if item:
            body = body.lstrip(_LIST_MARKERS)
        if lines and item != is_list:
            blocks.append((section, is_list, lines))
            lines = []
        is_list = item
        lines.append(body)
    if lines:
        blocks.append((section, is_list, lines))
    return blocks


def _collapse_whitespace(line: str) -> str:
    """Every run of whitespace (``str.isspace``) becomes one space, at the ends too (no strip)."""
    words = line.split()
    if not words:
        return " " if line else ""
    out = " ".join(words)
    if line[0].isspace():
        out = " " + out
    if line[-1].isspace():
        out += " "
    return out


def _followed_by(line: str, marks: tuple[str, ...], chars: frozenset[str]) -> bool:
    """Whether some mark in ``line`` is directly followed by one of ``chars``."""
    for mark in marks:
        i = line.find(mark)
        while i != -1:
            if line[i + 1:i + 2] in chars:
                return True
            i = line.find(mark, i + 1)
    return False


def _preceded_by(line: str, marks: tuple[str, ...], chars: frozenset[str]) -> bool:
    """Whether some mark in ``line`` directly follows one of ``chars``."""
    for mark in marks:
        i = line.find(mark, 1)
        while i != -1:
            if line[i - 1] in chars:
                return True
            i = line.find(mark, i + 1)
    return False


def _clean_line(line: str, nowikis: list[str]) -> str:
    """One line's text: entities decoded, whitespace collapsed, link markers tidied, emptied
    parentheses and stray spaces before punctuation removed. Each substitution runs only where
    a cheap test shows it has something to change (the tests are exact: where one says no, the
    substitution would return its input)."""
    if nowikis and _NOWIKI_RE.search(line):
        line = _expand_nowikis(line, nowikis)
    if "&" in line:
        line = _ENTITY.sub(_decode_entity, line)
    line = _collapse_whitespace(line.replace(_BLOCK, ""))
    if _CLOSE in line:      # spaces at the ends of an anchor move outside it; empty ones go
        line = _SPACE_AFTER_OPEN.sub(r" \1", line.replace(" " + _CLOSE, _CLOSE + " "))
        line = _EMPTY_LINK.sub("", line)
    if "(" in line or "（" in line:
        if _followed_by(line, _OPENING, _EMPTY_PAREN_NEXT):
            line = _EMPTY_PARENS.sub("", line)
        if _followed_by(line, _OPENING, _PAREN_LEFT_FILL):
            line = _PAREN_LEFT.sub(r"\1", line)
        if _preceded_by(line, _CLOSING, _PAREN_FILL):
            line = _PAREN_RIGHT.sub("", line)
    if _PUNCT_AFTER_SPACE.search(line):
        line = _SPACE_PUNCT.sub("", line)
    if "  " in line:
        line = _SPACES.sub(" ", line)
    return line.strip()


def _strip_markers(text: str) -> str:
    return _RESERVED.sub("", text)


def _extract(text: str, targets: list[str]) -> tuple[str, list[Link]]:
    """Remove the link markers from ``text`` and turn them into Link records."""
    parts = _MARKER_SPLIT.split(text)
    pieces: list[str] = []
    spans: list[tuple[int, int, int]] = []
    pos = 0
    open_link = -1
    open_pos = 0
    for i, part in enumerate(parts):
        if i % 2 == 0:
            pieces.append(part)
            pos += len(part)
        elif part == _CLOSE:
            if open_link >= 0 and pos > open_pos:
                spans.append((open_pos, pos, open_link))
            open_link = -1
        else:
            open_link, open_pos = ord(part) - _OPEN0, pos
    plain = "".join(pieces)
    return plain, [Link(s, e, plain[s:e], targets[k]) for s, e, k in spans]


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------

def wikitext_to_plain(wikitext: str, namespaces: Namespaces) -> PlainPage:
    """Convert one page's wikitext to plain text with link spans (see the module docstring)."""
    text = _RESERVED.sub("", wikitext)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    nowikis: list[str] = []
    text = _remove_tables(_preprocess(text, nowikis))
    if namespaces.lang in VARIANT_LANGS and "-{" in text:
        text = _CONVERTER.sub(_convert_variants, text)
    if "__" in text:
        text = _SWITCH.sub(_drop_switch, text)
    targets: list[str] = []
    if "[" in text:
        text = _apply(text, _link_ops(text, namespaces, nowikis, targets))
        if "[" in text:
            text = _EXT_LINK.sub(r"\1", text)
    if "<" in text:
        text = _HTML_TAG.sub(_html_tag, text)
    if "''" in text:
        text = _QUOTES.sub(_quotes, text)
    paragraphs: list[str] = []
    lead: str | None = None
    for section, is_list, lines in _paragraphs(text):
        if is_list:
            cleaned = [c for c in (_clean_line(x, nowikis) for x in lines) if c]
            paragraph = "\n".join(cleaned)
        else:
            paragraph = _clean_line(" ".join(lines), nowikis)
        if not paragraph:
            continue
        if lead is None and not is_list:
            lead = _strip_markers(paragraph) if section == 0 else ""
        paragraphs.append(paragraph)
    plain, links = _extract("\n\n".join(paragraphs), targets)
    return PlainPage(plain, links, lead or "")
