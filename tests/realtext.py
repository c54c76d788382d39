"""Plain-ish text lines out of MediaWiki XML, for tokenizer tests and benchmarks.

A deliberately crude regex strip (not the corpus converter): it only has to yield natural
sentences in many scripts to train and check tokenizers on.
"""

from __future__ import annotations

import bz2
import html
import re
from pathlib import Path

_TEXT = re.compile(r"<text[^>]*>(.*?)</text>", re.S)


def wiki_lines(path: Path, prefix_bytes: int = -1) -> list[str]:
    """Lines of at least 20 characters from the pages' wikitext, templates, tables, refs and
    markup stripped; ``prefix_bytes`` limits how much of the (decompressed) file is read."""
    opener = bz2.open if path.suffix == ".bz2" else open
    with opener(path, "rb") as f:
        xml = f.read(prefix_bytes).decode("utf-8", errors="ignore")
    out = []
    for m in _TEXT.finditer(xml):
        wt = html.unescape(html.unescape(m.group(1)))
        wt = re.sub(r"<!--.*?-->|<ref[^>]*/>|<ref[^>]*>.*?</ref>|\{\|.*?\|\}", " ", wt, flags=re.S)
        for _ in range(3):
            wt = re.sub(r"\{\{[^{}]*\}\}", " ", wt)
        wt = re.sub(r"\[\[(?:[^\]|]*\|)?([^\]]*)\]\]", r"\1", wt)
        wt = re.sub(r"<[^>]+>|'{2,}", "", wt)
        out += [line.strip() for line in wt.split("\n")
                if len(line.strip()) >= 20 and line.strip()[0] not in "|!{}=*#:[;"]
    return out
