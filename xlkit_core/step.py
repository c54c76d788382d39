"""The shape of one per-split step, shared by every job.

A job cuts its input into splits (byte ranges of a dump, one text file, one Parquet part) and runs
one *task* per split, on Spark or not. Every task has the same shape:

    def my_task(split: dict, ...) -> dict:
        def body(parts: Parts) -> dict:
            rows = parts.open(out_dir, "pages", PAGES, split_idx)   # a PartWriter
            ...                                                     # read records, count outcomes
            return Outcome(split_idx, counters, {"rows": parts.close()}).as_dict()
        return run_task(f"{path} (bytes {start}-{end})", body)

* **In**: a typed record of the split (a frozen dataclass sent as a dict, so Spark pickles plain
  data).
* **Out**: an :class:`Outcome`, counted outcomes as dotted keys (``read``, ``dropped.<reason>``,
  ``rejects.<reason>``, ``pages.<lang>``) plus what the driver needs (files read, rows written).
  Malformed records go to a rejects part with their reason; they are counted, never raised.
* **One way to fail**: :func:`run_task`. Whatever goes wrong, every part the task opened is
  removed (no half-written file survives an attempt) and the task raises ``RuntimeError`` whose
  message carries one tagged line (:func:`xlkit_core.errors.tagged`): an :class:`XlkitError`'s
  own message for bad input (a corrupt file, unequal aligned files), ``where: Type: message``
  for anything else. The driver pulls that line out of Spark's traceback and shows it alone
  (``jobs/_spark.py``: ``user_errors``).

The driver side: :func:`merge_counters`, :func:`by_prefix`, the reject threshold
(:func:`check_fraction_option`, :func:`check_reject_fraction`) and :func:`write_manifest`.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyarrow as pa

from .errors import ConfigError, RejectThresholdError, XlkitError, tagged
from .output import write_json
from .parts import PartWriter


@dataclass
class Outcome:
    """What one task reports: its index, counted outcomes and any further fields for the driver."""

    task: int
    counters: Counter = field(default_factory=Counter)
    fields: dict = field(default_factory=dict)

    def as_dict(self, key: str = "task") -> dict:
        return {key: self.task, "counters": dict(self.counters), **self.fields}


class Parts:
    """The part writers one task attempt opens: all closed together on success, all removed on failure."""

    def __init__(self) -> None:
        self.attempt = uuid.uuid4().hex[:8]
        self._open: dict = {}
        self._closed = False

    def open(self, directory: str, table: str, schema: pa.Schema, split_idx: int, key: str | None = None) -> PartWriter:
        """A Parquet part of ``table`` for this split, known to the task as ``key`` (default the table)."""
        return self.add(key or table, PartWriter(directory, table, schema, split_idx, self.attempt))

    def add(self, key: str, writer):
        """Any other writer with ``close()`` (commit, return a summary) and ``abort()`` (remove)."""
        self._open[key] = writer
        return writer

    def close(self) -> dict:
        """Commit every part (write, then rename); return what each writer's close returns (rows per table)."""
        rows = {k: w.close() for k, w in self._open.items()}
        self._closed = True
        return rows

    def abort(self) -> None:
        if not self._closed:
            for w in self._open.values():
                w.abort()


def run_task(where: str, body: Callable[[Parts], dict]) -> dict:
    """Run one task's ``body`` with its :class:`Parts`; the one way a task fails (module docstring)."""
    parts = Parts()
    try:
        return body(parts)
    except XlkitError as exc:          # bad input: its message is meant for the user as it is
        parts.abort()
        raise RuntimeError(tagged(str(exc))) from None
    except Exception as exc:
        parts.abort()
        raise RuntimeError(tagged(f"{where}: {type(exc).__name__}: {exc}")) from exc
    except BaseException:
        parts.abort()
        raise


# ---- the driver side ------------------------------------------------------------------------------


def merge_counters(outcomes: Iterable[dict]) -> Counter:
    total: Counter = Counter()
    for o in outcomes:
        total.update(o["counters"])
    return total


def by_prefix(c: Counter | dict, prefix: str) -> dict[str, int]:
    """``{"rejects.bad_json": 3, "read": 9}``, ``"rejects"`` -> ``{"bad_json": 3}``, sorted by key."""
    n = len(prefix) + 1
    return dict(sorted((k[n:], v) for k, v in c.items() if k.startswith(prefix + ".")))


def check_fraction_option(value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"MAX_REJECT_FRACTION={value} is outside [0, 1]; e.g. 0.001 allows 1 bad line in 1000")


def check_reject_fraction(rejected: int, read: int, max_fraction: float, reasons: dict[str, int], what: str,
                          advice: str) -> float:
    """The reject threshold of every job: the fraction rejected, or :class:`RejectThresholdError`
    when it is above ``max_fraction``. ``what`` completes "N of M ..." (e.g. "pages were
    rejected"); ``advice`` says what to do."""
    fraction = rejected / read if read else 0.0
    if fraction > max_fraction:
        listed = ", ".join(f"{k}: {v:,}" for k, v in reasons.items())
        raise RejectThresholdError(f"{rejected:,} of {read:,} {what} ({fraction:.4%} > MAX_REJECT_FRACTION="
                                   f"{max_fraction}); reasons: {listed}. {advice}")
    return fraction


def write_manifest(path: str, manifest: dict) -> None:
    """A job's ``_manifest.json``: indented UTF-8 JSON, written beside and renamed into place."""
    write_json(path, manifest)
