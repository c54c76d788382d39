"""The data pipeline of ``make demo`` on the embedded samples, as a list of job invocations.

Tests (the ``demo_shards`` fixture and the shard-job tests) run the steps in-process; benchmarks
run each one as a child process. Both get the same arguments from :func:`steps`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
LANGS = ("en", "de", "fr", "ja", "zh")
PAIRS = ("de-en", "fr-en", "ja-en")


def _pair_spec(pair: str) -> str:
    par = SAMPLES / "parallel"
    if (par / f"{pair}.tsv").exists():
        return f"{pair}={par / f'{pair}.tsv'}"
    x, y = pair.split("-")
    return f"{pair}={par / f'{pair}.{x}'},{par / f'{pair}.{y}'}"


def steps(base: Path, langs=LANGS, pairs=PAIRS, vocab_size: int = 1000,
          shard_args: tuple[str, ...] = ("--max-len", "128")) -> tuple[list[tuple[str, list[str]]], dict[str, Path]]:
    """(job name, argv) for KG -> corpus -> parallel (aligned) -> monolingual -> tokenizer -> shards
    under ``base``, and the output paths {"kg", "corpus", "tokenizer", "shards"}."""
    out = {name: base / name for name in ("kg", "corpus", "tokenizer", "shards")}
    kg, corpus, tok, shards = (str(out[n]) for n in ("kg", "corpus", "tokenizer", "shards"))
    wiki = [a for lang in langs for a in ("--wikipedia", f"{lang}={SAMPLES / 'wikipedia' / f'{lang}wiki-sample.xml.bz2'}")]
    return [("build_kg", ["--input", str(SAMPLES / "wikidata/sample-wikidata.json.bz2"), "--out", kg]),
            ("build_corpus", wiki + ["--kg", kg, "--out", corpus]),
            ("build_parallel", ["--parallel", " ".join(_pair_spec(p) for p in pairs), "--out", corpus, "--align"]),
            ("build_monolingual", ["--out", corpus]),
            ("train_tokenizer", ["--corpus", corpus, "--out", tok, "--vocab-size", str(vocab_size)]),
            ("build_shards", ["--corpus", corpus, "--tokenizer", tok, "--out", shards, *shard_args])], out


def run_in_process(plan: list[tuple[str, list[str]]]) -> None:
    """Run each job's ``main`` in this process (it reuses an active SparkSession)."""
    for name, argv in plan:
        code = importlib.import_module(f"jobs.{name}").main(argv)
        if code != 0:
            raise RuntimeError(f"jobs/{name}.py {' '.join(argv)} exited {code}")
