"""``make doctor``: the facts a bug report needs, in one block to paste.

Python, the platform, Java, Spark, torch (threads, CUDA), transformers and the lock's state: which
locked packages are installed at their pinned version, which differ and which are missing.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

from xlkit_core import environment as env


def java_version() -> str:
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"not found ({exc.__class__.__name__}); the Spark jobs need Java 17"
    lines = (out.stderr or out.stdout).strip().splitlines()
    return lines[0] if lines else f"java -version exited {out.returncode}"


def torch_line() -> str:
    try:
        import torch
    except ImportError as exc:
        return f"not importable ({exc})"
    cuda = "no CUDA"
    if torch.cuda.is_available():
        cuda = f"CUDA {torch.version.cuda}, {torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}"
    elif torch.version.cuda:
        cuda = f"CUDA build {torch.version.cuda}, no device visible"
    return f"{torch.__version__} ({torch.get_num_threads()} threads, {cuda})"


def lock_lines() -> list[str]:
    path = env.lock_path()
    if not path.is_file():
        return [f"lock: {path} not found (not a source checkout); versions not checked"]
    pins = env.expected_versions(path)
    differ, missing = [], []
    for name, want in sorted(pins.items()):
        have = env.installed_version(name)
        if have is None:
            missing.append(name)
        elif env.public(have) != env.public(want):
            differ.append(f"{name} {have} (lock {want})")
    state = "matches" if not differ and not missing else "DIFFERS"
    lines = [f"lock: {path} {state}: {len(pins) - len(differ) - len(missing)}/{len(pins)} packages at their pin"]
    lines += [f"  differs: {d}" for d in differ]
    lines += [f"  missing: {m}" for m in missing]
    if differ or missing:
        lines.append("  fix: make venv")
    return lines


def report() -> list[str]:
    v = env.installed_version
    return [
        f"python: {sys.version.split()[0]} ({sys.executable})",
        f"platform: {platform.platform()}, {os.cpu_count()} CPUs",
        f"java: {java_version()}",
        f"pyspark: {v('pyspark') or 'not installed'}; pyarrow: {v('pyarrow') or 'not installed'}",
        f"torch: {torch_line()}",
        f"transformers: {v('transformers') or 'not installed'}; tokenizers: {v('tokenizers') or 'not installed'}",
        *lock_lines(),
    ]


def main() -> int:
    print("\n".join(report()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
