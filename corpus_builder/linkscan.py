"""The wikilinks of a text, as ``wikitextparser.parse(text).wikilinks`` finds them, but faster.

``wikilinks(text)`` returns ``(start, end, target, label)`` for every wikilink, nested ones
included, sorted by (start, end); ``label`` is None without a pipe. The result is the same as
``[(*w.span, w.target, w.text) for w in wikitextparser.parse(text).wikilinks]``: the scan uses
wikitextparser's own patterns (:mod:`wikitextparser._spans`, pinned at 3.0.0 in the lock file)
and applies them in the same order to the same byte shadow of the text. Two things differ, and
neither changes a span:

* wikitextparser scans the inside of every link and parameter it finds for more markup. An
  inside with no ``<``, ``[`` or ``{`` cannot hold any (each of its patterns needs one of them),
  so that scan is skipped; an article's plain ``[[target|label]]`` links, nearly all of its
  links, cost one pattern match each instead of five.
* No objects are built for templates, parameters or tags, and the target and label are read
  from the link's shadow directly rather than through a ``WikiLink`` object; where the shadow is
  ``[[...]]`` with no other bracket (and none of the bytes wikitextparser writes for brackets and
  comments) inside, the target is what precedes the first pipe, as wikitextparser's own
  pattern finds it, without running that pattern.

tests/test_linkscan.py compares the two on every page of the shared Wikipedia samples and on
hostile token soups.
"""

from __future__ import annotations

import re

from wikitextparser._spans import (
    BRACES_PIPE_NEWLINE,
    BRACKETS,
    HTML_END_TAG_FINDITER,
    HTML_START_TAG_FINDITER,
    MARKUP,
    PF_TL_FINDITER,
    WIKILINK_PARAM_FINDITER,
    extract_tag_extensions,
)
from wikitextparser._wikilink import FULLMATCH

__all__ = ["wikilinks"]

#: Every pattern of the scan starts with one of these bytes.
_MARKUP_START = re.compile(rb"[\[{<]").search
#: A link's shadow with nothing but its brackets to parse: its target runs to the first pipe.
_PLAIN_LINK = re.compile(rb"\[\[[^\[\]\0\2\3]*\]\]").fullmatch


def _ignore(_span) -> None:
    return None


def _scan(shadow: bytearray, start: int, end: int | None, found: list) -> None:
    """Find the links and parameters in ``shadow[start:end]`` and blank them out, innermost first.

    The steps and their order are wikitextparser's ``_parse_sub_spans``: HTML tags lose their
    brackets for the duration; links and ``{{{parameters}}}`` are found (the innermost first,
    matching from the right) until a pass finds none; then parser functions and templates, which
    may uncover more links, and again until a pass finds none; at the end the tags lose their
    braces, pipes and newlines too. One frame per level of nesting, as there.
    """
    tags = [m.span() for m in HTML_START_TAG_FINDITER(shadow, start, end)]
    tags += [m.span() for m in HTML_END_TAG_FINDITER(shadow, start, end)]
    for s, e in tags:
        shadow[s:e] = shadow[s:e].translate(BRACKETS)
    while True:
        again = True
        while again:                 # links and parameters
            again = False
            for m in WIKILINK_PARAM_FINDITER(shadow, start, end):
                again = True
                s, e = m.span()
                is_link = m[1] is None
                if is_link:
                    found.append((s, e, shadow[s:e]))
                if _MARKUP_START(shadow, s + 2, e - 2):
                    _scan(shadow, s + 2, e - 2, found)
                shadow[s:e] = shadow[s:e].translate(MARKUP) if is_link else b"_" * (e - s)
        again = False
        for m in PF_TL_FINDITER(shadow, start, end):     # parser functions and templates
            again = True
            s, e = m.span()
            if m[1] is None and m[2] is not None:   # an invalid template name: '{' stays, the rest goes
                shadow[s:e] = b"_" * (e - s)
                shadow[s + 1] = ord("{")
            else:
                shadow[s:e] = b"X" * (e - s)
        if not again:
            break
    for s, e in tags:
        shadow[s:e] = shadow[s:e].translate(BRACES_PIPE_NEWLINE)


def wikilinks(text: str) -> list[tuple[int, int, str, str | None]]:
    """Every wikilink of ``text`` as (start, end, target, label or None), sorted by (start, end)."""
    shadow = bytearray(text, "ascii", "replace")
    spans: list = []                 # extension tags report theirs as wikitextparser SpanData

    def from_tags(span) -> None:
        spans.append((span.start, span.end, span.byte_array))

    extract_tag_extensions(shadow, _ignore, _ignore, None, None, _ignore, _ignore, _ignore, from_tags)
    _scan(shadow, 0, None, spans)
    spans.sort(key=lambda sp: (sp[0], sp[1]))
    out = []
    for s, e, link_shadow in spans:
        if _PLAIN_LINK(link_shadow):     # what FULLMATCH finds there, without it
            bar = link_shadow.find(b"|")
            if bar == -1:
                out.append((s, e, text[s + 2:e - 2], None))
            else:
                out.append((s, e, text[s + 2:s + bar], text[s + bar + 1:e - 2]))
            continue
        m = FULLMATCH(link_shadow)
        ts, te = m.span(1)
        ls, le = m.span(4)
        out.append((s, e, text[s + ts:s + te], None if ls == -1 else text[s + ls:s + le]))
    return out
