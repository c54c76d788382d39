"""Schemas of the corpus tables (DESIGN.md) and of the per-split staging tables."""

from __future__ import annotations

import pyarrow as pa

# Written by each split (staging, joined and sorted by Spark afterwards).
STAGE_PAGES = pa.schema([("lang", pa.string()), ("page_id", pa.int64()), ("title", pa.string()),
                         ("text", pa.string()), ("lead", pa.string())])
STAGE_REDIRECTS = pa.schema([("lang", pa.string()), ("from_title", pa.string()), ("to_title", pa.string())])
SENTENCES = pa.schema([("lang", pa.string()), ("page_id", pa.int64()), ("sentence_id", pa.int32()),
                       ("text", pa.string())])
STAGE_MENTIONS = pa.schema([
    ("lang", pa.string()), ("page_id", pa.int64()), ("sentence_id", pa.int32()), ("start", pa.int32()),
    ("end", pa.int32()), ("surface", pa.string()), ("target_title", pa.string()),
    ("unresolved_reason", pa.string()),
])
STAGE_REJECTS = pa.schema([("split_idx", pa.int32()), ("offset", pa.int64()), ("title", pa.string()),
                           ("reason", pa.string()), ("excerpt", pa.string())])

STAGED = {"_pages": STAGE_PAGES, "_redirects": STAGE_REDIRECTS, "sentences": SENTENCES,
          "_mentions": STAGE_MENTIONS, "_rejects_local": STAGE_REJECTS}

# Published pages (the others take their schema from the Spark query that derives them).
PAGES = pa.schema([("lang", pa.string()), ("page_id", pa.int64()), ("title", pa.string()), ("qid", pa.string()),
                   ("text", pa.string())])

# Published tables (column order of DESIGN.md).
PUBLISHED = ("pages", "redirects", "sentences", "mentions", "entity_docs", "candidates",
             "mep_examples", "oe_examples", "rejects")
