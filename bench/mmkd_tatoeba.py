"""Issue 6, the result that matters: does MMKD help a small student on real data?

    .venv/bin/python bench/mmkd_tatoeba.py                      # build (cached), train 2 arms x 3 seeds, evaluate
    .venv/bin/python bench/mmkd_tatoeba.py --stage data         # only the corpus, tokenizer and shards

Data: the first ``--lines`` lines of Multi30K task 1 *train* (en, de, fr; the three files are
translations of the same English captions), from ``../shared/data/multi30k/task1-raw``. The
parallel job builds de-en and fr-en with word alignments (``--align``); the monolingual job takes
each side's sentences as text (``--text``); the tokenizer is trained on that corpus; the shards
hold ``mlm``, ``pairs`` and ``distill`` rows of at most ``--max-len`` tokens. Tatoeba is never read
before evaluation, and Multi30K val/test are not used at all.

Training: ``--size`` (default ``tiny``) for ``--steps`` steps, seeds ``--seeds``, with
``recipe=mmlm`` and ``recipe=mmkd`` (teacher: the packaged all-MiniLM-L6-v2, its states cached in
``objectives.mmkd.teacher_cache``); everything else identical. Both arms run the same number of
optimizer steps; in the mmkd arm about half of them are MMKD steps (one task per step, weights 1:1).

Evaluation: ``trainer.evaluate.tatoeba`` (XTREME protocol, mean-pooled states, cosine nearest
neighbour both ways) on Tatoeba deu and fra, at the layer fixed before any run (the default, the
middle layer) and, also declared beforehand, at the last layer (the one MMKD's levels train).

Everything is cached under ``bench/.cache/mmkd_tatoeba/`` (a finished run or export is reused);
the table goes to ``bench/results/mmkd_tatoeba.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _runs import PY, ROOT, env, mean_std, start_pipeline, wall_times

M30K = ROOT.parent / "shared" / "data" / "multi30k" / "task1-raw"
TATOEBA = ROOT.parent / "shared" / "data" / "tatoeba-laser"
ISO3 = {"de": "deu", "fr": "fra", "cs": "ces"}


def run(cmd: list[str], log: Path | None = None) -> float:
    t = time.time()
    print("$", " ".join(cmd), flush=True)
    if log is None:
        subprocess.run(cmd, cwd=ROOT, env=env(1), check=True)
    else:
        with open(log, "w") as f:
            subprocess.run(cmd, cwd=ROOT, env=env(1), check=True, stdout=f, stderr=subprocess.STDOUT)
    return time.time() - t


def build_data(cache: Path, langs: list[str], lines: int, vocab: int, max_len: int) -> dict:
    """Corpus, tokenizer and shards; each stage is skipped when its output exists."""
    times = {}
    raw = cache / "raw" / "multi30k"            # 'multi30k' in the path: source = multi30k/train
    if not (raw / "train.en").exists():
        raw.mkdir(parents=True, exist_ok=True)
        for lang in ["en", *langs]:
            with gzip.open(M30K / f"train.{lang}.gz", "rt", encoding="utf-8") as f:
                head = [next(f) for _ in range(lines)]
            (raw / f"train.{lang}").write_text("".join(head), encoding="utf-8")
    corpus, tok, shards = cache / "corpus", cache / "tokenizer", cache / "shards"
    if not (corpus / "parallel").exists():
        spec = " ".join(f"{x}-en={raw / f'train.{x}'},{raw / 'train.en'}" for x in langs)
        times["parallel_align_s"] = run([PY, "jobs/build_parallel.py", "--parallel", spec, "--out", str(corpus),
                                         "--align", "--master", "local[1]"])
    if not (corpus / "monolingual").exists():
        text = " ".join(f"{x}={raw / f'train.{x}'}" for x in ["en", *langs])
        times["monolingual_s"] = run([PY, "jobs/build_monolingual.py", "--text", text, "--no-sentences",
                                      "--out", str(corpus), "--master", "local[1]"])
    if not tok.exists():
        times["tokenizer_s"] = run([PY, "jobs/train_tokenizer.py", "--corpus", str(corpus), "--out", str(tok),
                                    "--vocab-size", str(vocab)])
    if not shards.exists():
        times["shards_s"] = run([PY, "jobs/build_shards.py", "--corpus", str(corpus), "--tokenizer", str(tok),
                                 "--out", str(shards), "--tasks", "mlm,pairs,distill", "--max-len", str(max_len),
                                 "--master", "local[1]"])
    return times


def student_init(cache: Path, student: str, seed: int, max_len: int) -> Path:
    """A randomly initialised XLM-R of shape ``L<layers>-H<hidden>`` (heads = hidden / 64, FFN 4x), seeded by
    ``seed``, with the bench's tokenizer: the trainer's named sizes jump from tiny (2 x 64) to small
    (6 x 768, far too slow here), so a size in between goes in through ``model.init_from``."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

    out = cache / "init" / f"{student}-s{seed}"
    if (out / "config.json").exists():
        return out
    layers, hidden = (int(x[1:]) for x in student.split("-"))
    tok = cache / "tokenizer"
    vocab = json.loads((tok / "tokenizer.json").read_text())["model"]["vocab"]
    cfg = XLMRobertaConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=layers,
                           num_attention_heads=max(1, hidden // 64), intermediate_size=4 * hidden,
                           max_position_embeddings=max_len + 2 + 64, type_vocab_size=1, pad_token_id=1,
                           bos_token_id=0, eos_token_id=2)
    torch.manual_seed(seed)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    XLMRobertaForMaskedLM(cfg).save_pretrained(tmp)
    for f in tok.iterdir():
        if f.is_file() and not f.name.startswith("_"):
            shutil.copy(f, tmp / f.name)
    tmp.rename(out)
    return out


