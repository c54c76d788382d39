"""Tokenization throughput per core: our XlmrTokenizer against HF ``tokenizers`` on the same model.

    .venv/bin/python bench/bench_tokenizer.py [--tokenizer DIR] [--mb 5] [--repeat 3] [--out bench/results]

Input: about ``--mb`` MB (10^6 UTF-8 bytes) of real multilingual text from ../shared/data: the 2023
bn/ja/uk/vi Wikipedia dumps (wikitext stripped by a few regular expressions), every Tatoeba
language, and Multi30K (cs de en fr). Without ``--tokenizer``, a tokenizer is first trained on
that text with jobs/train_tokenizer.py (``--vocab-size``, default 32000; its time is reported).

Measured on one core (the process is pinned to one CPU; ``RAYON_NUM_THREADS=1`` and
``TOKENIZERS_PARALLELISM=false`` are set before ``tokenizers`` is imported):

* spm raw       ``SentencePieceProcessor.encode(texts, num_threads=1)``: sentencepiece's ids, unshifted
* ours          ``XlmrTokenizer.encode_batch`` (sentencepiece + the XLM-R id shift)
* ours, loop    ``[XlmrTokenizer.encode(t) for t in texts]``
* hf batch      ``tokenizers.Tokenizer.from_file(tokenizer.json).encode_batch(texts, add_special_tokens=False)``
* hf fast       the same with ``encode_batch_fast`` (no offsets)
* transformers  ``AutoTokenizer.from_pretrained(dir)(texts)`` (informative; it adds <s> </s>)

All runs check that every method gives the same ids. Every method runs ``--repeat`` times with the
garbage collector off, and the fastest run counts. Writes OUT/tokenizer.json and OUT/tokenizer.md.
"""

from __future__ import annotations

