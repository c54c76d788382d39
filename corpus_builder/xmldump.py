"""MediaWiki XML export dumps: which language, which codec, which splits, and the pages in a split.

Export schema 0.8 to 0.11 (pages-articles and multistream), bz2 or plain, UTF-8 or UTF-16 with a
BOM. A split of the compressed file owns the pages whose ``<page>`` tag starts in its data (for
bz2: in the blocks that begin in its byte range) and reads on only to finish its last page, so
no executor ever holds a whole dump.
"""

from __future__ import annotations

import codecs
import html
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

from xlkit_core.bz2split import Bz2Blocks
from xlkit_core.codecs import READ_CHUNK, plain_chunks, sniff_codec
from xlkit_core.errors import CorruptInputError, InputError
from xlkit_core.fsio import byte_ranges, open_binary
from xlkit_core.langs import LANG_RE, site_to_lang
from xlkit_core.parts import Reject

PAGE_OPEN = b"<page>"
PAGE_CLOSE = b"</page>"
HEAD_BYTES = 4 << 20
FILENAME_LANG = re.compile(r"^([a-z][a-z0-9_]*?)wiki(?:[-_.]|$)")
_SITEINFO = re.compile(r"<siteinfo>(.*?)</siteinfo>", re.S)
_NS = re.compile(r'<namespace key="(-?\d+)"[^>]*?(?:/>|>(.*?)</namespace>)', re.S)
_SCHEMA = re.compile(r'export-(\d+\.\d+)')


@dataclass(frozen=True)
class DumpInfo:
    """What the driver learns from a dump's first bytes."""

    path: str
    size: int
    lang: str
    lang_source: str               # "pair" | "dbname" | "filename"
    codec: str                     # "none" | "bz2" | "gz"
    encoding: str                  # "utf-8" | "utf-16"
    dbname: str | None
    schema: str | None
    case: str                      # "first-letter" | "case-sensitive"
    namespaces: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["namespaces"] = {str(k): v for k, v in self.namespaces.items()}
        return d


@dataclass(frozen=True)
class XmlSplit:
    file_idx: int
    split_idx: int
    path: str
    size: int
    start: int
    end: int
    codec: str
    encoding: str
    lang: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(slots=True)
class RawPage:
    offset: int                    # byte offset of <page> in the split's decompressed UTF-8 data
    title: str
    ns: int
    page_id: int
    redirect: str | None
    text: str


def page_reject(offset: int, title: str | None, reason: str, excerpt: str) -> Reject:
    """A page that cannot be read, at its byte offset in the decompressed dump."""
    return Reject(reason, excerpt, offset=offset, title=title)


def _head(f: BinaryIO, codec: str, path: str) -> bytes:
    import bz2
    import zlib

    f.seek(0)
    raw = f.read(HEAD_BYTES)
    try:
        if codec == "bz2":
            return bz2.BZ2Decompressor().decompress(raw, 1 << 20)
        if codec == "gz":
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, 1 << 20)
    except (OSError, ValueError, zlib.error) as exc:
        raise CorruptInputError(path, f"cannot decompress the start of the file as {codec}: {exc}") from None
    return raw[: 1 << 20]


