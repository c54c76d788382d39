"""Train the XLM-R-style tokenizer on a language-balanced sample of a corpus directory.

    python jobs/train_tokenizer.py --corpus runs/corpus --out runs/tokenizer --vocab-size 250002
    python jobs/train_tokenizer.py --from-pretrained /models/xlm-roberta-base --out runs/tokenizer

Reads the ``sentences``, ``monolingual`` and ``parallel`` tables that exist in the corpus
directory, one record batch at a time (pass 1 counts characters per language, pass 2 draws the
sample with XLM-R's p^0.3 rates), trains a sentencepiece unigram model, and writes OUT with
``sentencepiece.bpe.model``, ``tokenizer.json``, ``tokenizer_config.json``,
``special_tokens_map.json`` and the manifest ``xlkit_tokenizer.json``. ``AutoTokenizer`` loads OUT
offline; the job checks that it encodes every sampled language exactly as sentencepiece does.
Output goes to a temporary directory and is renamed into place on success.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpus_builder import tokenizer as tk  # noqa: E402
from jobs._output import commit, prepare_out  # noqa: E402
from xlkit_core import __version__  # noqa: E402
from xlkit_core import tokenizer as xtok  # noqa: E402
from xlkit_core.environment import check_environment  # noqa: E402
from xlkit_core.errors import XlkitError  # noqa: E402
from xlkit_core.fsio import sha256_file  # noqa: E402
from xlkit_core.step import write_manifest  # noqa: E402

SCHEMA_VERSION = 1   # of xlkit_tokenizer.json (the shards have their own: xlkit_core.shards)
# Checked after every build, besides the sampled texts: one line per script family.
BUILTIN_TEXTS = {
    "builtin": [
        "Berlin is the capital and largest city of Germany.",
        "Die Stadt liegt an der Spree und ist zugleich ein eigenes Land.",
        "Paris est la capitale de la France et sa plus grande ville.",
        "東京都は、日本の事実上の首都であり、関東地方に位置する都である。",
        "柏林是德国的首都和最大城市，人口约380万。",
        "বাংলা ভাষা দক্ষিণ এশিয়ার একটি ইন্দো-আর্য ভাষা।",
        "Київ — столиця та найбільше місто України.",
        "Hà Nội là thủ đô của nước Cộng hòa xã hội chủ nghĩa Việt Nam.",
        "القاهرة هي عاصمة جمهورية مصر العربية.",
        "नई दिल्ली भारत की राजधानी है।",
        "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย",
        "  extra   spaces\tand a tab, ｆｕｌｌ width, ﬁ ligature, 1½ cups, 😀 ",
    ],
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="train_tokenizer.py",
        description="A corpus directory (sentences / monolingual / parallel Parquet tables) -> a sentencepiece "
        "unigram tokenizer in the XLM-R id layout that transformers.AutoTokenizer loads.")
    p.add_argument("--corpus", help="the corpus directory (output of the corpus jobs); required unless "
                   "--from-pretrained, where it only adds texts to the encoding check")
    p.add_argument("--out", "-o", required=True, help="output directory")
    p.add_argument("--vocab-size", type=int, default=250_002,
                   help="ids in all, with <s> <pad> </s> <unk> and <mask> (default 250002, XLM-R's)")
    p.add_argument("--alpha", type=float, default=0.3,
                   help="language sampling exponent: q_l ~ p_l^alpha (default 0.3, XLM-R's)")
    p.add_argument("--sample-sentences", type=int, default=2_000_000,
                   help="size of the training sample in corpus rows (sentences); its character budget is this "
                   "times the corpus's mean row length, and at most the corpus (default 2000000)")
    p.add_argument("--langs", help="comma-separated languages to use (default: all in the corpus); each must have text")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample and of sentencepiece (default 0)")
    p.add_argument("--character-coverage", type=float, default=0.9995,
                   help="share of the sample's characters that the vocabulary covers (default 0.9995)")
    p.add_argument("--threads", type=int, default=1,
                   help="sentencepiece training threads (default 1; the same seed and thread count give the "
                   "same model bytes)")
    p.add_argument("--from-pretrained", metavar="DIR",
                   help="use this local XLM-R tokenizer directory instead of training: its tokenizer files are "
                   "copied (missing ones are written), loaded and checked")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--verbose", action="store_true", help="show sentencepiece's training log")
    return p.parse_args(argv)


def check_args(args: argparse.Namespace) -> set[str] | None:
    if args.from_pretrained is None and not args.corpus:
        raise xtok.TokenizerInputError("give --corpus DIR (CORPUS=<dir> with make), or --from-pretrained DIR")
    if args.corpus and not os.path.isdir(args.corpus):
        raise xtok.TokenizerInputError(f"corpus directory {os.path.abspath(args.corpus)} does not exist: build it first, "
                                     "e.g. make corpus OUT=runs/corpus")
    if args.from_pretrained and not os.path.isdir(args.from_pretrained):
        raise xtok.TokenizerInputError(f"--from-pretrained {args.from_pretrained} is not a directory")
    if args.vocab_size < 16:
        raise xtok.TokenizerInputError(f"--vocab-size {args.vocab_size} is too small: use e.g. 250002 (XLM-R) or 32000")
    if args.sample_sentences < 1:
        raise xtok.TokenizerInputError(f"--sample-sentences {args.sample_sentences}: use a positive number")
    if not 0.0 < args.character_coverage <= 1.0:
        raise xtok.TokenizerInputError(f"--character-coverage {args.character_coverage} is outside (0, 1]")
    if args.seed < 0:
        raise xtok.TokenizerInputError(f"--seed {args.seed}: use 0 or a positive number")
    if args.threads < 1:
        raise xtok.TokenizerInputError(f"--threads {args.threads}: use 1 or more")
    tk.sampling_probabilities({"x": 1}, args.alpha)  # validates alpha
    if not args.langs:
        return None
    langs = {lang.strip() for lang in args.langs.split(",") if lang.strip()}
    if not langs:
        raise xtok.TokenizerInputError(f"--langs {args.langs!r} names no language: use e.g. --langs en,de,ja")
    return langs


def versions() -> dict:
    import numpy
    import pyarrow
    import sentencepiece
    import tokenizers

    out = {"xlkit": __version__, "python": platform.python_version(), "sentencepiece": sentencepiece.__version__,
           "tokenizers": tokenizers.__version__, "pyarrow": pyarrow.__version__, "numpy": numpy.__version__}
    try:
        import transformers

        out["transformers"] = transformers.__version__
    except ImportError:
        out["transformers"] = None
    return out


def corpus_manifests(corpus: str) -> list[dict]:
    import glob

    paths = sorted(glob.glob(os.path.join(corpus, "**", "_manifest*.json"), recursive=True))
    return [{"path": os.path.relpath(p, corpus), "sha256": sha256_file(p)} for p in paths]


def verify(directory: str, texts: dict[str, list[str]]) -> dict:
    try:
        import transformers  # noqa: F401
    except ImportError:
        return {"skipped": "transformers is not installed"}
    result = xtok.verify_directory(directory, {**BUILTIN_TEXTS, **texts})
    for lang, r in result["languages"].items():
        if r["equal"] != r["texts"]:
            print(f"train_tokenizer: warning: AutoTokenizer differs from sentencepiece on {r['texts'] - r['equal']} "
                  f"of {r['texts']} {lang} texts, e.g. {r['examples'][0]!r}", file=sys.stderr)
    return result


def first_texts(corpus: str, excluded: set[str], per_lang: int = 300) -> dict[str, list[str]]:
    """A few texts per language of the corpus (for the encoding check of a pretrained tokenizer)."""
    out: dict[str, list[str]] = {}
    for inp in tk.text_inputs(corpus)[0]:
        for _, _, lang, text in tk.iter_text_batches(inp, excluded):
            for lg, tx in zip(lang.to_pylist()[:per_lang * 4], text.to_pylist()[:per_lang * 4], strict=True):
                if lg and tx and len(out.setdefault(lg, [])) < per_lang:
                    out[lg].append(tx)
            break
    return out


def no_text_message(corpus: str, inputs: list) -> str:
    """Why no text is left: an empty corpus, or rows that are all evaluation data (which is refused)."""
    left_out = {}
    for inp in inputs:
        for reason, n in inp.rows_excluded.items():
            left_out[reason] = left_out.get(reason, 0) + n
    if not left_out:
        return f"the tables of {corpus} hold no text: build the corpus first"
    sources = evaluation_rows_by_source(corpus)
    listed = ", ".join(f"{s} ({split}, {n:,} rows)" for (s, split), n in sorted(sources.items()))
    return (f"all {sum(left_out.values()):,} rows of {corpus} are evaluation data, which never trains a tokenizer: "
            f"{listed}. If a file is training data, rebuild the parallel table with "
            "--train-source <source> (make parallel TRAIN_SOURCES=...) for a name that says test or dev, "
            "and without --eval-source for it")


def evaluation_rows_by_source(corpus: str) -> dict[tuple[str, str], int]:
    """(source, split) -> rows, for the parallel rows that are not training data."""
    import pyarrow.dataset as ds

    path = os.path.join(corpus, "parallel")
    if not os.path.isdir(path):
        return {}
    table = ds.dataset(path, format="parquet", partitioning="hive").to_table()
    names = set(table.column_names)
    marked = set(tk.evaluation_sources(corpus))
    sources = table.column("source").to_pylist() if "source" in names else [None] * table.num_rows
    splits = table.column("split").to_pylist() if "split" in names else ["train"] * table.num_rows
    out: dict[tuple[str, str], int] = {}
    for source, split in zip(sources, splits, strict=True):
        if source in marked or (split or "train") != "train":
            key = (str(source), "evaluation" if source in marked else str(split))
            out[key] = out.get(key, 0) + 1
    return out


def build_trained(args: argparse.Namespace, langs: set[str] | None, tmp: str, durations: dict) -> dict:
    corpus = os.path.abspath(args.corpus)
    inputs, skipped = tk.text_inputs(corpus)
    if not inputs:
        raise xtok.TokenizerInputError(f"{corpus} has no sentences/, monolingual/ or parallel/ Parquet table: "
                                     "point CORPUS to the output of make corpus (or of the parallel/monolingual jobs)")
    marked = tk.evaluation_sources(corpus)
    t0 = time.time()
    counts = tk.count_languages(inputs, set(marked))
    durations["count"] = time.time() - t0
    if langs:
        empty = sorted(langs - set(counts))
        if empty:
            raise xtok.TokenizerInputError(
                f"no text for language(s) {', '.join(empty)} in {corpus} (it has: {', '.join(sorted(counts)) or 'none'}): "
                "fix --langs (LANGS=) or add that text to the corpus")
        counts = {lang: c for lang, c in counts.items() if lang in langs}
    if not counts:
        raise xtok.TokenizerInputError(no_text_message(corpus, inputs))
    plans, budget = tk.plan_sample(counts, args.alpha, args.sample_sentences)
    print(f"train_tokenizer: {len(counts)} languages, {sum(c for _, c in counts.values()):,} characters; "
          f"sampling {budget:,} characters", file=sys.stderr)

    t0 = time.time()
    sample = tk.draw_sample(inputs, set(marked), plans, args.seed)
    durations["sample"] = time.time() - t0
    t0 = time.time()
    options = xtok.spm_trainer_options(args.vocab_size, args.character_coverage, args.threads, args.seed)
    work = os.path.join(tmp, ".work")
    try:
        model = tk.train_unigram(sample.lines, work, options, log_level=0 if args.verbose else 2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    durations["train"] = time.time() - t0
    xtok.write_tokenizer_dir(tmp, model)

    t0 = time.time()
    verification = verify(tmp, sample.check_texts)
    durations["verify"] = time.time() - t0
    sampled_chars = sum(sample.chars.values())
    languages = {}
    for lang, plan in plans.items():
        languages[lang] = {
            "corpus_rows": plan.rows, "corpus_chars": plan.chars, "p": plan.p, "q": plan.q,
            "target_chars": round(plan.target_chars), "rate": plan.rate,
            "sampled_rows": sample.rows[lang], "sampled_chars": sample.chars[lang],
            "sampled_share": sample.chars[lang] / sampled_chars if sampled_chars else 0.0}
    return {
        "kind": "trained",
        "corpus": {"path": corpus, "tables": [i.describe() for i in inputs], "tables_skipped": skipped,
                   "manifests": corpus_manifests(corpus),
                   "evaluation_sources": {s: os.path.relpath(p, corpus) for s, p in sorted(marked.items())}},
        "config": {"vocab_size": args.vocab_size, "alpha": args.alpha, "sample_sentences": args.sample_sentences,
                   "langs": sorted(langs) if langs else None, "seed": args.seed,
                   "character_coverage": args.character_coverage, "threads": args.threads},
        "sentencepiece_options": options, "score_quantum": tk.SCORE_QUANTUM,
        "sample": {"budget_chars": budget, "rows": sum(sample.rows.values()), "chars": sampled_chars,
                   "distinct_lines": len(sample.lines), "line_frequencies": sum(sample.lines.values())},
        "languages": languages,
        "verification": verification,
    }


def build_pretrained(args: argparse.Namespace, tmp: str, durations: dict) -> dict:
    source = os.path.abspath(args.from_pretrained)
    copied = xtok.copy_pretrained(source, tmp)
    texts = {}
    if args.corpus:
        corpus = os.path.abspath(args.corpus)
        texts = first_texts(corpus, set(tk.evaluation_sources(corpus)))
    t0 = time.time()
    verification = verify(tmp, texts)
    durations["verify"] = time.time() - t0
    tok = xtok.XlmrTokenizer.load(tmp)
    return {"kind": "pretrained", "source": {"path": source, "copied": copied,
                                             "written": sorted(set(xtok.TOKENIZER_FILES) - set(copied))},
            "config": {"vocab_size": tok.vocab_size}, "verification": verification}


def summary(manifest: dict) -> str:
    lines = []
    langs = manifest.get("languages", {})
    checks = manifest["verification"].get("languages", {})
    if langs:
        lines.append(f"{'lang':<8}{'corpus chars':>14}{'p':>8}{'q':>8}{'sampled chars':>15}{'share':>8}{'hf=spm':>12}")
        for lang, r in langs.items():
            c = checks.get(lang, {})
            lines.append(f"{lang:<8}{r['corpus_chars']:>14,}{r['p']:>8.4f}{r['q']:>8.4f}{r['sampled_chars']:>15,}"
                         f"{r['sampled_share']:>8.4f}{c.get('equal', 0):>6}/{c.get('texts', 0):<5}")
    else:
        lines += [f"{lang:<10} AutoTokenizer == sentencepiece on {c['equal']}/{c['texts']} texts"
                  for lang, c in checks.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    check_environment()
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    started = time.time()
    tmp = None
    try:
        langs = check_args(args)
        out, tmp = prepare_out(args.out, args.overwrite)
        os.makedirs(tmp)
        durations: dict[str, float] = {}
        if args.from_pretrained:
            manifest = build_pretrained(args, tmp, durations)
        else:
            manifest = build_trained(args, langs, tmp, durations)
        tok = xtok.XlmrTokenizer.load(tmp)
        durations["total"] = time.time() - started
        manifest = {"schema_version": SCHEMA_VERSION, **manifest,
                    "vocab_size": tok.vocab_size,
                    "layout": {"<s>": tok.bos_id, "<pad>": tok.pad_id, "</s>": tok.eos_id, "<unk>": tok.unk_id,
                               "<mask>": tok.mask_id, "pieces": [4, tok.mask_id - 1]},
                    "checksum": tok.checksum(),
                    "files": {n: sha256_file(os.path.join(tmp, n)) for n in xtok.TOKENIZER_FILES},
                    "versions": versions(), "durations_s": {k: round(v, 3) for k, v in durations.items()}}
        write_manifest(os.path.join(tmp, xtok.MANIFEST_FILE), manifest)
        commit(tmp, out)
        tmp = None
        print(summary(manifest), file=sys.stderr)
        print(f"train_tokenizer: wrote {out} ({tok.vocab_size:,} ids, sha256 {tok.checksum()[:12]}) "
              f"in {durations['total']:.1f} s", file=sys.stderr)
        return 0
    except (xtok.TokenizerError, XlkitError) as exc:
        message = exc.user_message() if isinstance(exc, XlkitError) else str(exc)
        print(f"train_tokenizer: error: {message}", file=sys.stderr)
        return exc.exit_code
    finally:
        if tmp and os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