import os

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
SHARED = Path(os.environ.get("XLKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
MB = 1e6
from realtext import wiki_lines  # noqa: E402  (shared with the tokenizer tests)


def real_text(target_bytes: float) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """(lang, line) pairs, interleaved by source, up to ``target_bytes`` UTF-8 bytes in all."""
    sources: dict[str, list[tuple[str, str]]] = {}
    for lang in ("bn", "ja", "uk", "vi"):
        path = SHARED / "wikipedia-xztextfilter-2023" / f"{lang}wiki-20230501-pages-articles-multistream.head.xml.bz2"
        sources[f"wikipedia-{lang}"] = [(lang, line) for line in wiki_lines(path)]
    per_lang = [[(path.name.split(".")[-1], line) for line in path.read_text(encoding="utf-8").splitlines()]
                for path in sorted((SHARED / "tatoeba-laser").glob("tatoeba.*-eng.*")) if not path.name.endswith(".eng")]
    # line i of every language before line i + 1 of any: all 74 languages get a share
    sources["tatoeba"] = [rows[i] for i in range(max(map(len, per_lang))) for rows in per_lang if i < len(rows)]
    for lang in ("cs", "de", "en", "fr"):
        with gzip.open(SHARED / "multi30k" / "task1-raw" / f"train.{lang}.gz", "rt", encoding="utf-8") as f:
            sources[f"multi30k-{lang}"] = [(lang, line.strip()) for line in f]
    # always take the next line of the source with the fewest bytes so far: equal shares per source
    out, size, used = [], 0, dict.fromkeys(sources, 0)
    iters = {name: iter(rows) for name, rows in sources.items()}
    while iters and size < target_bytes:
        name = min(iters, key=lambda k: (used[k], k))
        row = next(iters[name], None)
        if row is None:
            del iters[name]
            continue
        n = len(row[1].encode("utf-8"))
        out.append(row)
        size += n
        used[name] += n
    return out, used


def timed(fn, repeat: int) -> tuple[float, list[float], object]:
    """Best of ``repeat`` runs, with the garbage collector off (as timeit does): the lists of ids
    that each method builds would otherwise make the collector's passes a large, noisy share."""
    runs, result = [], None
    for _ in range(repeat):
        result = None
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            result = fn()
            runs.append(time.perf_counter() - t0)
        finally:
            gc.enable()
    return min(runs), runs, result


def train(rows: list[tuple[str, str]], vocab: int, work: Path) -> tuple[Path, float]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from jobs import train_tokenizer

    (work / "corpus" / "sentences").mkdir(parents=True)
    pq.write_table(pa.table({"lang": [r[0] for r in rows], "text": [r[1] for r in rows]}),
                   work / "corpus" / "sentences" / "part-00000.parquet")
    t0 = time.perf_counter()
    rc = train_tokenizer.main(["--corpus", str(work / "corpus"), "--out", str(work / "tok"), "--vocab-size", str(vocab)])
    if rc:
        raise SystemExit(f"bench_tokenizer: training failed (exit {rc})")
    return work / "tok", time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_tokenizer.py", description=__doc__.split("\n")[0])
    p.add_argument("--tokenizer", help="a tokenizer directory (default: train one on the text)")
    p.add_argument("--vocab-size", type=int, default=32_000, help="for the tokenizer trained here (default 32000)")
    p.add_argument("--mb", type=float, default=5.0, help="MB of text (default 5)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--cpu", type=int, default=None, help="the CPU to pin to (default: the last one allowed)")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = p.parse_args(argv)

    rows, used = real_text(args.mb * MB)
    texts = [t for _, t in rows]
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    n_chars = sum(map(len, texts))
    print(f"bench_tokenizer: {len(texts):,} lines, {n_bytes / MB:.2f} MB, {n_chars:,} characters", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="bench-tok-") as work:
        train_s = None
        directory = Path(args.tokenizer) if args.tokenizer else None
        if directory is None:
            directory, train_s = train(rows, args.vocab_size, Path(work))
        cpu = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        report = measure(directory, texts, args.repeat)
        manifest_path = directory / "xlkit_tokenizer.json"
        tok_info = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}

    import sentencepiece
    import tokenizers
    import transformers

    result = {
        "input": {"lines": len(texts), "bytes": n_bytes, "chars": n_chars, "bytes_per_source": used,
                  "languages": len({lang for lang, _ in rows})},
        "tokenizer": {"path": args.tokenizer or "trained here", "vocab_size": report.pop("vocab_size"),
                      "train_seconds": train_s, "alpha": tok_info.get("config", {}).get("alpha")},
        "cpu": cpu, "repeat": args.repeat, "methods": report,
        "versions": {"python": platform.python_version(), "sentencepiece": sentencepiece.__version__,
                     "tokenizers": tokenizers.__version__, "transformers": transformers.__version__},
        "machine": {"processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                    "loadavg_at_end": os.getloadavg()},
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tokenizer.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "tokenizer.md").write_text(markdown(result))
    print(markdown(result))
    return 0


def measure(directory: Path, texts: list[str], repeat: int) -> dict:
    import tokenizers

    from xlkit_core.tokenizer import HF_FILE, XlmrTokenizer, load_hf

    ours = XlmrTokenizer.load(str(directory), threads=1)
    hf = tokenizers.Tokenizer.from_file(str(directory / HF_FILE))
    auto = load_hf(str(directory))
    methods = {
        "spm raw": lambda: ours.sp.encode(texts, num_threads=1),
        "ours (encode_batch)": lambda: ours.encode_batch(texts),
        "ours (encode loop)": lambda: [ours.encode(t) for t in texts],
        "hf tokenizers encode_batch": lambda: [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)],
        "hf tokenizers encode_batch_fast": lambda: [e.ids for e in hf.encode_batch_fast(texts, add_special_tokens=False)],
        "transformers AutoTokenizer": lambda: [ids[1:-1] for ids in auto(texts, verbose=False)["input_ids"]],
    }
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    n_chars = sum(map(len, texts))
    reference = None
    report: dict = {"vocab_size": ours.vocab_size}
    for name, fn in methods.items():
        best, runs, ids = timed(fn, repeat)
        if name == "spm raw":
            ids = [[i + 1 if i else 3 for i in x] for x in ids]
        if reference is None:
            reference = ids
        differ = sum(a != b for a, b in zip(ids, reference, strict=True))
        tokens = sum(map(len, ids))
        report[name] = {"seconds": best, "runs": runs, "mb_per_s": n_bytes / MB / best,
                        "mchars_per_s": n_chars / 1e6 / best, "ktokens_per_s": tokens / 1e3 / best,
                        "tokens": tokens, "lines_differing_from_spm": differ}
        print(f"{name:<34}{n_bytes / MB / best:8.2f} MB/s  ({differ} lines differ)", file=sys.stderr)
    base = report["ours (encode_batch)"]["seconds"]
    for name in methods:
        report[name]["ours_speedup"] = report[name]["seconds"] / base
    return report


def markdown(r: dict) -> str:
    lines = [
        "# Tokenizer throughput, one core",
        "",
        f"Input: {r['input']['lines']:,} lines of real text, {r['input']['bytes'] / MB:.2f} MB "
        f"({r['input']['chars']:,} characters): "
        + ", ".join(f"{k} {v / MB:.2f} MB" for k, v in r["input"]["bytes_per_source"].items()) + ".",
        f"Languages: {r['input']['languages']}.",
        f"Tokenizer: {r['tokenizer']['vocab_size']:,} ids ({r['tokenizer']['path']}"
        + (f", trained in {r['tokenizer']['train_seconds']:.0f} s" if r["tokenizer"]["train_seconds"] else "") + ").",
        f"Pinned to CPU {r['cpu']} of {r['machine']['cpus']}; best of {r['repeat']} runs; load average at the end "
        f"{', '.join(f'{x:.1f}' for x in r['machine']['loadavg_at_end'])}.",
        "",
        "| method | MB/s | M chars/s | k tokens/s | time / ours | lines with other ids |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, m in r["methods"].items():
        lines.append(f"| {name} | {m['mb_per_s']:.2f} | {m['mchars_per_s']:.2f} | {m['ktokens_per_s']:.0f} | "
                     f"{m['ours_speedup']:.2f} | {m['lines_differing_from_spm']} |")
    lines += ["", "`time / ours` above 1 means slower than `XlmrTokenizer.encode_batch`. `lines with other ids`: "
              "lines where the method's ids differ from sentencepiece's (README, 'The encoding check': text "
              "not in NFC, e.g. Tatoeba Tamil, can differ in transformers/tokenizers).",
              f"Versions: {', '.join(f'{k} {v}' for k, v in r['versions'].items())}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