def run_name(arm: str, seed: int, args) -> str:
    """mmkd runs whose levels act on another student layer than the last carry it: mmkd@1-s0."""
    tag = f"{arm}@{args.mmkd_layer}" if arm == "mmkd" and args.mmkd_layer != -1 else arm
    return f"{tag}-s{seed}" if args.size == "tiny" else f"{args.size}-{tag}-s{seed}"


def train_export_eval(cache: Path, shards: Path, arm: str, seed: int, args) -> subprocess.Popen | None:
    """Start (or skip, when cached) one arm x seed: train, export, evaluate, as one shell pipeline."""
    name = run_name(arm, seed, args)
    run_dir, model_dir = cache / "runs" / name, cache / "models" / name
    evals = [cache / "eval" / f"{name}-L{layer}.json" for layer in args.layers]
    if all(e.exists() for e in evals):
        return None
    (cache / "runs").mkdir(parents=True, exist_ok=True)
    (cache / "eval").mkdir(parents=True, exist_ok=True)
    (cache / "models").mkdir(parents=True, exist_ok=True)
    train = [PY, "-m", "trainer.train", args.size if args.size == "tiny" else "tiny", f"shards={shards}", f"out={run_dir}", f"recipe={arm}",
             f"seed={seed}", f"steps={args.steps}", f"batch_size={args.batch_size}", "progress=false",
             f"save_every={args.steps}", "keep_checkpoints=1", "device=cpu"]
    if args.size != "tiny":
        train += [f"model.init_from={student_init(cache, args.size, seed, args.max_len)}", f"optim.lr={args.lr}",
                  f"optim.warmup_steps={args.warmup}"]
    if arm == "mmkd":
        train.append(f"objectives.mmkd.teacher_cache={cache / 'teacher_cache'}")
        train += [f"objectives.mmkd.{level}.layer={args.mmkd_layer}" for level in ("token", "word", "sentence",
                                                                                   "structure")]
    if run_dir.exists() and not (run_dir / "checkpoints" / "latest").exists():
        shutil.rmtree(run_dir)
    steps = []
    if not (run_dir / "checkpoints" / "latest").exists():
        steps.append(train)
    if not (model_dir / "config.json").exists():
        steps.append([PY, "-m", "trainer.export", str(run_dir), str(model_dir), "--overwrite"])
    for layer, e in zip(args.layers, evals, strict=True):
        steps.append([PY, "-m", "trainer.evaluate.tatoeba", str(model_dir), "--langs",
                      ",".join(ISO3[x] for x in args.langs), "--data", str(args.tatoeba), "--out", str(e)]
                     + ([] if layer == "mid" else ["--layer", str(layer)]))
    print(f"start {name}", flush=True)
    return start_pipeline(steps, cache / "runs" / f"{name}.log")


