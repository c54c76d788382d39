"""Installed versions against the lock file, checked before an entry point does any work.

The lock (``requirements.lock``, written by ``make lock``) pins every package; the Makefile
installs exactly those versions. When the running environment differs for one of the packages the
code depends on most, results and even imports can change (transformers 5.25 broke a fresh clone),
so the entry points stop with one line that names the package, both versions and the fix.

``XLKIT_LOCK`` points the check at another lock file; ``XLKIT_ALLOW_DRIFT=1`` turns the error off for
a user who runs other versions on purpose. Outside a source checkout (no lock file) nothing is checked.
"""

from __future__ import annotations

import os
import re
import sys
from importlib import metadata
from pathlib import Path

# The packages whose version changes what the code computes or whether it runs at all.
CHECKED = ("torch", "transformers", "pyspark", "pyarrow")
# torch is installed on its own (a CPU or a CUDA wheel of one version); its pin lives in the Makefile.
TORCH_PIN_FILE = "Makefile"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
_TORCH_SPEC = re.compile(r"^TORCH_SPEC\s*\?=\s*torch==(\S+)", re.M)


class DriftError(RuntimeError):
    """An installed version differs from the lock."""


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def lock_path() -> Path:
    return Path(os.environ.get("XLKIT_LOCK") or repo_root() / "requirements.lock")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, str]:
    """Package name (normalised) -> pinned version, from a pip requirements lock."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _PIN.match(line.strip())
        if m:
            pins[normalize(m.group(1))] = m.group(2)
    return pins


def expected_versions(path: Path | None = None) -> dict[str, str]:
    """The lock's pins plus torch's, which the Makefile installs first (its TORCH_SPEC)."""
    path = path or lock_path()
    pins = read_lock(path)
    makefile = path.parent / TORCH_PIN_FILE
    if "torch" not in pins and makefile.is_file():
        m = _TORCH_SPEC.search(makefile.read_text(encoding="utf-8"))
        if m:
            pins["torch"] = m.group(1)
    return pins


def public(version: str) -> str:
    """``2.13.0+cpu`` -> ``2.13.0``: a local build label names the wheel's flavour, not its version."""
    return version.split("+", 1)[0]


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def drift(packages: tuple[str, ...] = CHECKED, path: Path | None = None) -> list[tuple[str, str, str]]:
    """(package, found, expected) for every checked package whose installed version is not the lock's.

    A package that is not installed is not drift (its import fails with its own message)."""
    path = path or lock_path()
    if not path.is_file():
        return []
    pins = expected_versions(path)
    out = []
    for name in packages:
        want, have = pins.get(normalize(name)), installed_version(name)
        if want and have and public(have) != public(want):
            out.append((name, have, want))
    return out


def drift_message(found: list[tuple[str, str, str]], path: Path | None = None) -> str:
    path = path or lock_path()
    name, have, want = found[0]
    more = f" (and {', '.join(n for n, _, _ in found[1:])})" if len(found) > 1 else ""
    return (f"xlkit: {name} {have} is installed but {path.name} pins {want}{more}; "
            f"run `make venv` to install the locked versions (or set XLKIT_ALLOW_DRIFT=1 to go on anyway)")


def check_environment(prog: str | None = None) -> None:
    """Exit with status 2 and one line on stderr when the environment has drifted from the lock."""
    if os.environ.get("XLKIT_ALLOW_DRIFT", "") not in ("", "0"):
        return
    found = drift()
    if found:
        print(drift_message(found), file=sys.stderr)
        raise SystemExit(2)