def detect_encoding(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def lang_from_filename(path: str) -> str | None:
    m = FILENAME_LANG.match(os.path.basename(path))
    if not m:
        return None
    lang, why = site_to_lang(m.group(1) + "wiki")
    return lang if why is None else None


def inspect_dump(path: str, size: int, explicit_lang: str | None) -> DumpInfo:
    """Read the siteinfo header and settle the dump's language: pair > dbname > file name."""
    with open_binary(path) as f:
        codec = sniff_codec(f.read(4))
        head = _head(f, codec, path)
    encoding = detect_encoding(head)
    text = head.decode("utf-16" if encoding == "utf-16" else "utf-8", errors="replace")
    if "<mediawiki" not in text[:4096]:
        raise InputError(f"{path}: not a MediaWiki XML export (no <mediawiki> element at the start)")
    site = _SITEINFO.search(text)
    siteinfo = site.group(1) if site else ""
    dbname_m = re.search(r"<dbname>(.*?)</dbname>", siteinfo)
    dbname = dbname_m.group(1).strip() if dbname_m else None
    case_m = re.search(r"<case>(.*?)</case>", siteinfo)
    namespaces = {int(k): html.unescape(v or "") for k, v in _NS.findall(siteinfo)}
    schema_m = _SCHEMA.search(text[:2048])
    if explicit_lang:
        if not LANG_RE.match(explicit_lang):
            raise InputError(f"bad language {explicit_lang!r} for {path}: use a Wikipedia code such as en, de, zh-yue")
        lang, source = explicit_lang, "pair"
    elif dbname and site_to_lang(dbname)[0]:
        lang, source = site_to_lang(dbname)[0], "dbname"
    elif lang_from_filename(path):
        lang, source = lang_from_filename(path), "filename"
    else:
        raise InputError(f"cannot tell the language of {path}: no <dbname> in its header and none in its file "
                         "name; pair it explicitly, e.g. WIKIPEDIA=\"de=path/to/dump.xml.bz2\"")
    return DumpInfo(path, size, lang, source, codec, encoding, dbname,
                    schema_m.group(1) if schema_m else None,
                    case_m.group(1).strip() if case_m else "first-letter", namespaces)


def plan_xml_splits(dumps: list[DumpInfo], split_bytes: int) -> list[XmlSplit]:
    splits: list[XmlSplit] = []
    for file_idx, d in enumerate(dumps):
        if d.codec == "gz" or d.encoding == "utf-16" or d.size == 0:
            ranges = [(0, d.size)]
        else:
            ranges = byte_ranges(d.size, split_bytes)
        for start, end in ranges:
            splits.append(XmlSplit(file_idx, len(splits), d.path, d.size, start, end, d.codec, d.encoding, d.lang))
    return splits


class _Source:
    """Decompressed (and, for UTF-16, re-encoded as UTF-8) pieces of a split: (bytes, owned)."""

    def __init__(self, f: BinaryIO, split: XmlSplit):
        self.f, self.split = f, split
        self.truncated_at: int | None = None

    def __iter__(self) -> Iterator[tuple[bytes, bool]]:
        if self.split.encoding == "utf-16":  # always one split: the whole file
            yield from self._utf16(self._pieces())
        else:
            yield from self._pieces()

    def _pieces(self) -> Iterator[tuple[bytes, bool]]:
        s = self.split
        if s.codec == "bz2":
            blocks = Bz2Blocks(self.f, s.path, s.size, lenient_tail=True)
            yield from blocks.decompressed_blocks(s.start, s.end)
            self.truncated_at = blocks.truncated_at
        elif s.codec == "gz":
            yield from ((d, True) for d in self._gz())
        else:
            yield from plain_chunks(self.f, s.start, s.end)

    def _gz(self) -> Iterator[bytes]:
        import gzip
        import zlib

        self.f.seek(0)
        try:
            with gzip.GzipFile(fileobj=self.f) as gz:
                while data := gz.read(READ_CHUNK):
                    yield data
        except (EOFError, OSError, zlib.error):
            self.truncated_at = self.split.size

    @staticmethod
    def _utf16(pieces: Iterator[tuple[bytes, bool]]) -> Iterator[tuple[bytes, bool]]:
        decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        for data, _ in pieces:
            yield decoder.decode(data).encode("utf-8"), True
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail.encode("utf-8"), True


def _field(elem: ET.Element, name: str) -> ET.Element | None:
    for child in elem:
        if child.tag == name or child.tag.endswith("}" + name):
            return child
    return None


_TITLE_RE = re.compile(rb"<title>(.*?)</title>", re.S)


def _title_of(raw: bytes) -> str | None:
    m = _TITLE_RE.search(raw)
    return html.unescape(m.group(1).decode("utf-8", "replace")) if m else None


def parse_page(raw: bytes, offset: int) -> RawPage | Reject:
    """One ``<page>...</page>`` element -> RawPage, or a reject saying why not."""
    try:
        elem = ET.fromstring(raw)
    except ET.ParseError as exc:
        return page_reject(offset, _title_of(raw), "bad_xml", f"[{exc}] " + raw[:150].decode("utf-8", "replace"))
    title_e, ns_e, id_e = _field(elem, "title"), _field(elem, "ns"), _field(elem, "id")
    if title_e is None or id_e is None or not (title_e.text or "").strip():
        return page_reject(offset, _title_of(raw), "missing_field", raw[:200].decode("utf-8", "replace"))
    try:
        page_id = int(id_e.text)
        ns = int(ns_e.text) if ns_e is not None else 0
    except (TypeError, ValueError):
        return page_reject(offset, title_e.text, "bad_field", raw[:200].decode("utf-8", "replace"))
    redirect_e = _field(elem, "redirect")
    redirect = redirect_e.get("title") if redirect_e is not None else None
    revision = _field(elem, "revision")
    text_e = _field(revision, "text") if revision is not None else None
    text = (text_e.text or "") if text_e is not None else ""
    return RawPage(offset, title_e.text, ns, page_id, redirect, text)


class SplitPages:
    """Iterate the pages a split owns (RawPage or Reject); afterwards ``owned_bytes`` and
    ``truncated`` tell how much data the split owned and whether its file was cut off."""

    def __init__(self, f: BinaryIO, split: XmlSplit, max_page_bytes: int = 64 << 20):
        self.source = _Source(f, split)
        self.max_page_bytes = max_page_bytes
        self.owned_bytes = 0
        self.truncated = False

    def __iter__(self) -> Iterator[RawPage | Reject]:
        buf = b""
        buf_pos = 0                # position of buf[0] in the split's decompressed data
        owned_end: int | None = None
        seen = 0
        for data, owned in self.source:
            if not owned and owned_end is None:
                owned_end = seen
            seen += len(data)
            buf = buf + data if buf else data
            cut = 0
            while True:
                start = buf.find(PAGE_OPEN, cut)
                if start < 0:
                    # keep a tail that may hold the start of a split "<page>" tag
                    cut = max(cut, len(buf) - len(PAGE_OPEN) + 1)
                    break
                if owned_end is not None and buf_pos + start >= owned_end:
                    self.owned_bytes = owned_end
                    return
                end = buf.find(PAGE_CLOSE, start)
                if end < 0:
                    cut = start
                    if len(buf) - start > self.max_page_bytes:
                        yield page_reject(buf_pos + start, _title_of(buf[start:start + 4096]), "page_too_large",
                                         buf[start:start + 200].decode("utf-8", "replace"))
                        cut = len(buf)
                    break
                end += len(PAGE_CLOSE)
                yield parse_page(buf[start:end], buf_pos + start)
                cut = end
            buf_pos += cut
            buf = buf[cut:]
        self.owned_bytes = owned_end if owned_end is not None else seen
        rest = buf.find(PAGE_OPEN)
        truncated_page = rest >= 0 and (owned_end is None or buf_pos + rest < owned_end)
        if self.source.truncated_at is not None or truncated_page:
            self.truncated = True
        if truncated_page:
            raw = buf[rest:]
            yield page_reject(buf_pos + rest, _title_of(raw), "truncated_xml",
                             raw[:200].decode("utf-8", "replace"))
