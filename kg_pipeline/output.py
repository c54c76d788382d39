"""Atomic output, shared by every job and the trainer's writers: write into a temporary directory
beside OUT, rename into place on success, remove it on failure."""

from __future__ import annotations

import os
import shutil
import uuid

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
