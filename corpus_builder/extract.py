"""The work of one split of a Wikipedia dump: pages -> plain text, sentences and raw mentions.

Link targets are normalised and classified here (main namespace, other namespace, interwiki);
resolving titles to QIDs needs the redirects and sitelinks of the whole dump and is done by
Spark joins in jobs/build_corpus.py. ``process_split`` needs no SparkSession.
"""

from __future__ import annotations

import re
import signal
import time
import uuid
from collections import Counter
from contextlib import contextmanager

from kg_pipeline.errors import KGError, tagged
from kg_pipeline.fsio import open_binary
from kg_pipeline.reader import raw_sha256
from kg_pipeline.tables import PartWriter

from .sentences import sentence_of, split_sentences
from .tables import STAGED
from .titles import Namespaces
from .wikitext import wikitext_to_plain
from .xmldump import PageReject, RawPage, SplitPages, XmlSplit

EXCERPT = 200
# "#REDIRECT [[Target]]" in the languages whose dumps may lack the <redirect> element.
REDIRECT_RE = re.compile(
    r"^\s*#\s*(?:REDIRECT|REDIRECTION|WEITERLEITUNG|RINVIA|REDIRECCIÓN|REDIRECIONAMENTO|DOORVERWIJZING|"
    r"PATRZ|PRZEKIERUJ|PŘESMĚRUJ|ПЕРЕНАПРАВЛЕНИЕ|ПЕРЕНАПРАВЛЕННЯ|НАПРАВИ|転送|リダイレクト|重定向|"
    r"넘겨주기|تحويل|पुनर्निर्देशित|পুনর্নির্দেশ|ĐỔI)\s*:?\s*\[\[([^\]|]+)", re.I)


class PageTimeout(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    """Raise PageTimeout in the block after ``seconds`` (main thread only; elsewhere no limit)."""
    def on_alarm(signum, frame):
        raise PageTimeout()

    try:
        old = signal.signal(signal.SIGALRM, on_alarm)
    except ValueError:  # not the main thread
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def redirect_target(page: RawPage) -> str | None:
    if page.redirect is not None:
        return page.redirect
    m = REDIRECT_RE.match(page.text[:500])
    return m.group(1) if m else None


class CorpusWriters:
    def __init__(self, out_dir: str, split_idx: int):
        attempt = uuid.uuid4().hex[:8]
        self.w = {name: PartWriter(out_dir, name, schema, split_idx, attempt) for name, schema in STAGED.items()}

    def close(self) -> dict[str, int]:
        return {name: w.close() for name, w in self.w.items()}

    def abort(self) -> None:
        for w in self.w.values():
            w.abort()


def convert_page(page: RawPage, lang: str, namespaces: Namespaces) -> dict[str, list]:
    """Rows (per staging table) of one main-namespace article: plain text, sentences, mentions."""
    plain = wikitext_to_plain(page.text, namespaces)
    spans = split_sentences(plain.text, lang, [(lk.start, lk.end) for lk in plain.links])
    title = namespaces.normalize(page.title)
    rows: dict[str, list] = {"_pages": [(lang, page.page_id, title, plain.text, plain.lead)],
                             "sentences": [], "_mentions": [], "dropped": []}
    for sid, (s, e) in enumerate(spans):
        rows["sentences"].append((lang, page.page_id, sid, plain.text[s:e]))
    for lk in plain.links:
        sid = sentence_of(spans, lk.start, lk.end)
        if sid is None:
            rows["dropped"].append(lk)
            continue
        kind, value = namespaces.classify(lk.target)
        target, reason = None, kind
        if kind == "main":
            target, reason = (value, None) if value else (None, "same_page")
        off = spans[sid][0]
        rows["_mentions"].append((lang, page.page_id, sid, lk.start - off, lk.end - off, lk.surface, target, reason))
    return rows


def process_split(split: XmlSplit, namespaces_by_file: dict, case_by_file: dict, out_dir: str,
                  page_seconds: float = 10.0, max_page_chars: int = 4_000_000) -> dict:
    """Read, convert and write one split. Returns counters and sizes for the manifest."""
    t0 = time.perf_counter()
    lang = split.lang
    case_first = case_by_file[split.file_idx] != "case-sensitive"
    namespaces = Namespaces(lang, namespaces_by_file[split.file_idx], first_letter_case=case_first)
    c: Counter = Counter()
    w = CorpusWriters(out_dir, split.split_idx)

    def reject(offset: int, title: str | None, reason: str, excerpt: str) -> None:
        w.w["_rejects_local"].append((split.split_idx, offset, title, reason, excerpt[:EXCERPT]))
        c[f"rejects.{reason}"] += 1

    try:
        with open_binary(split.path) as f:
            pages = SplitPages(f, split)
            for rec in pages:
                if isinstance(rec, PageReject):
                    reject(rec.offset, rec.title, rec.reason, rec.excerpt)
                    continue
                c["pages_read"] += 1
                if rec.ns != 0:
                    c[f"skipped.namespace_{rec.ns}"] += 1
                    continue
                target = redirect_target(rec)
                if target is not None:
                    w.w["_redirects"].append((lang, namespaces.normalize(rec.title), namespaces.normalize(target)))
                    c[f"redirects.{lang}"] += 1
                    continue
                if len(rec.text) > max_page_chars:
                    reject(rec.offset, rec.title, "page_too_large", rec.text)
                    continue
                try:
                    with time_limit(page_seconds):
                        rows = convert_page(rec, lang, namespaces)
                except PageTimeout:
                    reject(rec.offset, rec.title, "parse_timeout", rec.text)
                    continue
                except (ValueError, TypeError, IndexError, KeyError, AttributeError, RecursionError) as exc:
                    # wikitext that breaks the parser: quarantined with the error, the job goes on
                    reject(rec.offset, rec.title, "parser_error", f"[{type(exc).__name__}: {exc}] {rec.text}")
                    continue
                for table in ("_pages", "sentences", "_mentions"):
                    for row in rows[table]:
                        w.w[table].append(row)
                c[f"pages.{lang}"] += 1
                c[f"sentences.{lang}"] += len(rows["sentences"])
                c[f"links.{lang}"] += len(rows["_mentions"])
                if rows["dropped"]:
                    c[f"links_dropped.cross_sentence.{lang}"] += len(rows["dropped"])
            truncated = pages.truncated
            owned = pages.owned_bytes
            sha = raw_sha256(f, split.start, split.end)
    except KGError as exc:
        w.abort()
        raise RuntimeError(tagged(str(exc))) from None
    except BaseException:
        w.abort()
        raise
    rows = w.close()
    return {"split_idx": split.split_idx, "file_idx": split.file_idx, "counters": dict(c), "rows": rows,
            "owned_bytes": owned, "truncated": truncated, "raw_sha256": sha,
            "seconds": time.perf_counter() - t0}