def table(cache: Path, args) -> tuple[str, dict]:
    res: dict = {"config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}, "layers": {}}
    out = []
    for layer in args.layers:
        per = {}
        for arm in ("mmlm", "mmkd"):
            for seed in args.seeds:
                name = run_name(arm, seed, args)
                r = json.loads((cache / "eval" / f"{name}-L{layer}.json").read_text())
                per.setdefault(arm, []).append(r)
        layer_used = per["mmlm"][0]["layer"]
        keys = [*(f"{ISO3[x]}" for x in args.langs), "average"]
        rows, lres = [], {}
        for key in keys:
            cells = {}
            for arm in ("mmlm", "mmkd"):
                if key == "average":
                    xs = [100 * r["average"] for r in per[arm]]
                else:
                    xs = [100 * (r["accuracy"][key]["xx2en"] + r["accuracy"][key]["en2xx"]) / 2 for r in per[arm]]
                cells[arm] = (xs, *mean_std(xs))
            diffs = [b - a for a, b in zip(cells["mmlm"][0], cells["mmkd"][0], strict=True)]
            d_mean, d_std = mean_std(diffs)
            lres[key] = {"mmlm": cells["mmlm"][0], "mmkd": cells["mmkd"][0], "diff_per_seed": diffs}
            rows.append(f"| {key} | {cells['mmlm'][1]:.2f} ± {cells['mmlm'][2]:.2f} | {cells['mmkd'][1]:.2f} ± "
                        f"{cells['mmkd'][2]:.2f} | {d_mean:+.2f} ± {d_std:.2f} | "
                        + ", ".join(f"{d:+.1f}" for d in diffs) + " |")
        dirs = []
        for x in args.langs:
            k = ISO3[x]
            for d in ("xx2en", "en2xx"):
                a = mean_std([100 * r["accuracy"][k][d] for r in per["mmlm"]])
                b = mean_std([100 * r["accuracy"][k][d] for r in per["mmkd"]])
                dirs.append(f"| {k} {d.replace('xx', k)} | {a[0]:.2f} ± {a[1]:.2f} | {b[0]:.2f} ± {b[1]:.2f} | "
                            f"{b[0] - a[0]:+.2f} |")
        res["layers"][str(layer)] = {"hidden_states_index": layer_used, **lres}
        out += [f"### Layer {layer} (hidden_states[{layer_used}])", "",
                "| Tatoeba | MMLM acc % (mean ± std) | MMLM+MMKD acc % | MMKD − MMLM (mean ± std of per-seed diffs) "
                "| per seed (" + ",".join(map(str, args.seeds)) + ") |", "|---|---|---|---|---|", *rows, "",
                "| direction | MMLM | MMLM+MMKD | diff |", "|---|---|---|---|", *dirs, ""]
    return "\n".join(out), res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stage", choices=["data", "all"], default="all")
    p.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache" / "mmkd_tatoeba")
    p.add_argument("--tatoeba", type=Path, default=TATOEBA)
    p.add_argument("--langs", default="de,fr", help="student languages besides en (Multi30K: de, fr, cs)")
    p.add_argument("--lines", type=int, default=10000, help="Multi30K train lines per language")
    p.add_argument("--vocab", type=int, default=6000)
    p.add_argument("--max-len", type=int, default=64)
    p.add_argument("--size", default="tiny", help="tiny (the named config) or L<layers>-H<hidden>, e.g. L4-H256 "
                   "(random init through model.init_from, with --lr and --warmup)")
    p.add_argument("--lr", type=float, default=5e-4, help="peak LR for an L-H student (tiny keeps its 1e-3)")
    p.add_argument("--warmup", type=int, default=100, help="warm-up steps for an L-H student (tiny keeps 20)")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--layers", default="mid,last", help="'mid' (the evaluator's default), 'last' or numbers")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--mmkd-layer", type=int, default=-1, help="the student layer of all four MMKD levels in the "
                   "mmkd arm (default -1, the last; its runs are cached apart from the others)")
    args = p.parse_args(argv)
    args.langs = args.langs.split(",")
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.layers = [x if x == "mid" else ("-1" if x == "last" else x) for x in args.layers.split(",")]
    cache = args.cache
    cache.mkdir(parents=True, exist_ok=True)
    (cache.parent / ".gitignore").write_text("*\n")
    t0 = time.time()
    build_times = build_data(cache, args.langs, args.lines, args.vocab, args.max_len)
    print("data:", build_times, flush=True)
    if args.stage == "data":
        return 0
    shards = cache / "shards"
    # Pairs (mmlm s, mmkd s) run side by side; the mmkd runs follow one another, so the teacher
    # cache is filled by the first and never written by two processes at once.
    t_train = time.time()
    for seed in args.seeds:
        procs = [pr for arm in ("mmlm", "mmkd") if (pr := train_export_eval(cache, shards, arm, seed, args))]
        for pr in procs:
            if pr.wait() != 0:
                print(f"a run failed: see {cache / 'runs'}/*.log", file=sys.stderr)
                return 1
    train_s = time.time() - t_train
    md, res = table(cache, args)
    prefix = "" if args.size == "tiny" else f"{args.size}-"
    walls = wall_times((cache / "runs").glob(f"{prefix}mm*.log"))
    res.update(build_times=build_times, train_eval_wall_s=train_s, total_wall_s=time.time() - t0,
               per_run_wall_s=walls)
    head = (f"# MMLM vs MMLM+MMKD on Tatoeba (issue 6)\n\n{time.strftime('%Y-%m-%d %H:%M')} on "
            f"{platform.processor() or platform.machine()} ({os.cpu_count()} CPUs, 1 torch thread per process, "
            f"{args.jobs} processes at once), Python {platform.python_version()}.\n\n"
            f"Student `{args.size}`, {args.steps} steps, batch {args.batch_size}, seeds {args.seeds}; data: the first "
            f"{args.lines:,} lines of Multi30K train, en + {', '.join(args.langs)}; vocabulary {args.vocab}, "
            f"max_len {args.max_len}. MMKD levels at student layer {args.mmkd_layer}. Teacher: all-MiniLM-L6-v2 (packaged). Accuracy = mean of the two "
            f"directions (xx→en, en→xx), in %; std is the sample std over seeds.\n\n")
    text = head + md + f"\nWall time: training + export + evaluation {train_s:.0f} s " \
        f"(per run, run in pairs: {', '.join(f'{k} {v:.0f} s' for k, v in walls.items())}).\n"
    print(text)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stem = "mmkd_tatoeba" if args.size == "tiny" else f"mmkd_tatoeba_{args.size}"
    stem += "" if args.mmkd_layer == -1 else f"_layer{args.mmkd_layer}"
    (out / f"{stem}.md").write_text(text)
    (out / f"{stem}.json").write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
