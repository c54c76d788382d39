"""The inputs of the parallel job and their layouts: aligned file pairs, TSV files and directories
(Multi30K, Tatoeba's LASER layout), each resolved to a :class:`PairInput` with its language pair,
source name, split and evaluation mark, before anything is read (``corpus_builder.parallel`` reads
them)."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import asdict, dataclass, replace

from xlkit_core.errors import ConfigError, InputError
from xlkit_core.fsio import list_inputs
from xlkit_core.langs import is_code, normalise

COMPRESSED = (".gz", ".bz2", ".xz")
SPLITS = {"train": "train", "val": "val", "valid": "val", "dev": "val", "test": "test"}
# File prefixes of the Multi30K release (data/task1/raw): their source is multi30k/<prefix>.
MULTI30K = ("train", "val", "test_2016_flickr", "test_2017_flickr", "test_2017_mscoco", "test_2018_flickr")


# ---- inputs and their layouts ------------------------------------------------------------------

@dataclass(frozen=True)
class PairInput:
    """One unit of work: a pair of aligned files or one TSV file, in one language pair."""

    src_lang: str
    tgt_lang: str
    source: str
    split: str
    fmt: str                      # "aligned" | "tsv"
    paths: tuple[str, ...]
    evaluation: bool = False
    swap: bool = False            # TSV only: the two columns are read the other way round

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def pair(self) -> str:
        return f"{self.src_lang}-{self.tgt_lang}"


@dataclass(slots=True)
class ParallelPair:
    src_lang: str
    tgt_lang: str
    src: str
    tgt: str
    source: str
    split: str
    line: int                      # 1-based line of the pair in its file(s)
    alignment: list[list[int]] | None = None


def strip_compression(name: str) -> str:
    for ext in COMPRESSED:
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def split_of(prefix: str) -> str | None:
    """train / val / test when a file prefix names a split (`train`, `valid`, `test_2016_flickr`)."""
    p = prefix.lower()
    if p in SPLITS:
        return SPLITS[p]
    if p.startswith(("test_", "test-", "test.", "newstest", "tst")):
        return "test"
    if p.startswith(("dev_", "dev-", "dev.", "val_", "val-", "valid_", "valid-", "newsdev")):
        return "val"
    return None


def name_source(path: str, prefix: str) -> tuple[str, str, bool]:
    """(source, split, evaluation) for an input file whose name without language and codec is `prefix`.

    - `tatoeba.*` files: source `tatoeba`, split `test`, evaluation data;
    - a prefix that names a split (train, val, test_2016_flickr, ...): `<dataset>/<prefix>` with the
      split it names. The dataset is `multi30k` when the path has a directory named like it or the
      prefix is one of Multi30K's files, else the name of the file's directory;
    - anything else: the prefix itself (the file stem), split `train`.
    """
    base = os.path.basename(path)
    if base.lower().startswith("tatoeba."):
        return "tatoeba", "test", True
    split = split_of(prefix)
    if split is None:
        return prefix, "train", False
    parts = [p for p in os.path.dirname(os.path.abspath(path)).split(os.sep) if p]
    if any("multi30k" in p.lower() for p in parts) or prefix in MULTI30K[2:]:
        dataset = "multi30k"
    else:
        dataset = parts[-1] if parts else "data"
    return f"{dataset}/{prefix}", split, False


FILE_LANG_RE = re.compile(r"^(?P<prefix>.+)\.(?P<lang>[A-Za-z]{2,3}(?:[-_][A-Za-z]{2,4})?)$")
PAIR_IN_NAME_RE = re.compile(r"(?:^|[._-])(?P<a>[A-Za-z]{2,3})[-_](?P<b>[A-Za-z]{2,3})$")
TSV_RE = re.compile(r"^(?P<stem>.+)\.tsv$", re.I)


def file_lang(path: str) -> tuple[str, str] | None:
    """(`train`, `de`) for train.de.gz; (`tatoeba.deu-eng`, `deu`) for tatoeba.deu-eng.deu; else None."""
    m = FILE_LANG_RE.match(strip_compression(os.path.basename(path)))
    if not m or not is_code(m["lang"]) or m["lang"].lower() in ("tsv", "txt", "csv", "md", "json", "xml"):
        return None
    return m["prefix"], m["lang"]


def langs_in_name(stem: str) -> tuple[str, str] | None:
    """(`ja`, `en`) for `ja-en`, `sample.jpn-eng`, `corpus_de_en`; else None."""
    m = PAIR_IN_NAME_RE.search(stem)
    if not m or not (is_code(m["a"]) and is_code(m["b"])):
        return None
    return m["a"], m["b"]


def aligned_input(src: str, tgt: str, src_lang: str | None = None, tgt_lang: str | None = None) -> PairInput:
    fa, fb = file_lang(src), file_lang(tgt)
    if src_lang is None or tgt_lang is None:
        if fa is None or fb is None:
            raise ConfigError(f"cannot tell the languages of {src},{tgt} from their names: write them "
                              f"in front, e.g. de-en={src},{tgt}")
        src_lang, tgt_lang = normalise(fa[1]), normalise(fb[1])
    prefix = fa[0] if fa else strip_compression(os.path.basename(src)).rsplit(".", 1)[0]
    source, split, evaluation = name_source(src, prefix)
    return PairInput(src_lang, tgt_lang, source, split, "aligned", (src, tgt), evaluation)


def tsv_input(path: str, src_lang: str | None = None, tgt_lang: str | None = None) -> PairInput:
    name = strip_compression(os.path.basename(path))
    m = TSV_RE.match(name)
    stem = m["stem"] if m else name.rsplit(".", 1)[0]
    if src_lang is None or tgt_lang is None:
        langs = langs_in_name(stem)
        if langs is None:
            raise ConfigError(f"cannot tell the languages of {path} from its name: write them in front, "
                              f"e.g. ja-en={path}")
        src_lang, tgt_lang = normalise(langs[0]), normalise(langs[1])
    source, split, evaluation = name_source(path, stem)
    return PairInput(src_lang, tgt_lang, source, split, "tsv", (path,), evaluation)


def discover(directory: str, pivot: str = "en", want: tuple[str, str] | None = None) -> list[PairInput]:
    """The pairs inside a directory, found by their file names (see the module docstring).

    Files `<prefix>.<lang>[.gz]` with the same prefix are parallel. When the prefix names the
    order (`tatoeba.deu-eng`), that order is used; otherwise every language is paired with the
    pivot (English by default), which is the target: train.{de,fr,cs,en} gives cs-en, de-en and
    fr-en. `*.tsv[.gz]` files are TSV inputs whose name carries the pair (`ja-en.tsv`). With
    `want`, only that language pair is kept, in that order.
    """
    try:
        files = [f.path for f in list_inputs(directory)]
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        raise InputError(f"cannot read {directory}: {exc}") from None
    groups: dict[str, dict[str, str]] = {}
    found: list[PairInput] = []
    for path in files:
        name = strip_compression(os.path.basename(path))
        if TSV_RE.match(name):
            langs = langs_in_name(TSV_RE.match(name)["stem"])
            if langs:
                found.append(tsv_input(path))
            continue
        fl = file_lang(path)
        if fl:
            groups.setdefault(fl[0], {})[fl[1]] = path
    for prefix in sorted(groups):
        by_lang = groups[prefix]
        if len(by_lang) < 2:
            continue
        norm = {normalise(code): path for code, path in sorted(by_lang.items())}
        named = langs_in_name(prefix)
        if named and named[0] in by_lang and named[1] in by_lang:
            pairs = [(by_lang[named[0]], by_lang[named[1]], normalise(named[0]), normalise(named[1]))]
        elif pivot in norm:
            pairs = [(norm[lang], norm[pivot], lang, pivot) for lang in sorted(norm) if lang != pivot]
        elif len(norm) == 2:
            a, b = sorted(norm)
            pairs = [(norm[a], norm[b], a, b)]
        else:
            raise ConfigError(f"{directory}: {prefix}.* has {len(norm)} languages ({', '.join(sorted(norm))}) and "
                              f"none is the pivot {pivot}: name the pairs, e.g. "
                              f"{sorted(norm)[0]}-{sorted(norm)[1]}={directory}, or pass --pivot")
        found += [aligned_input(s, t, sl, tl) for s, t, sl, tl in pairs]
    found.sort(key=lambda p: (p.paths[0], p.pair))
    if want is not None:
        found = [_oriented(p, want) for p in found if {p.src_lang, p.tgt_lang} == set(want)]
    if not found:
        what = f" for {want[0]}-{want[1]}" if want else ""
        raise InputError(f"{directory}: no parallel files found{what} (expected corpus.de + corpus.en, "
                         "tatoeba.deu-eng.deu + tatoeba.deu-eng.eng, train.de.gz + train.en.gz, or xx-yy.tsv)")
    return found


def _oriented(p: PairInput, want: tuple[str, str]) -> PairInput:
    if (p.src_lang, p.tgt_lang) == want:
        return p
    if p.fmt == "aligned":
        return replace(p, src_lang=want[0], tgt_lang=want[1], paths=p.paths[::-1])
    return replace(p, src_lang=want[0], tgt_lang=want[1], swap=not p.swap)


def parse_spec(item: str, pivot: str = "en") -> list[PairInput]:
    """One item of --parallel: `de-en=a.de,b.en`, `fr-en=x.tsv`, `de-en=DIR`, `DIR`, `a.de,b.en` or `ja-en.tsv`."""
    langs, sep, rest = item.partition("=")
    want = None
    if sep and "/" not in langs and "," not in langs:
        codes = re.split(r"[-_]", langs, maxsplit=1) if re.fullmatch(r"[A-Za-z]{2,3}[-_][A-Za-z]{2,3}", langs) else []
        if len(codes) != 2:
            raise ConfigError(f"--parallel {item}: {langs!r} is not a language pair; write src-tgt=FILES, e.g. "
                              "de-en=corpus.de,corpus.en")
        want = (normalise(codes[0]), normalise(codes[1]))
        if want[0] == want[1]:
            raise ConfigError(f"--parallel {item}: both sides are {want[0]}")
    else:
        rest = item
    paths = [p if "://" in p else os.path.abspath(p) for p in rest.split(",") if p]
    for p in paths:
        if "://" not in p and not os.path.exists(p):
            raise InputError(f"--parallel {item}: {p} does not exist")
    if len(paths) == 2:
        return [aligned_input(paths[0], paths[1], *(want or (None, None)))]
    if len(paths) != 1:
        raise ConfigError(f"--parallel {item}: give two aligned files (a,b), one TSV file or one directory")
    if os.path.isdir(paths[0]):
        return discover(paths[0], pivot, want)
    return [tsv_input(paths[0], *(want or (None, None)))]


def plan_inputs(values: list[str], pivot: str = "en", eval_sources: tuple[str, ...] = (),
                train_sources: tuple[str, ...] = ()) -> list[PairInput]:
    """All inputs of the job, in order, with the marks of --eval-source and --train-source applied.

    --train-source makes a source whose file name names a test or dev split (Multi30K's
    ``test_2017_flickr``) training data: split ``train``. Tatoeba files stay evaluation data."""
    inputs: list[PairInput] = []
    for value in values:
        for item in value.split():
            inputs += parse_spec(item, pivot)
    if not inputs:
        raise ConfigError("no parallel input given: --parallel de-en=corpus.de,corpus.en")
    seen: dict[tuple, PairInput] = {}
    for p in inputs:
        key = (p.paths, p.pair)
        if key in seen:
            raise ConfigError(f"{', '.join(p.paths)} is given twice for {p.pair}")
        seen[key] = p
    for flag, patterns in (("--eval-source", eval_sources), ("--train-source", train_sources)):
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(p.source, pattern) for p in inputs):
                known = ", ".join(sorted({p.source for p in inputs}))
                raise ConfigError(f"{flag} {pattern} matches no source; the sources are: {known}")
    out = []
    for p in inputs:
        evaluation = p.evaluation or any(fnmatch.fnmatchcase(p.source, pat) for pat in eval_sources)
        if any(fnmatch.fnmatchcase(p.source, pat) for pat in train_sources):
            if evaluation:
                why = "Tatoeba is the retrieval benchmark" if p.source == "tatoeba" else "--eval-source marks it too"
                raise ConfigError(f"--train-source cannot make {p.source} training data: {why}")
            p = replace(p, split="train")
        out.append(replace(p, evaluation=evaluation))
    return out
