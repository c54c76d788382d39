"""The published knowledge-graph tables (DESIGN.md) and the writers of one split's tables."""

from __future__ import annotations

import pyarrow as pa

from xlkit_core.parts import REJECTS, Reject
from xlkit_core.step import Parts

from .records import ALIAS_MAP, STR_MAP, EntityRecord

ENTITIES = pa.schema([
    ("qid", pa.string()), ("kind", pa.string()), ("labels", STR_MAP), ("descriptions", STR_MAP),
    ("aliases", ALIAS_MAP), ("sitelink_count", pa.int32()), ("instance_of", pa.list_(pa.string())),
])
SITELINKS = pa.schema([("qid", pa.string()), ("site", pa.string()), ("lang", pa.string()), ("title", pa.string())])
TRIPLES = pa.schema([("subject", pa.string()), ("property", pa.string()), ("object", pa.string()), ("rank", pa.string())])
PROPERTIES = pa.schema([("pid", pa.string()), ("labels", STR_MAP), ("datatype", pa.string())])
# Rejects as a split writes them (positions relative to the split) ...
LOCAL_REJECTS = pa.schema([
    ("split_idx", pa.int32()), ("line_idx", pa.int64()), ("offset", pa.int64()),
    ("reason", pa.string()), ("excerpt", pa.string()),
])
# Identity of every entity record, written only when duplicates must be looked for.
KEYS = pa.schema([("qid", pa.string()), ("record_idx", pa.int64()), ("lastrevid", pa.int64())])
SCHEMAS = {"entities": ENTITIES, "sitelinks": SITELINKS, "triples": TRIPLES, "properties": PROPERTIES,
           "rejects": REJECTS}
PUBLISHED = ("entities", "sitelinks", "triples", "properties", "rejects")

class SplitTables:
    """The four entity-derived tables plus local rejects (and keys) of one split, opened through the
    task's :class:`~xlkit_core.step.Parts` (committed or removed with them)."""

    def __init__(self, parts: Parts, directory: str, split_idx: int, keys: bool = False):
        self.split_idx = split_idx
        mk = lambda name, schema: parts.open(directory, name, schema, split_idx)  # noqa: E731
        self.entities = mk("entities", ENTITIES)
        self.sitelinks = mk("sitelinks", SITELINKS)
        self.triples = mk("triples", TRIPLES)
        self.properties = mk("properties", PROPERTIES)
        self.rejects = mk("_rejects_local", LOCAL_REJECTS)
        self.keys = mk("_keys", KEYS) if keys else None

    def add_entity(self, e: EntityRecord, record_idx: int) -> None:
        if self.keys is not None:
            self.keys.append((e.qid, record_idx, e.lastrevid))
        labels = list(e.labels.items())
        self.entities.append((e.qid, e.kind, labels, list(e.descriptions.items()), list(e.aliases.items()),
                              e.sitelink_count, e.instance_of))
        for s in e.sitelinks:
            self.sitelinks.append((e.qid, s.site, s.lang, s.title))
        for t in e.triples:
            self.triples.append((e.qid, t.property, t.object, t.rank))
        if e.kind == "property":
            self.properties.append((e.qid, labels, e.datatype))

    def add_reject(self, line_idx: int | None, offset: int | None, r: Reject) -> None:
        self.rejects.append((self.split_idx, line_idx, offset, r.reason, r.excerpt))
