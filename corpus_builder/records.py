"""The records of one article as the corpus writes them (the staging tables of corpus_builder/tables.py).

Each record's :meth:`row` is its row in the column order of its table, so the writer and the
schema cannot drift apart silently: ``tests/test_corpus_extract.py`` reads the parts back by name.
The rows are spelled out field by field: ``dataclasses.astuple`` copies recursively and cost a
third of pass 1 (cProfile in ``make bench-corpus``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Page:
    """An article: its plain text and its lead (the text before the first section heading)."""

    lang: str
    page_id: int
    title: str
    text: str
    lead: str

    def row(self) -> tuple:
        return (self.lang, self.page_id, self.title, self.text, self.lead)


@dataclass(slots=True)
class Redirect:
    lang: str
    from_title: str
    to_title: str

    def row(self) -> tuple:
        return (self.lang, self.from_title, self.to_title)


@dataclass(slots=True)
class Sentence:
    lang: str
    page_id: int
    sentence_id: int
    text: str

    def row(self) -> tuple:
        return (self.lang, self.page_id, self.sentence_id, self.text)


@dataclass(slots=True)
class Mention:
    """A hyperlink anchor inside one sentence: ``[start, end)`` in the sentence's characters, the
    normalised target title (``None`` when it points elsewhere) and why it is not resolvable."""

    lang: str
    page_id: int
    sentence_id: int
    start: int
    end: int
    surface: str
    target_title: str | None
    unresolved_reason: str | None

    def row(self) -> tuple:
        return (self.lang, self.page_id, self.sentence_id, self.start, self.end, self.surface, self.target_title,
                self.unresolved_reason)


@dataclass(slots=True)
class ConvertedPage:
    """What one article gives: the page, its sentences, its mentions, and the links dropped because
    they cross a sentence boundary."""

    page: Page
    sentences: list[Sentence] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    dropped: list = field(default_factory=list)
