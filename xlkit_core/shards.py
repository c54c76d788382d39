"""The training-shard contract, in one place: the schema of every task, the writer, the manifests and
the verified reader. The corpus writes shards through it (``corpus_builder/shards.py`` turns
corpus tables into rows, ``jobs/build_shards.py`` runs that on Spark), the back-translation
writes them too, and the trainer reads them with :class:`ShardSet`.

Layout: ``OUT/<task>/part-IIIII-FFF.arrow`` (Arrow IPC files, random access, memory-mappable, of
at most ``max_rows`` rows, written under a temporary name and renamed when complete),
``OUT/<task>/manifest.json`` (schema version, tokenizer sha256, rows, tokens per language, files
with their sha256) and ``OUT/manifest.json`` (the summary of all tasks).

Tasks (DESIGN.md): ``mlm`` packed monolingual sequences that never cross a document boundary;
``pairs`` parallel pairs for TLM and CAMLM; ``mono`` sentences with their target languages for
BTMLM; ``mep`` sentences with one linked mention; ``oe`` (subject, relation) queries with their
object; ``docs`` entity documents that MEP and OE use as keys; ``distill`` word-aligned pairs
with English for MMKD.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .errors import XlkitError
from .fsio import sha256_file
from .step import write_manifest

SCHEMA_VERSION = 1
IDS = pa.list_(pa.int32())
PAIRS = pa.list_(pa.list_(pa.int32()))

SCHEMAS: dict[str, pa.Schema] = {
    "mlm": pa.schema([("input_ids", IDS), ("lang", pa.string()), ("doc", pa.string())]),
    "pairs": pa.schema([("src_ids", IDS), ("tgt_ids", IDS), ("src_lang", pa.string()), ("tgt_lang", pa.string()),
                        ("source", pa.string())]),
    "mono": pa.schema([("ids", IDS), ("lang", pa.string()), ("tgt_langs", pa.list_(pa.string()))]),
    "mep": pa.schema([("ids", IDS), ("mention_start", pa.int32()), ("mention_end", pa.int32()),
                      ("qid", pa.string()), ("candidate", pa.int32()), ("lang", pa.string())]),
    "oe": pa.schema([("query_ids", IDS), ("subject", pa.string()), ("property", pa.string()),
                     ("object", pa.string()), ("lang", pa.string())]),
    "docs": pa.schema([("qid", pa.string()), ("lang", pa.string()), ("ids", IDS)]),
    "distill": pa.schema([("en_text", pa.string()), ("x_text", pa.string()), ("x_lang", pa.string()),
                          ("en_ids", IDS), ("en_word_ids", IDS), ("x_ids", IDS), ("x_word_ids", IDS),
                          ("alignment", PAIRS)]),
}
TASKS = tuple(SCHEMAS)


class ShardFormatError(XlkitError):
    """A shard directory that is missing, of another schema version, truncated or tampered with."""


class ShardWriter:
    """Writes rows of one task from one input part into files of at most ``max_rows`` rows."""

    def __init__(self, out_dir: str, task: str, input_idx: int, max_rows: int, batch_rows: int = 1024):
        self.dir = os.path.join(out_dir, task)
        self.task, self.input_idx, self.max_rows, self.batch_rows = task, input_idx, max_rows, batch_rows
        self.schema = SCHEMAS[task]
        self.files: list[dict] = []
        self.tokens: Counter = Counter()
        self.dropped: Counter = Counter()
        self._cols: dict[str, list] = {f.name: [] for f in self.schema}
        self._pending = 0
        self._rows_in_file = 0
        self._writer = None
        self._tmp = self._final = None
        self._attempt = uuid.uuid4().hex[:8]

    def _open(self) -> None:
        os.makedirs(self.dir, exist_ok=True)
        self._final = os.path.join(self.dir, f"part-{self.input_idx:05d}-{len(self.files):03d}.arrow")
        self._tmp = f"{self._final}.{self._attempt}.inprogress"
        self._writer = pa.ipc.new_file(self._tmp, self.schema)
        self._rows_in_file = 0

    def append(self, row: dict, lang: str, n_tokens: int) -> None:
        for name, col in self._cols.items():
            col.append(row[name])
        self._pending += 1
        self.tokens[lang] += n_tokens
        if self._pending >= self.batch_rows or self._rows_in_file + self._pending >= self.max_rows:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        if self._writer is None:
            self._open()
        batch = pa.RecordBatch.from_arrays([pa.array(self._cols[f.name], type=f.type) for f in self.schema],
                                           schema=self.schema)
        self._writer.write_batch(batch)
        self._rows_in_file += self._pending
        self._cols = {f.name: [] for f in self.schema}
        self._pending = 0
        if self._rows_in_file >= self.max_rows:
            self._close_file()

    def _close_file(self) -> None:
        self._writer.close()
        os.replace(self._tmp, self._final)
        self.files.append({"name": os.path.basename(self._final), "rows": self._rows_in_file,
                           "bytes": os.path.getsize(self._final), "sha256": sha256_file(self._final)})
        self._writer = None

    def close(self) -> dict:
        self._flush()
        if self._writer is not None:
            self._close_file()
        return {"task": self.task, "input_idx": self.input_idx, "files": self.files, "tokens": dict(self.tokens),
                "dropped": dict(self.dropped)}

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
            if os.path.exists(self._tmp):
                os.remove(self._tmp)


def write_manifests(tmp: str, results: list[dict], meta: dict) -> dict:
    """Per-task ``manifest.json`` files and the shard set's top manifest, from the parts' results."""
    tasks: dict[str, dict] = {}
    for r in results:
        t = tasks.setdefault(r["task"], {"files": [], "tokens": Counter(), "dropped": Counter()})
        t["files"] += r["files"]
        t["tokens"].update(r["tokens"])
        t["dropped"].update(r.get("dropped", {}))
    summary = {}
    for task, t in sorted(tasks.items()):
        m = {"schema_version": SCHEMA_VERSION, "task": task, "tokenizer_sha256": meta["tokenizer_sha256"],
             "rows": sum(f["rows"] for f in t["files"]), "tokens": sum(t["tokens"].values()),
             "tokens_by_lang": dict(sorted(t["tokens"].items())), "languages": sorted(t["tokens"]),
             "dropped": dict(sorted(t["dropped"].items())),
             "files": sorted(t["files"], key=lambda f: f["name"]), "max_len": meta["max_len"],
             "max_rows": meta["max_rows"], "corpus": meta["corpus"]}
        os.makedirs(os.path.join(tmp, task), exist_ok=True)
        write_manifest(os.path.join(tmp, task, "manifest.json"), m)
        summary[task] = {k: m[k] for k in ("rows", "tokens", "tokens_by_lang", "dropped")} | {"files": len(m["files"])}
    top = {"schema_version": SCHEMA_VERSION, "tasks": summary} | meta
    write_manifest(os.path.join(tmp, "manifest.json"), top)
    return top


@dataclass
class ShardSet:
    """All files of one task, memory-mapped (zero copy), with a global row index over record batches."""

    task: str
    directory: str
    manifest: dict
    batches: list[pa.RecordBatch]
    offsets: np.ndarray            # offsets[i] = first global row of batch i; offsets[-1] = total rows

    @classmethod
    def open(cls, directory: str, verify: bool = True, expect_tokenizer: str | None = None) -> ShardSet:
        path = os.path.join(directory, "manifest.json")
        if not os.path.exists(path):
            raise ShardFormatError(f"{directory} has no manifest.json: not a shard directory (make shards writes them)")
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        if manifest.get("schema_version") != SCHEMA_VERSION:
            raise ShardFormatError(f"{path}: schema_version {manifest.get('schema_version')!r}, this reader needs "
                                   f"{SCHEMA_VERSION}; rebuild the shards with this version (make shards)")
        if expect_tokenizer and manifest.get("tokenizer_sha256") != expect_tokenizer:
            raise ShardFormatError(f"{path}: built with tokenizer {manifest.get('tokenizer_sha256', '?')[:12]}, "
                                   f"not {expect_tokenizer[:12]}; rebuild the shards with this tokenizer")
        batches, counts = [], []
        for entry in manifest["files"]:
            fpath = os.path.join(directory, entry["name"])
            if not os.path.exists(fpath):
                raise ShardFormatError(f"{fpath} is listed in the manifest but missing; rebuild the shards")
            if verify and sha256_file(fpath) != entry["sha256"]:
                raise ShardFormatError(f"{fpath}: sha256 does not match the manifest (truncated or modified); "
                                       "rebuild the shards")
            try:
                reader = pa.ipc.open_file(pa.memory_map(fpath, "r"))
                file_batches = [reader.get_batch(i) for i in range(reader.num_record_batches)]
            except (pa.ArrowInvalid, OSError) as exc:
                raise ShardFormatError(f"{fpath}: not a readable Arrow file ({exc}); rebuild the shards") from None
            rows = sum(b.num_rows for b in file_batches)
            if rows != entry["rows"]:
                raise ShardFormatError(f"{fpath}: {rows} rows, the manifest says {entry['rows']}")
            batches += file_batches
            counts += [b.num_rows for b in file_batches]
        offsets = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]).astype(np.int64)
        return cls(manifest["task"], directory, manifest, batches, offsets)

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def row(self, index: int) -> dict:
        i = int(np.searchsorted(self.offsets, index, side="right") - 1)
        return self.batches[i].slice(index - int(self.offsets[i]), 1).to_pylist()[0]


