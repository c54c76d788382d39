"""Configuration of the knowledge-graph job, validated before Spark starts."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from xlkit_core.errors import ConfigError
from xlkit_core.langs import parse_langs
from xlkit_core.step import check_fraction_option

DEFAULT_SPLIT_BYTES = 64 << 20


@dataclass(frozen=True, kw_only=True)
class KGConfig:
    inputs: tuple[str, ...]
    out: str
    langs: tuple[str, ...] | None = None
    max_reject_fraction: float = 0.001
    split_bytes: int = DEFAULT_SPLIT_BYTES
    dedup: str = "auto"          # auto | always | never
    overwrite: bool = False
    master: str | None = None

    def __post_init__(self):
        if not self.inputs:
            raise ConfigError("no input given: pass --input <dump.json.bz2> (a file, directory or glob)")
        check_fraction_option(self.max_reject_fraction)
        if self.split_bytes < 1 << 16:
            raise ConfigError(f"--split-mb gives {self.split_bytes} bytes; use at least 0.0625 (64 KiB)")
        if self.dedup not in ("auto", "always", "never"):
            raise ConfigError(f"--dedup {self.dedup!r}: choose auto, always or never")

    @staticmethod
    def langs_from(value: str | None) -> tuple[str, ...] | None:
        try:
            return parse_langs(value)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def as_dict(self) -> dict:
        d = asdict(self)
        d["langs"] = list(self.langs) if self.langs else None
        d["inputs"] = list(self.inputs)
        return d
