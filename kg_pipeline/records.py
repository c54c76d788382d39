"""Record types of the knowledge-graph pipeline and their Arrow schemas.

A parsed entity is an :class:`EntityRecord`; a line that cannot be used is a :class:`Reject`
with a reason. The worker turns them into Arrow batches of :data:`STAGING_SCHEMA`, one row per
entity, reject or split summary; the job derives the published tables of DESIGN.md from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa


@dataclass(slots=True)
class Sitelink:
    site: str
    lang: str
    title: str


@dataclass(slots=True)
class Triple:
    property: str
    object: str
    rank: str


@dataclass(slots=True)
class EntityRecord:
    qid: str
    kind: str  # "item" | "property"
    labels: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    sitelink_count: int = 0
    instance_of: list[str] = field(default_factory=list)
    datatype: str | None = None
    sitelinks: list[Sitelink] = field(default_factory=list)
    triples: list[Triple] = field(default_factory=list)
    lastrevid: int | None = None


@dataclass(slots=True)
class Reject:
    reason: str
    excerpt: str


EXCERPT_CHARS = 200

SITELINK_TYPE = pa.struct([("site", pa.string()), ("lang", pa.string()), ("title", pa.string())])
TRIPLE_TYPE = pa.struct([("property", pa.string()), ("object", pa.string()), ("rank", pa.string())])
STR_MAP = pa.map_(pa.string(), pa.string())
ALIAS_MAP = pa.map_(pa.string(), pa.list_(pa.string()))

# One schema for everything a worker emits: rec = "entity" | "reject" | "split".
STAGING_SCHEMA = pa.schema([
    ("rec", pa.string()),
    ("file_idx", pa.int32()),
    ("split_idx", pa.int32()),
    ("line_idx", pa.int64()),        # index of the line among those the split owns
    ("offset", pa.int64()),          # decompressed byte offset of the line, relative to the split
    ("qid", pa.string()),
    ("kind", pa.string()),
    ("labels", STR_MAP),
    ("descriptions", STR_MAP),
    ("aliases", ALIAS_MAP),
    ("sitelink_count", pa.int32()),
    ("instance_of", pa.list_(pa.string())),
    ("datatype", pa.string()),
    ("sitelinks", pa.list_(SITELINK_TYPE)),
    ("triples", pa.list_(TRIPLE_TYPE)),
    ("lastrevid", pa.int64()),
    ("reason", pa.string()),
    ("excerpt", pa.string()),
    # split summary rows
    ("owned_bytes", pa.int64()),
    ("newlines", pa.int64()),
    ("raw_bytes", pa.int64()),
    ("raw_sha256", pa.string()),
    ("counters", pa.map_(pa.string(), pa.int64())),
    ("seconds", pa.float64()),
])

# The Spark DDL of the same schema, for mapInArrow.
STAGING_DDL = (
    "rec string, file_idx int, split_idx int, line_idx bigint, offset bigint, qid string, kind string, "
    "labels map<string,string>, descriptions map<string,string>, aliases map<string,array<string>>, "
    "sitelink_count int, instance_of array<string>, datatype string, "
    "sitelinks array<struct<site:string,lang:string,title:string>>, "
    "triples array<struct<property:string,object:string,rank:string>>, lastrevid bigint, "
    "reason string, excerpt string, owned_bytes bigint, newlines bigint, raw_bytes bigint, "
    "raw_sha256 string, counters map<string,bigint>, seconds double"
)


class BatchBuilder:
    """Accumulates rows column by column and emits :data:`STAGING_SCHEMA` record batches."""

    def __init__(self, file_idx: int, split_idx: int, batch_rows: int = 2048):
        self.file_idx = file_idx
        self.split_idx = split_idx
        self.batch_rows = batch_rows
        self._reset()

    def _reset(self) -> None:
        self.cols: dict[str, list] = {f.name: [] for f in STAGING_SCHEMA}
        self.n = 0

    def _pad(self, given: dict) -> None:
        cols = self.cols
        for name, values in cols.items():
            values.append(given.get(name))
        self.n += 1

    def add_entity(self, line_idx: int | None, offset: int | None, e: EntityRecord) -> None:
        self._pad({
            "rec": "entity", "file_idx": self.file_idx, "split_idx": self.split_idx,
            "line_idx": line_idx, "offset": offset, "qid": e.qid, "kind": e.kind,
            "labels": list(e.labels.items()), "descriptions": list(e.descriptions.items()),
            "aliases": list(e.aliases.items()), "sitelink_count": e.sitelink_count,
            "instance_of": e.instance_of, "datatype": e.datatype,
            "sitelinks": [(s.site, s.lang, s.title) for s in e.sitelinks],
            "triples": [(t.property, t.object, t.rank) for t in e.triples],
            "lastrevid": e.lastrevid,
        })

    def add_reject(self, line_idx: int | None, offset: int | None, r: Reject) -> None:
        self._pad({
            "rec": "reject", "file_idx": self.file_idx, "split_idx": self.split_idx,
            "line_idx": line_idx, "offset": offset, "reason": r.reason, "excerpt": r.excerpt,
        })

    def add_split(self, *, owned_bytes: int, newlines: int, raw_bytes: int, raw_sha256: str,
                  counters: dict[str, int], seconds: float) -> None:
        self._pad({
            "rec": "split", "file_idx": self.file_idx, "split_idx": self.split_idx,
            "owned_bytes": owned_bytes, "newlines": newlines, "raw_bytes": raw_bytes,
            "raw_sha256": raw_sha256, "counters": sorted(counters.items()), "seconds": seconds,
        })

    def full(self) -> bool:
        return self.n >= self.batch_rows

    def flush(self) -> pa.RecordBatch | None:
        if not self.n:
            return None
        arrays = []
        for f in STAGING_SCHEMA:
            arrays.append(pa.array(self.cols[f.name], type=f.type))
        batch = pa.RecordBatch.from_arrays(arrays, schema=STAGING_SCHEMA)
        self._reset()
        return batch
