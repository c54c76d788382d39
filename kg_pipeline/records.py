"""Record types of the knowledge-graph pipeline and their Arrow schemas.

A parsed entity is an :class:`EntityRecord`; a line that cannot be used is a :class:`Reject`
with a reason. kg_pipeline.tables turns records into the published Parquet tables.
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


EXCERPT_CHARS = 200

STR_MAP = pa.map_(pa.string(), pa.string())
ALIAS_MAP = pa.map_(pa.string(), pa.list_(pa.string()))
