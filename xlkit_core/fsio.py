"""File access that works for local paths and for any URI pyarrow.fs understands (hdfs://, s3://, gs://)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urlparse


def is_local(path: str) -> bool:
    scheme = urlparse(path).scheme
    return scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt")


def local_path(path: str) -> str:
    return urlparse(path).path if path.startswith("file:") else path


@dataclass(frozen=True)
class FileInfo:
    path: str
    size: int


def sha256_file(path: str) -> str:
    """sha256 of a local file, read in 8 MiB chunks."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    return h.hexdigest()


def _arrow_fs(path: str):
    from pyarrow import fs as pafs

    return pafs.FileSystem.from_uri(path)


def open_binary(path: str) -> BinaryIO:
    """A seekable binary file object."""
    if is_local(path):
        return open(local_path(path), "rb")  # noqa: SIM115 - the caller closes it
    filesystem, inner = _arrow_fs(path)
    return filesystem.open_input_file(inner)


def list_inputs(path: str) -> list[FileInfo]:
    """A file, or the visible files of a directory (sorted), or a glob's matches (sorted).

    Raises FileNotFoundError / PermissionError / NotADirectoryError with the path in the message.
    """
    if is_local(path):
        import glob

        p = local_path(path)
        if any(ch in p for ch in "*?["):
            matches = sorted(glob.glob(p))
            if not matches:
                raise FileNotFoundError(f"no file matches {path}")
            return [f for m in matches for f in list_inputs(m)]
        if not os.path.exists(p):
            raise FileNotFoundError(f"{path} does not exist")
        if os.path.isdir(p):
            names = sorted(n for n in os.listdir(p) if not n.startswith((".", "_")))
            files = [os.path.join(p, n) for n in names if os.path.isfile(os.path.join(p, n))]
            if not files:
                raise FileNotFoundError(f"{path} is a directory with no input files")
            return [FileInfo(os.path.abspath(f), os.path.getsize(f)) for f in files]
        if not os.access(p, os.R_OK):
            raise PermissionError(f"{path} is not readable (check its permissions)")
        return [FileInfo(os.path.abspath(p), os.path.getsize(p))]
    from pyarrow import fs as pafs

    filesystem, inner = _arrow_fs(path)
    info = filesystem.get_file_info(inner)
    scheme = path.split("://", 1)[0]
    if info.type == pafs.FileType.NotFound:
        raise FileNotFoundError(f"{path} does not exist")
    if info.type == pafs.FileType.Directory:
        sel = pafs.FileSelector(inner, recursive=False)
        infos = sorted(
            (i for i in filesystem.get_file_info(sel)
             if i.type == pafs.FileType.File and not i.base_name.startswith((".", "_"))),
            key=lambda i: i.path,
        )
        if not infos:
            raise FileNotFoundError(f"{path} is a directory with no input files")
        return [FileInfo(f"{scheme}://{i.path}", i.size) for i in infos]
    return [FileInfo(path, info.size)]


MIN_SPLITS = 8                 # a file is cut into at least this many splits ...
MIN_SPLIT_BYTES = 1 << 20      # ... unless that would make them smaller than this


def split_step(size: int, split_bytes: int) -> int:
    """Bytes per split of a file of ``size`` bytes: at most ``split_bytes``, and small enough that a
    file of a few MiB still gives MIN_SPLITS tasks (so every core works on a single dump), but
    never below MIN_SPLIT_BYTES unless ``split_bytes`` itself is smaller. It depends on the file
    alone, never on the number of cores, so the output is the same on every cluster."""
    return max(1, min(split_bytes, max(MIN_SPLIT_BYTES, -(-size // MIN_SPLITS))))


def byte_ranges(size: int, split_bytes: int) -> list[tuple[int, int]]:
    """The [start, end) byte ranges of a file's splits (see split_step)."""
    step = split_step(size, split_bytes)
    return [(s, min(s + step, size)) for s in range(0, size, step)] or [(0, 0)]
