"""The work of one split of a Wikipedia dump: pages -> plain text, sentences and raw mentions.

Link targets are normalised and classified here (main namespace, other namespace, interwiki);
resolving titles to QIDs needs the redirects and sitelinks of the whole dump and is done by
Spark joins in jobs/build_corpus.py. ``process_split`` needs no SparkSession.
"""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from contextlib import contextmanager

from xlkit_core.codecs import raw_sha256
from xlkit_core.fsio import open_binary
from xlkit_core.parts import Reject
from xlkit_core.step import Outcome, Parts, run_task

from .records import ConvertedPage, Redirect
from .sentences import sentences_of, split_sentences
from .tables import STAGED
from .titles import Namespaces
from .wikitext import wikitext_to_plain
from .xmldump import RawPage, SplitPages, XmlSplit

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


def convert_page(page: RawPage, lang: str, namespaces: Namespaces) -> ConvertedPage:
    """The records of one main-namespace article: plain text, sentences, mentions."""
    plain = wikitext_to_plain(page.text, namespaces)
    text, links = plain.text, plain.links
    ranges = [(lk.start, lk.end) for lk in links]
    spans = split_sentences(text, lang, ranges)
    title = namespaces.normalize(page.title)
    out = ConvertedPage((lang, page.page_id, title, text, plain.lead), [text[s:e] for s, e in spans])
    sentence_ids, starts, ends, surfaces, targets, reasons = out.mentions
    classify = namespaces.classify
    for lk, sid in zip(links, sentences_of(spans, ranges), strict=True):
        if sid is None:
            out.dropped += 1
            continue
        kind, value = classify(lk.target)
        target, reason = None, kind
        if kind == "main":
            target, reason = (value, None) if value else (None, "same_page")
        off = spans[sid][0]
        sentence_ids.append(sid)
        starts.append(lk.start - off)
        ends.append(lk.end - off)
        surfaces.append(lk.surface)
        targets.append(target)
        reasons.append(reason)
    return out


def process_split(split: XmlSplit, namespaces_by_file: dict, case_by_file: dict, out_dir: str,
                  page_seconds: float = 10.0, max_page_chars: int = 4_000_000) -> dict:
    """Read, convert and write one split (the Spark task of jobs/build_corpus.py, through
    :func:`xlkit_core.step.run_task`). Returns counters and sizes for the manifest."""
    return run_task(f"{split.path} (bytes {split.start}-{split.end})",
                    lambda parts: _split_body(parts, split, namespaces_by_file, case_by_file, out_dir, page_seconds,
                                              max_page_chars))


def _split_body(parts: Parts, split: XmlSplit, namespaces_by_file: dict, case_by_file: dict, out_dir: str,
                page_seconds: float, max_page_chars: int) -> dict:
    t0 = time.perf_counter()
    lang = split.lang
    case_first = case_by_file[split.file_idx] != "case-sensitive"
    namespaces = Namespaces(lang, namespaces_by_file[split.file_idx], first_letter_case=case_first)
    c: Counter = Counter()
    w = {name: parts.open(out_dir, name, schema, split.split_idx) for name, schema in STAGED.items()}

    def reject(offset: int, title: str | None, reason: str, excerpt: str) -> None:
        w["_rejects_local"].append((split.split_idx, offset, title, reason, excerpt[:EXCERPT]))
        c[f"rejects.{reason}"] += 1

    first_id = last_id = None      # page ids of the first and last converted page
    in_order = True                # page ids strictly increase, so the staged rows are in published order
    with open_binary(split.path) as f:
        pages = SplitPages(f, split)
        for rec in pages:
            if isinstance(rec, Reject):
                reject(rec.offset, rec.title, rec.reason, rec.excerpt)
                continue
            c["pages_read"] += 1
            if rec.ns != 0:
                c[f"skipped.namespace_{rec.ns}"] += 1
                continue
            target = redirect_target(rec)
            if target is not None:
                w["_redirects"].append(Redirect(lang, namespaces.normalize(rec.title), namespaces.normalize(target)).row())
                c[f"redirects.{lang}"] += 1
                continue
            if len(rec.text) > max_page_chars:
                reject(rec.offset, rec.title, "page_too_large", rec.text)
                continue
            try:
                with time_limit(page_seconds):
                    conv = convert_page(rec, lang, namespaces)
            except PageTimeout:
                reject(rec.offset, rec.title, "parse_timeout", rec.text)
                continue
            except (ValueError, TypeError, IndexError, KeyError, AttributeError, RecursionError) as exc:
                # wikitext that breaks the parser: quarantined with the error, the job goes on
                reject(rec.offset, rec.title, "parser_error", f"[{type(exc).__name__}: {exc}] {rec.text}")
                continue
            w["_pages"].append(conv.page)
            in_order = in_order and (first_id is None or rec.page_id > last_id)
            first_id = rec.page_id if first_id is None else first_id
            last_id = rec.page_id
            w["sentences"].extend(conv.sentence_columns())
            w["_mentions"].extend(conv.mention_columns())
            c[f"pages.{lang}"] += 1
            c[f"sentences.{lang}"] += len(conv.sentences)
            c[f"links.{lang}"] += len(conv.mentions[0])
            if conv.dropped:
                c[f"links_dropped.cross_sentence.{lang}"] += conv.dropped
        truncated = pages.truncated
        owned = pages.owned_bytes
        sha = raw_sha256(f, split.start, split.end)
    rows = parts.close()
    return Outcome(split.split_idx, c, {"file_idx": split.file_idx, "rows": rows, "owned_bytes": owned,
                                        "truncated": truncated, "raw_sha256": sha,
                                        "page_ids": [first_id, last_id] if first_id is not None else None,
                                        "pages_in_order": in_order,
                                        "seconds": time.perf_counter() - t0}).as_dict("split_idx")
