"""The small-scale reproduction (``make repro-small``): seven pre-training recipes, the same model, the
same steps, several seeds, evaluated on Tatoeba retrieval and NER transfer; a table in the manner of
Ernie-M's Tables 6 and 8.

    .venv/bin/python bench/repro_small.py                 # CPU setting: tiny, 1,000 steps, 3 seeds (< 60 min)
    .venv/bin/python bench/repro_small.py --gpu           # the larger setting, for a CUDA machine
    .venv/bin/python bench/repro_small.py --stage data    # only the data

Data, all real and all from ``../shared/data`` (never copied into the repository):

* the KG: the Wikidata dump extract ``wikidata-wikibrain-testdump`` (``jobs/build_kg.py``);
* the Wikipedia corpus (``jobs/build_corpus.py``, links resolved to that KG: mentions, entity
  documents, MEP and OE examples): the DBpedia minidumps en/de/fr/cs and the two English samples of
  wikipedia2vec and gensim;
* parallel text: the first ``--lines`` lines of Multi30K *train* de-en, fr-en and cs-en, HMM-aligned
  (``jobs/build_parallel.py --align``), plus the same lines as monolingual text;
* a sentencepiece tokenizer trained on that corpus and shards of at most ``--max-len`` tokens.

Recipes (``trainer.config.RECIPES``, each objective weight 1, one objective per step):
``mmlm``, ``tlm`` (MMLM+TLM), ``camlm`` (MMLM+CAMLM), ``btmlm`` (MMLM+CAMLM+BTMLM),
``ernie-m`` (MMLM+TLM+CAMLM+BTMLM), ``xlm-k`` (MMLM+MEP+OE), ``mmkd`` (MMLM+MMKD, teacher
all-MiniLM-L6-v2 with its cache). Every run has the same size, steps, batch, LR schedule and seed
set; only the objectives differ.

Evaluation (``python -m trainer.evaluate``): Tatoeba deu/fra (XTREME protocol, middle layer, mean of
both directions) and WikiANN NER transfer (fine-tuned on part of English *dev*, because only dev
splits exist here; tested on the English held-out part and on de/fr), entity F1 with the fine-tuning
seed equal to the pre-training seed. Tatoeba, WikiANN and Multi30K val/test never enter
pre-training; nothing is tuned on them.

Output: ``<cache>/table.md`` and ``table.json`` (and a copy in ``bench/results/repro_small*.md``);
runs, exports and per-run evaluations are cached under ``--cache`` (default
``bench/.cache/repro_small``), so a rerun only does what is missing.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _runs import PY, ROOT, env, mean_std, run_paths, start_pipeline, wall_times

SHARED = ROOT.parent / "shared" / "data"
M30K = SHARED / "multi30k" / "task1-raw"
MINI = SHARED / "wikipedia-dbpedia-minidumps"
WIKI_EXTRA = [("en", SHARED / "wikipedia-wikipedia2vec-testdata" / "enwiki-pages-articles-sample.xml.bz2"),
              ("en", SHARED / "wikipedia-gensim-testdata" /
               "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")]
KG_DUMP = SHARED / "wikidata-wikibrain-testdump" / "wikidata-testdump-2014.shared.json.bz2"

# name -> (label in the table, trainer recipe)
RECIPES = {
    "mmlm": ("MMLM", "mmlm"),
    "tlm": ("MMLM + TLM", "tlm"),
    "camlm": ("MMLM + CAMLM", "camlm"),
    "btmlm": ("MMLM + CAMLM + BTMLM", "btmlm"),
    "ernie-m": ("Ernie-M (MMLM + TLM + CAMLM + BTMLM)", "ernie-m"),
    "xlm-k": ("XLM-K (MMLM + MEP + OE)", "xlm-k"),
    "mmkd": ("MMLM + MMKD", "mmkd"),
}
SETTINGS = {   # --gpu switches to the second
    "cpu": dict(size="tiny", steps=1000, batch_size=32, lines=10000, vocab=6000, max_len=64, jobs=2, device="cpu",
                tatoeba_limit=None, ner_n_train=2000, ner_epochs=3),
    "gpu": dict(size="small", steps=20000, batch_size=64, lines=29000, vocab=16000, max_len=128, jobs=1,
                device="cuda", tatoeba_limit=None, ner_n_train=5000, ner_epochs=3),
}


def run(cmd: list[str], log: Path) -> float:
    t = time.time()
    print("$", " ".join(cmd), flush=True)
    with open(log, "w") as f:
        rc = subprocess.run(cmd, cwd=ROOT, env=env(2), stdout=f, stderr=subprocess.STDOUT).returncode
    if rc:
        sys.exit(f"repro-small: {cmd[1]} failed (exit {rc}); see {log}")
    return time.time() - t


def check_inputs(langs: list[str]) -> None:
    need = [KG_DUMP, *(MINI / x / "wiki.xml.bz2" for x in ["en", *langs]), *(p for _, p in WIKI_EXTRA),
            *(M30K / f"train.{x}.gz" for x in ["en", *langs]), SHARED / "tatoeba-laser",
            SHARED / "wikiann-panx-xtreme" / "dev-en.tsv.gz"]
    missing = [str(p) for p in need if not p.exists()]
    if missing:
        sys.exit("repro-small: the real data is missing (it is read from ../shared/data, see its SOURCES.md): "
                 + ", ".join(missing))


def build_data(cache: Path, langs: list[str], s: dict, tokenizer: bool = True) -> dict:
    """KG, corpus, parallel, monolingual, then (with ``tokenizer``) a trained tokenizer and the shards; each
    stage is skipped when its output exists. bench/repro.py builds the same data without the last two."""
    times: dict[str, float] = {}
    logs = cache / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    raw = cache / "raw" / "multi30k"             # 'multi30k' in the path: the pairs' source is multi30k
    if not all((raw / f"train.{x}").exists() for x in ["en", *langs]):
        raw.mkdir(parents=True, exist_ok=True)
        for lang in ["en", *langs]:
            with gzip.open(M30K / f"train.{lang}.gz", "rt", encoding="utf-8") as f:
                head = list(itertools.islice(f, s["lines"]))
            tmp = raw / f"train.{lang}.tmp"
            tmp.write_text("".join(head), encoding="utf-8")
            tmp.rename(raw / f"train.{lang}")
    kg, corpus, tok, shards = (cache / n for n in ("kg", "corpus", "tokenizer", "shards"))
    spark = ["--master", "local[2]"]
    if not (kg / "_manifest.json").exists():
        times["kg"] = run([PY, "jobs/build_kg.py", "--input", str(KG_DUMP), "--out", str(kg), "--overwrite", *spark],
                          logs / "kg.log")
    if not (corpus / "_manifest.json").exists():
        wiki = [a for x in ["en", *langs] for a in ("-w", f"{x}={MINI / x / 'wiki.xml.bz2'}")]
        wiki += [a for x, p in WIKI_EXTRA for a in ("-w", f"{x}={p}")]
        times["corpus"] = run([PY, "jobs/build_corpus.py", *wiki, "--kg", str(kg), "--out", str(corpus),
                               "--overwrite", *spark], logs / "corpus.log")
    if not (corpus / "parallel").exists():
        spec = " ".join(f"{x}-en={raw / f'train.{x}'},{raw / 'train.en'}" for x in langs)
        times["parallel"] = run([PY, "jobs/build_parallel.py", "--parallel", spec, "--out", str(corpus), "--align",
                                 *spark], logs / "parallel.log")
    if not (corpus / "monolingual").exists():
        text = " ".join(f"{x}={raw / f'train.{x}'}" for x in ["en", *langs])
        times["monolingual"] = run([PY, "jobs/build_monolingual.py", "--text", text, "--out", str(corpus), *spark],
                                   logs / "monolingual.log")
    if not tokenizer:
        return times
    if not tok.exists():
        times["tokenizer"] = run([PY, "jobs/train_tokenizer.py", "--corpus", str(corpus), "--out", str(tok),
                                  "--vocab-size", str(s["vocab"])], logs / "tokenizer.log")
    if not shards.exists():
        times["shards"] = run([PY, "jobs/build_shards.py", "--corpus", str(corpus), "--tokenizer", str(tok),
                               "--out", str(shards), "--langs", ",".join(["en", *langs]),
                               "--max-len", str(s["max_len"]), *spark], logs / "shards.log")
    return times


def run_name(recipe: str, seed: int, s: dict) -> str:
    return f"{recipe}-s{seed}" if s["size"] == "tiny" else f"{s['size']}-{recipe}-s{seed}"


def start_run(cache: Path, recipe: str, seed: int, s: dict, args) -> subprocess.Popen | None:
    """Train, export and evaluate one recipe x seed as one shell pipeline (None when its result is cached)."""
    name = run_name(recipe, seed, s)
    if (paths := run_paths(cache, name)) is None:
        return None
    run_dir, model_dir, ev = paths
    steps = []
    if run_dir.exists() and not (run_dir / "checkpoints" / "latest").exists():
        shutil.rmtree(run_dir)
    if not (run_dir / "checkpoints" / "latest").exists():
        train = [PY, "-m", "trainer.train", s["size"], f"shards={cache / 'shards'}", f"out={run_dir}",
                 f"recipe={RECIPES[recipe][1]}", f"seed={seed}", f"steps={s['steps']}",
                 f"batch_size={s['batch_size']}", "progress=false", f"save_every={s['steps']}", "keep_checkpoints=1",
                 f"device={s['device']}"]
        if recipe == "mmkd":
            train.append(f"objectives.mmkd.teacher_cache={cache / 'teacher-cache'}")
        steps.append(train)
    if not (model_dir / "config.json").exists():
        steps.append([PY, "-m", "trainer.export", str(run_dir), str(model_dir), "--overwrite"])
    steps.append([PY, "-m", "trainer.evaluate", str(model_dir), "--out", str(ev), "--tasks", "tatoeba,ner",
                  "--tatoeba-langs", ",".join(args.tatoeba_langs), "--ner-data", "wikiann",
                  "--ner-langs", ",".join(args.ner_langs), "--ner-n-train", str(s["ner_n_train"]),
                  "--ner-epochs", str(s["ner_epochs"]), "--seed", str(seed), "--device", s["device"]])
    print(f"start {name}", flush=True)
    return start_pipeline(steps, cache / "runs" / f"{name}.log")


def schedule(cache: Path, s: dict, args) -> list[str]:
    """Run every recipe x seed, ``jobs`` at a time. The first MMKD run fills the teacher cache; the other MMKD
    runs wait for it, so that two processes never write that cache at once. Returns the failed runs."""
    todo = [(r, sd) for sd in args.seeds for r in args.recipes]
    todo.sort(key=lambda x: (x != ("mmkd", args.seeds[0]), x[1]))      # the cache filler first
    running: dict[str, subprocess.Popen] = {}
    failed: list[str] = []
    kd_first = run_name("mmkd", args.seeds[0], s)
    done: set[str] = set()
    while todo or running:
        for name, pr in list(running.items()):
            if pr.poll() is not None:
                running.pop(name)
                done.add(name)
                if pr.returncode:
                    failed.append(name)
                    print(f"FAILED {name}: see {cache / 'runs' / (name + '.log')}", file=sys.stderr, flush=True)
                else:
                    print(f"done {name}", flush=True)
        while todo and len(running) < s["jobs"]:
            nxt = next((i for i, (r, sd) in enumerate(todo)
                        if r != "mmkd" or run_name(r, sd, s) == kd_first or kd_first in done
                        or "mmkd" not in args.recipes), None)
            if nxt is None:
                break
            r, sd = todo.pop(nxt)
            pr = start_run(cache, r, sd, s, args)
            if pr is None:
                done.add(run_name(r, sd, s))
            else:
                running[run_name(r, sd, s)] = pr
        time.sleep(1)
    return failed


def cell(xs: list[float]) -> str:
    m, sd = mean_std(xs)
    return f"{m:.1f} ± {sd:.1f}"


def collect(cache: Path, s: dict, args) -> dict:
    """{recipe: {metric: [value per seed]}} from the per-run results.json (scores in %)."""
    out: dict[str, dict[str, list[float]]] = {}
    for recipe in args.recipes:
        for seed in args.seeds:
            r = json.loads((cache / "eval" / run_name(recipe, seed, s) / "results.json").read_text())
            m = out.setdefault(recipe, {})
            tat = r["tasks"]["tatoeba"]
            for lang3, a in tat["accuracy"].items():
                m.setdefault(f"tatoeba {lang3}", []).append(50 * (a["xx2en"] + a["en2xx"]))
            m.setdefault("tatoeba avg", []).append(100 * tat["average"])
            ner = r["tasks"]["ner"]["wikiann"]
            m.setdefault("ner en", []).append(100 * ner["source_f1"])
            for lang in ner["test_langs"]:
                m.setdefault(f"ner {lang}", []).append(100 * ner["languages"][lang]["f1"])
            m.setdefault("ner avg", []).append(100 * ner["target_mean_f1"])
            m.setdefault("ner gap", []).append(100 * ner["transfer_gap"])
    return out


def table(res: dict, args) -> str:
    """Two tables like Ernie-M's 6 (retrieval) and 8 (NER), rows = recipes, mean ± std over seeds."""
    t_cols = [f"tatoeba {x}" for x in args.tatoeba_langs] + ["tatoeba avg"]
    n_cols = ["ner en"] + [f"ner {x}" for x in args.ner_langs] + ["ner avg", "ner gap"]
    lines = ["**Tatoeba retrieval** (accuracy %, mean of xx→en and en→xx; chance 0.1 %)", "",
             "| recipe | " + " | ".join(c.split()[1] for c in t_cols) + " |",
             "|---|" + "---|" * len(t_cols)]
    for r in args.recipes:
        lines.append(f"| {RECIPES[r][0]} | " + " | ".join(cell(res[r][c]) for c in t_cols) + " |")
    lines += ["", "**WikiANN NER, zero-shot transfer from English** (entity F1 %; en = the English held-out part; "
              "avg = mean over the target languages; gap = en − avg, lower is better)", "",
              "| recipe | " + " | ".join(c.split()[1] for c in n_cols) + " |", "|---|" + "---|" * len(n_cols)]
    for r in args.recipes:
        lines.append(f"| {RECIPES[r][0]} | " + " | ".join(cell(res[r][c]) for c in n_cols) + " |")
    base = res.get("mmlm")
    if base:
        lines += ["", "**Difference from MMLM** (per-seed differences, mean ± std; the same seed pairs the runs)", "",
                  "| recipe | tatoeba avg | ner avg | ner gap |", "|---|---|---|---|"]
        for r in args.recipes:
            if r == "mmlm":
                continue
            d = {c: [a - b for a, b in zip(res[r][c], base[c], strict=True)] for c in ("tatoeba avg", "ner avg",
                                                                                   "ner gap")}
            lines.append(f"| {RECIPES[r][0]} | " + " | ".join(
                f"{round(mean_std(d[c])[0], 2) + 0.0:+.2f} ± {mean_std(d[c])[1]:.2f}" for c in d) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gpu", action="store_true", help="the larger setting (size small, 20k steps) on CUDA")
    p.add_argument("--stage", choices=["data", "all"], default="all")
    p.add_argument("--cache", type=Path, default=None, help="default bench/.cache/repro_small[_gpu]")
    p.add_argument("--tag", default="", help="suffix of the result files (bench/results/repro_small[_gpu][_TAG].md)")
    p.add_argument("--recipes", default=",".join(RECIPES))
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--langs", default="de,fr,cs", help="pre-training languages besides en (Multi30K: de, fr, cs)")
    p.add_argument("--tatoeba-langs", default="deu,fra", help="(tatoeba-laser has no ces)")
    p.add_argument("--ner-langs", default="de,fr", help="WikiANN targets (WikiANN has no cs)")
    for k in ("size", "steps", "batch_size", "lines", "vocab", "max_len", "jobs", "ner_n_train"):
        p.add_argument("--" + k.replace("_", "-"), type=None if k == "size" else int, default=None,
                       help=f"override the setting's {k} (cpu {SETTINGS['cpu'][k]}, gpu {SETTINGS['gpu'][k]})")
    args = p.parse_args(argv)
    s = dict(SETTINGS["gpu" if args.gpu else "cpu"])
    for k in s:
        if getattr(args, k, None) is not None:
            s[k] = getattr(args, k)
    args.recipes = [x for x in args.recipes.split(",") if x]
    unknown = [x for x in args.recipes if x not in RECIPES]
    if unknown:
        p.error(f"unknown recipe {unknown}; known: {', '.join(RECIPES)}")
    args.seeds = [int(x) for x in args.seeds.split(",")]
    args.langs = args.langs.split(",")
    args.tatoeba_langs = args.tatoeba_langs.split(",")
    args.ner_langs = args.ner_langs.split(",")
    if args.gpu:
        import torch

        if not torch.cuda.is_available():
            p.error("--gpu needs CUDA; this machine has none (run without --gpu for the CPU setting)")
    cache = args.cache or ROOT / "bench" / ".cache" / ("repro_small_gpu" if args.gpu else "repro_small")
    cache.mkdir(parents=True, exist_ok=True)
    check_inputs(args.langs)
    t0 = time.time()
    build = build_data(cache, args.langs, s)
    print("data built:", {k: round(v) for k, v in build.items()}, flush=True)
    if args.stage == "data":
        return 0
    t1 = time.time()
    failed = schedule(cache, s, args)
    if failed:
        print(f"repro-small: {len(failed)} runs failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    res = collect(cache, s, args)
    walls = wall_times((cache / "runs").glob("*.log"))
    shards = json.loads((cache / "shards" / "manifest.json").read_text())["tasks"]
    head = (f"# Small-scale reproduction ({'GPU' if args.gpu else 'CPU'} setting)\n\n"
            f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()} with {os.cpu_count()} CPUs, "
            f"{s['jobs']} runs at a time (1 torch thread each), Python {platform.python_version()}.\n\n"
            f"Model `{s['size']}`, {s['steps']} steps, batch {s['batch_size']}, seeds {args.seeds}, vocabulary "
            f"{s['vocab']}, max_len {s['max_len']}; languages en + {', '.join(args.langs)}. Shards (rows): "
            + ", ".join(f"{k} {v['rows']:,}" for k, v in sorted(shards.items())) + ".\n\n")
    text = head + table(res, args) + (
        f"\nWall time: data {t1 - t0:.0f} s (0 when cached), training + export + evaluation {time.time() - t1:.0f} s; "
        f"per run (train + export + eval): median {sorted(walls.values())[len(walls) // 2]:.0f} s.\n"
        if walls else "")
    print(text)
    (cache / "table.md").write_text(text)
    (cache / "table.json").write_text(json.dumps({"setting": s, "seeds": args.seeds, "recipes": args.recipes,
                                                  "scores": res, "data_s": build, "run_wall_s": walls}, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stem = ("repro_small_gpu" if args.gpu else "repro_small") + (f"_{args.tag}" if args.tag else "")
    (out / f"{stem}.md").write_text(text)
    shutil.copy(cache / "table.json", out / f"{stem}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
