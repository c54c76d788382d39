"""The records of one article as the corpus writes them (the staging tables of corpus_builder/tables.py).

A redirect is written as a row (:meth:`Redirect.row`); an article's sentences and mentions as
columns, a page at a time (building a Python row per sentence and per mention, then taking the
rows apart again into columns, cost pass 1 a few per cent). The column order is that of the tables in
corpus_builder/tables.py, and ``tests/test_corpus_extract.py`` reads the parts back by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Redirect:
    lang: str
    from_title: str
    to_title: str

    def row(self) -> tuple:
        return (self.lang, self.from_title, self.to_title)


@dataclass(slots=True)
class ConvertedPage:
    """What one article gives, by the columns of its staging tables.

    ``page`` is its row of ``_pages`` (lang, page_id, title, text, lead). ``sentences`` are the
    sentence texts; a sentence's id is its index. ``mentions`` holds the columns of ``_mentions``
    after lang and page_id: sentence_id, start, end (in the sentence's characters), surface,
    target_title (the normalised title, None when the link points elsewhere) and
    unresolved_reason. ``dropped`` counts the links that cross a sentence boundary.
    """

    page: tuple
    sentences: list[str] = field(default_factory=list)
    mentions: tuple[list, ...] = field(default_factory=lambda: ([], [], [], [], [], []))
    dropped: int = 0

    def sentence_columns(self) -> list[list]:
        n = len(self.sentences)
        return [[self.page[0]] * n, [self.page[1]] * n, list(range(n)), self.sentences]

    def mention_columns(self) -> list[list]:
        n = len(self.mentions[0])
        return [[self.page[0]] * n, [self.page[1]] * n, *self.mentions]
