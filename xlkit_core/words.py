"""What a word is, for the aligner, the shard writer and MMKD's word level alike.

:func:`tokenize_words` is a whitespace split (``str.split``, so any Unicode white space, the
ideographic space included), except that every CJK character (Han, kana, bopomofo, CJK symbols
and punctuation, full-width forms) is a word of its own, since Chinese and Japanese are written
without spaces; a run of non-CJK characters inside such a token stays one word (``"GPU的"`` ->
``GPU``, ``的``). Hangul is not split (Korean uses spaces); Thai (and Lao, Khmer, Myanmar) are
split on spaces only, which gives phrases rather than words. Punctuation is NOT split off:
``"bushes."`` is one word, so indices stay whitespace indices.
"""

from __future__ import annotations

import re

_CJK_RANGES = (
    (0x2E80, 0x2FDF),    # CJK radicals, Kangxi radicals
    (0x2FF0, 0x2FFF),    # ideographic description characters
    (0x3000, 0x303F),    # CJK symbols and punctuation (U+3000 itself is white space)
    (0x3040, 0x30FF),    # hiragana, katakana
    (0x3100, 0x312F),    # bopomofo
    (0x3190, 0x31FF),    # kanbun, bopomofo extended, CJK strokes, katakana phonetic extensions
    (0x3200, 0x33FF),    # enclosed CJK letters, CJK compatibility
    (0x3400, 0x4DBF),    # CJK unified ideographs extension A
    (0x4E00, 0x9FFF),    # CJK unified ideographs
    (0xF900, 0xFAFF),    # CJK compatibility ideographs
    (0xFE30, 0xFE4F),    # CJK compatibility forms
    (0xFF00, 0xFFEF),    # half-width and full-width forms
    (0x20000, 0x3134F),  # extensions B-H, compatibility supplement
)
_CJK_RE = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _CJK_RANGES) + "]")


def tokenize_words(text: str) -> list[str]:
    """The words of ``text``: a whitespace split, with every CJK character a word of its own.

    Punctuation stays attached (``"house."`` is one word); see the module docstring.
    """
    words: list[str] = []
    for tok in text.split():
        if _CJK_RE.search(tok) is None:
            words.append(tok)
            continue
        start = 0
        for m in _CJK_RE.finditer(tok):
            if m.start() > start:
                words.append(tok[start:m.start()])
            words.append(m.group())
            start = m.end()
        if start < len(tok):
            words.append(tok[start:])
    return words
