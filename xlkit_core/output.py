"""Atomic output, shared by every job and the trainer's writers: write into a temporary directory
beside OUT, rename into place on success, remove it on failure; and the one JSON file writer."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

from .errors import ConfigError, OutputExistsError
from .fsio import is_local, local_path


def prepare_out(out: str, overwrite: bool) -> tuple[str, str]:
    """Check OUT and return (absolute OUT, temporary directory path beside it)."""
    if not is_local(out):
        raise ConfigError(f"--out {out}: the output must be a path on a filesystem that the driver and "
                          "the executors share (local disk in local mode, NFS or similar on a cluster)")
    out = os.path.abspath(local_path(out))
    if os.path.exists(out) and not overwrite:
        raise OutputExistsError(f"{out} already exists: pass --overwrite (OVERWRITE=1 with make) to replace it, "
                                "or choose another OUT")
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    if not os.access(parent, os.W_OK):
        raise ConfigError(f"cannot write into {parent}: check its permissions or choose another OUT")
    return out, os.path.join(parent, f".{os.path.basename(out)}.tmp-{uuid.uuid4().hex[:12]}")


def commit(tmp: str, out: str) -> None:
    """Move tmp into place; an existing OUT (allowed only with --overwrite) is replaced."""
    old = None
    if os.path.exists(out):
        old = f"{tmp}.old"
        os.replace(out, old)
    os.replace(tmp, out)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def discard(tmp: str | None) -> None:
    """Remove an uncommitted temporary output directory, if there is one."""
    if tmp and os.path.exists(tmp):
        shutil.rmtree(tmp, ignore_errors=True)


def _plain(x):
    if hasattr(x, "item"):        # numpy scalars
        return x.item()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON: {type(x).__name__}")


def write_json(path: str | os.PathLike, obj, *, indent: int = 2, sort_keys: bool = False,
               final_newline: bool = True) -> None:
    """Write ``obj`` as UTF-8 JSON to ``path`` (parents created) through a temporary file renamed
    when complete, so a crash never leaves half a file. Numpy scalars and paths are converted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, indent=indent, sort_keys=sort_keys, ensure_ascii=False, default=_plain)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.inprogress")
    tmp.write_text(text + ("\n" if final_newline else ""), encoding="utf-8")
    os.replace(tmp, path)
